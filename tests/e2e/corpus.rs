//! The corpus of bad input (tests/corpus): every malformed config, policy and snapshot is
//! refused by the real binary with exit 2 and a message naming its file and line, and the
//! output file of the run is left as it was. A file's expected line is in its name
//! (`unknown-key.line-3.toml`); a policy case is a directory (`syntax-error.line-5/`) holding
//! a file named after its check id, as every policy file must be.

use std::path::{Path, PathBuf};

use crate::util;

const SENTINEL: &str = "{\"an earlier report\": true}\n";

fn cases(kind: &str) -> Vec<(PathBuf, usize)> {
    let dir = util::repo_root().join("tests/corpus").join(kind);
    let mut cases: Vec<(PathBuf, usize)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let line = name
                .split(".line-")
                .nth(1)
                .and_then(|rest| rest.split('.').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name}: no .line-N in the name"));
            (path, line)
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "{kind}: the corpus is there");
    cases
}

/// Runs `args` (plus `--output <sentinel file>` when `output`), expecting exit 2 with
/// `file:line:` in the message and the output file untouched.
fn refused(case: &str, args: &[&str], file: &Path, line: usize, output: bool) {
    let dir = util::temp_dir(&format!("corpus-{case}"));
    let out = dir.join("out.json");
    std::fs::write(&out, SENTINEL).unwrap();
    let mut args: Vec<&str> = args.to_vec();
    let out_arg = out.to_str().unwrap().to_string();
    if output {
        args.extend(["--output", &out_arg]);
    }
    let (code, stdout, stderr) = util::run_bin(&args, &[]);
    assert_eq!(
        code, 2,
        "{case}: {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    let place = format!("{}:{line}:", file.display());
    assert!(
        stderr.contains(&place),
        "{case}: the message names {place}\nstderr: {stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        SENTINEL,
        "{case}: the output was overwritten"
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["out.json"], "{case}: nothing else written");
}

fn example_snapshot() -> String {
    util::repo_root()
        .join("examples/snapshot.json")
        .display()
        .to_string()
}

#[test]
fn every_malformed_config_is_refused_with_its_file_and_line() {
    let snapshot = example_snapshot();
    for (path, line) in cases("config") {
        let p = path.to_str().unwrap();
        let case = path.file_name().unwrap().to_string_lossy().into_owned();
        refused(&case, &["validate", "--config", p], &path, line, false);
        refused(
            &case,
            &["scan", "--config", p, "--from-snapshot", &snapshot],
            &path,
            line,
            true,
        );
        refused(&case, &["serve", "--config", p], &path, line, false);
    }
}

#[test]
fn every_malformed_policy_is_refused_with_its_file_and_line() {
    let snapshot = example_snapshot();
    let config = util::repo_root().join("examples/config.toml");
    for (dir, line) in cases("policy") {
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{}", dir.display());
        let d = dir.to_str().unwrap();
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        refused(
            &case,
            &["scan", "--from-snapshot", &snapshot, "--policy-dir", d],
            &files[0],
            line,
            true,
        );
        refused(
            &case,
            &[
                "validate",
                "--config",
                config.to_str().unwrap(),
                "--policy-dir",
                d,
            ],
            &files[0],
            line,
            false,
        );
    }
}

#[test]
fn every_malformed_snapshot_is_refused_with_its_file_and_line() {
    for (path, line) in cases("snapshot") {
        let case = path.file_name().unwrap().to_string_lossy().into_owned();
        refused(
            &case,
            &["scan", "--from-snapshot", path.to_str().unwrap()],
            &path,
            line,
            true,
        );
    }
}

/// Rego resolves function names when a rule runs, not when it loads: a call to an unknown
/// function is an evaluation error of its check, named with its file and line in the report's
/// `evaluation_errors`; the check reports no result (never a PASS), the scan is partial, and
/// the other checks still conclude.
#[test]
fn an_unknown_function_errors_its_check_and_names_the_line() {
    let dir = util::temp_dir("corpus-unknown-function");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    let file = policies.join("corpus_undefined.rego");
    std::fs::write(
        &file,
        "package corpus.undefined\n\nmetadata := {\"id\": \"corpus_undefined\", \"title\": \"t\", \"severity\": \"low\", \"resource_type\": \"domain\", \"remediation\": \"r\"}\n\nresults contains {\"resource_arn\": d.arn, \"status\": \"PASS\", \"message\": \"m\", \"evidence\": {}} if {\n    d := no_such_function(input)\n}\n",
    )
    .unwrap();
    let out = dir.join("report.json");
    let (code, _, stderr) = util::run_bin(
        &[
            "scan",
            "--from-snapshot",
            &example_snapshot(),
            "--policy-dir",
            policies.to_str().unwrap(),
            "--format",
            "json",
            "--output",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let errors = report["evaluation_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["check_id"], "corpus_undefined");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{}:6:", file.display())) && message.contains("no_such_function"),
        "{message}"
    );
    let mine: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "corpus_undefined")
        .collect();
    assert!(mine.is_empty(), "{mine:?}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check_id"] == "domain_public_internet_access" && f["status"] == "FAIL")
    );
}
