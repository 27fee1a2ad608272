package sma.checks.app_long_running_test

import data.sma.checks.app_long_running as check

run(s) := rs if {
	rs := check.results with input as s
}

base := {"name": "a", "app_type": "KernelGateway", "arn": "arn:aws:sagemaker:us-east-1:123456789012:app/d-1/alice/kernelgateway/a", "user_profile_name": "alice", "status": "InService", "instance_type": "ml.t3.medium", "described": false, "creation_time": "2026-11-23T00:00:00Z"}

snapshot(extra) := {"finished_at": "2026-11-28T00:00:00Z", "accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-1", "apps": [object.union(base, extra)]}]}]}], "collection_errors": []}

only(extra) := r if [r] := [x | some x in run(snapshot(extra))]

test_five_day_old_billed_app_fails if {
	r := only({})
	r.status == "FAIL"
	r.evidence.hours_running == 120
	r.evidence.instance_type == "ml.t3.medium"
	r.evidence.owner == "user profile alice"
}

# The health-check-refreshed activity timestamp ("now") changes nothing: it is not read.
test_fresh_activity_timestamp_does_not_hide_it if only({"last_user_activity_timestamp": "2026-11-27T23:59:00Z"}).status == "FAIL"

test_young_app_passes if only({"creation_time": "2026-11-26T00:00:00Z"}).status == "PASS"

test_edge_is_strictly_older if only({"creation_time": "2026-11-25T00:00:00Z"}).status == "PASS"

test_threshold_from_config if {
	r := only({}) with data.config.app_long_running.max_hours as 200
	r.status == "PASS"
}

test_free_system_instance_passes if only({"instance_type": "system"}).status == "PASS"

test_no_instance_type_passes if only({"instance_type": null}).status == "PASS"

test_stopped_app_passes if only({"status": "Pending"}).status == "PASS"

test_deleted_app_is_not_a_resource if count(check.results) == 0 with input as snapshot({"status": "Deleted"})

test_unknown_creation_time_is_error if only({"creation_time": null}).status == "ERROR"

test_space_app_names_the_space if only({"user_profile_name": null, "space_name": "team"}).evidence.owner == "space team"

test_failed_listing_is_error if {
	s := object.union(snapshot({}), {"collection_errors": [{"account_id": "123456789012", "region": "us-east-1", "service": "sagemaker", "operation": "ListApps", "error": "throttling"}]})
	some r in run(s)
	r.status == "ERROR"
	endswith(r.resource_arn, "app/*")
}
