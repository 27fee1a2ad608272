package sma.checks.space_remote_access_enabled_test

import data.sma.checks.space_remote_access_enabled as check

space(extra) := object.union({"name": "s", "arn": "arn:aws:sagemaker:us-east-1:123456789012:space/d-1/s", "domain_id": "d-1", "status": "InService", "described": true, "owner_user_profile_name": "ana"}, extra)

only(extra) := r if [r] := [x | some x in check.results with input as {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-1", "spaces": [space(extra)]}]}]}], "collection_errors": []}]

test_enabled_fails if {
	r := only({"remote_access": "ENABLED"})
	r.status == "FAIL"
	r.evidence.owner_user_profile_name == "ana"
}

test_disabled_or_absent_passes if {
	only({"remote_access": "DISABLED"}).status == "PASS"
	only({}).status == "PASS"
}

test_undescribed_space_is_error if only({"described": false, "remote_access": null}).status == "ERROR"
