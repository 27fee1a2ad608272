package sma.checks.security_group_orphaned_nfs

import data.sma.lib

metadata := {
	"id": "security_group_orphaned_nfs",
	"title": "SageMaker NFS security group outlives its domain",
	"severity": "low",
	"resource_type": "security_group",
	"scope": "account",
	"description": "SageMaker creates security-group-for-inbound-nfs-<domain-id> and security-group-for-outbound-nfs-<domain-id> for the home EFS. They reference each other and survive DeleteDomain, blocking the VPC's deletion.",
	"remediation": "Delete the file system's mount targets first, revoke the two groups' rules that reference each other, then delete both groups (aws ec2 revoke-security-group-ingress/egress, aws ec2 delete-security-group); `sagemaker-auditor teardown-plan` lists the steps.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteDomain.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-and-internet-access.html",
	],
}

domain_operations := ["ListDomains"]

results contains r if {
	some account in input.accounts
	some region in account.regions
	some group in region.network.security_groups
	# The domain the snapshot says the group belongs to, by its name.
	domain_id := group.domain_id
	is_string(domain_id)
	verdict := judge(account, region, group, domain_id)
	r := {
		"resource_type": "security_group",
		"resource_arn": group.arn,
		"account_id": account.account_id,
		"region": region.region,
		"domain_id": domain_id,
		"status": verdict[0],
		"message": verdict[1],
		"evidence": object.union({"group_id": group.group_id, "group_name": group.group_name, "vpc_id": object.get(group, "vpc_id", null), "domain_id": domain_id}, verdict[2]),
	}
}

results contains r if some r in lib.scope_error_results("security_group", "ec2", "security-group/", ["DescribeSecurityGroups"])

exists(region, id) if {
	some d in region.domains
	d.domain_id == id
}

references(group) := sort({g |
	some rule in array.concat(group.ingress, group.egress)
	some g in rule.referenced_group_ids
})

judge(account, region, group, domain_id) := ["ERROR", sprintf("security group %s belongs to domain %s, but %s", [group.group_id, domain_id, lib.describe_errors(lib.scope_errors(account.account_id, region.region, domain_operations))]), {}] if {
	lib.collection_failed(account.account_id, region.region, domain_operations)
} else := ["FAIL", sprintf("security group %s (%s) belongs to domain %s, which no longer exists", [group.group_id, group.group_name, domain_id]), {"referenced_group_ids": references(group)}] if {
	not exists(region, domain_id)
} else := ["PASS", sprintf("security group %s belongs to domain %s, which exists", [group.group_id, domain_id]), {}]
