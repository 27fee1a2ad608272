package sma.checks.notebook_instance_not_in_vpc

import data.sma.lib

metadata := {
	"id": "notebook_instance_not_in_vpc",
	"title": "SageMaker notebook instance is not in your VPC",
	"severity": "medium",
	"resource_type": "notebook_instance",
	"scope": "account",
	"description": "The instance has no SubnetId: it runs in a VPC of SageMaker's, outside your security groups, flow logs and endpoints (Security Hub SageMaker.2).",
	"remediation": "Recreate the instance with a SubnetId and SecurityGroupIds of your VPC (and DirectInternetAccess=Disabled); the network settings cannot be updated in place.",
	"references": [
		"https://docs.aws.amazon.com/securityhub/latest/userguide/sagemaker-controls.html#sagemaker-2",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/appendix-notebook-and-internet-access.html",
	],
}

results contains r if {
	some account in input.accounts
	some region in account.regions
	some n in object.get(region, "notebook_instances", [])
	verdict := judge(n)
	r := {"resource_arn": n.arn, "status": verdict[0], "message": verdict[1], "evidence": verdict[2]}
}

results contains r if some r in lib.scope_error_results("notebook_instance", "sagemaker", "notebook-instance/", ["ListNotebookInstances"])

judge(n) := ["ERROR", sprintf("DescribeNotebookInstance failed for %s: its settings are unknown", [n.name]), {}] if {
	not n.described
} else := ["FAIL", sprintf("notebook instance %s is not in a VPC of yours", [n.name]), {"subnet_id": null}] if {
	object.get(n, "subnet_id", null) in {null, ""}
} else := ["PASS", sprintf("notebook instance %s runs in subnet %s", [n.name, n.subnet_id]), {"subnet_id": n.subnet_id, "security_groups": object.get(n, "security_groups", [])}]
