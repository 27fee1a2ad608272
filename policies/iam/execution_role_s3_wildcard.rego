package sma.checks.execution_role_s3_wildcard

import data.sma.lib
import data.sma.lib.iam

metadata := {
	"id": "execution_role_s3_wildcard",
	"title": "SageMaker execution role can read or write every S3 bucket",
	"severity": "medium",
	"resource_type": "iam_role",
	"scope": "account",
	"description": "An effective execution role grants s3:GetObject or s3:PutObject on every bucket (*, arn:aws:s3:::* or arn:aws:s3:::*/*) without a condition: every Studio user running as it reaches all the account's data.",
	"remediation": "Scope the S3 statements to the buckets and prefixes the users need, or add conditions (aws:ResourceAccount, s3:prefix).",
	"references": [
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
	],
}

# Roles that do not exist are execution_role_missing's.
results contains lib.role_result(account, role, verdict(account, role, offending(role))) if {
	some account in input.accounts
	some role in account.execution_roles
	role.state != "missing"
}

actions := ["s3:GetObject", "s3:PutObject"]

# The actions a statement grants on every bucket without a condition (empty for most).
offends(statement) := [action |
	# iam.grants, reordered: the resource test (one call for both actions) dismisses most
	# statements (390 -> 306 ms on 2,019 roles).
	statement.Effect == "Allow"
	iam.unconditional(statement)
	covers_every_bucket(statement)
	some action in actions
	iam.action_matched(statement, action)
]

# iam.resource_matched for the every-bucket resources: one call for all of them, not one per
# pattern and bucket form (306 -> 250 ms).
covers_every_bucket(statement) if iam.resource_matches_any(object.get(statement, "Resource", []), every_bucket)

covers_every_bucket(statement) if {
	object.get(statement, "NotResource", null) != null
	some target in every_bucket
	iam.resource_matched(statement, target)
}

# Offending statements of each managed policy, found once per policy however many roles
# attach it.
managed_offending[arn] := found if {
	some arn, policy in input.managed_policies
	found := [object.union(iam.statement_ref(arn, "managed", i, s), {"actions": granted}) |
		some i, s in iam.statements(policy.document)
		granted := offends(s)
		count(granted) > 0
	]
}

offending(role) := array.concat(
	[object.union(iam.statement_ref(p.name, "inline", i, s), {"actions": granted}) |
		some p in role.role.inline_policies
		some i, s in iam.statements(p.document)
		granted := offends(s)
		count(granted) > 0
	],
	[s | some a in role.role.attached_policies; some s in managed_offending[a.arn]],
)

every_bucket := {"*"} | {sprintf("arn:%s:s3:::%s", [p, r]) | some p in ["aws", "aws-cn", "aws-us-gov"]; some r in ["*", "*/*"]}

# Every object of every bucket, as the resource a Deny or a boundary must cover.
every_object(account) := sprintf("arn:%s:s3:::*/*", [account.partition])

# The granted actions that take effect, and why the others do not.
granted_actions(found) := {x | some s in found; some x in s.actions}

effective(account, role, found) := [a |
	some a in granted_actions(found)
	not iam.limited(role, a, every_object(account))
]

limits(account, role, found) := {a: limit |
	some a in granted_actions(found)
	limit := iam.limited(role, a, every_object(account))
}

verdict(account, role, found) := lib.role_unreadable(role) if lib.role_unreadable(role)

else := ["FAIL", sprintf("execution role %s grants %s on every bucket (%d statement(s))", [role.arn, concat(", ", sort(granted)), count(found)]), {"statements": found, "actions": sort(granted), "limited_by": limits(account, role, found), "permissions_boundary": iam.boundary(role)}] if {
	granted := effective(account, role, found)
	count(granted) > 0
} else := ["PASS", sprintf("execution role %s: its S3 object access on every bucket does not take effect", [role.arn]), {"statements": found, "limited_by": limits(account, role, found)}] if {
	count(found) > 0
} else := ["ERROR", sprintf("execution role %s: managed policies %s could not be read", [role.arn, concat(", ", iam.unread_policies(role))]), {"unread_policies": iam.unread_policies(role)}] if {
	count(iam.unread_policies(role)) > 0
} else := ["PASS", sprintf("execution role %s does not grant S3 object access on every bucket", [role.arn]), {}]
