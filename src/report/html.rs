//! `--format html` and the daemon's page (`GET /`): one self-contained HTML document, inline
//! CSS and JavaScript under a Content-Security-Policy that allows nothing else (no network
//! request of any kind), readable without JavaScript (everything is rendered here; the script
//! only filters and sorts the findings table), printable, and keyboard-accessible.
//!
//! Every string that comes from AWS (names, tags, messages, evidence, CloudTrail user agents)
//! is attacker-controlled: it goes through [`esc`] and nowhere else, and never into a
//! `<script>` or `<style>` element, an event handler or a URL.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::OnceLock;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::report::graph::{Graph, NodeKind};
use crate::report::history::Timeline;
use crate::report::{Finding, Report, Status};
use crate::vocab::Severity;

/// What a page shows beyond the report.
#[derive(Default, Clone, Copy)]
pub struct Page<'a> {
    /// The domain graph of the snapshot the report judged; without it the per-domain view is
    /// built from the findings alone.
    pub graph: Option<&'a Graph>,
    /// The daemon's history panel.
    pub timeline: Option<&'a Timeline>,
    /// The daemon's page: links to its endpoints, and [`BASE_SLOT`] where `serve` puts the
    /// `<base>` of a path prefix.
    pub daemon: bool,
}

/// In the `<head>` of a daemon page: replaced per request by `<base href="PREFIX/">` (or
/// nothing) so relative links work behind a path prefix.
pub const BASE_SLOT: &str = "<!--base-->";

const STYLE: &str = r#"
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--crit:#8b0000;--high:#cf222e;--med:#bc4c00;--low:#9a6700;--info:#57606a;--pass:#1a7f37;--err:#8250df}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:1rem 1.5rem 3rem;max-width:1600px}
h1{font-size:1.5rem;margin:.2rem 0 .4rem}h2{font-size:1.2rem;margin:1.8rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}h4{margin:.6rem 0 .2rem;font-size:.95rem}
a{color:#0969da}a:focus,button:focus,select:focus,input:focus,summary:focus{outline:2px solid #0969da;outline-offset:2px}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
pre{background:var(--soft);border:1px solid var(--line);padding:.5rem;overflow:auto;max-height:24rem;white-space:pre-wrap;word-break:break-all}
.meta{color:var(--muted);margin:.2rem 0}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0}
.card{border:1px solid var(--line);border-radius:6px;padding:.4rem .8rem;min-width:6.5rem}
.card b{display:block;font-size:1.4rem}
.problems h2,.ok h2{margin-top:.4rem}
.legend{display:flex;gap:.4rem;margin:.2rem 0 .6rem}
.problems{border:2px solid var(--high);border-radius:6px;padding:.4rem 1rem;background:#fff5f5}
.ok{border:1px solid var(--pass);border-radius:6px;padding:.4rem 1rem;background:#f0fff4}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.3rem .4rem;text-align:left;vertical-align:top}
thead th{background:var(--soft);position:sticky;top:0;z-index:1}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th[aria-sort=ascending] button::after{content:" \25B2"}th[aria-sort=descending] button::after{content:" \25BC"}
td.arn{word-break:break-all;max-width:28rem}
.sev,.st{display:inline-block;padding:0 .4rem;border-radius:3px;font-weight:600;font-size:12px;color:#fff}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med)}.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.st-FAIL{background:var(--high)}.st-ERROR{background:var(--err)}.st-MUTED{background:var(--info)}.st-PASS{background:var(--pass)}
svg .sev-critical{fill:var(--crit)}svg .sev-high{fill:var(--high)}svg .sev-medium{fill:var(--med)}svg .sev-low{fill:var(--low)}svg .sev-info{fill:var(--info)}
svg .bar{fill:var(--high)}svg text{font-size:11px;fill:var(--fg)}svg .axis{stroke:var(--line)}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.3rem}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin:.4rem 0 .8rem;padding:.5rem;background:var(--soft);border:1px solid var(--line);border-radius:6px}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
form.filters select,form.filters input{font:inherit;padding:.15rem .3rem;max-width:16rem}
details>summary{cursor:pointer}
.more{padding:.3rem 0 .5rem}
.more dl,dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.2rem 0}
dt{color:var(--muted)}dd{margin:0;word-break:break-word}
.domain{border:1px solid var(--line);border-radius:6px;padding:.2rem 1rem .8rem;margin:.8rem 0}
.domain ul{margin:.2rem 0;padding-left:1.2rem}
.none{color:var(--muted)}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
tr[hidden]{display:none}
html.js #findings tbody{display:none}html.js.ready #findings tbody{display:table-row-group}
#findings{table-layout:fixed}
.w-sev{width:5.5rem}.w-st{width:5rem}.w-check{width:15rem}.w-acct{width:8.5rem}.w-region{width:7rem}.w-domain{width:9rem}.w-finding{width:30%}
td[class^=s-],td[class^=t-]{font-weight:600}
.s-critical{color:var(--crit)}.s-high{color:var(--high)}.s-medium{color:var(--med)}.s-low{color:var(--low)}.s-info{color:var(--info)}
.t-FAIL{color:var(--high)}.t-ERROR{color:var(--err)}.t-MUTED{color:var(--info)}.t-PASS{color:var(--pass)}
details .fix{border-left:3px solid var(--line);padding-left:.6rem}
@media print{body{max-width:none;padding:0;font-size:11px}form.filters,nav,.noprint{display:none}#findings{table-layout:auto}thead th{position:static}a{color:inherit;text-decoration:none}.domain,.card{break-inside:avoid}pre{max-height:none}}
"#;

/// In the head: marks the document as scripted before the findings table is parsed, so the
/// stylesheet keeps the table's body out of layout while it loads (laying out a growing
/// 10,000-row table again and again as it is parsed took seconds) until [`SCRIPT`] shows it.
/// Without script the table is laid out as it comes.
const EARLY_SCRIPT: &str = "document.documentElement.className = \"js\";";

const SCRIPT: &str = r#"
(function () {
  "use strict";
  function enhance(table, form) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var shown = document.getElementById("shown");
    // The filters by the column they read: severity, status, check, account, region, domain.
    var filters = [["severity", 0], ["status", 1], ["check", 2], ["account", 4], ["region", 5], ["domain", 6]];
    var cells = null, texts = null;
    function values() {
      if (!cells) {
        cells = rows.map(function (r) {
          var c = r.cells, v = [];
          for (var i = 0; i < 7; i++) { v.push(c[i].textContent); }
          return v;
        });
      }
      return cells;
    }
    // A page of the matching rows at a time: laying out 10,000 rows at once takes seconds.
    var PAGE = 500, page = 0, matched = [];
    var pager = document.getElementById("pager");
    function show() {
      var pages = Math.max(1, Math.ceil(matched.length / PAGE));
      if (page >= pages) { page = pages - 1; }
      var from = page * PAGE, to = Math.min(matched.length, from + PAGE);
      var on = new Set(matched.slice(from, to));
      for (var i = 0; i < rows.length; i++) {
        var hide = !on.has(i);
        if (rows[i].hidden !== hide) { rows[i].hidden = hide; }
      }
      shown.setAttribute("data-matched", String(matched.length));
      shown.textContent = matched.length + " of " + rows.length + " findings match" +
        (pages > 1 ? "; showing " + (from + 1) + "\u2013" + to : "");
      pager.hidden = pages < 2;
      pager.querySelector("[data-page=prev]").disabled = page === 0;
      pager.querySelector("[data-page=next]").disabled = page >= pages - 1;
      pager.querySelector("span").textContent = "page " + (page + 1) + " of " + pages;
    }
    function apply() {
      var want = filters.map(function (f) { return [f[1], form.elements[f[0]].value]; })
        .filter(function (w) { return w[1] !== ""; });
      var q = form.elements.q.value.trim().toLowerCase();
      var v = want.length ? values() : null;
      if (q && !texts) { texts = rows.map(function (r) { return r.textContent.toLowerCase(); }); }
      matched = [];
      for (var i = 0; i < rows.length; i++) {
        var ok = true;
        for (var j = 0; j < want.length && ok; j++) {
          if (v[i][want[j][0]] !== want[j][1]) { ok = false; }
        }
        if (ok && q && texts[i].indexOf(q) < 0) { ok = false; }
        if (ok) { matched.push(i); }
      }
      page = 0;
      show();
    }
    pager.addEventListener("click", function (e) {
      var which = e.target.getAttribute && e.target.getAttribute("data-page");
      if (!which) { return; }
      page += which === "next" ? 1 : -1;
      show();
      table.scrollIntoView();
    });
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    var rank = [
      { critical: 0, high: 1, medium: 2, low: 3, info: 4 },
      { FAIL: 0, ERROR: 1, MUTED: 2, PASS: 3 }
    ];
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(table.querySelectorAll("th button[data-column]"), function (b) {
      b.addEventListener("click", function () {
        var col = Number(b.getAttribute("data-column"));
        var th = b.parentNode;
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        var v = values();
        var order = rows.map(function (r, i) {
          var x = v[i][col];
          return [rank[col] ? rank[col][x] : x, i];
        });
        order.sort(function (a, c) { return (a[0] < c[0] ? -1 : a[0] > c[0] ? 1 : a[1] - c[1]) * dir; });
        rows = order.map(function (o) { return rows[o[1]]; });
        cells = order.map(function (o) { return v[o[1]]; });
        if (texts) { var t = texts; texts = order.map(function (o) { return t[o[1]]; }); }
        var frag = document.createDocumentFragment();
        rows.forEach(function (r) { frag.appendChild(r); });
        body.appendChild(frag);
        apply();
      });
    });
    // An opened row gets its check's remediation and controls (written once, further down).
    function addFix(d) {
      if (d.querySelector(".fix")) { return; }
      var check = document.getElementById("c-" + d.getAttribute("data-check"));
      var fix = check && check.querySelector(".fix");
      if (fix) { d.insertBefore(fix.cloneNode(true), d.querySelector(".fixlink")); }
    }
    body.addEventListener("toggle", function (e) {
      if (e.target.open) { addFix(e.target); }
    }, true);
    // A printout shows the rows on screen (the page of matching rows) opened, with their
    // remediation: paper cannot be clicked.
    window.addEventListener("beforeprint", function () {
      rows.forEach(function (r) {
        if (r.hidden) { return; }
        var d = r.querySelector("details");
        if (d) { addFix(d); d.open = true; }
      });
    });
    form.hidden = false;
    apply();
  }
  var table = document.getElementById("findings");
  var form = document.getElementById("filters");
  try { if (table && form) { enhance(table, form); } } finally {
    // The table's body is shown whatever happened above: never hidden by a failed script.
    document.documentElement.className = "js ready";
  }
  if (table) {
    // Laid out now, not at the next frame: the time below includes it.
    void table.offsetHeight;
  }
  // When the table became usable, in ms since navigation start (the browser tests read it).
  document.documentElement.setAttribute("data-ready", String(Math.round(performance.now())));
})();
"#;

fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The policy of every page: its own inline style and script (by hash) and nothing else: no
/// request to any origin, no form submission, no `<base>` elsewhere. The daemon also sends
/// it as a header, with `frame-ancestors 'none'` (which a `<meta>` cannot carry).
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; style-src {}; script-src {} {}; base-uri 'self'; form-action 'none'",
            hash(STYLE),
            hash(EARLY_SCRIPT),
            hash(SCRIPT)
        )
    })
}

/// Text safe in HTML content and in double- or single-quoted attribute values.
pub fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out.into()
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The whole document.
pub fn render(report: &Report, page: Page<'_>) -> String {
    let mut out = String::with_capacity(16 * 1024 + report.findings.len() * 1600);
    let title = format!(
        "SageMaker audit: {} FAIL, {} ERROR — {}",
        report.summary.fail,
        report.summary.error,
        time(report.scan.finished_at)
    );
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n{}<title>{}</title>\n<style>{STYLE}</style>\n<script>{EARLY_SCRIPT}</script>\n</head>\n<body>",
        esc(content_security_policy()),
        if page.daemon { BASE_SLOT } else { "" },
        esc(&title)
    );
    header(&mut out, report, page);
    problems(&mut out, report);
    // The daemon's trend first: what changed is what its readers come for.
    if let Some(timeline) = page.timeline {
        history(&mut out, report, timeline);
    }
    summary(&mut out, report);
    findings(&mut out, report);
    checks(&mut out, report);
    domains(&mut out, report, page.graph);
    changes(&mut out, report);
    waivers(&mut out, report);
    let _ = writeln!(
        out,
        "<footer class=\"meta\"><p>sagemaker-auditor {} · report schema {}</p></footer>\n<script>{SCRIPT}</script>\n</body>\n</html>",
        esc(&report.scan.scanner_version),
        esc(&report.schema_version)
    );
    out
}

