use super::*;
use crate::report::Status;

fn err(text: &str) -> String {
    Config::parse("test.toml", text).unwrap_err().to_string()
}

#[test]
fn empty_file_gives_defaults() {
    let c = Config::parse("test.toml", "").unwrap();
    assert_eq!(
        c,
        Config {
            source: Some("test.toml".into()),
            ..Config::default()
        }
    );
    assert!(c.check_tables.is_empty());
}

#[test]
fn full_file_is_read() {
    let c = Config::parse(
        "test.toml",
        r#"
regions = ["us-east-1", "eu-west-1", "us-east-1"]
endpoint_url = "http://127.0.0.1:5000"
concurrency = 4
max_attempts = 2
call_timeout_seconds = 30
schedule = "0 */15 * * * *"
jitter_seconds = 10

[output]
directory = "/var/lib/sagemaker-auditor"
format = "ocsf"
retention_days = 7
statuses = ["fail", "ERROR", "FAIL"]

[checks.app_long_running]
max_hours = 6

[checks.execution_role_shared_by_users]
max_user_profiles = 3

[checks.domain_vpconly_missing_endpoints]
required_services = ["sagemaker.api", "s3"]

[checks.efs_orphaned_home]
price_per_gb_month = 0.16
"#,
    )
    .unwrap();
    assert_eq!(c.regions.names(), ["us-east-1", "eu-west-1"]);
    assert_eq!(c.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
    assert_eq!((c.concurrency, c.max_attempts), (4, 2));
    assert_eq!(c.call_timeout, Duration::from_secs(30));
    assert_eq!(c.jitter, Duration::from_secs(10));
    assert_eq!(c.output.format, ReportFormat::Ocsf);
    assert_eq!(c.output.retention_days, 7);
    assert_eq!(c.output.statuses, [Status::Fail, Status::Error]);
    assert_eq!(Config::default().output.statuses, Status::ALL);
    // The tables as written, each value with its line; the checks' declarations judge them
    // (see the tests of `thresholds` below and of the pipeline).
    let value = |id: &str, key: &str| c.check_tables[id].values[key].clone();
    assert_eq!(
        value("app_long_running", "max_hours"),
        (serde_json::json!(6), 17)
    );
    assert_eq!(
        value("execution_role_shared_by_users", "max_user_profiles").0,
        3
    );
    assert_eq!(
        value("domain_vpconly_missing_endpoints", "required_services").0,
        serde_json::json!(["sagemaker.api", "s3"])
    );
    assert_eq!(value("efs_orphaned_home", "price_per_gb_month").0, 0.16);
    assert_eq!(c.check_tables["app_long_running"].line, 16);
}

/// Declarations like the built-in checks' (`metadata.thresholds`).
fn declared() -> BTreeMap<String, BTreeMap<String, checks::ThresholdSpec>> {
    let spec = |json: serde_json::Value| serde_json::from_value(json).unwrap();
    [
        (
            "app_long_running".to_string(),
            [(
                "max_hours".to_string(),
                spec(serde_json::json!({"type": "number", "default": 24, "exclusive_minimum": 0})),
            )]
            .into(),
        ),
        (
            "shared".to_string(),
            [(
                "max_user_profiles".to_string(),
                spec(serde_json::json!({"type": "integer", "default": 1, "minimum": 1, "maximum": 100000})),
            )]
            .into(),
        ),
        (
            "endpoints".to_string(),
            [(
                "required_services".to_string(),
                spec(serde_json::json!({"type": "strings", "default": ["s3"], "min_items": 1,
                    "pattern": "^[a-z0-9.-]+$", "not_pattern": "^com\\.amazonaws\\.",
                    "hint": "a short service name"})),
            )]
            .into(),
        ),
        ("plain".to_string(), BTreeMap::new()),
    ]
    .into()
}

fn thresholds(text: &str) -> Result<serde_json::Value, String> {
    let c = Config::parse("test.toml", text).map_err(|e| e.to_string())?;
    c.thresholds(&declared(), &|id| declared().contains_key(id))
        .map_err(|e| e.to_string())
}

#[test]
fn thresholds_are_the_declared_defaults_or_the_configured_values() {
    let d = thresholds("").unwrap();
    assert_eq!(
        d,
        serde_json::json!({"app_long_running": {"max_hours": 24}, "shared": {"max_user_profiles": 1},
            "endpoints": {"required_services": ["s3"]}})
    );
    let d = thresholds(
        "[checks.app_long_running]\nmax_hours = 6.5\n\n[checks.plain]\nanything = [1, 2]\n",
    )
    .unwrap();
    assert_eq!(d["app_long_running"]["max_hours"], 6.5);
    assert_eq!(d["shared"]["max_user_profiles"], 1);
    // A check that declares nothing gets its table as written.
    assert_eq!(d["plain"], serde_json::json!({"anything": [1, 2]}));
}

#[test]
fn thresholds_are_judged_by_their_declarations() {
    let e = thresholds("[checks.app_long_running]\nmax_minutes = 1\n").unwrap_err();
    assert_eq!(
        e,
        "test.toml:2: `checks.app_long_running.max_minutes`: app_long_running has no threshold \"max_minutes\" (it has: max_hours)"
    );
    let e = thresholds("[checks.app_long_running]\nmax_hours = -2\n").unwrap_err();
    assert_eq!(
        e,
        "test.toml:2: `checks.app_long_running.max_hours`: must be a positive number, got -2"
    );
    let e = thresholds("[checks.app_long_running]\nmax_hours = \"six\"\n").unwrap_err();
    assert!(e.contains("must be a number"), "{e}");
    let e = thresholds("[checks.shared]\n\nmax_user_profiles = 0\n").unwrap_err();
    assert_eq!(
        e,
        "test.toml:3: `checks.shared.max_user_profiles`: must be between 1 and 100000, got 0"
    );
    let e = thresholds("[checks.shared]\nmax_user_profiles = 1.5\n").unwrap_err();
    assert!(e.contains("must be an integer"), "{e}");
    let e =
        thresholds("[checks.endpoints]\nrequired_services = [\"com.amazonaws.us-east-1.s3\"]\n")
            .unwrap_err();
    assert_eq!(
        e,
        "test.toml:2: `checks.endpoints.required_services`: \"com.amazonaws.us-east-1.s3\" is not a short service name"
    );
    let e = thresholds("[checks.endpoints]\nrequired_services = []\n").unwrap_err();
    assert!(e.contains("at least one"), "{e}");
    let e = thresholds("[checks.nope]\nx = 1\n").unwrap_err();
    assert!(e.starts_with("test.toml:1: `checks.nope`"), "{e}");
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let e = err("regions = [\"us-east-1\"]\nconcurency = 3\n");
    assert!(e.starts_with("test.toml:2:1: "), "{e}");
    assert!(e.contains("concurency"), "{e}");
}

#[test]
fn unknown_check_is_an_error_once_the_checks_are_known() {
    let c = Config::parse(
        "test.toml",
        "[checks.app_long_running]\nmax_hours = 1\n\n[checks.no_such_check]\nx = 1\n",
    )
    .unwrap();
    assert_eq!(
        c.check_tables["no_such_check"].values["x"].0,
        serde_json::json!(1)
    );
    let e = c
        .validate_check_ids(&|id| id == "app_long_running")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("test.toml:4:"), "{e}");
    assert!(e.contains("no_such_check"), "{e}");
    assert!(c.validate_check_ids(&|_| true).is_ok());
}

