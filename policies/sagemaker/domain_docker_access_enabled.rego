package sma.checks.domain_docker_access_enabled

import data.sma.lib

metadata := {
	"id": "domain_docker_access_enabled",
	"title": "SageMaker domain lets Studio users run Docker",
	"severity": "low",
	"resource_type": "domain",
	"scope": "domain",
	"description": "DomainSettings.DockerSettings.EnableDockerAccess is ENABLED: Studio users can build and run containers, pull images from the registries the network allows and, in VpcOnly mode, from the accounts in VpcOnlyTrustedAccounts. Often intended; a security review should know.",
	"remediation": "If the domain's users do not build images, UpdateDomain --domain-settings-for-update DockerSettings={EnableDockerAccess=DISABLED}; otherwise keep VpcOnlyTrustedAccounts to your own accounts.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DockerSettings.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-local.html",
	],
}

results contains lib.domain_result(account, region, domain, verdict(domain)) if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
}

results contains r if some r in lib.domain_scope_errors

verdict(domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its Docker settings are unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["FAIL", sprintf("domain %s lets its users run Docker", [domain.domain_id]), {"enable_docker_access": "ENABLED", "vpc_only_trusted_accounts": object.get(domain, "docker_vpc_only_trusted_accounts", [])}] if {
	object.get(domain, "docker_access", null) == "ENABLED"
} else := ["PASS", sprintf("domain %s: Docker access is not enabled", [domain.domain_id]), {"enable_docker_access": object.get(domain, "docker_access", null)}]
