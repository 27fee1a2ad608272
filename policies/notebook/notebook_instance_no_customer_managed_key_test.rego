package sma.checks.notebook_instance_no_customer_managed_key_test

import data.sma.checks.notebook_instance_no_customer_managed_key as check

instance(extra) := object.union({"name": "nb", "arn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/nb", "status": "InService", "described": true}, extra)

snapshot(extra) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [], "notebook_instances": [instance(extra)]}]}], "collection_errors": []}

only(extra) := r if [r] := [x | some x in check.results with input as snapshot(extra)]

test_no_key_fails if only({}).status == "FAIL"

test_key_passes if only({"kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/k"}).status == "PASS"

test_undescribed_is_error if only({"described": false}).status == "ERROR"

test_failed_listing_is_error if {
	s := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": []}]}], "collection_errors": [{"account_id": "123456789012", "region": "us-east-1", "service": "sagemaker", "operation": "ListNotebookInstances", "error": "access_denied"}]}
	[r] := [x | some x in check.results with input as s]
	r.status == "ERROR"
	r.resource_arn == "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/*"
}
