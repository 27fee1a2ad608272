//! Partitioned evaluation: each check is evaluated on the smallest input its results depend
//! on, as its `metadata.scope` declares, instead of on the whole snapshot at once.
//!
//! - `domain`: once per domain, on an input holding that domain alone (with its user
//!   profiles, spaces and apps) in its account and region, with the region's network, file
//!   systems, notebook instances and lifecycle configurations but **without** the account's
//!   `execution_roles` (absent); a region without domains is evaluated once with none. The
//!   check promises that no result depends on another domain or on the roles.
//! - `account`: once per account, on an input holding that account alone, its domains with
//!   their settings and user profiles but **without** their `spaces` and `apps` (absent, not
//!   empty); the check promises not to read them.
//! - `snapshot` (the default, so a check that declares nothing sees everything): once, on
//!   the whole snapshot.
//!
//! Why: the engine's copy of the snapshot was the largest thing a scan held (80 MB for
//! 10,000 user profiles and 50,000 apps), and one large check kept a core busy while the
//! other idled. Partitions are built from regorus values converted once and shared between
//! partitions (a region's network is one value however many domains it has); a domain's
//! own value lives while its partition is evaluated, and only its profiles stay for the
//! account's checks.
//!
//! A result found in several partitions (a region-level ERROR a domain check repeats in every
//! domain of the region) is kept once if the partitions agree; if they disagree, the check's
//! scope is wrong and the check reports an evaluation error instead of results. A check that
//! fails in one partition has no results at all: partial results would make the findings of
//! the other partitions look resolved.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use regorus::{Engine, Value};
use serde::{Deserialize, Serialize};

use super::value::{to_value, to_value_without};
use super::{CheckResult, Evaluation, EvaluationError, PolicySet};
use crate::snapshot::{AccountSnapshot, Domain, Snapshot};

/// What a check's results depend on (`metadata.scope`), which decides its input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One domain and the context of its account and region.
    Domain,
    /// One account, its domains without their spaces and apps.
    Account,
    /// The whole snapshot.
    #[default]
    Snapshot,
}

impl Scope {
    pub fn is_snapshot(&self) -> bool {
        *self == Scope::Snapshot
    }
}

/// The fields of a domain an `account` partition leaves out.
const DOMAIN_ONLY: [&str; 2] = ["spaces", "apps"];

/// The fields of an account a `domain` partition leaves out.
const ACCOUNT_ONLY: [&str; 1] = ["execution_roles"];

/// Execution roles converted by one task.
pub(super) const ROLES_PER_TASK: usize = 128;

/// Per check: its results from every partition, the first failure, how long it ran.
struct Merged {
    /// Each partition's results as they came (moved once, into the evaluation, by `finish`).
    results: Vec<Vec<Vec<CheckResult>>>,
    /// Partitions each check was evaluated on.
    partitions: Vec<usize>,
    errors: Vec<Vec<String>>,
    durations: Vec<Duration>,
    /// Checks whose results share their ARNs already (see `run_account`).
    arns_shared: Vec<bool>,
}

impl Merged {
    fn new(checks: usize) -> Self {
        Self {
            results: (0..checks).map(|_| Vec::new()).collect(),
            partitions: vec![0; checks],
            errors: vec![Vec::new(); checks],
            durations: vec![Duration::ZERO; checks],
            arns_shared: vec![false; checks],
        }
    }

    fn add(&mut self, check: usize, place: &str, outcome: Outcome, took: Duration) {
        self.partitions[check] += 1;
        self.durations[check] += took;
        match outcome {
            Ok(results) if results.is_empty() => {}
            Ok(results) => self.results[check].push(results),
            Err(message) if place.is_empty() => self.errors[check].push(message),
            Err(message) => self.errors[check].push(format!("{message} (evaluating {place})")),
        }
    }

    /// Every check in `checks` failed in `place` with `message`.
    fn fail_all(&mut self, checks: &[usize], place: &str, message: &str) {
        for &i in checks {
            self.add(i, place, Err(message.to_string()), Duration::ZERO);
        }
    }
}

type Outcome = Result<Vec<CheckResult>, String>;

/// One check's outcome on one partition (check index, outcome, time taken).
type Done = (usize, Outcome, Duration);

