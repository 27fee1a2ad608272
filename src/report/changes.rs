//! CloudTrail in the report: each failing finding's `attribution` (the last call that changed
//! its resource) and the `changes` section (the control-plane calls of the window).

use std::collections::HashMap;

use serde_json::json;

use crate::report::{Report, Status};
use crate::snapshot::ControlPlaneEvent;

/// Resource types whose findings are attributed: SageMaker resources directly, EFS file
/// systems and NFS groups through the domain that made them.
const DIRECT: [&str; 4] = ["domain", "user_profile", "space", "app"];
const THROUGH_DOMAIN: [&str; 2] = ["efs_file_system", "security_group"];

/// Sets `attribution` on FAIL and MUTED findings from `known` (every event of the look-back
/// window) and lists `new` (the events this report is the first to see) as `changes`.
pub fn apply(report: &mut Report, known: &[ControlPlaneEvent], new: &[ControlPlaneEvent]) {
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
        let rt = finding.resource_type.as_str();
        let event = if DIRECT.contains(&rt) {
            latest.get(finding.resource_arn.as_str())
        } else if THROUGH_DOMAIN.contains(&rt) {
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
        finding.attribution = event.map(|e| attribution(e));
    }
    let mut changes: Vec<ControlPlaneEvent> =
        new.iter().filter(|e| e.is_change()).cloned().collect();
    changes.sort_by(|a, b| (a.event_time, &a.event_id).cmp(&(b.event_time, &b.event_id)));
    report.changes = Some(changes);
}

fn attribution(e: &ControlPlaneEvent) -> serde_json::Value {
    json!({
        "event_name": e.event_name,
        "event_time": e.event_time,
        "actor_arn": e.actor_arn,
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

/// Studio sign-ins (`CreatePresignedDomainUrl`) per (account, region, domain id).
pub fn logins(events: &[ControlPlaneEvent]) -> HashMap<(&str, &str, &str), u64> {
    let mut out = HashMap::new();
    for e in events.iter().filter(|e| e.is_login()) {
        let domain = e.domain_id.as_deref().unwrap_or("unknown");
        *out.entry((e.account_id.as_str(), e.region.as_str(), domain))
            .or_default() += 1;
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
        apply(&mut r, &events, &events[1..]);
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
        assert_eq!(logins(&events)[&(ACCOUNT, "us-east-1", "d-1")], 1);
    }
}
