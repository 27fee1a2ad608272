package sma.checks.execution_role_missing

import data.sma.lib

metadata := {
	"id": "execution_role_missing",
	"title": "SageMaker domain or user profile names an execution role that does not exist",
	"severity": "medium",
	"resource_type": "domain",
	"description": "A binding names a role of the scanned account that IAM does not have (deleted or mistyped): apps launched with it fail.",
	"remediation": "Recreate the role or point the setting named in the evidence at an existing role (UpdateDomain DefaultUserSettings/DefaultSpaceSettings, UpdateUserProfile UserSettings.ExecutionRole).",
}

# Domains: their default, space default and RStudio roles.
results contains lib.domain_result(account, region, domain, domain_verdict(account, domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}

results contains r if some r in lib.domain_scope_errors

# User profiles that set a role of their own (the others run as the domain default, judged
# on the domain), or whose settings are unknown.
results contains r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some profile in domain.user_profiles
	verdict := profile_verdict(account, profile)
	r := {
		"resource_type": "user_profile",
		"resource_arn": profile.arn,
		"account_id": account.account_id,
		"region": region.region,
		"domain_id": domain.domain_id,
		"status": verdict[0],
		"message": verdict[1],
		"evidence": verdict[2],
	}
}

# A role ARN setting, or null when unset.
setting(settings, key) := v if {
	is_object(settings)
	v := settings[key]
	is_string(v)
	v != ""
} else := null

domain_refs(domain) := [r |
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
} else := judge(account, domain_refs(domain), sprintf("domain %s", [domain.domain_id]), {"user_profiles_inheriting_default": inheriting(domain)})

profile_verdict(account, profile) := ["ERROR", sprintf("DescribeUserProfile failed for %s: its execution role is unknown", [profile.name]), {}] if {
	not profile.described
} else := judge(account, [{"setting": "UserSettings.ExecutionRole", "role_arn": own_role(profile)}], sprintf("user profile %s", [profile.name]), {}) if own_role(profile) != null
