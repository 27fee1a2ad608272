//! The policy engine: every check is a Rego file evaluated by `regorus` against the snapshot.
//!
//! Layout of a policy directory (the built-in one is `policies/`, compiled into the binary):
//! - `lib/**.rego`: helpers, no checks;
//! - `**/<check_id>_test.rego`: `test_*` rules, run by `policy test` and `cargo test`
//!   ([`PolicySet::load_with_tests`]; scans load no test file);
//! - every other `**/<check_id>.rego`: one check, with a `metadata` rule (`id` equal to the
//!   file name, `title`, `severity`, `resource_type`, `remediation`) and a `results` set (or
//!   array) of `{resource_arn, status, message, evidence, ...}`, one per resource the check
//!   applies to.
//!
//! All files are parsed and checked once ([`PolicySet::load`]); each evaluation clones the
//! compiled engine, so a scan never re-parses and scans never share evaluation state.

mod iam_ext;
mod partition;
mod results;
mod value;

pub use partition::Scope;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regorus::unstable::{Rule, RuleHead};
use regorus::{Engine, Value};
use serde::{Deserialize, Serialize};

pub use crate::vocab::Severity;
use crate::vocab::{Arn, Evidence, GLOBAL, Interner, Shared};

/// The built-in policies and compliance mappings: `(path under policies/, contents)`.
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_policies.rs"));

/// How long one check may evaluate before it is abandoned (it then reports an evaluation
/// error, never a PASS).
pub const EVALUATION_TIME_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// regorus's message already names file, line and column.
    #[error("{0}")]
    Parse(String),
    #[error("{path}:{line}: {problem}")]
    Check {
        path: String,
        line: u32,
        problem: String,
    },
}

/// A check's `metadata` rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckMetadata {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub resource_type: String,
    pub remediation: String,
    /// What the check's results depend on, which decides the input it is evaluated on.
    #[serde(default, skip_serializing_if = "Scope::is_snapshot")]
    pub scope: Scope,
    /// The check's thresholds (`[checks.<id>]` in the config, `data.config.<id>` here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, crate::config::checks::ThresholdSpec>,
    /// Everything else the rule says (description, references, ...), passed through.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub metadata: CheckMetadata,
    /// `data.<package>` of the check.
    pub package: String,
    /// Where it was loaded from (`policies/...` for built-in checks).
    pub source: String,
    pub line: u32,
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub struct TestRule {
    pub package: String,
    pub name: String,
    pub source: String,
    pub line: u32,
}

/// A compiled set of policies.
#[derive(Clone)]
pub struct PolicySet {
    engine: Engine,
    checks: Vec<Check>,
    tests: Vec<TestRule>,
    /// Some loaded policy mentions `events` (see [`PolicySet::reads_events`]).
    reads_events: bool,
}

struct PolicyFile {
    /// Shown in messages: `policies/<rel>` for built-ins, the path given for the others.
    display: String,
    /// Path inside its policy directory.
    rel: String,
    text: String,
    builtin: bool,
}

impl PolicySet {
    /// What scans judge with: the built-in policies plus every `.rego` under `dirs`, without
    /// the `_test.rego` files. Their test rules and fixtures are half the Rego; kept out of
    /// the engine, a scan of the example snapshot starts in half the time (0.15 -> 0.07 s)
    /// and 10 MB smaller (42 -> 32 MB peak RSS), and every evaluation clones less.
    pub fn load(dirs: &[PathBuf]) -> Result<Self, PolicyError> {
        let mut files = Self::files(dirs)?;
        files.retain(|f| !is_test_file(&f.rel));
        Self::from_files(files)
    }

    /// [`PolicySet::load`] with the `_test.rego` files: what `policy test` runs.
    pub fn load_with_tests(dirs: &[PathBuf]) -> Result<Self, PolicyError> {
        Self::from_files(Self::files(dirs)?)
    }

    fn files(dirs: &[PathBuf]) -> Result<Vec<PolicyFile>, PolicyError> {
        let mut files = builtin_files(|rel| rel.ends_with(".rego"));
        for dir in dirs {
            read_dir(dir, dir, &mut files)?;
        }
        Ok(files)
    }

