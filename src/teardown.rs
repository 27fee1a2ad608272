//! `teardown-plan`: the ordered, read-only plan to delete a domain completely — apps, spaces,
//! user profiles, the domain, then the home EFS (mount targets first) and the two NFS security
//! groups (their cross-references revoked first). It executes nothing: it prints numbered
//! steps with the exact `aws` CLI command of each, or the same as JSON.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::{PlanFormat, TeardownArgs};
use crate::collect::teardown::{DomainRemains, GroupRemains, domain_remains};
use crate::collect::{AwsClients, ClientSettings};
use crate::config::{Config, is_region_name};
use crate::snapshot::SecurityGroupRule;
use crate::{Error, Result};

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
    pub steps: Vec<Step>,
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub number: usize,
    /// `delete`, `revoke` or `wait` (repeat the command until its condition holds).
    pub kind: &'static str,
    pub description: String,
    /// The `aws` CLI command, one argument per element.
    pub command: Vec<String>,
}

/// Statuses in which an app needs no delete call.
const APP_GONE: [&str; 2] = ["Deleted", "Deleting"];

struct Builder<'a> {
    r: &'a DomainRemains,
    steps: Vec<Step>,
}

impl Builder<'_> {
    fn push(&mut self, kind: &'static str, description: String, args: &[&str]) {
        let mut command: Vec<String> = ["aws", args[0], args[1], "--region", &self.r.region]
            .iter()
            .map(|s| s.to_string())
            .collect();
        command.extend(args[2..].iter().map(|s| s.to_string()));
        self.steps.push(Step {
            number: self.steps.len() + 1,
            kind,
            description,
            command,
        });
    }
}

/// The plan for what was found. Pure: the tests build it from hand-made remains.
pub fn plan(r: &DomainRemains) -> Plan {
    let d = r.domain_id.as_str();
    let mut b = Builder {
        r,
        steps: Vec::new(),
    };
    let mut blockers = Vec::new();

    // 1. Apps, except the failed ones (DeleteApp refuses them) and those already going.
    for app in &r.apps {
        let owner_flag = if app.owner_kind == "space" {
            "--space-name"
        } else {
            "--user-profile-name"
        };
        let owner_label = app.owner_kind.replace('_', " ");
        if app.status == "Failed" {
            blockers.push(Blocker {
                resource: format!("app {} {:?} of {owner_label} {:?}", app.app_type, app.name, app.owner),
                status: app.status.clone(),
                reason: "a failed app cannot be deleted; SageMaker does not count it against deleting its owner or the domain. If a delete below is refused because of it, AWS Support has to remove it.".into(),
            });
            continue;
        }
        if APP_GONE.contains(&app.status.as_str()) {
            continue;
        }
        b.push(
            "delete",
            format!(
                "Delete app {} {:?} of {owner_label} {:?}.",
                app.app_type, app.name, app.owner
            ),
            &[
                "sagemaker",
                "delete-app",
                "--domain-id",
                d,
                owner_flag,
                &app.owner,
                "--app-type",
                &app.app_type,
                "--app-name",
                &app.name,
            ],
        );
    }
    if r.apps
        .iter()
        .any(|a| a.status != "Deleted" && a.status != "Failed")
    {
        b.push(
            "wait",
            "Wait until the domain has no app other than Deleted or Failed ones (the command prints nothing).".into(),
            &["sagemaker", "list-apps", "--domain-id-equals", d, "--query", "Apps[?Status!='Deleted' && Status!='Failed'].[AppType,AppName,Status]", "--output", "text"],
        );
    }

    // 2. Spaces and user profiles, once their apps are gone.
    for space in r.spaces.iter().filter(|s| s.status != "Deleting") {
        b.push(
            "delete",
            format!("Delete space {:?}.", space.name),
            &[
                "sagemaker",
                "delete-space",
                "--domain-id",
                d,
                "--space-name",
                &space.name,
            ],
        );
    }
    for profile in r.user_profiles.iter().filter(|p| p.status != "Deleting") {
        b.push(
            "delete",
            format!("Delete user profile {:?}.", profile.name),
            &[
                "sagemaker",
                "delete-user-profile",
                "--domain-id",
                d,
                "--user-profile-name",
                &profile.name,
            ],
        );
    }
    if !r.spaces.is_empty() {
        b.push(
            "wait",
            "Wait until the domain has no space left (the command prints nothing).".into(),
            &[
                "sagemaker",
                "list-spaces",
                "--domain-id-equals",
                d,
                "--query",
                "Spaces[].SpaceName",
                "--output",
                "text",
            ],
        );
    }
    if !r.user_profiles.is_empty() {
        b.push(
            "wait",
            "Wait until the domain has no user profile left (the command prints nothing).".into(),
            &[
                "sagemaker",
                "list-user-profiles",
                "--domain-id-equals",
                d,
                "--query",
                "UserProfiles[].UserProfileName",
                "--output",
                "text",
            ],
        );
    }

    // 3. The domain. Retain keeps the home EFS for the explicit steps below, after its data
    // has been copied out if it is needed; Delete would remove it with the domain but leave
    // the NFS groups anyway.
    if let Some(domain) = &r.domain {
        let efs_note = if r.file_systems.is_empty() {
            String::new()
        } else {
            " Its home EFS is retained: copy out any data you still need before it is deleted below.".into()
        };
        if domain.status != "Deleting" {
            b.push(
                "delete",
                format!("Delete the domain {d} ({:?}).{efs_note}", domain.name),
                &[
                    "sagemaker",
                    "delete-domain",
                    "--domain-id",
                    d,
                    "--retention-policy",
                    "HomeEfsFileSystem=Retain",
                ],
            );
        }
        b.push(
            "wait",
            "Wait until the domain is gone (the command fails with ResourceNotFound).".into(),
            &[
                "sagemaker",
                "describe-domain",
                "--domain-id",
                d,
                "--query",
                "Status",
                "--output",
                "text",
            ],
        );
    }

    // 4. The home EFS: mount targets first (they hold network interfaces in the NFS groups).
    for fs in &r.file_systems {
        for mt in &fs.mount_target_ids {
            b.push(
                "delete",
                format!(
                    "Delete mount target {mt} of the home EFS {}.",
                    fs.file_system_id
                ),
                &["efs", "delete-mount-target", "--mount-target-id", mt],
            );
        }
        if !fs.mount_target_ids.is_empty() {
            b.push(
                "wait",
                format!(
                    "Wait until EFS {} has no mount target (the command prints nothing).",
                    fs.file_system_id
                ),
                &[
                    "efs",
                    "describe-mount-targets",
                    "--file-system-id",
                    &fs.file_system_id,
                    "--query",
                    "MountTargets[].MountTargetId",
                    "--output",
                    "text",
                ],
            );
        }
        b.push(
            "delete",
            format!(
                "Delete the home EFS {} ({} bytes stored).",
                fs.file_system_id, fs.size_in_bytes
            ),
            &[
                "efs",
                "delete-file-system",
                "--file-system-id",
                &fs.file_system_id,
            ],
        );
    }

    // 5. The NFS groups reference each other: revoke those rules, then delete both.
    let ids: Vec<&str> = r
        .security_groups
        .iter()
        .map(|g| g.group_id.as_str())
        .collect();
    for group in &r.security_groups {
        for (direction, rules) in [("ingress", &group.ingress), ("egress", &group.egress)] {
            for rule in rules
                .iter()
                .filter(|rule| references_other(rule, group, &ids))
            {
                let other: Vec<&str> = rule
                    .referenced_group_ids
                    .iter()
                    .map(String::as_str)
                    .filter(|g| ids.contains(g) && *g != group.group_id)
                    .collect();
                let permissions = ip_permissions(rule, &other);
                let operation = format!("revoke-security-group-{direction}");
                b.push(
                    "revoke",
                    format!(
                        "Revoke the {direction} rule of {} ({}) that references {}.",
                        group.group_id,
                        group.group_name,
                        other.join(", ")
                    ),
                    &[
                        "ec2",
                        &operation,
                        "--group-id",
                        &group.group_id,
                        "--ip-permissions",
                        &permissions,
                    ],
                );
            }
        }
    }
    for group in &r.security_groups {
        b.push(
            "delete",
            format!(
                "Delete security group {} ({}).",
                group.group_id, group.group_name
            ),
            &[
                "ec2",
                "delete-security-group",
                "--group-id",
                &group.group_id,
            ],
        );
    }

    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        account_id: r.account_id.clone(),
        region: r.region.clone(),
        domain_id: r.domain_id.clone(),
        domain: r.domain.as_ref().map(|d| PlanDomain {
            arn: d.arn.clone(),
            name: d.name.clone(),
            status: d.status.clone(),
        }),
        blockers,
        steps: b.steps,
    }
}

