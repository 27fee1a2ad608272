package sma.checks.domain_vpconly_missing_endpoints

import data.sma.lib

metadata := {
	"id": "domain_vpconly_missing_endpoints",
	"title": "VpcOnly SageMaker domain's VPC lacks the endpoints Studio needs",
	"severity": "medium",
	"resource_type": "domain",
	"description": "In VpcOnly mode Studio reaches AWS only through VPC endpoints: without an available endpoint (with private DNS, for Interface endpoints) for each required service, Studio does not even start.",
	"remediation": "Create the missing endpoints in the domain's VPC (aws ec2 create-vpc-endpoint --vpc-endpoint-type Interface --private-dns-enabled --service-name com.amazonaws.<region>.<service>; S3 may use a Gateway endpoint), or enable private DNS on the existing ones.",
	"thresholds": {"required_services": {
		"type": "strings",
		"default": ["sagemaker.api", "sagemaker.runtime", "s3", "servicecatalog", "sts"],
		"min_items": 1,
		"pattern": "^[a-z0-9.-]+$",
		"not_pattern": "^com\\.amazonaws\\.",
		"hint": "a short service name (like \"sagemaker.api\"; the com.amazonaws.<region>. prefix is added)",
		"description": "Services whose VPC endpoint a VpcOnly domain's VPC must have.",
	}},
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-interface-endpoint.html",
	],
}

required := data.config.domain_vpconly_missing_endpoints.required_services

operations := ["DescribeVpcEndpoints"]

results[domain.arn] := lib.domain_result(account, region, domain, verdict(account, region, domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	applies(domain)
}

results[r.resource_arn] := r if some r in lib.domain_scope_errors

applies(domain) if not domain.described

applies(domain) if domain.app_network_access_type == "VpcOnly"

endpoints(region, vpc_id, service) := [e |
	some e in region.network.vpc_endpoints
	e.vpc_id == vpc_id
	e.service_name == sprintf("com.amazonaws.%s.%s", [region.region, service])
]

usable(e) if {
	e.state == "available"
	e.endpoint_type == "Gateway"
}

usable(e) if {
	e.state == "available"
	e.endpoint_type == "Interface"
	e.private_dns_enabled
}

# Why an endpoint does not serve Studio.
flaw(e) := sprintf("%s is %s", [e.vpc_endpoint_id, e.state]) if e.state != "available"

else := sprintf("%s has no private DNS", [e.vpc_endpoint_id]) if {
	e.endpoint_type == "Interface"
	not e.private_dns_enabled
}

else := sprintf("%s is a %s endpoint", [e.vpc_endpoint_id, e.endpoint_type])

missing(region, domain) := [m |
	some service in required
	found := endpoints(region, domain.vpc_id, service)
	not any_usable(found)
	m := {"service": service, "reason": reason(found)}
]

any_usable(found) if {
	some e in found
	usable(e)
}

reason(found) := "no endpoint" if count(found) == 0

else := concat("; ", [flaw(e) | some e in found])

verdict(account, region, domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its VPC is unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["ERROR", sprintf("domain %s: %s, so its VPC's endpoints are unknown", [domain.domain_id, lib.describe_errors(lib.scope_errors(account.account_id, region.region, operations))]), {}] if {
	lib.collection_failed(account.account_id, region.region, operations)
} else := ["FAIL", sprintf("VpcOnly domain %s: VPC %s lacks usable endpoints for %s", [domain.domain_id, domain.vpc_id, concat(", ", [m.service | some m in missing(region, domain)])]), {"vpc_id": domain.vpc_id, "missing_services": [m.service | some m in missing(region, domain)], "missing": missing(region, domain)}] if {
	count(missing(region, domain)) > 0
} else := ["PASS", sprintf("VpcOnly domain %s: VPC %s has endpoints for %s", [domain.domain_id, domain.vpc_id, concat(", ", required)]), {"vpc_id": domain.vpc_id}]
