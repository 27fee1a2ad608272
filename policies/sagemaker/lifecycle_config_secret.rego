package sma.checks.lifecycle_config_secret

import data.sma.lib

metadata := {
	"id": "lifecycle_config_secret",
	"title": "SageMaker lifecycle configuration script contains a credential",
	"severity": "high",
	"resource_type": "studio_lifecycle_config",
	"scope": "account",
	"description": "A Studio lifecycle configuration (StudioLifecycleConfigContent) or a notebook instance lifecycle configuration (OnCreate/OnStart) contains an AWS access key id, an aws_secret_access_key assignment of a 40-character value, or a private key block. Anyone who can describe the configuration reads it, and every app or instance that runs it carries it. The scanner finds and redacts secrets when it reads the script: the evidence names the kind and line, never the secret, and no snapshot holds it.",
	"remediation": "Rotate the credential now (it must be considered leaked), then remove it from the script: let the app use its execution role, or read the secret at run time from AWS Secrets Manager. Lifecycle configurations cannot be edited: create a new one, point the domain, profiles or notebook instances at it, and delete the old one.",
	"references": [
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeStudioLifecycleConfig.html",
		"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeNotebookInstanceLifecycleConfig.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
		"https://docs.aws.amazon.com/sagemaker/latest/dg/studio-lcc.html",
	],
}

results contains r if {
	some account in input.accounts
	some region in account.regions
	some c in object.get(region, "lifecycle_configs", [])
	verdict := judge(c)
	r := {"resource_type": c.kind, "resource_arn": c.arn, "status": verdict[0], "message": verdict[1], "evidence": verdict[2]}
}

results contains r if some r in lib.scope_error_results("studio_lifecycle_config", "sagemaker", "studio-lifecycle-config/", ["ListStudioLifecycleConfigs"])

results contains r if some r in lib.scope_error_results("notebook_instance_lifecycle_config", "sagemaker", "notebook-instance-lifecycle-config/", ["ListNotebookInstanceLifecycleConfigs"])

kind_name := {"studio_lifecycle_config": "Studio lifecycle configuration", "notebook_instance_lifecycle_config": "notebook instance lifecycle configuration"}

found(c) := [{"script": s.hook, "line": m.line, "kind": m.kind} | some s in c.scripts; some m in s.secrets]

undecoded(c) := [s.hook | some s in c.scripts; object.get(s, "text", null) == null]

judge(c) := ["ERROR", sprintf("the describe call failed for %s %s: its script is unknown", [kind_name[c.kind], c.name]), {"config_kind": c.kind}] if {
	not c.described
} else := ["FAIL", sprintf("%s %s contains credentials: %s", [kind_name[c.kind], c.name, concat(", ", [sprintf("%s on line %d of %s", [f.kind, f.line, f.script]) | some f in secrets])]), {"config_kind": c.kind, "app_type": object.get(c, "app_type", null), "secrets": secrets}] if {
	secrets := found(c)
	count(secrets) > 0
} else := ["ERROR", sprintf("%s %s: script(s) %s are not base64, so they could not be read", [kind_name[c.kind], c.name, concat(", ", undecoded(c))]), {"config_kind": c.kind, "undecoded_scripts": undecoded(c)}] if {
	count(undecoded(c)) > 0
} else := ["PASS", sprintf("%s %s contains no credential", [kind_name[c.kind], c.name]), {"config_kind": c.kind}]