impl PolicySet {
    /// Evaluates every check against `input` (a snapshot, or anything serialising like one)
    /// as one whole input, whatever the checks' scopes, with `config` as `data.config`.
    /// Checks run in parallel, one engine clone per worker. Scans use
    /// [`PolicySet::evaluate_snapshot`], which evaluates each check on its partitions.
    pub fn evaluate<T: Serialize>(&self, input: &T, config: &serde_json::Value) -> Evaluation {
        let started = Instant::now();
        let mut merged = Merged::new(self.checks.len());
        // Straight to regorus values (policy::value), object keys shared as regorus's JSON
        // parser shares them: the benchmark snapshot's input took 116 MB of RSS with a copy
        // of each key per object, 80 MB with them shared.
        let prepared = self
            .engine_with_config(config)
            .and_then(|base| Ok((base, to_value(input)?)));
        let input_duration = started.elapsed();
        let all: Vec<usize> = (0..self.checks.len()).collect();
        match prepared {
            Ok((base, input)) => self.run_partition(&base, &input, &all, "", &mut merged),
            Err(message) => merged.fail_all(&all, "", &message),
        }
        self.finish(merged, started, input_duration)
    }

    /// Evaluates every check against `snapshot`, each on the partitions its scope declares
    /// (see the module's documentation), with `config` as `data.config`. The results equal
    /// those of [`PolicySet::evaluate`] on the whole snapshot when every check's scope is
    /// right.
    pub fn evaluate_snapshot(&self, snapshot: &Snapshot, config: &serde_json::Value) -> Evaluation {
        let started = Instant::now();
        let mut merged = Merged::new(self.checks.len());
        let scoped = |scope: Scope| -> Vec<usize> {
            (0..self.checks.len())
                .filter(|&i| self.checks[i].metadata.scope == scope)
                .collect()
        };
        let (whole, domain, account) = (
            scoped(Scope::Snapshot),
            scoped(Scope::Domain),
            scoped(Scope::Account),
        );
        let mut input_duration = Duration::ZERO;
        match self.engine_with_config(config) {
            Err(message) => {
                merged.fail_all(&(0..self.checks.len()).collect::<Vec<_>>(), "", &message)
            }
            Ok(base) => {
                if !whole.is_empty() {
                    let converting = Instant::now();
                    let input = to_value(&snapshot.policy_input(self.reads_events));
                    input_duration += converting.elapsed();
                    match input {
                        Ok(input) => self.run_partition(&base, &input, &whole, "", &mut merged),
                        Err(message) => merged.fail_all(&whole, "", &message),
                    }
                }
                if !domain.is_empty() || !account.is_empty() {
                    input_duration +=
                        self.run_accounts(snapshot, &base, &domain, &account, &mut merged);
                }
            }
        }
        self.finish(merged, started, input_duration)
    }

    /// The compiled engine with `data.config` added.
    pub(super) fn engine_with_config(&self, config: &serde_json::Value) -> Result<Engine, String> {
        let mut engine = self.engine.clone();
        engine
            .add_data(super::data_config(config))
            .map_err(|e| e.to_string())?;
        Ok(engine)
    }

    /// `checks` on one input, in parallel over the checks.
    fn run_partition(
        &self,
        base: &Engine,
        input: &Value,
        checks: &[usize],
        place: &str,
        merged: &mut Merged,
    ) {
        for (i, outcome, took) in self.run_checks(base, input, checks) {
            merged.add(i, place, outcome, took);
        }
    }

    /// The `domain` checks on every domain of every account and the `account` checks on
    /// every account, one account at a time. Returns the time spent building inputs.
    fn run_accounts(
        &self,
        snapshot: &Snapshot,
        base: &Engine,
        domain_checks: &[usize],
        account_checks: &[usize],
        merged: &mut Merged,
    ) -> Duration {
        let converting = Instant::now();
        let top = to_value(&snapshot.policy_input_top(self.reads_events));
        let mut input_duration = converting.elapsed();
        let top = match top {
            Ok(top) => top,
            Err(message) => {
                merged.fail_all(domain_checks, "", &message);
                merged.fail_all(account_checks, "", &message);
                return input_duration;
            }
        };
        for account in &snapshot.accounts {
            input_duration +=
                self.run_account(account, &top, base, domain_checks, account_checks, merged);
        }
        input_duration
    }

