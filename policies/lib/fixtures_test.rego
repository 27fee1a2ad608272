# Builders shared by the IAM checks' tests.
package sma.lib.fixtures

role(name, attached, inline, trust) := {
	"arn": sprintf("arn:aws:iam::123456789012:role/%s", [name]),
	"state": "found",
	"bindings": [{"region": "us-east-1", "domain_id": "d-1", "kind": "domain_default", "user_profile_name": null, "inherited": false}],
	"role": {
		"arn": sprintf("arn:aws:iam::123456789012:role/%s", [name]),
		"name": name,
		"assume_role_policy": trust,
		"attached_policies": [{"arn": a, "name": a} | some a in attached],
		"inline_policies": [{"name": sprintf("inline-%d", [i]), "document": doc} | some i, doc in inline],
	},
}

sagemaker_trust := {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}

document(statements) := {"Version": "2012-10-17", "Statement": statements}

allow(actions, resources) := {"Effect": "Allow", "Action": actions, "Resource": resources}

snapshot(roles, managed) := {
	"accounts": [{"account_id": "123456789012", "partition": "aws", "regions": [], "execution_roles": roles}],
	"managed_policies": managed,
	"collection_errors": [],
}

# The statuses the check under test gives each role, by role name.
statuses(results) := {split(r.resource_arn, "/")[1]: r.status | some r in results}

# A role with a permissions boundary (its document goes into the snapshot's managed policies).
bounded(role, boundary_arn) := object.union(role, {"role": object.union(role.role, {"permissions_boundary_arn": boundary_arn})})

deny(actions, resources) := {"Effect": "Deny", "Action": actions, "Resource": resources}

boundary_policy(arn, statements) := {arn: {"arn": arn, "name": "boundary", "aws_managed": false, "default_version_id": "v1", "document": document(statements)}}
