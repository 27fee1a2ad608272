//! The history's rules: what opens, keeps open and resolves a finding.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::report::findings::EvaluationErrorEntry;
use crate::report::test_fixtures::{ACCOUNT, finding, report};
use crate::report::{Finding, Report, Status};
use crate::snapshot::{CollectionError, ErrorKind};

const DOMAIN_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-public";
const APP_ARN: &str =
    "arn:aws:sagemaker:us-east-1:123456789012:app/d-1/alice/jupyterserver/default";

fn t0() -> DateTime<Utc> {
    "2026-11-01T10:00:00Z".parse().unwrap()
}

fn public(status: Status) -> Finding {
    finding(
        "domain_public_internet_access",
        "domain",
        DOMAIN_ARN,
        status,
    )
}

fn idle(status: Status) -> Finding {
    finding("app_long_running", "app", APP_ARN, status)
}

/// When the public-domain finding was resolved, per the store.
fn public_resolved_at(s: &Store) -> Option<DateTime<Utc>> {
    s.finding(&public(Status::Fail).id)
        .unwrap()
        .unwrap()
        .resolved_at
}

fn collection_error(service: &str, operation: &str) -> CollectionError {
    CollectionError {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        service: service.into(),
        operation: operation.into(),
        error: ErrorKind::AccessDenied,
        error_code: Some("AccessDeniedException".into()),
        message: "denied".into(),
        resource: None,
    }
}

fn store() -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "sma-state-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let path = dir.join("nested/history.db");
    (Store::open(&path).unwrap(), dir)
}

fn at(hours: i64) -> DateTime<Utc> {
    t0() + Duration::hours(hours)
}

fn history(r: &Report) -> &History {
    r.history.as_ref().unwrap()
}

