package sma.checks.notebook_instance_root_access

import data.sma.lib

metadata := {
	"id": "notebook_instance_root_access",
	"title": "SageMaker notebook instance gives its users root access",
	"severity": "medium",
	"resource_type": "notebook_instance",
	"scope": "account",
	"description": "RootAccess is Enabled (absent means Enabled): every user of the instance can become root, change its software and undo its lifecycle configuration's controls (Security Hub SageMaker.3). Lifecycle configurations run as root either way.",
	"remediation": "UpdateNotebookInstance --root-access Disabled (the instance must be stopped); install what users need through a lifecycle configuration instead.",
	"references": [
		"https://docs.aws.amazon.com/securityhub/latest/userguide/sagemaker-controls.html#sagemaker-3",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/nbi-root-access.html",
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
} else := ["FAIL", sprintf("notebook instance %s gives its users root access", [n.name]), {"root_access": object.get(n, "root_access", null)}] if {
	object.get(n, "root_access", null) != "Disabled"
} else := ["PASS", sprintf("notebook instance %s: root access is disabled", [n.name]), {"root_access": "Disabled"}]
