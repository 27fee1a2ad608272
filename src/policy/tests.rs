use std::path::PathBuf;

use super::*;

fn default_config() -> serde_json::Value {
    PolicySet::load(&[]).unwrap().default_thresholds()
}

fn temp_policies(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sma-policy-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const CHECKS_MD_IDS: &[&str] = &[
    "domain_public_internet_access",
    "domain_vpconly_subnet_public_route",
    "domain_vpconly_missing_endpoints",
    "domain_security_group_open_ingress",
    "domain_no_customer_managed_key",
    "domain_unhealthy",
    "execution_role_full_access_policy",
    "execution_role_admin_privileges",
    "execution_role_passrole_wildcard",
    "execution_role_s3_wildcard",
    "execution_role_trust_too_broad",
    "execution_role_missing",
    "execution_role_shared_by_users",
    "efs_orphaned_home",
    "security_group_orphaned_nfs",
    "app_failed",
    "app_long_running",
    "user_profile_unhealthy",
    // New in v2.
    "domain_vpconly_internet_egress",
    "space_unhealthy",
    "domain_idle_shutdown_disabled",
    "domain_user_identity_not_propagated",
    "domain_docker_access_enabled",
    "domain_notebook_sharing_unencrypted",
    "space_remote_access_enabled",
    "lifecycle_config_secret",
    "notebook_instance_direct_internet_access",
    "notebook_instance_root_access",
    "notebook_instance_not_in_vpc",
    "notebook_instance_no_customer_managed_key",
];

#[test]
fn every_policy_test_passes() {
    let set = PolicySet::load_with_tests(&[]).unwrap();
    let outcomes = set.run_tests(&default_config());
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            o.error
                .as_ref()
                .map(|e| format!("{}:{} {}: {e}", o.source, o.line, o.name))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "failing policy tests:\n{}",
        failed.join("\n")
    );
    assert!(
        outcomes.len() >= 90,
        "only {} policy tests ran",
        outcomes.len()
    );
}

#[test]
fn the_catalogue_of_checks_md_is_built_in_with_its_severities() {
    let set = PolicySet::load(&[]).unwrap();
    let mut ids: Vec<&str> = set
        .checks()
        .iter()
        .map(|c| c.metadata.id.as_str())
        .collect();
    ids.sort();
    let mut expected = CHECKS_MD_IDS.to_vec();
    expected.sort();
    assert_eq!(ids, expected);
    let severity = |id: &str| set.check(id).unwrap().metadata.severity;
    assert_eq!(
        severity("execution_role_admin_privileges"),
        Severity::Critical
    );
    assert_eq!(severity("domain_public_internet_access"), Severity::High);
    assert_eq!(
        severity("domain_vpconly_missing_endpoints"),
        Severity::Medium
    );
    assert_eq!(severity("security_group_orphaned_nfs"), Severity::Low);
    assert_eq!(severity("execution_role_shared_by_users"), Severity::Info);
    assert_eq!(severity("lifecycle_config_secret"), Severity::High);
    assert_eq!(
        severity("notebook_instance_direct_internet_access"),
        Severity::High
    );
    assert_eq!(severity("domain_idle_shutdown_disabled"), Severity::Medium);
    assert_eq!(severity("space_remote_access_enabled"), Severity::Medium);
    assert_eq!(severity("domain_vpconly_internet_egress"), Severity::Low);
    assert_eq!(severity("app_long_running"), Severity::Low);
    assert!(set.check("app_idle").is_none(), "app_idle is retired");
}

#[test]
fn every_check_has_a_test_file_with_tests() {
    let set = PolicySet::load_with_tests(&[]).unwrap();
    for check in set.checks() {
        let test_file = check.source.replace(".rego", "_test.rego");
        let count = set.tests().iter().filter(|t| t.source == test_file).count();
        assert!(
            count >= 2,
            "{} has {count} tests in {test_file}",
            check.metadata.id
        );
    }
}

