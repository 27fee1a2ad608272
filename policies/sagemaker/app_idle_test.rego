package sma.checks.app_idle_test

import data.sma.checks.app_idle as check

run(s) := rs if {
	rs := check.results with input as s
}

base := {"name": "a", "app_type": "KernelGateway", "arn": "arn:aws:sagemaker:us-east-1:123456789012:app/d-1/alice/kernelgateway/a", "user_profile_name": "alice", "status": "InService", "instance_type": "ml.t3.medium", "described": true, "creation_time": "2026-11-01T00:00:00Z", "last_user_activity_timestamp": null}

snapshot(extra) := {"finished_at": "2026-11-28T00:00:00Z", "accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [{"region": "us-east-1", "domains": [{"domain_id": "d-1", "apps": [object.union(base, extra)]}]}]}], "collection_errors": []}

only(extra) := r if [r] := [x | some x in run(snapshot(extra))]

test_idle_billed_app_fails if {
	r := only({"last_user_activity_timestamp": "2026-11-26T00:00:00Z"})
	r.status == "FAIL"
	r.evidence.hours_idle == 48
	r.evidence.instance_type == "ml.t3.medium"
}

test_recent_activity_passes if only({"last_user_activity_timestamp": "2026-11-27T12:00:00Z"}).status == "PASS"

test_no_activity_falls_back_to_creation_time if {
	r := only({})
	r.status == "FAIL"
	r.evidence.idle_since_field == "creation_time"
}

test_threshold_from_config if {
	r := only({"last_user_activity_timestamp": "2026-11-26T00:00:00Z"}) with data.config.app_idle.idle_hours as 72
	r.status == "PASS"
}

test_free_system_instance_passes if only({"instance_type": "system"}).status == "PASS"

test_no_instance_type_passes if only({"instance_type": null}).status == "PASS"

test_stopped_app_passes if only({"status": "Pending"}).status == "PASS"

test_deleted_app_is_not_a_resource if count(check.results) == 0 with input as snapshot({"status": "Deleted"})

test_undescribed_old_app_is_error_not_pass if only({"described": false}).status == "ERROR"

test_undescribed_young_app_passes if only({"described": false, "creation_time": "2026-11-27T20:00:00Z"}).status == "PASS"
