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
