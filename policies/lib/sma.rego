# Helpers shared by the checks: result objects, collection errors, role lookups.
# `input` is the snapshot (policies/schema/snapshot.json); `data.config` the [checks.<id>]
# thresholds of the config.
package sma.lib

# A value as an array: IAM lets Action, Resource, Statement be a single value or a list.
as_array(x) := x if is_array(x)

else := [x]

# One result of a check for a domain.
domain_result(account, region, domain, verdict) := {
	"resource_type": "domain",
	"resource_arn": domain.arn,
	"account_id": account.account_id,
	"region": region.region,
	"domain_id": domain.domain_id,
	"status": verdict[0],
	"message": verdict[1],
	"evidence": verdict[2],
}

# One result for an execution role. Unless it passes, its evidence lists the role's
# bindings: which domains, profiles and spaces run as it. A PASS carries evidence only when
# a grant was found but does not take effect (`limited_by`: the deny or boundary that stops it).
role_result(account, role, verdict) := {
	"resource_type": "iam_role",
	"resource_arn": role.arn,
	# The scanned account that uses the role (a cross-account role's ARN names another).
	"account_id": account.account_id,
	"region": "global",
	"status": "PASS",
	"message": verdict[1],
} if {
	verdict[0] == "PASS"
	not verdict[2].limited_by
}

else := {
	"resource_type": "iam_role",
	"resource_arn": role.arn,
	"account_id": account.account_id,
	"region": "global",
	"status": "PASS",
	"message": verdict[1],
	"evidence": verdict[2],
} if verdict[0] == "PASS"

else := {
	"resource_type": "iam_role",
	"resource_arn": role.arn,
	"account_id": account.account_id,
	"region": "global",
	"status": verdict[0],
	"message": verdict[1],
	"evidence": object.union(verdict[2], {"bindings": role.bindings}),
}

# The verdict for a role whose documents cannot be read, or null when they can.
role_unreadable(role) := ["ERROR", sprintf("role %s is in another account that this scan did not read (cross_account_role_not_readable)", [role.arn]), {"reason": "cross_account_role_not_readable"}] if {
	role.state == "cross_account"
} else := ["ERROR", sprintf("IAM could not be read, so role %s is unknown (see collection_errors)", [role.arn]), {"reason": "not_collected"}] if {
	role.state == "not_collected"
}

# Collection errors of these operations that cover a whole account and region (not a single
# resource): what they would have listed is unknown.
scope_errors(account_id, region, operations) := [e |
	some e in input.collection_errors
	e.account_id == account_id
	e.region == region
	e.operation in operations
	object.get(e, "resource", null) == null
]

# True when one of `operations` failed for the whole account and region.
collection_failed(account_id, region, operations) if {
	count(scope_errors(account_id, region, operations)) > 0
}

describe_errors(errors) := concat("; ", [sprintf("%s %s failed (%s)", [e.service, e.operation, e.error]) | some e in errors])

# ERROR results standing for every resource of a kind that a failed list call would have
# returned, e.g. `arn:aws:sagemaker:us-east-1:123456789012:app/*` when ListApps failed.
scope_error_results(resource_type, service, resource_prefix, operations) := {r |
	some account in input.accounts
	some region in account.regions
	errors := scope_errors(account.account_id, region.region, operations)
	count(errors) > 0
	r := {
		"resource_type": resource_type,
		"resource_arn": sprintf("arn:%s:%s:%s:%s:%s*", [account.partition, service, region.region, account.account_id, resource_prefix]),
		"account_id": account.account_id,
		"region": region.region,
		"status": "ERROR",
		"message": sprintf("%s, so its %s resources are unknown", [describe_errors(errors), resource_type]),
		"evidence": {"collection_errors": errors},
	}
}

# Domain-level checks report ERROR for a region whose ListDomains failed.
domain_scope_errors := scope_error_results("domain", "sagemaker", "domain/", ["ListDomains"])

# Role state by account and ARN.
role_states[account.account_id] := {r.arn: r.state | some r in account.execution_roles} if {
	some account in input.accounts
}

# The scan's end as nanoseconds: "now" for the snapshot's facts.
now_ns := time.parse_rfc3339_ns(input.finished_at)

failed_statuses := {"Failed", "Update_Failed", "Delete_Failed"}

# --- network ----------------------------------------------------------------------------

# The route table that serves a subnet: its explicit association, else the VPC's main table.
table_for(region, vpc_id, subnet_id) := [t, "explicit"] if {
	some t in region.network.route_tables
	subnet_id in t.subnet_ids
} else := [t, "main"] if {
	some t in region.network.route_tables
	t.vpc_id == vpc_id
	t.main
}

# An active default route (IPv4 or IPv6) of a table, as [destination, route].
default_routes(table) := [[d, route] |
	some route in table.routes
	object.get(route, "state", "active") != "blackhole"
	some d in [object.get(route, "destination_cidr_block", null), object.get(route, "destination_ipv6_cidr_block", null)]
	d in {"0.0.0.0/0", "::/0"}
]

# Security groups of a settings object that may be null.
groups_of(settings) := object.get(settings, "security_groups", []) if is_object(settings)

else := []

# Every security group the domain's apps can run with, as [group id, where it is set].
domain_groups(domain) := {[g, "DefaultUserSettings"] | some g in groups_of(object.get(domain, "default_user_settings", null))} | {[g, "DefaultSpaceSettings"] | some g in groups_of(object.get(domain, "default_space_settings", null))} | {[g, sprintf("user profile %s", [p.name])] | some p in domain.user_profiles; some g in groups_of(object.get(p, "user_settings", null))} | {[g, "SecurityGroupIdForDomainBoundary"] | g := object.get(domain, "security_group_id_for_domain_boundary", null); g != null} | {[g, "DomainSettings.SecurityGroupIds"] | some g in object.get(domain, "domain_security_group_ids", [])}

# VPC endpoint service names: `com.amazonaws.<region>.<svc>`, and in aws-cn also
# `cn.com.amazonaws.<region>.<svc>` (https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Ningxia.html).
endpoint_service_names(region, service) := {sprintf("com.amazonaws.%s.%s", [region, service]), sprintf("cn.com.amazonaws.%s.%s", [region, service])}
