package sma.checks.domain_vpconly_missing_endpoints

import data.sma.lib

metadata := {
	"id": "domain_vpconly_missing_endpoints",
	"title": "VpcOnly SageMaker domain has subnets that reach neither a NAT gateway nor the endpoints Studio needs",
	"severity": "medium",
	"resource_type": "domain",
	"scope": "domain",
	"description": "In VpcOnly mode Studio's apps reach AWS services through the VPC: a NAT gateway route (0.0.0.0/0 -> nat-...) or a usable VPC endpoint for each required service. An Interface endpoint is usable when available, with private DNS, and one of its security groups admits TCP 443 from one of the domain's groups or from a range containing the subnet; a Gateway endpoint (S3) when it is associated with the subnet's route table. Apps in a subnet with neither cannot start. servicecatalog (Projects), sts, logs and others are needed only by some features: add them to required_services.",
	"remediation": "Per subnet in the evidence: add a NAT gateway route, or create the missing endpoints (aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --private-dns-enabled --security-group-ids <group admitting 443 from the domain's groups> --service-name com.amazonaws.<region>.<service>), associate the S3 gateway endpoint with the subnet's route table (aws ec2 modify-vpc-endpoint --add-route-table-ids), enable private DNS, or open 443 from the domain's groups in the endpoint's group.",
	"thresholds": {"required_services": {
		"type": "strings",
		"default": ["sagemaker.api", "sagemaker.runtime", "s3"],
		"min_items": 1,
		"pattern": "^[a-z0-9.-]+$",
		"not_pattern": "^(cn\\.)?com\\.amazonaws\\.",
		"hint": "a short service name (like \"sagemaker.api\"; the com.amazonaws.<region>. prefix is added)",
		"description": "Services a VpcOnly domain's subnets must reach through a VPC endpoint when they have no NAT gateway route.",
	}},
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-interface-endpoint.html",
		"https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html",
		"https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html",
		"https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Ningxia.html",
	],
}

required := data.config.domain_vpconly_missing_endpoints.required_services

operations := ["DescribeVpcEndpoints", "DescribeRouteTables", "DescribeSecurityGroups", "DescribeSubnets"]

