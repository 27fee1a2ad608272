//! Lists longer than one page: every page is read, and only as many pages as needed.

use std::collections::BTreeMap;

use aws_sdk_sagemaker::types::{AppInstanceType, AppType};
use sagemaker_auditor::collect::AwsClients;
use sagemaker_auditor::snapshot::RoleState;

use crate::fixtures::{DomainSpec, Fixture, Owner, sagemaker_trust};
use crate::util::{self, REGION};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_reads_every_page_of_large_lists() {
    let account = util::account("000000000002").await;
    let f = Fixture::new(&account);
    let (vpc, subnets) = f.default_vpc().await;

    for i in 0..250 {
        f.role(&format!("role-{i:03}"), sagemaker_trust(), &[], &[])
            .await;
    }
    let mut domains = Vec::new();
    for i in 0..120 {
        domains.push(
            f.domain(DomainSpec {
                name: &format!("domain-{i:03}"),
                vpc_id: &vpc,
                subnet_ids: subnets.clone(),
                default_role: Some(f.role_arn(&format!("service-role/role-{i:03}"))),
                ..Default::default()
            })
            .await,
        );
    }
    // 150 profiles and 110 apps over the first domains: more than one page of each.
    for i in 0..150 {
        f.profile(&domains[i % 10], &format!("user-{i:03}"), None, &[], vec![])
            .await;
    }
    for i in 0..110 {
        f.app(
            &domains[i % 10],
            Owner::Profile(&format!("user-{i:03}")),
            AppType::JupyterServer,
            "default",
            AppInstanceType::System,
            vec![],
        )
        .await;
    }

    let clients = AwsClients::new(account.sdk.clone());
    let s = util::scan(&clients, &[REGION]).await;
    assert_eq!(s.collection_errors, vec![]);
    let region = &s.accounts[0].regions[0];
    assert_eq!(region.domains.len(), 120);
    assert_eq!(
        region
            .domains
            .iter()
            .map(|d| d.user_profiles.len())
            .sum::<usize>(),
        150
    );
    assert_eq!(
        region.domains.iter().map(|d| d.apps.len()).sum::<usize>(),
        110
    );
    assert_eq!(region.efs_file_systems.len(), 120);
    assert_eq!(
        region.network.security_groups.len(),
        240,
        "both NFS groups of every domain"
    );
    let roles = &s.accounts[0].execution_roles;
    assert_eq!(roles.len(), 120, "only the roles domains use");
    assert!(roles.iter().all(|r| r.state == RoleState::Found));
    assert_eq!(
        roles.iter().map(|r| r.bindings.len()).sum::<usize>(),
        120 + 150
    );

    let calls: BTreeMap<String, u64> = util::call_counts(&s)
        .into_iter()
        .map(|(k, (calls, _))| {
            (
                k.split_once(':')
                    .map_or(k.clone(), |(_, op)| op.to_string()),
                calls,
            )
        })
        .collect();
    // 100 per page: two pages each, not one call per domain.
    assert_eq!(calls["ListDomains"], 2);
    assert_eq!(calls["ListUserProfiles"], 2);
    assert_eq!(calls["ListApps"], 2);
    assert_eq!(calls["DescribeFileSystems"], 2);
    assert_eq!(calls["DescribeDomain"], 120);
    assert_eq!(calls["DescribeUserProfile"], 150);
    assert!(
        !calls.contains_key("DescribeApp"),
        "free `system` apps need no DescribeApp"
    );
    assert_eq!(calls["GetAccountAuthorizationDetails"], 1);
}
