//! Effective execution roles: which role every domain, profile and space runs as.
//! Resolution lives in Rust because the collector needs it to know which roles to read, and
//! the policies then get the answer instead of re-deriving it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{RegionSnapshot, UserSettings};

/// One use of a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBinding {
    pub region: String,
    /// The domain; `null` for a notebook instance.
    pub domain_id: Option<String>,
    pub kind: BindingKind,
    /// For `user_profile` bindings, and `emr`/`canvas` ones set in a profile's settings.
    pub user_profile_name: Option<String>,
    /// For `notebook_instance` bindings.
    pub notebook_instance_name: Option<String>,
    /// For `emr` and `canvas` bindings: the setting that names the role.
    pub setting: Option<String>,
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
    /// `JupyterLabAppSettings.EmrSettings`: roles a JupyterLab user can assume for EMR.
    Emr,
    /// `CanvasAppSettings`: the Bedrock, Forecast, EMR Serverless and model registry roles.
    Canvas,
    /// The `RoleArn` of a notebook instance.
    NotebookInstance,
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
        let binding =
            |domain_id: Option<&str>, kind, user_profile_name: Option<&str>| RoleBinding {
                region: region.region.clone(),
                domain_id: domain_id.map(str::to_string),
                kind,
                user_profile_name: user_profile_name.map(str::to_string),
                notebook_instance_name: None,
                setting: None,
                inherited: false,
            };
        for domain in region.domains.iter().filter(|d| d.described) {
            let id = Some(domain.domain_id.as_str());
            let defaults = domain.default_user_settings.as_ref();
            let default_role = defaults.and_then(|s| s.execution_role.as_ref());
            bind(default_role, binding(id, BindingKind::DomainDefault, None));
            bind(
                domain
                    .default_space_settings
                    .as_ref()
                    .and_then(|s| s.execution_role.as_ref()),
                binding(id, BindingKind::SpaceDefault, None),
            );
            bind(
                domain.rstudio_domain_execution_role_arn.as_ref(),
                binding(id, BindingKind::RStudioDomain, None),
            );
            let app_roles = |settings: Option<&'a UserSettings>, profile: Option<&str>| {
                settings
                    .map_or(&[][..], |s| &s.app_roles)
                    .iter()
                    .map(move |r| {
                        let mut b = binding(id, r.kind, profile);
                        b.setting = Some(r.setting.clone());
                        (&r.role_arn, b)
                    })
                    .collect::<Vec<_>>()
            };
            for (arn, b) in app_roles(defaults, None) {
                bind(Some(arn), b);
            }
            for profile in domain.user_profiles.iter().filter(|p| p.described) {
                let settings = profile.user_settings.as_ref();
                for (arn, b) in app_roles(settings, Some(&profile.name)) {
                    bind(Some(arn), b);
                }
                let own = settings
                    .and_then(|s| s.execution_role.as_ref())
                    .filter(|a| !a.is_empty());
                let mut b = binding(id, BindingKind::UserProfile, Some(&profile.name));
                b.inherited = own.is_none();
                bind(own.or(default_role), b);
            }
        }
        for notebook in region.notebook_instances.iter().filter(|n| n.described) {
            let mut b = binding(None, BindingKind::NotebookInstance, None);
            b.notebook_instance_name = Some(notebook.name.clone());
            bind(notebook.role_arn.as_ref(), b);
        }
    }
    for bindings in out.values_mut() {
        bindings.sort();
        bindings.dedup();
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
    use crate::snapshot::{
        AppRole, Domain, Network, NotebookInstance, SpaceDefaults, UserProfile, UserSettings,
    };

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
                ..Default::default()
            }),
            rstudio_domain_execution_role_arn: Some(String::new()),
            domain_security_group_ids: vec![],
            user_profiles: profiles,
            ..Default::default()
        }
    }

    fn region(domains: Vec<Domain>) -> RegionSnapshot {
        RegionSnapshot {
            region: "us-east-1".into(),
            domains,
            network: Network::default(),
            ..Default::default()
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

    fn app_role(kind: BindingKind, setting: &str, arn: &str) -> AppRole {
        AppRole {
            kind,
            setting: setting.into(),
            role_arn: arn.into(),
        }
    }

    #[test]
    fn app_settings_and_notebook_instances_bind_their_roles() {
        let mut d = domain(true, vec![]);
        let canvas = "CanvasAppSettings.GenerativeAiSettings.AmazonBedrockRoleArn";
        let emr = "JupyterLabAppSettings.EmrSettings.AssumableRoleArns";
        d.default_user_settings.as_mut().unwrap().app_roles =
            vec![app_role(BindingKind::Canvas, canvas, "arn:bedrock")];
        d.user_profiles = vec![profile(
            "ana",
            true,
            Some(UserSettings {
                app_roles: vec![app_role(BindingKind::Emr, emr, "arn:emr")],
                ..Default::default()
            }),
        )];
        let mut r = region(vec![d]);
        r.notebook_instances = vec![
            NotebookInstance {
                name: "nb".into(),
                described: true,
                role_arn: Some("arn:nb".into()),
                ..Default::default()
            },
            // Not described: its role is unknown, not absent.
            NotebookInstance {
                name: "unknown".into(),
                ..Default::default()
            },
        ];
        let map = role_bindings([&r]);
        let bedrock = &map["arn:bedrock"][0];
        assert_eq!(
            (
                bedrock.kind,
                bedrock.setting.as_deref(),
                bedrock.user_profile_name.as_deref()
            ),
            (BindingKind::Canvas, Some(canvas), None)
        );
        let e = &map["arn:emr"][0];
        assert_eq!(
            (e.kind, e.setting.as_deref(), e.user_profile_name.as_deref()),
            (BindingKind::Emr, Some(emr), Some("ana"))
        );
        let nb = &map["arn:nb"];
        assert_eq!(nb.len(), 1);
        assert_eq!(
            (
                nb[0].kind,
                nb[0].domain_id.as_deref(),
                nb[0].notebook_instance_name.as_deref()
            ),
            (BindingKind::NotebookInstance, None, Some("nb"))
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
