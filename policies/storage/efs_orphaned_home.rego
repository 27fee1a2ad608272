package sma.checks.efs_orphaned_home

import data.sma.lib

metadata := {
	"id": "efs_orphaned_home",
	"title": "SageMaker home EFS outlives its domain",
	"severity": "medium",
	"resource_type": "efs_file_system",
	"scope": "account",
	"description": "DeleteDomain retains the home EFS by default (RetentionPolicy HomeEfsFileSystem=Retain). A file system tagged ManagedByAmazonSageMakerResource whose domain no longer exists keeps costing money and keeps its mount targets and NFS security groups in the VPC.",
	"remediation": "Back up what users still need, then delete its mount targets and the file system (aws efs delete-mount-target, aws efs delete-file-system); `sagemaker-auditor teardown-plan` lists the steps.",
	"thresholds": {
		"price_per_gb_month": {
			"type": "number",
			"default": 0.30,
			"exclusive_minimum": 0,
			"description": "USD per GB-month of EFS Standard storage, for the estimated cost of an orphan.",
		},
		"ia_price_per_gb_month": {
			"type": "number",
			"default": 0.025,
			"minimum": 0,
			"description": "USD per GB-month of EFS Infrequent Access storage.",
		},
		"archive_price_per_gb_month": {
			"type": "number",
			"default": 0.008,
			"minimum": 0,
			"description": "USD per GB-month of EFS Archive storage.",
		},
	},
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteDomain.html",
		"https://docs.aws.amazon.com/efs/latest/ug/API_FileSystemSize.html",
		"https://aws.amazon.com/efs/pricing/",
	],
}

tag := "ManagedByAmazonSageMakerResource"

price := data.config.efs_orphaned_home.price_per_gb_month

prices := {"standard": price, "ia": data.config.efs_orphaned_home.ia_price_per_gb_month, "archive": data.config.efs_orphaned_home.archive_price_per_gb_month}

# Bytes per storage class (SizeInBytes.ValueInStandard/IA/Archive); when EFS reported no
# split, everything counts as Standard.
by_class(fs) := {"standard": fs.size_in_standard_bytes, "ia": object.get(fs, "size_in_ia_bytes", 0), "archive": object.get(fs, "size_in_archive_bytes", 0)} if {
	is_number(object.get(fs, "size_in_standard_bytes", null))
} else := {"standard": fs.size_in_bytes, "ia": 0, "archive": 0}

monthly_cost(fs) := round(sum(class_costs(fs)) * 100) / 100

class_costs(fs) := [cost |
	some class, bytes in by_class(fs)
	is_number(bytes)
	cost := (bytes / gib) * prices[class]
]

domain_operations := ["ListDomains"]

results contains r if {
	some account in input.accounts
	some region in account.regions
	some fs in region.efs_file_systems
	value := fs.tags[tag]
	verdict := judge(account, region, fs, value)
	r := {
		"resource_type": "efs_file_system",
		"resource_arn": fs.arn,
		"account_id": account.account_id,
		"region": region.region,
		"domain_id": object.get(verdict[2], "domain_id", null),
		"status": verdict[0],
		"message": verdict[1],
		"evidence": verdict[2],
	}
}

results contains r if some r in lib.scope_error_results("efs_file_system", "elasticfilesystem", "file-system/", ["DescribeFileSystems"])

# The domain the snapshot says owns the file system (from the tag, or the live domain whose
# home it is).
owner(fs) := fs.domain_id if is_string(fs.domain_id)

exists(region, id) if {
	some d in region.domains
	d.domain_id == id
}

gib := 1073741824

judge(account, region, fs, value) := ["ERROR", sprintf("file system %s: tag %s=%q names no domain id", [fs.file_system_id, tag, value]), {"tag_value": value}] if {
	not owner(fs)
} else := ["ERROR", sprintf("file system %s belongs to domain %s, but %s", [fs.file_system_id, owner(fs), lib.describe_errors(lib.scope_errors(account.account_id, region.region, domain_operations))]), {"domain_id": owner(fs)}] if {
	lib.collection_failed(account.account_id, region.region, domain_operations)
} else := ["FAIL", sprintf("file system %s (%d bytes, about %.2f USD a month) belongs to domain %s, which no longer exists", [fs.file_system_id, fs.size_in_bytes, cost, owner(fs)]), {
	"domain_id": owner(fs),
	"size_in_bytes": fs.size_in_bytes,
	"size_in_bytes_by_storage_class": by_class(fs),
	"estimated_monthly_cost_usd": cost,
	"price_per_gb_month": prices,
	"mount_target_count": fs.number_of_mount_targets,
	"creation_time": object.get(fs, "creation_time", null),
	"tag_value": value,
}] if {
	not exists(region, owner(fs))
	cost := monthly_cost(fs)
} else := ["PASS", sprintf("file system %s belongs to domain %s, which exists", [fs.file_system_id, owner(fs)]), {"domain_id": owner(fs)}]
