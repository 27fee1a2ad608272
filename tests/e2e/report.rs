//! The findings report and its formats, offline on the bundled example snapshot (the
//! reference account), and users' policies, waivers and `--fail-on` through the binary.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{repo_root, run_bin, temp_dir};

fn example() -> String {
    repo_root()
        .join("examples/snapshot.json")
        .display()
        .to_string()
}

fn scan(extra: &[&str]) -> (i32, String, String) {
    let example = example();
    let mut args = vec!["scan", "--from-snapshot", example.as_str()];
    args.extend_from_slice(extra);
    run_bin(&args, &[])
}

fn json_report(extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = scan(&args);
    assert!(code == 0 || code == 3, "{code}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn json_report_follows_the_contract() {
    let r = json_report(&[]);
    assert_eq!(r["schema_version"], "1");
    for key in [
        "id",
        "started_at",
        "finished_at",
        "accounts",
        "regions",
        "collection_errors",
    ] {
        assert!(r["scan"].get(key).is_some(), "scan.{key}");
    }
    let summary = &r["summary"];
    let findings = r["findings"].as_array().unwrap();
    let count = |status: &str| findings.iter().filter(|f| f["status"] == status).count();
    assert_eq!(summary["fail"], count("FAIL"));
    assert_eq!(summary["pass"], count("PASS"));
    assert_eq!(summary["error"], count("ERROR"));
    assert_eq!(summary["muted"], 0);
    assert_eq!(
        summary["fail_by_severity"],
        serde_json::json!({"critical": 1, "high": 11, "medium": 15, "low": 17, "info": 1})
    );
    for f in findings {
        for key in [
            "id",
            "check_id",
            "title",
            "severity",
            "status",
            "resource_type",
            "resource_arn",
            "account_id",
            "region",
            "domain_id",
            "message",
            "evidence",
            "remediation",
            "first_seen",
            "last_seen",
            "attribution",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
        assert_eq!(f["id"].as_str().unwrap().len(), 32);
        // Every finding on a domain, profile, space or app names its domain, PASS ones too
        // (notebook instances and lifecycle configurations belong to none).
        let arn = f["resource_arn"].as_str().unwrap();
        let outside_domains = [":notebook-instance", ":studio-lifecycle-config/"]
            .iter()
            .any(|k| arn.contains(k));
        if arn.contains(":sagemaker:") && !arn.ends_with('*') && !outside_domains {
            let domain = f["domain_id"].as_str().unwrap_or_else(|| panic!("{f}"));
            assert!(arn.contains(&format!("/{domain}")), "{f}");
        }
        assert_eq!(f["account_id"], "123456789012", "{f}");
    }
    // Evidence lets a reader act: the orphaned EFS says how big it is and what it costs.
    let efs = findings
        .iter()
        .find(|f| f["check_id"] == "efs_orphaned_home" && f["status"] == "FAIL")
        .unwrap();
    // 5 GiB Standard, 2 GiB IA, 10 GiB Archive, each at its own price.
    assert_eq!(efs["evidence"]["size_in_bytes"], 18253611008u64);
    assert_eq!(
        efs["evidence"]["size_in_bytes_by_storage_class"],
        serde_json::json!({"standard": 5368709120u64, "ia": 2147483648u64, "archive": 10737418240u64})
    );
    assert_eq!(efs["evidence"]["estimated_monthly_cost_usd"], 1.63);
    assert_eq!(efs["resource_type"], "efs_file_system");
    // ... and the mapped compliance controls travel with the finding.
    let public = findings
        .iter()
        .find(|f| f["check_id"] == "domain_public_internet_access" && f["status"] == "FAIL")
        .unwrap();
    assert!(
        public["compliance"]
            .to_string()
            .contains("sagemaker-domain-in-vpc")
    );
}

#[test]
fn finding_ids_are_stable_across_runs_and_unique() {
    let ids = |r: &Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (ids(&json_report(&[])), ids(&json_report(&[])));
    assert_eq!(a, b);
    let unique: std::collections::BTreeSet<_> = a.iter().collect();
    assert_eq!(unique.len(), a.len());
}

#[test]
fn ocsf_output_is_compliance_findings() {
    let (code, out, err) = scan(&["--format", "ocsf"]);
    assert_eq!(code, 0, "{err}");
    let events: Vec<Value> = serde_json::from_str(&out).unwrap();
    let report = json_report(&[]);
    assert_eq!(events.len(), report["findings"].as_array().unwrap().len());
    for e in &events {
        assert_eq!(e["class_uid"], 2003);
        assert_eq!(e["category_uid"], 2);
        assert_eq!(e["type_uid"], 200301);
        assert_eq!(e["metadata"]["version"], "1.1.0");
        assert_eq!(e["metadata"]["product"]["name"], "sagemaker-auditor");
        assert!(e["time"].as_i64().unwrap() > 1_600_000_000_000);
        assert!((1..=5).contains(&e["severity_id"].as_i64().unwrap()));
        assert!(e["finding_info"]["uid"].is_string());
        // OCSF 1.1.0's Compliance Finding has one `resource` (`resources` is 1.3.0's), and
        // `cloud` belongs to the cloud profile, which the event must name.
        assert!(
            e["resource"]["uid"]
                .as_str()
                .unwrap()
                .starts_with("arn:aws:")
        );
        assert!(e.get("resources").is_none());
        assert_eq!(e["metadata"]["profiles"], serde_json::json!(["cloud"]));
        assert_eq!(e["cloud"]["provider"], "AWS");
        assert_ne!(e["cloud"]["region"], "global", "{e}");
        if e["compliance"]["status_detail"] == "ERROR" {
            assert_eq!(e["compliance"]["status_id"], 2, "{e}");
        }
    }
    // Every event is valid against the OCSF 1.1.0 schema source (vendored in
    // tests/ocsf-schema-1.1.0), compiled and checked by tests/tools/ocsf-validate.
    let dir = temp_dir("report-ocsf-schema");
    let events_file = write(&dir, "events.json", &out);
    crate::util::assert_valid_ocsf(&events_file);
    let errors = events
        .iter()
        .filter(|e| e["compliance"]["status_detail"] == "ERROR")
        .count();
    assert!(errors > 0, "the example has ERROR results");
    let admin = events
        .iter()
        .find(|e| {
            e["compliance"]["control"] == "execution_role_admin_privileges"
                && e["compliance"]["status"] == "Fail"
        })
        .unwrap();
    assert_eq!(admin["severity_id"], 5);
    assert_eq!(admin["compliance"]["status_id"], 3);
}

#[test]
fn asff_output_has_every_required_field() {
    let (code, out, err) = scan(&["--format", "asff"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let findings = doc["Findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        // BatchImportFindings' required attributes.
        for key in [
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
        assert_eq!(f["SchemaVersion"], "2018-10-08");
        assert!(
            f["ProductArn"]
                .as_str()
                .unwrap()
                .starts_with("arn:aws:securityhub:us-east-1:")
        );
        assert!(f["Title"].as_str().unwrap().chars().count() <= 256);
        assert!(f["Description"].as_str().unwrap().chars().count() <= 1024);
        let resource = &f["Resources"][0];
        assert!(resource["Id"].is_string() && resource["Partition"] == "aws");
        let arn = resource["Id"].as_str().unwrap();
        let expected = if arn.contains(":iam::") {
            "AwsIamRole"
        } else if arn.contains(":security-group/") {
            "AwsEc2SecurityGroup"
        } else if arn.contains(":notebook-instance/") {
            "AwsSageMakerNotebookInstance"
        } else {
            "Other"
        };
        assert_eq!(resource["Type"], expected, "{arn}");
        if expected == "Other" {
            assert!(resource["Details"]["Other"].is_object());
        }
        assert!(
            ["PASSED", "FAILED", "NOT_AVAILABLE"]
                .contains(&f["Compliance"]["Status"].as_str().unwrap())
        );
    }
}

#[test]
fn fail_on_exits_3_only_at_or_above_the_threshold_and_waivers_mute() {
    assert_eq!(scan(&["--format", "json", "--fail-on", "high"]).0, 3);
    assert_eq!(scan(&["--format", "json", "--fail-on", "critical"]).0, 3);

    // The only critical FAIL is the admin role; an active waiver mutes it.
    let dir = temp_dir("report-waivers");
    let config = write(
        &dir,
        "config.toml",
        "[[waivers]]\ncheck = \"execution_role_admin_privileges\"\nresource = \"arn:aws:iam::*:role/service-role/sm-adm?n\"\nreason = \"break-glass role, ticket SEC-42\"\nexpires = 2999-12-31\n\n[[waivers]]\ncheck = \"app_long_running\"\nresource = \"*\"\nreason = \"old\"\nexpires = 2020-01-01\n",
    );
    let config = config.to_str().unwrap();
    let (code, out, err) = scan(&[
        "--config",
        config,
        "--format",
        "json",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let admin = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["check_id"] == "execution_role_admin_privileges"
                && f["resource_arn"].as_str().unwrap().ends_with("sm-admin")
        })
        .unwrap();
    assert_eq!(admin["status"], "MUTED");
    assert_eq!(admin["waiver"]["reason"], "break-glass role, ticket SEC-42");
    assert_eq!(r["summary"]["muted"], 1);
    assert_eq!(r["summary"]["fail_by_severity"]["critical"], 0);
    // The expired waiver mutes nothing and is reported as expired.
    assert_eq!(r["waivers"][1]["state"], "expired");
    assert_eq!(r["waivers"][1]["muted"], 0);
    assert_eq!(r["waivers"][0]["muted"], 1);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check_id"] == "app_long_running" && f["status"] == "FAIL")
    );
    let (_, table, _) = scan(&["--config", config, "--format", "table"]);
    assert!(table.contains("EXPIRED waivers"), "{table}");
    assert!(
        table.contains("waived until 2999-12-31: break-glass role"),
        "{table}"
    );
}

#[test]
fn a_waiver_for_an_unknown_check_is_a_config_error() {
    let dir = temp_dir("report-bad-waiver");
    let config = write(
        &dir,
        "config.toml",
        "# comment\n[[waivers]]\ncheck = \"app_idel\"\nresource = \"*\"\nreason = \"typo\"\nexpires = 2999-12-31\n",
    );
    let (code, _, err) = run_bin(&["validate", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("config.toml:2:") && err.contains("app_idel"),
        "{err}"
    );
}

const TEAM_CHECK: &str = r#"package team.checks.domain_team_tag

metadata := {
	"id": "domain_team_tag",
	"title": "Domain name carries no team prefix",
	"severity": "low",
	"resource_type": "domain",
	"remediation": "Name domains <team>-<purpose>.",
}

results contains {"resource_arn": d.arn, "status": status, "message": d.name} if {
	some a in input.accounts
	some r in a.regions
	some d in r.domains
	status := {true: "PASS", false: "FAIL"}[startswith(d.name, data.config.domain_team_tag.prefix)]
}
"#;

const TEAM_TEST: &str = r#"package team.checks.domain_team_tag_test

import data.team.checks.domain_team_tag as check

test_prefixed_name_passes if {
	rs := check.results with input as {"accounts": [{"regions": [{"domains": [{"arn": "a", "name": "ml-x"}]}]}]} with data.config.domain_team_tag.prefix as "ml-"
	[r.status | some r in rs] == ["PASS"]
}

test_deliberately_wrong if {
	rs := check.results with input as {"accounts": [{"regions": [{"domains": [{"arn": "a", "name": "x"}]}]}]} with data.config.domain_team_tag.prefix as "ml-"
	[r.status | some r in rs] == ["PASS"]
}
"#;

#[test]
fn users_policies_are_evaluated_listed_and_tested() {
    let dir = temp_dir("report-user-policies");
    let policies = dir.join("policies");
    write(&policies, "team/domain_team_tag.rego", TEAM_CHECK);
    write(&policies, "team/domain_team_tag_test.rego", TEAM_TEST);
    let config = write(
        &dir,
        "config.toml",
        "policy_dirs = [\"policies\"]\n\n[checks.domain_team_tag]\nprefix = \"private\"\n",
    );
    let config = config.to_str().unwrap();

    let r = json_report(&["--config", config]);
    let mine: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "domain_team_tag")
        .collect();
    assert_eq!(mine.len(), 4);
    assert_eq!(
        mine.iter().filter(|f| f["status"] == "PASS").count(),
        1,
        "{mine:?}"
    );

    let (code, out, err) = run_bin(&["policy", "list", "--config", config], &[]);
    assert_eq!(code, 0, "{err}");
    // The header, the 30 checks of CHECKS.md v2, the user's.
    assert_eq!(out.lines().count(), 1 + 30 + 1, "{out}");
    assert!(!out.contains("app_idle"), "retired: {out}");
    assert!(
        out.contains("domain_team_tag") && out.contains("team/domain_team_tag.rego:3"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l
            .split_whitespace()
            .take(2)
            .eq(["execution_role_admin_privileges", "critical"])),
        "{out}"
    );

    let (code, out, _) = run_bin(&["policy", "test", policies.to_str().unwrap()], &[]);
    assert_eq!(code, 1);
    assert!(out.contains("1 passed, 1 failed"), "{out}");
    assert!(
        out.contains("test_deliberately_wrong") && out.contains("domain_team_tag_test.rego:10"),
        "{out}"
    );

    let (code, out, err) = run_bin(&["policy", "test"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.trim_end().ends_with("passed, 0 failed"), "{out}");
}

#[test]
fn a_broken_user_policy_stops_the_scan_with_its_file_and_line_and_keeps_the_output() {
    let dir = temp_dir("report-broken-policy");
    let policies = dir.join("policies");
    write(
        &policies,
        "domain_team_tag.rego",
        &TEAM_CHECK.replace(
            "\"severity\": \"low\",",
            "\"severity\": \"low\"\n\t\"extra\": 1,",
        ),
    );
    let output = write(&dir, "report.json", "previous report\n");
    let (code, _, err) = scan(&[
        "--policy-dir",
        policies.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("domain_team_tag.rego:7"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "previous report\n"
    );

    // A check whose metadata lacks a field, and a duplicate of a built-in id.
    let missing = dir.join("missing");
    write(
        &missing,
        "domain_team_tag.rego",
        &TEAM_CHECK.replace(
            "\t\"remediation\": \"Name domains <team>-<purpose>.\",\n",
            "",
        ),
    );
    let (code, _, err) = run_bin(
        &["policy", "list", "--policy-dir", missing.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("domain_team_tag.rego:3: metadata lacks the `remediation` field"),
        "{err}"
    );
    let dup = dir.join("dup");
    write(
        &dup,
        "app_long_running.rego",
        &TEAM_CHECK.replace("domain_team_tag", "app_long_running"),
    );
    let (code, _, err) = run_bin(
        &["policy", "list", "--policy-dir", dup.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("duplicate check id `app_long_running`")
            && err.contains("policies/sagemaker/app_long_running.rego"),
        "{err}"
    );
}

/// `--status` (and `[output] statuses`) list only some statuses: the summary still counts
/// every finding, the report says what it left out, and `--fail-on` judges every FAIL.
#[test]
fn a_status_filter_lists_some_findings_and_counts_them_all() {
    let full = json_report(&[]);
    let all = full["findings"].as_array().unwrap();
    let count = |status: &str| all.iter().filter(|f| f["status"] == status).count();
    assert!(
        count("PASS") > 0 && count("FAIL") > 0,
        "the example has both"
    );
    assert!(full.get("findings_filter").is_none());

    let failing = json_report(&["--status", "fail,ERROR"]);
    let listed = failing["findings"].as_array().unwrap();
    assert_eq!(listed.len(), count("FAIL") + count("ERROR"));
    assert!(
        listed
            .iter()
            .all(|f| f["status"] == "FAIL" || f["status"] == "ERROR")
    );
    assert_eq!(failing["summary"], full["summary"]);
    assert_eq!(
        failing["findings_filter"],
        serde_json::json!({"statuses": ["FAIL", "ERROR"], "omitted": all.len() - listed.len()})
    );
    // The kept findings are the full report's, in its order.
    let kept: Vec<&Value> = all
        .iter()
        .filter(|f| f["status"] == "FAIL" || f["status"] == "ERROR")
        .collect();
    assert_eq!(listed.iter().collect::<Vec<_>>(), kept);

    // Only PASS rows listed, and still exit 3: the example has a critical FAIL.
    let (code, out, err) = scan(&[
        "--format",
        "json",
        "--status",
        "pass",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code, 3, "{err}");
    let passing: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(passing["findings"].as_array().unwrap().len(), count("PASS"));

    // Every status named: the report is the full one, byte for byte.
    let (_, every, _) = scan(&["--format", "json", "--status", "pass,fail,muted,error"]);
    let (_, plain, _) = scan(&["--format", "json"]);
    assert_eq!(every, plain);

    // The config's `[output] statuses` is the default; `--status` overrides it.
    let dir = temp_dir("report-statuses");
    let config = write(&dir, "config.toml", "[output]\nstatuses = [\"FAIL\"]\n");
    let config = config.to_str().unwrap();
    let from_config = json_report(&["--config", config]);
    assert_eq!(
        from_config["findings"].as_array().unwrap().len(),
        count("FAIL")
    );
    let overridden = json_report(&["--config", config, "--status", "pass"]);
    assert_eq!(
        overridden["findings"].as_array().unwrap().len(),
        count("PASS")
    );
    // The table lists the statuses asked for (PASS rows too, when asked) and says so.
    let rows = |table: &str, status: &str| {
        table
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(status))
            .count()
    };
    let (_, table, _) = scan(&["--format", "table"]);
    assert_eq!(rows(&table, "FAIL"), count("FAIL"), "{table}");
    assert_eq!(rows(&table, "PASS"), 0, "{table}");
    let (_, table, _) = scan(&["--format", "table", "--status", "error,pass"]);
    assert_eq!(
        (
            rows(&table, "FAIL"),
            rows(&table, "ERROR"),
            rows(&table, "PASS")
        ),
        (0, count("ERROR"), count("PASS")),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "listing ERROR, PASS only: {} finding(s) left out",
            count("FAIL") + count("MUTED")
        )),
        "{table}"
    );

    let (code, _, err) = scan(&["--status", "passed"]);
    assert_eq!(code, 2);
    assert!(err.contains("passed") && err.contains("fail"), "{err}");
}

/// Every ASFF finding is valid BatchImportFindings input by Security Hub's own API model
/// (botocore's, through tests/tools/asff-validate, which adds the model's enums, patterns and
/// maximums and the documented text limits): the example, plus a member account that could
/// not be read, a waiver reason longer than a ProductFields value may be, and an ISO region.
#[test]
fn asff_is_valid_batch_import_findings_input() {
    let dir = temp_dir("report-asff-model");
    let text = std::fs::read_to_string(example()).unwrap();
    let mut snapshot: Value = serde_json::from_str(&text).unwrap();
    snapshot["collection_errors"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "account_id": "210987654321", "region": "global", "service": "sts",
            "operation": "AssumeRole", "error": "access_denied", "error_code": "AccessDenied",
            "message": "not authorized to perform sts:AssumeRole", "resource": null
        }));
    let member = write(
        &dir,
        "member.json",
        &serde_json::to_string(&snapshot).unwrap(),
    );
    let reason = "break-glass role, ticket SEC-42. ".repeat(100);
    let config = write(
        &dir,
        "config.toml",
        &format!(
            "[[waivers]]\ncheck = \"execution_role_admin_privileges\"\nresource = \"arn:aws:iam::*:role/service-role/sm-admin\"\nreason = \"{reason}\"\nexpires = 2999-12-31\n"
        ),
    );
    let iso = write(
        &dir,
        "iso.json",
        &text
            .replace("arn:aws:", "arn:aws-iso:")
            .replace("us-east-1", "us-iso-east-1"),
    );
    let asff = |snapshot: &Path, extra: &[&str]| -> Value {
        let out = dir.join("out.asff.json");
        let mut args = vec![
            "scan",
            "--from-snapshot",
            snapshot.to_str().unwrap(),
            "--format",
            "asff",
            "--output",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = run_bin(&args, &[]);
        assert!(code == 0 || code == 3, "{err}");
        let check = std::process::Command::new(crate::util::python())
            .arg(repo_root().join("tests/tools/asff-validate"))
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{} is not valid BatchImportFindings input:\n{}{}",
            snapshot.display(),
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
    };

    let doc = asff(&member, &["--config", config.to_str().unwrap()]);
    let findings = doc["Findings"].as_array().unwrap();
    let unreachable: Vec<&Value> = findings
        .iter()
        .filter(|f| f["AwsAccountId"] == "210987654321")
        .collect();
    assert!(!unreachable.is_empty());
    for f in &unreachable {
        assert_eq!(f["Resources"][0]["Partition"], "aws", "{f}");
        assert!(
            f["ProductArn"]
                .as_str()
                .unwrap()
                .starts_with("arn:aws:securityhub:us-east-1:210987654321:"),
            "{f}"
        );
        assert_eq!(f["Compliance"]["Status"], "NOT_AVAILABLE");
    }
    let muted = findings
        .iter()
        .find(|f| f["Workflow"]["Status"] == "SUPPRESSED")
        .unwrap();
    let kept = muted["ProductFields"]["sagemaker-auditor/WaiverReason"]
        .as_str()
        .unwrap();
    assert_eq!(kept.chars().count(), 2048);
    assert!(kept.ends_with('…') && reason.starts_with(kept.trim_end_matches('…')));
    for f in findings {
        assert_eq!(
            f["FindingProviderFields"]["Severity"]["Label"],
            f["Severity"]["Label"]
        );
        assert_eq!(f["FindingProviderFields"]["Types"], f["Types"]);
    }

    let doc = asff(&iso, &[]);
    let f = &doc["Findings"][0];
    assert_eq!(f["Resources"][0]["Partition"], "aws-us-iso", "{f}");
    assert!(
        f["ProductArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws-iso:securityhub:us-iso-east-1:"),
        "{f}"
    );
}
