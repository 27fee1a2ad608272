package sma.checks.domain_no_customer_managed_key

import data.sma.lib

metadata := {
	"id": "domain_no_customer_managed_key",
	"title": "SageMaker domain encrypts its home EFS and volumes with an AWS managed key",
	"severity": "low",
	"resource_type": "domain",
	"scope": "domain",
	"description": "Without KmsKeyId the domain's home EFS and app storage volumes are encrypted with an AWS managed key: its use is auditable in CloudTrail, but its key policy is not yours to restrict and you cannot revoke or rotate it on your schedule.",
	"remediation": "KmsKeyId can only be set when a domain is created: create a replacement domain with --kms-key-id <customer managed key> and move users to it.",
	"references": [
		"https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sagemaker-domain.html",
	],
}

results contains lib.domain_result(account, region, domain, verdict(domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}

results contains r if some r in lib.domain_scope_errors

key(domain) := object.get(domain, "kms_key_id", null)

verdict(domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its KMS key is unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["FAIL", sprintf("domain %s has no customer managed KMS key: its home EFS %s uses an AWS managed key", [domain.domain_id, object.get(domain, "home_efs_file_system_id", "?")]), {"kms_key_id": null, "home_efs_file_system_id": object.get(domain, "home_efs_file_system_id", null)}] if {
	key(domain) in {null, ""}
} else := ["PASS", sprintf("domain %s uses KMS key %s", [domain.domain_id, key(domain)]), {"kms_key_id": key(domain)}]
