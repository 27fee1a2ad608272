package sma.checks.execution_role_trust_too_broad

import data.sma.lib
import data.sma.lib.iam

metadata := {
	"id": "execution_role_trust_too_broad",
	"title": "SageMaker execution role can be assumed by anyone or by another account",
	"severity": "high",
	"resource_type": "iam_role",
	"scope": "account",
	"description": "The role's trust policy lets a wildcard principal or a principal of another AWS account assume it without a condition: whoever that is gets what the Studio users get.",
	"remediation": "Limit the trust policy's Principal to the sagemaker.amazonaws.com service (and named principals of this account), or add conditions such as aws:PrincipalOrgID or sts:ExternalId.",
	"references": [
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
	],
}

results contains lib.role_result(account, role, verdict(role, broad(role))) if {
	some account in input.accounts
	some role in account.execution_roles
	role.state != "missing"
}

principals(statement) := ["*"] if statement.Principal == "*"

else := lib.as_array(object.get(statement.Principal, "AWS", [])) if is_object(statement.Principal)

else := []

# The account a principal belongs to: a bare id, or the fifth field of an ARN.
principal_account(p) := p if regex.match(`^[0-9]{12}$`, p)

else := split(p, ":")[4] if startswith(p, "arn:")

else := "*"

broad(role) := [{"statement_index": i, "principal": p} |
	own := split(role.arn, ":")[4]
	some i, s in iam.statements(role.role.assume_role_policy)
	s.Effect == "Allow"
	iam.unconditional(s)
	some p in principals(s)
	principal_account(p) != own
]

verdict(role, found) := lib.role_unreadable(role) if lib.role_unreadable(role)

else := ["FAIL", sprintf("execution role %s can be assumed by %s without a condition", [role.arn, concat(", ", {b.principal | some b in found})]), {"principals": found}] if {
	count(found) > 0
} else := ["PASS", sprintf("execution role %s trusts only principals of its own account or services", [role.arn]), {}]