    /// Only the policies under `dirs` (and no built-ins): what `policy test DIR` runs.
    pub fn load_dirs_only(dirs: &[PathBuf]) -> Result<Self, PolicyError> {
        let mut files = Vec::new();
        for dir in dirs {
            read_dir(dir, dir, &mut files)?;
        }
        // Helpers of the built-in library stay available to users' policies.
        files.extend(builtin_files(|rel| {
            rel.starts_with("lib/") && rel.ends_with(".rego") && !is_test_file(rel)
        }));
        Self::from_files(files)
    }

    fn from_files(files: Vec<PolicyFile>) -> Result<Self, PolicyError> {
        Self::from_files_with(files, |_| Ok(()))
    }

    /// [`PolicySet::load_dirs_only`] with more extensions registered (tests: one that panics).
    #[cfg(test)]
    pub(crate) fn load_dirs_with(
        dirs: &[PathBuf],
        extend: impl FnOnce(&mut Engine) -> anyhow::Result<()>,
    ) -> Result<Self, PolicyError> {
        let mut files = Vec::new();
        for dir in dirs {
            read_dir(dir, dir, &mut files)?;
        }
        Self::from_files_with(files, extend)
    }

    fn from_files_with(
        files: Vec<PolicyFile>,
        extend: impl FnOnce(&mut Engine) -> anyhow::Result<()>,
    ) -> Result<Self, PolicyError> {
        let mut engine = compile(&files, extend)?;
        let reads_events = files
            .iter()
            .any(|f| !is_test_file(&f.rel) && f.text.contains("events"));
        let rules = rule_index(&mut engine);
        let mut checks: Vec<Check> = Vec::new();
        let mut tests = Vec::new();
        let mut packages: BTreeMap<String, String> = BTreeMap::new();
        for file in &files {
            let Some((package, names)) = rules.get(&file.display) else {
                continue;
            };
            let stem = Path::new(&file.rel)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if stem.ends_with("_test") {
                tests.extend(
                    names
                        .iter()
                        .filter(|(name, _)| name.starts_with("test_"))
                        .map(|(name, line)| TestRule {
                            package: package.clone(),
                            name: name.clone(),
                            source: file.display.clone(),
                            line: *line,
                        }),
                );
                continue;
            }
            let in_lib = Path::new(&file.rel)
                .components()
                .any(|c| c.as_os_str() == "lib");
            if in_lib {
                continue;
            }
            if let Some(other) = packages.insert(package.clone(), file.display.clone()) {
                return Err(PolicyError::Check {
                    path: file.display.clone(),
                    line: 1,
                    problem: format!(
                        "package `{package}` is already used by the check in {other}: one check per package"
                    ),
                });
            }
            let check = load_check(&mut engine, file, package, names, stem)?;
            if let Some(first) = checks.iter().find(|c| c.metadata.id == check.metadata.id) {
                return Err(PolicyError::Check {
                    path: file.display.clone(),
                    line: check.line,
                    problem: format!(
                        "duplicate check id `{}`: already defined at {}:{}",
                        check.metadata.id, first.source, first.line
                    ),
                });
            }
            checks.push(check);
        }
        checks.sort_by(|a, b| a.metadata.id.cmp(&b.metadata.id));
        Ok(Self {
            engine,
            checks,
            tests,
            reads_events,
        })
    }

