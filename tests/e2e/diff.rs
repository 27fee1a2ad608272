//! `diff OLD NEW` through the binary: two findings reports and two snapshots of the bundled
//! example, one of them changed (a domain made public, an app deleted, a user profile with a
//! hostile name added); the Markdown output rendered by a CommonMark renderer.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{self, repo_root, run_bin, temp_dir};

const DOMAIN: &str = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-xzuf741hpu5y";
const APP: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:app/d-qpawpcapk0fm/bob/jupyterserver/default";
const HOSTILE: &str = "<script>alert(1)</script>|x";

/// The example snapshot, and a copy with the three changes.
fn snapshots(dir: &Path) -> (PathBuf, PathBuf) {
    let old = repo_root().join("examples/snapshot.json");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&old).unwrap()).unwrap();
    let domains = s["accounts"][0]["regions"][0]["domains"]
        .as_array_mut()
        .unwrap();
    for d in domains.iter_mut() {
        if d["arn"] == DOMAIN {
            d["app_network_access_type"] = "PublicInternetOnly".into();
        }
        if d["domain_id"] == "d-qpawpcapk0fm" {
            let apps = d["apps"].as_array_mut().unwrap();
            let before = apps.len();
            apps.retain(|a| a["arn"] != APP);
            assert_eq!(apps.len(), before - 1, "the example has {APP}");
            let mut profile = d["user_profiles"][0].clone();
            let arn = profile["arn"].as_str().unwrap().rsplit_once('/').unwrap().0;
            profile["arn"] = format!("{arn}/{HOSTILE}").into();
            profile["name"] = HOSTILE.into();
            d["user_profiles"].as_array_mut().unwrap().push(profile);
        }
    }
    let new = dir.join("changed.json");
    std::fs::write(&new, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    (old, new)
}

/// `scan --from-snapshot SNAPSHOT --format json` (with `extra`) into DIR/NAME.
fn report(dir: &Path, snapshot: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "scan",
        "--from-snapshot",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = run_bin(&args, &[]);
    assert!(code == 0 || code == 3, "{err}");
    out
}

fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["diff", old.to_str().unwrap(), new.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_bin(&args, &[])
}

