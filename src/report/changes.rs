//! CloudTrail in the report: each failing finding's `attribution` (the last call that changed
//! its resource) and the `changes` section (the control-plane calls of the window).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::json;

use crate::report::{Report, Status};
use crate::snapshot::{ControlPlaneEvent, Snapshot};
use crate::vocab::ResourceType;

/// What tells the person behind a role session: the snapshot's execution roles, by account
/// and role name. SageMaker names an execution role's sessions `SageMaker` unless the
/// domain's `ExecutionRoleSessionNameMode` is `USER_IDENTITY`, when the session name is the
/// user's identity (the IAM session name that made the presigned URL, or the Identity Center
/// user name).
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    execution_roles: HashSet<(String, String)>,
}

/// The session name of execution roles whose domain does not name sessions after users.
const STATIC_SESSION_NAME: &str = "SageMaker";

impl Sessions {
    pub fn of(snapshot: &Snapshot) -> Self {
        let execution_roles = snapshot
            .accounts
            .iter()
            .flat_map(|a| a.execution_roles.iter().map(move |r| (a, r)))
            .filter_map(|(a, r)| {
                let name = r.arn.rsplit('/').next()?;
                Some((a.account_id.clone(), name.to_string()))
            })
            .collect();
        Self { execution_roles }
    }

    /// The person CloudTrail names behind a call: the session's source identity, else the
    /// Identity Center user it acts on behalf of, else the session name of an execution
    /// role's session named after its user. `None` when CloudTrail names nobody beyond the
    /// caller itself (`actor_arn`).
    pub fn person(&self, e: &ControlPlaneEvent) -> Option<String> {
        if let Some(who) = e.source_identity.clone().or_else(|| e.on_behalf_of.clone()) {
            return Some(who);
        }
        let (role, session) = e.role_session()?;
        let execution_role = self
            .execution_roles
            .contains(&(e.account_id.clone(), role.to_string()));
        (execution_role && session != STATIC_SESSION_NAME).then(|| session.to_string())
    }
}

/// Sets `attribution` on FAIL and MUTED findings from `known` (every event of the look-back
/// window): of SageMaker resources directly, of home EFS file systems and NFS groups through
/// the domain that made them; and lists `new` (the events this report is the first to see) as `changes`.
pub fn apply(
    report: &mut Report,
    known: &[ControlPlaneEvent],
    new: &[ControlPlaneEvent],
    sessions: &Sessions,
) {
    // The latest change per resource ARN.
    let mut latest: HashMap<&str, &ControlPlaneEvent> = HashMap::new();
    for event in known.iter().filter(|e| e.is_change()) {
        for arn in &event.resources {
            let slot = latest.entry(arn.as_str()).or_insert(event);
            if (event.event_time, &event.event_id) > (slot.event_time, &slot.event_id) {
                *slot = event;
            }
        }
    }
    for finding in &mut report.findings {
        if !matches!(finding.status, Status::Fail | Status::Muted) {
            continue;
        }
        let rt = ResourceType::parse(&finding.resource_type);
        let event = if rt.is_some_and(ResourceType::in_domain_graph) {
            latest.get(finding.resource_arn.as_str())
        } else if matches!(
            rt,
            Some(ResourceType::EfsFileSystem | ResourceType::SecurityGroup)
        ) {
            finding
                .domain_id
                .as_deref()
                .and_then(|d| {
                    domain_arn(
                        &finding.resource_arn,
                        &finding.account_id,
                        &finding.region,
                        d,
                    )
                })
                .and_then(|arn| latest.get(arn.as_str()))
        } else {
            None
        };
        finding.attribution = event.map(|e| Box::new(attribution(e, sessions)));
    }
    let mut changes: Vec<ControlPlaneEvent> =
        new.iter().filter(|e| e.is_change()).cloned().collect();
    changes.sort_by(|a, b| (a.event_time, &a.event_id).cmp(&(b.event_time, &b.event_id)));
    report.changes = Some(changes);
}

fn attribution(e: &ControlPlaneEvent, sessions: &Sessions) -> serde_json::Value {
    json!({
        "event_name": e.event_name,
        "event_time": e.event_time,
        "actor_arn": e.actor_arn,
        "user": sessions.person(e),
        "actor_type": e.actor_type,
        "source_ip": e.source_ip,
        "user_agent": e.user_agent,
        "event_id": e.event_id,
    })
}