    /// Whether the policies need the snapshot's CloudTrail `events` in their input: some
    /// non-test policy file mentions `events`. None of the built-in checks does; leaving a
    /// week of events out halves the input of a busy account (2.5 of 4.8 MB of JSON for
    /// 4,000 events), and the input, as regorus values, is the largest thing a scan holds.
    pub fn reads_events(&self) -> bool {
        self.reads_events
    }

    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.metadata.id == id)
    }

    /// The thresholds every loaded check declares, by check id.
    pub fn declared_thresholds(
        &self,
    ) -> BTreeMap<String, BTreeMap<String, crate::config::checks::ThresholdSpec>> {
        self.checks
            .iter()
            .map(|c| (c.metadata.id.clone(), c.metadata.thresholds.clone()))
            .collect()
    }

    /// `data.config` with every declared threshold at its default (what `policy test` runs
    /// with).
    pub fn default_thresholds(&self) -> serde_json::Value {
        crate::config::checks::defaults(&self.declared_thresholds())
    }

    pub fn tests(&self) -> &[TestRule] {
        &self.tests
    }

    /// `checks` (indices) on a clone of `base` (the engine with `data.config`) per core, with
    /// `input`, each outcome with its check's index and wall time. A check whose worker died
    /// is an error, never a check without results.
    fn run_checks(&self, base: &Engine, input: &Value, checks: &[usize]) -> Vec<CheckOutcome> {
        let outputs = partition::on_workers(
            checks.len(),
            || {
                let mut engine = base.clone();
                engine.set_input(input.clone());
                engine
            },
            |engine, n| self.eval_on(engine, base, input, checks[n]),
        );
        checks
            .iter()
            .zip(outputs)
            .map(|(&i, output)| match output {
                Some((outcome, took)) => (i, outcome, took),
                None => (
                    i,
                    Err("its evaluation worker ended abnormally".into()),
                    Duration::ZERO,
                ),
            })
            .collect()
    }

    /// Check `i` on `engine` (a clone of `base` with `input` set), and its wall time. A
    /// failed evaluation leaves a fresh clone behind: a panic or timeout may leave the
    /// engine mid-evaluation.
    fn eval_on(
        &self,
        engine: &mut Engine,
        base: &Engine,
        input: &Value,
        i: usize,
    ) -> (Result<Vec<CheckResult>, String>, Duration) {
        let started = Instant::now();
        let outcome = eval_check_guarded(engine, &self.checks[i]);
        if outcome.is_err() {
            *engine = base.clone();
            engine.set_input(input.clone());
        }
        (outcome, started.elapsed())
    }

    /// Runs every `test_*` rule with the default thresholds as `data.config`.
    pub fn run_tests(&self, config: &serde_json::Value) -> Vec<TestOutcome> {
        let mut engine = self.engine.clone();
        if let Err(e) = engine.add_data(data_config(config)) {
            return vec![TestOutcome {
                name: "data.config".into(),
                source: String::new(),
                line: 0,
                error: Some(e.to_string()),
            }];
        }
        self.tests
            .iter()
            .map(|test| {
                let error = match engine.eval_rule(format!("{}.{}", test.package, test.name)) {
                    Ok(Value::Bool(true)) => None,
                    Ok(Value::Undefined) => Some("undefined (a condition did not hold)".into()),
                    Ok(other) => Some(format!("evaluated to {other}, not true")),
                    Err(e) => Some(e.to_string()),
                };
                TestOutcome {
                    name: format!("{}.{}", test.package, test.name),
                    source: test.source.clone(),
                    line: test.line,
                    error,
                }
            })
            .collect()
    }
}

/// An engine with our extensions (and `extend`'s) and every file, names resolved: an error
/// names its own file.
fn compile(
    files: &[PolicyFile],
    extend: impl FnOnce(&mut Engine) -> anyhow::Result<()>,
) -> Result<Engine, PolicyError> {
    let parse = |e: anyhow::Error| PolicyError::Parse(e.to_string());
    let mut engine = Engine::new();
    engine.set_rego_v0(false);
    iam_ext::register(&mut engine).map_err(parse)?;
    extend(&mut engine).map_err(parse)?;
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: EVALUATION_TIME_LIMIT,
        check_interval: std::num::NonZeroU32::MIN.saturating_add(999),
    });
    for file in files {
        engine
            .add_policy(file.display.clone(), file.text.clone())
            .map_err(parse)?;
    }
    // Parsing is per file; name resolution and rule checks happen for all modules at the
    // first evaluation. Trigger them now, so such errors name their own file.
    engine.eval_query("true".into(), false).map_err(parse)?;
    Ok(engine)
}

