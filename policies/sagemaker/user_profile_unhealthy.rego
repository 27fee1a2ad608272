package sma.checks.user_profile_unhealthy

import data.sma.lib

metadata := {
	"id": "user_profile_unhealthy",
	"title": "SageMaker user profile is in a failed state",
	"severity": "low",
	"resource_type": "user_profile",
	"scope": "domain",
	"description": "A profile in Failed, Update_Failed or Delete_Failed cannot launch apps as configured, and one that failed to delete blocks the domain's deletion.",
	"remediation": "Read FailureReason (evidence), fix its cause (typically the execution role or a security group), then retry UpdateUserProfile or DeleteUserProfile.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeUserProfile.html",
	],
}

results := array.concat(
	[result(domain, profile) |
		some account in input.accounts
		some region in account.regions
		some domain in region.domains
		some profile in domain.user_profiles
	],
	[r | some r in lib.scope_error_results("user_profile", "sagemaker", "user-profile/", ["ListUserProfiles"])],
)

result(domain, profile) := {"resource_arn": profile.arn, "status": "PASS", "message": profile.status} if {
	not profile.status in lib.failed_statuses
} else := {
	"resource_arn": profile.arn,
	"status": "FAIL",
	"message": sprintf("user profile %s of domain %s is %s: %s", [profile.name, domain.domain_id, profile.status, object.get(profile, "failure_reason", null)]),
	"evidence": {"status": profile.status, "failure_reason": object.get(profile, "failure_reason", null)},
}
