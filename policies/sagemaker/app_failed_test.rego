package sma.checks.app_failed_test

import data.sma.checks.app_failed as check

run(s) := rs if {
	rs := check.results with input as s
}

app(name, status) := {"name": name, "app_type": "KernelGateway", "arn": sprintf("arn:aws:sagemaker:us-east-1:123456789012:app/d-1/alice/kernelgateway/%s", [name]), "user_profile_name": "alice", "space_name": null, "status": status, "failure_reason": "image pull failed"}

snapshot(apps) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-1", "apps": apps}]}]}], "collection_errors": []}

by_name(apps) := {split(r.resource_arn, "/")[4]: r.status | some r in run(snapshot(apps))}

test_failed_fails_others_pass_deleted_ignored if {
	by_name([app("a", "Failed"), app("b", "InService"), app("c", "Deleted"), app("d", "Pending")]) == {"a": "FAIL", "b": "PASS", "d": "PASS"}
}

test_evidence_has_failure_reason if {
	rs := check.results with input as snapshot([app("a", "Failed")])
	some r in rs
	r.evidence.failure_reason == "image pull failed"
	r.evidence.owner == "user profile alice"
}