    /// One account's checks, in two stages on every core:
    /// 1. its inputs' parts: the account's context (with its roles), each region's, and
    ///    each domain's overview (the domain without its spaces and apps);
    /// 2. the `account` checks, one task each, on the account with its domains' overviews,
    ///    and the `domain` checks on each domain (its overview with its spaces and apps,
    ///    converted by the task), largest first; a region without domains is evaluated
    ///    once with none.
    ///
    /// One queue for both kinds (instead of the domains, then the account's checks) keeps
    /// both cores busy to the end: the account checks are a few long tasks, the domains many
    /// short ones. Returns the time spent building inputs.
    fn run_account(
        &self,
        account: &AccountSnapshot,
        top: &Value,
        base: &Engine,
        domain_checks: &[usize],
        account_checks: &[usize],
        merged: &mut Merged,
    ) -> Duration {
        let place = format!("account {}", account.account_id);
        let domains: Vec<(usize, &Domain)> = account
            .regions
            .iter()
            .enumerate()
            .flat_map(|(r, region)| region.domains.iter().map(move |d| (r, d)))
            .collect();
        let regions = account.regions.len();
        // Stage 1: the account's context without its roles, its roles in chunks (the
        // largest part: an account's 2,000 roles took 28 ms, one core's work while the
        // other converted every domain's overview), the regions' contexts, then the
        // domains' overviews in snapshot order.
        let roles: Vec<_> = account.execution_roles.chunks(ROLES_PER_TASK).collect();
        let role_chunks = roles.len();
        let started = Instant::now();
        let parts = on_workers(
            1 + role_chunks + regions + domains.len(),
            || (),
            |_, task| match task {
                0 => to_value_without(&account.context(), &ACCOUNT_ONLY),
                t if t <= role_chunks => to_value(roles[t - 1]),
                t if t <= role_chunks + regions => {
                    to_value(&account.regions[t - 1 - role_chunks].context())
                }
                t => to_value_without(domains[t - 1 - role_chunks - regions].1, &DOMAIN_ONLY),
            },
        );
        let mut input_duration = started.elapsed();
        let mut parts = parts.into_iter().map(|part| {
            part.unwrap_or_else(|| Err("its conversion worker ended abnormally".into()))
        });
        let contexts: Result<Vec<Value>, String> =
            parts.by_ref().take(1 + role_chunks + regions).collect();
        let overviews: Vec<Result<Value, String>> = parts.collect();
        // A domain's input: the top, its account without roles, its region, itself.
        // (With the roles, every domain check slowed with the size of the account: 1.7 s
        // instead of 3 ms for `domain_unhealthy` on 100 domains and 10,000 roles, the
        // profile dominated by value comparisons and map inserts, as if a rule over every
        // role were computed for each partition; a slim account passed to the IAM checks'
        // functions changed nothing, so it is not the arguments.)
        let (domain_account, account_value, region_values) = match contexts {
            Ok(mut contexts) => {
                let region_values = contexts.split_off(1 + role_chunks);
                let chunks = contexts.split_off(1);
                let domain_account = contexts.remove(0);
                let roles: Vec<Value> = chunks
                    .iter()
                    .filter_map(|chunk| chunk.as_array().ok())
                    .flat_map(|chunk| chunk.iter().cloned())
                    .collect();
                let account_value = with(&domain_account, "execution_roles", Value::from(roles));
                (domain_account, account_value, region_values)
            }
            Err(message) => {
                merged.fail_all(domain_checks, &place, &message);
                merged.fail_all(account_checks, &place, &message);
                return input_duration;
            }
        };
        let input_of = |region: usize, domains: Vec<Value>| {
            let region = with(&region_values[region], "domains", Value::from(domains));
            let account = with(&domain_account, "regions", Value::from(vec![region]));
            with(top, "accounts", Value::from(vec![account]))
        };
        // The account's input: every region with its domains' overviews, in order.
        let account_input = match overviews.iter().cloned().collect::<Result<Vec<_>, _>>() {
            _ if account_checks.is_empty() => None,
            Ok(all) => {
                let mut all = all.into_iter();
                let regions: Vec<Value> = account
                    .regions
                    .iter()
                    .zip(&region_values)
                    .map(|(region, context)| {
                        let domains: Vec<Value> = all.by_ref().take(region.domains.len()).collect();
                        with(context, "domains", Value::from(domains))
                    })
                    .collect();
                Some(with(
                    top,
                    "accounts",
                    Value::from(vec![with(&account_value, "regions", Value::from(regions))]),
                ))
            }
            Err(_) => {
                merged.fail_all(
                    account_checks,
                    &place,
                    "the input of one of its domains could not be built",
                );
                None
            }
        };
        // Stage 2: the account checks first (few and long), then the domains, largest
        // first, and the regions without domains.
        let mut tasks: Vec<Task> = match account_input {
            Some(_) => account_checks.iter().map(|&i| Task::Check(i)).collect(),
            None => Vec::new(),
        };
        if !domain_checks.is_empty() {
            let mut units: Vec<(usize, Task)> = (0..domains.len())
                .map(|d| {
                    let domain = domains[d].1;
                    let weight =
                        domain.user_profiles.len() + domain.spaces.len() + domain.apps.len();
                    (weight, Task::Domain(d))
                })
                .collect();
            units.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
            tasks.extend(units.into_iter().map(|(_, task)| task));
            tasks.extend(
                (0..regions)
                    .filter(|&r| account.regions[r].domains.is_empty())
                    .map(Task::EmptyRegion),
            );
        }
        let unit_place = |task: &Task| match *task {
            Task::Check(_) => place.clone(),
            Task::Domain(d) => format!(
                "domain {} of account {} in {}",
                domains[d].1.domain_id, account.account_id, account.regions[domains[d].0].region
            ),
            Task::EmptyRegion(r) => {
                format!(
                    "account {} in {}",
                    account.account_id, account.regions[r].region
                )
            }
        };
        let finished = on_workers(
            tasks.len(),
            || base.clone(),
            |engine, t| -> (Vec<Done>, Duration) {
                let started = Instant::now();
                let (input, checks): (Result<Value, String>, &[usize]) = match &tasks[t] {
                    Task::Check(i) => match &account_input {
                        Some(input) => (Ok(input.clone()), std::slice::from_ref(i)),
                        None => (Err("no account input".into()), std::slice::from_ref(i)),
                    },
                    Task::Domain(d) => {
                        let (region, domain) = domains[*d];
                        let value = overviews[*d].clone().and_then(|overview| {
                            let spaces = to_value(&domain.spaces)?;
                            let apps = to_value(&domain.apps)?;
                            Ok(with(&with(&overview, "spaces", spaces), "apps", apps))
                        });
                        (value.map(|v| input_of(region, vec![v])), domain_checks)
                    }
                    Task::EmptyRegion(r) => (Ok(input_of(*r, Vec::new())), domain_checks),
                };
                let mut converting = started.elapsed();
                let input = match input {
                    Ok(input) => input,
                    Err(message) => {
                        let failed = checks
                            .iter()
                            .map(|&i| (i, Err(message.clone()), Duration::ZERO));
                        return (failed.collect(), converting);
                    }
                };
                let setting = Instant::now();
                engine.set_input(input.clone());
                converting += setting.elapsed();
                let mut done: Vec<Done> = checks
                    .iter()
                    .map(|&i| {
                        let (outcome, took) = self.eval_on(engine, base, &input, i);
                        (i, outcome, took)
                    })
                    .collect();
                if !matches!(tasks[t], Task::Check(_)) {
                    // One copy of each ARN among the domain's checks (an app's two, a
                    // profile's), here on every core rather than in `finish` on one.
                    let mut arns = crate::vocab::Interner::default();
                    for (_, outcome, _) in &mut done {
                        for result in outcome.iter_mut().flatten() {
                            result.resource_arn = arns.share(result.resource_arn.clone());
                        }
                    }
                }
                (done, converting)
            },
        );
        for &i in domain_checks {
            merged.arns_shared[i] = true;
        }
        for (task, outcome) in tasks.iter().zip(finished) {
            let unit = unit_place(task);
            match outcome {
                Some((done, converting)) => {
                    input_duration += converting;
                    for (i, outcome, took) in done {
                        merged.add(i, &unit, outcome, took);
                    }
                }
                // A worker that died took this task's outcomes with it: its checks have no
                // complete result set.
                None => {
                    let checks = match task {
                        Task::Check(i) => std::slice::from_ref(i),
                        _ => domain_checks,
                    };
                    merged.fail_all(checks, &unit, "its evaluation worker ended abnormally");
                }
            }
        }
        input_duration
    }

