use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::report::history::{History, KeptOpen, ResolvedFinding};
use crate::report::test_fixtures::{ACCOUNT, finding, report};
use crate::vocab::Severity;

const PROFILE: &str = "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/alice";
const ROLE: &str = "arn:aws:iam::123456789012:role/wide";
const GONE: &str = "arn:aws:sagemaker:us-east-1:123456789012:app/d-1/bob/jupyterlab/default";

fn at() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + Duration::days(20_000)
}

fn titles(id: &str) -> Option<String> {
    (id == "app_long_running").then(|| "Apps running for days".to_string())
}

fn resolved(check_id: &str, arn: &str) -> ResolvedFinding {
    ResolvedFinding {
        id: crate::report::findings::finding_id(check_id, arn),
        check_id: check_id.into(),
        severity: Severity::Medium,
        resource_type: "app".into(),
        resource_arn: arn.into(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        first_seen: at() - Duration::days(3),
        last_seen: at() - Duration::hours(1),
        resolved_at: at(),
    }
}

fn by_id<'a>(planned: &'a [AsffFinding], check_id: &str, arn: &str) -> Option<&'a AsffFinding> {
    let id = asff::finding_id(
        check_id,
        &crate::report::findings::finding_id(check_id, arn),
    );
    planned.iter().find(|f| f.id == id)
}

#[test]
fn a_scan_without_history_sends_failures_active_and_passes_archived() {
    let r = report(
        at(),
        vec![
            finding("profile_check", "user_profile", PROFILE, Status::Fail),
            finding("role_check", "iam_role", ROLE, Status::Pass),
            finding("muted_check", "user_profile", PROFILE, Status::Muted),
            finding("error_check", "app", GONE, Status::Error),
        ],
    );
    let planned = plan(&r, &titles, None, Vec::new());
    assert_eq!(planned.len(), 4);
    let state = |check, arn| {
        let f = by_id(&planned, check, arn).expect(check);
        (f.record_state.as_str(), f.compliance.status.as_str())
    };
    assert_eq!(state("profile_check", PROFILE), ("ACTIVE", "FAILED"));
    assert_eq!(state("muted_check", PROFILE), ("ACTIVE", "FAILED"));
    assert_eq!(state("error_check", GONE), ("ACTIVE", "NOT_AVAILABLE"));
    assert_eq!(state("role_check", ROLE), ("ARCHIVED", "PASSED"));
    let updated = "2024-10-04T00:00:00.000Z";
    assert!(
        planned.iter().all(|f| f.updated_at == updated),
        "{planned:#?}"
    );
}

#[test]
fn the_daemon_sends_resolved_findings_archived_and_no_other_pass() {
    let mut r = report(
        at(),
        vec![
            finding("profile_check", "user_profile", PROFILE, Status::Pass),
            finding("role_check", "iam_role", ROLE, Status::Pass),
        ],
    );
    let fixed = resolved("profile_check", PROFILE);
    let gone = resolved("app_long_running", GONE);
    r.history = Some(History {
        resolved: vec![
            ResolvedFinding {
                resource_type: "user_profile".into(),
                ..fixed
            },
            gone.clone(),
        ],
        ..Default::default()
    });
    let planned = plan(&r, &titles, None, Vec::new());
    // The PASS that was never open is not sent; the fixed one is, once; the gone one too.
    assert_eq!(planned.len(), 2, "{planned:#?}");
    assert!(by_id(&planned, "role_check", ROLE).is_none());
    let fixed = by_id(&planned, "profile_check", PROFILE).unwrap();
    assert_eq!(fixed.record_state, "ARCHIVED");
    // Its dates are the history's, not the PASS result's.
    assert_eq!(fixed.created_at, "2024-10-01T00:00:00.000Z");
    assert_eq!(fixed.last_observed_at, "2024-10-04T00:00:00.000Z");
    let gone = by_id(&planned, "app_long_running", GONE).unwrap();
    assert_eq!(
        (gone.record_state.as_str(), gone.compliance.status.as_str()),
        ("ARCHIVED", "PASSED")
    );
    assert_eq!(gone.title, "Apps running for days");
    // Opened three days ago: CreatedAt and FirstObservedAt come from the history.
    assert_eq!(gone.created_at, "2024-10-01T00:00:00.000Z");
    assert_eq!(gone.first_observed_at, gone.created_at);
    assert_eq!(gone.updated_at, "2024-10-04T00:00:00.000Z");
}

