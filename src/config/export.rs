//! `[export.*]`: where findings go besides the report files. `[export.security_hub]`: each
//! scanned account's findings imported into its own Security Hub (BatchImportFindings).
//! `[export.s3]`: each scan's findings as objects in an S3 bucket, partitioned for Athena.

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Regions, Validator};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportConfig {
    /// `[export.security_hub]` with `enabled` true (the default once the section is written).
    pub security_hub: Option<SecurityHubExport>,
    /// `[export.s3]` with `enabled` true (the default once the section is written).
    pub s3: Option<S3Export>,
}

/// What `[export.s3]` writes, one object per account, region and format each scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Format {
    /// OCSF 1.1.0 Compliance Finding events, one JSON object per line (`.ocsf.jsonl`).
    Ocsf,
    /// The report's findings, one JSON object per line (`.findings.jsonl`).
    Json,
    /// OCSF events in Parquet under an Amazon Security Lake custom source's layout
    /// (`<prefix>/region=…/accountId=…/eventDay=YYYYMMDD/…parquet`; `prefix` is then the
    /// source's location, `ext/<source name>` or `ext/<source name>/<version>`).
    Parquet,
}

impl S3Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Ocsf => "ocsf.jsonl",
            Self::Json => "findings.jsonl",
            Self::Parquet => "ocsf.parquet",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct S3Export {
    pub bucket: String,
    /// Key prefix without leading or trailing `/` (empty: the bucket's root).
    pub prefix: String,
    /// SSE-KMS with this key (id, ARN or `alias/…`); `None`: the bucket's default encryption.
    pub kms_key_id: Option<String>,
    /// The bucket's region; `None`: the default chain's region, else the first scanned one.
    pub region: Option<String>,
    pub formats: Vec<S3Format>,
    /// Write as this role (`AssumeRole`, with `external_id`): an Amazon Security Lake custom
    /// source's provider role, or any role the bucket lets write. `None`: the scanner's own
    /// credentials.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecurityHubExport {
    /// Import every finding into this region's hub (the Security Hub aggregation region many
    /// organisations use); `None`: each finding into the hub of its own region (global IAM
    /// findings: the first scanned region), as Security Hub's own controls report.
    pub region: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExport {
    pub(super) security_hub: Option<Spanned<RawSecurityHub>>,
    pub(super) s3: Option<Spanned<RawS3>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawS3 {
    pub(super) enabled: Option<bool>,
    pub(super) bucket: Option<Spanned<String>>,
    pub(super) prefix: Option<Spanned<String>>,
    pub(super) kms_key_id: Option<Spanned<String>>,
    pub(super) role_arn: Option<Spanned<String>>,
    pub(super) external_id: Option<Spanned<String>>,
    pub(super) region: Option<Spanned<String>>,
    pub(super) formats: Option<Spanned<Vec<Spanned<String>>>>,
}

/// S3's bucket naming rules (general purpose buckets): 3–63 characters of lowercase letters,
/// digits, dots and hyphens, beginning and ending with a letter or digit, no `..`.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>
/// `arn:<partition>:iam::<account id>:role/<path/name>`.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(
        parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && super::accounts::is_account_id(account)
                && resource
                    .strip_prefix("role/")
                    .is_some_and(super::accounts::is_role_name)
    )
}

