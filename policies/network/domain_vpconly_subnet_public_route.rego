package sma.checks.domain_vpconly_subnet_public_route

import data.sma.lib

metadata := {
	"id": "domain_vpconly_subnet_public_route",
	"title": "VpcOnly SageMaker domain uses a subnet that routes to an internet gateway",
	"severity": "high",
	"resource_type": "domain",
	"scope": "domain",
	"description": "A VpcOnly domain is meant to keep traffic inside the VPC. A subnet whose route table (its explicit association, else the VPC's main table) sends 0.0.0.0/0 or ::/0 to an internet gateway makes it public again.",
	"remediation": "Give the domain private subnets (UpdateDomain SubnetIds) or replace the igw route with a NAT gateway or no default route, in the route table named in the evidence.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html",
	],
}

# Applies to VpcOnly domains; PublicInternetOnly ones are domain_public_internet_access's.
results contains lib.domain_result(account, region, domain, verdict(account, region, domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	applies(domain)
}

results contains r if some r in lib.domain_scope_errors

applies(domain) if not domain.described

applies(domain) if domain.app_network_access_type == "VpcOnly"

route_operations := ["DescribeRouteTables"]

offending(region, domain) := [o |
	some subnet_id in domain.subnet_ids
	[table, association] := lib.table_for(region, domain.vpc_id, subnet_id)
	some [destination, route] in lib.default_routes(table)
	gateway := object.get(route, "gateway_id", null)
	is_string(gateway)
	startswith(gateway, "igw-")
	o := {"subnet_id": subnet_id, "route_table_id": table.route_table_id, "association": association, "destination": destination, "gateway_id": route.gateway_id}
]

unresolved(region, domain) := [s |
	some s in domain.subnet_ids
	not lib.table_for(region, domain.vpc_id, s)
]

verdict(account, region, domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its network settings are unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["ERROR", sprintf("domain %s: %s, so its subnets' routes are unknown", [domain.domain_id, lib.describe_errors(lib.scope_errors(account.account_id, region.region, route_operations))]), {}] if {
	lib.collection_failed(account.account_id, region.region, route_operations)
} else := ["FAIL", sprintf("VpcOnly domain %s routes to an internet gateway from subnet(s) %s", [domain.domain_id, concat(", ", {o.subnet_id | some o in offending(region, domain)})]), {"vpc_id": domain.vpc_id, "offending_routes": offending(region, domain)}] if {
	count(offending(region, domain)) > 0
} else := ["ERROR", sprintf("domain %s: no route table found for subnet(s) %s", [domain.domain_id, concat(", ", unresolved(region, domain))]), {"vpc_id": domain.vpc_id, "subnets_without_route_table": unresolved(region, domain)}] if {
	count(unresolved(region, domain)) > 0
} else := ["PASS", sprintf("VpcOnly domain %s: none of its %d subnet(s) routes to an internet gateway", [domain.domain_id, count(domain.subnet_ids)]), {"vpc_id": domain.vpc_id, "subnet_ids": domain.subnet_ids}]
