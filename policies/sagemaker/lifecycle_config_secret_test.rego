package sma.checks.lifecycle_config_secret_test

import data.sma.checks.lifecycle_config_secret as check

config(kind, scripts) := {"name": "setup", "arn": sprintf("arn:aws:sagemaker:us-east-1:123456789012:%s/setup", [kind]), "kind": replace(kind, "-", "_"), "described": true, "scripts": scripts}

snapshot(configs, errors) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [], "lifecycle_configs": configs}]}], "collection_errors": errors}

only(c) := r if [r] := [x | some x in check.results with input as snapshot([c], [])]

test_studio_secret_fails_with_line_not_value if {
	r := only(config("studio-lifecycle-config", [{"hook": "content", "text": "export AWS_ACCESS_KEY_ID=<redacted:aws_access_key_id>", "secrets": [{"line": 3, "kind": "aws_access_key_id"}]}]))
	r.status == "FAIL"
	r.resource_type == "studio_lifecycle_config"
	r.evidence.secrets == [{"script": "content", "line": 3, "kind": "aws_access_key_id"}]
	not contains(json.marshal(r), "AKIA")
}

test_notebook_hooks_are_named if {
	r := only(config("notebook-instance-lifecycle-config", [{"hook": "on_create", "text": "", "secrets": []}, {"hook": "on_start", "text": "x", "secrets": [{"line": 1, "kind": "private_key"}]}]))
	r.resource_type == "notebook_instance_lifecycle_config"
	r.evidence.secrets == [{"script": "on_start", "line": 1, "kind": "private_key"}]
}

test_clean_script_passes if only(config("studio-lifecycle-config", [{"hook": "content", "text": "pip install x", "secrets": []}])).status == "PASS"

test_undecodable_script_is_error if only(config("studio-lifecycle-config", [{"hook": "content", "text": null, "secrets": []}])).status == "ERROR"

test_undescribed_is_error if only(object.union(config("studio-lifecycle-config", []), {"described": false})).status == "ERROR"

test_failed_listing_is_error if {
	rs := check.results with input as snapshot([], [{"account_id": "123456789012", "region": "us-east-1", "service": "sagemaker", "operation": "ListNotebookInstanceLifecycleConfigs", "error": "access_denied"}])
	[r] := [x | some x in rs]
	r.status == "ERROR"
	r.resource_type == "notebook_instance_lifecycle_config"
}
