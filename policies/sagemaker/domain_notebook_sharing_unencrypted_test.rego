package sma.checks.domain_notebook_sharing_unencrypted_test

import data.sma.checks.domain_notebook_sharing_unencrypted as check

shared := {"notebook_output_sharing": "Allowed", "notebook_output_s3_path": "s3://team/shared/"}

domain(settings, profiles) := {"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "default_user_settings": settings, "user_profiles": profiles}

results(d) := {r.resource_arn: r | some r in check.results with input as {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d]}]}], "collection_errors": []}}

dom := "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1"

prof := "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/ana"

test_allowed_without_key_fails if {
	r := results(domain(shared, []))[dom]
	r.status == "FAIL"
	r.evidence.s3_output_path == "s3://team/shared/"
}

test_allowed_with_key_passes if results(domain(object.union(shared, {"notebook_output_kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/k"}), []))[dom].status == "PASS"

test_disabled_passes if results(domain({"notebook_output_sharing": "Disabled"}, []))[dom].status == "PASS"

test_profile_own_settings_are_judged if {
	rs := results(domain({"notebook_output_sharing": "Disabled"}, [{"name": "ana", "arn": prof, "described": true, "user_settings": shared}]))
	rs[prof].status == "FAIL"
	rs[prof].resource_type == "user_profile"
	rs[dom].status == "PASS"
}

test_undescribed_is_error if results(domain(shared, [{"name": "ana", "arn": prof, "described": false}]))[prof].status == "ERROR"
