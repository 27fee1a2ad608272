package sma.checks.domain_security_group_open_ingress

import data.sma.lib

metadata := {
	"id": "domain_security_group_open_ingress",
	"title": "SageMaker domain uses a security group that admits ingress from any address",
	"severity": "high",
	"resource_type": "domain",
	"scope": "domain",
	"description": "A security group of the domain (DefaultUserSettings, DefaultSpaceSettings, any user profile's UserSettings, SecurityGroupIdForDomainBoundary or DomainSettings.SecurityGroupIds) allows ingress from 0.0.0.0/0 or ::/0. For a PublicInternetOnly domain that is the internet; for a VpcOnly domain it is anything routed into the VPC (peered VPCs, VPN, Direct Connect, transit gateways), not the internet: the apps' interfaces have no public address.",
	"remediation": "Remove the 0.0.0.0/0 and ::/0 ingress rules listed in the evidence (aws ec2 revoke-security-group-ingress), allowing only the VPC's own ranges or referenced groups.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-interface-endpoint.html",
	],
}

operations := ["DescribeSecurityGroups"]

results contains lib.domain_result(account, region, domain, verdict(account, region, domain, lib.domain_groups(domain))) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}

results contains r if some r in lib.domain_scope_errors

open_rules(region, used) := [o |
	group_ids := {g | some [g, _] in used}
	some group in region.network.security_groups
	group.group_id in group_ids
	some rule in group.ingress
	some cidr in array.concat(rule.ipv4_ranges, rule.ipv6_ranges)
	cidr in {"0.0.0.0/0", "::/0"}
	o := {
		"group_id": group.group_id,
		"group_name": group.group_name,
		"protocol": rule.ip_protocol,
		"from_port": rule.from_port,
		"to_port": rule.to_port,
		"cidr": cidr,
		"used_by": sort([u | some [g, u] in used; g == group.group_id]),
	}
]

undescribed_profiles(domain) := [p.name | some p in domain.user_profiles; not p.described]

verdict(account, region, domain, used) := ["ERROR", sprintf("DescribeDomain failed for %s: its security groups are unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["ERROR", sprintf("domain %s: %s, so its groups' rules are unknown", [domain.domain_id, lib.describe_errors(lib.scope_errors(account.account_id, region.region, operations))]), {}] if {
	lib.collection_failed(account.account_id, region.region, operations)
} else := ["FAIL", sprintf("domain %s uses security group(s) %s that admit ingress from %s", [domain.domain_id, concat(", ", {o.group_id | some o in open_rules(region, used)}), reach(domain)[1]]), {"open_ingress": open_rules(region, used), "reach": reach(domain)[0]}] if {
	count(open_rules(region, used)) > 0
} else := ["ERROR", sprintf("domain %s: user profile(s) %s could not be described, so their security groups are unknown", [domain.domain_id, concat(", ", undescribed_profiles(domain))]), {"undescribed_user_profiles": undescribed_profiles(domain)}] if {
	count(undescribed_profiles(domain)) > 0
} else := ["PASS", sprintf("domain %s: none of its %d security group(s) allows ingress from anywhere", [domain.domain_id, count({g | some [g, _] in used})]), {"security_groups": sort({g | some [g, _] in used})}]

# What "any address" means for this domain (CHECKS.md v2).
reach(domain) := ["anything_routed_into_the_vpc", "anything routed into its VPC (VpcOnly: not the internet)"] if {
	domain.app_network_access_type == "VpcOnly"
} else := ["internet", "the internet"]
