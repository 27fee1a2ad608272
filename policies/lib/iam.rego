# IAM policy semantics (the IAM policy evaluation logic): a statement grants an action on a
# resource when its Effect is Allow, its Action matches the action (or its NotAction does
# not), and likewise for Resource/NotResource. Matching uses IAM's globs through
# iam.action_matches (case-insensitive) and iam.resource_matches, implemented in Rust.
package sma.lib.iam

import data.sma.lib

# Every statement of a document.
statements(document) := lib.as_array(object.get(document, "Statement", []))

unconditional(statement) if object.get(statement, "Condition", null) == null

grants(statement, action, resource) if {
	statement.Effect == "Allow"
	action_matched(statement, action)
	resource_matched(statement, resource)
}

action_matched(statement, action) if {
	some pattern in lib.as_array(object.get(statement, "Action", []))
	iam.action_matches(pattern, action)
}

action_matched(statement, action) if {
	not_actions := object.get(statement, "NotAction", null)
	not_actions != null
	not any_action(lib.as_array(not_actions), action)
}

any_action(patterns, action) if {
	some pattern in patterns
	iam.action_matches(pattern, action)
}

resource_matched(statement, resource) if {
	some pattern in lib.as_array(object.get(statement, "Resource", []))
	iam.resource_matches(pattern, resource)
}

resource_matched(statement, resource) if {
	not_resources := object.get(statement, "NotResource", null)
	not_resources != null
	not any_resource(lib.as_array(not_resources), resource)
}

any_resource(patterns, resource) if {
	some pattern in patterns
	iam.resource_matches(pattern, resource)
}

# Evidence for one statement: which policy, which statement.
statement_ref(policy, kind, index, statement) := {
	"policy": policy,
	"policy_kind": kind,
	"statement_index": index,
	"sid": object.get(statement, "Sid", null),
}

# Attached managed policies whose document this scan could not read.
unread_policies(role) := [a.arn |
	some a in role.role.attached_policies
	not input.managed_policies[a.arn]
]

aws_managed_arn(account, name) := sprintf("arn:%s:iam::aws:policy/%s", [account.partition, name])
