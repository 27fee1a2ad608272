package sma.checks.domain_idle_shutdown_disabled

import data.sma.lib

metadata := {
	"id": "domain_idle_shutdown_disabled",
	"title": "SageMaker domain or user profile does not shut idle JupyterLab and Code Editor apps down",
	"severity": "medium",
	"resource_type": "domain",
	"scope": "domain",
	"description": "Idle shutdown (AppLifecycleManagement.IdleSettings.LifecycleManagement) stops JupyterLab and Code Editor apps nobody uses, which is where most Studio spend leaks. The domain fails when it is not ENABLED for both app types in DefaultUserSettings, or for JupyterLab in DefaultSpaceSettings (the API has no Code Editor settings there); a user profile fails when its own UserSettings set it DISABLED.",
	"remediation": "UpdateDomain with DefaultUserSettings.JupyterLabAppSettings and CodeEditorAppSettings, and DefaultSpaceSettings.JupyterLabAppSettings, set to AppLifecycleManagement={IdleSettings={LifecycleManagement=ENABLED,IdleTimeoutInMinutes=60}}; remove DISABLED from the profiles named (UpdateUserProfile).",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-idle-shutdown.html",
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_IdleSettings.html",
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DefaultSpaceSettings.html",
	],
}

results := array.concat(
	array.concat(
		[lib.domain_result(account, region, domain, domain_verdict(domain)) |
			some account in input.accounts
			some region in account.regions
			some domain in region.domains
		],
		[r | some r in lib.domain_scope_errors],
	),
	[profile_result(profile) |
		some account in input.accounts
		some region in account.regions
		some domain in region.domains
		some profile in domain.user_profiles
	],
)

idle(settings, key) := object.get(settings, key, null) if is_object(settings)

else := null

# [where, app type, idle settings] for every default that must be ENABLED.
defaults(domain) := [
	["DefaultUserSettings", "JupyterLab", idle(object.get(domain, "default_user_settings", null), "jupyter_lab_idle")],
	["DefaultUserSettings", "CodeEditor", idle(object.get(domain, "default_user_settings", null), "code_editor_idle")],
	["DefaultSpaceSettings", "JupyterLab", idle(object.get(domain, "default_space_settings", null), "jupyter_lab_idle")],
]

state(s) := object.get(s, "lifecycle_management", null) if is_object(s)

else := null

timeout(s) := object.get(s, "idle_timeout_in_minutes", null) if is_object(s)

else := null

gaps(settings) := [{"settings": where, "app_type": app, "lifecycle_management": state(s), "idle_timeout_in_minutes": timeout(s)} |
	some [where, app, s] in settings
	state(s) != "ENABLED"
]

domain_verdict(domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its idle shutdown settings are unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["FAIL", sprintf("domain %s does not enable idle shutdown in %s", [domain.domain_id, concat(", ", [sprintf("%s %s", [g.settings, g.app_type]) | some g in found])]), {"not_enabled": found}] if {
	found := gaps(defaults(domain))
	count(found) > 0
} else := ["PASS", sprintf("domain %s enables idle shutdown for JupyterLab and Code Editor", [domain.domain_id]), {"idle_timeout_in_minutes": {sprintf("%s.%s", [where, app]): timeout(s) | some [where, app, s] in defaults(domain)}}]

# A profile's result is built here, not from a verdict helper: one function call less per
# profile (there are thousands).
profile_result(profile) := profile_row(profile, "ERROR", sprintf("DescribeUserProfile failed for %s: its idle shutdown settings are unknown", [profile.name]), {}) if {
	not profile.described
} else := profile_row(profile, "FAIL", sprintf("user profile %s disables idle shutdown for %s", [profile.name, concat(", ", [g.app_type | some g in disabled])]), {"disabled": disabled}) if {
	settings := object.get(profile, "user_settings", null)
	# Most profiles have no settings of their own: nothing of theirs can disable idle
	# shutdown (idle() would give null for both), and they leave here cheaply.
	is_object(settings)
	own := [["UserSettings", "JupyterLab", idle(settings, "jupyter_lab_idle")], ["UserSettings", "CodeEditor", idle(settings, "code_editor_idle")]]
	disabled := [g | some g in gaps(own); g.lifecycle_management == "DISABLED"]
	count(disabled) > 0
} else := {"resource_type": "user_profile", "resource_arn": profile.arn, "status": "PASS", "message": sprintf("user profile %s does not disable idle shutdown", [profile.name]), "evidence": {}}

profile_row(profile, status, message, evidence) := {"resource_type": "user_profile", "resource_arn": profile.arn, "status": status, "message": message, "evidence": evidence}
