package sma.checks.domain_notebook_sharing_unencrypted

import data.sma.lib

metadata := {
	"id": "domain_notebook_sharing_unencrypted",
	"title": "SageMaker domain or user profile shares notebook output to S3 without a customer managed key",
	"severity": "low",
	"resource_type": "domain",
	"scope": "domain",
	"description": "SharingSettings.NotebookOutputOption is Allowed and S3KmsKeyId is empty: notebooks shared from Studio, with their cell output (which often holds data), land in S3OutputPath encrypted only with the bucket's default key, not with a key whose policy you control. The domain is judged on DefaultUserSettings, a profile on its own UserSettings.",
	"remediation": "Set SharingSettings.S3KmsKeyId to a customer managed KMS key (UpdateDomain DefaultUserSettings / UpdateUserProfile UserSettings), or NotebookOutputOption=Disabled.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_SharingSettings.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/notebooks-sharing.html",
	],
}

results := array.concat(
	array.concat(
		[lib.domain_result(account, region, domain, domain_verdict(domain)) |
			some account in input.accounts
			some region in account.regions
			some domain in region.domains
		],
		[r | some r in lib.domain_scope_errors],
	),
	[profile_result(profile) |
		some account in input.accounts
		some region in account.regions
		some domain in region.domains
		some profile in domain.user_profiles
	],
)

unencrypted(settings) if {
	is_object(settings)
	object.get(settings, "notebook_output_sharing", null) == "Allowed"
	object.get(settings, "notebook_output_kms_key_id", null) in {null, ""}
}

evidence(settings) := {"notebook_output_option": "Allowed", "s3_output_path": object.get(settings, "notebook_output_s3_path", null), "s3_kms_key_id": null}

domain_verdict(domain) := ["ERROR", sprintf("DescribeDomain failed for %s: its sharing settings are unknown", [domain.domain_id]), {}] if {
	not domain.described
} else := ["FAIL", sprintf("domain %s shares notebook output to %v without a KMS key", [domain.domain_id, evidence(settings).s3_output_path]), evidence(settings)] if {
	settings := object.get(domain, "default_user_settings", null)
	unencrypted(settings)
} else := ["PASS", sprintf("domain %s: notebook sharing is disabled or encrypted with a customer key", [domain.domain_id]), {}]

# A profile's own sharing settings (a profile without them is judged on the domain's). Its
# result is built here, not from a verdict helper: one function call less per profile.
profile_result(profile) := profile_row(profile, "ERROR", sprintf("DescribeUserProfile failed for %s: its sharing settings are unknown", [profile.name]), {}) if {
	not profile.described
} else := profile_row(profile, "FAIL", sprintf("user profile %s shares notebook output to %v without a KMS key", [profile.name, evidence(settings).s3_output_path]), evidence(settings)) if {
	settings := object.get(profile, "user_settings", null)
	unencrypted(settings)
} else := {"resource_type": "user_profile", "resource_arn": profile.arn, "status": "PASS", "message": sprintf("user profile %s sets no unencrypted sharing of its own", [profile.name]), "evidence": {}}

profile_row(profile, status, message, evidence) := {"resource_type": "user_profile", "resource_arn": profile.arn, "status": status, "message": message, "evidence": evidence}
