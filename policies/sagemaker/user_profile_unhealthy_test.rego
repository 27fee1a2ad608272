package sma.checks.user_profile_unhealthy_test

import data.sma.checks.user_profile_unhealthy as check

run(s) := rs if {
	rs := check.results with input as s
}

profile(name, status) := {"name": name, "arn": sprintf("arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/%s", [name]), "status": status, "failure_reason": "role gone"}

snapshot(profiles, errors) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-1", "user_profiles": profiles}]}]}], "collection_errors": errors}

by_arn(s) := {r.resource_arn: r.status | some r in run(s)}

test_failed_profiles_fail_healthy_pass if {
	got := by_arn(snapshot([profile("a", "Update_Failed"), profile("b", "InService"), profile("c", "Failed"), profile("d", "Delete_Failed")], []))
	got == {
		"arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/a": "FAIL",
		"arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/b": "PASS",
		"arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/c": "FAIL",
		"arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/d": "FAIL",
	}
}

test_list_failure_is_error if {
	got := by_arn(snapshot([], [{"account_id": "123456789012", "region": "us-east-1", "service": "sagemaker", "operation": "ListUserProfiles", "error": "throttling", "resource": null}]))
	got == {"arn:aws:sagemaker:us-east-1:123456789012:user-profile/*": "ERROR"}
}
