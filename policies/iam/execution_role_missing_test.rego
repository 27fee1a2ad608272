package sma.checks.execution_role_missing_test

import data.sma.checks.execution_role_missing as check

run(s) := rs if {
	rs := check.results with input as s
}

arn(name) := sprintf("arn:aws:iam::123456789012:role/%s", [name])

profile(name, role, described) := {
	"name": name,
	"arn": sprintf("arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/%s", [name]),
	"described": described,
	"user_settings": {true: {"execution_role": role}, false: null}[role != null],
}

domain(default_role, profiles) := {
	"domain_id": "d-1",
	"arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1",
	"described": true,
	"default_user_settings": {"execution_role": default_role},
	"default_space_settings": null,
	"user_profiles": profiles,
}

states := [
	{"arn": arn("exists"), "state": "found", "bindings": []},
	{"arn": arn("gone"), "state": "missing", "bindings": []},
	{"arn": "arn:aws:iam::999999999999:role/x", "state": "cross_account", "bindings": []},
]

snapshot(d) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d]}], "execution_roles": states}], "collection_errors": []}

by_name(d) := {split(r.resource_arn, "/")[count(split(r.resource_arn, "/")) - 1]: r.status | some r in run(snapshot(d))}

test_missing_default_fails_domain_and_lists_inheritors if {
	d := domain(arn("gone"), [profile("alice", null, true), profile("bob", arn("exists"), true)])
	by_name(d) == {"d-1": "FAIL", "bob": "PASS"}
	rs := check.results with input as snapshot(d)
	some r in rs
	r.resource_type == "domain"
	r.evidence.user_profiles_inheriting_default == ["alice"]
	r.evidence.missing_roles == [{"setting": "DefaultUserSettings.ExecutionRole", "role_arn": arn("gone")}]
}

test_profile_with_missing_own_role_fails if {
	by_name(domain(arn("exists"), [profile("carol", arn("gone"), true)])) == {"d-1": "PASS", "carol": "FAIL"}
}

test_undescribed_profile_is_error if by_name(domain(arn("exists"), [profile("dave", null, false)])) == {"d-1": "PASS", "dave": "ERROR"}

test_cross_account_role_is_error if by_name(domain("arn:aws:iam::999999999999:role/x", [])) == {"d-1": "ERROR"}

test_existing_roles_pass if by_name(domain(arn("exists"), [profile("erin", null, true)])) == {"d-1": "PASS"}

app_role(kind, setting, arn) := {"kind": kind, "setting": setting, "role_arn": arn}

v2_snapshot(domain, notebooks, roles) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [domain], "notebook_instances": notebooks}], "execution_roles": roles}], "collection_errors": []}

gone := "arn:aws:iam::123456789012:role/gone"

here := "arn:aws:iam::123456789012:role/here"

v2_results(domain, notebooks) := rs if {
	s := v2_snapshot(domain, notebooks, [{"arn": gone, "state": "missing", "bindings": []}, {"arn": here, "state": "found", "bindings": []}])
	rs := {r.resource_arn: r | some r in check.results} with input as s
}

v2_domain(default_settings, profiles) := {"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "default_user_settings": default_settings, "user_profiles": profiles}

test_canvas_role_of_the_domain_defaults_counts if {
	rs := v2_results(v2_domain({"execution_role": here, "app_roles": [app_role("canvas", "CanvasAppSettings.GenerativeAiSettings.AmazonBedrockRoleArn", gone)]}, []), [])
	r := rs["arn:aws:sagemaker:us-east-1:123456789012:domain/d-1"]
	r.status == "FAIL"
	r.evidence.missing_roles == [{"setting": "DefaultUserSettings.CanvasAppSettings.GenerativeAiSettings.AmazonBedrockRoleArn", "role_arn": gone}]
}

test_emr_role_of_a_profile_counts if {
	p := {"name": "ana", "arn": "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/ana", "described": true, "user_settings": {"app_roles": [app_role("emr", "JupyterLabAppSettings.EmrSettings.AssumableRoleArns", gone)]}}
	rs := v2_results(v2_domain({"execution_role": here}, [p]), [])
	rs[p.arn].status == "FAIL"
	rs[p.arn].evidence.missing_roles[0].setting == "UserSettings.JupyterLabAppSettings.EmrSettings.AssumableRoleArns"
}

test_notebook_instance_role_counts if {
	nb := {"name": "nb", "arn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/nb", "described": true, "role_arn": gone}
	ok := {"name": "ok", "arn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/ok", "described": true, "role_arn": here}
	unknown := {"name": "unknown", "arn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/unknown", "described": false}
	rs := v2_results(v2_domain({"execution_role": here}, []), [nb, ok, unknown])
	rs[nb.arn].status == "FAIL"
	rs[nb.arn].resource_type == "notebook_instance"
	rs[ok.arn].status == "PASS"
	rs[unknown.arn].status == "ERROR"
}
