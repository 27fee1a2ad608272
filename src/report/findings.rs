//! The findings report (`schema_version` "1"): check results turned into findings with
//! stable ids, waivers applied, compliance controls attached, summarised.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Waiver;
use crate::policy::{CheckResult, Evaluation, EvaluationError, PolicySet, ResultStatus, Severity};
use crate::report::compliance::{Compliance, ControlRef};
use crate::report::history::History;
use crate::snapshot::{CollectionError, ControlPlaneEvent, Snapshot};
use crate::vocab::{Evidence, Shared};

pub const REPORT_SCHEMA_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: String,
    pub scan: ScanInfo,
    pub summary: Summary,
    /// Set when the findings were filtered by status (`--status`, `[output] statuses`):
    /// which statuses `findings` holds and how many findings were left out. `summary` always
    /// counts every finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_filter: Option<FindingsFilter>,
    pub findings: Vec<Finding>,
    /// Every configured waiver, with whether it is still in force and how many findings it
    /// muted. Expired waivers mute nothing and are listed here so they get renewed or removed.
    pub waivers: Vec<WaiverStatus>,
    /// Checks that could not be evaluated: they produced no findings at all this scan.
    pub evaluation_errors: Vec<EvaluationErrorEntry>,
    /// What changed since the previous scan; only `serve`, which keeps the finding history,
    /// writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
    /// The SageMaker control-plane calls CloudTrail recorded since the previous scan (`scan`:
    /// within the look-back), oldest first; absent when CloudTrail was not consulted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<ControlPlaneEvent>>,
    /// What the scan read, counted when the report was built (for the metrics; not part of
    /// the report's JSON).
    #[serde(skip)]
    pub tally: crate::report::tally::Tally,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanInfo {
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub scanner_version: String,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// The regions read in each account that was read (accounts' enabled regions differ
    /// under `regions = ["all"]`). An account listed in `accounts` but not here could not be
    /// read.
    #[serde(default)]
    pub scanned: BTreeMap<String, Vec<String>>,
    pub collection_errors: Vec<CollectionError>,
    /// CloudTrail events the scan did not read because its page budget
    /// (`cloudtrail.max_pages_per_scan`) ran out, per account and region: `changes` and
    /// `attribution` lack what CloudTrail recorded in these spans (the daemon reads them next).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cloudtrail_unread: Vec<crate::snapshot::UnreadEvents>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsFilter {
    /// The statuses `findings` holds, in report order (FAIL, ERROR, MUTED, PASS).
    pub statuses: Vec<Status>,
    /// Findings of the other statuses, counted in `summary` but not listed.
    pub omitted: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub muted: usize,
    pub error: usize,
    /// FAIL findings (muted ones excluded) per severity; every severity is present.
    pub fail_by_severity: BTreeMap<Severity, usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Fail,
    Error,
    Muted,
    Pass,
}

impl Status {
    pub const ALL: [Status; 4] = [Self::Fail, Self::Error, Self::Muted, Self::Pass];

