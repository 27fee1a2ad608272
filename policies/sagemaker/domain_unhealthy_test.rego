package sma.checks.domain_unhealthy_test

import data.sma.checks.domain_unhealthy as check

domain(extra) := object.union({"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true}, extra)

snapshot(d) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d]}]}], "collection_errors": []}

results(d) := v if {
	v := check.results with input as snapshot(d)
}

test_failed_statuses_fail if {
	every status in ["Failed", "Update_Failed", "Delete_Failed"] {
		[r] := [x | some x in results(domain({"status": status, "failure_reason": "subnet gone"}))]
		r.status == "FAIL"
		r.evidence.failure_reason == "subnet gone"
	}
}

test_in_service_passes if [r.status | some r in results(domain({"status": "InService"}))] == ["PASS"]

test_updating_passes if [r.status | some r in results(domain({"status": "Updating"}))] == ["PASS"]