#[test]
fn a_check_table_must_be_a_table() {
    let e = err("[checks]\nmy_check = 3\n");
    assert!(e.starts_with("test.toml:2:"), "{e}");
    assert!(e.contains("must be a table"), "{e}");
}

#[test]
fn waivers_are_read_with_their_lines() {
    let c = Config::parse(
        "test.toml",
        "regions = [\"us-east-1\"]\n\n[[waivers]]\ncheck = \"app_long_running\"\nresource = \"arn:aws:sagemaker:*:*:app/d-1/*\"\nreason = \"GPU job, ticket OPS-1\"\nexpires = 2027-01-31\n",
    )
    .unwrap();
    assert_eq!(c.waivers.len(), 1);
    let w = &c.waivers[0];
    assert_eq!(w.check_id, "app_long_running");
    assert_eq!(
        w.expires,
        chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap()
    );
    assert_eq!(w.line, 3);
    let e = c
        .validate_check_ids(&|id| id == "other")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("test.toml:3:"), "{e}");
}

#[test]
fn a_waiver_needs_every_field_and_a_date() {
    let e =
        err("[[waivers]]\ncheck = \"app_long_running\"\nresource = \"*\"\nexpires = 2027-01-31\n");
    assert!(e.contains("reason"), "{e}");
    assert!(e.starts_with("test.toml:1:"), "{e}");
    let e = err(
        "[[waivers]]\ncheck = \"app_long_running\"\nresource = \"*\"\nreason = \"x\"\nexpires = 2027-01-31T10:00:00Z\n",
    );
    assert!(e.starts_with("test.toml:5:"), "{e}");
    assert!(e.contains("must be a date"), "{e}");
    let e = err(
        "[[waivers]]\ncheck = \"app_long_running\"\nresource = \"*\"\nreason = \"  \"\nexpires = 2027-01-31\n",
    );
    assert!(e.starts_with("test.toml:4:"), "{e}");
}

