package sma.checks.execution_role_full_access_policy

import data.sma.lib
import data.sma.lib.iam

metadata := {
	"id": "execution_role_full_access_policy",
	"title": "SageMaker execution role has AmazonSageMakerFullAccess attached",
	"severity": "high",
	"resource_type": "iam_role",
	"scope": "account",
	"description": "The console wizard's execution role carries AmazonSageMakerFullAccess: every Studio user running as it can create, change and delete any SageMaker resource of the account, other users' domains included.",
	"remediation": "Detach AmazonSageMakerFullAccess from the role and attach a policy scoped to what its users need (e.g. the SageMaker Role Manager personas).",
	"references": [
		"https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSageMakerFullAccess.html",
	],
}

# Roles that do not exist are execution_role_missing's.
results contains lib.role_result(account, role, verdict(account, role)) if {
	some account in input.accounts
	some role in account.execution_roles
	role.state != "missing"
}

verdict(account, role) := lib.role_unreadable(role) if lib.role_unreadable(role)

else := ["FAIL", sprintf("execution role %s has AmazonSageMakerFullAccess attached", [role.arn]), {"policy_arn": arn}] if {
	arn := iam.aws_managed_arn(account, "AmazonSageMakerFullAccess")
	some a in role.role.attached_policies
	a.arn == arn
} else := ["PASS", sprintf("execution role %s does not have AmazonSageMakerFullAccess attached", [role.arn]), {"attached_policies": [a.arn | some a in role.role.attached_policies]}]
