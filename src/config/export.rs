//! `[export.*]`: where findings go besides the report files. `[export.security_hub]`: each
//! scanned account's findings imported into its own Security Hub (BatchImportFindings).

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Regions, Validator};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportConfig {
    /// `[export.security_hub]` with `enabled` true (the default once the section is written).
    pub security_hub: Option<SecurityHubExport>,
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
        let mut export = ExportConfig::default();
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
}
