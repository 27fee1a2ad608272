package sma.checks.domain_vpconly_missing_endpoints_test

import data.sma.checks.domain_vpconly_missing_endpoints as check

run(s) := rs if {
	rs := check.results with input as s
}

domain := {"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "app_network_access_type": "VpcOnly", "vpc_id": "vpc-1", "subnet_ids": []}

ep(id, service, type, state, dns) := {"vpc_endpoint_id": id, "vpc_id": "vpc-1", "service_name": sprintf("com.amazonaws.us-east-1.%s", [service]), "endpoint_type": type, "state": state, "private_dns_enabled": dns}

complete := [
	ep("vpce-1", "sagemaker.api", "Interface", "available", true),
	ep("vpce-2", "sagemaker.runtime", "Interface", "available", true),
	ep("vpce-3", "s3", "Gateway", "available", false),
	ep("vpce-4", "servicecatalog", "Interface", "available", true),
	ep("vpce-5", "sts", "Interface", "available", true),
]

snapshot(endpoints) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [domain], "network": {"vpc_endpoints": endpoints}}]}], "collection_errors": []}

only(endpoints) := r if [r] := [x | some x in run(snapshot(endpoints))]

test_all_endpoints_pass if only(complete).status == "PASS"

test_missing_endpoints_fail_with_names if {
	r := only(array.slice(complete, 0, 2))
	r.status == "FAIL"
	r.evidence.missing_services == ["s3", "servicecatalog", "sts"]
	r.evidence.missing[0].reason == "no endpoint"
}

test_interface_without_private_dns_counts_as_missing if {
	r := only(array.concat(array.slice(complete, 1, 5), [ep("vpce-9", "sagemaker.api", "Interface", "available", false)]))
	r.evidence.missing == [{"service": "sagemaker.api", "reason": "vpce-9 has no private DNS"}]
}

test_pending_endpoint_counts_as_missing if {
	r := only(array.concat(array.slice(complete, 0, 4), [ep("vpce-9", "sts", "Interface", "pending", true)]))
	r.evidence.missing == [{"service": "sts", "reason": "vpce-9 is pending"}]
}

test_s3_interface_with_private_dns_is_enough if only(array.concat([complete[0], complete[1], complete[3], complete[4]], [ep("vpce-9", "s3", "Interface", "available", true)])).status == "PASS"

test_endpoint_of_another_vpc_does_not_count if {
	other := object.union(complete[4], {"vpc_id": "vpc-2"})
	only(array.concat(array.slice(complete, 0, 4), [other])).evidence.missing_services == ["sts"]
}

test_required_services_from_config if {
	r := only(array.slice(complete, 0, 2)) with data.config.domain_vpconly_missing_endpoints.required_services as ["sagemaker.api"]
	r.status == "PASS"
}
