//! Evaluation of a large synthetic snapshot: 20 domains, 10,000 user profiles, 50,000 apps,
//! 2,000 execution roles. Target: under one second on a 2-core machine.
//!
//! `cargo bench --bench evaluate` prints criterion's figures, and once, the split between
//! building the report and the policies' own evaluation.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use sagemaker_auditor::config::Config;
use sagemaker_auditor::pipeline::Judge;
use sagemaker_auditor::snapshot::Snapshot;

// The binary's allocator (src/main.rs), so the figures are the scan's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The snapshot `scripts/synthetic-snapshot` writes at its default size (the one generator,
/// which `scripts/bench-offline` also scans).
fn synthetic() -> Snapshot {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/synthetic-snapshot");
    let output = std::process::Command::new("python3")
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("{script}: {e}"));
    Snapshot::from_json("synthetic", &text).unwrap_or_else(|e| panic!("synthetic snapshot: {e}"))
}

fn bench(c: &mut Criterion) {
    let snapshot = synthetic();
    let counts = snapshot.resource_counts();
    let config = Config::default();
    let judge = Judge::load(&config, &[]).unwrap_or_else(|e| panic!("{e}"));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default();

    let started = Instant::now();
    let report = judge.report(&snapshot, &config, today);
    println!(
        "synthetic snapshot: {} domains, {} user profiles, {} apps, {} execution roles -> {} findings ({} FAIL) in {:?} (first run)",
        counts.domains,
        counts.user_profiles,
        counts.apps,
        counts.execution_roles,
        report.findings.len(),
        report.summary.fail,
        started.elapsed()
    );
    assert!(
        report.evaluation_errors.is_empty(),
        "{:?}",
        report.evaluation_errors
    );
    let evaluation = judge
        .policies
        .evaluate_snapshot(&snapshot, &judge.thresholds);
    let mut slowest = evaluation.check_durations.clone();
    slowest.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
    println!(
        "policy evaluation alone: {:?}, of which input conversion {:?}; per check (in parallel):",
        evaluation.duration, evaluation.input_duration
    );
    for (id, d) in slowest {
        println!("  {id:<36} {d:?}");
    }
    let started = Instant::now();
    let built = sagemaker_auditor::report::findings::build(
        sagemaker_auditor::report::findings::ReportInput {
            snapshot: &snapshot,
            policies: &judge.policies,
            evaluation,
            waivers: &config.waivers,
            compliance: &judge.compliance,
            today,
        },
    );
    println!(
        "building the report of {} findings: {:?}",
        built.findings.len(),
        started.elapsed()
    );
    let started = Instant::now();
    drop(built);
    println!("dropping it: {:?}", started.elapsed());

    let mut group = c.benchmark_group("evaluate");
    group.sample_size(10);
    group.bench_function("report_20_domains_10k_profiles_50k_apps_2k_roles", |b| {
        b.iter(|| black_box(judge.report(black_box(&snapshot), &config, today)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