results contains lib.domain_result(account, region, domain, verdict(account, region, domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	applies(domain)
}

results contains r if some r in lib.domain_scope_errors

applies(domain) if not domain.described

applies(domain) if domain.app_network_access_type == "VpcOnly"

# A NAT gateway default route of the subnet's table: every service is reachable through it.
nat_route(table) := route.nat_gateway_id if {
	some [d, route] in lib.default_routes(table)
	d == "0.0.0.0/0"
	is_string(object.get(route, "nat_gateway_id", null))
}

endpoints(region, vpc_id, service) := [e |
	names := lib.endpoint_service_names(region.region, service)
	some e in region.network.vpc_endpoints
	e.vpc_id == vpc_id
	e.service_name in names
]

subnet_cidr(region, subnet_id) := c if {
	some s in region.network.subnets
	s.subnet_id == subnet_id
	c := s.cidr_block
	is_string(c)
} else := null

# An ingress rule that admits TCP 443 from one of `sources` (group ids) or from a range
# containing `cidr`.
admits_443(rule, sources, cidr) if {
	rule.ip_protocol in {"tcp", "6", "-1"}
	port_in(rule, 443)
	admits_source(rule, sources, cidr)
}

port_in(rule, port) if rule.ip_protocol == "-1"

port_in(rule, port) if {
	rule.ip_protocol != "-1"
	rule.from_port <= port
	port <= rule.to_port
}

admits_source(rule, sources, _) if {
	some g in rule.referenced_group_ids
	g in sources
}

admits_source(rule, _, cidr) if {
	is_string(cidr)
	some range in rule.ipv4_ranges
	net.cidr_contains(range, cidr)
}

group_admits_443(region, group_id, sources, cidr) if {
	some g in region.network.security_groups
	g.group_id == group_id
	some rule in g.ingress
	admits_443(rule, sources, cidr)
}

# Why an endpoint cannot serve this subnet, or nothing when it can.
flaw(region, e, table, sources, cidr) := "not_available" if {
	e.state != "available"
} else := "not_associated_with_route_table" if {
	e.endpoint_type == "Gateway"
	not table.route_table_id in object.get(e, "route_table_ids", [])
} else := "no_private_dns" if {
	e.endpoint_type == "Interface"
	not e.private_dns_enabled
} else := "security_group_blocks_443" if {
	e.endpoint_type == "Interface"
	not any_group_admits(region, e, sources, cidr)
} else := sprintf("%s_endpoint", [lower(e.endpoint_type)]) if {
	not e.endpoint_type in {"Gateway", "Interface"}
}

any_group_admits(region, e, sources, cidr) if {
	some group_id in object.get(e, "security_group_ids", [])
	group_admits_443(region, group_id, sources, cidr)
}

# Per subnet without a NAT route: the required services no usable endpoint serves.
subnet_gaps(region, domain) := [gap |
	sources := {g | some [g, _] in lib.domain_groups(domain)}
	some subnet_id in domain.subnet_ids
	[table, _] := lib.table_for(region, domain.vpc_id, subnet_id)
	not nat_route(table)
	cidr := subnet_cidr(region, subnet_id)
	missing := [m |
		some service in required
		found := endpoints(region, domain.vpc_id, service)
		flaws := [{"vpc_endpoint_id": e.vpc_endpoint_id, "reason": f} | some e in found; f := flaw(region, e, table, sources, cidr)]
		count(flaws) == count(found)
		m := {"service": service, "endpoints": flaws}
	]
	count(missing) > 0
	gap := {"subnet_id": subnet_id, "route_table_id": table.route_table_id, "missing": missing}
]

# Subnets served through a NAT gateway, for the evidence.
nat_subnets(region, domain) := [{"subnet_id": s, "nat_gateway_id": nat_route(table)} |
	some s in domain.subnet_ids
	[table, _] := lib.table_for(region, domain.vpc_id, s)
	nat_route(table)
]

unresolved(region, domain) := [s |
	some s in domain.subnet_ids
	not lib.table_for(region, domain.vpc_id, s)
]

missing_services(gaps) := sort({m.service | some g in gaps; some m in g.missing})

verdict(account, region, domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its VPC is unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["ERROR", sprintf("domain %s: %s, so how its subnets reach AWS is unknown", [domain.domain_id, lib.describe_errors(lib.scope_errors(account.account_id, region.region, operations))]), {}] if {
	lib.collection_failed(account.account_id, region.region, operations)
} else := ["FAIL", sprintf("VpcOnly domain %s: subnet(s) %s reach neither a NAT gateway nor usable endpoints for %s", [domain.domain_id, concat(", ", [g.subnet_id | some g in gaps]), concat(", ", missing_services(gaps))]), {"vpc_id": domain.vpc_id, "missing_services": missing_services(gaps), "subnets": gaps, "nat_subnets": nat_subnets(region, domain)}] if {
	gaps := subnet_gaps(region, domain)
	count(gaps) > 0
} else := ["ERROR", sprintf("domain %s: no route table found for subnet(s) %s", [domain.domain_id, concat(", ", unresolved(region, domain))]), {"vpc_id": domain.vpc_id, "subnets_without_route_table": unresolved(region, domain)}] if {
	count(unresolved(region, domain)) > 0
} else := ["PASS", sprintf("VpcOnly domain %s: each of its %d subnet(s) reaches %s through a NAT gateway or usable endpoints", [domain.domain_id, count(domain.subnet_ids), concat(", ", required)]), {"vpc_id": domain.vpc_id, "nat_subnets": nat_subnets(region, domain)}]
