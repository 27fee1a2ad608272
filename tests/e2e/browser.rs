//! The HTML report and the daemon's page in a real browser: Debian's Chromium, headless,
//! driven over the Chrome DevTools Protocol through a pipe (`--remote-debugging-pipe`: the
//! browser reads commands on fd 3 and writes answers and events on fd 4, each message JSON
//! ended by a NUL byte; https://chromedevtools.github.io/devtools-protocol/). No client
//! library: the protocol over a pipe is a few JSON messages.
//!
//! Screenshots go to `target/browser/` (CARGO_TARGET_DIR's) for review. Load times are
//! printed as benchmark figures, never asserted.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util;

const HOSTILE: &str = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>carol";

/// Where screenshots go: `target/browser/`.
fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("browser");
    std::fs::create_dir_all(&dir).expect("target/browser");
    dir
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`chromium` is not installed: apt-get install chromium (.ci/run does this)")
        })
}

struct Chrome {
    child: Child,
    to: std::io::PipeWriter,
    from: mpsc::Receiver<Value>,
    next: u64,
    /// Events received while waiting for answers, in order.
    events: Vec<Value>,
    _profile: PathBuf,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Chrome {
    fn launch(name: &str) -> Self {
        let profile = util::temp_dir(&format!("chromium-{name}"));
        let (commands_read, commands_write) = std::io::pipe().expect("a pipe");
        let (answers_read, answers_write) = std::io::pipe().expect("a pipe");
        // The shell moves the pipes to fds 3 and 4 before it becomes the browser (no unsafe
        // pre_exec needed): commands come in as its stdin, answers leave as its stdout.
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 3<&0 4>&1 </dev/null >/dev/null")
            .arg(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                &format!("--user-data-dir={}", profile.display()),
                "about:blank",
            ])
            .stdin(Stdio::from(commands_read))
            .stdout(Stdio::from(answers_write))
            .stderr(Stdio::null());
        let child = command.spawn().expect("start chromium");
        // The parent's copies of the child's ends went with `command`.
        drop(command);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(answers_read);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                message.pop_if(|b| *b == 0);
                let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                    continue;
                };
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            to: commands_write,
            from: rx,
            next: 0,
            events: Vec::new(),
            _profile: profile,
        }
    }

    /// One command; its result (panics on a protocol error or after 60 s).
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let value = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("{method}: no answer from chromium: {e}"));
            if value["id"] == json!(id) {
                if let Some(error) = value.get("error") {
                    panic!("{method}: {error}");
                }
                return value["result"].clone();
            }
            self.events.push(value);
        }
    }

    /// Takes the events that arrived so far (and any waiting).
    fn drain_events(&mut self) -> Vec<Value> {
        while let Ok(v) = self.from.try_recv() {
            if v.get("id").is_none() {
                self.events.push(v);
            }
        }
        std::mem::take(&mut self.events)
    }

    /// A new tab, attached, with the Page, Runtime, Network and Log domains on.
    fn tab(&mut self) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Network.enable",
            "Log.enable",
        ] {
            self.call(Some(&session), domain, json!({}));
        }
        session
    }

    fn eval(&mut self, session: &str, expression: &str) -> Value {
        let out = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = out.get("exceptionDetails") {
            panic!("{expression}: {e}");
        }
        out["result"]["value"].clone()
    }

    /// Navigates and waits until the page's script ran (`data-ready` on the root: the time
    /// since navigation start, in ms, when the table became filterable).
    fn open(&mut self, session: &str, url: &str) -> f64 {
        let started = self.call(Some(session), "Page.navigate", json!({"url": url}));
        assert!(started.get("errorText").is_none(), "{url}: {started}");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let ready = self.eval(
                session,
                "document.readyState === 'complete' ? document.documentElement.getAttribute('data-ready') : null",
            );
            if let Some(ms) = ready.as_str().and_then(|s| s.parse::<f64>().ok()) {
                return ms;
            }
            assert!(Instant::now() < deadline, "{url} never became ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&mut self, session: &str, name: &str) -> PathBuf {
        let shot = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({"format": "png"}),
        );
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let path = shots().join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// Visible rows of the findings table.
const VISIBLE: &str = "Array.from(document.querySelectorAll('#findings tbody tr')).filter(r => !r.hidden && r.offsetParent !== null).length";

/// The page shows at most this many rows at once (the script's PAGE).
const PAGE: u64 = 500;

/// Sets a filter; the number of findings it matches, checked against the rows shown (the
/// first page of them).
fn set_filter(chrome: &mut Chrome, session: &str, name: &str, value: &str) -> u64 {
    let value = serde_json::to_string(value).unwrap();
    let counts = chrome.eval(
        session,
        &format!(
            "(() => {{ const e = document.getElementById('filter-{name}'); e.value = {value}; e.dispatchEvent(new Event('input', {{bubbles: true}})); return [Number(document.getElementById('shown').dataset.matched), {VISIBLE}]; }})()"
        ),
    );
    let (matched, visible) = (counts[0].as_u64().unwrap(), counts[1].as_u64().unwrap());
    assert_eq!(visible, matched.min(PAGE), "rows shown for {name}={value}");
    matched
}

/// The example snapshot with profile `carol` renamed to a string that would run script if
/// it were not escaped (a name no real profile may have, but tags and display names are
/// free text; the renderer escapes everything the same way).
fn hostile_snapshot(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(util::repo_root().join("examples/snapshot.json")).unwrap();
    assert!(text.contains("carol"));
    let path = dir.join("hostile.json");
    std::fs::write(&path, text.replace("carol", HOSTILE)).unwrap();
    path
}

/// Whether a finding of the JSON report would match the page's text filter: the text of its
/// row holds these fields.
fn matches_text(f: &Value, term: &str) -> bool {
    let mut text = String::new();
    for key in [
        "check_id",
        "resource_type",
        "resource_arn",
        "account_id",
        "region",
        "domain_id",
        "message",
        "title",
        "remediation",
    ] {
        text.push_str(f[key].as_str().unwrap_or(""));
        text.push(' ');
    }
    text.push_str(&serde_json::to_string_pretty(&f["evidence"]).unwrap());
    text.push_str(&f["attribution"].to_string());
    text.to_lowercase().contains(&term.to_lowercase())
}

fn errors_in(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| {
            (e["method"] == "Log.entryAdded" && e["params"]["entry"]["level"] == "error")
                || e["method"] == "Runtime.exceptionThrown"
        })
        .collect()
}

