package sma.checks.app_failed

import data.sma.lib

metadata := {
	"id": "app_failed",
	"title": "SageMaker app is in the Failed state",
	"severity": "low",
	"resource_type": "app",
	"description": "A failed app cannot be deleted by DeleteApp and blocks the deletion of its user profile or space, and so of the domain.",
	"remediation": "Read FailureReason (evidence). Failed apps disappear from the domain once their cause is fixed and the app is recreated, or with AWS Support's help; delete the other apps first (`sagemaker-auditor teardown-plan`).",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeApp.html",
	],
}

# Thousands of apps pass: their results are kept minimal (account, region and domain come
# from the ARN), the work goes into the failing ones.
results[app.arn] := {"resource_arn": app.arn, "status": "PASS", "message": "not failed"} if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some app in domain.apps
	# Deleted apps are history, not resources.
	not app.status in {"Deleted", "Failed"}
}

results[app.arn] := r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some app in domain.apps
	app.status == "Failed"
	by := owner(app)
	r := {
		"resource_arn": app.arn,
		"status": "FAIL",
		"message": sprintf("%s app %s of %s is Failed: %s", [app.app_type, app.name, by, object.get(app, "failure_reason", null)]),
		"evidence": {
			"app_type": app.app_type,
			"owner": by,
			"status": app.status,
			"failure_reason": object.get(app, "failure_reason", null),
		},
	}
}

results[r.resource_arn] := r if some r in lib.scope_error_results("app", "sagemaker", "app/", ["ListApps"])

owner(app) := sprintf("space %s", [app.space_name]) if is_string(object.get(app, "space_name", null))

else := sprintf("user profile %s", [app.user_profile_name])
