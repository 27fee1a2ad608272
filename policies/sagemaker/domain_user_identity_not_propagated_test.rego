package sma.checks.domain_user_identity_not_propagated_test

import data.sma.checks.domain_user_identity_not_propagated as check

only(extra) := r if [r] := [x | some x in check.results with input as {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [object.union({"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true}, extra)]}]}], "collection_errors": []}]

test_user_profile_name_passes if only({"execution_role_identity_config": "USER_PROFILE_NAME"}).status == "PASS"

test_disabled_fails if only({"execution_role_identity_config": "DISABLED"}).status == "FAIL"

test_absent_fails if {
	r := only({})
	r.status == "FAIL"
	r.evidence.execution_role_identity_config == null
}

test_undescribed_is_error if only({"described": false}).status == "ERROR"