#[test]
fn the_reference_report_renders_filters_expands_and_escapes_in_chromium() {
    let dir = util::temp_dir("browser-report");
    let snapshot = hostile_snapshot(&dir);
    let snapshot = snapshot.to_str().unwrap();
    let html = dir.join("report.html");
    let json = dir.join("report.json");
    for (format, out) in [("html", &html), ("json", &json)] {
        let (code, _, err) = util::run_bin(
            &[
                "scan",
                "--from-snapshot",
                snapshot,
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(code, 0, "{err}");
    }
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let url = format!("file://{}", html.display());

    let mut chrome = Chrome::launch("report");
    let tab = chrome.tab();
    let ready_ms = chrome.open(&tab, &url);
    chrome.screenshot(&tab, "report.png");
    println!(
        "browser: reference report ({} findings) interactive after {ready_ms:.0} ms",
        findings.len()
    );

    // Every finding is a row; the hostile name is text, and nothing of it ran.
    let rows = chrome.eval(&tab, VISIBLE).as_u64().unwrap();
    assert_eq!(rows as usize, findings.len());
    assert_eq!(chrome.eval(&tab, "typeof window.pwned"), json!("undefined"));
    assert_eq!(
        chrome.eval(&tab, "document.querySelectorAll('img').length"),
        json!(0)
    );
    // Ours: the head's one line and the filter script.
    assert_eq!(chrome.eval(&tab, "document.scripts.length"), json!(2));
    let hostile_rows = findings
        .iter()
        .filter(|f| f["resource_arn"].as_str().unwrap().contains(HOSTILE))
        .count();
    assert!(hostile_rows > 0, "the renamed profile has findings");
    let shown_as_text = chrome.eval(
        &tab,
        &format!(
            "Array.from(document.querySelectorAll('#findings tbody tr')).filter(r => r.cells[3].textContent.includes({})).length",
            serde_json::to_string(HOSTILE).unwrap()
        ),
    );
    assert_eq!(shown_as_text, json!(hostile_rows));
    // The domain view lists it too, as text.
    let in_domains = chrome.eval(
        &tab,
        &format!(
            "document.getElementById('sec-domains').textContent.includes({})",
            serde_json::to_string(HOSTILE).unwrap()
        ),
    );
    assert_eq!(in_domains, json!(true));

    // The problems section and the counts are in plain view.
    assert_eq!(
        chrome.eval(&tab, "!!document.getElementById('sec-problems') && document.getElementById('sec-problems').offsetHeight > 0"),
        json!(true)
    );
    let fail_card = chrome.eval(
        &tab,
        "document.querySelector('[data-count=FAIL] b').textContent",
    );
    assert_eq!(fail_card, json!(report["summary"]["fail"].to_string()));

    // Filters: severity, then text, then both; counts as the JSON report says.
    let critical = findings
        .iter()
        .filter(|f| f["severity"] == "critical")
        .count();
    assert!(critical > 0);
    assert_eq!(
        set_filter(&mut chrome, &tab, "severity", "critical") as usize,
        critical
    );
    set_filter(&mut chrome, &tab, "severity", "");
    let term = "d-xzuf741hpu5y";
    let by_text = findings.iter().filter(|f| matches_text(f, term)).count();
    assert!(by_text > 0 && by_text < findings.len());
    assert_eq!(set_filter(&mut chrome, &tab, "q", term) as usize, by_text);
    let both = findings
        .iter()
        .filter(|f| matches_text(f, term) && f["status"] == "FAIL")
        .count();
    assert_eq!(
        set_filter(&mut chrome, &tab, "status", "FAIL") as usize,
        both
    );
    let shown = chrome.eval(&tab, "document.getElementById('shown').textContent");
    assert_eq!(
        shown,
        json!(format!("{both} of {} findings match", findings.len()))
    );
    set_filter(&mut chrome, &tab, "status", "");
    assert_eq!(
        set_filter(&mut chrome, &tab, "q", "") as usize,
        findings.len()
    );

    // Expansion by keyboard: focus the first FAIL row's summary and press Enter.
    chrome.eval(
        &tab,
        "document.querySelector('#findings tbody tr:has(td.t-FAIL) summary').focus()",
    );
    for kind in ["keyDown", "keyUp"] {
        chrome.call(
            Some(&tab),
            "Input.dispatchKeyEvent",
            json!({"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": if kind == "keyDown" { "\r" } else { "" }}),
        );
    }
    // The `toggle` event that copies the check's remediation in is queued as a task.
    let opened = util::wait_for("the opened row", Duration::from_secs(10), || {
        let state = chrome.eval(
            &tab,
            "(() => { const d = document.querySelector('#findings tbody tr:has(td.t-FAIL) details'); const m = d.querySelector('.fix'); return [d.open, !!m && m.offsetHeight > 0, !!m && m.textContent.includes('Remediation'), d.textContent.includes('First seen')]; })()",
        );
        (state[1] == json!(true)).then_some(state)
    });
    assert_eq!(opened, json!([true, true, true, true]));

    // Sorting by severity puts the most severe first, and says so to assistive technology.
    chrome.eval(
        &tab,
        "document.querySelector('th button[data-column=\"0\"]').click()",
    );
    let order = chrome.eval(
        &tab,
        "Array.from(document.querySelectorAll('#findings tbody tr')).map(r => r.cells[0].textContent)",
    );
    let rank = |s: &str| {
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let order: Vec<usize> = order
        .as_array()
        .unwrap()
        .iter()
        .map(|s| rank(s.as_str().unwrap()))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    assert_eq!(
        chrome.eval(&tab, "document.querySelector('th button[data-column=\"0\"]').parentNode.getAttribute('aria-sort')"),
        json!("ascending")
    );

    // Printing opens the rows on screen, each with its remediation (Page.printToPDF fires
    // beforeprint as the print dialog does).
    set_filter(&mut chrome, &tab, "status", "FAIL");
    let fails = findings.iter().filter(|f| f["status"] == "FAIL").count();
    let pdf = chrome.call(Some(&tab), "Page.printToPDF", json!({}));
    assert!(pdf["data"].as_str().is_some_and(|d| d.len() > 1000));
    let printed = chrome.eval(
        &tab,
        "Array.from(document.querySelectorAll('#findings tbody tr')).filter(r => !r.hidden).map(r => { const d = r.querySelector('details'); return d.open && !!d.querySelector('.fix'); })",
    );
    let printed = printed.as_array().unwrap();
    assert_eq!(printed.len(), fails);
    assert!(printed.iter().all(|p| *p == json!(true)), "{printed:?}");
    set_filter(&mut chrome, &tab, "status", "");

    // Every form control has a label.
    assert_eq!(
        chrome.eval(&tab, "Array.from(document.querySelectorAll('#filters select, #filters input')).filter(e => !e.closest('label')).length"),
        json!(0)
    );
    let shot = chrome.screenshot(&tab, "report-expanded.png");
    println!("browser: screenshot {}", shot.display());

    // Nothing but the file itself was requested, and nothing was refused or thrown.
    let events = chrome.drain_events();
    let requests: Vec<&str> = events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .filter_map(|e| e["params"]["request"]["url"].as_str())
        .collect();
    assert!(
        requests.iter().all(|u| *u == url || *u == "about:blank"),
        "{requests:?}"
    );
    assert!(errors_in(&events).is_empty(), "{:?}", errors_in(&events));

    // Without JavaScript every row is there (the filter form, useless then, is not).
    let plain = chrome.tab();
    chrome.call(
        Some(&plain),
        "Emulation.setScriptExecutionDisabled",
        json!({"value": true}),
    );
    chrome.call(Some(&plain), "Page.navigate", json!({"url": url}));
    util::wait_for("the page without script", Duration::from_secs(60), || {
        (chrome.eval(&plain, "document.readyState") == json!("complete")).then_some(())
    });
    assert_eq!(
        chrome.eval(&plain, VISIBLE).as_u64().unwrap() as usize,
        findings.len()
    );
    assert_eq!(
        chrome.eval(&plain, "document.getElementById('filters').hidden"),
        json!(true)
    );
    assert_eq!(
        chrome.eval(
            &plain,
            "document.documentElement.hasAttribute('data-ready')"
        ),
        json!(false)
    );
}

/// 10,000 findings (the reference report's, repeated on other resources): all rows, the
/// filters, and the time until the table is filterable (a figure, not an assertion).
#[test]
fn ten_thousand_findings_load_and_filter_in_chromium() {
    let dir = util::temp_dir("browser-large");
    let json = dir.join("report.json");
    let (code, _, err) = util::run_bin(
        &[
            "scan",
            "--from-snapshot",
            util::repo_root()
                .join("examples/snapshot.json")
                .to_str()
                .unwrap(),
            "--format",
            "json",
            "--output",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let mut report: sagemaker_auditor::report::Report =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let base = std::mem::take(&mut report.findings);
    const N: usize = 10_000;
    for i in 0..N {
        let mut f = base[i % base.len()].clone();
        f.resource_arn = format!("{}-copy{i}", f.resource_arn).into();
        f.id = sagemaker_auditor::report::findings::finding_id(&f.check_id, &f.resource_arn);
        report.findings.push(f);
    }
    let html = sagemaker_auditor::report::html::render(&report, Default::default());
    let path = dir.join("large.html");
    std::fs::write(&path, &html).unwrap();
    let url = format!("file://{}", path.display());

    let mut chrome = Chrome::launch("large");
    let tab = chrome.tab();
    let started = Instant::now();
    let ready_ms = chrome.open(&tab, &url);
    let wall = started.elapsed();
    let timing = chrome.eval(&tab, "(() => { const n = performance.getEntriesByType('navigation')[0]; return [n.responseEnd, n.domInteractive, n.domContentLoadedEventEnd, n.loadEventEnd].map(Math.round); })()");
    println!(
        "browser: navigation timing (response end, DOM interactive, DOMContentLoaded end, load end; ms): {timing}"
    );
    println!(
        "browser: {N} findings ({:.1} MB of HTML) interactive after {ready_ms:.0} ms (navigation start to the script's end; {:.0} ms as seen by the test)",
        html.len() as f64 / 1e6,
        wall.as_secs_f64() * 1000.0
    );
    // The first page of rows, then the second: the rows after it, in table order.
    assert_eq!(chrome.eval(&tab, VISIBLE).as_u64().unwrap(), PAGE);
    let first_shown =
        "Array.from(document.querySelectorAll('#findings tbody tr')).findIndex(r => !r.hidden)";
    assert_eq!(chrome.eval(&tab, first_shown), json!(0));
    chrome.eval(
        &tab,
        "document.querySelector('#pager [data-page=next]').click()",
    );
    assert_eq!(chrome.eval(&tab, first_shown), json!(PAGE));
    assert_eq!(chrome.eval(&tab, VISIBLE).as_u64().unwrap(), PAGE);
    assert_eq!(
        chrome.eval(&tab, "document.querySelector('#pager span').textContent"),
        json!(format!("page 2 of {}", N as u64 / PAGE))
    );
    let high = report
        .findings
        .iter()
        .filter(|f| f.severity.as_str() == "high")
        .count();
    let t = Instant::now();
    assert_eq!(
        set_filter(&mut chrome, &tab, "severity", "high") as usize,
        high
    );
    println!(
        "browser: severity filter over {N} rows: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    assert_eq!(
        set_filter(&mut chrome, &tab, "q", "-copy9999") as usize,
        usize::from(report.findings[9999].severity.as_str() == "high")
    );
    println!(
        "browser: first text filter over {N} rows: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    set_filter(&mut chrome, &tab, "severity", "");
    assert_eq!(set_filter(&mut chrome, &tab, "q", "-copy9999"), 1);
    chrome.screenshot(&tab, "large.png");
    let events = chrome.drain_events();
    assert!(errors_in(&events).is_empty(), "{:?}", errors_in(&events));
}

/// The daemon's page behind basic auth and a path prefix: refused without the password,
/// then the latest report with its history panel, links under the prefix, the CSP header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_page_behind_basic_auth_and_a_prefix() {
    let account = util::account("000000000917").await;
    crate::reference::seed(&account).await;
    let dir = util::temp_dir("browser-daemon");
    let port = util::free_port();
    const PASSWORD: &str = "browser-pass";
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    std::fs::write(
        dir.join("web.yml"),
        format!("basic_auth_users:\n  ops: {hash}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "regions = [\"us-east-1\"]\nendpoint_url = \"{}\"\nmax_attempts = 2\nschedule = \"*/3 * * * * *\"\n\
             [cloudtrail]\nenabled = false\n\
             [output]\ndirectory = \"reports\"\n[serve]\nlisten = \"127.0.0.1:{port}\"\nstate_file = \"history.db\"\nweb_config_file = \"web.yml\"\nexternal_url = \"http://127.0.0.1:{port}/auditor/\"\n",
            util::emulator().url
        ),
    )
    .unwrap();
    let daemon = util::serve(
        &dir.join("config.toml"),
        &account,
        "info",
        dir.join("daemon.log"),
    );
    let auth = {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("ops:{PASSWORD}"))
        )
    };
    // Three scans recorded: the history chart has a bar for each.
    util::wait_for("three scans", Duration::from_secs(180), || {
        (daemon.log_text().matches("scan completed").count() >= 3).then_some(())
    });
    let page_url = format!("http://127.0.0.1:{port}/auditor/");

    let mut chrome = Chrome::launch("daemon");
    let tab = chrome.tab();
    chrome.call(Some(&tab), "Page.navigate", json!({"url": page_url}));
    // Refused: the response is a 401, which the browser also logs as an error (awaited, so
    // that it is not taken for an error of the page below).
    let mut refusal = Vec::new();
    util::wait_for("the refusal", Duration::from_secs(30), || {
        refusal.extend(chrome.drain_events());
        let status = refusal.iter().find_map(|e| {
            (e["method"] == "Network.responseReceived"
                && e["params"]["response"]["url"] == json!(page_url))
            .then(|| e["params"]["response"]["status"].as_u64().unwrap())
        });
        let logged = errors_in(&refusal).len();
        (status.is_some() && logged > 0).then_some((status, logged))
    });
    let status = refusal.iter().find_map(|e| {
        (e["method"] == "Network.responseReceived")
            .then(|| e["params"]["response"]["status"].as_u64().unwrap())
    });
    assert_eq!(status, Some(401), "without the password");
    assert_eq!(errors_in(&refusal).len(), 1, "{:?}", errors_in(&refusal));

    chrome.call(
        Some(&tab),
        "Network.setExtraHTTPHeaders",
        json!({"headers": {"Authorization": auth}}),
    );
    let ready_ms = chrome.open(&tab, &page_url);
    println!("browser: daemon page interactive after {ready_ms:.0} ms");
    let events = chrome.drain_events();
    let response = events
        .iter()
        .rev()
        .find(|e| {
            e["method"] == "Network.responseReceived"
                && e["params"]["response"]["url"] == json!(page_url)
        })
        .expect("the page's response");
    let headers = &response["params"]["response"]["headers"];
    assert_eq!(response["params"]["response"]["status"], json!(200));
    let csp = headers["content-security-policy"]
        .as_str()
        .or(headers["Content-Security-Policy"].as_str())
        .unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(errors_in(&events).is_empty(), "{:?}", errors_in(&events));

    // The history panel: a bar per recorded scan; links resolve under the prefix.
    let bars = chrome
        .eval(&tab, "document.querySelectorAll('#chart-history g').length")
        .as_u64()
        .unwrap();
    assert!(bars >= 3, "{bars} bars");
    assert_eq!(
        chrome.eval(
            &tab,
            "document.querySelector('a[href=\"api/findings\"]').href"
        ),
        json!(format!("http://127.0.0.1:{port}/auditor/api/findings"))
    );
    let rows = chrome.eval(&tab, VISIBLE).as_u64().unwrap();
    assert!(rows > 0);
    assert!(
        chrome
            .eval(&tab, "document.getElementById('h-new').textContent")
            .as_str()
            .unwrap()
            .starts_with("New findings (")
    );
    // The domain view has the reference account's domains with their profiles.
    let domains = chrome
        .eval(
            &tab,
            "document.querySelectorAll('#sec-domains section.domain').length",
        )
        .as_u64()
        .unwrap();
    assert!(domains > 0);
    let shot = chrome.screenshot(&tab, "daemon.png");
    println!("browser: screenshot {}", shot.display());
    // What the page links to answers under the prefix, with the same password.
    let (status, body) = get_with(port, "/auditor/api/findings?status=fail", &auth);
    assert_eq!(status, 200, "{body}");
    let (status, _) = get_with(port, "/auditor", &auth);
    assert_eq!(status, 303, "the bare prefix redirects to the page");
}

fn get_with(port: u16, path: &str, auth: &str) -> (u16, String) {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    util::http_response(&raw)
}