    /// A status by name, case-insensitive (`fail`, `FAIL`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "FAIL",
            Self::Error => "ERROR",
            Self::Muted => "MUTED",
            Self::Pass => "PASS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Stable across scans: derived from check id and resource ARN.
    pub id: String,
    /// Check id, resource type, account, region and domain are shared with the other
    /// findings that name them (see [`Shared`]): a large account's report holds one copy.
    pub check_id: Shared,
    /// The check's title, remediation and controls are shared by all its findings: one
    /// allocation per check, not one copy per finding, behind thin pointers (8 bytes each,
    /// not a fat `Arc<str>`'s 16: 2.5 MB of a 100,000-finding report's vector).
    pub title: Arc<String>,
    pub severity: Severity,
    pub status: Status,
    pub resource_type: Shared,
    pub resource_arn: Shared,
    pub account_id: Shared,
    pub region: Shared,
    pub domain_id: Option<Shared>,
    pub message: Shared,
    pub evidence: Evidence,
    pub remediation: Arc<String>,
    /// Controls of compliance frameworks this check corresponds to.
    pub compliance: Arc<Vec<ControlRef>>,
    /// The waiver that muted it (boxed, as attribution: most findings have neither, and
    /// every finding would otherwise carry their size).
    pub waiver: Option<Box<AppliedWaiver>>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Who last changed the resource (CloudTrail), when known.
    pub attribution: Option<Box<serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedWaiver {
    pub reason: String,
    pub expires: NaiveDate,
    pub resource: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverStatus {
    pub check_id: String,
    pub resource: String,
    pub reason: String,
    pub expires: NaiveDate,
    /// `active` or `expired`.
    pub state: String,
    /// Findings it muted in this report.
    pub muted: usize,
    /// Config line it is written on.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationErrorEntry {
    pub check_id: String,
    pub message: String,
}

impl From<EvaluationError> for EvaluationErrorEntry {
    fn from(e: EvaluationError) -> Self {
        Self {
            check_id: e.check_id,
            message: e.message,
        }
    }
}

/// The stable id of a finding: 32 hex digits of SHA-256 over check id and resource ARN.
pub fn finding_id(check_id: &str, resource_arn: &str) -> String {
    let digest = Sha256::new()
        .chain_update(check_id.as_bytes())
        .chain_update([0u8])
        .chain_update(resource_arn.as_bytes())
        .finalize();
    hex(&digest[..16])
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    text
}

/// Everything a report is made from.
pub struct ReportInput<'a> {
    pub snapshot: &'a Snapshot,
    pub policies: &'a PolicySet,
    pub evaluation: Evaluation,
    pub waivers: &'a [Waiver],
    pub compliance: &'a Compliance,
    /// The day waivers are judged against.
    pub today: NaiveDate,
}

pub fn build(input: ReportInput<'_>) -> Report {
    let ReportInput {
        snapshot,
        policies,
        evaluation,
        waivers,
        compliance,
        today,
    } = input;
    let mut muted_by: Vec<usize> = vec![0; waivers.len()];
    let shared = SharedText::of(policies, compliance);
    let unreachable = unreachable_account_findings(snapshot, policies, &shared);
    // Sized once: the findings are the largest thing a report holds.
    let mut findings: Vec<Finding> =
        Vec::with_capacity(evaluation.results.len() + unreachable.len());
    // Converted a chunk (a check on a partition) at a time, each giving back its memory as
    // the findings take theirs: both whole at once were the scan's peak. (Their order does
    // not matter: the findings are sorted below, and no two results share a check and ARN.)
    for chunk in evaluation.results.into_chunks() {
        findings.extend(chunk.into_iter().filter_map(|result| {
            let text = shared.get(result.check_id.as_str())?;
            let (status, waiver) = waive(&result, waivers, today, &mut muted_by);
            Some(finding(result, text, status, waiver, snapshot))
        }));
    }
    findings.extend(unreachable);
    sort_in_place(&mut findings);
    // A check emitting one resource twice would make ids collide; keep the first.
    findings.dedup_by(|a, b| a.id == b.id);

    Report {
        schema_version: REPORT_SCHEMA_VERSION.into(),
        scan: scan_info(snapshot),
        summary: summarise(&findings),
        findings_filter: None,
        findings,
        waivers: waivers
            .iter()
            .zip(muted_by)
            .map(|(w, muted)| WaiverStatus {
                check_id: w.check_id.clone(),
                resource: w.resource.clone(),
                reason: w.reason.clone(),
                expires: w.expires,
                state: if w.expires >= today {
                    "active"
                } else {
                    "expired"
                }
                .into(),
                muted,
                line: w.line,
            })
            .collect(),
        evaluation_errors: evaluation.errors.into_iter().map(Into::into).collect(),
        history: None,
        changes: None,
        tally: crate::report::tally::Tally::of(snapshot),
    }
}

/// A result's status with the waivers applied: the first waiver in force that matches a
/// FAIL mutes it (and is counted in `muted_by`).
fn waive(
    result: &CheckResult,
    waivers: &[Waiver],
    today: NaiveDate,
    muted_by: &mut [usize],
) -> (Status, Option<AppliedWaiver>) {
    let status = match result.status {
        ResultStatus::Pass => Status::Pass,
        ResultStatus::Fail => Status::Fail,
        ResultStatus::Error => Status::Error,
    };
    if status != Status::Fail {
        return (status, None);
    }
    let matching = waivers.iter().enumerate().find(|(_, w)| {
        w.expires >= today
            && w.check_id == result.check_id
            && crate::vocab::glob_match(&w.resource, &result.resource_arn, false)
    });
    match matching {
        Some((i, w)) => {
            muted_by[i] += 1;
            let applied = AppliedWaiver {
                reason: w.reason.clone(),
                expires: w.expires,
                resource: w.resource.clone(),
            };
            (Status::Muted, Some(applied))
        }
        None => (status, None),
    }
}

/// What every finding of a check shares: built once per report.
struct CheckText {
    title: Arc<String>,
    severity: Severity,
    remediation: Arc<String>,
    compliance: Arc<Vec<ControlRef>>,
}

/// [`CheckText`] by check id.
struct SharedText<'a>(HashMap<&'a str, CheckText>);

