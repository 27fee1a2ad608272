//! `[export.s3]`: each scan's findings written to an S3 bucket, one object per account,
//! region and format, under Hive-style partitions Athena and Glue read as columns:
//! `<prefix>/account_id=<id>/region=<region>/date=<YYYY-MM-DD>/report-<time>.<ext>`
//! (IAM's global findings under `region=global`). Each object is one `PutObject`: S3 never
//! shows a partial object, and a failed call leaves none. SSE-KMS with `kms_key_id` when it
//! is given (the caller then needs `kms:GenerateDataKey` on the key).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
//! <https://docs.aws.amazon.com/athena/latest/ug/partitions.html>
//!
//! The daemon keeps what it could not write in a spool directory beside its history, written
//! atomically, and sends it again before the next scan's objects; the local report files are
//! written before any of this and never depend on it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use crate::collect::{AwsClients, ClientSettings};
use crate::config::{Config, S3Export, S3Format};
use crate::report::Report;

/// What the export calls: `kms:GenerateDataKey` only with `kms_key_id`.
pub const ACTIONS: &[&str] = &["s3:PutObject", "kms:GenerateDataKey"];

/// One object to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub key: String,
    pub body: Vec<u8>,
}

/// An object S3 did not take.
#[derive(Debug)]
pub struct Failed {
    pub object: Object,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// Objects written (spooled ones included).
    pub written: usize,
    pub failed: Vec<Failed>,
}

/// The objects of `report` (as the report files list it: `[output] statuses` applied), by
/// account and region in key order; none for an account and region without findings.
pub fn objects(report: &Report, s3: &S3Export) -> Vec<Object> {
    let mut parts: BTreeMap<(&str, &str), Vec<&crate::report::Finding>> = BTreeMap::new();
    for f in &report.findings {
        parts
            .entry((f.account_id.as_str(), f.region.as_str()))
            .or_default()
            .push(f);
    }
    let at = report.scan.finished_at;
    let date = at.format("%Y-%m-%d");
    let stamp = at.format("%Y%m%dT%H%M%S%.3fZ");
    let mut out = Vec::new();
    let key_of = |rest: String| {
        if s3.prefix.is_empty() {
            rest
        } else {
            format!("{}/{rest}", s3.prefix)
        }
    };
    if s3.formats.contains(&S3Format::Parquet) {
        out.extend(security_lake_objects(report, &key_of));
    }
    for ((account, region), findings) in parts {
        for format in s3.formats.iter().filter(|f| **f != S3Format::Parquet) {
            let mut body = Vec::new();
            for f in &findings {
                let line = match format {
                    S3Format::Ocsf | S3Format::Parquet => {
                        serde_json::to_vec(&crate::report::ocsf::event(report, f))
                    }
                    S3Format::Json => serde_json::to_vec(&with_scan_id(report, f)),
                };
                body.extend(line.unwrap_or_default());
                body.push(b'\n');
            }
            let key = key_of(format!(
                "account_id={account}/region={region}/date={date}/report-{stamp}.{}",
                format.extension()
            ));
            out.push(Object { key, body });
        }
    }
    out
}

/// The Parquet objects of an Amazon Security Lake custom source: OCSF events of one class,
/// one object per account and region under
/// `<prefix>/region=<region>/accountId=<id>/eventDay=<YYYYMMDD>/`, `prefix` being the source's
/// location (`ext/<source name>`). IAM's global findings go to the scan's first region, the
/// region their events carry (Security Lake partitions are real regions).
/// <https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html>
fn security_lake_objects(report: &Report, key_of: &dyn Fn(String) -> String) -> Vec<Object> {
    let mut parts: BTreeMap<(&str, &str), Vec<&crate::report::Finding>> = BTreeMap::new();
    for f in &report.findings {
        parts
            .entry((f.account_id.as_str(), crate::report::home_region(report, f)))
            .or_default()
            .push(f);
    }
    let at = report.scan.finished_at;
    let day = at.format("%Y%m%d");
    let stamp = at.format("%Y%m%dT%H%M%S%.3fZ");
    let mut out = Vec::new();
    for ((account, region), findings) in parts {
        let key = key_of(format!(
            "region={region}/accountId={account}/eventDay={day}/report-{stamp}.{}",
            S3Format::Parquet.extension()
        ));
        match crate::report::parquet::ocsf_events(report, &findings) {
            Ok(body) => out.push(Object { key, body }),
            // Not expected (the events follow the schema by construction); never a panic.
            Err(e) => tracing::error!(key, error = %e, "cannot write the Parquet object"),
        }
    }
    out
}

