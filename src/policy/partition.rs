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

use super::{CheckResult, Evaluation, EvaluationError, PolicySet, eval_check_guarded};
use crate::snapshot::Snapshot;

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

/// Per check: its results from every partition, the first failure, how long it ran.
struct Merged {
    /// Each partition's results as they came (moved once, into the evaluation, by `finish`).
    results: Vec<Vec<Vec<CheckResult>>>,
    /// Partitions each check was evaluated on.
    partitions: Vec<usize>,
    errors: Vec<Vec<String>>,
    durations: Vec<Duration>,
}

impl Merged {
    fn new(checks: usize) -> Self {
        Self {
            results: (0..checks).map(|_| Vec::new()).collect(),
            partitions: vec![0; checks],
            errors: vec![Vec::new(); checks],
            durations: vec![Duration::ZERO; checks],
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

/// One check on one partition (unit index, check index), and what a domain worker did: its
/// outcomes, the domains' overviews it built, its time building inputs.
type Done = (usize, usize, Outcome, Duration);
type WorkerDone = (Vec<Done>, Vec<(usize, Value)>, Duration);

/// One partition of a `domain` evaluation: a domain of a region, or a region without
/// domains.
struct Unit {
    region: usize,
    domain: Option<usize>,
    /// Resources in it, for evaluating the largest first.
    weight: usize,
}

impl PolicySet {
    /// Evaluates every check against `input` (a snapshot, or anything serialising like one)
    /// as one whole input, whatever the checks' scopes, with `config` as `data.config`.
    /// Checks run in parallel, one engine clone per worker. Scans use
    /// [`PolicySet::evaluate_snapshot`], which evaluates each check on its partitions.
    pub fn evaluate<T: Serialize>(&self, input: &T, config: &serde_json::Value) -> Evaluation {
        let started = Instant::now();
        let mut merged = Merged::new(self.checks.len());
        // Through JSON text and regorus's own parser: measured 30% faster than building a
        // serde_json::Value first and converting that. `from_json_str` (unlike serde_json's
        // `from_str`) shares each object key among all objects: the benchmark snapshot's input
        // took 116 MB of RSS before, 80 MB with it.
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

    /// The `domain` checks on every domain of every account, then the `account` checks on
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
            let place = format!("account {}", account.account_id);
            let converting = Instant::now();
            let contexts = to_value(&account.context()).and_then(|a| {
                let regions = account
                    .regions
                    .iter()
                    .map(|r| to_value(&r.context()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((a, regions))
            });
            input_duration += converting.elapsed();
            let (account_value, regions) = match contexts {
                Ok(contexts) => contexts,
                Err(message) => {
                    merged.fail_all(domain_checks, &place, &message);
                    merged.fail_all(account_checks, &place, &message);
                    continue;
                }
            };
            // A domain's input: the top, its account without roles, its region, itself.
            // (With the roles, every domain check slowed with the size of the account: 1.7 s
            // instead of 3 ms for `domain_unhealthy` on 100 domains and 10,000 roles, the
            // profile dominated by value comparisons and map inserts, as if a rule over every
            // role were computed for each partition; a slim account passed to the IAM checks'
            // functions changed nothing, so it is not the arguments.)
            let domain_account = without(&account_value, &ACCOUNT_ONLY);
            let input_of = |region: usize, domains: Vec<Value>| {
                let region = with(&regions[region], "domains", Value::from(domains));
                let account = with(&domain_account, "regions", Value::from(vec![region]));
                with(&top, "accounts", Value::from(vec![account]))
            };
            let (overviews, took) = self.run_domains(
                account,
                base,
                domain_checks,
                !account_checks.is_empty(),
                &input_of,
                merged,
            );
            input_duration += took;
            if account_checks.is_empty() {
                continue;
            }
            // The account's input: every region with its domains' overviews, in order.
            let Some(overviews) = overviews else {
                merged.fail_all(
                    account_checks,
                    &place,
                    "the input of one of its domains could not be built",
                );
                continue;
            };
            let mut overviews = overviews.into_iter();
            let regions: Vec<Value> = account
                .regions
                .iter()
                .zip(&regions)
                .map(|(region, context)| {
                    let domains: Vec<Value> =
                        overviews.by_ref().take(region.domains.len()).collect();
                    with(context, "domains", Value::from(domains))
                })
                .collect();
            let input = with(
                &top,
                "accounts",
                Value::from(vec![with(&account_value, "regions", Value::from(regions))]),
            );
            self.run_partition(base, &input, account_checks, &place, merged);
        }
        input_duration
    }

    /// The `domain` checks on each domain of `account` (and each region without domains),
    /// in parallel over the domains, largest first. With `keep_overviews`, also returns
    /// every domain's value without its spaces and apps, in snapshot order (`None` when one
    /// could not be built). Returns the time spent building inputs too.
    #[allow(clippy::too_many_arguments)]
    fn run_domains(
        &self,
        account: &crate::snapshot::AccountSnapshot,
        base: &Engine,
        checks: &[usize],
        keep_overviews: bool,
        input_of: &(dyn Fn(usize, Vec<Value>) -> Value + Sync),
        merged: &mut Merged,
    ) -> (Option<Vec<Value>>, Duration) {
        let mut units: Vec<Unit> = Vec::new();
        for (r, region) in account.regions.iter().enumerate() {
            if region.domains.is_empty() {
                units.push(Unit {
                    region: r,
                    domain: None,
                    weight: 0,
                });
            }
            for (d, domain) in region.domains.iter().enumerate() {
                units.push(Unit {
                    region: r,
                    domain: Some(d),
                    weight: 1
                        + domain.user_profiles.len()
                        + domain.spaces.len()
                        + domain.apps.len(),
                });
            }
        }
        if checks.is_empty() && !keep_overviews {
            return (Some(Vec::new()), Duration::ZERO);
        }
        units.sort_by_key(|u| std::cmp::Reverse(u.weight));
        let place = |unit: &Unit| {
            let region = &account.regions[unit.region];
            match unit.domain {
                Some(d) => format!(
                    "domain {} of account {} in {}",
                    region.domains[d].domain_id, account.account_id, region.region
                ),
                None => format!("account {} in {}", account.account_id, region.region),
            }
        };
        let next = AtomicUsize::new(0);
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(units.len())
            .max(1);
        let finished: Vec<WorkerDone> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let (next, units) = (&next, &units);
                    scope.spawn(move || {
                        let mut engine = base.clone();
                        let (mut done, mut overviews) = (Vec::new(), Vec::new());
                        let mut converting = Duration::ZERO;
                        loop {
                            let u = next.fetch_add(1, Ordering::Relaxed);
                            let Some(unit) = units.get(u) else { break };
                            let started = Instant::now();
                            let region = &account.regions[unit.region];
                            let domain = match unit.domain {
                                Some(d) => to_value(&region.domains[d]).map(Some),
                                None => Ok(None),
                            };
                            let domain = match domain {
                                Ok(domain) => domain,
                                Err(message) => {
                                    converting += started.elapsed();
                                    for &i in checks {
                                        done.push((u, i, Err(message.clone()), Duration::ZERO));
                                    }
                                    continue;
                                }
                            };
                            if keep_overviews && let Some(domain) = &domain {
                                overviews.push((u, without(domain, &DOMAIN_ONLY)));
                            }
                            if checks.is_empty() {
                                converting += started.elapsed();
                                continue;
                            }
                            let input = input_of(unit.region, domain.into_iter().collect());
                            engine.set_input(input.clone());
                            converting += started.elapsed();
                            for &i in checks {
                                let started = Instant::now();
                                let outcome = eval_check_guarded(&mut engine, &self.checks[i]);
                                if outcome.is_err() {
                                    // A panic or timeout may leave the clone mid-evaluation.
                                    engine = base.clone();
                                    engine.set_input(input.clone());
                                }
                                done.push((u, i, outcome, started.elapsed()));
                            }
                        }
                        (done, overviews, converting)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut converting = Duration::ZERO;
        let mut reported = vec![0usize; self.checks.len()];
        let mut by_unit: Vec<Option<Value>> = vec![None; units.len()];
        for (done, overviews, took) in finished {
            converting += took;
            for (u, i, outcome, took) in done {
                reported[i] += 1;
                merged.add(i, &place(&units[u]), outcome, took);
            }
            for (u, overview) in overviews {
                by_unit[u] = Some(overview);
            }
        }
        // A worker that died took its partitions' outcomes with it: those checks have no
        // complete result set.
        for &i in checks {
            if reported[i] < units.len() {
                merged.add(
                    i,
                    &format!("account {}", account.account_id),
                    Err("its evaluation worker ended abnormally".into()),
                    Duration::ZERO,
                );
            }
        }
        if !keep_overviews {
            return (Some(Vec::new()), converting);
        }
        // Back in snapshot order: by region, then domain.
        let mut order: Vec<usize> = (0..units.len())
            .filter(|&u| units[u].domain.is_some())
            .collect();
        order.sort_by_key(|&u| (units[u].region, units[u].domain));
        let overviews: Option<Vec<Value>> = order.into_iter().map(|u| by_unit[u].take()).collect();
        (overviews, converting)
    }

    /// The evaluation of the merged outcomes: a check with a failure in any partition has an
    /// error and no results; results repeated by several partitions are kept once if equal.
    fn finish(&self, merged: Merged, started: Instant, input_duration: Duration) -> Evaluation {
        let mut evaluation = Evaluation {
            results: Vec::new(),
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
        } = merged;
        // One allocation of the final size: growing by doubling would leave up to half of
        // the largest thing an evaluation holds unused.
        evaluation.results.reserve_exact(
            results
                .iter()
                .flat_map(|chunks| chunks.iter().map(Vec::len))
                .sum(),
        );
        // One copy of each resource's ARN, however many checks judge it (an app: two, a
        // role: seven).
        let mut arns = crate::vocab::Interner::default();
        for (i, ((chunks, errors), (partitions, took))) in results
            .into_iter()
            .zip(errors)
            .zip(partitions.into_iter().zip(durations))
            .enumerate()
        {
            let check_id = &self.checks[i].metadata.id;
            evaluation.check_durations.push((check_id.clone(), took));
            let mut results = match chunks.len() {
                1 => chunks.into_iter().next().unwrap_or_default(),
                _ => {
                    let mut all = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
                    for chunk in chunks {
                        all.extend(chunk);
                    }
                    all
                }
            };
            let error = match errors.as_slice() {
                [] if partitions > 1 => disagreement(&mut results),
                [] => None,
                [only] => Some(only.clone()),
                [first, rest @ ..] => {
                    Some(format!("{first}; and in {} more partition(s)", rest.len()))
                }
            };
            match error {
                None => evaluation.results.extend(results.into_iter().map(|mut r| {
                    r.resource_arn = arns.share(r.resource_arn);
                    r
                })),
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

/// Keeps one of each result that several partitions repeated; a resource with different
/// results in two partitions is the error returned.
fn disagreement(results: &mut Vec<CheckResult>) -> Option<String> {
    match super::first_of_each(std::mem::take(results), |r| &r.resource_arn) {
        Ok(kept) => {
            *results = kept;
            None
        }
        Err(arn) => Some(format!(
            "partitions of the input gave different results for {arn}: the check's results depend on more than its `metadata.scope` says"
        )),
    }
}

/// A value through JSON text and regorus's parser (which shares object keys).
pub(super) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, String> {
    let text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    Value::from_json_str(&text).map_err(|e| e.to_string())
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

/// `object` without `keys`.
fn without(object: &Value, keys: &[&str]) -> Value {
    match object {
        Value::Object(fields) => Value::from(
            fields
                .iter()
                .filter(|(k, _)| !matches!(k, Value::String(k) if keys.contains(&k.as_ref())))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        ),
        other => other.clone(),
    }
}
