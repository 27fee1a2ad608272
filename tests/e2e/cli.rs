//! The binary as users run it: exit codes, messages naming file and line, snapshots saved and
//! loaded, outputs never half-written or clobbered on error.

use crate::util::{repo_root, run_bin, temp_dir};

#[test]
fn validate_accepts_the_example_config_and_names_file_and_line_of_errors() {
    let example = repo_root().join("examples/config.toml");
    let (code, out, err) = run_bin(&["validate", "--config", example.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("valid"), "{out}");

    let dir = temp_dir("validate");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "regions = [\"us-east-1\"]\n\n[checks.app_long_running]\nmax_hours = 0\n",
    )
    .unwrap();
    let (code, _, err) = run_bin(&["validate", "--config", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "{}:4: `checks.app_long_running.max_hours`",
            bad.display()
        )),
        "{err}"
    );

    std::fs::write(&bad, "regions = [\"us-east-1\"]\nregion = \"x\"\n").unwrap();
    let (code, _, err) = run_bin(&["validate", "--config", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{}:2:1:", bad.display())) && err.contains("region"),
        "{err}"
    );

    // The export sections: read and checked, named in the summary, errors with their line.
    std::fs::write(
        &bad,
        "[export.security_hub]\nregion = \"eu-west-1\"\n\n[export.s3]\nbucket = \"lake\"\nprefix = \"audits\"\n",
    )
    .unwrap();
    let (code, out, err) = run_bin(&["validate", "--config", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("exports: security_hub into eu-west-1, s3://lake/audits"),
        "{out}"
    );
    std::fs::write(
        &bad,
        "[export.s3]\nbucket = \"lake\"\nformats = [\"csv\"]\n",
    )
    .unwrap();
    let (code, _, err) = run_bin(&["validate", "--config", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{}:3: `export.s3.formats`", bad.display())),
        "{err}"
    );

    let (code, _, err) = run_bin(
        &[
            "validate",
            "--config",
            dir.join("absent.toml").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("absent.toml"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_saves_a_snapshot_that_scans_offline_to_the_same_inventory() {
    let (account, _) = crate::fixtures::small_account("000000000007").await;

    let dir = temp_dir("cli-scan");
    let snapshot = dir.join("snapshot.json");
    let live = dir.join("live.json");
    let (code, out, err) = run_bin(
        &[
            "scan",
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--region",
            "us-east-1",
            "--save-snapshot",
            snapshot.to_str().unwrap(),
            "--format",
            "inventory",
            "--output",
            live.to_str().unwrap(),
        ],
        &account.env(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let inventory: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&live).unwrap()).unwrap();
    assert_eq!(inventory["resources"]["domains"], 1);
    assert_eq!(inventory["scan"]["accounts"][0], "000000000007");
    assert_eq!(
        inventory["scan"]["regions"],
        serde_json::json!(["eu-west-1", "us-east-1"])
    );
    assert_eq!(
        inventory["scan"]["collection_errors"],
        serde_json::json!([])
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let list_domains = saved["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operation"] == "ListDomains")
        .unwrap();
    assert_eq!(
        list_domains["calls"], 2,
        "us-east-1 named twice is scanned once, eu-west-1 once"
    );

    // Offline: no credentials, no endpoint; the same snapshot gives the same inventory.
    let (code, offline, err) = run_bin(
        &[
            "scan",
            "--from-snapshot",
            snapshot.to_str().unwrap(),
            "--format",
            "inventory",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(offline, std::fs::read_to_string(&live).unwrap());

    let (code, table, _) = run_bin(
        &[
            "scan",
            "--from-snapshot",
            snapshot.to_str().unwrap(),
            "--format",
            "table",
        ],
        &[],
    );
    assert_eq!(code, 0);
    assert!(
        table.contains("of 1 account(s), 2 region(s)") && !table.contains("INCOMPLETE"),
        "{table}"
    );
}

#[test]
fn a_malformed_snapshot_is_exit_2_with_its_line_and_clobbers_nothing() {
    let dir = temp_dir("bad-snapshot");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"schema_version\": \"2\",\n  \"accounts\": 7\n}\n",
    )
    .unwrap();
    let output = dir.join("report.json");
    std::fs::write(&output, "previous report").unwrap();
    let (code, _, err) = run_bin(
        &[
            "scan",
            "--from-snapshot",
            bad.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{}:", bad.display())) && err.contains("invalid snapshot"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "previous report");

    std::fs::write(&bad, "{\"schema_version\": \"99\"}").unwrap();
    let (code, _, err) = run_bin(&["scan", "--from-snapshot", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("schema_version \"99\""), "{err}");
}

#[test]
fn an_unreachable_aws_is_exit_1_and_says_why() {
    let dir = temp_dir("unreachable");
    let config = dir.join("config.toml");
    // A port nothing listens on; one attempt so the test is quick.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(&config, format!("regions = [\"us-east-1\"]\nendpoint_url = \"http://127.0.0.1:{port}\"\nmax_attempts = 1\ncall_timeout_seconds = 5\n")).unwrap();
    let env = [
        ("AWS_ACCESS_KEY_ID", "x".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "y".to_string()),
        ("AWS_CONFIG_FILE", "/dev/null".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ];
    let (code, _, err) = run_bin(
        &[
            "scan",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("GetCallerIdentity"), "{err}");
}

#[test]
fn bad_region_is_a_usage_error() {
    let (code, _, err) = run_bin(
        &["scan", "--region", "mars-1"],
        &[("AWS_EC2_METADATA_DISABLED", "true".into())],
    );
    assert_eq!(code, 2);
    assert!(err.contains("mars-1"), "{err}");
}

/// The README's first command, minus `cargo run`.
#[test]
fn readme_main_job_runs_offline_on_the_bundled_snapshot() {
    let example = repo_root().join("examples/snapshot.json");
    let (code, out, err) = run_bin(
        &[
            "scan",
            "--from-snapshot",
            example.to_str().unwrap(),
            "--format",
            "table",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("176 results: 45 FAIL, 0 MUTED, 6 ERROR, 125 PASS"),
        "{out}"
    );
    assert!(
        out.contains("FAIL by severity: critical 1, high 11, medium 15, low 17, info 1"),
        "{out}"
    );
    assert!(
        out.contains("(18253611008 bytes, about 1.63 USD a month) belongs to domain"),
        "{out}"
    );
    // Not a terminal: no colour codes.
    assert!(!out.contains('\x1b'), "{out}");

    // The inventory of the same snapshot stays available.
    let (code, out, err) = run_bin(
        &[
            "scan",
            "--from-snapshot",
            example.to_str().unwrap(),
            "--format",
            "inventory",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let inventory: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(inventory["resources"]["domains"], 4);
}

/// `teardown-plan --from-snapshot`: the plan from a saved snapshot, with no AWS at all (no
/// credentials, no endpoint), for a live domain and for one whose storage outlived it.
#[test]
fn teardown_plans_offline_from_the_bundled_snapshot() {
    let example = repo_root().join("examples/snapshot.json");
    let snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    let region = &snapshot["accounts"][0]["regions"][0];
    let live: Vec<&str> = region["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain_id"].as_str().unwrap())
        .collect();
    let gone = region["efs_file_systems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|fs| fs["domain_id"].as_str())
        .find(|id| !live.contains(id))
        .expect("the example has a deleted domain's home EFS");
    let offline = [
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_string()),
    ];
    let plan = |domain: &str, extra: &[&str]| {
        let mut args = vec![
            "teardown-plan",
            "--domain",
            domain,
            "--from-snapshot",
            example.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run_bin(&args, &offline)
    };

    let (code, out, err) = plan(gone, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let leftovers: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(leftovers["domain"].is_null());
    let commands: Vec<String> = leftovers["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let argv = s["command"].as_array().unwrap();
            format!(
                "{} {}",
                argv[1].as_str().unwrap(),
                argv[2].as_str().unwrap()
            )
        })
        .collect();
    // Mount targets (read by the scan), then the file system, then the two NFS groups.
    let first_fs = commands.iter().position(|c| c == "efs delete-file-system");
    let first_mt = commands.iter().position(|c| c == "efs delete-mount-target");
    let first_sg = commands
        .iter()
        .position(|c| c == "ec2 delete-security-group");
    assert!(first_mt < first_fs && first_fs < first_sg, "{commands:?}");
    assert_eq!(
        commands
            .iter()
            .filter(|c| *c == "ec2 delete-security-group")
            .count(),
        2,
        "{commands:?}"
    );

    let (code, out, err) = plan(live[0], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Teardown plan for SageMaker domain {}", live[0])),
        "{out}"
    );
    assert!(out.contains("delete-domain"), "{out}");

    // A region the snapshot did not read: usage error, nothing printed as a plan.
    let (code, out, err) = plan(gone, &["--region", "ap-south-1"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("ap-south-1"), "{err}");
    // --account only narrows a snapshot.
    let (code, _, _) = run_bin(
        &[
            "teardown-plan",
            "--domain",
            gone,
            "--account",
            "123456789012",
        ],
        &offline,
    );
    assert_eq!(code, 2);
}