impl<'a> SharedText<'a> {
    fn of(policies: &'a PolicySet, compliance: &Compliance) -> Self {
        Self(
            policies
                .checks()
                .iter()
                .map(|c| {
                    let text = CheckText {
                        title: Arc::new(c.metadata.title.clone()),
                        severity: c.metadata.severity,
                        remediation: Arc::new(c.metadata.remediation.clone()),
                        compliance: Arc::new(compliance.controls_for(&c.metadata.id)),
                    };
                    (c.metadata.id.as_str(), text)
                })
                .collect(),
        )
    }

    fn get(&self, check_id: &str) -> Option<&CheckText> {
        self.0.get(check_id)
    }
}

fn finding(
    result: CheckResult,
    text: &CheckText,
    status: Status,
    waiver: Option<AppliedWaiver>,
    snapshot: &Snapshot,
) -> Finding {
    let CheckResult {
        check_id,
        status: _,
        resource_type,
        resource_arn,
        account_id,
        region,
        domain_id,
        message,
        evidence,
    } = result;
    Finding {
        id: finding_id(&check_id, &resource_arn),
        title: text.title.clone(),
        severity: text.severity,
        remediation: text.remediation.clone(),
        compliance: text.compliance.clone(),
        check_id,
        status,
        resource_type,
        resource_arn,
        account_id,
        region,
        domain_id,
        message,
        evidence,
        waiver: waiver.map(Box::new),
        first_seen: snapshot.finished_at,
        last_seen: snapshot.finished_at,
        attribution: None,
    }
}

fn summarise(findings: &[Finding]) -> Summary {
    let mut summary = Summary {
        fail_by_severity: Severity::ALL.iter().map(|s| (*s, 0)).collect(),
        ..Summary::default()
    };
    for f in findings {
        match f.status {
            Status::Pass => summary.pass += 1,
            Status::Fail => {
                summary.fail += 1;
                *summary.fail_by_severity.entry(f.severity).or_default() += 1;
            }
            Status::Muted => summary.muted += 1,
            Status::Error => summary.error += 1,
        }
    }
    summary
}

/// What the scan covered: every account it set out to read (reached or not), the regions,
/// what was read where, and the calls that failed.
fn scan_info(snapshot: &Snapshot) -> ScanInfo {
    let mut regions: Vec<String> = snapshot
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| r.region.clone()))
        .collect();
    regions.sort();
    regions.dedup();
    let mut accounts: Vec<String> = snapshot
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .chain(
            snapshot
                .unreachable_accounts()
                .keys()
                .map(|a| a.to_string()),
        )
        .collect();
    accounts.sort();
    accounts.dedup();
    let id_digest = Sha256::new()
        .chain_update(snapshot.started_at.to_rfc3339().as_bytes())
        .chain_update(accounts.join(",").as_bytes())
        .finalize();
    ScanInfo {
        id: hex(&id_digest[..8]),
        started_at: snapshot.started_at,
        finished_at: snapshot.finished_at,
        scanner_version: snapshot.scanner_version.clone(),
        accounts,
        regions,
        scanned: snapshot
            .accounts
            .iter()
            .map(|a| {
                let regions = a.regions.iter().map(|r| r.region.clone()).collect();
                (a.account_id.clone(), regions)
            })
            .collect(),
        collection_errors: snapshot.collection_errors.clone(),
        cloudtrail_unread: snapshot.events_unread.clone(),
    }
}