/// Each file's package and rule names with their lines, from the parsed modules.
#[allow(clippy::type_complexity)]
fn rule_index(engine: &mut Engine) -> BTreeMap<String, (String, Vec<(String, u32)>)> {
    let mut rules = BTreeMap::new();
    for module in engine.get_modules().iter() {
        let file = module.package.span.source.file().clone();
        let package = format!("data.{}", module.package.refr.span().text());
        let names = module
            .policy
            .iter()
            .filter_map(|rule| match rule.as_ref() {
                Rule::Spec { head, span, .. } => {
                    let refr = match head {
                        RuleHead::Compr { refr, .. }
                        | RuleHead::Set { refr, .. }
                        | RuleHead::Func { refr, .. } => refr,
                    };
                    // `results[arn] := ...` and `a.b := ...` are rules of `results`, `a`.
                    let text = refr.span().text();
                    let name = text.split(['[', '.']).next().unwrap_or(text);
                    Some((name.trim().to_string(), span.line))
                }
                Rule::Default { .. } => None,
            })
            .collect();
        rules.insert(file, (package, names));
    }
    rules
}

/// One check file: its `metadata` (valid, with the file's name as id) and a `results` rule.
fn load_check(
    engine: &mut Engine,
    file: &PolicyFile,
    package: &str,
    names: &[(String, u32)],
    stem: &str,
) -> Result<Check, PolicyError> {
    let problem = |line: u32, problem: String| PolicyError::Check {
        path: file.display.clone(),
        line,
        problem,
    };
    let line_of = |rule: &str| names.iter().find(|(n, _)| n == rule).map(|(_, l)| *l);
    let Some(meta_line) = line_of("metadata") else {
        return Err(problem(
            1,
            "a check needs a `metadata := {id, title, severity, resource_type, remediation}` rule"
                .into(),
        ));
    };
    if line_of("results").is_none() {
        return Err(problem(
            1,
            "a check needs a `results` rule: a set of {resource_arn, status, message, evidence}, or an object of them by resource ARN".into(),
        ));
    }
    let value = engine
        .eval_rule(format!("{package}.metadata"))
        .map_err(|e| problem(meta_line, format!("metadata: {e}")))?;
    let metadata = parse_metadata(&value).map_err(|p| problem(meta_line, p))?;
    if metadata.id != stem {
        return Err(problem(
            meta_line,
            format!(
                "metadata id `{}` must equal the file name `{stem}`",
                metadata.id
            ),
        ));
    }
    Ok(Check {
        metadata,
        package: package.to_string(),
        source: file.display.clone(),
        line: meta_line,
        builtin: file.builtin,
    })
}

/// One check's evaluation: its index, its results or why it has none, its wall time.
type CheckOutcome = (usize, Result<Vec<CheckResult>, String>, Duration);

/// A file of `test_*` rules and their fixtures, which only `policy test` loads.
fn is_test_file(rel: &str) -> bool {
    rel.ends_with("_test.rego")
}

/// The built-in files whose path (under `policies/`) passes `keep`.
fn builtin_files(keep: impl Fn(&str) -> bool) -> Vec<PolicyFile> {
    BUILTIN
        .iter()
        .filter(|(rel, _)| keep(rel))
        .map(|(rel, text)| PolicyFile {
            display: format!("policies/{rel}"),
            rel: (*rel).to_string(),
            text: (*text).to_string(),
            builtin: true,
        })
        .collect()
}

fn data_config(config: &serde_json::Value) -> Value {
    Value::from(serde_json::json!({ "config": config }))
}

fn read_dir(root: &Path, dir: &Path, files: &mut Vec<PolicyFile>) -> Result<(), PolicyError> {
    let read_err = |source| PolicyError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read_err)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_dir(root, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "rego") {
            let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::Read {
                path: path.display().to_string(),
                source,
            })?;
            files.push(PolicyFile {
                display: path.display().to_string(),
                rel: path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned(),
                text,
                builtin: false,
            });
        }
    }
    Ok(())
}