#[test]
fn out_of_range_values_name_their_key_and_line() {
    let e = err("regions = [\"us-east-1\"]\n\nconcurrency = 0\n");
    assert_eq!(
        e,
        "test.toml:3: `concurrency`: must be between 1 and 256, got 0"
    );
}

#[test]
fn bad_region_schedule_url_and_format_are_rejected() {
    assert!(
        err("regions = [\"us-east-1\",\n  \"US_EAST\"]\n")
            .starts_with("test.toml:2: `regions`: \"US_EAST\"")
    );
    let e = err("schedule = \"every tuesday\"\n");
    assert!(e.starts_with("test.toml:1: `schedule`:"), "{e}");
    assert!(err("endpoint_url = \"localhost:5000\"\n").starts_with("test.toml:1: `endpoint_url`"));
    assert!(err("[output]\nformat = \"xml\"\n").starts_with("test.toml:2: `output.format`"));
    let e = err("[output]\nstatuses = [\"FAIL\",\n  \"PASSED\"]\n");
    assert!(
        e.starts_with(
            "test.toml:3: `output.statuses`: \"PASSED\" is not one of PASS, FAIL, MUTED, ERROR"
        ),
        "{e}"
    );
    let e = err("[output]\nstatuses = []\n");
    assert!(
        e.starts_with("test.toml:2: `output.statuses`: must list at least one"),
        "{e}"
    );
}

#[test]
fn wrong_type_and_syntax_errors_point_at_the_line() {
    let e = err("concurrency = \"eight\"\n");
    assert!(e.starts_with("test.toml:1:"), "{e}");
    let e = err("regions = [\"us-east-1\"\n");
    assert!(e.starts_with("test.toml:"), "{e}");
}

#[test]
fn region_names() {
    for ok in [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "cn-north-1",
        "ap-southeast-5",
    ] {
        assert!(is_region_name(ok), "{ok}");
    }
    for bad in ["", "us", "us-east", "US-EAST-1", "us-east-x", "all"] {
        assert!(!is_region_name(bad), "{bad}");
    }
}

#[test]
fn accounts_organization_shard_and_cloudtrail_are_read() {
    let c = Config::parse(
        "test.toml",
        r#"
regions = ["all"]
account_concurrency = 3
shard = "2/4"

[[accounts]]
id = "111111111111"
role_name = "SageMakerAuditor"

[[accounts]]
id = "222222222222"
role_name = "audit/SageMakerAuditor"
external_id = "sma-7f3a"

[organization]
role_name = "OrgAuditor"
exclude = ["999999999999"]

[cloudtrail]
lookback_days = 30
max_pages_per_scan = 500
"#,
    )
    .unwrap();
    assert_eq!(c.regions, Regions::All);
    let a = &c.accounts;
    assert_eq!(a.per_account_concurrency, 3);
    assert_eq!(a.shard, Some(Shard { index: 2, count: 4 }));
    assert_eq!(a.members.len(), 2);
    assert_eq!(a.members[1].role_name, "audit/SageMakerAuditor");
    assert_eq!(a.members[1].external_id.as_deref(), Some("sma-7f3a"));
    let org = a.organization.as_ref().unwrap();
    assert_eq!(
        (org.role_name.as_str(), &org.exclude[..]),
        ("OrgAuditor", &["999999999999".to_string()][..])
    );
    assert!(c.cloudtrail.enabled);
    assert_eq!(c.cloudtrail.lookback, Duration::from_secs(30 * 86_400));
    assert_eq!(c.cloudtrail.max_pages, 500);
    // Nothing configured: the default credentials' own account, CloudTrail on, 7 days.
    let d = Config::default();
    assert!(!d.accounts.is_multi_account());
    assert_eq!(d.cloudtrail.lookback, Duration::from_secs(7 * 86_400));
}

