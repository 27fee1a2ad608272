//! `teardown-plan`: the ordered, read-only plan to delete a domain completely — apps, spaces,
//! user profiles, the domain, then the home EFS (mount targets first) and the two NFS security
//! groups (their cross-references revoked first). It executes nothing: it prints numbered
//! steps with the exact `aws` CLI command of each, or the same as JSON.
//!
//! The plan is a pure function of a snapshot ([`plan`]): what the domain holds, and the home
//! EFS and NFS groups whose owner (`domain_id`, decided by `snapshot::ownership`) is the
//! domain, also after the domain is gone.

use serde::Serialize;

use crate::snapshot::{
    AccountSnapshot, App, Domain, EfsFileSystem, RegionSnapshot, SecurityGroup, SecurityGroupRule,
    Snapshot,
};
use crate::vocab::Service;

pub const PLAN_SCHEMA_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub schema_version: &'static str,
    pub account_id: String,
    pub region: String,
    pub domain_id: String,
    /// The domain as it is, or `None` when it is already deleted (its leftovers remain).
    pub domain: Option<PlanDomain>,
    /// What the plan cannot delete, and why.
    pub blockers: Vec<Blocker>,
    /// What the domain uses but does not own, so the plan leaves it alone: the custom file
    /// systems its spaces mount (`SpaceSettings.CustomFileSystems`).
    pub left_in_place: Vec<LeftInPlace>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftInPlace {
    /// `efs`, `fsx_lustre` or `s3`.
    pub kind: String,
    /// The file system id or S3 URI.
    pub id: String,
    /// The spaces that mount it.
    pub spaces: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDomain {
    pub arn: String,
    pub name: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub resource: String,
    pub status: String,
    pub reason: String,
}

/// One step as printed and as `--format json` gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub number: usize,
    /// `delete`, `revoke` or `wait` (repeat the command until its condition holds).
    pub kind: &'static str,
    pub description: String,
    /// The `aws` CLI command, one argument per element.
    pub command: Vec<String>,
}

