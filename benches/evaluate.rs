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
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const DOMAINS: usize = 20;
const PROFILES_PER_DOMAIN: usize = 500;
const APPS_PER_PROFILE: usize = 5;
/// One profile in five has its own role: 20 defaults + 1,980 own = 2,000 roles.
const OWN_ROLE_EVERY: usize = 5;

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/service-role/{name}")
}

fn full_access_document() -> Value {
    // The shape of AmazonSageMakerFullAccess: dozens of Allow statements over service actions.
    let statements: Vec<Value> = (0..40)
        .map(|i| {
            json!({"Sid": format!("S{i}"), "Effect": "Allow",
                   "Action": [format!("service{i}:Describe*"), format!("service{i}:List*"), "sagemaker:*"],
                   "Resource": "*"})
        })
        .chain([json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/*",
                       "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}})])
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn synthetic() -> Snapshot {
    let full_access = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess";
    let mut domains = Vec::new();
    let mut roles: Vec<Value> = Vec::new();
    for d in 0..DOMAINS {
        let domain_id = format!("d-bench{d:05}");
        let default_role = role_arn(&format!("default-{d}"));
        let mut bindings = vec![
            json!({"region": REGION, "domain_id": domain_id, "kind": "domain_default", "user_profile_name": null, "inherited": false}),
        ];
        let mut profiles = Vec::new();
        let mut apps = Vec::new();
        for p in 0..PROFILES_PER_DOMAIN {
            let name = format!("user-{p:04}");
            let own = (p % OWN_ROLE_EVERY == 0 && d * PROFILES_PER_DOMAIN + p > 0)
                .then(|| role_arn(&format!("user-{d}-{p}")));
            let binding = json!({"region": REGION, "domain_id": domain_id, "kind": "user_profile", "user_profile_name": name, "inherited": own.is_none()});
            match &own {
                Some(arn) => roles.push(json!({"arn": arn, "bindings": [binding]})),
                None => bindings.push(binding),
            }
            profiles.push(json!({
                "name": name, "arn": format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/{name}"),
                "domain_id": domain_id, "status": if p % 97 == 0 { "Update_Failed" } else { "InService" },
                "creation_time": "2026-01-01T00:00:00Z", "last_modified_time": null, "described": true,
                "failure_reason": null,
                "user_settings": own.as_ref().map(|arn| json!({"execution_role": arn, "security_groups": [], "default_landing_uri": null, "studio_web_portal": null, "notebook_output_sharing": null})),
                "single_sign_on_user_identifier": null, "single_sign_on_user_value": null}));
            for a in 0..APPS_PER_PROFILE {
                let (app_type, app_name, status, instance) = match a {
                    0 => ("JupyterServer", "default", "InService", "system"),
                    1 => (
                        "KernelGateway",
                        "datascience-1",
                        "InService",
                        "ml.t3.medium",
                    ),
                    2 => (
                        "JupyterLab",
                        "default",
                        if p % 50 == 0 { "Failed" } else { "InService" },
                        "ml.m5.large",
                    ),
                    _ => ("KernelGateway", "old", "Deleted", "ml.t3.medium"),
                };
                let app_name = format!("{app_name}-{a}");
                let described = instance != "system" && status != "Deleted";
                apps.push(json!({
                    "name": app_name, "app_type": app_type,
                    "arn": format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/{domain_id}/{name}/{}/{app_name}", app_type.to_lowercase()),
                    "domain_id": domain_id, "user_profile_name": name, "space_name": null, "status": status,
                    "creation_time": "2026-11-01T00:00:00Z", "instance_type": instance, "sagemaker_image_arn": null,
                    "described": described,
                    "last_user_activity_timestamp": described.then_some(if p % 3 == 0 { "2026-11-27T23:00:00Z" } else { "2026-11-20T00:00:00Z" }),
                    "last_health_check_timestamp": null, "failure_reason": (status == "Failed").then_some("image pull failed")}));
            }
        }
        roles.push(json!({"arn": default_role, "bindings": bindings}));
        let vpc_only = d % 2 == 0;
        domains.push(json!({
            "domain_id": domain_id, "arn": format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{domain_id}"),
            "name": format!("bench-{d}"), "status": "InService", "creation_time": "2026-01-01T00:00:00Z",
            "last_modified_time": null, "described": true, "failure_reason": null,
            "app_network_access_type": if vpc_only { "VpcOnly" } else { "PublicInternetOnly" },
            "auth_mode": "IAM", "vpc_id": "vpc-bench", "subnet_ids": ["subnet-a", "subnet-b"],
            "kms_key_id": if d % 3 == 0 { Value::Null } else { json!("arn:aws:kms:us-east-1:123456789012:key/k") },
            "home_efs_file_system_id": format!("fs-{d:08}"), "security_group_id_for_domain_boundary": null,
            "app_security_group_management": null, "url": null,
            "default_user_settings": {"execution_role": default_role, "security_groups": ["sg-closed"], "default_landing_uri": null, "studio_web_portal": null, "notebook_output_sharing": null},
            "default_space_settings": {"execution_role": default_role, "security_groups": []},
            "rstudio_domain_execution_role_arn": null, "domain_security_group_ids": [],
            "user_profiles": profiles, "spaces": [], "apps": apps}));
    }
    let execution_roles: Vec<Value> = roles
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let arn = r["arn"].as_str().unwrap_or_default().to_string();
            let name = arn.rsplit('/').next().unwrap_or_default().to_string();
            let attached = if i % 2 == 0 { json!([{"arn": full_access, "name": "AmazonSageMakerFullAccess"}]) } else { json!([]) };
            json!({"arn": arn, "state": "found", "bindings": r["bindings"], "role": {
                "arn": arn, "name": name, "path": "/service-role/", "role_id": format!("AROA{i:016}"), "create_date": null,
                "assume_role_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "attached_policies": attached,
                "inline_policies": [{"name": "data", "document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": if i % 10 == 0 { "*".to_string() } else { format!("arn:aws:s3:::team-{i}/*") }},
                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::team-{i}")}]}}],
                "permissions_boundary_arn": null}})
        })
        .collect();
    let snapshot = json!({
        "schema_version": "1", "scanner_version": "bench",
        "started_at": "2026-11-28T00:00:00Z", "finished_at": "2026-11-28T00:00:00Z",
        "accounts": [{"account_id": ACCOUNT, "partition": "aws", "execution_roles": execution_roles, "regions": [{
            "region": REGION, "domains": domains,
            "network": {"subnets": [], "vpc_endpoints": [], "security_groups": [], "route_tables": [
                {"route_table_id": "rtb-main", "vpc_id": "vpc-bench", "main": true, "subnet_ids": [], "routes": []}]},
            "efs_file_systems": []}]}],
        "managed_policies": {full_access: {"arn": full_access, "name": "AmazonSageMakerFullAccess", "aws_managed": true, "default_version_id": "v1", "document": full_access_document()}},
        "collection_errors": [], "api_calls": []});
    Snapshot::from_json("synthetic", &snapshot.to_string())
        .unwrap_or_else(|e| panic!("synthetic snapshot: {e}"))
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
    let evaluation = judge.policies.evaluate(&snapshot, &judge.thresholds);
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
