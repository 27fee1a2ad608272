//! `diff OLD NEW`: what changed between two findings reports, or between two snapshots (their
//! resources, and the findings the policies give each).
//!
//! Findings are matched by id (a function of check and resource, stable across scans):
//! - **new**: FAIL or ERROR in NEW, and not FAIL or ERROR in OLD (absent, PASS or MUTED);
//! - **resolved**: FAIL or ERROR in OLD, and absent or PASS in NEW;
//! - **changed**: in both, neither of the above, with another status, severity, message or
//!   evidence.
//!
//! Snapshot resources are the objects with an ARN (or an id) in the snapshot's resource lists
//! (domains, user profiles, spaces, apps, execution roles, EFS file systems, security groups,
//! subnets, ...), each compared without the resources nested in it, so a new app is one added
//! app, not a changed domain too.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;
use crate::pipeline::Judge;
use crate::report::{Finding, Report, Status};
use crate::snapshot::Snapshot;
use crate::vocab::Severity;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub old: PathBuf,
    pub new: PathBuf,
    pub format: DiffFormat,
    /// Exit 3 when a new FAIL at or above this severity appears.
    pub fail_on: Option<Severity>,
    /// For snapshots: the config whose thresholds, waivers and policy directories judge them.
    pub config: Option<PathBuf>,
    pub policy_dirs: Vec<PathBuf>,
}

/// One side of the comparison, as the output names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub path: String,
    pub scan_id: String,
    pub finished_at: String,
    /// The statuses its report lists, when it was filtered (`--status`): a finding absent
    /// from it may just be of another status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<Status>>,
}

/// A finding as the diff lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub id: String,
    pub check_id: String,
    pub severity: Severity,
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
    /// Its status in OLD; `None`: absent from OLD.
    pub old_status: Option<Status>,
    /// Its status in NEW; `None`: absent from NEW.
    pub new_status: Option<Status>,
    /// NEW's message, else OLD's.
    pub message: String,
    /// What differs (changed findings): `status`, `severity`, `message`, `evidence`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingsDiff {
    pub new: Vec<Entry>,
    pub resolved: Vec<Entry>,
    pub changed: Vec<Entry>,
    pub unchanged: usize,
    /// Findings only in NEW that do not fail (a new resource that passes, or is muted).
    pub appeared_not_failing: usize,
    /// Findings only in OLD that did not fail (a deleted resource that passed, or was muted).
    pub disappeared_not_failing: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    pub kind: String,
    pub id: String,
    /// Changed resources: the fields whose values differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourcesDiff {
    pub added: Vec<Resource>,
    pub removed: Vec<Resource>,
    pub changed: Vec<Resource>,
    pub unchanged: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// `report` or `snapshot`.
    pub compared: &'static str,
    pub old: Side,
    pub new: Side,
    pub findings: FindingsDiff,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesDiff>,
}

