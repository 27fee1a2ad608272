package sma.checks.domain_vpconly_internet_egress

import data.sma.lib

metadata := {
	"id": "domain_vpconly_internet_egress",
	"title": "VpcOnly SageMaker domain's apps can reach the internet",
	"severity": "low",
	"resource_type": "domain",
	"scope": "domain",
	"description": "A subnet of the VpcOnly domain routes 0.0.0.0/0 to a NAT gateway or ::/0 to an egress-only internet gateway: Studio apps can open connections to the internet (pip, git, and an exfiltration path). Often intended, hence low; a domain meant to be isolated should route only to VPC endpoints.",
	"remediation": "If the domain must be isolated, remove the NAT / egress-only routes named in the evidence from the subnets' route tables and provide VPC endpoints (see domain_vpconly_missing_endpoints) and a private package mirror instead; if egress is intended, filter it (AWS Network Firewall, DNS Firewall) and waive this finding with the reason.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html",
		"https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html",
		"https://docs.aws.amazon.com/vpc/latest/userguide/egress-only-internet-gateway.html",
	],
}

route_operations := ["DescribeRouteTables"]

results contains lib.domain_result(account, region, domain, verdict(account, region, domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	applies(domain)
}

results contains r if some r in lib.domain_scope_errors

applies(domain) if not domain.described

applies(domain) if domain.app_network_access_type == "VpcOnly"

# The egress target of a default route: a NAT gateway for IPv4, an egress-only gateway for IPv6.
target(d, route) := route.nat_gateway_id if {
	d == "0.0.0.0/0"
	is_string(object.get(route, "nat_gateway_id", null))
} else := route.egress_only_internet_gateway_id if {
	d == "::/0"
	is_string(object.get(route, "egress_only_internet_gateway_id", null))
}

egress(region, domain) := [e |
	some subnet_id in domain.subnet_ids
	[table, _] := lib.table_for(region, domain.vpc_id, subnet_id)
	some [d, route] in lib.default_routes(table)
	t := target(d, route)
	e := {"subnet_id": subnet_id, "route_table_id": table.route_table_id, "destination": d, "target": t}
]

verdict(account, region, domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its network settings are unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["ERROR", sprintf("domain %s: %s, so its subnets' routes are unknown", [domain.domain_id, lib.describe_errors(lib.scope_errors(account.account_id, region.region, route_operations))]), {}] if {
	lib.collection_failed(account.account_id, region.region, route_operations)
} else := ["FAIL", sprintf("VpcOnly domain %s can reach the internet from subnet(s) %s through %s", [domain.domain_id, concat(", ", {e.subnet_id | some e in found}), concat(", ", {e.target | some e in found})]), {"vpc_id": domain.vpc_id, "internet_egress": found}] if {
	found := egress(region, domain)
	count(found) > 0
} else := ["PASS", sprintf("VpcOnly domain %s: none of its subnets routes to a NAT or egress-only gateway", [domain.domain_id]), {"vpc_id": domain.vpc_id}]