const GOOD: &str = r#"package custom.checks.team_tag
metadata := {"id": "team_tag", "title": "t", "severity": "low", "resource_type": "domain", "remediation": "r"}
results contains {"resource_arn": d.arn, "status": "PASS", "message": "ok"} if {
    some a in input.accounts
    some r in a.regions
    some d in r.domains
}
"#;

#[test]
fn a_user_check_is_loaded_beside_the_built_ins() {
    let dir = temp_policies(&[("team/team_tag.rego", GOOD)]);
    let set = PolicySet::load(std::slice::from_ref(&dir)).unwrap();
    let check = set.check("team_tag").unwrap();
    assert!(!check.builtin);
    assert!(check.source.ends_with("team/team_tag.rego"));
    assert_eq!(check.line, 2);
    assert_eq!(set.checks().len(), CHECKS_MD_IDS.len() + 1);
    std::fs::remove_dir_all(dir).unwrap();
}

fn load_error(files: &[(&str, &str)]) -> String {
    let dir = temp_policies(files);
    let loaded = PolicySet::load(std::slice::from_ref(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    match loaded {
        Ok(_) => panic!("{files:?} loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let err = load_error(&[("bad.rego", "package x\n\nmetadata := {\n  \"id\": \n")]);
    assert!(err.contains("bad.rego:"), "{err}");
}

#[test]
fn a_missing_metadata_field_names_file_line_and_field() {
    let err = load_error(&[(
        "team_tag.rego",
        &GOOD.replace(r#""remediation": "r""#, r#""note": "r""#),
    )]);
    assert!(
        err.contains("team_tag.rego:2: metadata lacks the `remediation` field"),
        "{err}"
    );
}

#[test]
fn a_bad_severity_is_refused() {
    let err = load_error(&[("team_tag.rego", &GOOD.replace("\"low\"", "\"urgent\""))]);
    assert!(
        err.contains("team_tag.rego:2: metadata severity `urgent`"),
        "{err}"
    );
}

#[test]
fn a_duplicate_id_names_both_files() {
    let dup = GOOD
        .replace("custom.checks.team_tag", "custom.other.app_long_running")
        .replace("\"team_tag\"", "\"app_long_running\"");
    let err = load_error(&[("app_long_running.rego", &dup)]);
    assert!(
        err.contains("app_long_running.rego:2: duplicate check id `app_long_running`"),
        "{err}"
    );
    assert!(
        err.contains("policies/sagemaker/app_long_running.rego"),
        "{err}"
    );
}

#[test]
fn an_id_different_from_the_file_name_is_refused() {
    let err = load_error(&[("other_name.rego", GOOD)]);
    assert!(
        err.contains("must equal the file name `other_name`"),
        "{err}"
    );
}

#[test]
fn a_file_without_metadata_or_results_is_refused() {
    let err = load_error(&[("helper.rego", "package x\n\nhelper := 1\n")]);
    assert!(
        err.contains("helper.rego:1: a check needs a `metadata"),
        "{err}"
    );
    let err = load_error(&[(
        "team_tag.rego",
        "package y\nmetadata := {\"id\": \"team_tag\", \"title\": \"t\", \"severity\": \"low\", \"resource_type\": \"domain\", \"remediation\": \"r\"}\n",
    )]);
    assert!(err.contains("a check needs a `results` rule"), "{err}");
}

#[test]
fn a_malformed_result_is_an_evaluation_error_not_a_pass() {
    let bad = GOOD.replace("\"PASS\"", "\"OK\"");
    let dir = temp_policies(&[("team_tag.rego", &bad)]);
    let set = PolicySet::load(std::slice::from_ref(&dir)).unwrap();
    let input = serde_json::json!({"accounts": [{"regions": [{"domains": [{"arn": "arn:aws:sagemaker:us-east-1:1:domain/d-1"}]}]}]});
    let evaluation = set.evaluate(&input, &default_config());
    let errors: Vec<&str> = evaluation
        .errors
        .iter()
        .map(|e| e.check_id.as_str())
        .collect();
    assert!(errors.contains(&"team_tag"), "{errors:?}");
    assert!(!evaluation.results.iter().any(|r| r.check_id == "team_tag"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn results_take_account_and_region_from_the_arn_when_not_given() {
    let dir = temp_policies(&[("team_tag.rego", GOOD)]);
    let set = PolicySet::load(std::slice::from_ref(&dir)).unwrap();
    let input = serde_json::json!({"accounts": [{"regions": [{"domains": [{"arn": "arn:aws:sagemaker:eu-west-1:123456789012:domain/d-1"}]}]}]});
    let evaluation = set.evaluate(&input, &default_config());
    let result = evaluation
        .results
        .iter()
        .find(|r| r.check_id == "team_tag")
        .unwrap();
    assert_eq!(result.account_id, "123456789012");
    assert_eq!(result.region, "eu-west-1");
    assert_eq!(result.resource_type, "domain");
    assert_eq!(result.status, ResultStatus::Pass);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn domain_ids_come_from_sagemaker_arns_only() {
    let id = |arn: &str| {
        crate::vocab::Arn::parse(arn)
            .and_then(|a| a.sagemaker_domain_id())
            .map(str::to_string)
    };
    assert_eq!(
        id("arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc").as_deref(),
        Some("d-abc")
    );
    assert_eq!(
        id("arn:aws:sagemaker:us-east-1:123456789012:app/d-abc/alice/jupyterlab/default")
            .as_deref(),
        Some("d-abc")
    );
    assert_eq!(
        id("arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-abc/alice").as_deref(),
        Some("d-abc")
    );
    assert_eq!(
        id("arn:aws:sagemaker:us-east-1:123456789012:endpoint/d-abc"),
        None
    );
    assert_eq!(id("arn:aws:iam::123456789012:role/d-abc"), None);
    assert_eq!(id("not an arn"), None);
}

#[test]
fn only_policies_that_mention_events_make_them_part_of_the_input() {
    assert!(
        !PolicySet::load(&[]).unwrap().reads_events(),
        "no built-in check reads CloudTrail events"
    );
    let sign_ins = r#"package sign_ins
metadata := {"id": "sign_ins", "title": "t", "severity": "low", "resource_type": "domain", "remediation": "r"}
results contains {"resource_arn": e.resources[0], "status": "FAIL", "message": "signed in", "evidence": {}} if {
    some e in input.events
    e.event_name == "CreatePresignedDomainUrl"
}
"#;
    let dir = temp_policies(&[("sign_ins.rego", sign_ins)]);
    assert!(
        PolicySet::load(std::slice::from_ref(&dir))
            .unwrap()
            .reads_events()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A check whose evaluation panics (here: an extension it calls) is an evaluation error of
/// that check alone: the other checks' results are all there, none of its own is invented.
#[test]
fn a_panicking_check_is_an_evaluation_error_and_the_others_still_run() {
    let meta = |id: &str| {
        format!(
            "package user.{id}\nmetadata := {{\"id\": \"{id}\", \"title\": \"t\", \"severity\": \"low\", \"resource_type\": \"domain\", \"remediation\": \"r\"}}\n"
        )
    };
    let boom = format!(
        "{}results contains r if {{\n  some d in input.domains\n  test.boom(d)\n  r := {{\"resource_arn\": d, \"status\": \"PASS\", \"message\": \"m\"}}\n}}\n",
        meta("boom")
    );
    let fine = format!(
        "{}results contains r if {{\n  some d in input.domains\n  r := {{\"resource_arn\": d, \"status\": \"FAIL\", \"message\": \"m\"}}\n}}\n",
        meta("fine")
    );
    let dir = temp_policies(&[("boom.rego", &boom), ("fine.rego", &fine)]);
    let set = PolicySet::load_dirs_with(std::slice::from_ref(&dir), |engine| {
        engine.add_extension(
            "test.boom".into(),
            1,
            Box::new(|_| -> anyhow::Result<Value> { panic!("extension exploded") }),
        )
    })
    .unwrap();
    let input = serde_json::json!({"domains": ["arn:aws:sagemaker:r:1:domain/d-1"]});
    let evaluation = set.evaluate(&input, &default_config());
    assert_eq!(evaluation.errors.len(), 1, "{:?}", evaluation.errors);
    assert_eq!(evaluation.errors[0].check_id, "boom");
    assert!(evaluation.errors[0].message.contains("panicked"));
    assert_eq!(evaluation.results.len(), 1);
    assert_eq!(
        evaluation.results.iter().next().map(|r| &*r.check_id),
        Some("fine")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `results` that evaluates to undefined is an error, not an empty result set; an empty set
/// is no results.
#[test]
fn undefined_results_are_an_error_an_empty_set_is_not() {
    let meta = |id: &str| {
        format!(
            "package user.{id}\nmetadata := {{\"id\": \"{id}\", \"title\": \"t\", \"severity\": \"low\", \"resource_type\": \"domain\", \"remediation\": \"r\"}}\n"
        )
    };
    let undefined = format!(
        "{}results := x if {{\n  x := input.nothing.here\n}}\n",
        meta("undef")
    );
    let empty = format!(
        "{}results contains r if {{\n  some d in input.none\n  r := {{\"resource_arn\": d, \"status\": \"PASS\", \"message\": \"m\"}}\n}}\n",
        meta("empty")
    );
    let dir = temp_policies(&[("undef.rego", &undefined), ("empty.rego", &empty)]);
    let set = PolicySet::load_dirs_only(std::slice::from_ref(&dir)).unwrap();
    let evaluation = set.evaluate(&serde_json::json!({}), &default_config());
    let errored: Vec<&str> = evaluation
        .errors
        .iter()
        .map(|e| e.check_id.as_str())
        .collect();
    assert_eq!(errored, ["undef"]);
    assert!(evaluation.results.is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Two different results for one resource in a set-form `results` are an error of that
/// check (they would be two findings with one id), as the object form's conflict is.
#[test]
fn two_results_for_one_resource_are_an_error() {
    let twice = "package user.twice\nmetadata := {\"id\": \"twice\", \"title\": \"t\", \"severity\": \"low\", \"resource_type\": \"domain\", \"remediation\": \"r\"}\nresults contains {\"resource_arn\": \"arn:aws:sagemaker:us-east-1:111122223333:domain/d-1\", \"status\": s, \"message\": s} if some s in [\"PASS\", \"FAIL\"]\n";
    let dir = temp_policies(&[("twice.rego", twice)]);
    let set = PolicySet::load_dirs_only(std::slice::from_ref(&dir)).unwrap();
    let evaluation = set.evaluate(&serde_json::json!({}), &default_config());
    assert!(evaluation.results.is_empty(), "{:?}", evaluation.results);
    assert_eq!(evaluation.errors.len(), 1);
    assert_eq!(evaluation.errors[0].check_id, "twice");
    assert!(
        evaluation.errors[0].message.contains(
            "two different results for arn:aws:sagemaker:us-east-1:111122223333:domain/d-1"
        ),
        "{}",
        evaluation.errors[0].message
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The array form (the built-in checks with thousands of results): an identical result
/// repeated is one result, as in a set; two different results for one resource are an error.
#[test]
fn array_results_repeat_only_identical_results() {
    let arn = "arn:aws:sagemaker:us-east-1:111122223333:domain/d-1";
    let other = "arn:aws:sagemaker:us-east-1:111122223333:domain/d-2";
    let check = |id: &str, statuses: &str| {
        format!(
            "package user.{id}\nmetadata := {{\"id\": \"{id}\", \"title\": \"t\", \"severity\": \"low\", \"resource_type\": \"domain\", \"remediation\": \"r\"}}\nresults := array.concat([{{\"resource_arn\": \"{arn}\", \"status\": s, \"message\": s}} | some s in {statuses}], [{{\"resource_arn\": \"{other}\", \"status\": \"FAIL\", \"message\": \"m\"}}])\n"
        )
    };
    let same = check("same", r#"["PASS", "PASS"]"#);
    let differ = check("differ", r#"["PASS", "FAIL"]"#);
    let dir = temp_policies(&[("same.rego", &same), ("differ.rego", &differ)]);
    let set = PolicySet::load_dirs_only(std::slice::from_ref(&dir)).unwrap();
    let evaluation = set.evaluate(&serde_json::json!({}), &default_config());
    let mut kept: Vec<(&str, &str, ResultStatus)> = evaluation
        .results
        .iter()
        .map(|r| (&*r.check_id, &*r.resource_arn, r.status))
        .collect();
    kept.sort_by_key(|k| k.1);
    assert_eq!(
        kept,
        [
            ("same", arn, ResultStatus::Pass),
            ("same", other, ResultStatus::Fail)
        ]
    );
    assert_eq!(evaluation.errors.len(), 1, "{:?}", evaluation.errors);
    assert_eq!(evaluation.errors[0].check_id, "differ");
    assert!(
        evaluation.errors[0]
            .message
            .contains(&format!("two different results for {arn}")),
        "{}",
        evaluation.errors[0].message
    );
    std::fs::remove_dir_all(dir).unwrap();
}
/// Every built-in check names the AWS documentation its rule rests on.
#[test]
fn every_builtin_check_has_references() {
    let set = PolicySet::load(&[]).unwrap();
    for check in set.checks() {
        let refs = check
            .metadata
            .extra
            .get("references")
            .and_then(|r| r.as_array());
        let refs =
            refs.unwrap_or_else(|| panic!("{} has no metadata.references", check.metadata.id));
        assert!(!refs.is_empty(), "{}", check.metadata.id);
        for r in refs {
            let url = r.as_str().unwrap_or_default();
            // AWS's own pages: its documentation (global and China) and its pricing pages.
            assert!(
                [
                    "https://docs.aws.amazon.com/",
                    "https://docs.amazonaws.cn/",
                    "https://aws.amazon.com/"
                ]
                .iter()
                .any(|host| url.starts_with(host)),
                "{}: {r}",
                check.metadata.id
            );
        }
    }
}

// --- partitioned evaluation (metadata.scope) ---------------------------------------------

/// Results in a canonical order, for comparing two evaluations.
fn sorted(mut results: Vec<CheckResult>) -> Vec<CheckResult> {
    results.sort_by(|a, b| (&a.check_id, &a.resource_arn).cmp(&(&b.check_id, &b.resource_arn)));
    results
}

/// The built-in checks evaluated on their partitions give exactly the results of the whole
/// snapshot at once: every check's declared scope is right for this snapshot.
fn assert_partitioned_equals_whole(snapshot: &crate::snapshot::Snapshot) {
    let set = PolicySet::load(&[]).unwrap();
    let config = default_config();
    let whole = set.evaluate(&snapshot.policy_input(set.reads_events()), &config);
    let partitioned = set.evaluate_snapshot(snapshot, &config);
    assert!(whole.errors.is_empty(), "{:?}", whole.errors);
    assert!(partitioned.errors.is_empty(), "{:?}", partitioned.errors);
    assert!(!whole.results.is_empty());
    let (whole, partitioned) = (
        sorted(whole.results.into_vec()),
        sorted(partitioned.results.into_vec()),
    );
    assert_eq!(whole.len(), partitioned.len());
    for (w, p) in whole.iter().zip(&partitioned) {
        assert_eq!(w, p);
    }
}

#[test]
fn partitioned_evaluation_equals_whole_on_the_example_snapshot() {
    let snapshot = crate::snapshot::Snapshot::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/snapshot.json"
    )))
    .unwrap();
    assert!(snapshot.resource_counts().domains > 1);
    assert_partitioned_equals_whole(&snapshot);
}

#[test]
fn partitioned_evaluation_equals_whole_on_a_synthetic_account() {
    // The benchmark's generator, smaller: 6 domains (half VpcOnly), 40 profiles each, with
    // their apps and roles, added to the example snapshot's first account and region. Every
    // profile with its own role: more roles than one conversion task takes.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/synthetic-snapshot");
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/snapshot.json");
    let output = std::process::Command::new("python3")
        .args([
            script,
            "--domains",
            "6",
            "--profiles",
            "40",
            "--own-role-every",
            "1",
        ])
        .args(["--base", base])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let snapshot = crate::snapshot::Snapshot::from_json("synthetic", &text).unwrap();
    assert!(snapshot.resource_counts().apps >= 6 * 40 * 3);
    assert!(snapshot.accounts[0].execution_roles.len() > 2 * super::partition::ROLES_PER_TASK);
    assert_partitioned_equals_whole(&snapshot);
}

#[test]
fn every_builtin_check_declares_its_scope() {
    let set = PolicySet::load(&[]).unwrap();
    for check in set.checks() {
        assert_ne!(
            check.metadata.scope,
            Scope::Snapshot,
            "{} evaluates on the whole snapshot",
            check.metadata.id
        );
    }
    assert_eq!(
        set.check("app_long_running").unwrap().metadata.scope,
        Scope::Domain
    );
    assert_eq!(
        set.check("execution_role_admin_privileges")
            .unwrap()
            .metadata
            .scope,
        Scope::Account
    );
}

#[test]
fn an_unknown_scope_is_refused_with_file_and_line() {
    let err = load_error(&[(
        "team_tag.rego",
        &GOOD.replace(
            r#""remediation": "r""#,
            r#""remediation": "r", "scope": "galaxy""#,
        ),
    )]);
    assert!(
        err.contains("team_tag.rego:2: metadata: unknown variant `galaxy`"),
        "{err}"
    );
}

/// A two-region snapshot: us-east-1 with domains d-1 and d-2 (d-1 with an app), eu-west-1
/// without domains, and one role.
fn two_region_snapshot() -> crate::snapshot::Snapshot {
    let domain = |id: &str, apps: serde_json::Value| {
        serde_json::json!({
            "domain_id": id, "arn": format!("arn:aws:sagemaker:us-east-1:111122223333:domain/{id}"),
            "name": id, "status": "InService", "described": true,
            "subnet_ids": [], "domain_security_group_ids": [], "docker_vpc_only_trusted_accounts": [],
            "user_profiles": [], "spaces": [], "apps": apps,
        })
    };
    let app = serde_json::json!({
        "name": "default", "app_type": "JupyterServer",
        "arn": "arn:aws:sagemaker:us-east-1:111122223333:app/d-1/u/jupyterserver/default",
        "domain_id": "d-1", "user_profile_name": "u", "status": "InService",
        "described": false,
    });
    let region = |name: &str, domains: Vec<serde_json::Value>| {
        serde_json::json!({
            "region": name, "domains": domains,
            "network": {"subnets": [], "route_tables": [], "vpc_endpoints": [], "security_groups": []},
            "efs_file_systems": [], "notebook_instances": [], "lifecycle_configs": [],
        })
    };
    let mut base = crate::snapshot::Snapshot::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/snapshot.json"
    )))
    .unwrap();
    let mut account = base.accounts.remove(0);
    let mut east: crate::snapshot::RegionSnapshot = serde_json::from_value(region(
        "us-east-1",
        vec![
            domain("d-1", serde_json::json!([app])),
            domain("d-2", serde_json::json!([])),
        ],
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let mut west: crate::snapshot::RegionSnapshot =
        serde_json::from_value(region("eu-west-1", vec![])).unwrap();
    east.network = account.regions[0].network.clone();
    west.network = account.regions[0].network.clone();
    account.account_id = "111122223333".into();
    account.regions = vec![east, west];
    account.execution_roles.truncate(1);
    base.accounts = vec![account];
    base.collection_errors.clear();
    base
}

fn scoped_check(id: &str, scope: &str, body: &str) -> String {
    format!(
        "package user.{id}\nmetadata := {{\"id\": \"{id}\", \"title\": \"t\", \"severity\": \"low\", \"resource_type\": \"domain\", \"remediation\": \"r\", \"scope\": \"{scope}\"}}\n{body}"
    )
}

#[test]
fn each_scope_sees_its_partition_of_the_input() {
    // Each check reports what its input held: the domains, regions and apps it saw.
    let seen = r#"
roles_seen(account) := count(account.execution_roles) if account.execution_roles
else := "absent"

results contains {"resource_arn": sprintf("arn:aws:sagemaker:%s:%s:domain/%s", [region.region, account.account_id, concat(",", [d.domain_id | some d in region.domains])]), "status": "PASS", "message": sprintf("regions=%d domains=%d apps=%s roles=%v", [count(account.regions), count(region.domains), concat(",", [sprintf("%v", [object.get(d, "apps", "absent")]) | some d in region.domains]), roles_seen(account)])} if {
	some account in input.accounts
	some region in account.regions
}
"#;
    let dir = temp_policies(&[
        (
            "seen_by_domain.rego",
            &scoped_check("seen_by_domain", "domain", seen),
        ),
        (
            "seen_by_account.rego",
            &scoped_check("seen_by_account", "account", seen),
        ),
        (
            "seen_by_snapshot.rego",
            &scoped_check("seen_by_snapshot", "snapshot", seen),
        ),
    ]);
    let set = PolicySet::load_dirs_only(std::slice::from_ref(&dir)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let evaluation = set.evaluate_snapshot(&two_region_snapshot(), &default_config());
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    let of = |check: &str| -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = evaluation
            .results
            .iter()
            .filter(|r| r.check_id == check)
            .map(|r| {
                let arn = r.resource_arn.rsplit('/').next().unwrap_or_default();
                (format!("{}:{arn}", r.region), r.message.to_string())
            })
            .collect();
        found.sort();
        found
    };
    // One domain at a time, a region without domains once; the account's roles in each.
    assert_eq!(
        of("seen_by_domain"),
        vec![
            (
                "eu-west-1:".to_string(),
                "regions=1 domains=0 apps= roles=absent".to_string()
            ),
            (
                "us-east-1:d-1".into(),
                format!(
                    "regions=1 domains=1 apps={} roles=absent",
                    r#"[{"app_type": "JupyterServer", "arn": "arn:aws:sagemaker:us-east-1:111122223333:app/d-1/u/jupyterserver/default", "creation_time": null, "described": false, "domain_id": "d-1", "failure_reason": null, "instance_type": null, "name": "default", "sagemaker_image_arn": null, "space_name": null, "status": "InService", "user_profile_name": "u"}]"#
                )
            ),
            (
                "us-east-1:d-2".into(),
                "regions=1 domains=1 apps=[] roles=absent".into()
            ),
        ]
    );
    // The whole account, its domains without apps (absent, not empty).
    assert_eq!(
        of("seen_by_account"),
        vec![
            (
                "eu-west-1:".to_string(),
                "regions=2 domains=0 apps= roles=1".to_string()
            ),
            (
                "us-east-1:d-1,d-2".into(),
                "regions=2 domains=2 apps=absent,absent roles=1".into()
            ),
        ]
    );
    assert_eq!(of("seen_by_snapshot").len(), 2);
    assert!(of("seen_by_snapshot")[1].1.contains("apps=[{"));
}

#[test]
fn a_domain_check_whose_results_depend_on_other_domains_is_an_error() {
    // Reports its region with the domains it sees: each domain's partition sees another.
    let naming = r#"
results contains {"resource_arn": sprintf("arn:aws:sagemaker:%s:%s:region", [region.region, account.account_id]), "status": "PASS", "message": concat(",", [d.domain_id | some d in region.domains])} if {
	some account in input.accounts
	some region in account.regions
}
"#;
    // The same region-level result in every partition: kept once.
    let agreeing = r#"
results contains {"resource_arn": sprintf("arn:aws:sagemaker:%s:%s:region", [region.region, account.account_id]), "status": "PASS", "message": "a region"} if {
	some account in input.accounts
	some region in account.regions
}
"#;
    let dir = temp_policies(&[
        ("naming.rego", &scoped_check("naming", "domain", naming)),
        (
            "agreeing.rego",
            &scoped_check("agreeing", "domain", agreeing),
        ),
    ]);
    let set = PolicySet::load_dirs_only(std::slice::from_ref(&dir)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let evaluation = set.evaluate_snapshot(&two_region_snapshot(), &default_config());
    assert_eq!(evaluation.errors.len(), 1, "{:?}", evaluation.errors);
    assert_eq!(evaluation.errors[0].check_id, "naming");
    assert!(
        evaluation.errors[0].message.contains(
            "partitions of the input gave different results for arn:aws:sagemaker:us-east-1:111122223333:region"
        ),
        "{}",
        evaluation.errors[0].message
    );
    assert!(!evaluation.results.iter().any(|r| r.check_id == "naming"));
    let agreeing: Vec<&str> = evaluation
        .results
        .iter()
        .filter(|r| r.check_id == "agreeing")
        .map(|r| r.region.as_str())
        .collect();
    assert_eq!(agreeing.len(), 2, "{agreeing:?}");
}

#[test]
fn a_check_failing_in_one_partition_has_no_results_at_all() {
    // d-2's result is malformed; d-1's is fine. Keeping d-1's alone would make the
    // findings of d-2 look resolved.
    let body = r#"
results contains {"resource_arn": d.arn, "status": status, "message": "m"} if {
	some account in input.accounts
	some region in account.regions
	some d in region.domains
	status := {"d-1": "PASS", "d-2": "OK"}[d.domain_id]
}
"#;
    let dir = temp_policies(&[("flaky.rego", &scoped_check("flaky", "domain", body))]);
    let set = PolicySet::load_dirs_only(std::slice::from_ref(&dir)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let evaluation = set.evaluate_snapshot(&two_region_snapshot(), &default_config());
    assert!(evaluation.results.is_empty(), "{:?}", evaluation.results);
    assert_eq!(evaluation.errors.len(), 1, "{:?}", evaluation.errors);
    assert!(
        evaluation.errors[0]
            .message
            .contains("(evaluating domain d-2 of account 111122223333 in us-east-1)"),
        "{}",
        evaluation.errors[0].message
    );
}

/// Scans judge without the `_test.rego` files (half the Rego: slower to clone, more memory);
/// `policy test` loads them, with the same checks.
#[test]
fn scans_load_no_test_file() {
    let scan = PolicySet::load(&[]).unwrap();
    let test = PolicySet::load_with_tests(&[]).unwrap();
    assert!(scan.tests().is_empty(), "{} test rules", scan.tests().len());
    assert!(test.tests().len() >= 90);
    let ids = |set: &PolicySet| -> Vec<String> {
        set.checks().iter().map(|c| c.metadata.id.clone()).collect()
    };
    assert_eq!(ids(&scan), ids(&test));
    // A test file that does not even parse does not stop a scan; `policy test` names it.
    let broken = "package user.broken_test\ntest_x if {\n";
    let dir = temp_policies(&[("broken_test.rego", broken)]);
    let scan = PolicySet::load(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(ids(&scan), ids(&test));
    let Err(e) = PolicySet::load_with_tests(std::slice::from_ref(&dir)) else {
        panic!("a broken test file loaded");
    };
    assert!(e.to_string().contains("broken_test.rego"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn first_of_each_keeps_the_first_of_identical_repeats_across_chunks_in_order() {
    let mut chunks = vec![
        vec![("a", 1), ("b", 2), ("a", 1)],
        vec![],
        vec![("c", 3), ("b", 2), ("d", 4)],
    ];
    super::first_of_each(&mut chunks, |(k, _)| k).unwrap();
    assert_eq!(
        chunks,
        vec![vec![("a", 1), ("b", 2)], vec![], vec![("c", 3), ("d", 4)]]
    );
    let before = vec![vec![("a", 1)], vec![("b", 2), ("a", 9)]];
    let mut after = before.clone();
    assert_eq!(
        super::first_of_each(&mut after, |(k, _)| k),
        Err("a".to_string())
    );
    assert_eq!(after, before, "an error changes nothing");
}
