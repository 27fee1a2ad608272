//! A terminal summary of a findings report: counts, then every finding that is not a PASS,
//! most severe first. ANSI colour only when writing to a terminal.

use std::fmt::Write as _;

use crate::report::findings::{Report, Status};
use crate::vocab::Severity;

pub fn render(report: &Report, colour: bool) -> String {
    let paint = Paint(colour);
    let mut out = String::new();
    header(&mut out, report, paint);
    findings(&mut out, report, paint);
    problems(&mut out, report);
    out
}

/// ANSI styling, or none (not a terminal).
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn paint(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// The scan and its counts.
fn header(out: &mut String, report: &Report, paint: Paint) {
    let s = &report.summary;
    let _ = writeln!(
        out,
        "scan {} of {} account(s), {} region(s), finished {}",
        report.scan.id,
        report.scan.accounts.len(),
        report.scan.regions.len(),
        report
            .scan
            .finished_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let _ = writeln!(
        out,
        "{} results: {} FAIL, {} MUTED, {} ERROR, {} PASS",
        s.pass + s.fail + s.muted + s.error,
        paint.paint("1;31", &s.fail.to_string()),
        s.muted,
        paint.paint("33", &s.error.to_string()),
        paint.paint("32", &s.pass.to_string()),
    );
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .map(|sev| {
            format!(
                "{} {}",
                sev.as_str(),
                s.fail_by_severity.get(sev).copied().unwrap_or(0)
            )
        })
        .collect();
    let _ = writeln!(out, "FAIL by severity: {}", by_severity.join(", "));
    if let Some(filter) = &report.findings_filter {
        let names: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(
            out,
            "listing {} only: {} finding(s) left out",
            names.join(", "),
            filter.omitted
        );
    }
}

/// Every finding that is not a PASS (PASS too when a status filter asked for them), with its
/// waiver and who last changed its resource.
fn findings(out: &mut String, report: &Report, paint: Paint) {
    let pass_asked = report
        .findings_filter
        .as_ref()
        .is_some_and(|f| f.statuses.contains(&Status::Pass));
    let shown: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.status != Status::Pass || pass_asked)
        .collect();
    if shown.is_empty() {
        return;
    }
    let check_width = shown
        .iter()
        .map(|f| f.check_id.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<8}  {:<6}  {:<check_width$}  MESSAGE",
        "SEVERITY", "STATUS", "CHECK"
    );
    for f in shown {
        let severity = format!("{:<8}", f.severity.as_str());
        let status = format!("{:<6}", f.status.as_str());
        let _ = writeln!(
            out,
            "{}  {}  {:<check_width$}  {}",
            paint.paint(severity_colour(f.severity), &severity),
            status,
            f.check_id,
            f.message
        );
        if let Some(w) = &f.waiver {
            let _ = writeln!(
                out,
                "{:<8}  {:<6}  {:<check_width$}  waived until {}: {}",
                "", "", "", w.expires, w.reason
            );
        }
        if let Some(a) = &f.attribution {
            let text = |key: &str| a[key].as_str().unwrap_or("?").to_string();
            let person = a["user"]
                .as_str()
                .map(|u| format!(", user {u}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<8}  {:<6}  {:<check_width$}  last changed by {}{person} ({} at {}, from {})",
                "",
                "",
                "",
                text("actor_arn"),
                text("event_name"),
                text("event_time"),
                text("source_ip")
            );
        }
    }
}

/// What the scan could not do: failed calls, checks that did not run, expired waivers.
fn problems(out: &mut String, report: &Report) {
    if !report.scan.collection_errors.is_empty() {
        let _ = writeln!(
            out,
            "\nINCOMPLETE: calls that failed (their checks report ERROR):"
        );
        for e in &report.scan.collection_errors {
            let _ = writeln!(
                out,
                "  {} {} {} {}: {} {}",
                e.account_id,
                e.region,
                e.service,
                e.operation,
                e.error.as_str(),
                e.resource.as_deref().unwrap_or("")
            );
        }
    }
    if !report.scan.cloudtrail_unread.is_empty() {
        let _ = writeln!(
            out,
            "\nINCOMPLETE: CloudTrail events not read (cloudtrail.max_pages_per_scan ran out; attribution and changes lack them):"
        );
        for u in &report.scan.cloudtrail_unread {
            let _ = writeln!(
                out,
                "  {} {} from {} to {}",
                u.account_id,
                u.region,
                u.span
                    .from
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                u.span
                    .until
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
    }
    for e in &report.evaluation_errors {
        let _ = writeln!(
            out,
            "\ncheck {} could not be evaluated: {}",
            e.check_id, e.message
        );
    }
    let expired: Vec<_> = report
        .waivers
        .iter()
        .filter(|w| w.state == "expired")
        .collect();
    if !expired.is_empty() {
        let _ = writeln!(out, "\nEXPIRED waivers (no longer applied):");
        for w in expired {
            let _ = writeln!(
                out,
                "  line {}: {} {} (expired {}): {}",
                w.line, w.check_id, w.resource, w.expires, w.reason
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{ACCOUNT, report};
    use chrono::{DateTime, Utc};

    /// CloudTrail left unread (the page budget ran out) is said in plain view, with its span.
    #[test]
    fn unread_cloudtrail_is_listed_as_incomplete() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let mut r = report(at("2026-12-01T12:00:00Z"), vec![]);
        assert!(!render(&r, false).contains("CloudTrail events not read"));
        r.scan
            .cloudtrail_unread
            .push(crate::snapshot::UnreadEvents {
                account_id: ACCOUNT.into(),
                region: "us-east-1".into(),
                span: crate::snapshot::EventSpan {
                    from: at("2026-11-24T12:00:00Z"),
                    until: at("2026-12-01T06:30:00Z"),
                },
            });
        let text = render(&r, false);
        assert!(
            text.contains("INCOMPLETE: CloudTrail events not read"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "  {ACCOUNT} us-east-1 from 2026-11-24T12:00:00Z to 2026-12-01T06:30:00Z"
            )),
            "{text}"
        );
    }
}
