package sma.checks.execution_role_admin_privileges_test

import data.sma.checks.execution_role_admin_privileges as check
import data.sma.lib.fixtures as f

admin := "arn:aws:iam::aws:policy/AdministratorAccess"

power := "arn:aws:iam::aws:policy/PowerUserAccess"

managed := {"arn:aws:iam::123456789012:policy/star": {"arn": "arn:aws:iam::123456789012:policy/star", "document": f.document([f.allow("*", "*")])}}

statuses(roles) := v if {
	v := f.statuses(check.results) with input as f.snapshot(roles, managed)
}

test_administrator_access_fails if statuses([f.role("r", [admin], [], {})]) == {"r": "FAIL"}

test_power_user_access_fails if statuses([f.role("r", [power], [], {})]) == {"r": "FAIL"}

test_inline_star_on_star_fails if statuses([f.role("r", [], [f.document([f.allow(["*"], ["*"])])], {})]) == {"r": "FAIL"}

test_managed_star_on_star_fails_with_statement if {
	rs := check.results with input as f.snapshot([f.role("r", ["arn:aws:iam::123456789012:policy/star"], [], {})], managed)
	some r in rs
	r.status == "FAIL"
	r.evidence.statements == [{"policy": "arn:aws:iam::123456789012:policy/star", "policy_kind": "managed", "statement_index": 0, "sid": null}]
}

test_not_action_with_star_resource_grants_everything_else if {
	statuses([f.role("r", [], [f.document([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}])], {})]) == {"r": "FAIL"}
}

test_conditioned_star_passes if {
	st := object.union(f.allow("*", "*"), {"Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
	statuses([f.role("r", [], [f.document([st])], {})]) == {"r": "PASS"}
}

test_deny_star_passes if statuses([f.role("r", [], [f.document([{"Effect": "Deny", "Action": "*", "Resource": "*"}])], {})]) == {"r": "PASS"}

test_service_wildcard_is_not_admin if statuses([f.role("r", [], [f.document([f.allow("s3:*", "*")])], {})]) == {"r": "PASS"}

test_unread_managed_policy_is_error if statuses([f.role("r", ["arn:aws:iam::123456789012:policy/unknown"], [], {})]) == {"r": "ERROR"}

boundary := "arn:aws:iam::123456789012:policy/boundary"

bounded_results(boundary_statements) := rs if {
	role := f.bounded(f.role("r", [admin], [], {}), boundary)
	rs := check.results with input as f.snapshot([role], object.union(managed, f.boundary_policy(boundary, boundary_statements)))
}

test_boundary_without_star_limits_administrator_access if {
	[r] := [x | some x in bounded_results([f.allow(["s3:*", "sagemaker:*"], "*")])]
	r.status == "PASS"
	r.evidence.limited_by == {"reason": "outside_permissions_boundary", "permissions_boundary": boundary}
}

test_boundary_allowing_everything_limits_nothing if {
	[r] := [x | some x in bounded_results([f.allow("*", "*")])]
	r.status == "FAIL"
	r.evidence.permissions_boundary == boundary
}

test_boundary_denying_everything_limits if {
	[r] := [x | some x in bounded_results([f.allow("*", "*"), f.deny("*", "*")])]
	r.status == "PASS"
}

test_unread_boundary_limits_nothing if {
	role := f.bounded(f.role("r", [admin], [], {}), boundary)
	rs := check.results with input as f.snapshot([role], managed)
	[r] := [x | some x in rs]
	r.status == "FAIL"
}

test_explicit_deny_of_everything_limits if {
	[r] := [x | some x in check.results with input as f.snapshot([f.role("r", [admin], [f.document([f.deny("*", "*")])], {})], managed)]
	r.status == "PASS"
	r.evidence.limited_by.reason == "explicit_deny"
	r.evidence.limited_by.statements[0].policy_kind == "inline"
}

test_conditional_or_partial_deny_limits_nothing if {
	conditional := object.union(f.deny("*", "*"), {"Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}})
	statuses([f.role("r", [admin], [f.document([conditional])], {})]) == {"r": "FAIL"}
	statuses([f.role("r", [admin], [f.document([f.deny("iam:*", "*")])], {})]) == {"r": "FAIL"}
	statuses([f.role("r", [admin], [f.document([f.deny("*", "arn:aws:s3:::secret/*")])], {})]) == {"r": "FAIL"}
}

