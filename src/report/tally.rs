//! What a scan read, counted once when its report is built: resources by type, account and
//! region, and the bytes of home EFS whose domain is gone. The exporter maps these to gauges.

use std::collections::BTreeMap;

use crate::snapshot::Snapshot;
use crate::vocab::{GLOBAL, ResourceType, Service};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Resources scanned by (type, account, region); IAM roles are `global`. Deleted apps
    /// are not counted.
    pub resources: BTreeMap<(ResourceType, String, String), u64>,
    /// Bytes of home EFS whose domain no longer exists, by (account, region), with a zero for
    /// every region read: "none" is a value. A region whose domains could not be listed
    /// counts none (nothing there is known to be orphaned).
    pub orphaned_efs_bytes: BTreeMap<(String, String), i64>,
    /// Every domain read: (account, region, domain id).
    pub domains: std::collections::BTreeSet<(String, String, String)>,
}

impl Tally {
    pub fn of(snapshot: &Snapshot) -> Self {
        let mut tally = Self::default();
        for account in &snapshot.accounts {
            let a = account.account_id.as_str();
            let mut add = |kind: ResourceType, region: &str, n: usize| {
                *tally
                    .resources
                    .entry((kind, a.to_string(), region.to_string()))
                    .or_default() += n as u64;
            };
            add(ResourceType::IamRole, GLOBAL, account.execution_roles.len());
            for region in &account.regions {
                let r = region.region.as_str();
                add(ResourceType::Domain, r, region.domains.len());
                for d in &region.domains {
                    tally
                        .domains
                        .insert((a.to_string(), r.to_string(), d.domain_id.clone()));
                }
                for d in &region.domains {
                    add(ResourceType::UserProfile, r, d.user_profiles.len());
                    add(ResourceType::Space, r, d.spaces.len());
                    let live_apps = d.apps.iter().filter(|app| app.status != "Deleted");
                    add(ResourceType::App, r, live_apps.count());
                }
                add(
                    ResourceType::EfsFileSystem,
                    r,
                    region.efs_file_systems.len(),
                );
                add(
                    ResourceType::SecurityGroup,
                    r,
                    region.network.security_groups.len(),
                );
                add(
                    ResourceType::NotebookInstance,
                    r,
                    region.notebook_instances.len(),
                );
                for kind in [
                    ResourceType::StudioLifecycleConfig,
                    ResourceType::NotebookInstanceLifecycleConfig,
                ] {
                    let n = region
                        .lifecycle_configs
                        .iter()
                        .filter(|c| c.kind.resource_type() == kind)
                        .count();
                    add(kind, r, n);
                }
                let domains_listed = !snapshot.collection_errors.iter().any(|e| {
                    e.account_id == a
                        && e.region == r
                        && e.service == Service::Sagemaker.as_str()
                        && e.operation == "ListDomains"
                });
                let orphaned: i64 = region
                    .efs_file_systems
                    .iter()
                    .filter(|fs| {
                        domains_listed
                            && fs
                                .domain_id
                                .as_deref()
                                .is_some_and(|id| !region.domains.iter().any(|d| d.domain_id == id))
                    })
                    .map(|fs| fs.size_in_bytes)
                    .sum();
                tally
                    .orphaned_efs_bytes
                    .insert((a.to_string(), r.to_string()), orphaned);
            }
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_account_counts_its_orphaned_home_efs() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/snapshot.json");
        let mut snapshot = Snapshot::load(&path).unwrap();
        let tally = Tally::of(&snapshot);
        let account = snapshot.accounts[0].account_id.clone();
        let region = snapshot.accounts[0].regions[0].region.clone();
        let key = (account.clone(), region.clone());
        let region_data = &snapshot.accounts[0].regions[0];
        let expected: i64 = region_data
            .efs_file_systems
            .iter()
            .filter(|fs| {
                fs.domain_id
                    .as_deref()
                    .is_some_and(|id| !region_data.domains.iter().any(|d| d.domain_id == id))
            })
            .map(|fs| fs.size_in_bytes)
            .sum();
        assert!(expected > 0, "the example has an orphaned home EFS");
        assert_eq!(tally.orphaned_efs_bytes[&key], expected);
        assert_eq!(
            tally.resources[&(ResourceType::Domain, account.clone(), region.clone())],
            region_data.domains.len() as u64
        );
        // Domains that could not be listed: nothing is known to be orphaned.
        snapshot
            .collection_errors
            .push(crate::snapshot::CollectionError {
                account_id: account,
                region,
                service: "sagemaker".into(),
                operation: "ListDomains".into(),
                error: crate::snapshot::ErrorKind::AccessDenied,
                error_code: None,
                message: "denied".into(),
                resource: None,
            });
        assert_eq!(Tally::of(&snapshot).orphaned_efs_bytes[&key], 0);
    }
}
