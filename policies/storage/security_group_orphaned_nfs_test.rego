package sma.checks.security_group_orphaned_nfs_test

import data.sma.checks.security_group_orphaned_nfs as check

run(s) := rs if {
	rs := check.results with input as s
}

# `domain_id` is what the snapshot's ownership rule decides from the name.
group(id, name, refs) := object.union(group_unowned(id, name, refs), {"domain_id": owner(name)})

owner(name) := trim_prefix(trim_prefix(name, "security-group-for-inbound-nfs-"), "security-group-for-outbound-nfs-") if startswith(name, "security-group-for-")
else := null

group_unowned(id, name, refs) := {"group_id": id, "group_name": name, "vpc_id": "vpc-1", "arn": sprintf("arn:aws:ec2:us-east-1:123456789012:security-group/%s", [id]), "ingress": [{"ip_protocol": "tcp", "from_port": 2049, "to_port": 2049, "ipv4_ranges": [], "ipv6_ranges": [], "referenced_group_ids": refs, "prefix_list_ids": []}], "egress": []}

snapshot(groups, errors) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-live"}], "network": {"security_groups": groups}}]}], "collection_errors": errors}

statuses(groups, errors) := {split(r.resource_arn, "/")[1]: r.status | some r in run(snapshot(groups, errors))}

test_orphaned_pair_fails_live_passes_others_ignored if {
	groups := [
		group("sg-in", "security-group-for-inbound-nfs-d-gone", ["sg-out"]),
		group("sg-out", "security-group-for-outbound-nfs-d-gone", ["sg-in"]),
		group("sg-live", "security-group-for-inbound-nfs-d-live", []),
		group("sg-app", "my-app", []),
	]
	statuses(groups, []) == {"sg-in": "FAIL", "sg-out": "FAIL", "sg-live": "PASS"}
}

test_evidence_names_references if {
	rs := check.results with input as snapshot([group("sg-in", "security-group-for-inbound-nfs-d-gone", ["sg-out"])], [])
	some r in rs
	r.evidence.referenced_group_ids == ["sg-out"]
	r.evidence.domain_id == "d-gone"
}

test_list_domains_failure_is_error if {
	errors := [{"account_id": "123456789012", "region": "us-east-1", "service": "sagemaker", "operation": "ListDomains", "error": "throttling", "resource": null}]
	statuses([group("sg-in", "security-group-for-inbound-nfs-d-gone", [])], errors) == {"sg-in": "ERROR"}
}
