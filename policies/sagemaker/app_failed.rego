package sma.checks.app_failed

import data.sma.lib

metadata := {
	"id": "app_failed",
	"title": "SageMaker app is in the Failed state",
	"severity": "low",
	"resource_type": "app",
	"description": "A failed app cannot be deleted by DeleteApp and blocks the deletion of its user profile or space, and so of the domain.",
	"remediation": "Read FailureReason (evidence). Failed apps disappear from the domain once their cause is fixed and the app is recreated, or with AWS Support's help; delete the other apps first (`sagemaker-auditor teardown-plan`).",
}

results contains r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some app in domain.apps
	# Deleted apps are history, not resources.
	app.status != "Deleted"
	failed := app.status == "Failed"
	r := {
		"resource_type": "app",
		"resource_arn": app.arn,
		"account_id": account.account_id,
		"region": region.region,
		"domain_id": domain.domain_id,
		"status": {true: "FAIL", false: "PASS"}[failed],
		"message": sprintf("%s app %s of %s is %s", [app.app_type, app.name, owner(app), app.status]),
		"evidence": {
			"app_type": app.app_type,
			"owner": owner(app),
			"status": app.status,
			"failure_reason": object.get(app, "failure_reason", null),
		},
	}
}

results contains r if some r in lib.scope_error_results("app", "sagemaker", "app/", ["ListApps"])

owner(app) := sprintf("space %s", [app.space_name]) if is_string(object.get(app, "space_name", null))

else := sprintf("user profile %s", [app.user_profile_name])
