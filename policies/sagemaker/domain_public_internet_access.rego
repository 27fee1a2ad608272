package sma.checks.domain_public_internet_access

import data.sma.lib

metadata := {
	"id": "domain_public_internet_access",
	"title": "SageMaker domain gives its apps direct internet access",
	"severity": "high",
	"resource_type": "domain",
	"scope": "domain",
	"description": "With AppNetworkAccessType PublicInternetOnly (the default), Studio apps reach the internet directly: data can leave without passing the customer's VPC controls.",
	"remediation": "Set AppNetworkAccessType to VpcOnly (UpdateDomain with --app-network-access-type VpcOnly, apps stopped) after giving the VPC private subnets and the endpoints domain_vpconly_missing_endpoints lists.",
	"aws_config_rule": "sagemaker-domain-in-vpc",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html",
		"https://docs.aws.amazon.com/config/latest/developerguide/sagemaker-domain-in-vpc.html",
	],
}

results contains lib.domain_result(account, region, domain, verdict(domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}

results contains r if some r in lib.domain_scope_errors

# Absent means PublicInternetOnly.
mode(domain) := object.get(domain, "app_network_access_type", null) if object.get(domain, "app_network_access_type", null) != null

else := "PublicInternetOnly"

verdict(domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its network access type is unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["FAIL", sprintf("domain %s (%s) is PublicInternetOnly: its apps have direct internet access", [domain.domain_id, domain.name]), {"app_network_access_type": mode(domain), "vpc_id": domain.vpc_id}] if {
	mode(domain) == "PublicInternetOnly"
} else := ["PASS", sprintf("domain %s is %s", [domain.domain_id, mode(domain)]), {"app_network_access_type": mode(domain)}]