fn parse_metadata(value: &Value) -> Result<CheckMetadata, String> {
    let json = value.to_json_str().map_err(|e| format!("metadata: {e}"))?;
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json)
        .map_err(|_| format!("metadata must be an object, found {json}"))?;
    for field in ["id", "title", "severity", "resource_type", "remediation"] {
        match object.get(field) {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {}
            Some(_) => {
                return Err(format!(
                    "metadata field `{field}` must be a non-empty string"
                ));
            }
            None => return Err(format!("metadata lacks the `{field}` field")),
        }
    }
    let severity = object["severity"].as_str().unwrap_or_default();
    if Severity::parse(severity).is_none() {
        return Err(format!(
            "metadata severity `{severity}` is not one of critical, high, medium, low, info"
        ));
    }
    let metadata: CheckMetadata = serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| format!("metadata: {e}"))?;
    for (name, spec) in &metadata.thresholds {
        if let Some(problem) = spec.declaration_problem() {
            return Err(format!("metadata threshold `{name}`: {problem}"));
        }
    }
    Ok(metadata)
}

/// One result of one check, as the policy produced it (validated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The words repeated by many results are shared, not copied (see [`Shared`]).
    pub check_id: Shared,
    pub status: ResultStatus,
    pub resource_type: Shared,
    /// Shared by the checks that judge the same resource (see `partition::finish`).
    pub resource_arn: Shared,
    pub account_id: Shared,
    pub region: Shared,
    pub domain_id: Option<Shared>,
    /// Shared too: 104,000 results of the benchmark account carry 14,500 distinct messages.
    pub message: Shared,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ResultStatus {
    Pass,
    Fail,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationError {
    pub check_id: String,
    pub message: String,
}

/// An evaluation's results in the chunks the partitions produced (one per check and
/// partition, in check order): joined into one vector they would be one more copy of the
/// largest thing an evaluation holds, made just before the findings take their own.
#[derive(Debug, Clone, Default)]
pub struct Results(Vec<Vec<CheckResult>>);

impl Results {
    pub fn iter(&self) -> impl Iterator<Item = &CheckResult> {
        self.0.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Vec::is_empty)
    }

    /// The chunks, to consume one at a time.
    pub fn into_chunks(self) -> Vec<Vec<CheckResult>> {
        self.0
    }

    /// Every result in one vector.
    pub fn into_vec(self) -> Vec<CheckResult> {
        self.0.into_iter().flatten().collect()
    }

    pub(crate) fn push(&mut self, chunk: Vec<CheckResult>) {
        if !chunk.is_empty() {
            self.0.push(chunk);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub results: Results,
    /// Checks that could not be evaluated (time limit, a malformed result): they produce no
    /// results, and reports say so.
    pub errors: Vec<EvaluationError>,
    /// Wall time of the whole evaluation, input conversion included.
    pub duration: Duration,
    /// Of which: turning the snapshot into the engine's input.
    pub input_duration: Duration,
    /// Wall time of each check (they run in parallel).
    pub check_durations: Vec<(String, Duration)>,
}

#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub name: String,
    pub source: String,
    pub line: u32,
    /// `None` when the test passed.
    pub error: Option<String>,
}

/// [`eval_check`], with a panic inside the engine or an extension turned into that check's
/// evaluation error (its findings then stay open in the history) instead of losing the
/// results of every check its worker had run.
fn eval_check_guarded(engine: &mut Engine, check: &Check) -> Result<Vec<CheckResult>, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| eval_check(engine, check)))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err(format!("the evaluation panicked: {what}"))
        })
}

/// The results with an identical repeat dropped; an error when a resource has two different
/// results.
fn one_per_resource(raw: Vec<results::RawResult>) -> Result<Vec<results::RawResult>, String> {
    let mut chunks = [raw];
    first_of_each(&mut chunks, |r| &r.resource_arn).map_err(|arn| {
        format!(
            "`results` holds two different results for {arn}: a check gives one result per resource"
        )
    })?;
    let [raw] = chunks;
    Ok(raw)
}

