package sma.checks.domain_idle_shutdown_disabled_test

import data.sma.checks.domain_idle_shutdown_disabled as check

on := {"lifecycle_management": "ENABLED", "idle_timeout_in_minutes": 60}

off := {"lifecycle_management": "DISABLED"}

domain(user, space, profiles) := {"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "default_user_settings": user, "default_space_settings": space, "user_profiles": profiles}

snapshot(d) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d]}]}], "collection_errors": []}

by_type(d) := {r.resource_type: r | some r in check.results with input as snapshot(d)}

everywhere := domain({"jupyter_lab_idle": on, "code_editor_idle": on}, {"jupyter_lab_idle": on}, [])

test_enabled_everywhere_passes if {
	r := by_type(everywhere).domain
	r.status == "PASS"
	r.evidence.idle_timeout_in_minutes["DefaultUserSettings.JupyterLab"] == 60
}

test_unset_code_editor_fails if {
	r := by_type(domain({"jupyter_lab_idle": on}, {"jupyter_lab_idle": on}, [])).domain
	r.status == "FAIL"
	r.evidence.not_enabled == [{"settings": "DefaultUserSettings", "app_type": "CodeEditor", "lifecycle_management": null, "idle_timeout_in_minutes": null}]
}

test_space_defaults_count if {
	r := by_type(domain({"jupyter_lab_idle": on, "code_editor_idle": on}, {"jupyter_lab_idle": off}, [])).domain
	r.status == "FAIL"
	r.evidence.not_enabled[0].settings == "DefaultSpaceSettings"
}

test_no_settings_at_all_fails if count(by_type(domain(null, null, [])).domain.evidence.not_enabled) == 3

profile(name, settings) := {"name": name, "arn": sprintf("arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/%s", [name]), "described": true, "user_settings": settings}

test_profile_disabling_it_fails if {
	d := object.union(everywhere, {"user_profiles": [profile("ana", {"code_editor_idle": off})]})
	r := by_type(d).user_profile
	r.status == "FAIL"
	r.evidence.disabled[0].app_type == "CodeEditor"
}

test_profile_inheriting_passes if {
	d := object.union(everywhere, {"user_profiles": [profile("ana", null), profile("bo", {"jupyter_lab_idle": on})]})
	statuses := {r.status | some r in check.results} with input as snapshot(d)
	statuses == {"PASS"}
}

test_undescribed_is_error if {
	d := object.union(everywhere, {"described": false, "user_profiles": [object.union(profile("ana", null), {"described": false})]})
	statuses := {r.status | some r in check.results} with input as snapshot(d)
	statuses == {"ERROR"}
}