#[test]
fn a_finding_kept_open_for_an_error_is_not_touched() {
    let mut r = report(at(), vec![finding("app_check", "app", GONE, Status::Error)]);
    let id = crate::report::findings::finding_id("app_check", GONE);
    r.history = Some(History {
        kept_open: vec![KeptOpen {
            id,
            check_id: "app_check".into(),
            resource_arn: GONE.into(),
            reason: "error_result".into(),
            service: None,
        }],
        ..Default::default()
    });
    assert!(plan(&r, &titles, None, Vec::new()).is_empty());
}

#[test]
fn pending_archives_are_resent_unless_the_finding_is_open_again() {
    let home = "us-east-1";
    let archived = |check: &str, arn: &str| asff::resolved(&resolved(check, arn), "t", "old", home);
    let r = report(
        at(),
        vec![finding(
            "profile_check",
            "user_profile",
            PROFILE,
            Status::Fail,
        )],
    );
    let pending = vec![
        archived("profile_check", PROFILE),
        archived("app_long_running", GONE),
    ];
    let planned = plan(&r, &titles, None, pending);
    assert_eq!(planned.len(), 2, "{planned:#?}");
    assert_eq!(
        by_id(&planned, "profile_check", PROFILE)
            .unwrap()
            .record_state,
        "ACTIVE"
    );
    let resent = by_id(&planned, "app_long_running", GONE).unwrap();
    assert_eq!(resent.record_state, "ARCHIVED");
    assert_eq!(resent.updated_at, "2024-10-04T00:00:00.000Z");
}

#[test]
fn a_hub_region_moves_the_product_not_the_finding() {
    let r = report(
        at(),
        vec![finding("role_check", "iam_role", ROLE, Status::Fail)],
    );
    let planned = plan(&r, &titles, Some("eu-west-1"), Vec::new());
    assert_eq!(
        planned[0].product_arn,
        "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    );
    assert_eq!(planned[0].region, "us-east-1");
    assert_eq!(hub_region(&planned[0]), "eu-west-1");
}

#[test]
fn batches_hold_at_most_100_findings_and_240_kb() {
    let r = report(
        at(),
        (0..250)
            .map(|i| finding("c", "app", &format!("{GONE}{i}"), Status::Fail))
            .collect(),
    );
    let planned = plan(&r, &titles, None, Vec::new());
    let (out, too_large) = batches(planned.clone());
    assert!(too_large.is_empty());
    assert_eq!(
        out.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![100, 100, 50]
    );
    // Large findings (a long description each): the byte limit splits first.
    let mut big = planned;
    for f in &mut big {
        f.description = "x".repeat(10_000);
    }
    let (out, _) = batches(big);
    for batch in &out {
        let bytes: usize = batch
            .iter()
            .map(|f| serde_json::to_vec(f).unwrap().len() + 1)
            .sum();
        assert!(bytes <= MAX_BATCH_BYTES && batch.len() < 100, "{bytes}");
    }
    assert_eq!(out.iter().map(Vec::len).sum::<usize>(), 250);
    // One finding over the limit on its own is never sent.
    let mut huge = big_one();
    huge.description = "x".repeat(MAX_BATCH_BYTES);
    let (out, too_large) = batches(vec![huge]);
    assert!(out.is_empty());
    assert_eq!(too_large[0].code, "FindingTooLarge");
}

fn big_one() -> AsffFinding {
    let r = report(at(), vec![finding("c", "app", GONE, Status::Fail)]);
    plan(&r, &titles, None, Vec::new()).remove(0)
}
