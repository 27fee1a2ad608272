# IAM policy semantics (the IAM policy evaluation logic): a statement grants an action on a
# resource when its Effect is Allow, its Action matches the action (or its NotAction does
# not), and likewise for Resource/NotResource. Matching uses IAM's globs through
# iam.action_matches_any (case-insensitive) and iam.resource_matches_any, implemented in Rust:
# one call per policy element, whether it holds one pattern or a list.
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

action_matched(statement, action) if iam.action_matches_any(object.get(statement, "Action", []), action)

action_matched(statement, action) if {
	not_actions := object.get(statement, "NotAction", null)
	not_actions != null
	not iam.action_matches_any(not_actions, action)
}

resource_matched(statement, resource) if iam.resource_matches_any(object.get(statement, "Resource", []), resource)

resource_matched(statement, resource) if {
	not_resources := object.get(statement, "NotResource", null)
	not_resources != null
	not iam.resource_matches_any(not_resources, resource)
}

# Evidence for one statement: which policy, which statement.
statement_ref(policy, kind, index, statement) := {
	"policy": policy,
	"policy_kind": kind,
	"statement_index": index,
	"sid": object.get(statement, "Sid", null),
}

# Attached managed policies and the permissions boundary whose document this scan could not
# read.
unread_policies(role) := array.concat(unread_attached(role), unread_boundary(role))

unread_attached(role) := [a.arn |
	some a in role.role.attached_policies
	not input.managed_policies[a.arn]
]

unread_boundary(role) := [b] if {
	b := object.get(role.role, "permissions_boundary_arn", null)
	is_string(b)
	not input.managed_policies[b]
} else := []

# --- what takes a grant away (CHECKS.md v2, as IAM's policy evaluation logic does) -------

# Unconditional Deny statements of the role's own policies (inline and attached) that deny
# `action` on `resource`.
deny_refs(role, action, resource) := array.concat(inline_denies(role, action, resource), managed_denies(role, action, resource))

inline_denies(role, action, resource) := [statement_ref(p.name, "inline", i, s) |
	some p in role.role.inline_policies
	some i, s in statements(p.document)
	denies(s, action, resource)
]

managed_denies(role, action, resource) := [statement_ref(a.arn, "managed", i, s) |
	some a in role.role.attached_policies
	some i, s in statements(object.get(input.managed_policies, [a.arn, "document"], {}))
	denies(s, action, resource)
]

denies(statement, action, resource) if {
	statement.Effect == "Deny"
	unconditional(statement)
	action_matched(statement, action)
	resource_matched(statement, resource)
}

# Whether a policy document, used as a permissions boundary, lets `action` on `resource`
# through: some statement allows it (conditions are not evaluated, so a conditional Allow
# counts) and none denies it unconditionally.
document_allows(document, action, resource) if {
	some s in statements(document)
	grants(s, action, resource)
	not document_denies(document, action, resource)
}

document_denies(document, action, resource) if {
	some s in statements(document)
	denies(s, action, resource)
}

# Why a grant of `action` on `resource` does not take effect, or undefined when it does: an
# explicit Deny of the role's own, or a permissions boundary that does not allow it (the
# grant must be in both). A boundary whose document could not be read limits nothing here
# (the finding stays, and the boundary is listed as unread).
limited(role, action, resource) := {"reason": "explicit_deny", "statements": refs} if {
	refs := deny_refs(role, action, resource)
	count(refs) > 0
} else := {"reason": "outside_permissions_boundary", "permissions_boundary": arn} if {
	arn := object.get(role.role, "permissions_boundary_arn", null)
	is_string(arn)
	document := input.managed_policies[arn].document
	not document_allows(document, action, resource)
}

# The permissions boundary of a role, for the evidence (null when it has none).
boundary(role) := object.get(role.role, "permissions_boundary_arn", null)

aws_managed_arn(account, name) := sprintf("arn:%s:iam::aws:policy/%s", [account.partition, name])