fn header(out: &mut String, report: &Report, page: Page<'_>) {
    let scan = &report.scan;
    let _ = writeln!(
        out,
        "<header>\n<h1>SageMaker audit</h1>\n<p class=\"meta\">Scan <code>{}</code>, {} to {} · scanner {}</p>",
        esc(&scan.id),
        time(scan.started_at),
        time(scan.finished_at),
        esc(&scan.scanner_version)
    );
    out.push_str("<dl class=\"facts\">\n<dt>Accounts</dt><dd>");
    for (i, a) in scan.accounts.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "<code>{}</code>", esc(a));
        if !scan.scanned.is_empty() && !scan.scanned.contains_key(a) {
            out.push_str(" <strong>(not read)</strong>");
        }
    }
    if scan.accounts.is_empty() {
        out.push_str("<span class=\"none\">none</span>");
    }
    let _ = writeln!(
        out,
        "</dd>\n<dt>Regions</dt><dd>{}</dd>\n</dl>",
        if scan.regions.is_empty() {
            "<span class=\"none\">none</span>".to_string()
        } else {
            esc(&scan.regions.join(", ")).into_owned()
        }
    );
    if page.daemon {
        out.push_str(
            "<nav aria-label=\"Endpoints\"><p class=\"meta\">This report as JSON: <a href=\"api/findings\">api/findings</a> · \
             failures only: <a href=\"api/findings?status=fail,error\">api/findings?status=fail,error</a> · \
             <a href=\"metrics\">metrics</a></p></nav>\n",
        );
    }
    out.push_str(
        "<nav aria-label=\"Sections\" class=\"noprint\"><p><a href=\"#sec-findings\">Findings</a> · <a href=\"#sec-checks\">Checks</a> · <a href=\"#sec-domains\">Domains</a> · \
         <a href=\"#sec-changes\">Changes</a> · <a href=\"#sec-waivers\">Waivers</a></p></nav>\n</header>\n",
    );
}