/// The ARN of domain `domain_id` in the finding's partition, account and region.
fn domain_arn(resource_arn: &str, account: &str, region: &str, domain_id: &str) -> Option<String> {
    let partition = crate::vocab::Arn::parse(resource_arn)?.partition;
    if partition.is_empty() {
        return None;
    }
    Some(crate::vocab::Arn::sagemaker_domain(
        partition, region, account, domain_id,
    ))
}

/// Studio sign-ins (`CreatePresignedDomainUrl` that succeeded) per (account, region, domain
/// id), of the `domains` the scan found only: a made-up or mistyped domain id in a request
/// is no sign-in, and must not become a metric series.
pub fn logins<'a>(
    events: &'a [ControlPlaneEvent],
    domains: &BTreeSet<(String, String, String)>,
) -> HashMap<(&'a str, &'a str, &'a str), u64> {
    let mut out = HashMap::new();
    for e in events.iter().filter(|e| e.is_login()) {
        let Some(domain) = e.domain_id.as_deref() else {
            continue;
        };
        let key = (e.account_id.clone(), e.region.clone(), domain.to_string());
        if domains.contains(&key) {
            *out.entry((e.account_id.as_str(), e.region.as_str(), domain))
                .or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{ACCOUNT, finding, report};
    use chrono::{DateTime, Utc};

    const DOMAIN: &str = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1";

    fn event(id: &str, name: &str, at: &str, resources: &[&str], actor: &str) -> ControlPlaneEvent {
        ControlPlaneEvent {
            event_id: id.into(),
            account_id: ACCOUNT.into(),
            region: "us-east-1".into(),
            event_time: at.parse::<DateTime<Utc>>().unwrap(),
            event_name: name.into(),
            resources: resources.iter().map(|r| r.to_string()).collect(),
            domain_id: Some("d-1".into()),
            actor_arn: Some(actor.into()),
            actor_type: Some("AssumedRole".into()),
            source_ip: Some("198.51.100.7".into()),
            user_agent: Some("aws-cli/2".into()),
            read_only: false,
            error_code: None,
            source_identity: None,
            on_behalf_of: None,
        }
    }

    #[test]
    fn the_latest_change_of_the_resource_is_the_attribution() {
        let mut efs = finding(
            "efs_orphaned_home",
            "efs_file_system",
            "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1",
            Status::Fail,
        );
        efs.domain_id = Some("d-1".into());
        let mut r = report(
            "2026-11-02T00:00:00Z".parse().unwrap(),
            vec![
                finding(
                    "domain_public_internet_access",
                    "domain",
                    DOMAIN,
                    Status::Fail,
                ),
                finding("domain_unhealthy", "domain", DOMAIN, Status::Pass),
                efs,
            ],
        );
        let events = [
            event(
                "1",
                "CreateDomain",
                "2026-11-01T08:00:00Z",
                &[DOMAIN],
                "arn:aws:sts::1:assumed-role/admin/alice",
            ),
            event(
                "2",
                "UpdateDomain",
                "2026-11-01T09:00:00Z",
                &[DOMAIN],
                "arn:aws:sts::1:assumed-role/admin/bob",
            ),
            // Newer, but a sign-in, not a change.
            event(
                "3",
                "CreatePresignedDomainUrl",
                "2026-11-01T10:00:00Z",
                &[DOMAIN],
                "arn:aws:sts::1:assumed-role/user/carol",
            ),
        ];
        apply(&mut r, &events, &events[1..], &Sessions::default());
        let who = |i: usize| {
            r.findings[i]
                .attribution
                .as_ref()
                .map(|a| a["actor_arn"].clone())
        };
        assert_eq!(who(0), Some(json!("arn:aws:sts::1:assumed-role/admin/bob")));
        assert_eq!(
            r.findings[0].attribution.as_ref().unwrap()["event_name"],
            "UpdateDomain"
        );
        // A passing finding carries none; the EFS one is attributed through its domain.
        assert_eq!(who(1), None);
        assert_eq!(who(2), Some(json!("arn:aws:sts::1:assumed-role/admin/bob")));
        // `changes`: the new events that changed something.
        let changes = r.changes.as_ref().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].event_id, "2");
        let domains: BTreeSet<(String, String, String)> =
            [(ACCOUNT.into(), "us-east-1".into(), "d-1".into())].into();
        assert_eq!(logins(&events, &domains)[&(ACCOUNT, "us-east-1", "d-1")], 1);
        assert!(logins(&events, &BTreeSet::new()).is_empty());
    }

    /// A failed call changed nothing: a denied UpdateDomain after the real change neither
    /// becomes the attribution nor a change, and a failed or made-up sign-in counts nowhere.
    #[test]
    fn failed_calls_are_never_attributed_or_counted() {
        let mut r = report(
            "2026-11-02T00:00:00Z".parse().unwrap(),
            vec![finding(
                "domain_public_internet_access",
                "domain",
                DOMAIN,
                Status::Fail,
            )],
        );
        let real = event(
            "1",
            "UpdateDomain",
            "2026-11-01T09:00:00Z",
            &[DOMAIN],
            "arn:aws:sts::1:assumed-role/admin/bob",
        );
        let mut denied = event(
            "2",
            "UpdateDomain",
            "2026-11-01T10:00:00Z",
            &[DOMAIN],
            "arn:aws:iam::1:user/mallory",
        );
        denied.error_code = Some("AccessDeniedException".into());
        let mut failed_login = event(
            "3",
            "CreatePresignedDomainUrl",
            "2026-11-01T11:00:00Z",
            &[DOMAIN],
            "arn:aws:iam::1:user/mallory",
        );
        failed_login.error_code = Some("AccessDeniedException".into());
        let mut made_up = event(
            "4",
            "CreatePresignedDomainUrl",
            "2026-11-01T11:00:00Z",
            &[],
            "arn:aws:iam::1:user/mallory",
        );
        made_up.domain_id = Some("d-madeup".into());
        let events = [real, denied, failed_login, made_up];
        apply(&mut r, &events, &events, &Sessions::default());
        let who = r.findings[0].attribution.as_ref().unwrap();
        assert_eq!(who["actor_arn"], "arn:aws:sts::1:assumed-role/admin/bob");
        let ids: Vec<&str> = r
            .changes
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| e.event_id.as_str())
            .collect();
        assert_eq!(ids, ["1"]);
        let domains: BTreeSet<(String, String, String)> =
            [(ACCOUNT.into(), "us-east-1".into(), "d-1".into())].into();
        assert!(logins(&events, &domains).is_empty());
    }

    /// The person behind an execution role's session: its source identity, else the
    /// Identity Center user, else a session named after its user; nobody for the static
    /// `SageMaker` session or for a role that is no execution role.
    #[test]
    fn the_person_behind_a_role_session() {
        let mut snapshot = Snapshot::default();
        snapshot.accounts.push(crate::snapshot::AccountSnapshot {
            account_id: ACCOUNT.into(),
            execution_roles: vec![crate::snapshot::ExecutionRole {
                arn: format!("arn:aws:iam::{ACCOUNT}:role/service-role/studio"),
                state: crate::snapshot::RoleState::Found,
                bindings: vec![],
                role: None,
            }],
            ..Default::default()
        });
        let sessions = Sessions::of(&snapshot);
        let role = |session: &str| format!("arn:aws:sts::{ACCOUNT}:assumed-role/studio/{session}");
        let mut e = event(
            "1",
            "CreateApp",
            "2026-11-01T09:00:00Z",
            &[DOMAIN],
            &role("SageMaker"),
        );
        assert_eq!(sessions.person(&e), None);
        e.actor_arn = Some(role("alice"));
        assert_eq!(sessions.person(&e).as_deref(), Some("alice"));
        e.source_identity = Some("alice-profile".into());
        assert_eq!(sessions.person(&e).as_deref(), Some("alice-profile"));
        e.source_identity = None;
        e.on_behalf_of = Some("94482488-3041-7026-18f3-be45837cd0e4".into());
        assert_eq!(
            sessions.person(&e).as_deref(),
            Some("94482488-3041-7026-18f3-be45837cd0e4")
        );
        // Another role's session name is not a user name.
        let mut other = event(
            "2",
            "UpdateDomain",
            "2026-11-01T09:00:00Z",
            &[DOMAIN],
            &format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/i-0abc"),
        );
        assert_eq!(sessions.person(&other), None);
        other.actor_arn = Some(format!("arn:aws:iam::{ACCOUNT}:user/bob"));
        assert_eq!(sessions.person(&other), None);
    }
}
