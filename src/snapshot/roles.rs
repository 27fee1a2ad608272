//! Effective execution roles: which role every domain, profile and space runs as.
//! Resolution lives in Rust because the collector needs it to know which roles to read, and
//! the policies then get the answer instead of re-deriving it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::RegionSnapshot;

/// One use of a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBinding {
    pub region: String,
    pub domain_id: String,
    pub kind: BindingKind,
    /// For `user_profile` bindings.
    pub user_profile_name: Option<String>,
    /// True when the profile sets no role of its own and runs as the domain default.
    pub inherited: bool,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BindingKind {
    /// `DefaultUserSettings.ExecutionRole` of the domain.
    DomainDefault,
    /// A user profile's role, its own or inherited from the domain default.
    UserProfile,
    /// `DefaultSpaceSettings.ExecutionRole`: every shared space runs as it.
    SpaceDefault,
    /// `DomainSettings.RStudioServerProDomainSettings.DomainExecutionRoleArn`.
    RStudioDomain,
}

/// Every role ARN used in these regions, with its bindings, in a stable order.
///
/// A profile whose settings could not be described is left out: its role is unknown, and
/// guessing "inherits the default" could hide an override.
pub fn role_bindings<'a>(
    regions: impl IntoIterator<Item = &'a RegionSnapshot>,
) -> BTreeMap<String, Vec<RoleBinding>> {
    let mut out: BTreeMap<String, Vec<RoleBinding>> = BTreeMap::new();
    let mut bind = |arn: Option<&String>, binding: RoleBinding| {
        if let Some(arn) = arn.filter(|a| !a.is_empty()) {
            out.entry(arn.clone()).or_default().push(binding);
        }
    };
    for region in regions {
        for domain in region.domains.iter().filter(|d| d.described) {
            let binding = |kind, user_profile_name: Option<&str>, inherited| RoleBinding {
                region: region.region.clone(),
                domain_id: domain.domain_id.clone(),
                kind,
                user_profile_name: user_profile_name.map(str::to_string),
                inherited,
            };
            let default_role = domain
                .default_user_settings
                .as_ref()
                .and_then(|s| s.execution_role.as_ref());
            bind(
                default_role,
                binding(BindingKind::DomainDefault, None, false),
            );
            bind(
                domain
                    .default_space_settings
                    .as_ref()
                    .and_then(|s| s.execution_role.as_ref()),
                binding(BindingKind::SpaceDefault, None, false),
            );
            bind(
                domain.rstudio_domain_execution_role_arn.as_ref(),
                binding(BindingKind::RStudioDomain, None, false),
            );
            for profile in domain.user_profiles.iter().filter(|p| p.described) {
                let own = profile
                    .user_settings
                    .as_ref()
                    .and_then(|s| s.execution_role.as_ref())
                    .filter(|a| !a.is_empty());
                let (role, inherited) = match own {
                    Some(role) => (Some(role), false),
                    None => (default_role, true),
                };
                bind(
                    role,
                    binding(BindingKind::UserProfile, Some(&profile.name), inherited),
                );
            }
        }
    }
    for bindings in out.values_mut() {
        bindings.sort();
    }
    out
}