    /// The evaluation of the merged outcomes: a check with a failure in any partition has an
    /// error and no results; results repeated by several partitions are kept once if equal.
    fn finish(&self, merged: Merged, started: Instant, input_duration: Duration) -> Evaluation {
        let mut evaluation = Evaluation {
            results: super::Results::default(),
            errors: Vec::new(),
            duration: Duration::ZERO,
            input_duration,
            check_durations: Vec::new(),
        };
        let Merged {
            results,
            partitions,
            errors,
            durations,
            arns_shared,
        } = merged;
        // One copy of each resource's ARN, however many checks judge it (a role: seven).
        // The domain checks' results share theirs already, domain by domain (an app: two).
        let mut arns = crate::vocab::Interner::default();
        for (i, (((mut chunks, errors), (partitions, took)), arns_shared)) in results
            .into_iter()
            .zip(errors)
            .zip(partitions.into_iter().zip(durations))
            .zip(arns_shared)
            .enumerate()
        {
            let check_id = &self.checks[i].metadata.id;
            evaluation.check_durations.push((check_id.clone(), took));
            // A disagreement leaves the chunks as they were; they go with the check's error.
            let error = match errors.as_slice() {
                [] if partitions > 1 => disagreement(&mut chunks),
                [] => None,
                [only] => Some(only.clone()),
                [first, rest @ ..] => {
                    Some(format!("{first}; and in {} more partition(s)", rest.len()))
                }
            };
            match error {
                None => {
                    for mut chunk in chunks {
                        if !arns_shared {
                            for r in &mut chunk {
                                r.resource_arn = arns.share(r.resource_arn.clone());
                            }
                        }
                        evaluation.results.push(chunk);
                    }
                }
                Some(message) => {
                    tracing::error!(check_id, error = %message, "check could not be evaluated");
                    evaluation.errors.push(EvaluationError {
                        check_id: check_id.clone(),
                        message,
                    });
                }
            }
        }
        evaluation.duration = started.elapsed();
        evaluation
    }
}

