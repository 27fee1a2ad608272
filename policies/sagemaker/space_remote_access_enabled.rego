package sma.checks.space_remote_access_enabled

import data.sma.lib

metadata := {
	"id": "space_remote_access_enabled",
	"title": "SageMaker space lets a local IDE connect into it",
	"severity": "medium",
	"resource_type": "space",
	"scope": "domain",
	"description": "SpaceSettings.RemoteAccess is ENABLED: a user with sagemaker:StartSession on the space can connect a local Visual Studio Code into it and run as the space's execution role from their laptop, outside the controls of the Studio UI.",
	"remediation": "Set SpaceSettings.RemoteAccess to DISABLED (UpdateSpace) unless the team relies on it; where it does, restrict sagemaker:StartSession to the users who need it.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_SpaceSettings.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/remote-access.html",
	],
}

results contains r if {
	some account in input.accounts
	some region in account.regions
	some domain in region.domains
	some space in domain.spaces
	verdict := judge(space)
	r := {"resource_arn": space.arn, "status": verdict[0], "message": verdict[1], "evidence": verdict[2]}
}

results contains r if some r in lib.scope_error_results("space", "sagemaker", "space/", ["ListSpaces"])

judge(space) := ["ERROR", sprintf("DescribeSpace failed for space %s: its remote access setting is unknown", [space.name]), {}] if {
	not space.described
} else := ["FAIL", sprintf("space %s of domain %s has RemoteAccess ENABLED", [space.name, space.domain_id]), {"remote_access": "ENABLED", "owner_user_profile_name": object.get(space, "owner_user_profile_name", null), "sharing_type": object.get(space, "sharing_type", null)}] if {
	object.get(space, "remote_access", null) == "ENABLED"
} else := ["PASS", sprintf("space %s: remote access is not enabled", [space.name]), {"remote_access": object.get(space, "remote_access", null)}]