#[test]
fn a_failing_finding_keeps_its_first_seen_and_resolves_when_it_passes() {
    let (mut s, dir) = store();
    let mut first = report(at(0), vec![public(Status::Fail)]);
    s.record(&mut first).unwrap();
    assert_eq!(history(&first).new, [public(Status::Fail).id]);
    assert_eq!(first.findings[0].first_seen, at(0));

    let mut second = report(at(1), vec![public(Status::Fail)]);
    s.record(&mut second).unwrap();
    assert!(history(&second).new.is_empty());
    assert_eq!(second.findings[0].first_seen, at(0));
    assert_eq!(second.findings[0].last_seen, at(1));

    let mut fixed = report(at(2), vec![public(Status::Pass)]);
    s.record(&mut fixed).unwrap();
    let resolved = &history(&fixed).resolved;
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].first_seen, at(0));
    assert_eq!(resolved[0].last_seen, at(1));
    assert_eq!(resolved[0].resolved_at, at(2));
    assert_eq!(public_resolved_at(&s), Some(at(2)));
    assert_eq!(s.scan_count().unwrap(), 3);

    // Failing again later is a new occurrence with a new first_seen.
    let mut again = report(at(3), vec![public(Status::Fail)]);
    s.record(&mut again).unwrap();
    assert_eq!(history(&again).new.len(), 1);
    assert_eq!(again.findings[0].first_seen, at(3));
    assert_eq!(public_resolved_at(&s), None);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_muted_finding_stays_open() {
    let (mut s, dir) = store();
    s.record(&mut report(at(0), vec![public(Status::Fail)]))
        .unwrap();
    let mut muted = report(at(1), vec![public(Status::Muted)]);
    s.record(&mut muted).unwrap();
    assert!(history(&muted).resolved.is_empty());
    assert_eq!(muted.findings[0].first_seen, at(0));
    let row = s.finding(&public(Status::Fail).id).unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.resolved_at), ("MUTED", None));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_resource_gone_from_a_fully_read_scope_is_resolved() {
    let (mut s, dir) = store();
    s.record(&mut report(at(0), vec![public(Status::Fail)]))
        .unwrap();
    let mut gone = report(at(1), vec![]);
    s.record(&mut gone).unwrap();
    assert_eq!(history(&gone).resolved.len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_list_call_in_the_scope_resolves_nothing() {
    let (mut s, dir) = store();
    s.record(&mut report(
        at(0),
        vec![public(Status::Fail), idle(Status::Fail)],
    ))
    .unwrap();
    let mut denied = report(at(1), vec![]);
    denied.scan.collection_errors = vec![collection_error("sagemaker", "ListDomains")];
    s.record(&mut denied).unwrap();
    let h = history(&denied);
    assert!(h.resolved.is_empty());
    assert_eq!(h.kept_open.len(), 2);
    assert!(
        h.kept_open
            .iter()
            .all(|k| k.reason == "collection_error" && k.service.as_deref() == Some("sagemaker"))
    );
    // A failure of another service, or in another region, does not hold them.
    let mut other = report(at(2), vec![]);
    let mut elsewhere = collection_error("sagemaker", "ListDomains");
    elsewhere.region = "eu-west-1".into();
    other.scan.collection_errors = vec![collection_error("efs", "DescribeFileSystems"), elsewhere];
    s.record(&mut other).unwrap();
    assert_eq!(history(&other).resolved.len(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_error_result_or_a_check_that_did_not_run_resolves_nothing() {
    let (mut s, dir) = store();
    s.record(&mut report(
        at(0),
        vec![public(Status::Fail), idle(Status::Fail)],
    ))
    .unwrap();
    // The app list failed: the check reports ERROR on a pattern covering the app.
    let pattern = "arn:aws:sagemaker:us-east-1:123456789012:app/*";
    let mut r = report(
        at(1),
        vec![
            finding("app_long_running", "app", pattern, Status::Error),
            public(Status::Error),
        ],
    );
    s.record(&mut r).unwrap();
    let h = history(&r);
    assert!(h.resolved.is_empty(), "{h:?}");
    assert_eq!(h.kept_open.len(), 2);
    assert!(h.kept_open.iter().all(|k| k.reason == "error_result"));
    // The ERROR result keeps the open finding's dates.
    let public_error = r
        .findings
        .iter()
        .find(|f| f.resource_arn == DOMAIN_ARN)
        .unwrap();
    assert_eq!(
        (public_error.first_seen, public_error.last_seen),
        (at(0), at(0))
    );

    let mut broken = report(at(2), vec![public(Status::Fail)]);
    broken.evaluation_errors = vec![EvaluationErrorEntry {
        check_id: "app_long_running".into(),
        message: "timeout".into(),
    }];
    s.record(&mut broken).unwrap();
    let h = history(&broken);
    assert!(h.resolved.is_empty());
    assert_eq!(h.kept_open[0].reason, "evaluation_error");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn findings_of_an_account_or_region_not_scanned_are_left_alone() {
    let (mut s, dir) = store();
    s.record(&mut report(at(0), vec![public(Status::Fail)]))
        .unwrap();
    let mut elsewhere = report(at(1), vec![]);
    elsewhere.scan.regions = vec!["eu-west-1".into()];
    elsewhere.scan.scanned = [(ACCOUNT.to_string(), vec!["eu-west-1".to_string()])].into();
    s.record(&mut elsewhere).unwrap();
    assert_eq!(history(&elsewhere).kept_open[0].reason, "not_scanned");
    let mut other_account = report(at(2), vec![]);
    other_account.scan.accounts = vec!["210987654321".into()];
    other_account.scan.scanned =
        [("210987654321".to_string(), vec!["us-east-1".to_string()])].into();
    s.record(&mut other_account).unwrap();
    assert_eq!(history(&other_account).kept_open[0].reason, "not_scanned");
    // Another account had us-east-1 read; this one only eu-west-1 (regions = ["all"]).
    let mut mixed = report(at(3), vec![]);
    mixed.scan.regions = vec!["eu-west-1".into(), "us-east-1".into()];
    mixed.scan.accounts = vec![ACCOUNT.into(), "210987654321".into()];
    mixed.scan.scanned = [
        (ACCOUNT.to_string(), vec!["eu-west-1".to_string()]),
        ("210987654321".to_string(), vec!["us-east-1".to_string()]),
    ]
    .into();
    s.record(&mut mixed).unwrap();
    assert_eq!(history(&mixed).kept_open[0].reason, "not_scanned");
    // The account is listed (the scan set out to read it) but its role was not assumed.
    let mut unreachable = report(at(4), vec![]);
    unreachable.scan.scanned.clear();
    unreachable.scan.collection_errors = vec![CollectionError {
        region: "global".into(),
        ..collection_error("sts", "AssumeRole")
    }];
    s.record(&mut unreachable).unwrap();
    assert_eq!(history(&unreachable).kept_open[0].reason, "not_scanned");
    assert_eq!(public_resolved_at(&s), None);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn iam_findings_are_held_by_a_failed_iam_call_only() {
    let (mut s, dir) = store();
    let role = "arn:aws:iam::123456789012:role/service-role/ds";
    let mut f = finding(
        "execution_role_full_access_policy",
        "iam_role",
        role,
        Status::Fail,
    );
    f.region = "global".into();
    s.record(&mut report(at(0), vec![f])).unwrap();
    let mut r = report(at(1), vec![]);
    let mut e = collection_error("iam", "GetAccountAuthorizationDetails");
    e.region = "global".into();
    r.scan.collection_errors = vec![e, collection_error("sagemaker", "ListDomains")];
    s.record(&mut r).unwrap();
    assert_eq!(history(&r).kept_open[0].service.as_deref(), Some("iam"));
    let mut clean = report(at(2), vec![]);
    clean.scan.collection_errors = vec![collection_error("sagemaker", "ListDomains")];
    s.record(&mut clean).unwrap();
    assert_eq!(history(&clean).resolved.len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pruning_drops_old_scans_and_old_resolved_findings_only() {
    let (mut s, dir) = store();
    s.record(&mut report(
        at(0),
        vec![public(Status::Fail), idle(Status::Fail)],
    ))
    .unwrap();
    s.record(&mut report(at(1), vec![public(Status::Fail)]))
        .unwrap();
    s.record(&mut report(at(20), vec![public(Status::Fail)]))
        .unwrap();
    // The idle app resolved at hour 1; the public domain is still open since hour 0. At hour
    // 26, the scans of hours 0 and 1 are older than 24 hours.
    let pruned = s.prune(at(26), Duration::hours(24)).unwrap();
    assert_eq!((pruned.scans, pruned.findings), (2, 1));
    assert_eq!(pruned.kept, [at(20)]);
    assert_eq!(pruned.expired, [at(1), at(0)]);
    assert_eq!(pruned.clock_moved, None);
    assert!(s.finding(&idle(Status::Fail).id).unwrap().is_none());
    assert!(s.finding(&public(Status::Fail).id).unwrap().is_some());
    assert_eq!(s.scan_count().unwrap(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_history_survives_a_reopen_and_is_private() {
    let (mut s, dir) = store();
    s.record(&mut report(at(0), vec![public(Status::Fail)]))
        .unwrap();
    let path = s.path.clone();
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(s.scan_count().unwrap(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A file from a newer program is refused, not damaged.
    s.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(s);
    let err = Store::open(&path).err().unwrap();
    assert!(err.to_string().contains("schema version 99"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

fn event(id: &str, name: &str, hours: i64, actor: &str) -> crate::snapshot::ControlPlaneEvent {
    crate::snapshot::ControlPlaneEvent {
        event_id: id.into(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        event_time: at(hours),
        event_name: name.into(),
        resources: vec![DOMAIN_ARN.into()],
        domain_id: Some("d-public".into()),
        actor_arn: Some(actor.into()),
        actor_type: Some("IAMUser".into()),
        source_ip: Some("198.51.100.7".into()),
        user_agent: Some("aws-cli/2".into()),
        read_only: false,
        error_code: None,
        source_identity: None,
        on_behalf_of: None,
    }
}

/// What the daemon's pipeline does: record, then attribute from what the store returns.
fn record_with_events(
    s: &mut Store,
    r: &mut Report,
    events: ScanEvents<'_>,
) -> Vec<crate::snapshot::ControlPlaneEvent> {
    let recorded = s.record_scan(r, Some(events), None).unwrap();
    crate::report::changes::apply(
        r,
        &recorded.known,
        &recorded.new,
        &crate::report::changes::Sessions::default(),
    );
    recorded.new
}

fn actor(r: &Report) -> Option<String> {
    r.findings[0]
        .attribution
        .as_ref()
        .map(|a| a["actor_arn"].as_str().unwrap().to_string())
}

/// CloudTrail in the history: each event once (windows overlap), attribution from every
/// event of the look-back, the window advanced only by a scan that read CloudTrail in full.
#[test]
fn events_are_stored_once_and_attribute_findings_within_the_look_back() {
    let (mut s, dir) = store();
    let created = event(
        "e1",
        "CreateDomain",
        0,
        "arn:aws:iam::123456789012:user/alice",
    );
    let login = event(
        "e2",
        "CreatePresignedDomainUrl",
        1,
        "arn:aws:iam::123456789012:user/carol",
    );
    let updated = event(
        "e3",
        "UpdateDomain",
        2,
        "arn:aws:iam::123456789012:user/bob",
    );

    let mut first = report(at(1), vec![public(Status::Fail)]);
    let fetched = [created.clone(), login.clone()];
    let window = |fetched, hours, read: &[(&str, &str)]| ScanEvents {
        fetched,
        keep_after: at(hours) - Duration::days(7),
        read: read.iter().map(|(a, r)| scope(a, r, None)).collect(),
    };
    let new = record_with_events(&mut s, &mut first, window(&fetched[..], 1, &[]));
    assert_eq!(new.len(), 2);
    assert_eq!(
        first.changes.as_ref().unwrap().len(),
        1,
        "the sign-in is not a change"
    );
    assert_eq!(
        actor(&first).as_deref(),
        Some("arn:aws:iam::123456789012:user/alice")
    );
    // CloudTrail was read nowhere in full: no window moves.
    assert!(s.event_windows().unwrap().is_empty());

    // The next window overlaps: e1 again, and e3.
    let mut second = report(at(3), vec![public(Status::Fail)]);
    let fetched = [created.clone(), updated.clone()];
    let new = record_with_events(
        &mut s,
        &mut second,
        window(&fetched[..], 3, &[(ACCOUNT, "us-east-1")]),
    );
    assert_eq!(new, std::slice::from_ref(&updated));
    let changes: Vec<&str> = second
        .changes
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| e.event_id.as_str())
        .collect();
    assert_eq!(changes, ["e3"]);
    assert_eq!(
        actor(&second).as_deref(),
        Some("arn:aws:iam::123456789012:user/bob")
    );
    let windows = s.event_windows().unwrap();
    assert_eq!(
        windows[&(ACCOUNT.to_string(), "us-east-1".to_string())].started_at,
        second.scan.started_at
    );

    // Eight days later the events are past the look-back: forgotten, no attribution.
    let mut later = report(at(8 * 24), vec![public(Status::Fail)]);
    let new = record_with_events(
        &mut s,
        &mut later,
        window(&[][..], 8 * 24, &[(ACCOUNT, "us-east-1")]),
    );
    assert!(new.is_empty());
    assert_eq!(actor(&later), None);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Windows move per account and region: a scope not read completely (an unreachable account,
/// a failed LookupEvents) keeps its window while the others' move on.
#[test]
fn cloudtrail_windows_move_per_account_and_region() {
    let (mut s, dir) = store();
    let scopes = |read: &[(&str, &str)]| -> Vec<ReadScope> {
        read.iter().map(|(a, r)| scope(a, r, None)).collect()
    };
    let mut first = report(at(0), vec![]);
    let events = ScanEvents {
        fetched: &[],
        keep_after: at(0) - Duration::days(7),
        read: scopes(&[("111111111111", "us-east-1"), ("222222222222", "us-east-1")]),
    };
    s.record_scan(&mut first, Some(events), None).unwrap();
    // Next scan: account 2 unreachable, account 1 read.
    let mut second = report(at(5), vec![]);
    let events = ScanEvents {
        fetched: &[],
        keep_after: at(5) - Duration::days(7),
        read: scopes(&[("111111111111", "us-east-1")]),
    };
    s.record_scan(&mut second, Some(events), None).unwrap();
    let windows = s.event_windows().unwrap();
    let key = |a: &str| (a.to_string(), "us-east-1".to_string());
    assert_eq!(
        windows[&key("111111111111")].started_at,
        second.scan.started_at
    );
    assert_eq!(
        windows[&key("222222222222")].started_at,
        first.scan.started_at
    );
    assert_eq!(windows.len(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

fn scope(account: &str, region: &str, unread: Option<EventSpan>) -> ReadScope {
    ReadScope {
        account_id: account.into(),
        region: region.into(),
        unread,
    }
}

/// What a page budget left unread is kept with the window and given back, replaced by the
/// next scan's (none once read), and a version 3 history gains the columns with its windows
/// kept.
#[test]
fn unread_spans_are_kept_per_account_and_region() {
    let (mut s, dir) = store();
    let span = EventSpan {
        from: at(-48),
        until: at(-2),
    };
    let mut first = report(at(0), vec![]);
    let events = ScanEvents {
        fetched: &[],
        keep_after: at(0) - Duration::days(7),
        read: vec![
            scope(ACCOUNT, "us-east-1", Some(span)),
            scope(ACCOUNT, "eu-west-1", None),
        ],
    };
    s.record_scan(&mut first, Some(events), None).unwrap();
    let key = |r: &str| (ACCOUNT.to_string(), r.to_string());
    let windows = s.event_windows().unwrap();
    assert_eq!(windows[&key("us-east-1")].unread, Some(span));
    assert_eq!(windows[&key("eu-west-1")].unread, None);

    // A version 3 file: the table without the columns (as version 3 wrote it).
    let path = s.path.clone();
    s.conn
        .execute_batch(
            "DROP TABLE event_windows;
             CREATE TABLE event_windows (account_id TEXT NOT NULL, region TEXT NOT NULL,
                 started_at TEXT NOT NULL, PRIMARY KEY (account_id, region));
             INSERT INTO event_windows VALUES ('123456789012', 'us-east-1', '2026-11-01T10:00:00.000000000Z');
             PRAGMA user_version = 3;",
        )
        .unwrap();
    drop(s);
    let mut s = Store::open(&path).unwrap();
    let windows = s.event_windows().unwrap();
    assert_eq!(windows[&key("us-east-1")].unread, None);
    assert_eq!(
        windows[&key("us-east-1")].started_at.to_rfc3339(),
        "2026-11-01T10:00:00+00:00"
    );
    // The next scan read the backlog down to a point: the rest stays.
    let rest = EventSpan {
        from: at(-48),
        until: at(-20),
    };
    let mut second = report(at(5), vec![]);
    let events = ScanEvents {
        fetched: &[],
        keep_after: at(5) - Duration::days(7),
        read: vec![scope(ACCOUNT, "us-east-1", Some(rest))],
    };
    s.record_scan(&mut second, Some(events), None).unwrap();
    let windows = s.event_windows().unwrap();
    assert_eq!(windows[&key("us-east-1")].unread, Some(rest));
    assert_eq!(
        windows[&key("us-east-1")].started_at,
        second.scan.started_at
    );
    // Then all of it: nothing unread.
    let mut third = report(at(6), vec![]);
    let events = ScanEvents {
        fetched: &[],
        keep_after: at(6) - Duration::days(7),
        read: vec![scope(ACCOUNT, "us-east-1", None)],
    };
    s.record_scan(&mut third, Some(events), None).unwrap();
    assert_eq!(s.event_windows().unwrap()[&key("us-east-1")].unread, None);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A version 2 history (one CloudTrail window for everything) opens as version 3: the
/// per-account-region windows start empty (each reads its whole look-back once, events are
/// deduplicated by id), findings and events are kept.
#[test]
fn a_version_2_history_is_migrated() {
    let (s, dir) = store();
    let path = s.path.clone();
    s.conn
        .execute_batch(
            "CREATE TABLE event_window (started_at TEXT NOT NULL);
             INSERT INTO event_window VALUES ('2026-11-01T10:00:00.000000000Z');
             DROP TABLE event_windows;
             PRAGMA user_version = 2;",
        )
        .unwrap();
    drop(s);
    let s = Store::open(&path).unwrap();
    assert!(s.event_windows().unwrap().is_empty());
    let version: i64 = s
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let old: i64 = s
        .conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'event_window'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The history keeps only the events it uses: a read or a failed call, fetched by every
/// overlapping window, is never stored (nor returned as new).
#[test]
fn reads_and_failed_calls_are_not_stored() {
    let (mut s, dir) = store();
    let mut read = event(
        "r1",
        "DescribeDomain",
        0,
        "arn:aws:iam::123456789012:user/ui",
    );
    read.read_only = true;
    let mut denied = event(
        "f1",
        "UpdateDomain",
        0,
        "arn:aws:iam::123456789012:user/mallory",
    );
    denied.error_code = Some("AccessDeniedException".into());
    let change = event(
        "c1",
        "UpdateDomain",
        0,
        "arn:aws:iam::123456789012:user/bob",
    );
    let fetched = [read, denied, change.clone()];
    for hours in [1, 2] {
        let mut r = report(at(hours), vec![]);
        let events = ScanEvents {
            fetched: &fetched,
            keep_after: at(hours) - Duration::days(7),
            read: vec![],
        };
        let recorded = s.record_scan(&mut r, Some(events), None).unwrap();
        let expected: &[crate::snapshot::ControlPlaneEvent] = if hours == 1 {
            std::slice::from_ref(&change)
        } else {
            &[]
        };
        assert_eq!(recorded.new, expected);
    }
    let stored: i64 = s
        .conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_last_scans_gauges_are_kept_for_the_next_start() {
    let (mut s, dir) = store();
    assert_eq!(s.published_gauges().unwrap(), None);
    s.record_scan(&mut report(at(0), vec![]), None, Some(r#"{"first":1}"#))
        .unwrap();
    s.record_scan(&mut report(at(1), vec![]), None, Some(r#"{"second":2}"#))
        .unwrap();
    // A scan recorded without gauges (`scan --state`) leaves the last ones.
    s.record(&mut report(at(2), vec![])).unwrap();
    let path = s.path.clone();
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(
        s.published_gauges().unwrap().as_deref(),
        Some(r#"{"second":2}"#)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[test]
fn an_existing_history_readable_by_others_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let (s, dir) = store();
    let path = s.path.clone();
    drop(s);
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    std::fs::write(&wal, b"").unwrap();
    for file in [&path, &wal] {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let s = Store::open(&path).unwrap();
    for file in [&path, &wal] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
    drop(s);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_abandoned_record_is_rolled_back() {
    let (mut s, dir) = store();
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    s.abandon_when(flag.clone());
    s.record(&mut report(at(0), vec![public(Status::Fail)]))
        .unwrap();
    flag.store(true, std::sync::atomic::Ordering::Release);
    let mut abandoned = report(at(1), vec![public(Status::Pass)]);
    let err = s.record(&mut abandoned).unwrap_err();
    assert!(matches!(err, StateError::Abandoned { .. }), "{err}");
    assert!(abandoned.history.is_none());
    assert_eq!(s.scan_count().unwrap(), 1);
    assert_eq!(public_resolved_at(&s), None, "the PASS was not recorded");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn findings_out_of_scope_past_the_retention_are_closed_as_such_not_resolved() {
    let (mut s, dir) = store();
    s.close_out_of_scope_after(Duration::hours(168));
    s.record(&mut report(at(0), vec![public(Status::Fail)]))
        .unwrap();
    // The account's region is no longer scanned (excluded, another shard's).
    let elsewhere = |hours| {
        let mut r = report(at(hours), vec![]);
        r.scan.scanned = [(ACCOUNT.to_string(), vec!["eu-west-1".to_string()])].into();
        r.scan.regions = vec!["eu-west-1".into()];
        r
    };
    let mut r = elsewhere(100);
    s.record(&mut r).unwrap();
    let h = history(&r);
    assert_eq!(h.kept_open.len(), 1);
    assert_eq!(h.kept_open[0].reason, "not_scanned");
    assert!(h.out_of_scope.is_empty());
    assert_eq!(public_resolved_at(&s), None);
    // Last seen 200 hours ago, beyond the 168 of the retention: closed, as out_of_scope.
    let mut r = elsewhere(200);
    s.record(&mut r).unwrap();
    let h = history(&r);
    assert!(h.kept_open.is_empty() && h.resolved.is_empty(), "{h:?}");
    assert_eq!(h.out_of_scope.len(), 1);
    assert_eq!(h.out_of_scope[0].last_seen, at(0));
    let row = s.finding(&public(Status::Fail).id).unwrap().unwrap();
    assert_eq!(row.resolved_at, Some(at(200)));
    assert_eq!(row.resolution.as_deref(), Some("out_of_scope"));
    // Back in scope and still failing: open again, with a new first_seen.
    let mut back = report(at(210), vec![public(Status::Fail)]);
    s.record(&mut back).unwrap();
    assert_eq!(history(&back).new.len(), 1);
    let row = s.finding(&public(Status::Fail).id).unwrap().unwrap();
    assert_eq!((row.resolved_at, row.resolution), (None, None));
    assert_eq!(row.first_seen, at(210));
    // A real fix is `resolved`.
    s.record(&mut report(at(211), vec![public(Status::Pass)]))
        .unwrap();
    let row = s.finding(&public(Status::Fail).id).unwrap().unwrap();
    assert_eq!(row.resolution.as_deref(), Some("resolved"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn undelivered_hub_archives_are_kept_until_delivered_or_90_days_old() {
    use crate::report::asff;
    let (mut s, _dir) = store();
    let now = Utc::now();
    let archive = |check: &str| {
        let row = crate::report::history::ResolvedFinding {
            id: format!("{check}-id"),
            check_id: check.into(),
            severity: Severity::High,
            resource_type: "domain".into(),
            resource_arn: "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            first_seen: now,
            last_seen: now,
            resolved_at: now,
        };
        asff::resolved(&row, "title", "scan", "us-east-1")
    };
    assert!(s.hub_pending().unwrap().is_empty());
    let (a, b) = (archive("a"), archive("b"));
    assert_eq!(s.set_hub_pending(&[a.clone(), b.clone()], now).unwrap(), 0);
    assert_eq!(s.hub_pending().unwrap(), vec![a.clone(), b.clone()]);
    // The next export delivered `a`: only `b` stays, with when it first failed.
    assert_eq!(s.set_hub_pending(std::slice::from_ref(&b), now).unwrap(), 0);
    assert_eq!(s.hub_pending().unwrap(), vec![b.clone()]);
    // Still failing 91 days after it first failed: given up.
    let later = now + chrono::TimeDelta::days(91);
    assert_eq!(
        s.set_hub_pending(std::slice::from_ref(&b), later).unwrap(),
        1
    );
    assert!(s.hub_pending().unwrap().is_empty());
}

/// The web page's history: per scan, FAILs by severity (unknown for scans a version 6 file
/// recorded), and the findings opened and closed within the scans shown.
#[test]
fn the_timeline_gives_fails_by_severity_and_what_opened_and_closed() {
    let (mut s, dir) = store();
    // A scan as version 6 recorded it: no severities.
    s.record(&mut report(at(0), vec![idle(Status::Fail)]))
        .unwrap();
    let path = s.path.clone();
    s.conn
        .execute_batch("ALTER TABLE scans DROP COLUMN fail_by_severity; PRAGMA user_version = 6;")
        .unwrap();
    drop(s);
    let mut s = Store::open(&path).unwrap();
    let with_summary = |at, findings: Vec<Finding>| {
        let mut r = report(at, findings);
        r.summary.fail = r
            .findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .count();
        r.summary.fail_by_severity = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        r.summary
            .fail_by_severity
            .insert(Severity::High, r.summary.fail);
        r
    };
    s.record(&mut with_summary(
        at(1),
        vec![idle(Status::Fail), public(Status::Fail)],
    ))
    .unwrap();
    s.record(&mut with_summary(
        at(2),
        vec![idle(Status::Pass), public(Status::Fail)],
    ))
    .unwrap();

    let t = s.timeline(60, 200).unwrap();
    assert_eq!(t.scans.len(), 3);
    assert_eq!(
        t.scans.iter().map(|p| p.finished_at).collect::<Vec<_>>(),
        [at(0), at(1), at(2)]
    );
    assert_eq!(t.scans[0].fail_by_severity, None, "recorded by version 6");
    let by = t.scans[1].fail_by_severity.as_ref().unwrap();
    assert_eq!((by[&Severity::High], by[&Severity::Critical]), (2, 0));
    assert_eq!(t.scans[2].resolved_findings, 1);
    // Opened: the public domain at 1 (the idle app at 0); closed: the app at 2.
    let opened: Vec<_> = t
        .opened
        .iter()
        .map(|c| (c.check_id.as_str(), c.at))
        .collect();
    assert_eq!(
        opened,
        [
            ("domain_public_internet_access", at(1)),
            ("app_long_running", at(0))
        ]
    );
    let closed: Vec<_> = t
        .closed
        .iter()
        .map(|c| (c.check_id.as_str(), c.at, c.resolution.as_deref()))
        .collect();
    assert_eq!(closed, [("app_long_running", at(2), Some("resolved"))]);
    // Only the last scan: what opened before it is left out, the row limit holds.
    let t = s.timeline(1, 200).unwrap();
    assert_eq!(t.scans.len(), 1);
    assert!(t.opened.is_empty());
    assert_eq!(t.closed.len(), 1);
    assert_eq!(s.timeline(60, 1).unwrap().opened.len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}
