//! The inventory `scan --format inventory` prints (JSON): what was found, per account,
//! region and domain, and what could not be read.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::snapshot::{CollectionError, ResourceCounts, RoleState, Snapshot};

#[derive(Debug, Serialize)]
struct Inventory<'a> {
    schema_version: &'static str,
    kind: &'static str,
    scan: ScanInfo<'a>,
    resources: ResourceCounts,
    domains: Vec<DomainLine<'a>>,
    execution_roles: BTreeMap<&'static str, usize>,
    orphan_candidates: Orphans,
    api_calls: u64,
}

#[derive(Debug, Serialize)]
struct ScanInfo<'a> {
    started_at: String,
    finished_at: String,
    accounts: Vec<&'a str>,
    regions: Vec<&'a str>,
    collection_errors: &'a [CollectionError],
}

#[derive(Debug, Serialize)]
struct DomainLine<'a> {
    account_id: &'a str,
    region: &'a str,
    domain_id: &'a str,
    name: &'a str,
    status: &'a str,
    network: &'a str,
    user_profiles: usize,
    spaces: usize,
    apps: BTreeMap<&'a str, usize>,
}

/// EFS file systems and NFS groups that name a domain this snapshot does not hold.
#[derive(Debug, Default, Serialize)]
struct Orphans {
    efs_file_systems: usize,
    efs_bytes: i64,
    nfs_security_groups: usize,
}

fn inventory(s: &Snapshot) -> Inventory<'_> {
    let mut regions: Vec<&str> = s
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| r.region.as_str()))
        .collect();
    regions.sort_unstable();
    regions.dedup();
    let mut domains = Vec::new();
    let mut orphans = Orphans::default();
    let mut roles = BTreeMap::new();
    for a in &s.accounts {
        for role in &a.execution_roles {
            let state = match role.state {
                RoleState::Found => "found",
                RoleState::Missing => "missing",
                RoleState::CrossAccount => "cross_account",
                RoleState::NotCollected => "not_collected",
            };
            *roles.entry(state).or_default() += 1;
        }
        for r in &a.regions {
            let live = |id: &str| r.domains.iter().any(|d| d.domain_id == id);
            for fs in &r.efs_file_systems {
                if fs.domain_id.as_deref().is_some_and(|id| !live(id)) {
                    orphans.efs_file_systems += 1;
                    orphans.efs_bytes += fs.size_in_bytes;
                }
            }
            for g in &r.network.security_groups {
                if g.domain_id.as_deref().is_some_and(|id| !live(id)) {
                    orphans.nfs_security_groups += 1;
                }
            }
            for d in &r.domains {
                let mut apps = BTreeMap::new();
                for app in &d.apps {
                    *apps.entry(app.status.as_str()).or_default() += 1;
                }
                domains.push(DomainLine {
                    account_id: &a.account_id,
                    region: &r.region,
                    domain_id: &d.domain_id,
                    name: &d.name,
                    status: &d.status,
                    network: if d.described {
                        d.app_network_access_type
                            .as_deref()
                            .unwrap_or("PublicInternetOnly")
                    } else {
                        "unknown"
                    },
                    user_profiles: d.user_profiles.len(),
                    spaces: d.spaces.len(),
                    apps,
                });
            }
        }
    }
    Inventory {
        schema_version: "1",
        kind: "inventory",
        scan: ScanInfo {
            started_at: s
                .started_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            finished_at: s
                .finished_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            accounts: s.accounts.iter().map(|a| a.account_id.as_str()).collect(),
            regions,
            collection_errors: &s.collection_errors,
        },
        resources: s.resource_counts(),
        domains,
        execution_roles: roles,
        orphan_candidates: orphans,
        api_calls: s.api_calls.iter().map(|c| c.calls).sum(),
    }
}

pub fn json(s: &Snapshot) -> String {
    let mut out = serde_json::to_string_pretty(&inventory(s)).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{CollectionError, ErrorKind, SCHEMA_VERSION};

    fn empty() -> Snapshot {
        Snapshot {
            schema_version: SCHEMA_VERSION.into(),
            scanner_version: "test".into(),
            started_at: chrono::DateTime::UNIX_EPOCH,
            finished_at: chrono::DateTime::UNIX_EPOCH,
            accounts: vec![],
            managed_policies: Default::default(),
            collection_errors: vec![],
            api_calls: vec![],
            events: vec![],
            events_unread: vec![],
        }
    }

    #[test]
    fn an_incomplete_scan_says_so_with_every_failed_call() {
        let mut s = empty();
        s.collection_errors.push(CollectionError {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            service: "sagemaker".into(),
            operation: "ListApps".into(),
            error: ErrorKind::AccessDenied,
            error_code: Some("AccessDeniedException".into()),
            message: "not authorized".into(),
            resource: None,
        });
        let json: serde_json::Value = serde_json::from_str(&json(&s)).unwrap();
        let failed = &json["scan"]["collection_errors"][0];
        assert_eq!(failed["error"], "access_denied");
        assert_eq!(
            (&failed["service"], &failed["operation"], &failed["message"]),
            (
                &"sagemaker".into(),
                &"ListApps".into(),
                &"not authorized".into()
            )
        );
    }

    #[test]
    fn a_complete_empty_scan_lists_no_failed_call() {
        let json: serde_json::Value = serde_json::from_str(&json(&empty())).unwrap();
        assert_eq!(json["resources"]["domains"], 0);
        assert_eq!(json["scan"]["collection_errors"], serde_json::json!([]));
    }
}
