package sma.checks.domain_user_identity_not_propagated

import data.sma.lib

metadata := {
	"id": "domain_user_identity_not_propagated",
	"title": "SageMaker domain does not tell CloudTrail which user made a call",
	"severity": "low",
	"resource_type": "domain",
	"scope": "domain",
	"description": "DomainSettings.ExecutionRoleIdentityConfig is not USER_PROFILE_NAME (absent means DISABLED): calls from Studio apps run as the execution role with no source identity, so in CloudTrail every user of a shared role looks the same and attribution cannot name the person.",
	"remediation": "UpdateDomain --domain-settings-for-update ExecutionRoleIdentityConfig=USER_PROFILE_NAME; the execution roles' trust policies must then allow sts:SetSourceIdentity for sagemaker.amazonaws.com.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DomainSettings.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/monitor-user-access.html",
	],
}

results contains lib.domain_result(account, region, domain, verdict(domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}

results contains r if some r in lib.domain_scope_errors

verdict(domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its domain settings are unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["PASS", sprintf("domain %s sets the user profile name as source identity", [domain.domain_id]), {"execution_role_identity_config": "USER_PROFILE_NAME"}] if {
	object.get(domain, "execution_role_identity_config", null) == "USER_PROFILE_NAME"
} else := ["FAIL", sprintf("domain %s: ExecutionRoleIdentityConfig is %v, so CloudTrail cannot tell its users apart", [domain.domain_id, setting]), {"execution_role_identity_config": setting}] if {
	setting := object.get(domain, "execution_role_identity_config", null)
}