fn references_other(rule: &SecurityGroupRule, group: &GroupRemains, ids: &[&str]) -> bool {
    rule.referenced_group_ids
        .iter()
        .any(|g| *g != group.group_id && ids.contains(&g.as_str()))
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

pub async fn run(args: TeardownArgs) -> Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if !is_domain_id(&args.domain) {
        return Err(Error::Usage(format!(
            "--domain {:?} is not a SageMaker domain id (like d-abc123def456)",
            args.domain
        )));
    }
    let settings = ClientSettings {
        endpoint_url: config.endpoint_url.clone(),
        max_attempts: config.max_attempts,
        call_timeout: config.call_timeout,
    };
    let clients = AwsClients::from_env(&settings).await;
    let region = match args
        .region
        .clone()
        .or_else(|| config.regions.first().cloned())
        .or_else(|| clients.default_region())
    {
        Some(r) if is_region_name(&r) => r,
        Some(r) => {
            return Err(Error::Usage(format!(
                "--region {r:?} is not an AWS region name"
            )));
        }
        None => {
            return Err(Error::Usage(
                "no region: pass --region, set `regions` in the config, or set AWS_REGION".into(),
            ));
        }
    };
    let remains = domain_remains(&clients, &region, &args.domain).await;
    if !remains.errors.is_empty() {
        let reasons: Vec<String> = remains.errors.iter().map(|e| e.to_string()).collect();
        // An incomplete plan could leave things behind or delete in the wrong order.
        return Err(Error::ScanFailed(format!(
            "cannot read everything of domain {}, so no plan: {}",
            args.domain,
            reasons.join("; ")
        )));
    }
    let plan = plan(&remains);
    let rendered = match args.format {
        PlanFormat::Text => plan.to_text(),
        PlanFormat::Json => plan.to_json(),
    };
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(rendered.as_bytes())
        .and_then(|()| out.flush());
    Ok(ExitCode::SUCCESS)
}

fn is_domain_id(s: &str) -> bool {
    s.len() > 2
        && s.len() <= 63
        && s.starts_with("d-")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests;
