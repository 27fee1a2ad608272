//! Which SageMaker domain a region's home EFS file systems and NFS security groups belong to,
//! decided here once and stored in the snapshot (`EfsFileSystem::domain_id`,
//! `SecurityGroup::domain_id`), where the storage checks, the inventory and the teardown plan
//! read it.
//!
//! SageMaker tags a domain's home EFS `ManagedByAmazonSageMakerResource` = the domain's ARN
//! (the tag outlives the domain), and names its two NFS groups
//! `security-group-for-inbound-nfs-<domain id>` and `security-group-for-outbound-nfs-<domain
//! id>`. A live domain also names its home EFS (`HomeEfsFileSystemId`).

use super::RegionSnapshot;

/// The tag SageMaker puts on a domain's home EFS: the domain's ARN.
pub const EFS_DOMAIN_TAG: &str = "ManagedByAmazonSageMakerResource";

/// The names of a domain's two NFS security groups, without the domain id.
pub const NFS_GROUP_PREFIXES: [&str; 2] = [
    "security-group-for-inbound-nfs-",
    "security-group-for-outbound-nfs-",
];

/// A domain id: `d-` and lowercase letters or digits.
fn is_domain_id(s: &str) -> bool {
    s.len() > 2
        && s.starts_with("d-")
        && s[2..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The domain id an `ManagedByAmazonSageMakerResource` tag value names: the ARN
/// `arn:...:domain/d-xxx`, or a bare `d-xxx`.
pub fn tagged_domain_id(value: &str) -> Option<&str> {
    let id = value.rsplit_once("domain/").map_or(value, |(_, id)| id);
    is_domain_id(id).then_some(id)
}

/// The domain id in the name of one of its NFS security groups.
pub fn nfs_group_domain_id(group_name: &str) -> Option<&str> {
    NFS_GROUP_PREFIXES
        .iter()
        .find_map(|p| group_name.strip_prefix(p))
        .filter(|id| is_domain_id(id))
}

/// Sets the owning domain of every home EFS and NFS group of the region (and clears it
/// where nothing names one).
pub fn assign(region: &mut RegionSnapshot) {
    assign_file_systems(region);
    assign_groups(region);
}

/// [`assign`] for the home EFS file systems alone (the collector needs them before the
/// region's security groups are read).
pub fn assign_file_systems(region: &mut RegionSnapshot) {
    for fs in &mut region.efs_file_systems {
        let tagged = fs
            .tags
            .get(EFS_DOMAIN_TAG)
            .and_then(|v| tagged_domain_id(v));
        fs.domain_id = tagged.map(str::to_string).or_else(|| {
            region
                .domains
                .iter()
                .find(|d| d.home_efs_file_system_id.as_deref() == Some(&fs.file_system_id))
                .map(|d| d.domain_id.clone())
        });
    }
}

/// [`assign`] for the NFS security groups alone: the domain their
/// `ManagedByAmazonSageMakerResource` tag names, and only for an untagged group the one its
/// name does (CHECKS.md v2: a tag is SageMaker's own statement, a name can be copied).
pub fn assign_groups(region: &mut RegionSnapshot) {
    for group in &mut region.network.security_groups {
        group.domain_id = match group.tags.get(EFS_DOMAIN_TAG) {
            Some(value) => tagged_domain_id(value),
            None => nfs_group_domain_id(&group.group_name),
        }
        .map(str::to_string);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_name_a_domain_by_arn_or_bare_id() {
        let arn = "arn:aws-cn:sagemaker:cn-north-1:123456789012:domain/d-abc123";
        assert_eq!(tagged_domain_id(arn), Some("d-abc123"));
        assert_eq!(tagged_domain_id("d-abc123"), Some("d-abc123"));
        assert_eq!(tagged_domain_id("something"), None);
        assert_eq!(
            tagged_domain_id("arn:aws:sagemaker:r:1:domain/D-UPPER"),
            None
        );
        assert_eq!(
            nfs_group_domain_id("security-group-for-outbound-nfs-d-abc"),
            Some("d-abc")
        );
        assert_eq!(nfs_group_domain_id("security-group-for-inbound-nfs-"), None);
        assert_eq!(nfs_group_domain_id("my-app"), None);
    }

    #[test]
    fn a_group_s_tag_wins_over_its_name() {
        let group = |name: &str, tag: Option<&str>| crate::snapshot::SecurityGroup {
            group_name: name.into(),
            tags: tag
                .map(|t| (EFS_DOMAIN_TAG.to_string(), t.to_string()))
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let mut region = RegionSnapshot::default();
        region.network.security_groups = vec![
            group("security-group-for-inbound-nfs-d-byname", None),
            group(
                "security-group-for-inbound-nfs-d-byname",
                Some("arn:aws:sagemaker:us-east-1:1:domain/d-bytag"),
            ),
            group("custom-name", Some("d-bytag")),
            group(
                "security-group-for-inbound-nfs-d-byname",
                Some("not a domain"),
            ),
        ];
        assign_groups(&mut region);
        let owners: Vec<_> = region
            .network
            .security_groups
            .iter()
            .map(|g| g.domain_id.as_deref())
            .collect();
        assert_eq!(
            owners,
            [Some("d-byname"), Some("d-bytag"), Some("d-bytag"), None]
        );
    }
}