/// One task of an account's second stage.
enum Task {
    /// An `account` check on the account's input.
    Check(usize),
    /// The `domain` checks on a domain (its index in the account's domains).
    Domain(usize),
    /// The `domain` checks on a region without domains.
    EmptyRegion(usize),
}

/// `run(state, task)` for every task in `0..count`, on as many threads as the machine has
/// cores (each worker with its own `state`), tasks taken in order. Returns each task's
/// output by index; `None` where the worker running it died.
pub(super) fn on_workers<S, R: Send>(
    count: usize,
    state: impl Fn() -> S + Sync,
    run: impl Fn(&mut S, usize) -> R + Sync,
) -> Vec<Option<R>> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count)
        .max(1);
    let finished: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (next, state, run) = (&next, &state, &run);
                scope.spawn(move || {
                    let mut state = state();
                    let mut done = Vec::new();
                    loop {
                        let task = next.fetch_add(1, Ordering::Relaxed);
                        if task >= count {
                            break;
                        }
                        done.push((task, run(&mut state, task)));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut outputs: Vec<Option<R>> = (0..count).map(|_| None).collect();
    for (task, output) in finished.into_iter().flatten() {
        outputs[task] = Some(output);
    }
    outputs
}

/// Keeps one of each result that several partitions repeated; a resource with different
/// results in two partitions is the error returned.
fn disagreement(chunks: &mut [Vec<CheckResult>]) -> Option<String> {
    super::first_of_each(chunks, |r| &r.resource_arn)
        .err()
        .map(|arn| {
            format!(
                "partitions of the input gave different results for {arn}: the check's results depend on more than its `metadata.scope` says"
            )
        })
}

/// `object` with `key` set to `value` (the other fields shared, not copied).
fn with(object: &Value, key: &str, value: Value) -> Value {
    let mut fields: BTreeMap<Value, Value> = match object {
        Value::Object(fields) => fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => BTreeMap::new(),
    };
    fields.insert(Value::from(key), value);
    Value::from(fields)
}
