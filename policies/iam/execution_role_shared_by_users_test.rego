package sma.checks.execution_role_shared_by_users_test

import data.sma.checks.execution_role_shared_by_users as check

run(s) := rs if {
	rs := check.results with input as s
}

binding(region, domain, name, inherited) := {"region": region, "domain_id": domain, "kind": "user_profile", "user_profile_name": name, "inherited": inherited}

role(name, bindings) := {"arn": sprintf("arn:aws:iam::123456789012:role/%s", [name]), "state": "found", "bindings": bindings, "role": {}}

domain_default := {"region": "us-east-1", "domain_id": "d-1", "kind": "domain_default", "user_profile_name": null, "inherited": false}

snapshot(roles, profiles) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-1", "described": true, "user_profiles": profiles}]}], "execution_roles": roles}], "collection_errors": []}

statuses(roles, profiles) := {split(r.resource_arn, "/")[1]: r.status | some r in run(snapshot(roles, profiles))}

test_two_profiles_across_domains_and_regions_fail if {
	shared := role("shared", [domain_default, binding("us-east-1", "d-1", "alice", true), binding("eu-west-1", "d-9", "bob", false)])
	statuses([shared], []) == {"shared": "FAIL"}
	rs := check.results with input as snapshot([shared], [])
	some r in rs
	r.evidence.user_profiles == ["eu-west-1/d-9/bob", "us-east-1/d-1/alice"]
}

test_one_profile_passes if statuses([role("own", [domain_default, binding("us-east-1", "d-1", "alice", false)])], []) == {"own": "PASS"}

test_domain_default_alone_passes if statuses([role("default", [domain_default])], []) == {"default": "PASS"}

test_threshold_from_config if {
	shared := role("shared", [binding("us-east-1", "d-1", "alice", true), binding("us-east-1", "d-1", "bob", true)])
	statuses([shared], []) == {"shared": "PASS"} with data.config.execution_role_shared_by_users.max_user_profiles as 2
}

test_unknown_profile_role_is_error_not_pass if {
	statuses([role("own", [binding("us-east-1", "d-1", "alice", false)])], [{"arn": "p", "described": false}]) == {"own": "ERROR"}
}
