package sma.checks.domain_public_internet_access_test

import data.sma.checks.domain_public_internet_access as check

run(s) := rs if {
	rs := check.results with input as s
}

domain(extra) := object.union({"domain_id": "d-1", "name": "one", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "vpc_id": "vpc-1"}, extra)

snapshot(d) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d]}]}], "collection_errors": []}

status_of(d) := [r.status | some r in run(snapshot(d))]

test_public_internet_only_fails if status_of(domain({"app_network_access_type": "PublicInternetOnly"})) == ["FAIL"]

test_absent_mode_means_public if status_of(domain({"app_network_access_type": null})) == ["FAIL"]

test_vpc_only_passes if status_of(domain({"app_network_access_type": "VpcOnly"})) == ["PASS"]

test_undescribed_domain_is_error if status_of(domain({"described": false})) == ["ERROR"]

test_list_domains_failure_is_error if {
	s := object.union(snapshot(domain({"app_network_access_type": "VpcOnly"})), {"collection_errors": [{"account_id": "123456789012", "region": "us-east-1", "service": "sagemaker", "operation": "ListDomains", "error": "access_denied", "resource": null}]})
	rs := check.results with input as s
	some r in rs
	r.status == "ERROR"
	r.resource_arn == "arn:aws:sagemaker:us-east-1:123456789012:domain/*"
}
