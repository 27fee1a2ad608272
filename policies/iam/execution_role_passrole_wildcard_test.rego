package sma.checks.execution_role_passrole_wildcard_test

import data.sma.checks.execution_role_passrole_wildcard as check
import data.sma.lib.fixtures as f

statuses(inline) := v if {
	v := f.statuses(check.results) with input as f.snapshot([f.role("r", [], inline, {})], {})
}

test_passrole_on_star_fails if statuses([f.document([f.allow("iam:PassRole", "*")])]) == {"r": "FAIL"}

test_iam_wildcard_action_fails if statuses([f.document([f.allow(["iam:Pass*"], ["*"])])]) == {"r": "FAIL"}

test_action_case_is_ignored if statuses([f.document([f.allow("IAM:passrole", "*")])]) == {"r": "FAIL"}

test_star_action_fails if statuses([f.document([f.allow("*", "*")])]) == {"r": "FAIL"}

test_scoped_resource_passes if statuses([f.document([f.allow("iam:PassRole", "arn:aws:iam::123456789012:role/jobs-*")])]) == {"r": "PASS"}

test_condition_passes if {
	st := object.union(f.allow("iam:PassRole", "*"), {"Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}})
	statuses([f.document([st])]) == {"r": "PASS"}
}

test_other_actions_pass if statuses([f.document([f.allow(["iam:GetRole", "s3:*"], "*")])]) == {"r": "PASS"}

test_not_action_excluding_passrole_passes if statuses([f.document([{"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}])]) == {"r": "PASS"}

boundary := "arn:aws:iam::123456789012:policy/boundary"

bounded_status(boundary_statements) := v if {
	role := f.bounded(f.role("r", [], [f.document([f.allow("iam:PassRole", "*")])], {}), boundary)
	v := f.statuses(check.results) with input as f.snapshot([role], f.boundary_policy(boundary, boundary_statements))
}

test_denied_passrole_passes if {
	statuses([f.document([f.allow("iam:PassRole", "*"), f.deny("iam:PassRole", "*")])]) == {"r": "PASS"}
	statuses([f.document([f.allow("*", "*")]), f.document([f.deny("iam:*", "*")])]) == {"r": "PASS"}
}

test_boundary_scoping_passrole_passes if bounded_status([f.allow("iam:PassRole", "arn:aws:iam::123456789012:role/jobs-*")]) == {"r": "PASS"}

test_boundary_allowing_passrole_everywhere_fails if bounded_status([f.allow("iam:*", "*")]) == {"r": "FAIL"}

test_boundary_with_conditional_allow_still_fails if {
	conditional := object.union(f.allow("iam:PassRole", "*"), {"Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}})
	bounded_status([conditional]) == {"r": "FAIL"}
}