fn json(old: &Path, new: &Path) -> Value {
    let (code, out, err) = diff(old, new, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn arns(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource_arn"].as_str().unwrap())
        .collect()
}

#[test]
fn two_reports_new_resolved_and_fail_on() {
    let dir = temp_dir("diff-reports");
    let (old_snapshot, new_snapshot) = snapshots(&dir);
    let old = report(&dir, &old_snapshot, "old.json", &[]);
    let new = report(&dir, &new_snapshot, "new.json", &[]);

    let d = json(&old, &new);
    assert_eq!(d["compared"], "report");
    assert_eq!(arns(&d["findings"]["new"]), [DOMAIN]);
    let entry = &d["findings"]["new"][0];
    assert_eq!(entry["check_id"], "domain_public_internet_access");
    assert_eq!(
        (&entry["old_status"], &entry["new_status"]),
        (&"PASS".into(), &"FAIL".into())
    );
    assert!(d["findings"]["resolved"].as_array().unwrap().is_empty());
    // The deleted app's findings all passed, the new profile's pass or fail as its twin did:
    // none of them is new or resolved unless it fails.
    assert!(d["findings"]["disappeared_not_failing"].as_u64().unwrap() > 0);
    assert!(d.get("resources").is_none());

    // The same diff read backwards: the public domain is resolved.
    let back = json(&new, &old);
    assert_eq!(arns(&back["findings"]["resolved"]), [DOMAIN]);
    assert_eq!(back["findings"]["resolved"][0]["new_status"], "PASS");

    // --fail-on judges only new FAILs: a high one appeared, no critical one did.
    assert_eq!(diff(&old, &new, &["--fail-on", "high"]).0, 3);
    assert_eq!(diff(&old, &new, &["--fail-on", "critical"]).0, 0);
    assert_eq!(diff(&new, &old, &["--fail-on", "info"]).0, 0);
    let (code, table, err) = diff(&old, &new, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("findings: 1 new, 0 resolved"), "{table}");
    assert!(
        table.contains("PASS -> FAIL") && table.contains(DOMAIN),
        "{table}"
    );

    // A filtered report says that absence may be filtering.
    let filtered = report(&dir, &new_snapshot, "filtered.json", &["--status", "fail"]);
    let (_, table, _) = diff(&old, &filtered, &[]);
    assert!(
        table.contains("note: NEW lists only FAIL findings"),
        "{table}"
    );
}

#[test]
fn two_snapshots_resources_and_findings_in_rendered_markdown() {
    let dir = temp_dir("diff-snapshots");
    let (old, new) = snapshots(&dir);
    let d = json(&old, &new);
    assert_eq!(d["compared"], "snapshot");
    assert_eq!(arns(&d["findings"]["new"]), [DOMAIN]);
    let resources = &d["resources"];
    let ids = |key: &str| -> Vec<(String, String)> {
        resources[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["kind"].as_str().unwrap().into(),
                    r["id"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let hostile_arn =
        format!("arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-qpawpcapk0fm/{HOSTILE}");
    assert_eq!(ids("added"), [("user_profile".into(), hostile_arn.clone())]);
    assert_eq!(ids("removed"), [("app".into(), APP.into())]);
    // Only the domain's own field: its apps and profiles are resources of their own.
    assert_eq!(ids("changed"), [("domain".into(), DOMAIN.into())]);
    assert_eq!(
        resources["changed"][0]["fields"],
        serde_json::json!(["app_network_access_type"])
    );
    // Unchanged: the same snapshot against itself.
    let same = json(&old, &old);
    assert!(same["findings"]["new"].as_array().unwrap().is_empty());
    assert!(same["resources"]["changed"].as_array().unwrap().is_empty());
    assert!(same["resources"]["unchanged"].as_u64().unwrap() > 50);

    // Markdown, rendered as a CommonMark renderer with tables (markdown-it-py) renders it:
    // the tables keep their columns and the hostile name stays text.
    let (code, markdown, err) = diff(&old, &new, &["--format", "markdown"]);
    assert_eq!(code, 0, "{err}");
    let rendered = render(&dir, &markdown);
    let tables: Vec<Value> = serde_json::from_str::<Value>(&rendered).unwrap()["tables"]
        .as_array()
        .unwrap()
        .clone();
    let texts = serde_json::from_str::<Value>(&rendered).unwrap()["html"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!texts.contains("<script>"), "{texts}");
    assert!(
        texts.contains("&lt;script&gt;alert(1)&lt;/script&gt;|x"),
        "{texts}"
    );
    // New findings, added, removed and changed resources: four tables, every row with as
    // many cells as its header.
    assert_eq!(tables.len(), 4, "{markdown}");
    for t in &tables {
        let rows = t.as_array().unwrap();
        let width = rows[0].as_array().unwrap().len();
        assert!(
            rows.iter().all(|r| r.as_array().unwrap().len() == width),
            "{t}"
        );
    }
    let added = &tables[1].as_array().unwrap()[1];
    assert_eq!(added[1], hostile_arn.as_str(), "{added}");
    assert_eq!(tables[0][1][1], "PASS → FAIL");

    // Not two of a kind: refused with exit 2 naming both files.
    let old_report = report(&dir, &old, "old.json", &[]);
    let (code, _, err) = diff(&old_report, &new, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("must both be"), "{err}");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\n  \"findings\": [\n  oops\n").unwrap();
    let (code, _, err) = diff(&broken, &new, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("broken.json:3:"), "{err}");
}

/// The HTML of `markdown` and the text of every table cell (row by row), by markdown-it-py
/// (CommonMark, tables on).
fn render(dir: &Path, markdown: &str) -> String {
    let input = dir.join("diff.md");
    std::fs::write(&input, markdown).unwrap();
    let script = r#"
import json, sys
from markdown_it import MarkdownIt
md = MarkdownIt("commonmark").enable("table")
text = open(sys.argv[1]).read()
tokens = md.parse(text)
tables, row, cell = [], None, None
for t in tokens:
    if t.type == "table_open": tables.append([])
    elif t.type == "tr_open": row = []
    elif t.type == "tr_close": tables[-1].append(row)
    elif t.type == "inline" and row is not None and cell is not None:
        cell.append("".join(c.content for c in t.children if c.type in ("text", "code_inline")))
    elif t.type in ("th_open", "td_open"): cell = []
    elif t.type in ("th_close", "td_close"):
        row.append("".join(cell)); cell = None
print(json.dumps({"html": md.render(text), "tables": tables}))
"#;
    let out = std::process::Command::new(util::python())
        .args(["-c", script, input.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
