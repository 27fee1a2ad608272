package sma.checks.execution_role_shared_by_users

import data.sma.lib

metadata := {
	"id": "execution_role_shared_by_users",
	"title": "Several SageMaker user profiles run as the same execution role",
	"severity": "info",
	"resource_type": "iam_role",
	"description": "More than max_user_profiles user profiles (counting those inheriting a domain default, across every domain and region of the account) run as the role: their users share every permission and every file the role reaches, with no per-user isolation or audit trail.",
	"remediation": "Give each user profile its own execution role (UserSettings.ExecutionRole), e.g. generated per user with SageMaker Role Manager.",
}

max_profiles := data.config.execution_role_shared_by_users.max_user_profiles

results contains lib.role_result(account, role, verdict(account, role)) if {
	some account in input.accounts
	some role in account.execution_roles
	role.state != "missing"
}

profiles(role) := sort({sprintf("%s/%s/%s", [b.region, b.domain_id, b.user_profile_name]) |
	some b in role.bindings
	b.kind == "user_profile"
})

# Profiles of the account whose role is unknown: they might use this role too.
unknown_profiles(account) := [p.arn |
	some region in account.regions
	some domain in region.domains
	some p in domain.user_profiles
	not p.described
]

undescribed_domains(account) := [d.domain_id |
	some region in account.regions
	some d in region.domains
	not d.described
]

verdict(account, role) := ["FAIL", sprintf("%d user profiles run as execution role %s (more than %d)", [count(profiles(role)), role.arn, max_profiles]), {"user_profiles": profiles(role), "user_profile_count": count(profiles(role)), "max_user_profiles": max_profiles}] if {
	count(profiles(role)) > max_profiles
} else := ["ERROR", sprintf("execution role %s: %d user profile(s) known to run as it, but the roles of some profiles are unknown", [role.arn, count(profiles(role))]), {"user_profiles": profiles(role), "undescribed_user_profiles": unknown_profiles(account), "undescribed_domains": undescribed_domains(account)}] if {
	count(unknown_profiles(account)) + count(undescribed_domains(account)) > 0
} else := ["PASS", sprintf("%d user profile(s) run as execution role %s", [count(profiles(role)), role.arn]), {"user_profiles": profiles(role), "user_profile_count": count(profiles(role))}]