/// Collection errors, checks that could not run and CloudTrail left unread: never hidden.
fn problems(out: &mut String, report: &Report) {
    let scan = &report.scan;
    let unread_accounts: Vec<&String> = if scan.scanned.is_empty() {
        Vec::new()
    } else {
        scan.accounts
            .iter()
            .filter(|a| !scan.scanned.contains_key(*a))
            .collect()
    };
    if scan.collection_errors.is_empty()
        && report.evaluation_errors.is_empty()
        && scan.cloudtrail_unread.is_empty()
        && unread_accounts.is_empty()
        && report.summary.error == 0
    {
        out.push_str("<section id=\"sec-problems\" class=\"ok\" aria-labelledby=\"h-problems\"><h2 id=\"h-problems\">Scan problems</h2><p>None: every call succeeded, every check ran and judged every resource.</p></section>\n");
        return;
    }
    out.push_str("<section id=\"sec-problems\" class=\"problems\" role=\"alert\" aria-labelledby=\"h-problems\"><h2 id=\"h-problems\">Scan problems</h2>\n<p>What is below was not read or not judged: findings there may be missing, and none of them is counted as fixed.</p>\n");
    if !unread_accounts.is_empty() {
        let _ = writeln!(
            out,
            "<p><strong>Accounts not read:</strong> {}</p>",
            esc(&unread_accounts
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", "))
        );
    }
    if !scan.collection_errors.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Collection errors ({})</h3>\n<table><caption class=\"visually-hidden\">Calls that failed</caption><thead><tr><th scope=\"col\">Account</th><th scope=\"col\">Region</th><th scope=\"col\">Call</th><th scope=\"col\">Error</th><th scope=\"col\">Resource</th><th scope=\"col\">Message</th></tr></thead><tbody>",
            scan.collection_errors.len()
        );
        for e in &scan.collection_errors {
            let error = serde_json::to_value(e.error)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}:{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.account_id),
                esc(&e.region),
                esc(&e.service),
                esc(&e.operation),
                esc(&error),
                e.error_code
                    .as_deref()
                    .map(|c| format!(" ({})", esc(c)))
                    .unwrap_or_default(),
                esc(e.resource.as_deref().unwrap_or("")),
                esc(&e.message)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if !report.evaluation_errors.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Checks that could not run ({})</h3>\n<ul>",
            report.evaluation_errors.len()
        );
        for e in &report.evaluation_errors {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(&e.check_id),
                esc(&e.message)
            );
        }
        out.push_str("</ul>\n");
    }
    if report.summary.error > 0 {
        const LISTED: usize = 100;
        let errors: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.status == Status::Error)
            .collect();
        let _ = writeln!(
            out,
            "<h3>Results the checks could not judge: {} ERROR</h3>",
            report.summary.error
        );
        if !errors.is_empty() {
            out.push_str("<ul>\n");
            for f in errors.iter().take(LISTED) {
                let _ = writeln!(
                    out,
                    "<li><a href=\"#f-{}\"><code>{}</code></a> on <span class=\"arn\">{}</span>: {}</li>",
                    esc(&f.id),
                    esc(&f.check_id),
                    esc(&f.resource_arn),
                    esc(&f.message)
                );
            }
            out.push_str("</ul>\n");
        }
        if errors.len() > LISTED {
            let _ = writeln!(
                out,
                "<p>And {} more: filter the findings by status ERROR.</p>",
                errors.len() - LISTED
            );
        } else if errors.len() < report.summary.error {
            out.push_str(
                "<p>This report does not list them (its findings are filtered by status).</p>\n",
            );
        }
    }
    if !scan.cloudtrail_unread.is_empty() {
        out.push_str("<h3>CloudTrail not read (page budget)</h3>\n<ul>\n");
        for u in &scan.cloudtrail_unread {
            let _ = writeln!(
                out,
                "<li>{} {}: {} to {}</li>",
                esc(&u.account_id),
                esc(&u.region),
                time(u.span.from),
                time(u.span.until)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn summary(out: &mut String, report: &Report) {
    let s = &report.summary;
    out.push_str("<section id=\"sec-summary\" aria-labelledby=\"h-summary\"><h2 id=\"h-summary\">Summary</h2>\n<div class=\"cards\">\n");
    for (status, n) in [
        (Status::Fail, s.fail),
        (Status::Error, s.error),
        (Status::Muted, s.muted),
        (Status::Pass, s.pass),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"card\" data-count=\"{}\"><span class=\"st st-{}\">{}</span><b>{n}</b></div>",
            status.as_str(),
            status.as_str(),
            status.as_str()
        );
    }
    for sev in Severity::ALL {
        let n = s.fail_by_severity.get(&sev).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "<div class=\"card\" data-fail-severity=\"{}\"><span class=\"sev sev-{}\">{}</span><b>{n}</b> FAIL</div>",
            sev.as_str(),
            sev.as_str(),
            sev.as_str()
        );
    }
    out.push_str("</div>\n");
    if let Some(filter) = &report.findings_filter {
        let _ = writeln!(
            out,
            "<p class=\"meta\">This report lists only {} findings; {} others are counted above but not listed.</p>",
            filter
                .statuses
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            filter.omitted
        );
    }
    let mut by_check: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_scope: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.status == Status::Fail) {
        *by_check.entry(&f.check_id).or_default() += 1;
        *by_scope.entry((&f.account_id, &f.region)).or_default() += 1;
    }
    if !by_check.is_empty() {
        out.push_str("<div class=\"charts\">\n");
        let checks: Vec<(String, usize)> = by_check
            .into_iter()
            .map(|(c, n)| (c.to_string(), n))
            .collect();
        bar_chart(out, "chart-checks", "FAIL findings by check", checks);
        let scopes: Vec<(String, usize)> = by_scope
            .into_iter()
            .map(|((a, r), n)| (format!("{a} {r}"), n))
            .collect();
        bar_chart(
            out,
            "chart-scopes",
            "FAIL findings by account and region",
            scopes,
        );
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

/// A horizontal bar chart, largest first, at most 40 bars (the rest summed in one).
fn bar_chart(out: &mut String, id: &str, caption: &str, mut items: Vec<(String, usize)>) {
    // The catalogue's 30 checks fit; an organisation's hundreds of account-regions do not.
    const MAX: usize = 40;
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if items.len() > MAX {
        let rest: usize = items[MAX - 1..].iter().map(|i| i.1).sum();
        let others = items.len() - (MAX - 1);
        items.truncate(MAX - 1);
        items.push((format!("{others} others"), rest));
    }
    let top = items.iter().map(|i| i.1).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (260.0, 300.0, 18.0);
    let height = items.len() as f64 * row_h + 4.0;
    let _ = writeln!(
        out,
        "<figure id=\"{id}\"><figcaption id=\"{id}-t\">{}</figcaption>\n<svg role=\"img\" aria-labelledby=\"{id}-t\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(caption),
        label_w + bar_w + 60.0,
        label_w + bar_w + 60.0
    );
    for (i, (label, n)) in items.iter().enumerate() {
        let y = i as f64 * row_h + 2.0;
        let w = (*n as f64 / top as f64 * bar_w).max(1.0);
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect class=\"bar\" x=\"{label_w}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\"><title>{}: {n}</title></rect><text x=\"{:.1}\" y=\"{}\">{n}</text>",
            label_w - 6.0,
            y + 12.0,
            esc(&label.chars().take(40).collect::<String>()),
            y + 2.0,
            row_h - 5.0,
            esc(label),
            label_w + w + 4.0,
            y + 12.0
        );
    }
    out.push_str("</svg></figure>\n");
}

/// The daemon's history: open FAILs per scan by severity, and what the last scans opened and
/// closed.
fn history(out: &mut String, report: &Report, timeline: &Timeline) {
    out.push_str("<section id=\"sec-history\" aria-labelledby=\"h-history\"><h2 id=\"h-history\">History</h2>\n");
    let points: Vec<_> = timeline.scans.iter().collect();
    if points.is_empty() {
        out.push_str("<p class=\"none\">No scan recorded yet.</p>\n");
    } else {
        let top = points.iter().map(|p| p.fail).max().unwrap_or(0).max(1);
        let (w, h, gap) = (14.0, 160.0, 3.0);
        let width = points.len() as f64 * (w + gap) + 50.0;
        let _ = writeln!(
            out,
            "<figure id=\"chart-history\"><figcaption id=\"chart-history-t\">Open FAIL findings at each of the last {} scans, by severity (oldest left)</figcaption>\n<svg role=\"img\" aria-labelledby=\"chart-history-t\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\" xmlns=\"http://www.w3.org/2000/svg\">\n<line class=\"axis\" x1=\"40\" y1=\"{h}\" x2=\"{width}\" y2=\"{h}\"/><text x=\"34\" y=\"12\" text-anchor=\"end\">{top}</text><text x=\"34\" y=\"{h}\" text-anchor=\"end\">0</text>",
            points.len(),
            h + 6.0,
            h + 6.0
        );
        for (i, p) in points.iter().enumerate() {
            let x = 44.0 + i as f64 * (w + gap);
            let mut y = h;
            let parts: Vec<(String, usize)> = match &p.fail_by_severity {
                Some(by) => Severity::ALL
                    .iter()
                    .rev()
                    .map(|s| (s.as_str().to_string(), by.get(s).copied().unwrap_or(0)))
                    .collect(),
                None => vec![("unknown".to_string(), p.fail)],
            };
            let tip = format!(
                "{}: {} FAIL{} ({}, {} new, {} resolved)",
                time(p.finished_at),
                p.fail,
                match &p.fail_by_severity {
                    Some(by) => format!(
                        " — {}",
                        Severity::ALL
                            .iter()
                            .map(|s| format!("{} {}", s.as_str(), by.get(s).copied().unwrap_or(0)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => String::new(),
                },
                p.outcome,
                p.new_findings,
                p.resolved_findings
            );
            let _ = write!(out, "<g><title>{}</title>", esc(&tip));
            for (class, n) in parts {
                if n == 0 {
                    continue;
                }
                let bh = n as f64 / top as f64 * (h - 10.0);
                y -= bh;
                let _ = write!(
                    out,
                    "<rect class=\"sev-{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w}\" height=\"{bh:.1}\"/>"
                );
            }
            if p.fail == 0 {
                let _ = write!(
                    out,
                    "<rect class=\"sev-info\" x=\"{x:.1}\" y=\"{}\" width=\"{w}\" height=\"1\"/>",
                    h - 1.0
                );
            }
            out.push_str("</g>\n");
        }
        out.push_str("</svg></figure>\n<p class=\"legend\" aria-hidden=\"true\">");
        for s in Severity::ALL {
            let _ = write!(out, "<span class=\"sev sev-{0}\">{0}</span>", s.as_str());
        }
        out.push_str("</p>\n");
    }
    let latest = &report.scan.finished_at;
    let list = |out: &mut String,
                heading: &str,
                id: &str,
                rows: &[crate::report::history::FindingChange]| {
        let _ = writeln!(out, "<h3 id=\"{id}\">{heading} ({})</h3>", rows.len());
        if rows.is_empty() {
            out.push_str("<p class=\"none\">None.</p>\n");
            return;
        }
        let _ = writeln!(
            out,
            "<table aria-labelledby=\"{id}\"><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Severity</th><th scope=\"col\">Check</th><th scope=\"col\">Resource</th><th scope=\"col\">Account</th><th scope=\"col\">Region</th></tr></thead><tbody>"
        );
        for r in rows {
            let _ = writeln!(
                out,
                "<tr><td>{}{}</td><td><span class=\"sev sev-{}\">{}</span></td><td><code>{}</code></td><td class=\"arn\">{}</td><td>{}</td><td>{}</td></tr>",
                time(r.at),
                r.resolution
                    .as_deref()
                    .filter(|r| *r != "resolved")
                    .map(|r| format!(" ({})", esc(r)))
                    .unwrap_or_default(),
                r.severity.as_str(),
                r.severity.as_str(),
                esc(&r.check_id),
                esc(&r.resource_arn),
                esc(&r.account_id),
                esc(&r.region)
            );
        }
        out.push_str("</tbody></table>\n");
    };
    let _ = writeln!(
        out,
        "<p class=\"meta\">Findings opened and closed by the last {} scans (the latest finished {}).</p>",
        timeline.scans.len(),
        time(*latest)
    );
    list(out, "New findings", "h-new", &timeline.opened);
    list(out, "Resolved findings", "h-resolved", &timeline.closed);
    out.push_str("</section>\n");
}

/// Distinct values of a field, sorted.
fn distinct<'a>(report: &'a Report, field: impl Fn(&'a Finding) -> &'a str) -> Vec<&'a str> {
    let set: BTreeSet<&str> = report.findings.iter().map(field).collect();
    set.into_iter().filter(|s| !s.is_empty()).collect()
}

fn select(out: &mut String, name: &str, label: &str, values: &[&str]) {
    let _ = write!(
        out,
        "<label>{label}<select name=\"{name}\" id=\"filter-{name}\"><option value=\"\">all</option>"
    );
    for v in values {
        let v = esc(v);
        let _ = write!(out, "<option value=\"{v}\">{v}</option>");
    }
    out.push_str("</select></label>\n");
}

fn findings(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "<section id=\"sec-findings\" aria-labelledby=\"h-findings\"><h2 id=\"h-findings\">Findings ({})</h2>",
        report.findings.len()
    );
    // Shown by the script: without it every row is visible and the form would do nothing.
    out.push_str("<form id=\"filters\" class=\"filters noprint\" hidden role=\"search\" aria-label=\"Filter findings\">\n");
    let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    select(out, "severity", "Severity", &severities);
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    select(out, "status", "Status", &statuses);
    select(out, "check", "Check", &distinct(report, |f| &f.check_id));
    select(
        out,
        "account",
        "Account",
        &distinct(report, |f| &f.account_id),
    );
    select(out, "region", "Region", &distinct(report, |f| &f.region));
    select(
        out,
        "domain",
        "Domain",
        &distinct(report, |f| f.domain_id.as_deref().unwrap_or("")),
    );
    out.push_str("<label>Text<input type=\"search\" name=\"q\" id=\"filter-q\" placeholder=\"resource, message, evidence…\"></label>\n<button type=\"reset\">Clear</button>\n<output id=\"shown\" for=\"filter-q\" aria-live=\"polite\"></output>\n</form>\n");
    out.push_str("<nav id=\"pager\" class=\"noprint\" aria-label=\"Pages of findings\" hidden><button type=\"button\" data-page=\"prev\">Previous</button> <span></span> <button type=\"button\" data-page=\"next\">Next</button></nav>\n");
    if report.findings.is_empty() {
        out.push_str("<p class=\"none\">No findings listed.</p>\n");
    }
    out.push_str("<table id=\"findings\"><colgroup><col class=\"w-sev\"><col class=\"w-st\"><col class=\"w-check\"><col><col class=\"w-acct\"><col class=\"w-region\"><col class=\"w-domain\"><col class=\"w-finding\"></colgroup><caption class=\"visually-hidden\">Findings; each row's last cell expands to evidence, remediation, controls and attribution</caption>\n<thead><tr>");
    for (column, label) in [
        "Severity", "Status", "Check", "Resource", "Account", "Region", "Domain",
    ]
    .into_iter()
    .enumerate()
    {
        let _ = write!(
            out,
            "<th scope=\"col\"><button type=\"button\" data-column=\"{column}\">{label}</button></th>"
        );
    }
    out.push_str("<th scope=\"col\">Finding</th></tr></thead>\n<tbody>\n");
    for f in &report.findings {
        finding_row(out, f);
    }
    out.push_str("</tbody></table>\n</section>\n");
}

/// One row: the columns the filters read (by position, see the script), and the finding's
/// own facts behind its summary. The check's remediation and controls, shared by all its
/// findings, are written once in the checks section; the script copies them into a row when
/// it opens, and the row links to them (without script).
fn finding_row(out: &mut String, f: &Finding) {
    let domain = f.domain_id.as_deref().unwrap_or("");
    let check = esc(&f.check_id);
    let _ = write!(
        out,
        "<tr id=\"f-{}\"><td class=\"s-{}\">{}</td><td class=\"t-{}\">{}</td><td>{check}</td><td class=\"arn\">{}<br>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td><details data-check=\"{check}\"><summary>{}</summary><p class=\"meta\">First seen {}, last seen {}, finding <code>{}</code></p>",
        esc(&f.id),
        f.severity.as_str(),
        f.severity.as_str(),
        f.status.as_str(),
        f.status.as_str(),
        esc(&f.resource_type),
        esc(&f.resource_arn),
        esc(&f.account_id),
        esc(&f.region),
        esc(domain),
        if f.message.is_empty() {
            esc(&f.title)
        } else {
            esc(&f.message)
        },
        time(f.first_seen),
        time(f.last_seen),
        esc(&f.id)
    );
    if let Some(w) = &f.waiver {
        let _ = write!(
            out,
            "<p><b>Waived</b> until {}: {} (waiver resource <code>{}</code>)</p>",
            w.expires,
            esc(&w.reason),
            esc(&w.resource)
        );
    }
    if let Some(a) = &f.attribution {
        let field = |k: &str| a.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let _ = write!(
            out,
            "<h4>Last change (CloudTrail)</h4><dl class=\"attribution\"><dt>Call</dt><dd><code>{}</code></dd><dt>When</dt><dd>{}</dd><dt>Actor</dt><dd class=\"arn\">{}</dd><dt>User</dt><dd>{}</dd><dt>Source</dt><dd>{} {}</dd></dl>",
            esc(field("event_name")),
            esc(field("event_time")),
            esc(field("actor_arn")),
            esc(field("user")),
            esc(field("source_ip")),
            esc(field("user_agent")),
        );
    }
    let evidence = serde_json::to_string_pretty(&f.evidence.value()).unwrap_or_default();
    if evidence != "{}" {
        let _ = write!(out, "<h4>Evidence</h4><pre>{}</pre>", esc(&evidence));
    }
    let _ = writeln!(
        out,
        "<p class=\"fixlink\"><a href=\"#c-{check}\">Remediation and compliance controls</a></p></details></td></tr>"
    );
}

/// Each check that has findings in the report: title, severity, remediation and controls,
/// once (the rows link here).
fn checks(out: &mut String, report: &Report) {
    let mut seen: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &report.findings {
        seen.entry(&f.check_id).or_insert(f);
    }
    out.push_str(
        "<section id=\"sec-checks\" aria-labelledby=\"h-checks\"><h2 id=\"h-checks\">Checks</h2>\n",
    );
    if seen.is_empty() {
        out.push_str("<p class=\"none\">No findings, so no checks to explain.</p>\n");
    }
    for (id, f) in seen {
        let _ = write!(
            out,
            "<section class=\"check\" id=\"c-{}\"><h3>{} <code>{}</code></h3><div class=\"fix\"><h4>Remediation</h4><p>{}</p>",
            esc(id),
            esc(&f.title),
            esc(id),
            if f.remediation.is_empty() {
                "<span class=\"none\">none given</span>".into()
            } else {
                esc(&f.remediation)
            }
        );
        if !f.compliance.is_empty() {
            out.push_str("<h4>Compliance controls</h4><ul>");
            for c in f.compliance.iter() {
                let _ = write!(
                    out,
                    "<li>{} {}: {} ({})</li>",
                    esc(&c.framework),
                    esc(&c.control),
                    esc(&c.title),
                    esc(&c.relation)
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</div></section>\n");
    }
    out.push_str("</section>\n");
}

/// Each domain with its profiles, spaces, apps and roles, and the findings on each (links to
/// their rows); then the findings of resources in no domain view (EFS, groups, IAM).
fn domains(out: &mut String, report: &Report, graph: Option<&Graph>) {
    out.push_str("<section id=\"sec-domains\" aria-labelledby=\"h-domains\"><h2 id=\"h-domains\">Domains</h2>\n");
    let mut by_arn: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &report.findings {
        by_arn.entry(f.resource_arn.as_str()).or_default().push(f);
    }
    let mut by_domain: HashMap<(&str, &str, &str), Vec<&Finding>> = HashMap::new();
    for f in &report.findings {
        if let Some(id) = f.domain_id.as_deref() {
            by_domain
                .entry((&f.account_id, &f.region, id))
                .or_default()
                .push(f);
        }
    }
    let mut shown: HashSet<&str> = HashSet::new();
    let built;
    let graph = match graph {
        Some(g) => g,
        None => {
            built = graph_of_findings(report);
            &built
        }
    };
    if graph.domains.is_empty() {
        out.push_str("<p class=\"none\">No SageMaker domain in this scan.</p>\n");
    }
    for d in &graph.domains {
        let key = esc(&format!("{}-{}-{}", d.account_id, d.region, d.domain_id)).into_owned();
        let _ = writeln!(
            out,
            "<section class=\"domain\" id=\"d-{key}\" aria-labelledby=\"dh-{key}\"><h3 id=\"dh-{key}\">{} <code>{}</code></h3>\n<dl class=\"facts\"><dt>Account, region</dt><dd>{} {}</dd><dt>Status</dt><dd>{}</dd><dt>Network</dt><dd>{}{}</dd><dt>Auth</dt><dd>{}</dd></dl>",
            esc(&d.name),
            esc(&d.domain_id),
            esc(&d.account_id),
            esc(&d.region),
            esc(&d.status),
            esc(d.network.as_deref().unwrap_or("unknown")),
            d.vpc_id
                .as_deref()
                .map(|v| format!(", VPC <code>{}</code>", esc(v)))
                .unwrap_or_default(),
            esc(d.auth_mode.as_deref().unwrap_or("unknown")),
        );
        shown.insert(&d.arn);
        out.push_str("<h4>On the domain</h4>");
        finding_links(out, by_arn.get(d.arn.as_str()));
        // Findings of this domain on resources outside the graph (EFS, security groups,
        // the VPC's routes and endpoints).
        let nodes: HashSet<&str> = d.resources.iter().map(|n| n.arn.as_str()).collect();
        let mut other: Vec<&Finding> = by_domain
            .get(&(
                d.account_id.as_str(),
                d.region.as_str(),
                d.domain_id.as_str(),
            ))
            .into_iter()
            .flatten()
            .copied()
            .filter(|f| f.resource_arn != d.arn && !nodes.contains(f.resource_arn.as_str()))
            .collect();
        other.sort_by(|a, b| a.resource_arn.cmp(&b.resource_arn));
        if !other.is_empty() {
            out.push_str("<h4>On its storage and network</h4>");
            finding_links(out, Some(&other));
            for f in &other {
                shown.insert(&f.resource_arn);
            }
        }
        if d.resources.is_empty() {
            out.push_str("<p class=\"none\">No profiles, spaces, apps or roles.</p>\n");
        } else {
            let _ = writeln!(
                out,
                "<table><caption class=\"visually-hidden\">Resources of domain {}</caption><thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Name</th><th scope=\"col\">Status</th><th scope=\"col\">Details</th><th scope=\"col\">Findings</th></tr></thead><tbody>",
                esc(&d.domain_id)
            );
            for n in &d.resources {
                shown.insert(&n.arn);
                let _ = write!(
                    out,
                    "<tr data-kind=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>",
                    n.kind.label(),
                    n.kind.label(),
                    esc(&n.name),
                    esc(&n.status),
                    esc(&n.detail)
                );
                finding_links(out, by_arn.get(n.arn.as_str()));
                out.push_str("</td></tr>\n");
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("</section>\n");
    }
    let mut rest: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !shown.contains(f.resource_arn.as_str()))
        .collect();
    rest.sort_by(|a, b| {
        (&a.resource_type, &a.resource_arn).cmp(&(&b.resource_type, &b.resource_arn))
    });
    if !rest.is_empty() {
        out.push_str("<h3>Outside the domains above</h3>\n<p class=\"meta\">Execution roles of no domain found, orphaned EFS file systems and NFS groups, notebook instances, accounts.</p>\n");
        finding_links(out, Some(&rest));
    }
    out.push_str("</section>\n");
}

/// A domain view built from the findings alone (a report without its snapshot).
fn graph_of_findings(report: &Report) -> Graph {
    use crate::report::graph::{DomainNode, Node};
    let mut domains: BTreeMap<(&str, &str, &str), DomainNode> = BTreeMap::new();
    // Each resource once, whatever the number of its findings.
    let mut seen: HashSet<&str> = HashSet::new();
    for f in &report.findings {
        let Some(id) = f.domain_id.as_deref() else {
            continue;
        };
        let d = domains
            .entry((&f.account_id, &f.region, id))
            .or_insert_with(|| DomainNode {
                account_id: f.account_id.to_string(),
                region: f.region.to_string(),
                domain_id: id.to_string(),
                name: id.to_string(),
                status: "unknown".into(),
                ..Default::default()
            });
        let kind = match f.resource_type.as_str() {
            "domain" => {
                d.arn = f.resource_arn.to_string();
                continue;
            }
            "user_profile" => NodeKind::UserProfile,
            "space" => NodeKind::Space,
            "app" => NodeKind::App,
            _ => continue,
        };
        if seen.insert(&f.resource_arn) {
            d.resources.push(Node {
                kind,
                arn: f.resource_arn.to_string(),
                name: f
                    .resource_arn
                    .rsplit(['/'])
                    .next()
                    .unwrap_or("")
                    .to_string(),
                status: "unknown".into(),
                detail: String::new(),
            });
        }
    }
    Graph {
        domains: domains.into_values().collect(),
    }
}

/// Links to the rows of the findings that are not PASS, and how many PASS.
fn finding_links(out: &mut String, findings: Option<&Vec<&Finding>>) {
    let Some(findings) = findings else {
        out.push_str("<span class=\"none\">no findings</span>\n");
        return;
    };
    let pass = findings.iter().filter(|f| f.status == Status::Pass).count();
    let mut open: Vec<&&Finding> = findings
        .iter()
        .filter(|f| f.status != Status::Pass)
        .collect();
    open.sort_by(|a, b| {
        (a.status, std::cmp::Reverse(a.severity)).cmp(&(b.status, std::cmp::Reverse(b.severity)))
    });
    if !open.is_empty() {
        out.push_str("<ul>");
        for f in open {
            let _ = write!(
                out,
                "<li><span class=\"st st-{}\">{}</span> <span class=\"sev sev-{}\">{}</span> <a href=\"#f-{}\"><code>{}</code></a>",
                f.status.as_str(),
                f.status.as_str(),
                f.severity.as_str(),
                f.severity.as_str(),
                esc(&f.id),
                esc(&f.check_id)
            );
            if f.resource_type != "domain"
                && findings.iter().any(|o| o.resource_arn != f.resource_arn)
            {
                let _ = write!(out, " <span class=\"arn\">{}</span>", esc(&f.resource_arn));
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    if pass > 0 {
        let _ = write!(out, "<span class=\"meta\">{pass} PASS</span>");
    }
    out.push('\n');
}

fn changes(out: &mut String, report: &Report) {
    out.push_str("<section id=\"sec-changes\" aria-labelledby=\"h-changes\"><h2 id=\"h-changes\">Changes (CloudTrail)</h2>\n");
    match &report.changes {
        None => out.push_str("<p class=\"none\">CloudTrail was not consulted.</p>\n"),
        Some(c) if c.is_empty() => {
            out.push_str("<p class=\"none\">No SageMaker control-plane change in the window.</p>\n")
        }
        Some(changes) => {
            out.push_str("<table><caption class=\"visually-hidden\">Control-plane calls, oldest first</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Call</th><th scope=\"col\">Actor</th><th scope=\"col\">Account, region</th><th scope=\"col\">Domain</th><th scope=\"col\">Resources</th><th scope=\"col\">Error</th></tr></thead><tbody>\n");
            for e in changes {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td><code>{}</code></td><td class=\"arn\">{}</td><td>{} {}</td><td>{}</td><td class=\"arn\">{}</td><td>{}</td></tr>",
                    time(e.event_time),
                    esc(&e.event_name),
                    esc(e.actor_arn.as_deref().unwrap_or("")),
                    esc(&e.account_id),
                    esc(&e.region),
                    esc(e.domain_id.as_deref().unwrap_or("")),
                    esc(&e.resources.join(" ")),
                    esc(e.error_code.as_deref().unwrap_or(""))
                );
            }
            out.push_str("</tbody></table>\n");
        }
    }
    out.push_str("</section>\n");
}

fn waivers(out: &mut String, report: &Report) {
    out.push_str("<section id=\"sec-waivers\" aria-labelledby=\"h-waivers\"><h2 id=\"h-waivers\">Waivers</h2>\n");
    if report.waivers.is_empty() {
        out.push_str("<p class=\"none\">No waivers configured.</p>\n</section>\n");
        return;
    }
    out.push_str("<table><thead><tr><th scope=\"col\">Check</th><th scope=\"col\">Resource</th><th scope=\"col\">Reason</th><th scope=\"col\">Expires</th><th scope=\"col\">State</th><th scope=\"col\">Muted</th><th scope=\"col\">Config line</th></tr></thead><tbody>\n");
    for w in &report.waivers {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"arn\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&w.check_id),
            esc(&w.resource),
            esc(&w.reason),
            w.expires,
            esc(&w.state),
            w.muted,
            w.line
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_fixtures::{finding, report};

    const HOSTILE: &str = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>";

    fn hostile_report() -> Report {
        let arn = format!("arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/{HOSTILE}");
        let mut f = finding("user_profile_bad", "user_profile", &arn, Status::Fail);
        f.domain_id = Some("d-1".into());
        f.message = format!("profile {HOSTILE} is bad").into();
        f.evidence = crate::vocab::Evidence::of(&serde_json::json!({"name": HOSTILE})).unwrap();
        f.attribution = Some(Box::new(
            serde_json::json!({"event_name": "UpdateUserProfile", "user_agent": HOSTILE, "user": HOSTILE}),
        ));
        let mut r = report("2026-11-28T12:00:00Z".parse().unwrap(), vec![f]);
        r.summary.fail = 1;
        r.evaluation_errors
            .push(crate::report::findings::EvaluationErrorEntry {
                check_id: "broken".into(),
                message: HOSTILE.into(),
            });
        r
    }

    #[test]
    fn every_string_from_aws_is_escaped() {
        let html = render(&hostile_report(), Page::default());
        // The only script element is ours.
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        // Every tag is one the renderer writes: none came from the data.
        let allowed = [
            "!DOCTYPE",
            "colgroup",
            "col",
            "!--",
            "html",
            "head",
            "meta",
            "title",
            "style",
            "body",
            "header",
            "footer",
            "h1",
            "h2",
            "h3",
            "h4",
            "p",
            "code",
            "pre",
            "dl",
            "dt",
            "dd",
            "nav",
            "a",
            "section",
            "table",
            "caption",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "ul",
            "li",
            "strong",
            "div",
            "span",
            "b",
            "br",
            "figure",
            "figcaption",
            "svg",
            "text",
            "rect",
            "g",
            "line",
            "form",
            "label",
            "select",
            "option",
            "input",
            "button",
            "output",
            "details",
            "summary",
            "script",
        ];
        // Our own script and style, whose text is constant, aside.
        let html = html
            .replace(SCRIPT, "")
            .replace(STYLE, "")
            .replace(EARLY_SCRIPT, "");
        for (i, _) in html.match_indices('<') {
            let name: String = html[i + 1..]
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!' || *c == '-')
                .collect();
            assert!(allowed.contains(&name.as_str()), "a tag <{name}> at {i}");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
        // Attribute values cannot be closed from inside.
        for line in html.lines().filter(|l| l.contains("<tr id=\"f-")) {
            assert!(!line.contains("\"'&<"), "{line}");
        }
    }

    #[test]
    fn the_page_loads_nothing_from_anywhere() {
        let mut plain = hostile_report();
        for f in &mut plain.findings {
            f.resource_arn = "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-1/p".into();
            f.message = "bad".into();
            f.evidence = crate::vocab::Evidence::empty();
            f.attribution = None;
        }
        plain.evaluation_errors.clear();
        let html = render(&plain, Page::default());
        for needle in [
            "src=", "http://", "https://", "@import", "url(", "<link", "<iframe",
        ] {
            let hits: Vec<&str> = html
                .lines()
                .filter(|l| l.contains(needle))
                // The SVG namespace is a name, not a request.
                .filter(|l| {
                    !(needle == "http://" && l.contains("xmlns=\"http://www.w3.org/2000/svg\""))
                })
                .collect();
            assert!(hits.is_empty(), "{needle}: {hits:?}");
        }
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert!(html.contains(&*esc(csp)));
        // The hashes are of the exact inline texts.
        assert!(html.contains(&format!("<style>{STYLE}</style>")));
        assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
        assert!(html.contains(&format!("<script>{EARLY_SCRIPT}</script>")));
        assert!(
            !html.contains(" style=\""),
            "inline style attributes are blocked by the CSP"
        );
    }

    #[test]
    fn problems_are_shown_and_the_domain_view_links_its_findings() {
        let mut r = hostile_report();
        r.scan
            .collection_errors
            .push(crate::snapshot::CollectionError {
                account_id: "123456789012".into(),
                region: "us-east-1".into(),
                service: "sagemaker".into(),
                operation: "ListApps".into(),
                error: crate::snapshot::ErrorKind::AccessDenied,
                error_code: Some("AccessDeniedException".into()),
                message: "not authorized".into(),
                resource: Some("d-1".into()),
            });
        let html = render(&r, Page::default());
        assert!(html.contains("class=\"problems\" role=\"alert\""));
        assert!(html.contains("Collection errors (1)"));
        assert!(html.contains("sagemaker:ListApps"));
        assert!(html.contains("Checks that could not run (1)"));
        let id = &r.findings[0].id;
        assert!(html.contains(&format!("<tr id=\"f-{id}\"")));
        assert!(
            html.contains(&format!("<a href=\"#f-{id}\">")),
            "domain view links the row"
        );
        assert!(html.contains("id=\"d-123456789012-us-east-1-d-1\""));
    }

    #[test]
    fn error_results_alone_are_a_scan_problem() {
        let arn = "arn:aws:sagemaker:us-east-1:123456789012:app/d-1/*";
        let mut f = finding("app_failed", "app", arn, Status::Error);
        f.message = "ListApps was denied".into();
        let mut r = report("2026-11-28T12:00:00Z".parse().unwrap(), vec![f.clone()]);
        r.summary.error = 1;
        let html = render(&r, Page::default());
        assert!(html.contains("class=\"problems\" role=\"alert\""), "{html}");
        assert!(html.contains("could not judge: 1 ERROR"));
        assert!(html.contains(&format!(
            "<a href=\"#f-{}\"><code>app_failed</code></a>",
            f.id
        )));
        // Filtered out of the report, still counted and said.
        r.findings.clear();
        let html = render(&r, Page::default());
        assert!(html.contains("could not judge: 1 ERROR"));
        assert!(html.contains("does not list them"));
        r.summary.error = 0;
        let html = render(&r, Page::default());
        assert!(html.contains("class=\"ok\""));
    }

    #[test]
    fn the_daemon_page_has_a_base_slot_and_endpoint_links() {
        let html = render(
            &hostile_report(),
            Page {
                daemon: true,
                ..Default::default()
            },
        );
        assert_eq!(html.matches(BASE_SLOT).count(), 1);
        assert!(html.find(BASE_SLOT) < html.find("<title>"));
        assert!(html.contains("<a href=\"api/findings\">"));
        let file = render(&hostile_report(), Page::default());
        assert!(!file.contains(BASE_SLOT));
        assert!(!file.contains("api/findings"));
    }
}