/// An account that could not be read at all (its role could not be assumed, or its regions
/// listed): every check reports
/// ERROR for everything in it (`arn:*:*:*:<account>:*`), so nothing of it looks clean and the
/// history resolves none of its findings.
fn unreachable_account_findings(
    snapshot: &Snapshot,
    policies: &PolicySet,
    shared: &SharedText<'_>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (account, errors) in snapshot.unreachable_accounts() {
        let why: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let resource_arn = crate::vocab::Arn::account_wide(account);
        for check in policies.checks() {
            let check_id = check.metadata.id.clone();
            let Some(text) = shared.get(&check_id) else {
                continue;
            };
            out.push(Finding {
                id: finding_id(&check_id, &resource_arn),
                title: text.title.clone(),
                severity: text.severity,
                status: Status::Error,
                resource_type: "account".into(),
                resource_arn: resource_arn.clone().into(),
                account_id: account.to_string().into(),
                region: crate::vocab::GLOBAL.into(),
                domain_id: None,
                message: format!(
                    "account {account} could not be scanned, so its resources are unknown: {}",
                    why.join("; ")
                )
                .into(),
                evidence: serde_json::json!({ "collection_errors": errors }).into(),
                remediation: text.remediation.clone(),
                compliance: text.compliance.clone(),
                check_id: check_id.into(),
                waiver: None,
                first_seen: snapshot.finished_at,
                last_seen: snapshot.finished_at,
                attribution: None,
            });
        }
    }
    out
}

/// [`report_order`], stable, without the scratch copy of half the findings a merge sort
/// makes (17 MB for 100,000 findings): the positions are sorted, then the findings moved
/// along the permutation's cycles.
fn sort_in_place(findings: &mut [Finding]) {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| report_order(&findings[a], &findings[b]));
    // Position i receives the finding at order[i]; a done position is marked usize::MAX.
    for start in 0..findings.len() {
        let mut at = start;
        while order[at] != usize::MAX {
            let from = std::mem::replace(&mut order[at], usize::MAX);
            if from == start {
                break;
            }
            findings.swap(at, from);
            at = from;
        }
    }
}

/// The order of a report's findings: most severe first, then FAIL, ERROR, MUTED, PASS, then
/// by check and resource.
fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (b.severity, a.status, &a.check_id, &a.resource_arn).cmp(&(
        a.severity,
        b.status,
        &b.check_id,
        &b.resource_arn,
    ))
}

impl Report {
    /// True when a FAIL (not muted) at or above `threshold` exists.
    pub fn fails_at_or_above(&self, threshold: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| f.status == Status::Fail && f.severity >= threshold)
    }

    /// Keeps only the findings whose status is in `statuses` (all of them when it holds
    /// every status), recording the filter and how many it left out; the summary is
    /// unchanged. Returns the findings left out ([`Report::restore`] puts them back).
    /// For rendering: metrics, history and `--fail-on` read the report before this.
    pub fn keep_statuses(&mut self, statuses: &[Status]) -> Vec<Finding> {
        if Status::ALL.iter().all(|s| statuses.contains(s)) {
            return Vec::new();
        }
        let (kept, left_out): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| statuses.contains(&f.status));
        self.findings = kept;
        let omitted = left_out.len() + self.findings_filter.as_ref().map_or(0, |f| f.omitted);
        self.findings_filter = Some(FindingsFilter {
            statuses: Status::ALL
                .into_iter()
                .filter(|s| {
                    statuses.contains(s)
                        && self
                            .findings_filter
                            .as_ref()
                            .is_none_or(|f| f.statuses.contains(s))
                })
                .collect(),
            omitted,
        });
        left_out
    }

    /// Undoes [`Report::keep_statuses`] with the findings it returned: every finding, in
    /// report order, and no filter.
    pub fn restore(&mut self, left_out: Vec<Finding>) {
        if left_out.is_empty() && self.findings_filter.is_none() {
            return;
        }
        self.findings.extend(left_out);
        sort_in_place(&mut self.findings);
        self.findings_filter = None;
    }

    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).unwrap_or_default();
        out.push('\n');
        out
    }

    /// The same text as [`Report::to_json`], serialised straight into `w`.
    pub fn write_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        // The pretty printer writes a few bytes at a time: into a buffer of a concrete type,
        // not through `dyn Write` per piece. The benchmark snapshot (a 110 MB report): whole
        // scan 2.02-2.08 -> 1.89-1.93 s wall, three interleaved runs.
        use std::io::Write as _;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
        serde_json::to_writer_pretty(&mut w, self)?;
        w.write_all(b"\n")?;
        w.flush()
    }
}

