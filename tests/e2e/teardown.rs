//! `teardown-plan` against a seeded domain: every step, in the right order, with commands
//! that name the real resources; then the same domain deleted with its storage retained.

use aws_sdk_sagemaker::types::{AppInstanceType, AppType, SharingType};
use serde_json::Value;

use crate::fixtures::{Fixture, Owner, tag};
use crate::util::{self, REGION, run_bin};

fn plan(account: &util::Account, domain: &str) -> Value {
    let (code, out, err) = run_bin(
        &["teardown-plan", "--domain", domain, "--format", "json"],
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// (operation, command line) of every step, the operation being e.g. `sagemaker delete-app`.
fn steps(plan: &Value) -> Vec<(String, String)> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let argv: Vec<&str> = s["command"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            (format!("{} {}", argv[1], argv[2]), argv.join(" "))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_lists_every_step_in_order_and_executes_nothing() {
    let account = util::account("000000000037").await;
    let f = Fixture::new(&account);
    let (vpc, subnets) = f.default_vpc().await;
    let domain = f
        .domain(crate::fixtures::DomainSpec {
            name: "to-delete",
            vpc_id: &vpc,
            subnet_ids: subnets.clone(),
            default_role: Some(f.role_arn("service-role/default")),
            ..Default::default()
        })
        .await;
    f.profile(&domain, "alice", None, &[], vec![]).await;
    f.space(&domain, "team", "alice", SharingType::Shared, vec![])
        .await;
    let app = |owner, app_type, name: &'static str, tags| {
        f.app(
            &domain,
            owner,
            app_type,
            name,
            AppInstanceType::MlT3Medium,
            tags,
        )
    };
    app(
        Owner::Profile("alice"),
        AppType::JupyterServer,
        "default",
        vec![],
    )
    .await;
    app(Owner::Space("team"), AppType::JupyterLab, "default", vec![]).await;
    app(
        Owner::Profile("alice"),
        AppType::KernelGateway,
        "broken",
        vec![tag("emulator:status", "Failed")],
    )
    .await;
    let described = account
        .sagemaker()
        .describe_domain()
        .domain_id(&domain)
        .send()
        .await
        .unwrap();
    let home = described.home_efs_file_system_id().unwrap().to_string();

    let live = plan(&account, &domain);
    assert_eq!(live["domain_id"], domain.as_str());
    assert_eq!(live["region"], REGION);
    assert_eq!(live["domain"]["name"], "to-delete");
    let ops: Vec<String> = steps(&live).into_iter().map(|(op, _)| op).collect();
    let mut expected: Vec<&str> = vec![
        "sagemaker delete-app",
        "sagemaker delete-app",
        "sagemaker list-apps",
        "sagemaker delete-space",
        "sagemaker delete-user-profile",
        "sagemaker list-spaces",
        "sagemaker list-user-profiles",
        "sagemaker delete-domain",
        "sagemaker describe-domain",
    ];
    // One mount target per subnet (as SageMaker makes them).
    expected.extend(subnets.iter().map(|_| "efs delete-mount-target"));
    expected.extend([
        "efs describe-mount-targets",
        "efs delete-file-system",
        "ec2 revoke-security-group-ingress",
        "ec2 revoke-security-group-egress",
        "ec2 delete-security-group",
        "ec2 delete-security-group",
    ]);
    assert_eq!(ops, expected, "{live:#}");
    let lines: Vec<String> = steps(&live).into_iter().map(|(_, line)| line).collect();
    assert!(
        lines[0].contains("--user-profile-name alice --app-type JupyterServer --app-name default")
    );
    assert!(lines[1].contains("--space-name team --app-type JupyterLab --app-name default"));
    assert!(lines.iter().all(|l| !l.contains("broken")));
    assert!(lines[7].ends_with("--retention-policy HomeEfsFileSystem=Retain"));
    assert!(lines.iter().any(|l| l.ends_with(&format!(
        "delete-file-system --region {REGION} --file-system-id {home}"
    ))));
    assert_eq!(live["blockers"].as_array().unwrap().len(), 1);
    assert!(
        live["blockers"][0]["resource"]
            .as_str()
            .unwrap()
            .contains("broken")
    );

    // Nothing was executed: the domain and its apps are all still there.
    let apps = account
        .sagemaker()
        .list_apps()
        .domain_id_equals(&domain)
        .send()
        .await
        .unwrap();
    assert!(
        apps.apps()
            .iter()
            .all(|a| a.status().unwrap().as_str() != "Deleted")
    );

    // Delete the domain the usual way (storage retained): the plan is its leftovers.
    let sm = account.sagemaker();
    f.delete_app(&domain, "alice", AppType::JupyterServer, "default")
        .await;
    sm.delete_app()
        .domain_id(&domain)
        .space_name("team")
        .app_type(AppType::JupyterLab)
        .app_name("default")
        .send()
        .await
        .unwrap();
    sm.delete_space()
        .domain_id(&domain)
        .space_name("team")
        .send()
        .await
        .unwrap();
    f.delete_profile(&domain, "alice").await;
    f.delete_domain(&domain).await;

    let leftovers = plan(&account, &domain);
    assert!(leftovers["domain"].is_null());
    let ops: Vec<String> = steps(&leftovers).into_iter().map(|(op, _)| op).collect();
    assert_eq!(ops, expected[9..], "{leftovers:#}");
    let (code, text, err) = run_bin(&["teardown-plan", "--domain", &domain], &account.env());
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("no longer exists"), "{text}");
    assert!(text.contains("  1. Delete mount target"), "{text}");

    // A domain that never existed: nothing to do.
    let (code, text, _) = run_bin(
        &["teardown-plan", "--domain", "d-000000000000"],
        &account.env(),
    );
    assert_eq!(code, 0);
    assert!(text.starts_with("Nothing is left"), "{text}");
    // Not a domain id: usage error.
    let (code, _, err) = run_bin(&["teardown-plan", "--domain", "research"], &account.env());
    assert_eq!(code, 2, "{err}");
}