/// Who an app belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppOwner<'a> {
    UserProfile(&'a str),
    Space(&'a str),
}

/// What a step does, in the order the plan takes them.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<'a> {
    DeleteApp {
        owner: AppOwner<'a>,
        app_type: &'a str,
        name: &'a str,
    },
    /// Until the domain has no app but Deleted or Failed ones.
    WaitForApps,
    DeleteSpace(&'a str),
    DeleteUserProfile(&'a str),
    WaitForSpaces,
    WaitForUserProfiles,
    /// With the home EFS retained (`efs_note`: it is, and will be deleted below).
    DeleteDomain {
        name: &'a str,
        efs_retained: bool,
    },
    WaitForDomain,
    DeleteMountTarget {
        file_system_id: &'a str,
        mount_target_id: &'a str,
    },
    WaitForMountTargets {
        file_system_id: &'a str,
    },
    DeleteFileSystem {
        file_system_id: &'a str,
        size_in_bytes: i64,
    },
    /// The rule of `group` that references the domain's other NFS group(s) `others`.
    RevokeReference {
        group: &'a SecurityGroup,
        egress: bool,
        rule: &'a SecurityGroupRule,
        others: Vec<&'a str>,
    },
    DeleteSecurityGroup(&'a SecurityGroup),
}

/// Statuses in which an app needs no delete call.
const APP_GONE: [&str; 2] = ["Deleted", "Deleting"];

/// Why no plan can be made from a snapshot.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// Some call that the plan depends on failed: a plan from half the picture could leave
    /// things behind or delete in the wrong order.
    #[error("cannot read everything of domain {domain_id}, so no plan: {reasons}")]
    Incomplete { domain_id: String, reasons: String },
    /// The snapshot does not say where to look.
    #[error("{0}")]
    Ambiguous(String),
}

/// The account and region of the snapshot a plan is for, and what of the domain is there.
struct Scope<'a> {
    account: &'a AccountSnapshot,
    region: &'a RegionSnapshot,
    domain: Option<&'a Domain>,
    file_systems: Vec<&'a EfsFileSystem>,
    groups: Vec<&'a SecurityGroup>,
}

impl<'a> Scope<'a> {
    fn of(account: &'a AccountSnapshot, region: &'a RegionSnapshot, domain_id: &str) -> Self {
        let owned = |owner: &Option<String>| owner.as_deref() == Some(domain_id);
        let mut groups: Vec<&SecurityGroup> = region
            .network
            .security_groups
            .iter()
            .filter(|g| owned(&g.domain_id))
            .collect();
        groups.sort_by(|a, b| a.group_name.cmp(&b.group_name));
        Self {
            account,
            region,
            domain: region.domains.iter().find(|d| d.domain_id == domain_id),
            file_systems: region
                .efs_file_systems
                .iter()
                .filter(|fs| owned(&fs.domain_id))
                .collect(),
            groups,
        }
    }

    fn is_empty(&self) -> bool {
        self.domain.is_none() && self.file_systems.is_empty() && self.groups.is_empty()
    }
}

/// The plan to delete `domain_id` as the snapshot describes it. `region` and `account`
/// narrow where to look; without them the domain (or what it left behind) is looked for in
/// every account and region the snapshot read, and a domain found nowhere has an empty plan
/// when the snapshot read one account and region only.
pub fn plan(
    snapshot: &Snapshot,
    domain_id: &str,
    region: Option<&str>,
    account: Option<&str>,
) -> Result<Plan, PlanError> {
    let candidates: Vec<(&AccountSnapshot, &RegionSnapshot)> = snapshot
        .accounts
        .iter()
        .filter(|a| account.is_none_or(|id| a.account_id == id))
        .flat_map(|a| a.regions.iter().map(move |r| (a, r)))
        .filter(|(_, r)| region.is_none_or(|name| r.region == name))
        .collect();
    let found: Vec<Scope> = candidates
        .iter()
        .map(|(a, r)| Scope::of(a, r, domain_id))
        .filter(|s| !s.is_empty())
        .collect();
    let mut found = found;
    let scope = match (found.len(), candidates.as_slice()) {
        (1, _) => found.remove(0),
        (0, [(a, r)]) => Scope::of(a, r, domain_id),
        (0, []) => {
            return Err(PlanError::Ambiguous(format!(
                "the snapshot holds no {} to look for domain {domain_id} in",
                match (region, account) {
                    (Some(r), Some(a)) => format!("account {a} in region {r}"),
                    (Some(r), None) => format!("region {r}"),
                    (None, Some(a)) => format!("account {a}"),
                    (None, None) => "account".into(),
                }
            )));
        }
        (0, all) => {
            return Err(PlanError::Ambiguous(format!(
                "domain {domain_id} is in none of the snapshot's {} account-regions; name the region (--region) it was in",
                all.len()
            )));
        }
        (n, _) => {
            return Err(PlanError::Ambiguous(format!(
                "domain {domain_id} is in {n} account-regions of the snapshot; name its region (--region)"
            )));
        }
    };
    complete(snapshot, &scope, domain_id)?;
    Ok(build(&scope, domain_id))
}

/// Refuses a plan for a scope in which a SageMaker, EFS or EC2 call failed.
fn complete(snapshot: &Snapshot, scope: &Scope, domain_id: &str) -> Result<(), PlanError> {
    let needed = [Service::Sagemaker, Service::Efs, Service::Ec2];
    let reasons: Vec<String> = snapshot
        .collection_errors
        .iter()
        .filter(|e| {
            e.account_id == scope.account.account_id
                && e.region == scope.region.region
                && needed.iter().any(|s| s.as_str() == e.service)
        })
        .map(|e| e.to_string())
        .collect();
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Incomplete {
            domain_id: domain_id.to_string(),
            reasons: reasons.join("; "),
        })
    }
}