/// A finding as the report has it, plus the scan it belongs to (a line stands alone).
fn with_scan_id(report: &Report, f: &crate::report::Finding) -> serde_json::Value {
    let mut value = serde_json::to_value(f).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("scan_id".into(), report.scan.id.clone().into());
    }
    value
}

/// The bucket's region: the configured one, the default chain's, or the first scanned.
fn bucket_region(s3: &S3Export, clients: &AwsClients, report_regions: &[String]) -> String {
    s3.region
        .clone()
        .or_else(|| clients.default_region())
        .or_else(|| report_regions.first().cloned())
        .unwrap_or_else(|| "us-east-1".into())
}

/// The media type of an object, by its key.
fn content_type(key: &str) -> &'static str {
    if key.ends_with(".parquet") {
        // Registered with IANA in 2024.
        "application/vnd.apache.parquet"
    } else {
        "application/x-ndjson"
    }
}

/// Writes `objects` with the scanner's own credentials, or `role_arn`'s (assumed first: when
/// it cannot be, every object fails with AssumeRole's error), one PutObject each, a few at
/// once.
pub async fn put_all(
    config: &Config,
    s3: &S3Export,
    report_regions: &[String],
    objects: Vec<Object>,
) -> Outcome {
    let settings = ClientSettings {
        endpoint_url: config.endpoint_url.clone(),
        max_attempts: config.max_attempts,
        call_timeout: config.call_timeout,
    };
    let mut clients = AwsClients::from_env(&settings).await;
    if let Some(arn) = &s3.role_arn {
        let role =
            crate::collect::AssumedRole::for_role(clients.sts(), arn, s3.external_id.clone());
        if let Err((code, message)) = role.check().await {
            tracing::warn!(role = %arn, code, "cannot assume the S3 export's role: {message}");
            return Outcome {
                written: 0,
                failed: objects
                    .into_iter()
                    .map(|object| Failed {
                        object,
                        code: code.clone(),
                        message: message.clone(),
                    })
                    .collect(),
            };
        }
        clients = clients.with_credentials(role);
    }
    let client = clients.s3(&bucket_region(s3, &clients, report_regions));
    use futures::StreamExt;
    let puts = objects.into_iter().map(|object| {
        let client = client.clone();
        async move {
            let mut request = client
                .put_object()
                .bucket(&s3.bucket)
                .key(&object.key)
                .content_type(content_type(&object.key))
                .body(ByteStream::from(object.body.clone()));
            if let Some(key) = &s3.kms_key_id {
                request = request
                    .server_side_encryption(ServerSideEncryption::AwsKms)
                    .ssekms_key_id(key);
            }
            match request.send().await {
                Ok(_) => Ok(()),
                Err(err) => {
                    let c = crate::collect::classify_error(&err);
                    Err(Failed {
                        object,
                        code: c.code.unwrap_or_else(|| c.kind.as_str().to_string()),
                        message: c.message,
                    })
                }
            }
        }
    });
    let mut outcome = Outcome::default();
    let mut done = futures::stream::iter(puts).buffer_unordered(4);
    while let Some(result) = done.next().await {
        match result {
            Ok(()) => outcome.written += 1,
            Err(failed) => outcome.failed.push(failed),
        }
    }
    outcome
        .failed
        .sort_by(|a, b| a.object.key.cmp(&b.object.key));
    outcome
}

