package sma.checks.domain_vpconly_internet_egress_test

import data.sma.checks.domain_vpconly_internet_egress as check

domain := {"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "app_network_access_type": "VpcOnly", "vpc_id": "vpc-1", "subnet_ids": ["subnet-1", "subnet-2"]}

tables(main_routes, explicit_routes) := [
	{"route_table_id": "rtb-main", "vpc_id": "vpc-1", "main": true, "subnet_ids": [], "routes": main_routes},
	{"route_table_id": "rtb-2", "vpc_id": "vpc-1", "main": false, "subnet_ids": ["subnet-2"], "routes": explicit_routes},
]

only(d, ts) := r if [r] := [x | some x in check.results with input as {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d], "network": {"route_tables": ts}}]}], "collection_errors": []}]

local := {"destination_cidr_block": "10.0.0.0/16", "gateway_id": "local", "state": "active"}

nat := {"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "state": "active"}

eigw := {"destination_ipv6_cidr_block": "::/0", "egress_only_internet_gateway_id": "eigw-1", "state": "active"}

test_endpoint_only_subnets_pass if only(domain, tables([local], [local])).status == "PASS"

test_nat_route_of_the_main_table_fails if {
	r := only(domain, tables([local, nat], [local]))
	r.status == "FAIL"
	r.evidence.internet_egress == [{"subnet_id": "subnet-1", "route_table_id": "rtb-main", "destination": "0.0.0.0/0", "target": "nat-1"}]
}

test_egress_only_gateway_fails if only(domain, tables([local], [local, eigw])).evidence.internet_egress[0].target == "eigw-1"

test_blackholed_route_passes if only(domain, tables([local, object.union(nat, {"state": "blackhole"})], [local])).status == "PASS"

test_public_domain_is_not_judged if count([x | some x in check.results with input as {"accounts": [{"account_id": "1", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [object.union(domain, {"app_network_access_type": "PublicInternetOnly"})], "network": {}}]}], "collection_errors": []}]) == 0