/// How a scan ended, as `sagemaker_audit_scans_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was collected and every check ran.
    Success,
    /// A report was made, but some calls failed or some checks errored.
    Partial,
    /// No report: nothing could be read, or the scan timed out.
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Partial => "partial",
            Self::Failure => "failure",
        }
    }

    pub fn of(report: &Report) -> Self {
        if report.scan.collection_errors.is_empty() && report.evaluation_errors.is_empty() {
            Self::Success
        } else {
            Self::Partial
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{finding, report};

    #[test]
    fn the_in_place_sort_is_the_stable_sort() {
        // Every permutation of 6 findings with ties (equal check and ARN, told apart by id).
        let base: Vec<Finding> = [
            ("b", "arn:2", Status::Fail),
            ("a", "arn:1", Status::Pass),
            ("b", "arn:2", Status::Fail),
            ("a", "arn:3", Status::Fail),
            ("c", "arn:1", Status::Error),
            ("a", "arn:1", Status::Pass),
        ]
        .iter()
        .enumerate()
        .map(|(i, (check, arn, status))| {
            let mut f = finding(check, "app", arn, *status);
            f.id = i.to_string();
            f
        })
        .collect();
        let mut indices: Vec<usize> = (0..base.len()).collect();
        let mut permutations = 0;
        // Heap's algorithm, iteratively.
        let mut c = vec![0; indices.len()];
        let check = |indices: &[usize]| {
            let mut expected: Vec<Finding> = indices.iter().map(|&i| base[i].clone()).collect();
            let mut actual = expected.clone();
            expected.sort_by(report_order);
            sort_in_place(&mut actual);
            let ids = |v: &[Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&actual), ids(&expected), "from {indices:?}");
        };
        check(&indices);
        permutations += 1;
        let mut i = 0;
        while i < indices.len() {
            if c[i] < i {
                indices.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
                check(&indices);
                permutations += 1;
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
        assert_eq!(permutations, 720);
    }

    /// Users' history, waivers and Security Hub updates key on this id: it must never change
    /// for the same check and resource.
    #[test]
    fn finding_ids_are_a_fixed_function_of_check_and_resource() {
        let arn =
            "arn:aws:sagemaker:us-east-1:123456789012:app/d-1/alice/kernelgateway/datascience-1";
        assert_eq!(
            finding_id("app_idle", arn),
            "e1e4a140b9eab0abc5c8125d6a38bcfe"
        );
        assert_ne!(finding_id("app_failed", arn), finding_id("app_idle", arn));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(finding_id("ab", "c"), finding_id("a", "bc"));
    }

    #[test]
    fn keeping_statuses_records_what_was_left_out_and_restore_undoes_it() {
        let mut findings = vec![
            finding("a", "app", "arn:1", Status::Pass),
            finding("a", "app", "arn:2", Status::Fail),
            finding("b", "app", "arn:3", Status::Error),
            finding("b", "app", "arn:4", Status::Muted),
            finding("c", "app", "arn:5", Status::Pass),
        ];
        findings.sort_by(report_order);
        let mut r = report(DateTime::UNIX_EPOCH, findings.clone());
        r.summary = summarise(&r.findings);
        let original = r.clone();

        // Every status: nothing changes, nothing is recorded.
        assert!(r.keep_statuses(&Status::ALL).is_empty());
        assert_eq!(r, original);

        let left_out = r.keep_statuses(&[Status::Error, Status::Fail]);
        assert_eq!(
            r.findings.iter().map(|f| f.status).collect::<Vec<_>>(),
            [Status::Fail, Status::Error]
        );
        assert_eq!(left_out.len(), 3);
        assert_eq!(
            r.findings_filter,
            Some(FindingsFilter {
                statuses: vec![Status::Fail, Status::Error],
                omitted: 3
            })
        );
        assert_eq!(r.summary, original.summary);

        // Filtering again narrows the filter and adds up what was left out.
        let mut narrower = r.clone();
        let more = narrower.keep_statuses(&[Status::Error, Status::Pass]);
        assert_eq!(more.len(), 1);
        assert_eq!(
            narrower.findings_filter,
            Some(FindingsFilter {
                statuses: vec![Status::Error],
                omitted: 4
            })
        );

        r.restore(left_out);
        assert_eq!(r, original);
        let json = r.to_json();
        assert!(!json.contains("findings_filter"), "{json}");
    }
}
