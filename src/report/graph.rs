//! The domain → user profile → space → app graph and the execution roles of each domain,
//! taken from the snapshot for the HTML report's per-domain view (a findings report lists
//! findings, not the resources without any). Only names, states and ARNs: a few hundred
//! bytes a resource, kept by `serve` beside its latest report.

use std::collections::BTreeMap;

use crate::snapshot::{BindingKind, RoleState, Snapshot};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// By account, region and domain id.
    pub domains: Vec<DomainNode>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DomainNode {
    pub account_id: String,
    pub region: String,
    pub domain_id: String,
    pub arn: String,
    pub name: String,
    pub status: String,
    /// `PublicInternetOnly` or `VpcOnly`, when described.
    pub network: Option<String>,
    pub vpc_id: Option<String>,
    pub auth_mode: Option<String>,
    /// Profiles, then spaces, then apps, then roles, each by name.
    pub resources: Vec<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    UserProfile,
    Space,
    App,
    ExecutionRole,
}

impl NodeKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::UserProfile => "user profile",
            Self::Space => "space",
            Self::App => "app",
            Self::ExecutionRole => "execution role",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub arn: String,
    pub name: String,
    pub status: String,
    /// What relates it to the rest of the graph: a profile's role, a space's owner, an app's
    /// profile or space and instance type, a role's uses.
    pub detail: String,
}

impl Graph {
    pub fn of(snapshot: &Snapshot) -> Self {
        let mut domains = Vec::new();
        for account in &snapshot.accounts {
            // (region, domain id) → role ARN → (state, uses).
            let mut roles: BTreeMap<(&str, &str), RolesOfDomain<'_>> = BTreeMap::new();
            for role in &account.execution_roles {
                for b in &role.bindings {
                    let Some(domain_id) = b.domain_id.as_deref() else {
                        continue;
                    };
                    let uses = &mut roles
                        .entry((b.region.as_str(), domain_id))
                        .or_default()
                        .entry(role.arn.as_str())
                        .or_insert((role.state, Vec::new()))
                        .1;
                    uses.push(binding_text(
                        b.kind,
                        b.user_profile_name.as_deref(),
                        b.setting.as_deref(),
                        b.inherited,
                    ));
                }
            }
            for region in &account.regions {
                for d in &region.domains {
                    let mut resources =
                        Vec::with_capacity(d.user_profiles.len() + d.spaces.len() + d.apps.len());
                    for p in &d.user_profiles {
                        let role = p
                            .user_settings
                            .as_ref()
                            .and_then(|s| s.execution_role.as_deref());
                        resources.push(Node {
                            kind: NodeKind::UserProfile,
                            arn: p.arn.clone(),
                            name: p.name.clone(),
                            status: p.status.clone(),
                            detail: match role {
                                Some(role) => format!("runs as {role}"),
                                None if p.described => "runs as the domain default role".into(),
                                None => "settings not described".into(),
                            },
                        });
                    }
                    for s in &d.spaces {
                        let mut detail = Vec::new();
                        if let Some(sharing) = &s.sharing_type {
                            detail.push(sharing.to_lowercase());
                        }
                        if let Some(owner) = &s.owner_user_profile_name {
                            detail.push(format!("owned by {owner}"));
                        }
                        if let Some(app) = &s.app_type {
                            detail.push(app.clone());
                        }
                        if s.remote_access.as_deref() == Some("ENABLED") {
                            detail.push("remote access enabled".into());
                        }
                        resources.push(Node {
                            kind: NodeKind::Space,
                            arn: s.arn.clone(),
                            name: s.name.clone(),
                            status: s.status.clone(),
                            detail: detail.join(", "),
                        });
                    }
                    for a in &d.apps {
                        let mut detail = Vec::new();
                        if let Some(space) = &a.space_name {
                            detail.push(format!("in space {space}"));
                        }
                        if let Some(profile) = &a.user_profile_name {
                            detail.push(format!("of profile {profile}"));
                        }
                        if let Some(t) = &a.instance_type {
                            detail.push(t.clone());
                        }
                        if let Some(t) = a.creation_time {
                            detail.push(format!(
                                "created {}",
                                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                            ));
                        }
                        resources.push(Node {
                            kind: NodeKind::App,
                            arn: a.arn.clone(),
                            name: format!("{}/{}", a.app_type, a.name),
                            status: a.status.clone(),
                            detail: detail.join(", "),
                        });
                    }
                    if let Some(domain_roles) =
                        roles.get(&(region.region.as_str(), d.domain_id.as_str()))
                    {
                        for (arn, (state, uses)) in domain_roles {
                            resources.push(Node {
                                kind: NodeKind::ExecutionRole,
                                arn: (*arn).to_string(),
                                name: arn.rsplit('/').next().unwrap_or(arn).to_string(),
                                status: role_state(*state).into(),
                                detail: summarise(uses),
                            });
                        }
                    }
                    resources.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
                    domains.push(DomainNode {
                        account_id: account.account_id.clone(),
                        region: region.region.clone(),
                        domain_id: d.domain_id.clone(),
                        arn: d.arn.clone(),
                        name: d.name.clone(),
                        status: d.status.clone(),
                        network: d.app_network_access_type.clone(),
                        vpc_id: d.vpc_id.clone(),
                        auth_mode: d.auth_mode.clone(),
                        resources,
                    });
                }
            }
        }
        domains.sort_by(|a, b| {
            (&a.account_id, &a.region, &a.domain_id).cmp(&(&b.account_id, &b.region, &b.domain_id))
        });
        Self { domains }
    }
}

