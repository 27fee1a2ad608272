package sma.checks.app_idle

import data.sma.lib

metadata := {
	"id": "app_idle",
	"title": "SageMaker app runs on a billed instance with no recent user activity",
	"severity": "low",
	"resource_type": "app",
	"description": "An InService app on a billed instance type costs money every hour, used or not. LastUserActivityTimestamp (else CreationTime) older than idle_hours means nobody is using it.",
	"remediation": "Delete the app (DeleteApp); its user's files stay on the home EFS. Enable the Studio idle shutdown lifecycle configuration to stop this recurring.",
	"thresholds": {"idle_hours": {
		"type": "number",
		"default": 24,
		"exclusive_minimum": 0,
		"description": "Hours without user activity after which a billed InService app counts as idle.",
	}},
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeApp.html",
	],
}

idle_hours := data.config.app_idle.idle_hours

# Apps that are not running on a billed instance pass cheaply (no function calls: this runs
# for every app); the work goes into the rest.
free_instance_types := {null, "", "system"}

results[app.arn] := {"resource_arn": app.arn, "status": "PASS", "message": "not running"} if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some app in domain.apps
	not app.status in {"Deleted", "InService"}
}

results[app.arn] := {"resource_arn": app.arn, "status": "PASS", "message": "runs on a free instance"} if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some app in domain.apps
	app.status == "InService"
	object.get(app, "instance_type", null) in free_instance_types
}

results[app.arn] := r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some app in domain.apps
	app.status == "InService"
	not object.get(app, "instance_type", null) in free_instance_types
	last := last_activity(app)
	hours := (lib.now_ns - time.parse_rfc3339_ns(last[0])) / 3600000000000
	verdict := judge(app, last, hours)
	r := {"resource_arn": app.arn, "status": verdict[0], "message": verdict[1], "evidence": verdict[2]}
}

results[app.arn] := r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some app in domain.apps
	app.status == "InService"
	not object.get(app, "instance_type", null) in free_instance_types
	not last_activity(app)
	r := {"resource_arn": app.arn, "status": "ERROR", "message": sprintf("%s app %s: neither its last activity nor its creation time is known", [app.app_type, app.name]), "evidence": {"instance_type": app.instance_type}}
}

results[r.resource_arn] := r if some r in lib.scope_error_results("app", "sagemaker", "app/", ["ListApps"])

# When the user last did something, and which field said so.
last_activity(app) := [t, "last_user_activity_timestamp"] if {
	t := object.get(app, "last_user_activity_timestamp", null)
	t != null
} else := [t, "creation_time"] if {
	t := object.get(app, "creation_time", null)
	t != null
}

judge(app, last, hours) := ["ERROR", sprintf("%s app %s on %s: DescribeApp failed, so its last activity is unknown and its creation is %.0f hours ago", [app.app_type, app.name, app.instance_type, hours]), {"instance_type": app.instance_type, "creation_time": last[0]}] if {
	# Without DescribeApp only CreationTime is known; an old one proves nothing.
	not app.described
	hours > idle_hours
} else := ["FAIL", sprintf("%s app %s on %s has been idle for %.0f hours (threshold %v)", [app.app_type, app.name, app.instance_type, hours, idle_hours]), {"instance_type": app.instance_type, "hours_idle": round(hours), "idle_since": last[0], "idle_since_field": last[1], "idle_hours_threshold": idle_hours}] if {
	hours > idle_hours
} else := ["PASS", "active within idle_hours", {"instance_type": app.instance_type, "last_activity": last[0]}]
