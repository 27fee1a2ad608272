package sma.checks.domain_security_group_open_ingress_test

import data.sma.checks.domain_security_group_open_ingress as check

run(s) := rs if {
	rs := check.results with input as s
}

rule(cidrs, v6) := {"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "ipv4_ranges": cidrs, "ipv6_ranges": v6, "referenced_group_ids": [], "prefix_list_ids": []}

groups := [
	{"group_id": "sg-closed", "group_name": "closed", "ingress": [rule(["10.0.0.0/16"], [])], "egress": []},
	{"group_id": "sg-open", "group_name": "open", "ingress": [rule(["0.0.0.0/0"], [])], "egress": []},
	{"group_id": "sg-open6", "group_name": "open6", "ingress": [rule([], ["::/0"])], "egress": []},
]

domain(extra) := object.union({"domain_id": "d-1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1", "described": true, "default_user_settings": {"security_groups": ["sg-closed"]}, "default_space_settings": null, "security_group_id_for_domain_boundary": null, "user_profiles": []}, extra)

snapshot(d) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [d], "network": {"security_groups": groups}}]}], "collection_errors": []}

only(d) := r if [r] := [x | some x in run(snapshot(d))]

test_closed_groups_pass if only(domain({})).status == "PASS"

test_open_default_group_fails if {
	r := only(domain({"default_user_settings": {"security_groups": ["sg-open"]}}))
	r.status == "FAIL"
	r.evidence.open_ingress == [{"group_id": "sg-open", "group_name": "open", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0", "used_by": ["DefaultUserSettings"]}]
}

test_open_ipv6_in_profile_fails if {
	r := only(domain({"user_profiles": [{"name": "bob", "described": true, "user_settings": {"security_groups": ["sg-open6"]}}]}))
	r.status == "FAIL"
	r.evidence.open_ingress[0].used_by == ["user profile bob"]
}

test_open_boundary_group_fails if only(domain({"security_group_id_for_domain_boundary": "sg-open"})).status == "FAIL"

test_open_space_default_fails if only(domain({"default_space_settings": {"security_groups": ["sg-open"]}})).status == "FAIL"

test_undescribed_profile_is_error if only(domain({"user_profiles": [{"name": "bob", "described": false, "user_settings": null}]})).status == "ERROR"
