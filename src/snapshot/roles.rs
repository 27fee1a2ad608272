//! Effective execution roles (CHECKS.md): which role every domain, profile and space runs as.
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
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}
