package sma.checks.execution_role_s3_wildcard_test

import data.sma.checks.execution_role_s3_wildcard as check
import data.sma.lib.fixtures as f

statuses(inline) := v if {
	v := f.statuses(check.results) with input as f.snapshot([f.role("r", [], inline, {})], {})
}

test_get_object_on_star_fails if statuses([f.document([f.allow("s3:GetObject", "*")])]) == {"r": "FAIL"}

test_put_object_on_all_buckets_fails if statuses([f.document([f.allow("s3:PutObject", "arn:aws:s3:::*")])]) == {"r": "FAIL"}

test_all_objects_of_all_buckets_fails if statuses([f.document([f.allow(["s3:*"], ["arn:aws:s3:::*/*"])])]) == {"r": "FAIL"}

test_one_bucket_passes if statuses([f.document([f.allow(["s3:GetObject", "s3:PutObject"], ["arn:aws:s3:::team-data/*"])])]) == {"r": "PASS"}

test_bucket_name_wildcard_passes if statuses([f.document([f.allow("s3:GetObject", "arn:aws:s3:::sagemaker-*/*")])]) == {"r": "PASS"}

test_list_bucket_on_star_passes if statuses([f.document([f.allow("s3:ListBucket", "*")])]) == {"r": "PASS"}

test_condition_passes if {
	st := object.union(f.allow("s3:GetObject", "*"), {"Condition": {"StringEquals": {"aws:ResourceAccount": "123456789012"}}})
	statuses([f.document([st])]) == {"r": "PASS"}
}

test_denying_one_action_leaves_the_other if {
	rs := check.results with input as f.snapshot([f.role("r", [], [f.document([f.allow(["s3:GetObject", "s3:PutObject"], "*"), f.deny("s3:PutObject", "*")])], {})], {})
	[r] := [x | some x in rs]
	r.status == "FAIL"
	r.evidence.actions == ["s3:GetObject"]
	r.evidence.limited_by["s3:PutObject"].reason == "explicit_deny"
}

test_denying_both_passes if statuses([f.document([f.allow("s3:*", "*"), f.deny("s3:*", "arn:aws:s3:::*")])]) == {"r": "PASS"}

test_boundary_to_one_bucket_passes if {
	b := "arn:aws:iam::123456789012:policy/boundary"
	role := f.bounded(f.role("r", [], [f.document([f.allow("s3:GetObject", "*")])], {}), b)
	v := f.statuses(check.results) with input as f.snapshot([role], f.boundary_policy(b, [f.allow("s3:*", "arn:aws:s3:::team/*")]))
	v == {"r": "PASS"}
}
