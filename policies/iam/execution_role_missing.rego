package sma.checks.execution_role_missing

import data.sma.lib

metadata := {
	"id": "execution_role_missing",
	"title": "SageMaker domain, user profile or notebook instance names an execution role that does not exist",
	"severity": "medium",
	"resource_type": "domain",
	"scope": "account",
	"description": "A binding names a role of the scanned account that IAM does not have (deleted or mistyped): apps, Canvas features, EMR connections or notebook instances launched with it fail. Bindings are the execution roles, the roles named by JupyterLab EMR and Canvas app settings, and notebook instances' RoleArn.",
	"remediation": "Recreate the role or point the setting named in the evidence at an existing role (UpdateDomain DefaultUserSettings/DefaultSpaceSettings, UpdateUserProfile UserSettings, UpdateNotebookInstance RoleArn).",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeUserProfile.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CanvasAppSettings.html",
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_EmrSettings.html",
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeNotebookInstance.html",
	],
}

# Domains: their default, space default and RStudio roles.
results contains lib.domain_result(account, region, domain, domain_verdict(account, domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}

results contains r if some r in lib.domain_scope_errors

# User profiles that set a role of their own (the others run as the domain default, judged
# on the domain) or name roles in their app settings, or whose settings are unknown. The
# conditions are inline: they run for every profile.
results contains r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some profile in domain.user_profiles
	profile.described
	settings := object.get(profile, "user_settings", null)
	is_object(settings)
	refs := profile_refs(settings)
	count(refs) > 0
	verdict := judge(account, refs, sprintf("user profile %s", [profile.name]), {})
	r := {"resource_type": "user_profile", "resource_arn": profile.arn, "status": verdict[0], "message": verdict[1], "evidence": verdict[2]}
}

# Notebook instances: their RoleArn.
results contains r if {
	some account in input.accounts
	some region in account.regions
	some n in object.get(region, "notebook_instances", [])
	verdict := notebook_verdict(account, n)
	r := {"resource_type": "notebook_instance", "resource_arn": n.arn, "status": verdict[0], "message": verdict[1], "evidence": verdict[2]}
}

notebook_verdict(account, n) := ["ERROR", sprintf("DescribeNotebookInstance failed for %s: its role is unknown", [n.name]), {}] if {
	not n.described
} else := judge(account, [{"setting": "RoleArn", "role_arn": n.role_arn}], sprintf("notebook instance %s", [n.name]), {}) if {
	is_string(object.get(n, "role_arn", null))
} else := ["PASS", sprintf("notebook instance %s names no role", [n.name]), {}]

# Roles named by a settings object's app settings (EMR, Canvas), with their setting path.
app_refs(settings, prefix) := [{"setting": concat("", [prefix, r.setting]), "role_arn": r.role_arn} |
	is_object(settings)
	some r in object.get(settings, "app_roles", [])
]

profile_refs(settings) := array.concat(own_ref(settings), app_refs(settings, "UserSettings."))

own_ref(settings) := [{"setting": "UserSettings.ExecutionRole", "role_arn": role_arn}] if {
	role_arn := setting(settings, "execution_role")
	role_arn != null
} else := []

results contains r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some profile in domain.user_profiles
	not profile.described
	r := {"resource_type": "user_profile", "resource_arn": profile.arn, "status": "ERROR", "message": sprintf("DescribeUserProfile failed for %s: its execution role is unknown", [profile.name]), "evidence": {}}
}

# A role ARN setting, or null when unset.
setting(settings, key) := v if {
	is_object(settings)
	v := settings[key]
	is_string(v)
	v != ""
} else := null

domain_refs(domain) := array.concat(domain_own_refs(domain), app_refs(object.get(domain, "default_user_settings", null), "DefaultUserSettings."))

domain_own_refs(domain) := [r |
	some [setting_name, role_arn] in [
		["DefaultUserSettings.ExecutionRole", setting(object.get(domain, "default_user_settings", null), "execution_role")],
		["DefaultSpaceSettings.ExecutionRole", setting(object.get(domain, "default_space_settings", null), "execution_role")],
		["RStudioServerProDomainSettings.DomainExecutionRoleArn", object.get(domain, "rstudio_domain_execution_role_arn", null)],
	]
	is_string(role_arn)
	role_arn != ""
	r := {"setting": setting_name, "role_arn": role_arn}
]

state(account, arn) := object.get(lib.role_states, [account.account_id, arn], "not_collected")

own_role(profile) := setting(object.get(profile, "user_settings", null), "execution_role")

inheriting(domain) := [p.name |
	some p in domain.user_profiles
	p.described
	own_role(p) == null
]

judge(account, refs, subject, extra) := ["FAIL", sprintf("%s names execution role(s) that do not exist: %s", [subject, concat(", ", [r.role_arn | some r in missing])]), object.union({"missing_roles": missing}, extra)] if {
	missing := [r | some r in refs; state(account, r.role_arn) == "missing"]
	count(missing) > 0
} else := ["ERROR", sprintf("%s: whether execution role(s) %s exist is unknown", [subject, concat(", ", [r.role_arn | some r in unknown])]), {"unknown_roles": unknown}] if {
	unknown := [object.union(r, {"reason": reason}) |
		some r in refs
		s := state(account, r.role_arn)
		s in {"not_collected", "cross_account"}
		reason := {"not_collected": "not_collected", "cross_account": "cross_account_role_not_readable"}[s]
	]
	count(unknown) > 0
} else := ["PASS", sprintf("%s: every execution role it names exists", [subject]), {"roles": refs}]

domain_verdict(account, domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its execution roles are unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := with_inheritors(judge(account, domain_refs(domain), sprintf("domain %s", [domain.domain_id]), {}), domain)

# A failing domain's evidence names the profiles that inherit its default role.
with_inheritors(verdict, domain) := [verdict[0], verdict[1], object.union(verdict[2], {"user_profiles_inheriting_default": inheriting(domain)})] if {
	verdict[0] == "FAIL"
} else := verdict
