package sma.checks.execution_role_passrole_wildcard

import data.sma.lib
import data.sma.lib.iam

metadata := {
	"id": "execution_role_passrole_wildcard",
	"title": "SageMaker execution role can pass any role",
	"severity": "high",
	"resource_type": "iam_role",
	"scope": "account",
	"description": "An effective execution role grants iam:PassRole on resource * without a condition: a Studio user can hand any role of the account, admin ones included, to a job or endpoint they create (privilege escalation).",
	"remediation": "Restrict iam:PassRole to the ARNs of the roles the users' jobs need, or add a Condition on iam:PassedToService.",
	"references": [
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
	],
}

# Roles that do not exist are execution_role_missing's.
results contains lib.role_result(account, role, verdict(role, offending(role))) if {
	some account in input.accounts
	some role in account.execution_roles
	role.state != "missing"
}

# A statement this check flags.
offends(statement) if {
	iam.unconditional(statement)
	iam.grants(statement, "iam:PassRole", "*")
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

verdict(role, found) := lib.role_unreadable(role) if lib.role_unreadable(role)

else := ["PASS", sprintf("execution role %s: its iam:PassRole on * does not take effect (%s)", [role.arn, limit.reason]), {"statements": found, "limited_by": limit}] if {
	count(found) > 0
	limit := iam.limited(role, "iam:PassRole", "*")
} else := ["FAIL", sprintf("execution role %s grants iam:PassRole on every role (%d statement(s))", [role.arn, count(found)]), {"statements": found, "permissions_boundary": iam.boundary(role)}] if {
	count(found) > 0
} else := ["ERROR", sprintf("execution role %s: managed policies %s could not be read", [role.arn, concat(", ", iam.unread_policies(role))]), {"unread_policies": iam.unread_policies(role)}] if {
	count(iam.unread_policies(role)) > 0
} else := ["PASS", sprintf("execution role %s does not grant iam:PassRole on *", [role.arn]), {}]
