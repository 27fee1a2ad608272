package sma.checks.space_unhealthy_test

import data.sma.checks.space_unhealthy as check

space(status) := {"name": "s", "arn": "arn:aws:sagemaker:us-east-1:123456789012:space/d-1/s", "domain_id": "d-1", "status": status, "described": true, "failure_reason": "EFS mount failed"}

snapshot(spaces) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-1", "spaces": spaces}]}]}], "collection_errors": []}

only(status) := r if [r] := [x | some x in check.results with input as snapshot([space(status)])]

test_failed_states_fail if {
	every status in ["Failed", "Update_Failed", "Delete_Failed"] {
		r := only(status)
		r.status == "FAIL"
		r.evidence.failure_reason == "EFS mount failed"
	}
}

test_other_states_pass if {
	every status in ["InService", "Pending", "Updating", "Deleting"] {
		only(status).status == "PASS"
	}
}

test_failed_listing_is_error if {
	s := object.union(snapshot([]), {"collection_errors": [{"account_id": "123456789012", "region": "us-east-1", "service": "sagemaker", "operation": "ListSpaces", "error": "access_denied"}]})
	[r] := [x | some x in check.results with input as s]
	r.status == "ERROR"
}
