package sma.checks.execution_role_full_access_policy_test

import data.sma.checks.execution_role_full_access_policy as check
import data.sma.lib.fixtures as f

full := "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"

test_full_access_fails_others_pass if {
	roles := [
		f.role("wizard", [full], [], f.sagemaker_trust),
		f.role("scoped", ["arn:aws:iam::123456789012:policy/scoped"], [], f.sagemaker_trust),
		object.union(f.role("gone", [], [], {}), {"state": "missing", "role": null}),
		object.union(f.role("other", [], [], {}), {"arn": "arn:aws:iam::999999999999:role/other", "state": "cross_account", "role": null}),
	]
	f.statuses(check.results) == {"wizard": "FAIL", "scoped": "PASS", "other": "ERROR"} with input as f.snapshot(roles, {})
}

test_evidence_lists_bindings if {
	rs := check.results with input as f.snapshot([f.role("wizard", [full], [], f.sagemaker_trust)], {})
	some r in rs
	r.evidence.bindings[0].domain_id == "d-1"
	r.evidence.policy_arn == full
}

test_cross_account_reason if {
	role := object.union(f.role("other", [], [], {}), {"arn": "arn:aws:iam::999999999999:role/other", "state": "cross_account", "role": null})
	rs := check.results with input as f.snapshot([role], {})
	some r in rs
	r.evidence.reason == "cross_account_role_not_readable"
}

test_not_collected_is_error if {
	role := object.union(f.role("x", [], [], {}), {"state": "not_collected", "role": null})
	f.statuses(check.results) == {"x": "ERROR"} with input as f.snapshot([role], {})
}