fn build(scope: &Scope, domain_id: &str) -> Plan {
    let mut actions = Vec::new();
    let mut blockers = Vec::new();
    if let Some(domain) = scope.domain {
        app_actions(domain, &mut actions, &mut blockers);
        owner_actions(domain, &mut actions);
        actions.extend(domain_actions(domain, !scope.file_systems.is_empty()));
    }
    actions.extend(storage_actions(&scope.file_systems));
    actions.extend(group_actions(&scope.groups));
    let region = scope.region.region.as_str();
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        account_id: scope.account.account_id.clone(),
        region: region.to_string(),
        domain_id: domain_id.to_string(),
        domain: scope.domain.map(|d| PlanDomain {
            arn: d.arn.clone(),
            name: d.name.clone(),
            status: d.status.clone(),
        }),
        blockers,
        left_in_place: scope.domain.map(left_in_place).unwrap_or_default(),
        steps: actions
            .iter()
            .enumerate()
            .map(|(i, a)| a.step(i + 1, domain_id, region))
            .collect(),
    }
}

/// The custom file systems the domain's spaces mount, each once with its spaces.
fn left_in_place(domain: &Domain) -> Vec<LeftInPlace> {
    let mut by_fs: std::collections::BTreeMap<(&str, &str), Vec<String>> = Default::default();
    for space in &domain.spaces {
        for fs in &space.custom_file_systems {
            by_fs
                .entry((fs.kind.as_str(), fs.id.as_str()))
                .or_default()
                .push(space.name.clone());
        }
    }
    by_fs
        .into_iter()
        .map(|((kind, id), spaces)| LeftInPlace {
            kind: kind.to_string(),
            id: id.to_string(),
            spaces,
        })
        .collect()
}

fn owner_of(app: &App) -> Option<AppOwner<'_>> {
    match (&app.user_profile_name, &app.space_name) {
        (_, Some(space)) => Some(AppOwner::Space(space)),
        (Some(profile), None) => Some(AppOwner::UserProfile(profile)),
        (None, None) => None,
    }
}

/// Step 1: Apps, except the failed ones (DeleteApp refuses them) and those already going; then
/// a wait until they are gone.
fn app_actions<'a>(domain: &'a Domain, actions: &mut Vec<Action<'a>>, blockers: &mut Vec<Blocker>) {
    let mut apps: Vec<(&App, AppOwner)> = domain
        .apps
        .iter()
        .filter_map(|a| Some((a, owner_of(a)?)))
        .collect();
    let key = |(a, o): &(&App, AppOwner)| {
        let owner = match o {
            AppOwner::UserProfile(n) | AppOwner::Space(n) => *n,
        };
        (owner.to_string(), a.app_type.clone(), a.name.clone())
    };
    apps.sort_by_key(key);
    for (app, owner) in &apps {
        if app.status == "Failed" {
            let (label, name) = owner.label();
            blockers.push(Blocker {
                resource: format!("app {} {:?} of {label} {:?}", app.app_type, app.name, name),
                status: app.status.clone(),
                reason: "a failed app cannot be deleted; SageMaker does not count it against deleting its owner or the domain. If a delete below is refused because of it, AWS Support has to remove it.".into(),
            });
            continue;
        }
        if APP_GONE.contains(&app.status.as_str()) {
            continue;
        }
        actions.push(Action::DeleteApp {
            owner: *owner,
            app_type: &app.app_type,
            name: &app.name,
        });
    }
    if apps
        .iter()
        .any(|(a, _)| a.status != "Deleted" && a.status != "Failed")
    {
        actions.push(Action::WaitForApps);
    }
}

