package sma.checks.domain_vpconly_missing_endpoints_test

import data.sma.checks.domain_vpconly_missing_endpoints as check

run(s) := rs if {
	rs := check.results with input as s
}

domain := {"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "app_network_access_type": "VpcOnly", "vpc_id": "vpc-1", "subnet_ids": ["subnet-1"], "default_user_settings": {"security_groups": ["sg-app"]}, "user_profiles": []}

ep(id, service, type, state, dns) := {"vpc_endpoint_id": id, "vpc_id": "vpc-1", "service_name": sprintf("com.amazonaws.us-east-1.%s", [service]), "endpoint_type": type, "state": state, "private_dns_enabled": dns, "security_group_ids": ["sg-endpoint"], "route_table_ids": ["rtb-1"]}

complete := [
	ep("vpce-1", "sagemaker.api", "Interface", "available", true),
	ep("vpce-2", "sagemaker.runtime", "Interface", "available", true),
	ep("vpce-3", "s3", "Gateway", "available", false),
]

# The endpoints' group admits 443 from the domain's group.
endpoint_group(rule) := {"group_id": "sg-endpoint", "ingress": [rule]}

from_app := {"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "ipv4_ranges": [], "ipv6_ranges": [], "referenced_group_ids": ["sg-app"], "prefix_list_ids": []}

network(endpoints, routes, group) := {
	"subnets": [{"subnet_id": "subnet-1", "vpc_id": "vpc-1", "cidr_block": "10.0.1.0/24"}],
	"route_tables": [{"route_table_id": "rtb-1", "vpc_id": "vpc-1", "main": true, "subnet_ids": [], "routes": routes}],
	"vpc_endpoints": endpoints,
	"security_groups": [group],
}

snapshot_in(region, net) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": region, "domains": [domain], "network": net}]}], "collection_errors": []}

snapshot(endpoints) := snapshot_in("us-east-1", network(endpoints, [], endpoint_group(from_app)))

only_in(s) := r if [r] := [x | some x in run(s)]

only(endpoints) := only_in(snapshot(endpoints))

test_all_usable_endpoints_pass if only(complete).status == "PASS"

test_missing_endpoints_fail_per_subnet if {
	r := only(array.slice(complete, 0, 2))
	r.status == "FAIL"
	r.evidence.missing_services == ["s3"]
	r.evidence.subnets == [{"subnet_id": "subnet-1", "route_table_id": "rtb-1", "missing": [{"service": "s3", "endpoints": []}]}]
}

test_servicecatalog_and_sts_are_not_required_by_default if only(complete).evidence.vpc_id == "vpc-1"

test_nat_gateway_route_is_an_alternative if {
	nat := [{"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "state": "active"}]
	r := only_in(snapshot_in("us-east-1", network([], nat, endpoint_group(from_app))))
	r.status == "PASS"
	r.evidence.nat_subnets == [{"subnet_id": "subnet-1", "nat_gateway_id": "nat-1"}]
}

test_blackholed_nat_route_is_no_alternative if {
	nat := [{"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "state": "blackhole"}]
	only_in(snapshot_in("us-east-1", network([], nat, endpoint_group(from_app)))).status == "FAIL"
}

test_interface_without_private_dns_is_unusable if {
	r := only(array.concat(array.slice(complete, 1, 3), [ep("vpce-9", "sagemaker.api", "Interface", "available", false)]))
	r.evidence.subnets[0].missing == [{"service": "sagemaker.api", "endpoints": [{"vpc_endpoint_id": "vpce-9", "reason": "no_private_dns"}]}]
}

test_pending_endpoint_is_unusable if {
	r := only(array.concat(array.slice(complete, 0, 2), [ep("vpce-9", "s3", "Gateway", "pending", false)]))
	r.evidence.subnets[0].missing[0].endpoints == [{"vpc_endpoint_id": "vpce-9", "reason": "not_available"}]
}

test_s3_gateway_not_associated_with_the_route_table_is_unusable if {
	gw := object.union(complete[2], {"route_table_ids": ["rtb-other"]})
	r := only(array.concat(array.slice(complete, 0, 2), [gw]))
	r.status == "FAIL"
	r.evidence.subnets[0].missing[0] == {"service": "s3", "endpoints": [{"vpc_endpoint_id": "vpce-3", "reason": "not_associated_with_route_table"}]}
}

test_endpoint_group_blocking_443_is_unusable if {
	ssh_only := object.union(from_app, {"from_port": 22, "to_port": 22})
	r := only_in(snapshot_in("us-east-1", network(complete, [], endpoint_group(ssh_only))))
	r.status == "FAIL"
	r.evidence.missing_services == ["sagemaker.api", "sagemaker.runtime"]
	r.evidence.subnets[0].missing[0].endpoints == [{"vpc_endpoint_id": "vpce-1", "reason": "security_group_blocks_443"}]
}

test_endpoint_group_admitting_another_group_blocks if {
	other := object.union(from_app, {"referenced_group_ids": ["sg-someone-else"]})
	only_in(snapshot_in("us-east-1", network(complete, [], endpoint_group(other)))).status == "FAIL"
}

test_endpoint_group_admitting_the_subnet_range_or_all_traffic_works if {
	vpc_range := object.union(from_app, {"referenced_group_ids": [], "ipv4_ranges": ["10.0.0.0/16"]})
	only_in(snapshot_in("us-east-1", network(complete, [], endpoint_group(vpc_range)))).status == "PASS"
	all_traffic := {"ip_protocol": "-1", "ipv4_ranges": [], "ipv6_ranges": [], "referenced_group_ids": ["sg-app"], "prefix_list_ids": []}
	only_in(snapshot_in("us-east-1", network(complete, [], endpoint_group(all_traffic)))).status == "PASS"
	port_range := object.union(from_app, {"from_port": 0, "to_port": 65535})
	only_in(snapshot_in("us-east-1", network(complete, [], endpoint_group(port_range)))).status == "PASS"
}

test_range_not_containing_the_subnet_blocks if {
	elsewhere := object.union(from_app, {"referenced_group_ids": [], "ipv4_ranges": ["192.168.0.0/16"]})
	only_in(snapshot_in("us-east-1", network(complete, [], endpoint_group(elsewhere)))).status == "FAIL"
}

cn(e) := object.union(e, {"service_name": replace(e.service_name, "com.amazonaws.us-east-1.", "cn.com.amazonaws.cn-north-1.")})

plain_cn(e) := object.union(e, {"service_name": replace(e.service_name, "us-east-1", "cn-north-1")})

test_china_endpoint_names_count if {
	endpoints := [cn(complete[0]), plain_cn(complete[1]), cn(complete[2])]
	only_in(snapshot_in("cn-north-1", network(endpoints, [], endpoint_group(from_app)))).status == "PASS"
}

test_endpoint_of_another_vpc_does_not_count if {
	other := object.union(complete[2], {"vpc_id": "vpc-2"})
	only(array.concat(array.slice(complete, 0, 2), [other])).evidence.missing_services == ["s3"]
}

test_required_services_from_config if {
	r := only(array.slice(complete, 0, 2)) with data.config.domain_vpconly_missing_endpoints.required_services as ["sagemaker.api"]
	r.status == "PASS"
}

test_projects_need_servicecatalog_when_configured if {
	r := only(complete) with data.config.domain_vpconly_missing_endpoints.required_services as ["sagemaker.api", "servicecatalog"]
	r.evidence.missing_services == ["servicecatalog"]
}

test_undescribed_domain_is_error if {
	s := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-1", "arn": "a", "described": false}], "network": {}}]}], "collection_errors": []}
	only_in(s).status == "ERROR"
}

test_public_domain_is_not_judged if count(run({"accounts": [{"account_id": "1", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [object.union(domain, {"app_network_access_type": "PublicInternetOnly"})], "network": {}}]}], "collection_errors": []})) == 0

test_failed_route_listing_is_error if {
	s := object.union(snapshot(complete), {"collection_errors": [{"account_id": "123456789012", "region": "us-east-1", "service": "ec2", "operation": "DescribeRouteTables", "error": "throttling"}]})
	only_in(s).status == "ERROR"
}

test_subnet_without_route_table_is_error if {
	net := object.union(network(complete, [], endpoint_group(from_app)), {"route_tables": []})
	only_in(snapshot_in("us-east-1", net)).status == "ERROR"
}
