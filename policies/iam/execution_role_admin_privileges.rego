package sma.checks.execution_role_admin_privileges

import data.sma.lib
import data.sma.lib.iam

metadata := {
	"id": "execution_role_admin_privileges",
	"title": "SageMaker execution role has administrator privileges",
	"severity": "critical",
	"resource_type": "iam_role",
	"scope": "account",
	"description": "An effective execution role has AdministratorAccess or PowerUserAccess attached, or a statement granting * on * without a condition: every Studio user running as it administers the account. As IAM evaluates it, the grant does not count when the role's own policies deny * on * without a condition, or when its permissions boundary does not allow * too (the evidence shows the boundary).",
	"remediation": "Detach AdministratorAccess/PowerUserAccess and remove the * on * statements listed in the evidence; grant the SageMaker, S3 and ECR actions the users need instead.",
	"references": [
		"https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
	],
}

# Roles that do not exist are execution_role_missing's.
results contains lib.role_result(account, role, verdict(account, role, offending(role))) if {
	some account in input.accounts
	some role in account.execution_roles
	role.state != "missing"
}

# A statement this check flags.
offends(statement) if {
	iam.unconditional(statement)
	iam.grants(statement, "*", "*")
}

# Offending statements of each managed policy, found once per policy however many roles
# attach it.
managed_offending[arn] := found if {
	some arn, policy in input.managed_policies
	found := [iam.statement_ref(arn, "managed", i, s) | some i, s in iam.statements(policy.document); offends(s)]
}

offending(role) := array.concat(
	[iam.statement_ref(p.name, "inline", i, s) | some p in role.role.inline_policies; some i, s in iam.statements(p.document); offends(s)],
	[s | some a in role.role.attached_policies; some s in managed_offending[a.arn]],
)

admin_policies(account, role) := [a.arn |
	some a in role.role.attached_policies
	a.arn in {iam.aws_managed_arn(account, "AdministratorAccess"), iam.aws_managed_arn(account, "PowerUserAccess")}
]

# Offending statements besides those of the admin policies themselves (which say * on *).
other_statements(account, role, found) := [s |
	some s in found
	not s.policy in admin_policies(account, role)
]

verdict(account, role, found) := lib.role_unreadable(role) if lib.role_unreadable(role)

else := ["PASS", sprintf("execution role %s: its administrator grants do not take effect (%s)", [role.arn, limit.reason]), {"admin_policies": admin_policies(account, role), "statements": other_statements(account, role, found), "limited_by": limit}] if {
	count(admin_policies(account, role)) + count(found) > 0
	limit := iam.limited(role, "*", "*")
} else := ["FAIL", sprintf("execution role %s has administrator privileges (%s)", [role.arn, concat(", ", array.concat(admin_policies(account, role), [sprintf("%s statement %d", [s.policy, s.statement_index]) | some s in other_statements(account, role, found)]))]), {"admin_policies": admin_policies(account, role), "statements": other_statements(account, role, found), "permissions_boundary": iam.boundary(role)}] if {
	count(admin_policies(account, role)) + count(found) > 0
} else := ["ERROR", sprintf("execution role %s: managed policies %s could not be read", [role.arn, concat(", ", iam.unread_policies(role))]), {"unread_policies": iam.unread_policies(role)}] if {
	count(iam.unread_policies(role)) > 0
} else := ["PASS", sprintf("execution role %s has no administrator policy and no * on * statement", [role.arn]), {}]