pub fn run(opts: DiffOptions) -> Result<ExitCode> {
    let old = Input::load(&opts.old)?;
    let new = Input::load(&opts.new)?;
    let diff = match (old, new) {
        (Input::Report(old), Input::Report(new)) => Diff {
            compared: "report",
            old: side(&opts.old, &old),
            new: side(&opts.new, &new),
            findings: findings(&old.findings, &new.findings),
            resources: None,
        },
        (Input::Snapshot(old_snapshot), Input::Snapshot(new_snapshot)) => {
            let config = match &opts.config {
                Some(path) => Config::load(path)?,
                None => Config::default(),
            };
            let judge = Judge::load(&config, &opts.policy_dirs)?;
            let today = chrono::Utc::now().date_naive();
            let resources = resources(&old_snapshot, &new_snapshot);
            let old = judge.report(&old_snapshot, &config, today);
            drop(old_snapshot);
            let new = judge.report(&new_snapshot, &config, today);
            drop(new_snapshot);
            Diff {
                compared: "snapshot",
                old: side(&opts.old, &old),
                new: side(&opts.new, &new),
                findings: findings(&old.findings, &new.findings),
                resources: Some(resources),
            }
        }
        _ => {
            return Err(Error::Usage(format!(
                "diff: {} and {} must both be findings reports (scan --format json) or both snapshots (scan --save-snapshot)",
                opts.old.display(),
                opts.new.display()
            )));
        }
    };
    let text = match opts.format {
        DiffFormat::Json => {
            let mut text = serde_json::to_string_pretty(&diff).unwrap_or_default();
            text.push('\n');
            text
        }
        DiffFormat::Table => table(&diff),
        DiffFormat::Markdown => markdown(&diff),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    let failing = opts.fail_on.is_some_and(|threshold| {
        diff.findings
            .new
            .iter()
            .any(|e| e.new_status == Some(Status::Fail) && e.severity >= threshold)
    });
    Ok(if failing {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

enum Input {
    Report(Box<Report>),
    Snapshot(Box<Snapshot>),
}

impl Input {
    /// A findings report (it has `findings` and `summary`) or a snapshot (it has `accounts`);
    /// malformed files name the file, line and problem.
    fn load(path: &Path) -> Result<Self> {
        #[derive(Deserialize)]
        struct Probe {
            findings: Option<serde::de::IgnoredAny>,
            summary: Option<serde::de::IgnoredAny>,
            accounts: Option<serde::de::IgnoredAny>,
        }
        let shown = path.display().to_string();
        let text = crate::fsutil::read_text(path).map_err(|e| match e {
            crate::fsutil::ReadTextError::Io(e) => {
                Error::Usage(format!("{shown}: cannot read: {e}"))
            }
            crate::fsutil::ReadTextError::NotUtf8 { line, column } => {
                Error::Usage(format!("{shown}:{line}:{column}: not UTF-8"))
            }
        })?;
        let probe: Probe = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{shown}:{}:{}: {e}", e.line(), e.column())))?;
        match probe {
            Probe {
                findings: Some(_),
                summary: Some(_),
                ..
            } => serde_json::from_str::<Report>(&text)
                .map(|r| Input::Report(Box::new(r)))
                .map_err(|e| {
                    Error::Usage(format!(
                        "{shown}:{}:{}: not a findings report: {e}",
                        e.line(),
                        e.column()
                    ))
                }),
            Probe {
                accounts: Some(_), ..
            } => Ok(Input::Snapshot(Box::new(Snapshot::from_json(
                &shown, &text,
            )?))),
            _ => Err(Error::Usage(format!(
                "{shown}: neither a findings report (no `findings` and `summary`) nor a snapshot (no `accounts`)"
            ))),
        }
    }
}

fn side(path: &Path, report: &Report) -> Side {
    Side {
        path: path.display().to_string(),
        scan_id: report.scan.id.clone(),
        finished_at: report
            .scan
            .finished_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        statuses: report.findings_filter.as_ref().map(|f| f.statuses.clone()),
    }
}

fn problem(status: Option<Status>) -> bool {
    matches!(status, Some(Status::Fail | Status::Error))
}

/// The findings diff of two reports' findings (see the module's definitions).
pub fn findings(old: &[Finding], new: &[Finding]) -> FindingsDiff {
    let old_by_id: HashMap<&str, &Finding> = old.iter().map(|f| (f.id.as_str(), f)).collect();
    let new_ids: BTreeSet<&str> = new.iter().map(|f| f.id.as_str()).collect();
    let entry = |f: &Finding, old: Option<&Finding>, new: Option<&Finding>| Entry {
        id: f.id.clone(),
        check_id: f.check_id.to_string(),
        severity: f.severity,
        resource_arn: f.resource_arn.to_string(),
        account_id: f.account_id.to_string(),
        region: f.region.to_string(),
        old_status: old.map(|o| o.status),
        new_status: new.map(|n| n.status),
        message: f.message.to_string(),
        changes: Vec::new(),
    };
    let mut diff = FindingsDiff {
        new: Vec::new(),
        resolved: Vec::new(),
        changed: Vec::new(),
        unchanged: 0,
        appeared_not_failing: 0,
        disappeared_not_failing: 0,
    };
    for n in new {
        let o = old_by_id.get(n.id.as_str()).copied();
        let (was, is) = (o.map(|o| o.status), Some(n.status));
        if problem(is) && !problem(was) {
            diff.new.push(entry(n, o, Some(n)));
        } else if problem(was) && is == Some(Status::Pass) {
            diff.resolved.push(entry(n, o, Some(n)));
        } else if let Some(o) = o {
            let mut changes = Vec::new();
            if o.status != n.status {
                changes.push("status");
            }
            if o.severity != n.severity {
                changes.push("severity");
            }
            if o.message != n.message {
                changes.push("message");
            }
            if o.evidence != n.evidence {
                changes.push("evidence");
            }
            if changes.is_empty() {
                diff.unchanged += 1;
            } else {
                diff.changed.push(Entry {
                    changes,
                    ..entry(n, Some(o), Some(n))
                });
            }
        } else {
            diff.appeared_not_failing += 1;
        }
    }
    for o in old.iter().filter(|o| !new_ids.contains(o.id.as_str())) {
        if problem(Some(o.status)) {
            diff.resolved.push(entry(o, Some(o), None));
        } else {
            diff.disappeared_not_failing += 1;
        }
    }
    diff
}

/// Resource lists of a snapshot, by their key: what each holds is a resource.
const RESOURCE_LISTS: &[&str] = &[
    "execution_roles",
    "domains",
    "user_profiles",
    "spaces",
    "apps",
    "efs_file_systems",
    "notebook_instances",
    "lifecycle_configs",
    "security_groups",
    "subnets",
    "route_tables",
    "vpc_endpoints",
];

/// Fields that change at every scan without the resource changing.
const VOLATILE: &[&str] = &["size_timestamp"];

/// The resources diff of two snapshots.
pub fn resources(old: &Snapshot, new: &Snapshot) -> ResourcesDiff {
    let collect = |s: &Snapshot| {
        let mut out = BTreeMap::new();
        let value = serde_json::to_value(s).unwrap_or(Value::Null);
        walk(&value, "", &mut out);
        out
    };
    let (old, new) = (collect(old), collect(new));
    let mut diff = ResourcesDiff {
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        unchanged: 0,
    };
    for ((kind, id), n) in &new {
        let resource = |fields| Resource {
            kind: kind.clone(),
            id: id.clone(),
            fields,
        };
        match old.get(&(kind.clone(), id.clone())) {
            None => diff.added.push(resource(Vec::new())),
            Some(o) => {
                let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
                let fields: Vec<String> = keys
                    .into_iter()
                    .filter(|k| o.get(*k) != n.get(*k))
                    .cloned()
                    .collect();
                if fields.is_empty() {
                    diff.unchanged += 1;
                } else {
                    diff.changed.push(resource(fields));
                }
            }
        }
    }
    for (kind, id) in old.keys().filter(|k| !new.contains_key(*k)) {
        diff.removed.push(Resource {
            kind: kind.clone(),
            id: id.clone(),
            fields: Vec::new(),
        });
    }
    diff
}

type Resources = BTreeMap<(String, String), serde_json::Map<String, Value>>;

/// Every resource under `value`: objects in the [`RESOURCE_LISTS`], by kind (the singular of
/// the list's name) and ARN (else the first `*_id` field, scoped by where it was found), and
/// the managed policies by ARN; each without its nested resource lists and volatile fields.
fn walk(value: &Value, scope: &str, out: &mut Resources) {
    let Value::Object(map) = value else { return };
    let scope = ["account_id", "region"]
        .iter()
        .filter_map(|k| map.get(*k).and_then(Value::as_str))
        .fold(scope.to_string(), |s, part| format!("{s}{part}/"));
    for (key, child) in map {
        match (key.as_str(), child) {
            ("managed_policies", Value::Object(policies)) => {
                for (arn, policy) in policies {
                    if let Value::Object(p) = policy {
                        out.insert(("managed_policy".into(), arn.clone()), p.clone());
                    }
                }
            }
            (list, Value::Array(items)) if RESOURCE_LISTS.contains(&list) => {
                let kind = list.strip_suffix('s').unwrap_or(list).to_string();
                for item in items {
                    let Value::Object(fields) = item else {
                        continue;
                    };
                    let id = fields
                        .get("arn")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| {
                            fields
                                .iter()
                                .find(|(k, v)| k.ends_with("_id") && v.is_string())
                                .map(|(_, v)| format!("{scope}{}", v.as_str().unwrap_or("")))
                        });
                    let Some(id) = id else { continue };
                    let own: serde_json::Map<String, Value> = fields
                        .iter()
                        .filter(|(k, v)| {
                            let nested = RESOURCE_LISTS.contains(&k.as_str()) && v.is_array();
                            !nested && !VOLATILE.contains(&k.as_str())
                        })
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    out.insert((kind.clone(), id), own);
                    walk(item, &scope, out);
                }
            }
            (_, Value::Array(items)) => {
                for item in items {
                    walk(item, &scope, out);
                }
            }
            (_, Value::Object(_)) => walk(child, &scope, out),
            _ => {}
        }
    }
}

fn status_name(s: Option<Status>) -> &'static str {
    s.map_or("absent", Status::as_str)
}

fn counts(d: &Diff) -> String {
    let f = &d.findings;
    let mut line = format!(
        "findings: {} new, {} resolved, {} changed, {} unchanged ({} appeared and {} disappeared without failing)",
        f.new.len(),
        f.resolved.len(),
        f.changed.len(),
        f.unchanged,
        f.appeared_not_failing,
        f.disappeared_not_failing
    );
    if let Some(r) = &d.resources {
        let _ = write!(
            line,
            "; resources: {} added, {} removed, {} changed, {} unchanged",
            r.added.len(),
            r.removed.len(),
            r.changed.len(),
            r.unchanged
        );
    }
    line
}

fn filtered_note(d: &Diff) -> Vec<String> {
    [("OLD", &d.old), ("NEW", &d.new)]
        .into_iter()
        .filter_map(|(name, side)| {
            let statuses = side.statuses.as_ref()?;
            let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            Some(format!(
                "{name} lists only {} findings: one absent from it may be of another status",
                names.join(", ")
            ))
        })
        .collect()
}

fn table(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} (scan {}, {}) -> {} (scan {}, {})",
        d.compared,
        d.old.path,
        d.old.scan_id,
        d.old.finished_at,
        d.new.path,
        d.new.scan_id,
        d.new.finished_at
    );
    let _ = writeln!(out, "{}", counts(d));
    for note in filtered_note(d) {
        let _ = writeln!(out, "note: {note}");
    }
    let sections: [(&str, &Vec<Entry>); 3] = [
        ("NEW", &d.findings.new),
        ("RESOLVED", &d.findings.resolved),
        ("CHANGED", &d.findings.changed),
    ];
    for (title, entries) in sections {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        for e in entries {
            let _ = write!(
                out,
                "  {:<8}  {:>6} -> {:<6}  {}  {}",
                e.severity.as_str(),
                status_name(e.old_status),
                status_name(e.new_status),
                e.check_id,
                e.resource_arn
            );
            if !e.changes.is_empty() {
                let _ = write!(out, "  ({} changed)", e.changes.join(", "));
            }
            let _ = writeln!(out, "\n            {}", e.message);
        }
    }
    if let Some(r) = &d.resources {
        for (title, list) in [
            ("ADDED", &r.added),
            ("REMOVED", &r.removed),
            ("CHANGED RESOURCES", &r.changed),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}");
            for res in list {
                let _ = write!(out, "  {:<16}  {}", res.kind, res.id);
                if !res.fields.is_empty() {
                    let _ = write!(out, "  ({})", res.fields.join(", "));
                }
                let _ = writeln!(out);
            }
        }
    }
    out
}