/// Step 2: Spaces and user profiles, once their apps are gone; then waits until none is left.
fn owner_actions<'a>(domain: &'a Domain, actions: &mut Vec<Action<'a>>) {
    let mut spaces: Vec<&str> = domain
        .spaces
        .iter()
        .filter(|s| s.status != "Deleting")
        .map(|s| s.name.as_str())
        .collect();
    spaces.sort();
    let mut profiles: Vec<&str> = domain
        .user_profiles
        .iter()
        .filter(|p| p.status != "Deleting")
        .map(|p| p.name.as_str())
        .collect();
    profiles.sort();
    actions.extend(spaces.into_iter().map(Action::DeleteSpace));
    actions.extend(profiles.into_iter().map(Action::DeleteUserProfile));
    if !domain.spaces.is_empty() {
        actions.push(Action::WaitForSpaces);
    }
    if !domain.user_profiles.is_empty() {
        actions.push(Action::WaitForUserProfiles);
    }
}

/// Step 3: The domain. Retain keeps the home EFS for the explicit steps below, after its data has
/// been copied out if it is needed; Delete would remove it with the domain but leave the NFS
/// groups anyway.
fn domain_actions(domain: &Domain, has_efs: bool) -> Vec<Action<'_>> {
    let mut out = Vec::new();
    if domain.status != "Deleting" {
        out.push(Action::DeleteDomain {
            name: &domain.name,
            efs_retained: has_efs,
        });
    }
    out.push(Action::WaitForDomain);
    out
}

/// Step 4: The home EFS: mount targets first (they hold network interfaces in the NFS groups).
fn storage_actions<'a>(file_systems: &[&'a EfsFileSystem]) -> Vec<Action<'a>> {
    let mut out = Vec::new();
    for fs in file_systems {
        let file_system_id = fs.file_system_id.as_str();
        for mount_target_id in &fs.mount_target_ids {
            out.push(Action::DeleteMountTarget {
                file_system_id,
                mount_target_id,
            });
        }
        if !fs.mount_target_ids.is_empty() {
            out.push(Action::WaitForMountTargets { file_system_id });
        }
        out.push(Action::DeleteFileSystem {
            file_system_id,
            size_in_bytes: fs.size_in_bytes,
        });
    }
    out
}

/// Step 5: The NFS groups reference each other: revoke those rules, then delete both.
fn group_actions<'a>(groups: &[&'a SecurityGroup]) -> Vec<Action<'a>> {
    let ids: Vec<&str> = groups.iter().map(|g| g.group_id.as_str()).collect();
    let mut out = Vec::new();
    for group in groups {
        for (egress, rules) in [(false, &group.ingress), (true, &group.egress)] {
            for rule in rules {
                let others: Vec<&str> = rule
                    .referenced_group_ids
                    .iter()
                    .map(String::as_str)
                    .filter(|g| ids.contains(g) && *g != group.group_id)
                    .collect();
                if !others.is_empty() {
                    out.push(Action::RevokeReference {
                        group,
                        egress,
                        rule,
                        others,
                    });
                }
            }
        }
    }
    out.extend(groups.iter().map(|g| Action::DeleteSecurityGroup(g)));
    out
}

impl AppOwner<'_> {
    /// How the plan names the owner, and its name.
    fn label(&self) -> (&'static str, &str) {
        match self {
            Self::UserProfile(n) => ("user profile", n),
            Self::Space(n) => ("space", n),
        }
    }

    fn flag(&self) -> &'static str {
        match self {
            Self::UserProfile(_) => "--user-profile-name",
            Self::Space(_) => "--space-name",
        }
    }
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

