package sma.checks.efs_orphaned_home_test

import data.sma.checks.efs_orphaned_home as check

run(s) := rs if {
	rs := check.results with input as s
}

# `domain_id` is what the snapshot's ownership rule decided for the tag.
fs(id, tag, size) := object.union(fs_untagged(id, tag, size), {"domain_id": owner(tag)})

fs_untagged(id, tag, size) := {"file_system_id": id, "arn": sprintf("arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/%s", [id]), "size_in_bytes": size, "number_of_mount_targets": 2, "creation_time": "2026-01-01T00:00:00Z", "tags": tag}

snapshot(systems, errors) := {"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-live"}], "efs_file_systems": systems}]}], "collection_errors": errors}

statuses(systems, errors) := {split(r.resource_arn, "/")[1]: r.status | some r in run(snapshot(systems, errors))}

owner(tag) := "d-gone" if tag == arn_tag("d-gone")
else := "d-live" if tag == arn_tag("d-live")
else := "d-gone2" if tag.ManagedByAmazonSageMakerResource == "d-gone2"
else := null

arn_tag(id) := {"ManagedByAmazonSageMakerResource": sprintf("arn:aws:sagemaker:us-east-1:123456789012:domain/%s", [id])}

test_orphan_fails_live_passes_untagged_ignored if {
	statuses([fs("fs-orphan", arn_tag("d-gone"), 0), fs("fs-live", arn_tag("d-live"), 0), fs("fs-other", {"Name": "x"}, 0), fs("fs-bare", {"ManagedByAmazonSageMakerResource": "d-gone2"}, 0)], []) == {"fs-orphan": "FAIL", "fs-live": "PASS", "fs-bare": "FAIL"}
}

test_evidence_has_size_and_cost if {
	rs := check.results with input as snapshot([fs("fs-orphan", arn_tag("d-gone"), 5368709120)], [])
	some r in rs
	r.evidence.size_in_bytes == 5368709120
	r.evidence.estimated_monthly_cost_usd == 1.5
	r.evidence.domain_id == "d-gone"
	r.evidence.mount_target_count == 2
	r.domain_id == "d-gone"
}

test_price_from_config if {
	rs := check.results with input as snapshot([fs("fs-orphan", arn_tag("d-gone"), 10737418240)], []) with data.config.efs_orphaned_home.price_per_gb_month as 0.16
	some r in rs
	r.evidence.estimated_monthly_cost_usd == 1.6
}

test_list_domains_failure_is_error_not_orphan if {
	errors := [{"account_id": "123456789012", "region": "us-east-1", "service": "sagemaker", "operation": "ListDomains", "error": "access_denied", "resource": null}]
	statuses([fs("fs-orphan", arn_tag("d-gone"), 0)], errors) == {"fs-orphan": "ERROR"}
}

test_unparsable_tag_is_error if statuses([fs("fs-x", {"ManagedByAmazonSageMakerResource": "something"}, 0)], []) == {"fs-x": "ERROR"}

test_each_storage_class_at_its_own_price if {
	gib := 1073741824
	split_fs := object.union(fs("fs-orphan", arn_tag("d-gone"), 130 * gib), {"size_in_standard_bytes": 10 * gib, "size_in_ia_bytes": 20 * gib, "size_in_archive_bytes": 100 * gib})
	rs := check.results with input as snapshot([split_fs], [])
	[r] := [x | some x in rs]
	# 10 x 0.30 + 20 x 0.025 + 100 x 0.008
	r.evidence.estimated_monthly_cost_usd == 4.3
	r.evidence.size_in_bytes_by_storage_class == {"standard": 10 * gib, "ia": 20 * gib, "archive": 100 * gib}
	r.evidence.price_per_gb_month == {"standard": 0.30, "ia": 0.025, "archive": 0.008}
}

test_class_prices_from_config if {
	gib := 1073741824
	split_fs := object.union(fs("fs-orphan", arn_tag("d-gone"), 10 * gib), {"size_in_standard_bytes": 0, "size_in_ia_bytes": 10 * gib, "size_in_archive_bytes": 0})
	rs := check.results with input as snapshot([split_fs], []) with data.config.efs_orphaned_home.ia_price_per_gb_month as 0.016
	[r] := [x | some x in rs]
	r.evidence.estimated_monthly_cost_usd == 0.16
}