/// A domain's roles: ARN → (state, what uses it).
type RolesOfDomain<'a> = BTreeMap<&'a str, (RoleState, Vec<String>)>;

fn role_state(state: RoleState) -> &'static str {
    match state {
        RoleState::Found => "found",
        RoleState::Missing => "missing",
        RoleState::CrossAccount => "cross-account",
        RoleState::NotCollected => "not collected",
    }
}

fn binding_text(
    kind: BindingKind,
    profile: Option<&str>,
    setting: Option<&str>,
    inherited: bool,
) -> String {
    match kind {
        BindingKind::DomainDefault => "domain default".into(),
        BindingKind::UserProfile if inherited => {
            format!("profile {} (inherited)", profile.unwrap_or("?"))
        }
        BindingKind::UserProfile => format!("profile {}", profile.unwrap_or("?")),
        BindingKind::SpaceDefault => "shared spaces' default".into(),
        BindingKind::RStudioDomain => "RStudio domain role".into(),
        BindingKind::Emr | BindingKind::Canvas => match (setting, profile) {
            (Some(s), Some(p)) => format!("{s} of profile {p}"),
            (Some(s), None) => s.to_string(),
            _ => "app setting".into(),
        },
        BindingKind::NotebookInstance => "notebook instance".into(),
    }
}

/// The uses of a role, at most eight named: a role shared by a thousand profiles says so
/// without listing them.
fn summarise(uses: &[String]) -> String {
    const NAMED: usize = 8;
    let mut text = uses
        .iter()
        .take(NAMED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if uses.len() > NAMED {
        text.push_str(&format!(" and {} more", uses.len() - NAMED));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_snapshot_gives_every_domain_with_its_resources_and_roles() {
        let snapshot = Snapshot::load(std::path::Path::new("examples/snapshot.json")).unwrap();
        let graph = Graph::of(&snapshot);
        let domains: usize = snapshot
            .accounts
            .iter()
            .flat_map(|a| &a.regions)
            .map(|r| r.domains.len())
            .sum();
        assert_eq!(graph.domains.len(), domains);
        for d in &graph.domains {
            let count = |kind| d.resources.iter().filter(|n| n.kind == kind).count();
            let found = snapshot
                .accounts
                .iter()
                .flat_map(|a| a.regions.iter().map(move |r| (a, r)))
                .flat_map(|(a, r)| r.domains.iter().map(move |dd| (a, r, dd)))
                .find(|(a, r, dd)| {
                    a.account_id == d.account_id
                        && r.region == d.region
                        && dd.domain_id == d.domain_id
                })
                .map(|(_, _, dd)| dd)
                .unwrap();
            assert_eq!(count(NodeKind::UserProfile), found.user_profiles.len());
            assert_eq!(count(NodeKind::Space), found.spaces.len());
            assert_eq!(count(NodeKind::App), found.apps.len());
        }
        // Some domain runs as a role the snapshot holds, named by its last ARN segment.
        let role = graph
            .domains
            .iter()
            .flat_map(|d| &d.resources)
            .find(|n| n.kind == NodeKind::ExecutionRole)
            .expect("the example has execution roles");
        assert!(role.arn.ends_with(&format!("/{}", role.name)), "{role:?}");
        assert!(!role.detail.is_empty());
    }

    #[test]
    fn a_role_used_by_many_profiles_names_eight() {
        let uses: Vec<String> = (0..20).map(|i| format!("profile u{i}")).collect();
        let text = summarise(&uses);
        assert!(text.starts_with("profile u0, profile u1"), "{text}");
        assert!(text.ends_with("profile u7 and 12 more"), "{text}");
    }
}
