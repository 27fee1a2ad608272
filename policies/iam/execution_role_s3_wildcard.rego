package sma.checks.execution_role_s3_wildcard

import data.sma.lib
import data.sma.lib.iam

metadata := {
	"id": "execution_role_s3_wildcard",
	"title": "SageMaker execution role can read or write every S3 bucket",
	"severity": "medium",
	"resource_type": "iam_role",
	"description": "An effective execution role grants s3:GetObject or s3:PutObject on every bucket (*, arn:aws:s3:::* or arn:aws:s3:::*/*) without a condition: every Studio user running as it reaches all the account's data.",
	"remediation": "Scope the S3 statements to the buckets and prefixes the users need, or add conditions (aws:ResourceAccount, s3:prefix).",
	"references": [
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
	],
}

# Roles that do not exist are execution_role_missing's.
results[role.arn] := lib.role_result(account, role, verdict(role, offending(role))) if {
	some account in input.accounts
	some role in account.execution_roles
	role.state != "missing"
}

# A statement this check flags.
offends(statement) if {
	# iam.grants, ordered so that a statement about other actions is dismissed cheaply.
	statement.Effect == "Allow"
	iam.unconditional(statement)
	some action in ["s3:GetObject", "s3:PutObject"]
	iam.action_matched(statement, action)
	covers_every_bucket(statement)
}

# iam.resource_matched for the every-bucket resources, inlined for the common Resource form.
covers_every_bucket(statement) if {
	some pattern in lib.as_array(object.get(statement, "Resource", []))
	some target in every_bucket
	iam.resource_matches(pattern, target)
}

covers_every_bucket(statement) if {
	object.get(statement, "NotResource", null) != null
	some target in every_bucket
	iam.resource_matched(statement, target)
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

every_bucket := {"*"} | {sprintf("arn:%s:s3:::%s", [p, r]) | some p in ["aws", "aws-cn", "aws-us-gov"]; some r in ["*", "*/*"]}

verdict(role, found) := lib.role_unreadable(role) if lib.role_unreadable(role)

else := ["FAIL", sprintf("execution role %s grants S3 object access on every bucket (%d statement(s))", [role.arn, count(found)]), {"statements": found}] if {
	count(found) > 0
} else := ["ERROR", sprintf("execution role %s: managed policies %s could not be read", [role.arn, concat(", ", iam.unread_policies(role))]), {"unread_policies": iam.unread_policies(role)}] if {
	count(iam.unread_policies(role)) > 0
} else := ["PASS", sprintf("execution role %s does not grant S3 object access on every bucket", [role.arn]), {}]