/// Text for a Markdown table cell: pipes, backslashes, newlines and HTML-significant
/// characters escaped (resource names come from AWS and are attacker-controlled).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '`' => out.push_str("\\`"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn markdown(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## sagemaker-auditor diff\n");
    let _ = writeln!(
        out,
        "{} `{}` (scan {}, {}) → `{}` (scan {}, {})\n",
        d.compared,
        cell(&d.old.path),
        cell(&d.old.scan_id),
        d.old.finished_at,
        cell(&d.new.path),
        cell(&d.new.scan_id),
        d.new.finished_at
    );
    let _ = writeln!(out, "{}\n", counts(d));
    for note in filtered_note(d) {
        let _ = writeln!(out, "> {note}\n");
    }
    let sections: [(&str, &Vec<Entry>); 3] = [
        ("New findings", &d.findings.new),
        ("Resolved findings", &d.findings.resolved),
        ("Changed findings", &d.findings.changed),
    ];
    for (title, entries) in sections {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title} ({})\n", entries.len());
        let _ = writeln!(
            out,
            "| Severity | Status | Check | Resource | Message |\n|---|---|---|---|---|"
        );
        for e in entries {
            let mut status = format!(
                "{} → {}",
                status_name(e.old_status),
                status_name(e.new_status)
            );
            if !e.changes.is_empty() {
                let _ = write!(status, " ({})", e.changes.join(", "));
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                e.severity.as_str(),
                status,
                cell(&e.check_id),
                cell(&e.resource_arn),
                cell(&e.message)
            );
        }
        out.push('\n');
    }
    if let Some(r) = &d.resources {
        for (title, list) in [
            ("Added resources", &r.added),
            ("Removed resources", &r.removed),
            ("Changed resources", &r.changed),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "### {title} ({})\n\n| Kind | Resource | Fields |\n|---|---|---|",
                list.len()
            );
            for res in list {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    cell(&res.kind),
                    cell(&res.id),
                    cell(&res.fields.join(", "))
                );
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::finding;

    fn with(mut f: Finding, severity: Severity, message: &str) -> Finding {
        f.severity = severity;
        f.message = message.into();
        f
    }

    #[test]
    fn findings_are_new_resolved_changed_or_unchanged() {
        let f = |arn: &str, status| finding("c", "app", arn, status);
        let old = vec![
            f("arn:fixed", Status::Fail),
            f("arn:gone", Status::Fail),
            f("arn:gone-pass", Status::Pass),
            f("arn:same", Status::Fail),
            f("arn:muted", Status::Muted),
            f("arn:worse", Status::Fail),
            f("arn:error", Status::Error),
        ];
        let new = vec![
            f("arn:fixed", Status::Pass),
            f("arn:same", Status::Fail),
            f("arn:muted", Status::Fail),
            with(f("arn:worse", Status::Fail), Severity::Critical, "worse"),
            f("arn:error", Status::Fail),
            f("arn:fresh", Status::Fail),
            f("arn:fresh-pass", Status::Pass),
        ];
        let d = findings(&old, &new);
        let arns = |es: &[Entry]| {
            es.iter()
                .map(|e| e.resource_arn.clone())
                .collect::<Vec<_>>()
        };
        // A waiver that expired makes a FAIL new; a new PASS is nothing to report.
        assert_eq!(arns(&d.new), ["arn:muted", "arn:fresh"]);
        assert_eq!(d.new[1].old_status, None);
        assert_eq!(arns(&d.resolved), ["arn:fixed", "arn:gone"]);
        assert_eq!(d.resolved[1].new_status, None);
        assert_eq!(arns(&d.changed), ["arn:worse", "arn:error"]);
        assert_eq!(d.changed[0].changes, ["severity", "message"]);
        assert_eq!(d.changed[1].changes, ["status"]);
        assert_eq!(d.unchanged, 1);
        assert_eq!((d.appeared_not_failing, d.disappeared_not_failing), (1, 1));
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(
            cell("a|b\\c `x` <script>&\nnext"),
            "a\\|b\\\\c \\`x\\` &lt;script&gt;&amp; next"
        );
    }
}
