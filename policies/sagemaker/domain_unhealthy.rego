package sma.checks.domain_unhealthy

import data.sma.lib

metadata := {
	"id": "domain_unhealthy",
	"title": "SageMaker domain is in a failed state",
	"severity": "medium",
	"resource_type": "domain",
	"scope": "domain",
	"description": "A domain in Failed, Update_Failed or Delete_Failed cannot be used or changed as intended, and a failed deletion leaves billed resources behind.",
	"remediation": "Read FailureReason (evidence), fix its cause (often a missing permission, subnet or security group), then retry the update or deletion; `sagemaker-auditor teardown-plan` lists what blocks a deletion.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeDomain.html",
	],
}

results contains lib.domain_result(account, region, domain, verdict(domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}

results contains r if some r in lib.domain_scope_errors

verdict(domain) := ["FAIL", sprintf("domain %s is %s: %s", [domain.domain_id, domain.status, reason(domain)]), {"status": domain.status, "failure_reason": object.get(domain, "failure_reason", null)}] if {
	domain.status in lib.failed_statuses
} else := ["PASS", sprintf("domain %s is %s", [domain.domain_id, domain.status]), {"status": domain.status}]

reason(domain) := r if {
	r := object.get(domain, "failure_reason", null)
	r != null
} else := "no failure reason recorded"
