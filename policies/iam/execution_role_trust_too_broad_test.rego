package sma.checks.execution_role_trust_too_broad_test

import data.sma.checks.execution_role_trust_too_broad as check
import data.sma.lib.fixtures as f

statuses(trust) := v if {
	v := f.statuses(check.results) with input as f.snapshot([f.role("r", [], [], trust)], {})
}

trust(principal) := f.document([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}])

test_service_principal_passes if statuses(f.sagemaker_trust) == {"r": "PASS"}

test_star_principal_fails if statuses(trust("*")) == {"r": "FAIL"}

test_aws_star_fails if statuses(trust({"AWS": "*"})) == {"r": "FAIL"}

test_other_account_fails_with_principal if {
	rs := check.results with input as f.snapshot([f.role("r", [], [], trust({"AWS": ["arn:aws:iam::999999999999:root"]}))], {})
	some r in rs
	r.status == "FAIL"
	r.evidence.principals == [{"statement_index": 0, "principal": "arn:aws:iam::999999999999:root"}]
}

test_bare_other_account_id_fails if statuses(trust({"AWS": "999999999999"})) == {"r": "FAIL"}

test_own_account_passes if statuses(trust({"AWS": "arn:aws:iam::123456789012:role/ci"})) == {"r": "PASS"}

test_condition_passes if {
	t := f.document([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}}])
	statuses(t) == {"r": "PASS"}
}