#[test]
fn bad_accounts_name_their_key_and_line() {
    for (text, line, key) in [
        (
            "[[accounts]]\nid = \"12345\"\nrole_name = \"R\"\n",
            2,
            "accounts.id",
        ),
        (
            "[[accounts]]\nid = \"111111111111\"\nrole_name = \"arn:aws:iam::1:role/R\"\n",
            3,
            "accounts.role_name",
        ),
        (
            "[[accounts]]\nid = \"111111111111\"\nrole_name = \"R\"\n[[accounts]]\nid = \"111111111111\"\nrole_name = \"R\"\n",
            5,
            "accounts.id",
        ),
        (
            "[organization]\nrole_name = \"R\"\nexclude = [\"x\"]\n",
            3,
            "organization.exclude",
        ),
        (
            "[organization]\nrole_name = \"R\"\nexternal_id = \"a b\"\n",
            3,
            "organization.external_id",
        ),
        ("shard = \"4/3\"\n", 1, "shard"),
        ("regions = [\"all\", \"us-east-1\"]\n", 1, "regions"),
        (
            "[cloudtrail]\nlookback_days = 91\n",
            2,
            "cloudtrail.lookback_days",
        ),
        (
            // Below one listing and one round of per-name lookups: a busy window never moves.
            "[cloudtrail]\nmax_pages_per_scan = 10\n",
            2,
            "cloudtrail.max_pages_per_scan",
        ),
        ("account_concurrency = 0\n", 1, "account_concurrency"),
        ("[serve]\nmax_connections = 2\n", 2, "serve.max_connections"),
        (
            "[serve]\nlisten = \"127.0.0.1:9464\"\nexternal_url = \"https://h/a?b\"\n",
            3,
            "serve.external_url",
        ),
    ] {
        let e = err(text);
        assert!(e.starts_with(&format!("test.toml:{line}:")), "{text}: {e}");
        assert!(e.contains(&format!("`{key}`")), "{text}: {e}");
    }
    // A missing role name is a parse error on the table.
    let e = err("[[accounts]]\nid = \"111111111111\"\n");
    assert!(e.contains("role_name"), "{e}");
}

#[test]
fn export_security_hub_is_read_and_checked() {
    let parse = |text: &str| Config::parse("test.toml", text).unwrap().export;
    // Absent, or switched off: no export.
    assert_eq!(parse("").security_hub, None);
    assert_eq!(
        parse("[export.security_hub]\nenabled = false\n").security_hub,
        None
    );
    // Writing the section turns it on; each finding into its own region's hub by default.
    assert_eq!(
        parse("[export.security_hub]\n").security_hub,
        Some(SecurityHubExport { region: None })
    );
    assert_eq!(
        parse("regions = [\"eu-west-1\", \"us-east-1\"]\n[export.security_hub]\nenabled = true\nregion = \"eu-west-1\"\n")
            .security_hub,
        Some(SecurityHubExport {
            region: Some("eu-west-1".into())
        })
    );
    let e = err("[export.security_hub]\nregion = \"europe\"\n");
    assert!(
        e.starts_with("test.toml:2: `export.security_hub.region`: \"europe\" is not a region name"),
        "{e}"
    );
    let e = err("regions = [\"cn-north-1\"]\n\n[export.security_hub]\nregion = \"us-east-1\"\n");
    assert!(
        e.starts_with("test.toml:4: `export.security_hub.region`:") && e.contains("partition aws,"),
        "{e}"
    );
    let e = err("[export.security_hub]\nbucket = \"x\"\n");
    assert!(
        e.starts_with("test.toml:2:") && e.contains("unknown field `bucket`"),
        "{e}"
    );
    let e = err("[export.lake]\nbucket = \"x\"\n");
    assert!(
        e.starts_with("test.toml:1:") && e.contains("unknown field `lake`"),
        "{e}"
    );
}

