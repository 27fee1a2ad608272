//! `[export.s3]` against the emulator's S3, which refuses what AWS refuses (a bucket policy's
//! explicit deny, an SSE-KMS key that does not exist; tests/emulator/server.py): objects under
//! Hive partitions, encrypted with the configured key, OCSF lines valid for 1.1.0; a denied
//! PutObject loses nothing and is written at a later scan.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fixtures::small_account;
use crate::util::{self, Account, REGION, repo_root, run_bin, temp_dir};

fn s3(account: &Account) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::new(&account.sdk)
}

async fn bucket(account: &Account, name: &str) {
    s3(account)
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("create the bucket");
}

/// Keys under `prefix`.
async fn keys(account: &Account, bucket: &str, prefix: &str) -> Vec<String> {
    let out = s3(account)
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .expect("ListObjectsV2");
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(String::from))
        .collect()
}

/// A KMS key in the account (through boto3: the tests have no KMS crate), its ARN.
fn kms_key(account: &Account) -> String {
    let out = std::process::Command::new(util::python())
        .args([
            "-c",
            "import boto3, os; print(boto3.client('kms', region_name=os.environ['AWS_REGION']).create_key()['KeyMetadata']['Arn'])",
        ])
        .envs(account.env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn write_config(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `scan` writes one object per account, region and format under
/// `prefix/account_id=…/region=…/date=…/report-<time>.<ext>`, each SSE-KMS with the key,
/// each line a finding of that partition; an unknown key writes nothing and changes neither
/// the report nor the exit code.
#[tokio::test(flavor = "multi_thread")]
async fn scan_writes_partitioned_objects_encrypted_with_the_key() {
    let (account, _) = small_account("000000000071").await;
    bucket(&account, "findings-lake").await;
    let key = kms_key(&account);
    let dir = temp_dir("s3-export-scan");
    let config = write_config(
        &dir,
        &format!(
            "regions = [\"{REGION}\"]\nmax_attempts = 2\n[cloudtrail]\nenabled = false\n\
             [export.s3]\nbucket = \"findings-lake\"\nprefix = \"/audits/sagemaker/\"\n\
             kms_key_id = \"{key}\"\nformats = [\"ocsf\", \"json\"]\n"
        ),
    );
    let (code, out, err) = run_bin(
        &["scan", "--config", &config, "--format", "json"],
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let finished: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(report["scan"]["finished_at"].clone()).unwrap();
    let partitions: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["account_id"].as_str().unwrap().to_string(),
                f["region"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(partitions.contains(&(account.id.clone(), "global".into())));
    let file = format!(
        "date={}/report-{}",
        finished.format("%Y-%m-%d"),
        finished.format("%Y%m%dT%H%M%S%.3fZ")
    );
    let mut expected: Vec<String> = partitions
        .iter()
        .flat_map(|(a, r)| {
            ["ocsf.jsonl", "findings.jsonl"]
                .map(|ext| format!("audits/sagemaker/account_id={a}/region={r}/{file}.{ext}"))
        })
        .collect();
    expected.sort();
    let mut written = keys(&account, "findings-lake", "audits/").await;
    written.sort();
    assert_eq!(written, expected);

    let mut events = Vec::new();
    for key_name in &written {
        let object = s3(&account)
            .get_object()
            .bucket("findings-lake")
            .key(key_name)
            .send()
            .await
            .unwrap();
        assert_eq!(
            object.server_side_encryption().map(|e| e.as_str()),
            Some("aws:kms"),
            "{key_name}"
        );
        assert_eq!(object.ssekms_key_id(), Some(key.as_str()), "{key_name}");
        let body = object.body.collect().await.unwrap().into_bytes();
        let lines: Vec<Value> = std::str::from_utf8(&body)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let region = key_name
            .split("/region=")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        let in_partition = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["region"] == region)
            .count();
        assert_eq!(lines.len(), in_partition, "{key_name}");
        if key_name.ends_with(".ocsf.jsonl") {
            events.extend(lines);
        } else {
            assert!(lines.iter().all(|f| f["scan_id"] == report["scan"]["id"]));
        }
    }
    // The OCSF lines are valid 1.1.0 events (the vendored schema, tests/tools/ocsf-validate).
    let events_file = dir.join("events.json");
    std::fs::write(&events_file, serde_json::to_string(&events).unwrap()).unwrap();
    crate::util::assert_valid_ocsf(&events_file);

    // A key that does not exist: S3 refuses (KMS.NotFoundException), nothing is written, the
    // report is the same and so is the exit code.
    let bogus = write_config(
        &dir,
        &format!(
            "regions = [\"{REGION}\"]\nmax_attempts = 2\n[cloudtrail]\nenabled = false\n\
             [export.s3]\nbucket = \"findings-lake\"\nprefix = \"other\"\n\
             kms_key_id = \"arn:aws:kms:{REGION}:{}:key/00000000-0000-0000-0000-000000000000\"\n",
            account.id
        ),
    );
    let (code, out, err) = run_bin(
        &["scan", "--config", &bogus, "--format", "json"],
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    let again: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(again["summary"], report["summary"]);
    assert!(err.contains("KMS.NotFoundException"), "{err}");
    assert!(keys(&account, "findings-lake", "other/").await.is_empty());
}

/// Under the daemon a bucket policy denies PutObject: the local reports are written, the
/// objects are spooled (`export_pending_objects`), and once the deny is lifted the next scan
/// writes them, the first scan's included.
#[tokio::test(flavor = "multi_thread")]
async fn a_denied_put_loses_nothing_and_is_written_at_a_later_scan() {
    let (account, _) = small_account("000000000072").await;
    bucket(&account, "denied-lake").await;
    let deny = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::denied-lake/*"}]});
    s3(&account)
        .put_bucket_policy()
        .bucket("denied-lake")
        .policy(deny.to_string())
        .send()
        .await
        .unwrap();
    let dir = temp_dir("s3-export-daemon");
    let port = util::free_port();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"regions = ["{REGION}"]
endpoint_url = "{}"
max_attempts = 2
schedule = "*/2 * * * * *"

[cloudtrail]
enabled = false

[output]
directory = "reports"

[serve]
listen = "127.0.0.1:{port}"
state_file = "state/history.db"

[export.s3]
bucket = "denied-lake"
"#,
            util::emulator().url
        ),
    )
    .unwrap();
    let daemon = util::serve(
        &config,
        &account,
        "sagemaker_auditor=info,warn",
        dir.join("daemon.log"),
    );
    util::wait_ready(port);
    let metric = |series: &str| -> Option<f64> {
        let (_, text) = util::http_get(port, "/metrics").ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    };
    let pending = r#"sagemaker_audit_export_pending_objects{destination="s3"}"#;
    util::wait_for("spooled objects", Duration::from_secs(30), || {
        metric(pending).filter(|n| *n >= 2.0)
    });
    assert!(daemon.log_text().contains("AccessDenied"));
    assert!(keys(&account, "denied-lake", "").await.is_empty());
    // The local reports do not wait for S3.
    let reports = util::report_files(&dir.join("reports"));
    assert!(!reports.is_empty());
    let first = reports
        .iter()
        .map(|r| r["scan"]["finished_at"].as_str().unwrap().to_string())
        .min()
        .unwrap();
    let first: chrono::DateTime<chrono::Utc> = first.parse().unwrap();

    s3(&account)
        .delete_bucket_policy()
        .bucket("denied-lake")
        .send()
        .await
        .unwrap();
    util::wait_for("the spool to drain", Duration::from_secs(30), || {
        (metric(pending)? == 0.0).then_some(())
    });
    let written = keys(&account, "denied-lake", "").await;
    let stamp = format!("report-{}", first.format("%Y%m%dT%H%M%S%.3fZ"));
    assert!(
        written.iter().any(|k| k.contains(&stamp)),
        "the first scan's objects ({stamp}) in {written:#?}"
    );
    let failed = r#"sagemaker_audit_exported_objects_total{destination="s3",result="failed"}"#;
    assert!(metric(failed).is_some_and(|n| n >= 2.0));
    assert!(
        std::fs::read_dir(dir.join("state/s3-pending"))
            .unwrap()
            .next()
            .is_none()
    );
}

/// `formats = ["parquet"]`: an Amazon Security Lake custom source's layout,
/// `<prefix>/region=…/accountId=…/eventDay=YYYYMMDD/…ocsf.parquet`, one object per account and
/// region (IAM's findings in the scan's region), each a Parquet file of OCSF Compliance
/// Findings whose rows are exactly the partition's findings, sorted by time.
#[tokio::test(flavor = "multi_thread")]
async fn scan_writes_security_lake_parquet() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let (account, _) = small_account("000000000918").await;
    bucket(&account, "security-lake").await;
    let dir = temp_dir("s3-export-parquet");
    let config = write_config(
        &dir,
        &format!(
            "regions = [\"{REGION}\"]\nmax_attempts = 2\n[cloudtrail]\nenabled = false\n\
             [export.s3]\nbucket = \"security-lake\"\nprefix = \"ext/sagemaker-auditor\"\n\
             formats = [\"parquet\"]\n"
        ),
    );
    let snapshot = dir.join("snapshot.json");
    let (code, out, err) = run_bin(
        &[
            "scan",
            "--config",
            &config,
            "--format",
            "json",
            "--save-snapshot",
            snapshot.to_str().unwrap(),
        ],
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let finished: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(report["scan"]["finished_at"].clone()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["region"] == "global"));
    let ids: BTreeSet<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    let written = keys(&account, "security-lake", "ext/").await;
    assert_eq!(
        written,
        [format!(
            "ext/sagemaker-auditor/region={REGION}/accountId={}/eventDay={}/report-{}.ocsf.parquet",
            account.id,
            finished.format("%Y%m%d"),
            finished.format("%Y%m%dT%H%M%S%.3fZ")
        )]
    );
    let object = s3(&account)
        .get_object()
        .bucket("security-lake")
        .key(&written[0])
        .send()
        .await
        .unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    let body_bytes = body.to_vec();
    let reader = SerializedFileReader::new(body).expect("a Parquet file");
    let rows: Vec<Value> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap().to_json_value())
        .collect();
    let uids: BTreeSet<&str> = rows
        .iter()
        .map(|r| r["metadata"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, ids);
    assert_eq!(rows.len(), findings.len());
    assert!(rows.iter().all(|r| r["class_uid"] == 2003
        && r["metadata"]["version"] == "1.1.0"
        && r["cloud"]["region"] == REGION
        && r["cloud"]["account"]["uid"] == json!(account.id)));
    let times: Vec<&str> = rows.iter().map(|r| r["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "sorted by time");

    // Read by another implementation (pyarrow, tests/tools/parquet-to-ocsf: one class, time
    // order), the rows are valid OCSF 1.1.0 events, the same as `--format ocsf` writes.
    let file = dir.join("object.parquet");
    std::fs::write(&file, &body_bytes).unwrap();
    let read = std::process::Command::new(util::python())
        .arg(repo_root().join("tests/tools/parquet-to-ocsf"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let events_file = dir.join("events.json");
    std::fs::write(&events_file, &read.stdout).unwrap();
    crate::util::assert_valid_ocsf(&events_file);
    let from_arrow: Vec<Value> = serde_json::from_slice(&read.stdout).unwrap();
    let (code, ocsf, err) = run_bin(
        &[
            "scan",
            "--from-snapshot",
            snapshot.to_str().unwrap(),
            "--format",
            "ocsf",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let mut expected: Vec<Value> = serde_json::from_str(&ocsf).unwrap();
    let by_uid = |events: &mut Vec<Value>| {
        events.sort_by(|a, b| {
            a["metadata"]["uid"]
                .as_str()
                .cmp(&b["metadata"]["uid"].as_str())
        })
    };
    let mut from_arrow = from_arrow;
    by_uid(&mut from_arrow);
    by_uid(&mut expected);
    assert_eq!(from_arrow.len(), expected.len());
    // The same events but for the scan's own times and id (the second scan's differ).
    let stable = |e: &Value| {
        let mut e = without_nulls(e);
        for (parent, key) in [
            (None, "time"),
            (Some("finding_info"), "first_seen_time"),
            (Some("finding_info"), "last_seen_time"),
            (Some("unmapped"), "scan_id"),
        ] {
            let map = match parent {
                Some(p) => e[p].as_object_mut(),
                None => e.as_object_mut(),
            };
            map.unwrap().remove(key);
        }
        e
    };
    for (got, want) in from_arrow.iter().zip(&expected) {
        assert_eq!(stable(got), stable(want));
    }
}

/// An event without its null attributes (a Parquet null reads back as absent).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// `role_arn` (a Security Lake custom source's provider role, in the lake's account, trusting
/// the scanner's account with an external id): with the right external id the object is
/// written; with a wrong one the emulator's STS refuses AssumeRole as AWS does (the trust
/// policy's condition), so nothing is written — which also shows the writes go through the
/// role, not the scanner's own credentials — AssumeRole's error is said, and neither the
/// report nor the exit code changes. (The emulator's S3 lets any account read any bucket, so
/// the writer's identity cannot be read off the object.)
#[tokio::test(flavor = "multi_thread")]
async fn the_export_writes_as_its_role() {
    let (account, _) = small_account("000000000919").await;
    let lake = util::account("000000000920").await;
    bucket(&lake, "security-lake-920").await;
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{}:root", account.id)},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "lake-ext"}},
        }],
    });
    lake.iam()
        .create_role()
        .role_name("provider")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("create the provider role");
    let dir = temp_dir("s3-export-role");
    let config_with = |external_id: &str| {
        write_config(
            &dir,
            &format!(
                "regions = [\"{REGION}\"]\nmax_attempts = 2\n[cloudtrail]\nenabled = false\n\
                 [export.s3]\nbucket = \"security-lake-920\"\nprefix = \"ext/sagemaker-auditor\"\n\
                 formats = [\"parquet\"]\nrole_arn = \"arn:aws:iam::{}:role/provider\"\n\
                 external_id = \"{external_id}\"\n",
                lake.id
            ),
        )
    };
    let config = config_with("lake-ext");
    let (code, out, err) = run_bin(
        &["scan", "--config", &config, "--format", "json"],
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("cannot assume"), "{err}");
    let written = keys(&lake, "security-lake-920", "ext/").await;
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].contains(&format!("/accountId={}/", account.id)));

    let config = config_with("guessed");
    let (code, out_refused, err) = run_bin(
        &["scan", "--config", &config, "--format", "json"],
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("cannot assume the S3 export's role"), "{err}");
    assert!(err.contains("AccessDenied"), "{err}");
    let first: Value = serde_json::from_str(&out).unwrap();
    let second: Value = serde_json::from_str(&out_refused).unwrap();
    assert_eq!(first["summary"], second["summary"]);
    assert_eq!(keys(&lake, "security-lake-920", "ext/").await, written);
}
