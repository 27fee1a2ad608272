//! The `history` section of a report written by `serve`: what this scan found new, what it
//! found fixed, and which open findings it could not confirm either way; and [`diff`], the
//! pure function that decides it from the findings open before the scan and the scan's
//! report. The finding history store only loads, applies and saves.
//!
//! Resolving is the dangerous direction: a finding that disappears because a list call was
//! denied must not look fixed. A finding failing at the previous scan is resolved only when
//! this scan reports it PASS, or when it is absent and this scan read its whole scope: its
//! account and region were scanned, no call of its service failed there, its check ran, and
//! no ERROR result of its check covers it (a failed list reports ERROR on `.../app/*`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::report::{Report, Status};
use crate::vocab::{GLOBAL, ResourceType, Service, Severity, glob_match};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// Ids of the findings failing now that were not failing at the previous scan.
    pub new: Vec<String>,
    /// Findings failing at the previous scan that this scan saw fixed (PASS, or the resource
    /// gone while its scope was read completely).
    pub resolved: Vec<ResolvedFinding>,
    /// Open findings this scan could not confirm or clear: their scope's collection failed,
    /// their check errored, or their account or region was not scanned. They stay open.
    pub kept_open: Vec<KeptOpen>,
    /// Open findings whose account or region has not been scanned for longer than the
    /// retention (it left the organisation, was excluded or moved to another shard): closed,
    /// but not as fixed (`resolution` `out_of_scope` in the history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out_of_scope: Vec<ResolvedFinding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolvedFinding {
    pub id: String,
    pub check_id: String,
    pub severity: Severity,
    pub resource_type: String,
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub resolved_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeptOpen {
    pub id: String,
    pub check_id: String,
    pub resource_arn: String,
    /// `error_result` (the check reported ERROR for it), `evaluation_error` (the check
    /// failed to run), `collection_error` (a call of `service` failed in its scope),
    /// `not_scanned` (its account or region was not part of this scan).
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// A finding open (failing or muted) before this scan, as the history holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenFinding {
    pub id: String,
    pub check_id: String,
    pub severity: Severity,
    pub resource_type: String,
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// What this scan does to the history: the findings it opens, resolves and keeps open
/// (sorted by check and resource). Failing findings not in `new` were already open. With
/// `out_of_scope_after`, a finding not scanned (its account or region outside this scan)
/// and last seen longer ago than that is closed as `out_of_scope` instead of kept open.
pub fn diff(
    open: &HashMap<String, OpenFinding>,
    report: &Report,
    out_of_scope_after: Option<chrono::TimeDelta>,
) -> History {
    let now = report.scan.finished_at;
    let mut history = History::default();
    let mut status: HashMap<&str, Status> = HashMap::with_capacity(report.findings.len());
    for f in &report.findings {
        status.insert(f.id.as_str(), f.status);
        if matches!(f.status, Status::Fail | Status::Muted) && !open.contains_key(&f.id) {
            history.new.push(f.id.clone());
        }
    }
    let scope = Scope::of(report);
    for (id, row) in open {
        let verdict = match status.get(id.as_str()) {
            Some(Status::Fail | Status::Muted) => continue,
            Some(Status::Error) => Err(("error_result", None)),
            Some(Status::Pass) => Ok(()),
            None => scope.absence_proves_fixed(row),
        };
        let gone_for_good = matches!(verdict, Err(("not_scanned", _)))
            && out_of_scope_after.is_some_and(|after| now - row.last_seen > after);
        if gone_for_good {
            history.out_of_scope.push(ResolvedFinding {
                id: id.clone(),
                check_id: row.check_id.clone(),
                severity: row.severity,
                resource_type: row.resource_type.clone(),
                resource_arn: row.resource_arn.clone(),
                account_id: row.account_id.clone(),
                region: row.region.clone(),
                first_seen: row.first_seen,
                last_seen: row.last_seen,
                resolved_at: now,
            });
            continue;
        }
        match verdict {
            Ok(()) => history.resolved.push(ResolvedFinding {
                id: id.clone(),
                check_id: row.check_id.clone(),
                severity: row.severity,
                resource_type: row.resource_type.clone(),
                resource_arn: row.resource_arn.clone(),
                account_id: row.account_id.clone(),
                region: row.region.clone(),
                first_seen: row.first_seen,
                last_seen: row.last_seen,
                resolved_at: now,
            }),
            Err((reason, service)) => history.kept_open.push(KeptOpen {
                id: id.clone(),
                check_id: row.check_id.clone(),
                resource_arn: row.resource_arn.clone(),
                reason: reason.into(),
                service: service.map(|s: Service| s.as_str().to_string()),
            }),
        }
    }
    history.new.sort();
    history
        .resolved
        .sort_by(|a, b| (&a.check_id, &a.resource_arn).cmp(&(&b.check_id, &b.resource_arn)));
    history
        .kept_open
        .sort_by(|a, b| (&a.check_id, &a.resource_arn).cmp(&(&b.check_id, &b.resource_arn)));
    history
        .out_of_scope
        .sort_by(|a, b| (&a.check_id, &a.resource_arn).cmp(&(&b.check_id, &b.resource_arn)));
    history
}

/// Sets the report's `first_seen`/`last_seen` from the history: a failing finding was first
/// seen when it opened (now, if it is new) and last seen now; an ERROR result of an open
/// finding keeps its dates (neither fixed nor seen failing).
pub fn stamp(open: &HashMap<String, OpenFinding>, report: &mut Report) {
    let now = report.scan.finished_at;
    for f in &mut report.findings {
        match (f.status, open.get(&f.id)) {
            (Status::Fail | Status::Muted, row) => {
                f.first_seen = row.map_or(now, |r| r.first_seen);
                f.last_seen = now;
            }
            (Status::Error, Some(row)) => {
                f.first_seen = row.first_seen;
                f.last_seen = row.last_seen;
            }
            (Status::Error, None) | (Status::Pass, _) => {}
        }
    }
}

/// What a scan read and failed to read, to tell a fixed finding from an unseen one.
struct Scope<'a> {
    /// Regions read per account that was read.
    scanned: &'a BTreeMap<String, Vec<String>>,
    /// (account, region, service) of every failed call.
    failed: BTreeSet<(&'a str, &'a str, &'a str)>,
    /// Checks that did not run.
    errored_checks: BTreeSet<&'a str>,
    /// ERROR results by check: (resource ARN or pattern).
    error_results: HashMap<&'a str, Vec<&'a str>>,
}

type KeepReason = (&'static str, Option<Service>);

impl<'a> Scope<'a> {
    fn of(report: &'a Report) -> Self {
        let mut error_results: HashMap<&str, Vec<&str>> = HashMap::new();
        for f in &report.findings {
            if f.status == Status::Error {
                error_results
                    .entry(f.check_id.as_str())
                    .or_default()
                    .push(f.resource_arn.as_str());
            }
        }
        Self {
            scanned: &report.scan.scanned,
            failed: report
                .scan
                .collection_errors
                .iter()
                .map(|e| (e.account_id.as_str(), e.region.as_str(), e.service.as_str()))
                .collect(),
            errored_checks: report
                .evaluation_errors
                .iter()
                .map(|e| e.check_id.as_str())
                .collect(),
            error_results,
        }
    }

    /// Ok when an absent open finding is fixed; otherwise why it stays open.
    fn absence_proves_fixed(&self, row: &OpenFinding) -> Result<(), KeepReason> {
        let region = row.region.as_str();
        // An account whose role could not be assumed is absent here: nothing of it was read.
        let read = self
            .scanned
            .get(row.account_id.as_str())
            .is_some_and(|regions| region == GLOBAL || regions.iter().any(|r| r == region));
        if !read {
            return Err(("not_scanned", None));
        }
        if self.errored_checks.contains(row.check_id.as_str()) {
            return Err(("evaluation_error", None));
        }
        let failed_here = |service: Service| {
            self.failed
                .contains(&(row.account_id.as_str(), region, service.as_str()))
        };
        match ResourceType::parse(&row.resource_type).map(ResourceType::service) {
            Some(service) if failed_here(service) => {
                return Err(("collection_error", Some(service)));
            }
            Some(_) => {}
            // A resource type of a user's check: any failure in its scope keeps it open.
            None => {
                let services = [
                    Service::Sagemaker,
                    Service::Iam,
                    Service::Ec2,
                    Service::Efs,
                    Service::Sts,
                ];
                if let Some(service) = services.into_iter().find(|s| failed_here(*s)) {
                    return Err(("collection_error", Some(service)));
                }
            }
        }
        let covered = self
            .error_results
            .get(row.check_id.as_str())
            .is_some_and(|patterns| {
                patterns
                    .iter()
                    .any(|p| glob_match(p, &row.resource_arn, false))
            });
        if covered {
            return Err(("error_result", None));
        }
        Ok(())
    }
}

/// The history panel of the daemon's page, as [`crate::state::Store::timeline`] reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// Oldest first.
    pub scans: Vec<ScanPoint>,
    /// Findings first seen failing (or muted) at one of these scans, newest first.
    pub opened: Vec<FindingChange>,
    /// Findings closed at one of these scans (`resolution` says how), newest first.
    pub closed: Vec<FindingChange>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScanPoint {
    pub finished_at: DateTime<Utc>,
    pub outcome: String,
    pub fail: usize,
    /// `None` for scans recorded before schema version 7.
    pub fail_by_severity: Option<BTreeMap<Severity, usize>>,
    pub new_findings: usize,
    pub resolved_findings: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FindingChange {
    /// When it was opened (first seen) or closed.
    pub at: DateTime<Utc>,
    pub severity: Severity,
    pub check_id: String,
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
    /// `resolved` or `out_of_scope` for a closed finding; `None` while open.
    pub resolution: Option<String>,
}

#[cfg(test)]
mod tests {
    //! The decisions alone, without a database: the store's tests cover the same rules
    //! through SQLite.

    use super::*;
    use crate::report::findings::EvaluationErrorEntry;
    use crate::report::test_fixtures::{ACCOUNT, finding, report};
    use crate::snapshot::{CollectionError, ErrorKind};

    const APP: &str = "arn:aws:sagemaker:us-east-1:123456789012:app/d-1/alice/jupyterlab/default";
    const ROLE: &str = "arn:aws:iam::123456789012:role/r";

    fn t(hours: i64) -> DateTime<Utc> {
        "2026-11-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::hours(hours)
    }

    fn open(check_id: &str, resource_type: &str, arn: &str, region: &str) -> OpenFinding {
        let f = finding(check_id, resource_type, arn, Status::Fail);
        OpenFinding {
            id: f.id,
            check_id: check_id.into(),
            severity: Severity::High,
            resource_type: resource_type.into(),
            resource_arn: arn.into(),
            account_id: ACCOUNT.into(),
            region: region.into(),
            first_seen: t(0),
            last_seen: t(1),
        }
    }

    fn by_id(rows: Vec<OpenFinding>) -> HashMap<String, OpenFinding> {
        rows.into_iter().map(|r| (r.id.clone(), r)).collect()
    }

    fn denied(service: &str, region: &str) -> CollectionError {
        CollectionError {
            account_id: ACCOUNT.into(),
            region: region.into(),
            service: service.into(),
            operation: "List".into(),
            error: ErrorKind::AccessDenied,
            error_code: None,
            message: "denied".into(),
            resource: None,
        }
    }

    #[test]
    fn new_kept_and_resolved_by_status_and_by_absence() {
        let app = open("app_failed", "app", APP, "us-east-1");
        let role = open(
            "execution_role_admin_privileges",
            "iam_role",
            ROLE,
            "global",
        );
        let open = by_id(vec![app.clone(), role.clone()]);
        // The app still fails, the role is gone from a fully read account, a new one fails.
        let other = "arn:aws:iam::123456789012:role/other";
        let mut r = report(
            t(2),
            vec![
                finding("app_failed", "app", APP, Status::Fail),
                finding(
                    "execution_role_admin_privileges",
                    "iam_role",
                    other,
                    Status::Muted,
                ),
            ],
        );
        let h = diff(&open, &r, None);
        assert_eq!(h.new, [r.findings[1].id.clone()]);
        assert_eq!(h.resolved.len(), 1);
        assert_eq!(h.resolved[0].id, role.id);
        assert_eq!(h.resolved[0].resolved_at, t(2));
        assert_eq!(
            (h.resolved[0].first_seen, h.resolved[0].last_seen),
            (t(0), t(1))
        );
        assert!(h.kept_open.is_empty());
        stamp(&open, &mut r);
        assert_eq!(
            (r.findings[0].first_seen, r.findings[0].last_seen),
            (t(0), t(2))
        );
        assert_eq!(
            (r.findings[1].first_seen, r.findings[1].last_seen),
            (t(2), t(2))
        );
    }

    #[test]
    fn absence_resolves_nothing_when_the_scope_was_not_read_in_full() {
        let app = open("app_failed", "app", APP, "us-east-1");
        let role = open(
            "execution_role_admin_privileges",
            "iam_role",
            ROLE,
            "global",
        );
        let custom = open(
            "team_tag",
            "notebook",
            "arn:aws:sagemaker:us-east-1:123456789012:x",
            "us-east-1",
        );
        let elsewhere = open(
            "app_failed",
            "app",
            &APP.replace("us-east-1", "eu-west-1"),
            "eu-west-1",
        );
        let open = by_id(vec![
            app.clone(),
            role.clone(),
            custom.clone(),
            elsewhere.clone(),
        ]);
        let mut r = report(t(2), vec![]);
        r.scan.collection_errors = vec![denied("sagemaker", "us-east-1")];
        let h = diff(&open, &r, None);
        let reason = |id: &str| {
            h.kept_open
                .iter()
                .find(|k| k.id == id)
                .map(|k| (k.reason.as_str(), k.service.as_deref()))
        };
        assert_eq!(
            reason(&app.id),
            Some(("collection_error", Some("sagemaker")))
        );
        // A user's resource type is held by a failure of any service in its scope.
        assert_eq!(
            reason(&custom.id),
            Some(("collection_error", Some("sagemaker")))
        );
        assert_eq!(reason(&elsewhere.id), Some(("not_scanned", None)));
        // IAM is another service: the role is resolved.
        assert_eq!(
            h.resolved.iter().map(|r| &r.id).collect::<Vec<_>>(),
            [&role.id]
        );

        // ERROR results (also a pattern like app/*) and checks that did not run hold theirs.
        let mut r = report(t(3), vec![]);
        let mut pattern = finding(
            "app_failed",
            "app",
            "arn:aws:sagemaker:us-east-1:123456789012:app/*",
            Status::Error,
        );
        pattern.id = "pattern".into();
        r.findings.push(pattern);
        r.evaluation_errors = vec![EvaluationErrorEntry {
            check_id: "execution_role_admin_privileges".into(),
            message: "boom".into(),
        }];
        let h = diff(&open, &r, None);
        let reasons: BTreeMap<&str, &str> = h
            .kept_open
            .iter()
            .map(|k| (k.id.as_str(), k.reason.as_str()))
            .collect();
        assert_eq!(reasons.get(app.id.as_str()), Some(&"error_result"));
        assert_eq!(reasons.get(role.id.as_str()), Some(&"evaluation_error"));
        assert!(
            h.resolved.iter().all(|r| r.id == custom.id),
            "{:?}",
            h.resolved
        );
    }

    #[test]
    fn an_error_result_keeps_the_open_findings_dates() {
        let app = open("app_failed", "app", APP, "us-east-1");
        let open = by_id(vec![app.clone()]);
        let mut r = report(t(5), vec![finding("app_failed", "app", APP, Status::Error)]);
        let h = diff(&open, &r, None);
        assert_eq!(h.kept_open[0].reason, "error_result");
        stamp(&open, &mut r);
        assert_eq!(
            (r.findings[0].first_seen, r.findings[0].last_seen),
            (t(0), t(1))
        );
    }
}