fn is_bucket_name(name: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name.chars().all(ok_char)
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecurityHub {
    pub(super) enabled: Option<bool>,
    pub(super) region: Option<Spanned<String>>,
}

impl Validator<'_> {
    /// `scanned`: the config's regions, so that the hub's region is in their partition (one
    /// scan's credentials belong to one partition).
    pub(super) fn export(
        &self,
        raw: Option<&RawExport>,
        scanned: &Regions,
    ) -> Result<ExportConfig, ConfigError> {
        let mut export = ExportConfig {
            s3: self.s3(raw.and_then(|r| r.s3.as_ref()))?,
            ..Default::default()
        };
        let Some(hub) = raw.and_then(|r| r.security_hub.as_ref()) else {
            return Ok(export);
        };
        let hub = hub.get_ref();
        if !hub.enabled.unwrap_or(true) {
            return Ok(export);
        }
        let mut out = SecurityHubExport::default();
        if let Some(region) = &hub.region {
            let name = region.get_ref();
            if !super::is_region_name(name) {
                return self.invalid(
                    "export.security_hub.region",
                    region.span(),
                    format!("{name:?} is not a region name (like \"eu-west-1\")"),
                );
            }
            let partition = crate::vocab::partition_of_region(name);
            if let Some(first) = scanned.names().first()
                && crate::vocab::partition_of_region(first) != partition
            {
                return self.invalid(
                    "export.security_hub.region",
                    region.span(),
                    format!(
                        "{name:?} is in partition {partition}, the scanned regions in {}: findings can only be imported into a hub of their own partition",
                        crate::vocab::partition_of_region(first)
                    ),
                );
            }
            out.region = Some(name.clone());
        }
        export.security_hub = Some(out);
        Ok(export)
    }

    fn s3(&self, raw: Option<&Spanned<RawS3>>) -> Result<Option<S3Export>, ConfigError> {
        let Some(spanned) = raw else {
            return Ok(None);
        };
        let raw = spanned.get_ref();
        if !raw.enabled.unwrap_or(true) {
            return Ok(None);
        }
        let Some(bucket) = &raw.bucket else {
            return self.invalid(
                "export.s3.bucket",
                spanned.span(),
                "is required (the bucket the findings are written to)".into(),
            );
        };
        if !is_bucket_name(bucket.get_ref()) {
            return self.invalid(
                "export.s3.bucket",
                bucket.span(),
                format!(
                    "{:?} is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)",
                    bucket.get_ref()
                ),
            );
        }
        let mut prefix = String::new();
        if let Some(p) = &raw.prefix {
            let text = p.get_ref().trim_matches('/');
            if text
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
                && !text.is_empty()
            {
                return self.invalid(
                    "export.s3.prefix",
                    p.span(),
                    format!("{:?} has an empty, `.` or `..` path segment", p.get_ref()),
                );
            }
            prefix = text.to_string();
        }
        let kms_key_id = match &raw.kms_key_id {
            Some(k) if k.get_ref().trim().is_empty() => {
                return self.invalid(
                    "export.s3.kms_key_id",
                    k.span(),
                    "must not be empty (omit it for the bucket's default encryption)".into(),
                );
            }
            Some(k) => Some(k.get_ref().clone()),
            None => None,
        };
        let region = match &raw.region {
            Some(r) if !super::is_region_name(r.get_ref()) => {
                return self.invalid(
                    "export.s3.region",
                    r.span(),
                    format!(
                        "{:?} is not a region name (like \"eu-west-1\")",
                        r.get_ref()
                    ),
                );
            }
            Some(r) => Some(r.get_ref().clone()),
            None => None,
        };
        let mut formats = vec![S3Format::Ocsf];
        if let Some(list) = &raw.formats {
            if list.get_ref().is_empty() {
                return self.invalid(
                    "export.s3.formats",
                    list.span(),
                    "must name at least one of ocsf, json, parquet".into(),
                );
            }
            formats.clear();
            for name in list.get_ref() {
                let format = match name.get_ref().to_ascii_lowercase().as_str() {
                    "ocsf" => S3Format::Ocsf,
                    "json" => S3Format::Json,
                    "parquet" => S3Format::Parquet,
                    other => {
                        return self.invalid(
                            "export.s3.formats",
                            name.span(),
                            format!("{other:?} is not one of ocsf, json, parquet"),
                        );
                    }
                };
                if !formats.contains(&format) {
                    formats.push(format);
                }
            }
        }
        let role_arn = match &raw.role_arn {
            Some(arn) if !is_role_arn(arn.get_ref()) => {
                return self.invalid(
                    "export.s3.role_arn",
                    arn.span(),
                    format!(
                        "{:?} is not an IAM role ARN (arn:<partition>:iam::<account id>:role/<name>)",
                        arn.get_ref()
                    ),
                );
            }
            Some(arn) => Some(arn.get_ref().clone()),
            None => None,
        };
        let external_id = self.external_id("export.s3.external_id", raw.external_id.as_ref())?;
        if let (Some(id), None) = (&raw.external_id, &role_arn) {
            return self.invalid(
                "export.s3.external_id",
                id.span(),
                "is for AssumeRole: it needs role_arn".into(),
            );
        }
        Ok(Some(S3Export {
            bucket: bucket.get_ref().clone(),
            prefix,
            kms_key_id,
            region,
            formats,
            role_arn,
            external_id,
        }))
    }
}