impl Action<'_> {
    /// The step: its kind, description and `aws` command in `region`.
    fn step(&self, number: usize, d: &str, region: &str) -> Step {
        let (kind, description, args) = self.parts(d);
        let mut command: Vec<String> = vec![
            "aws".into(),
            args[0].clone(),
            args[1].clone(),
            "--region".into(),
            region.into(),
        ];
        command.extend(args[2..].iter().cloned());
        Step {
            number,
            kind,
            description,
            command,
        }
    }

    fn parts(&self, d: &str) -> (&'static str, String, Vec<String>) {
        match self {
            Self::DeleteMountTarget { .. }
            | Self::WaitForMountTargets { .. }
            | Self::DeleteFileSystem { .. }
            | Self::RevokeReference { .. }
            | Self::DeleteSecurityGroup(_) => self.storage_parts(),
            _ => self.domain_parts(d),
        }
    }

    /// The SageMaker steps: apps, spaces, user profiles, the domain.
    fn domain_parts(&self, d: &str) -> (&'static str, String, Vec<String>) {
        match self {
            Self::DeleteApp {
                owner,
                app_type,
                name,
            } => {
                let (label, owner_name) = owner.label();
                (
                    "delete",
                    format!("Delete app {app_type} {name:?} of {label} {owner_name:?}."),
                    argv(&["sagemaker", "delete-app", "--domain-id", d, owner.flag(), owner_name, "--app-type", app_type, "--app-name", name]),
                )
            }
            Self::WaitForApps => (
                "wait",
                "Wait until the domain has no app other than Deleted or Failed ones (the command prints nothing).".into(),
                argv(&["sagemaker", "list-apps", "--domain-id-equals", d, "--query", "Apps[?Status!='Deleted' && Status!='Failed'].[AppType,AppName,Status]", "--output", "text"]),
            ),
            Self::DeleteSpace(name) => (
                "delete",
                format!("Delete space {name:?}."),
                argv(&["sagemaker", "delete-space", "--domain-id", d, "--space-name", name]),
            ),
            Self::DeleteUserProfile(name) => (
                "delete",
                format!("Delete user profile {name:?}."),
                argv(&["sagemaker", "delete-user-profile", "--domain-id", d, "--user-profile-name", name]),
            ),
            Self::WaitForSpaces => (
                "wait",
                "Wait until the domain has no space left (the command prints nothing).".into(),
                argv(&["sagemaker", "list-spaces", "--domain-id-equals", d, "--query", "Spaces[].SpaceName", "--output", "text"]),
            ),
            Self::WaitForUserProfiles => (
                "wait",
                "Wait until the domain has no user profile left (the command prints nothing).".into(),
                argv(&["sagemaker", "list-user-profiles", "--domain-id-equals", d, "--query", "UserProfiles[].UserProfileName", "--output", "text"]),
            ),
            Self::DeleteDomain { name, efs_retained } => {
                let efs_note = if *efs_retained {
                    " Its home EFS is retained: copy out any data you still need before it is deleted below."
                } else {
                    ""
                };
                (
                    "delete",
                    format!("Delete the domain {d} ({name:?}).{efs_note}"),
                    argv(&["sagemaker", "delete-domain", "--domain-id", d, "--retention-policy", "HomeEfsFileSystem=Retain"]),
                )
            }
            Self::WaitForDomain => (
                "wait",
                "Wait until the domain is gone (the command fails with ResourceNotFound).".into(),
                argv(&["sagemaker", "describe-domain", "--domain-id", d, "--query", "Status", "--output", "text"]),
            ),
            _ => unreachable!("storage steps are storage_parts'"),
        }
    }

    /// The EFS and EC2 steps: mount targets, the file system, the NFS groups.
    fn storage_parts(&self) -> (&'static str, String, Vec<String>) {
        match self {
            Self::DeleteMountTarget {
                file_system_id,
                mount_target_id,
            } => (
                "delete",
                format!("Delete mount target {mount_target_id} of the home EFS {file_system_id}."),
                argv(&[
                    "efs",
                    "delete-mount-target",
                    "--mount-target-id",
                    mount_target_id,
                ]),
            ),
            Self::WaitForMountTargets { file_system_id } => (
                "wait",
                format!(
                    "Wait until EFS {file_system_id} has no mount target (the command prints nothing)."
                ),
                argv(&[
                    "efs",
                    "describe-mount-targets",
                    "--file-system-id",
                    file_system_id,
                    "--query",
                    "MountTargets[].MountTargetId",
                    "--output",
                    "text",
                ]),
            ),
            Self::DeleteFileSystem {
                file_system_id,
                size_in_bytes,
            } => (
                "delete",
                format!("Delete the home EFS {file_system_id} ({size_in_bytes} bytes stored)."),
                argv(&[
                    "efs",
                    "delete-file-system",
                    "--file-system-id",
                    file_system_id,
                ]),
            ),
            Self::RevokeReference {
                group,
                egress,
                rule,
                others,
            } => {
                let direction = if *egress { "egress" } else { "ingress" };
                (
                    "revoke",
                    format!(
                        "Revoke the {direction} rule of {} ({}) that references {}.",
                        group.group_id,
                        group.group_name,
                        others.join(", ")
                    ),
                    argv(&[
                        "ec2",
                        &format!("revoke-security-group-{direction}"),
                        "--group-id",
                        &group.group_id,
                        "--ip-permissions",
                        &ip_permissions(rule, others),
                    ]),
                )
            }
            Self::DeleteSecurityGroup(group) => (
                "delete",
                format!(
                    "Delete security group {} ({}).",
                    group.group_id, group.group_name
                ),
                argv(&[
                    "ec2",
                    "delete-security-group",
                    "--group-id",
                    &group.group_id,
                ]),
            ),
            _ => unreachable!("SageMaker steps are domain_parts'"),
        }
    }
}

