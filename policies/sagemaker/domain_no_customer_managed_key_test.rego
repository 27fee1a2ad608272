package sma.checks.domain_no_customer_managed_key_test

import data.sma.checks.domain_no_customer_managed_key as check

run(s) := rs if {
	rs := check.results with input as s
}

domain(extra) := object.union({"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "home_efs_file_system_id": "fs-1"}, extra)

snapshot(d) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d]}]}], "collection_errors": []}

status_of(d) := [r.status | some r in run(snapshot(d))]

test_no_key_fails if status_of(domain({"kms_key_id": null})) == ["FAIL"]

test_empty_key_fails if status_of(domain({"kms_key_id": ""})) == ["FAIL"]

test_customer_key_passes if status_of(domain({"kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/abc"})) == ["PASS"]

test_undescribed_domain_is_error if status_of(domain({"described": false, "kms_key_id": null})) == ["ERROR"]