/// The account id in an IAM role ARN (`arn:aws:iam::123456789012:role/x`).
pub fn arn_account(arn: &str) -> Option<&str> {
    crate::vocab::Arn::parse(arn)
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Domain, Network, SpaceDefaults, UserProfile, UserSettings};

    fn settings(role: Option<&str>) -> Option<UserSettings> {
        Some(UserSettings {
            execution_role: role.map(str::to_string),
            ..Default::default()
        })
    }

    fn profile(name: &str, described: bool, user_settings: Option<UserSettings>) -> UserProfile {
        UserProfile {
            name: name.into(),
            arn: format!("arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/{name}"),
            domain_id: "d-1".into(),
            status: "InService".into(),
            creation_time: None,
            last_modified_time: None,
            described,
            failure_reason: None,
            user_settings,
            single_sign_on_user_identifier: None,
            single_sign_on_user_value: None,
        }
    }

    fn domain(described: bool, profiles: Vec<UserProfile>) -> Domain {
        Domain {
            domain_id: "d-1".into(),
            arn: "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1".into(),
            name: "one".into(),
            status: "InService".into(),
            creation_time: None,
            last_modified_time: None,
            described,
            failure_reason: None,
            app_network_access_type: None,
            auth_mode: None,
            vpc_id: None,
            subnet_ids: vec![],
            kms_key_id: None,
            home_efs_file_system_id: None,
            security_group_id_for_domain_boundary: None,
            app_security_group_management: None,
            url: None,
            default_user_settings: settings(Some("arn:default")),
            default_space_settings: Some(SpaceDefaults {
                execution_role: Some("arn:space".into()),
                security_groups: vec![],
            }),
            rstudio_domain_execution_role_arn: Some(String::new()),
            domain_security_group_ids: vec![],
            user_profiles: profiles,
            spaces: vec![],
            apps: vec![],
        }
    }

    fn region(domains: Vec<Domain>) -> RegionSnapshot {
        RegionSnapshot {
            region: "us-east-1".into(),
            domains,
            network: Network::default(),
            efs_file_systems: vec![],
        }
    }

    fn summary(
        map: &BTreeMap<String, Vec<RoleBinding>>,
    ) -> Vec<(String, BindingKind, Option<String>, bool)> {
        map.iter()
            .flat_map(|(arn, bs)| {
                bs.iter().map(move |b| {
                    (
                        arn.clone(),
                        b.kind,
                        b.user_profile_name.clone(),
                        b.inherited,
                    )
                })
            })
            .collect()
    }

    #[test]
    fn profiles_inherit_the_default_unless_they_override_it() {
        let r = region(vec![domain(
            true,
            vec![
                profile("inherits", true, None),
                profile("empty-settings", true, settings(None)),
                profile("own", true, settings(Some("arn:own"))),
                profile("blank-role", true, settings(Some(""))),
            ],
        )]);
        let s = summary(&role_bindings([&r]));
        let p = |n: &str| Some(n.to_string());
        assert_eq!(
            s,
            vec![
                (
                    "arn:default".into(),
                    BindingKind::DomainDefault,
                    None,
                    false
                ),
                (
                    "arn:default".into(),
                    BindingKind::UserProfile,
                    p("blank-role"),
                    true
                ),
                (
                    "arn:default".into(),
                    BindingKind::UserProfile,
                    p("empty-settings"),
                    true
                ),
                (
                    "arn:default".into(),
                    BindingKind::UserProfile,
                    p("inherits"),
                    true
                ),
                ("arn:own".into(), BindingKind::UserProfile, p("own"), false),
                ("arn:space".into(), BindingKind::SpaceDefault, None, false),
            ]
        );
    }

    #[test]
    fn unknown_settings_bind_nothing() {
        // A domain or profile that could not be described has an unknown role: guessing the
        // default could hide an override, so it binds nothing.
        let undescribed_profile = region(vec![domain(true, vec![profile("unknown", false, None)])]);
        let s = summary(&role_bindings([&undescribed_profile]));
        assert!(s.iter().all(|(_, _, name, _)| name.is_none()), "{s:?}");
        let undescribed_domain = region(vec![domain(false, vec![profile("p", true, None)])]);
        assert!(role_bindings([&undescribed_domain]).is_empty());
    }

    #[test]
    fn arn_account_reads_the_fifth_field() {
        assert_eq!(
            arn_account("arn:aws:iam::123456789012:role/x"),
            Some("123456789012")
        );
        assert_eq!(arn_account("arn:aws:iam:::role/x"), None);
        assert_eq!(arn_account("not-an-arn"), None);
    }
}
