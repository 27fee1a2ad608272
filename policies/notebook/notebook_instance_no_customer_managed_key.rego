package sma.checks.notebook_instance_no_customer_managed_key

import data.sma.lib

metadata := {
	"id": "notebook_instance_no_customer_managed_key",
	"title": "SageMaker notebook instance's storage is not encrypted with a customer managed key",
	"severity": "low",
	"resource_type": "notebook_instance",
	"scope": "account",
	"description": "The instance has no KmsKeyId: its ML storage volume is encrypted with an AWS managed key, whose policy you cannot restrict (AWS Config sagemaker-notebook-instance-kms-key-configured).",
	"remediation": "Recreate the instance with KmsKeyId set to a customer managed KMS key (it cannot be added to an existing volume).",
	"references": [
		"https://docs.aws.amazon.com/config/latest/developerguide/sagemaker-notebook-instance-kms-key-configured.html",
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateNotebookInstance.html",
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
} else := ["FAIL", sprintf("notebook instance %s uses an AWS managed key for its storage", [n.name]), {"kms_key_id": null}] if {
	object.get(n, "kms_key_id", null) in {null, ""}
} else := ["PASS", sprintf("notebook instance %s is encrypted with %s", [n.name, n.kms_key_id]), {"kms_key_id": n.kms_key_id}]
