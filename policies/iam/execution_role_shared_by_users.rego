package sma.checks.execution_role_shared_by_users

import data.sma.lib

metadata := {
	"id": "execution_role_shared_by_users",
	"title": "Several SageMaker user profiles run as the same execution role",
	"severity": "info",
	"resource_type": "iam_role",
	"scope": "account",
	"description": "More than max_user_profiles user profiles (counting those inheriting a domain default, across every domain and region of the account) run as the role: their users share every permission and every file the role reaches, with no per-user isolation or audit trail.",
	"remediation": "Give each user profile its own execution role (UserSettings.ExecutionRole), e.g. generated per user with SageMaker Role Manager.",
	"thresholds": {"max_user_profiles": {
		"type": "integer",
		"default": 1,
		"minimum": 1,
		"maximum": 100000,
		"description": "User profiles that may run as one execution role before it counts as shared.",
	}},
	"references": [
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html",
	],
}

max_profiles := data.config.execution_role_shared_by_users.max_user_profiles

results contains lib.role_result(account, role, verdict(account, role, profiles(role))) if {
	some account in input.accounts
	some role in account.execution_roles
	role.state != "missing"
}

profiles(role) := sort({sprintf("%s/%s/%s", [b.region, b.domain_id, b.user_profile_name]) |
	some b in role.bindings
	b.kind == "user_profile"
})

# Per account: profiles whose role is unknown (they might use any role), and domains that
# could not be described (their profiles are not bound at all). Computed once per account.
unknown_profiles[account.account_id] := [p.arn |
	some region in account.regions
	some domain in region.domains
	some p in domain.user_profiles
	not p.described
] if some account in input.accounts

undescribed_domains[account.account_id] := [d.domain_id |
	some region in account.regions
	some d in region.domains
	not d.described
] if some account in input.accounts

verdict(account, role, found) := ["FAIL", sprintf("%d user profiles run as execution role %s (more than %d)", [count(found), role.arn, max_profiles]), {"user_profiles": found, "user_profile_count": count(found), "max_user_profiles": max_profiles}] if {
	count(found) > max_profiles
} else := ["ERROR", sprintf("execution role %s: %d user profile(s) known to run as it, but the roles of some profiles are unknown", [role.arn, count(found)]), {"user_profiles": found, "undescribed_user_profiles": unknown_profiles[account.account_id], "undescribed_domains": undescribed_domains[account.account_id]}] if {
	count(unknown_profiles[account.account_id]) + count(undescribed_domains[account.account_id]) > 0
} else := ["PASS", sprintf("%d user profile(s) run as execution role %s", [count(found), role.arn]), {"user_profiles": found, "user_profile_count": count(found)}]
