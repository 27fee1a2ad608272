//! The artefacts of `deploy/`, checked with the real tools: promtool for the alert rules,
//! our own `validate` for the shipped configs, and every metric they name must exist.

use std::collections::BTreeSet;
use std::process::Command;

use crate::util;

fn run(program: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(util::repo_root())
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn alert_rules_pass_promtool_and_their_unit_tests() {
    let promtool = util::system_tool("promtool");
    let (ok, out) = run(
        &promtool,
        &["check", "rules", "deploy/prometheus/alerts.yaml"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("SUCCESS: 14 rules found"), "{out}");
    let (ok, out) = run(
        &promtool,
        &["test", "rules", "deploy/prometheus/alerts_test.yaml"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("SUCCESS"), "{out}");
}

/// Every alert links a section of RUNBOOK.md that exists (GitHub's anchor of a `## Name`
/// heading is the name in lower case) and has a case in the promtool unit tests.
#[test]
fn every_alert_has_a_runbook_section_and_a_unit_test() {
    let dir = util::repo_root().join("deploy/prometheus");
    let rules: serde_json::Value =
        yaml_serde::from_str(&std::fs::read_to_string(dir.join("alerts.yaml")).unwrap()).unwrap();
    let runbook = std::fs::read_to_string(dir.join("RUNBOOK.md")).unwrap();
    let sections: BTreeSet<String> = runbook
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let tests = std::fs::read_to_string(dir.join("alerts_test.yaml")).unwrap();
    let prefix = "https://github.com/sagemaker-auditor/sagemaker-auditor/blob/main/deploy/prometheus/RUNBOOK.md#";
    let mut alerts = 0;
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let name = rule["alert"].as_str().unwrap();
            alerts += 1;
            let url = rule["annotations"]["runbook_url"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has no runbook_url"));
            let anchor = url
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{name}: {url} is not a RUNBOOK.md section"));
            assert_eq!(anchor, name.to_ascii_lowercase(), "{name}");
            assert!(sections.contains(anchor), "RUNBOOK.md has no `## {name}`");
            assert!(
                tests.contains(&format!("alertname: {name}\n")),
                "alerts_test.yaml never tests {name}"
            );
        }
    }
    assert_eq!(alerts, 14);
    assert_eq!(sections.len(), alerts, "RUNBOOK.md sections: {sections:?}");
}

/// `sagemaker_audit_...` names in a text.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("sagemaker_audit_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

#[test]
fn alerts_and_dashboard_name_only_metrics_we_export() {
    let known: BTreeSet<String> = sagemaker_auditor::exporter::metrics::names()
        .into_iter()
        .collect();
    for file in [
        "deploy/prometheus/alerts.yaml",
        "deploy/grafana/sagemaker-auditor.json",
    ] {
        let text = std::fs::read_to_string(util::repo_root().join(file)).unwrap();
        let used = metric_names(&text);
        assert!(used.len() >= 5, "{file} names only {used:?}");
        let unknown: Vec<_> = used.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "{file} names unknown metrics {unknown:?}"
        );
    }
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(util::repo_root().join("deploy/grafana/sagemaker-auditor.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(dashboard["panels"].as_array().unwrap().len() >= 10);
}

#[test]
fn shipped_configs_validate() {
    for config in [
        "deploy/kubernetes/config.toml",
        "deploy/systemd/config.toml",
        "examples/config.toml",
    ] {
        let path = util::repo_root().join(config);
        let (code, out, err) =
            util::run_bin(&["validate", "--config", path.to_str().unwrap()], &[]);
        assert_eq!(code, 0, "{config}: {out}{err}");
        assert!(out.contains("valid"), "{config}: {out}");
    }
}

#[test]
fn kubernetes_manifests_are_complete() {
    let dir = util::repo_root().join("deploy/kubernetes");
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    let mut kinds = BTreeSet::new();
    for line in kustomization.lines() {
        let item = line.trim().trim_start_matches("- ").trim();
        if item.ends_with(".yaml") || item.ends_with(".toml") {
            let text = std::fs::read_to_string(dir.join(item))
                .unwrap_or_else(|e| panic!("kustomization.yaml lists {item}: {e}"));
            if let Some(kind) = text.lines().find_map(|l| l.strip_prefix("kind: ")) {
                kinds.insert(kind.trim().to_string());
            }
        }
    }
    for kind in [
        "Deployment",
        "Service",
        "ServiceMonitor",
        "NetworkPolicy",
        "ServiceAccount",
        "PersistentVolumeClaim",
    ] {
        assert!(kinds.contains(kind), "no {kind} in {kinds:?}");
    }
    let sa = std::fs::read_to_string(dir.join("serviceaccount.yaml")).unwrap();
    assert!(sa.contains("eks.amazonaws.com/role-arn"));
    let deployment = std::fs::read_to_string(dir.join("deployment.yaml")).unwrap();
    for needed in [
        "/readyz",
        "/healthz",
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
    ] {
        assert!(
            deployment.contains(needed),
            "deployment.yaml lacks {needed}"
        );
    }
}

/// `kubectl kustomize` of a kustomization directory, as one JSON value per object.
fn kustomize(dir: &str) -> Vec<serde_json::Value> {
    let (ok, out) = run(&util::system_tool("kubectl"), &["kustomize", dir]);
    assert!(ok, "kubectl kustomize {dir}: {out}");
    out.split("\n---\n")
        .map(|doc| yaml_serde::from_str(doc).unwrap_or_else(|e| panic!("{dir}: {e}\n{doc}")))
        .collect()
}

fn kubernetes_validate(file: &std::path::Path) -> (bool, String) {
    let validator = util::python().with_file_name("kubernetes-validate");
    // 1.28: the first release that labels StatefulSet pods with their index.
    run(
        &validator,
        &["-k", "1.28.0", "--strict", file.to_str().unwrap()],
    )
}

/// Both variants render with kubectl kustomize and every object is valid for the Kubernetes
/// schemas (kubernetes-validate, strict: no unknown fields); the StatefulSet variant replaces
/// the Deployment and its volume, derives each replica's shard from its pod index with N the
/// replica count, and gives each replica its own volume.
#[test]
fn kubernetes_variants_render_and_validate_against_the_schemas() {
    let dir = util::temp_dir("deploy-kubernetes");
    for variant in ["deploy/kubernetes", "deploy/kubernetes-statefulset"] {
        let objects = kustomize(variant);
        let file = dir.join(format!("{}.yaml", variant.replace('/', "_")));
        let text: Vec<String> = objects
            .iter()
            .map(|o| yaml_serde::to_string(o).unwrap())
            .collect();
        std::fs::write(&file, text.join("---\n")).unwrap();
        let (ok, out) = kubernetes_validate(&file);
        assert!(ok, "{variant}: {out}");
        // Every object was checked, but the ServiceMonitor (a CRD: no schema in Kubernetes').
        for o in &objects {
            let kind = o["kind"].as_str().unwrap();
            let name = o["metadata"]["name"].as_str().unwrap();
            if kind == "ServiceMonitor" {
                continue;
            }
            let line = format!("passed for resource {}/{name}", kind.to_lowercase());
            assert!(out.contains(&line), "{variant}: no `{line}` in {out}");
        }
        let kinds: BTreeSet<&str> = objects
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        if variant.ends_with("statefulset") {
            assert!(
                !kinds.contains("Deployment") && !kinds.contains("PersistentVolumeClaim"),
                "{kinds:?}"
            );
            let set = objects.iter().find(|o| o["kind"] == "StatefulSet").unwrap();
            let replicas = set["spec"]["replicas"].as_u64().unwrap();
            assert!(replicas > 1);
            let pod = &set["spec"]["template"]["spec"];
            let container = &pod["containers"][0];
            let args: Vec<&str> = container["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert_eq!(
                args[args.len() - 2..],
                ["--shard", &format!("index=$(POD_INDEX)/{replicas}")],
                "{args:?}"
            );
            let env = container["env"].as_array().unwrap();
            let index = env.iter().find(|e| e["name"] == "POD_INDEX").unwrap();
            assert_eq!(
                index["valueFrom"]["fieldRef"]["fieldPath"],
                "metadata.labels['apps.kubernetes.io/pod-index']"
            );
            // Each replica its own volume, mounted where the config keeps state.
            assert_eq!(
                set["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
                "state"
            );
            assert!(
                container["volumeMounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == "state")
            );
            assert!(
                pod["volumes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|v| v["name"] != "state")
            );
            // The governing Service exists and is headless.
            let governing = set["spec"]["serviceName"].as_str().unwrap();
            let service = objects
                .iter()
                .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == governing)
                .unwrap();
            assert_eq!(service["spec"]["clusterIP"], "None");
            // The generated config's hashed name reaches the StatefulSet.
            let config = objects.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
            let volume = pod["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == "config")
                .unwrap();
            assert_eq!(volume["configMap"]["name"], config["metadata"]["name"]);
            // The validator does reject what Kubernetes would: an unknown field.
            let mut broken = set.clone();
            broken["spec"]["replica"] = serde_json::json!(3);
            let bad = dir.join("broken.yaml");
            std::fs::write(&bad, yaml_serde::to_string(&broken).unwrap()).unwrap();
            let (ok, out) = kubernetes_validate(&bad);
            assert!(!ok, "an unknown field passed: {out}");
        } else {
            assert!(
                kinds.contains("Deployment") && !kinds.contains("StatefulSet"),
                "{kinds:?}"
            );
        }
    }
}

/// Checkov over all of `deploy/` (Dockerfile, Kubernetes manifests and both kustomizations,
/// the CloudFormation template with its IAM policies): no failed check and no file it could
/// not parse; every check it skips is waived inline with a reason, and only the waivers we
/// mean (the image digest, the Docker HEALTHCHECK).
#[test]
fn checkov_passes_over_deploy_with_only_reasoned_waivers() {
    let checkov = util::repo_root().join(".venv-checkov/bin/checkov");
    assert!(
        checkov.exists(),
        "Checkov's virtualenv is missing: run `scripts/test` (it creates .venv-checkov from tests/checkov/requirements.txt)"
    );
    let out = Command::new(&checkov)
        .args(["-d", "deploy", "--compact", "--skip-download", "-o", "json"])
        .current_dir(util::repo_root())
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let reports: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "checkov output: {e}\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let reports = reports.as_array().cloned().unwrap_or_else(|| vec![reports]);
    let mut frameworks = BTreeSet::new();
    let mut skipped = BTreeSet::new();
    let mut kustomized = BTreeSet::new();
    for r in &reports {
        let framework = r["check_type"].as_str().unwrap().to_string();
        assert_eq!(
            r["summary"]["failed"], 0,
            "{framework}: {:#}",
            r["results"]["failed_checks"]
        );
        assert_eq!(
            r["summary"]["parsing_errors"], 0,
            "{framework}: {:#}",
            r["results"]["parsing_errors"]
        );
        for c in r["results"]["skipped_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let reason = c["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or_default();
            assert!(
                reason.len() > 20,
                "{framework}: {} waived without a reason",
                c["check_id"]
            );
            skipped.insert(c["check_id"].as_str().unwrap().to_string());
        }
        if framework == "kustomize" {
            for c in r["results"]["passed_checks"]
                .as_array()
                .into_iter()
                .flatten()
            {
                kustomized.insert(c["resource"].as_str().unwrap().to_string());
            }
        }
        frameworks.insert(framework);
    }
    for framework in ["kubernetes", "kustomize", "dockerfile", "cloudformation"] {
        assert!(
            frameworks.contains(framework),
            "Checkov did not scan {framework}: {frameworks:?}"
        );
    }
    assert_eq!(
        skipped,
        BTreeSet::from(["CKV_K8S_43".to_string(), "CKV_DOCKER_2".to_string()])
    );
    // Both kustomizations rendered (a render that fails is not a parsing error to Checkov).
    for workload in [
        "Deployment.sagemaker-auditor",
        "StatefulSet.sagemaker-auditor",
    ] {
        assert!(
            kustomized.iter().any(|r| r.contains(workload)),
            "no {workload} among {kustomized:?}"
        );
    }
}

/// The member-account role (CloudFormation, StackSet-ready): valid for cfn-lint, granting
/// exactly the member policy, and named as the scanner's own policy expects.
#[test]
fn member_role_template_matches_the_policies() {
    let template_path = util::repo_root().join("deploy/cloudformation/member-role.json");
    let out = std::process::Command::new(crate::util::python())
        .args([
            "-c",
            "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())",
        ])
        .arg(&template_path)
        .output()
        .expect("run cfn-lint (pulled in by moto into .venv)");
    assert!(
        out.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(util::repo_root().join(p)).unwrap()).unwrap()
    };
    let template = read("deploy/cloudformation/member-role.json");
    let role = &template["Resources"]["ScannerRole"]["Properties"];
    assert_eq!(
        role["Policies"][0]["PolicyDocument"],
        read("deploy/iam/scanner-readonly.json"),
        "the template's policy differs from deploy/iam/scanner-readonly.json"
    );
    // The optional Security Hub policy, only with SecurityHubExport = true.
    assert_eq!(
        role["Policies"][1]["Fn::If"][0], "ExportsToSecurityHub",
        "{:#}",
        role["Policies"]
    );
    assert_eq!(
        role["Policies"][1]["Fn::If"][1]["PolicyDocument"],
        read("deploy/iam/scanner-security-hub.json"),
        "the template's Security Hub policy differs from deploy/iam/scanner-security-hub.json"
    );
    assert_eq!(role["Policies"][1]["Fn::If"][2]["Ref"], "AWS::NoValue");
    let name = template["Parameters"]["RoleName"]["Default"]
        .as_str()
        .unwrap();
    let hub = read("deploy/iam/scanner-hub.json");
    let assume = hub["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"][0] == "sts:AssumeRole")
        .unwrap();
    assert_eq!(assume["Resource"], format!("arn:aws:iam::*:role/{name}"));
    // The examples configure the same role name.
    let example = std::fs::read_to_string(util::repo_root().join("examples/config.toml")).unwrap();
    assert!(
        example.contains(&format!("role_name = \"{name}\"")),
        "examples/config.toml"
    );
}
