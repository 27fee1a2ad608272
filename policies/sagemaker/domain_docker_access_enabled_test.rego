package sma.checks.domain_docker_access_enabled_test

import data.sma.checks.domain_docker_access_enabled as check

only(extra) := r if [r] := [x | some x in check.results with input as {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [object.union({"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true}, extra)]}]}], "collection_errors": []}]

test_enabled_fails_with_trusted_accounts if {
	r := only({"docker_access": "ENABLED", "docker_vpc_only_trusted_accounts": ["111122223333"]})
	r.status == "FAIL"
	r.evidence.vpc_only_trusted_accounts == ["111122223333"]
}

test_disabled_or_absent_passes if {
	only({"docker_access": "DISABLED"}).status == "PASS"
	only({}).status == "PASS"
}

test_undescribed_is_error if only({"described": false}).status == "ERROR"
