package sma.checks.notebook_instance_direct_internet_access

import data.sma.lib

metadata := {
	"id": "notebook_instance_direct_internet_access",
	"title": "SageMaker notebook instance has direct internet access",
	"severity": "high",
	"resource_type": "notebook_instance",
	"scope": "account",
	"description": "DirectInternetAccess is Enabled: SageMaker gives the instance a network interface with internet access of its own, outside your VPC's controls, so data can leave and code can come in without passing your egress filtering (Security Hub SageMaker.1).",
	"remediation": "Recreate the instance with DirectInternetAccess=Disabled in a private subnet (the setting cannot be updated in place); give it internet through your VPC's NAT gateway if it needs any.",
	"references": [
		"https://docs.aws.amazon.com/securityhub/latest/userguide/sagemaker-controls.html#sagemaker-1",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/appendix-notebook-and-internet-access.html",
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeNotebookInstance.html",
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
} else := ["FAIL", sprintf("notebook instance %s has direct internet access", [n.name]), {"direct_internet_access": "Enabled", "subnet_id": object.get(n, "subnet_id", null)}] if {
	object.get(n, "direct_internet_access", null) == "Enabled"
} else := ["PASS", sprintf("notebook instance %s has no direct internet access", [n.name]), {"direct_internet_access": object.get(n, "direct_internet_access", null)}]
