package sma.checks.domain_vpconly_subnet_public_route_test

import data.sma.checks.domain_vpconly_subnet_public_route as check

run(s) := rs if {
	rs := check.results with input as s
}

domain(mode, subnets) := {"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "app_network_access_type": mode, "vpc_id": "vpc-1", "subnet_ids": subnets}

local := {"destination_cidr_block": "10.0.0.0/16", "gateway_id": "local", "state": "active"}

igw := {"destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1", "state": "active"}

nat := {"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "gateway_id": null, "state": "active"}

tables := [
	{"route_table_id": "rtb-main", "vpc_id": "vpc-1", "main": true, "subnet_ids": [], "routes": [local, igw]},
	{"route_table_id": "rtb-private", "vpc_id": "vpc-1", "main": false, "subnet_ids": ["subnet-private"], "routes": [local, nat]},
	{"route_table_id": "rtb-public", "vpc_id": "vpc-1", "main": false, "subnet_ids": ["subnet-public"], "routes": [local, {"destination_ipv6_cidr_block": "::/0", "gateway_id": "igw-1", "state": "active"}]},
	{"route_table_id": "rtb-blackhole", "vpc_id": "vpc-1", "main": false, "subnet_ids": ["subnet-blackhole"], "routes": [local, {"destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-gone", "state": "blackhole"}]},
]

snapshot(d, errors) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d], "network": {"route_tables": tables}}]}], "collection_errors": errors}

only(d) := r if [r] := [x | some x in run(snapshot(d, []))]

test_private_subnets_pass if only(domain("VpcOnly", ["subnet-private"])).status == "PASS"

test_explicit_public_route_fails_with_evidence if {
	r := only(domain("VpcOnly", ["subnet-private", "subnet-public"]))
	r.status == "FAIL"
	r.evidence.offending_routes == [{"subnet_id": "subnet-public", "route_table_id": "rtb-public", "association": "explicit", "destination": "::/0", "gateway_id": "igw-1"}]
}

test_unassociated_subnet_uses_main_table if {
	r := only(domain("VpcOnly", ["subnet-unassociated"]))
	r.status == "FAIL"
	r.evidence.offending_routes[0].route_table_id == "rtb-main"
	r.evidence.offending_routes[0].association == "main"
}

test_blackhole_route_does_not_count if only(domain("VpcOnly", ["subnet-blackhole"])).status == "PASS"

test_public_internet_domain_not_applicable if count(check.results) == 0 with input as snapshot(domain("PublicInternetOnly", ["subnet-public"]), [])

test_route_table_failure_is_error if {
	rs := check.results with input as snapshot(domain("VpcOnly", ["subnet-private"]), [{"account_id": "123456789012", "region": "us-east-1", "service": "ec2", "operation": "DescribeRouteTables", "error": "access_denied", "resource": null}])
	[r.status | some r in rs] == ["ERROR"]
}