#[test]
fn export_s3_is_read_and_checked() {
    let parse = |text: &str| Config::parse("test.toml", text).unwrap().export.s3;
    assert_eq!(parse(""), None);
    assert_eq!(parse("[export.s3]\nenabled = false\n"), None);
    assert_eq!(
        parse("[export.s3]\nbucket = \"lake\"\n"),
        Some(S3Export {
            bucket: "lake".into(),
            prefix: String::new(),
            kms_key_id: None,
            region: None,
            formats: vec![S3Format::Ocsf],
            role_arn: None,
            external_id: None,
        })
    );
    assert_eq!(
        parse(
            "[export.s3]\nbucket = \"my.lake-1\"\nprefix = \"/a/b/\"\nkms_key_id = \"alias/audit\"\nregion = \"eu-west-1\"\nformats = [\"json\", \"OCSF\", \"json\"]\n"
        ),
        Some(S3Export {
            bucket: "my.lake-1".into(),
            prefix: "a/b".into(),
            kms_key_id: Some("alias/audit".into()),
            region: Some("eu-west-1".into()),
            formats: vec![S3Format::Json, S3Format::Ocsf],
            role_arn: None,
            external_id: None,
        })
    );
    let lake = parse(
        "[export.s3]\nbucket = \"lake\"\nformats = [\"parquet\"]\nrole_arn = \"arn:aws:iam::111122223333:role/security-lake/provider\"\nexternal_id = \"lake-7f3a\"\n",
    )
    .unwrap();
    assert_eq!(
        (
            lake.formats,
            lake.role_arn.as_deref(),
            lake.external_id.as_deref()
        ),
        (
            vec![S3Format::Parquet],
            Some("arn:aws:iam::111122223333:role/security-lake/provider"),
            Some("lake-7f3a")
        )
    );
    for (text, line, key, problem) in [
        (
            "[export.s3]\nprefix = \"x\"\n",
            1,
            "export.s3.bucket",
            "is required",
        ),
        (
            "[export.s3]\nbucket = \"My_Lake\"\n",
            2,
            "export.s3.bucket",
            "is not an S3 bucket name",
        ),
        (
            "[export.s3]\nbucket = \"ab\"\n",
            2,
            "export.s3.bucket",
            "is not an S3 bucket name",
        ),
        (
            "[export.s3]\nbucket = \"lake\"\nprefix = \"a//b\"\n",
            3,
            "export.s3.prefix",
            "empty",
        ),
        (
            "[export.s3]\nbucket = \"lake\"\nprefix = \"a/../b\"\n",
            3,
            "export.s3.prefix",
            "`..`",
        ),
        (
            "[export.s3]\nbucket = \"lake\"\nkms_key_id = \" \"\n",
            3,
            "export.s3.kms_key_id",
            "must not be empty",
        ),
        (
            "[export.s3]\nbucket = \"lake\"\nregion = \"moon\"\n",
            3,
            "export.s3.region",
            "is not a region name",
        ),
        (
            "[export.s3]\nbucket = \"lake\"\nformats = []\n",
            3,
            "export.s3.formats",
            "at least one",
        ),
        (
            "[export.s3]\nbucket = \"lake\"\nrole_arn = \"arn:aws:iam::12:role/x\"\n",
            3,
            "export.s3.role_arn",
            "is not an IAM role ARN",
        ),
        (
            "[export.s3]\nbucket = \"lake\"\nexternal_id = \"abc\"\n",
            3,
            "export.s3.external_id",
            "needs role_arn",
        ),
        (
            "[export.s3]\nbucket = \"lake\"\nformats = [\"orc\"]\n",
            3,
            "export.s3.formats",
            "\"orc\" is not one of ocsf, json, parquet",
        ),
    ] {
        let e = err(text);
        assert!(
            e.starts_with(&format!("test.toml:{line}: `{key}`:")) && e.contains(problem),
            "{text:?}: {e}"
        );
    }
}