/// The rule as `--ip-permissions` JSON, limited to the group references being revoked.
fn ip_permissions(rule: &SecurityGroupRule, groups: &[&str]) -> String {
    let mut p = serde_json::Map::new();
    p.insert("IpProtocol".into(), rule.ip_protocol.clone().into());
    if rule.ip_protocol != "-1" {
        if let Some(from) = rule.from_port {
            p.insert("FromPort".into(), from.into());
        }
        if let Some(to) = rule.to_port {
            p.insert("ToPort".into(), to.into());
        }
    }
    let pairs: Vec<serde_json::Value> = groups
        .iter()
        .map(|g| serde_json::json!({ "GroupId": g }))
        .collect();
    p.insert("UserIdGroupPairs".into(), pairs.into());
    serde_json::Value::Array(vec![p.into()]).to_string()
}

/// One argument as the shell must read it.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

impl Step {
    pub fn command_line(&self) -> String {
        self.command
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Plan {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let place = format!("account {} region {}", self.account_id, self.region);
        match &self.domain {
            Some(d) => out.push_str(&format!(
                "Teardown plan for SageMaker domain {} ({:?}, {}) in {place}.\n",
                self.domain_id, d.name, d.status
            )),
            None if self.steps.is_empty() => {
                out.push_str(&format!(
                    "Nothing is left of SageMaker domain {} in {place}: no domain, no home EFS, no NFS security group.\n",
                    self.domain_id
                ));
                return out;
            }
            None => out.push_str(&format!(
                "SageMaker domain {} no longer exists in {place}; these leftovers remain.\n",
                self.domain_id
            )),
        }
        out.push_str("Read-only: nothing has been changed. Run the steps in order; repeat a \"wait\" step until its condition holds.\n");
        if !self.blockers.is_empty() {
            out.push_str("\nBlockers:\n");
            for b in &self.blockers {
                out.push_str(&format!(
                    "  - {} is {}: {}\n",
                    b.resource, b.status, b.reason
                ));
            }
        }
        if !self.left_in_place.is_empty() {
            out.push_str("\nLeft in place (the domain uses them but does not own them; delete them yourself if nothing else does):\n");
            for l in &self.left_in_place {
                out.push_str(&format!(
                    "  - {} {} (mounted by space(s) {})\n",
                    l.kind,
                    l.id,
                    l.spaces.join(", ")
                ));
            }
        }
        out.push_str("\nSteps:\n");
        for s in &self.steps {
            out.push_str(&format!(
                "{:>3}. {}\n     $ {}\n",
                s.number,
                s.description,
                s.command_line()
            ));
        }
        out
    }

    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).unwrap_or_default();
        out.push('\n');
        out
    }
}

/// A SageMaker domain id: `d-` and up to 61 letters, digits or dashes.
pub fn is_domain_id(s: &str) -> bool {
    s.len() > 2
        && s.len() <= 63
        && s.starts_with("d-")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests;