/// Drops from `chunks` the repeats of an equal item with the same key (the first stays,
/// chunks and items in order); `Err(key)` names the first key with two different items,
/// and leaves `chunks` as they were. A hash of the keys (no sort, no copy of the items):
/// most inputs have no repeat at all.
fn first_of_each<T: PartialEq>(
    chunks: &mut [Vec<T>],
    key: impl Fn(&T) -> &str,
) -> Result<(), String> {
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    {
        let mut first: std::collections::HashMap<&str, &T> =
            std::collections::HashMap::with_capacity(chunks.iter().map(Vec::len).sum());
        for (c, chunk) in chunks.iter().enumerate() {
            for (i, item) in chunk.iter().enumerate() {
                match first.entry(key(item)) {
                    std::collections::hash_map::Entry::Occupied(seen) => {
                        if *seen.get() != item {
                            return Err(key(item).to_string());
                        }
                        repeats.push((c, i));
                    }
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(item);
                    }
                }
            }
        }
    }
    let mut repeats = repeats.into_iter().peekable();
    for (c, chunk) in chunks.iter_mut().enumerate() {
        if repeats.peek().is_none_or(|&(rc, _)| rc != c) {
            continue;
        }
        let mut i = 0;
        chunk.retain(|_| {
            let repeat = repeats.next_if_eq(&(c, i)).is_some();
            i += 1;
            !repeat
        });
    }
    Ok(())
}

fn eval_check(engine: &mut Engine, check: &Check) -> Result<Vec<CheckResult>, String> {
    let value = engine
        .eval_rule(format!("{}.results", check.package))
        .map_err(|e| e.to_string())?;
    // A check without results is an empty set or object; undefined means `results` could
    // not be computed (a rule that errors out, a typo in its name), which is not a PASS.
    if value == Value::Undefined {
        return Err("`results` is undefined: the check computed no result set".into());
    }
    // A set or an array of results (the built-in checks' forms: a set measured twice as fast
    // as an object in regorus 0.14 on 50,000 apps, an array faster still for checks with
    // thousands of results), or an object of results keyed by resource ARN.
    let raw = results::read(&value).map_err(|e| {
        format!(
            "`results` must be a set or an array of {{resource_arn, status: PASS|FAIL|ERROR, message, evidence}} (or an object of them by resource ARN): {e}"
        )
    })?;
    drop(value);
    // A finding is one per check and resource (its id is a function of both): two results
    // for one resource would be two findings with one id. The object form cannot produce
    // them (regorus refuses conflicting values for one key); the set and array forms can.
    // An array may repeat an identical result (a set would hold it once): kept once.
    let raw = one_per_resource(raw)?;
    let mut words = Interner::default();
    let check_id = words.get(&check.metadata.id);
    let default_type = words.get(&check.metadata.resource_type);
    let global = words.get(GLOBAL);
    // Into a vector of its own size: collected in place, the results would keep the raw
    // results' larger allocation (20.7 MB instead of 14.2 for the benchmark's 104,000).
    let mut results = Vec::with_capacity(raw.len());
    results.extend(raw.into_iter().map(|r| {
        let arn = Arn::parse(&r.resource_arn);
        CheckResult {
            check_id: check_id.clone(),
            status: r.status,
            resource_type: r
                .resource_type
                .map_or_else(|| default_type.clone(), |t| words.get(&t)),
            account_id: match (r.account_id, arn) {
                (Some(account), _) => words.get(&account),
                (None, Some(a)) => words.get(a.account),
                (None, None) => words.get(""),
            },
            // IAM ARNs have no region; every consumer (history scopes, metric labels)
            // relies on such results saying `global`, as the collectors do.
            region: match r.region.filter(|r| !r.is_empty()) {
                Some(region) => words.get(&region),
                None => arn
                    .map(|a| a.region)
                    .filter(|r| !r.is_empty())
                    .map_or_else(|| global.clone(), |r| words.get(r)),
            },
            domain_id: match r.domain_id {
                Some(d) => Some(words.get(&d)),
                None => arn
                    .and_then(|a| a.sagemaker_domain_id())
                    .map(|d| words.get(d)),
            },
            message: words.get(&r.message),
            evidence: r.evidence.shared(&mut words),
            resource_arn: r.resource_arn.into(),
        }
    }));
    Ok(results)
}

#[cfg(test)]
mod tests;
