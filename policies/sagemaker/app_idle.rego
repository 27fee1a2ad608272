package sma.checks.app_idle

import data.sma.lib

metadata := {
	"id": "app_idle",
	"title": "SageMaker app runs on a billed instance with no recent user activity",
	"severity": "low",
	"resource_type": "app",
	"description": "An InService app on a billed instance type costs money every hour, used or not. LastUserActivityTimestamp (else CreationTime) older than idle_hours means nobody is using it.",
	"remediation": "Delete the app (DeleteApp); its user's files stay on the home EFS. Enable the Studio idle shutdown lifecycle configuration to stop this recurring.",
}

idle_hours := data.config.app_idle.idle_hours

results contains r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some app in domain.apps
	app.status != "Deleted"
	verdict := judge(app)
	r := {
		"resource_type": "app",
		"resource_arn": app.arn,
		"account_id": account.account_id,
		"region": region.region,
		"domain_id": domain.domain_id,
		"status": verdict[0],
		"message": verdict[1],
		"evidence": verdict[2],
	}
}

results contains r if some r in lib.scope_error_results("app", "sagemaker", "app/", ["ListApps"])

billed(app) if {
	type := object.get(app, "instance_type", null)
	not type in {null, "", "system"}
}

# When the user last did something, and which field said so.
last_activity(app) := [t, "last_user_activity_timestamp"] if {
	t := object.get(app, "last_user_activity_timestamp", null)
	t != null
} else := [t, "creation_time"] if {
	t := object.get(app, "creation_time", null)
	t != null
}

hours_since(t) := (lib.now_ns - time.parse_rfc3339_ns(t)) / 3600000000000

judge(app) := ["PASS", sprintf("%s app %s is %s", [app.app_type, app.name, app.status]), {"status": app.status}] if {
	app.status != "InService"
} else := ["PASS", sprintf("%s app %s runs on the free %s instance", [app.app_type, app.name, object.get(app, "instance_type", "default")]), {"instance_type": object.get(app, "instance_type", null)}] if {
	not billed(app)
} else := ["ERROR", sprintf("%s app %s: neither its last activity nor its creation time is known", [app.app_type, app.name]), {"instance_type": app.instance_type}] if {
	not last_activity(app)
} else := judge_billed(app, last_activity(app))

judge_billed(app, last) := ["ERROR", sprintf("%s app %s on %s: DescribeApp failed, so its last activity is unknown and its creation is %.0f hours ago", [app.app_type, app.name, app.instance_type, hours_since(last[0])]), {"instance_type": app.instance_type, "creation_time": last[0]}] if {
	# Without DescribeApp only CreationTime is known; an old one proves nothing.
	not app.described
	hours_since(last[0]) > idle_hours
} else := ["FAIL", sprintf("%s app %s on %s has been idle for %.0f hours (threshold %v)", [app.app_type, app.name, app.instance_type, hours, idle_hours]), {"instance_type": app.instance_type, "hours_idle": round(hours), "idle_since": last[0], "idle_since_field": last[1], "idle_hours_threshold": idle_hours}] if {
	hours := hours_since(last[0])
	hours > idle_hours
} else := ["PASS", sprintf("%s app %s on %s was active %.0f hours ago", [app.app_type, app.name, app.instance_type, hours_since(last[0])]), {"instance_type": app.instance_type, "last_activity": last[0]}]