/// Writes the report's objects, logging what failed; the objects not written are returned
/// in `failed` for the caller to keep (the daemon) or report (`scan`).
pub async fn export(
    config: &Config,
    s3: &S3Export,
    report: &Report,
    pending: Vec<Object>,
) -> Outcome {
    let mut todo = pending;
    let spooled = todo.len();
    todo.extend(objects(report, s3));
    let planned = todo.len();
    let started = std::time::Instant::now();
    let outcome = put_all(config, s3, &report.scan.regions, todo).await;
    for f in &outcome.failed {
        tracing::warn!(bucket = %s3.bucket, key = %f.object.key, code = %f.code, "S3 did not take an object: {}", f.message);
    }
    let duration_ms = started.elapsed().as_millis() as u64;
    let failed = outcome.failed.len();
    if failed == 0 {
        tracing::info!(bucket = %s3.bucket, objects = planned, spooled, written = outcome.written, duration_ms, "findings exported to S3");
    } else {
        tracing::error!(bucket = %s3.bucket, objects = planned, spooled, written = outcome.written, failed, duration_ms, "findings exported to S3, some objects not written; the local report is complete");
    }
    outcome
}

/// The spool of objects the daemon could not write: one file per object, named by its key
/// (percent-encoded), written atomically.
pub struct Spool {
    dir: PathBuf,
}

const SPOOL_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

