package sma.checks.space_unhealthy

import data.sma.lib

metadata := {
	"id": "space_unhealthy",
	"title": "SageMaker space is in a failed state",
	"severity": "low",
	"resource_type": "space",
	"scope": "domain",
	"description": "A space in Failed, Update_Failed or Delete_Failed cannot run its apps as configured, and one that failed to delete stays in the domain.",
	"remediation": "Read FailureReason (evidence), fix its cause (often the EFS mount, a security group or the space's storage), then retry UpdateSpace or DeleteSpace.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeSpace.html",
	],
}

results contains {"resource_arn": space.arn, "status": "PASS", "message": space.status} if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some space in domain.spaces
	not space.status in lib.failed_statuses
}

results contains r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some space in domain.spaces
	space.status in lib.failed_statuses
	reason := object.get(space, "failure_reason", null)
	r := {
		"resource_arn": space.arn,
		"status": "FAIL",
		"message": sprintf("space %s of domain %s is %s: %v", [space.name, domain.domain_id, space.status, reason]),
		"evidence": {"status": space.status, "failure_reason": reason},
	}
}

results contains r if some r in lib.scope_error_results("space", "sagemaker", "space/", ["ListSpaces"])