impl Spool {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// Every spooled object, in key order; an unreadable file is logged and skipped (it
    /// stays for the next try).
    pub fn load(&self) -> Vec<Object> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(encoded) = name.strip_suffix(".object") else {
                continue;
            };
            let key = percent_encoding::percent_decode_str(encoded)
                .decode_utf8_lossy()
                .into_owned();
            match std::fs::read(entry.path()) {
                Ok(body) => out.push(Object { key, body }),
                Err(e) => {
                    tracing::warn!(file = %entry.path().display(), error = %e, "a spooled S3 object is unreadable")
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Makes the spool hold exactly `objects` (what is still to be written).
    pub fn replace(&self, objects: &[Object]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let keep: std::collections::BTreeSet<String> =
            objects.iter().map(|o| self.file_name(&o.key)).collect();
        for object in objects {
            let path = self.dir.join(self.file_name(&object.key));
            crate::fsutil::write_atomic_with(&path, |w| w.write_all(&object.body))?;
        }
        for entry in std::fs::read_dir(&self.dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".object") && !keep.contains(&name) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }

    fn file_name(&self, key: &str) -> String {
        format!(
            "{}.object",
            percent_encoding::utf8_percent_encode(key, SPOOL_SET)
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::report::Status;
    use crate::report::test_fixtures::{finding, report};

    fn export(formats: Vec<S3Format>) -> S3Export {
        S3Export {
            bucket: "lake".into(),
            prefix: "audits/sagemaker".into(),
            kms_key_id: None,
            region: None,
            formats,
            role_arn: None,
            external_id: None,
        }
    }

    /// A report finished at 2025-12-04T10:10:00.123Z with findings in us-east-1 (two
    /// domains), eu-west-1 (an app) and IAM's `global` (a role).
    fn partitioned() -> Report {
        let at: DateTime<Utc> = DateTime::UNIX_EPOCH + Duration::milliseconds(1_764_843_000_123);
        let mut other = finding(
            "c",
            "app",
            "arn:aws:sagemaker:eu-west-1:123456789012:app/d-1/u/jupyterlab/default",
            Status::Pass,
        );
        other.region = "eu-west-1".into();
        let mut iam = finding(
            "r",
            "iam_role",
            "arn:aws:iam::123456789012:role/x",
            Status::Fail,
        );
        iam.region = "global".into();
        report(
            at,
            vec![
                finding(
                    "c",
                    "domain",
                    "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1",
                    Status::Fail,
                ),
                finding(
                    "d",
                    "domain",
                    "arn:aws:sagemaker:us-east-1:123456789012:domain/d-2",
                    Status::Pass,
                ),
                other,
                iam,
            ],
        )
    }

    /// Security Lake's layout: one Parquet object per account and region, IAM's global
    /// findings in the scan's first region (the region their events carry), each object's
    /// rows the partition's findings sorted by time.
    #[test]
    fn parquet_objects_follow_the_security_lake_layout() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let r = partitioned();
        let mut lake = export(vec![S3Format::Parquet, S3Format::Json]);
        lake.prefix = "ext/sagemaker-auditor".into();
        let objects = objects(&r, &lake);
        let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
        let file = "eventDay=20251204/report-20251204T101000.123Z.ocsf.parquet";
        assert_eq!(
            keys[..2],
            [
                format!("ext/sagemaker-auditor/region=eu-west-1/accountId=123456789012/{file}"),
                format!("ext/sagemaker-auditor/region=us-east-1/accountId=123456789012/{file}"),
            ]
        );
        // The other formats keep their own layout.
        assert!(
            keys[2..]
                .iter()
                .all(|k| k.contains("/account_id=123456789012/"))
        );
        let rows = |o: &Object| -> Vec<serde_json::Value> {
            SerializedFileReader::new(bytes::Bytes::from(o.body.clone()))
                .unwrap()
                .get_row_iter(None)
                .unwrap()
                .map(|r| r.unwrap().to_json_value())
                .collect()
        };
        let us = rows(&objects[1]);
        let mut uids: Vec<&str> = us
            .iter()
            .map(|e| e["resource"]["uid"].as_str().unwrap())
            .collect();
        uids.sort();
        assert_eq!(
            uids,
            [
                "arn:aws:iam::123456789012:role/x",
                "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1",
                "arn:aws:sagemaker:us-east-1:123456789012:domain/d-2"
            ]
        );
        assert!(
            us.iter()
                .all(|e| e["class_uid"] == 2003 && e["cloud"]["region"] == "us-east-1")
        );
        assert_eq!(rows(&objects[0]).len(), 1);
    }

    #[test]
    fn one_object_per_account_region_and_format_under_hive_partitions() {
        let r = partitioned();
        let objects = objects(&r, &export(vec![S3Format::Ocsf, S3Format::Json]));
        let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
        let base = "audits/sagemaker/account_id=123456789012";
        let file = "date=2025-12-04/report-20251204T101000.123Z";
        assert_eq!(
            keys,
            vec![
                format!("{base}/region=eu-west-1/{file}.ocsf.jsonl"),
                format!("{base}/region=eu-west-1/{file}.findings.jsonl"),
                format!("{base}/region=global/{file}.ocsf.jsonl"),
                format!("{base}/region=global/{file}.findings.jsonl"),
                format!("{base}/region=us-east-1/{file}.ocsf.jsonl"),
                format!("{base}/region=us-east-1/{file}.findings.jsonl"),
            ]
        );
        // JSON lines: one event or finding per line, each standing alone.
        let lines = |i: usize| -> Vec<serde_json::Value> {
            String::from_utf8(objects[i].body.clone())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let us_ocsf = lines(4);
        assert_eq!(us_ocsf.len(), 2);
        assert!(us_ocsf.iter().all(|e| e["class_uid"] == 2003));
        let us_json = lines(5);
        assert_eq!(us_json[0]["check_id"], "c");
        assert_eq!(us_json[0]["scan_id"], r.scan.id.as_str());
        assert_eq!(lines(3)[0]["check_id"], "r");
    }

    #[test]
    fn the_spool_keeps_exactly_what_is_left_to_write() {
        let dir = std::env::temp_dir().join(format!("sma-spool-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spool = Spool::new(&dir);
        assert!(spool.load().is_empty());
        let a = Object {
            key: "p/account_id=1/region=us-east-1/date=2025-01-01/report-x.ocsf.jsonl".into(),
            body: b"{\"a\":1}\n".to_vec(),
        };
        let b = Object {
            key: "p/account_id=2/region=global/date=2025-01-01/report-x.ocsf.jsonl".into(),
            body: b"{\"b\":2}\n".to_vec(),
        };
        spool.replace(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(spool.load(), vec![a.clone(), b.clone()]);
        spool.replace(std::slice::from_ref(&b)).unwrap();
        assert_eq!(spool.load(), vec![b]);
        spool.replace(&[]).unwrap();
        assert!(spool.load().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
