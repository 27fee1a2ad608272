//! Error paths an emulator cannot produce, injected with aws-smithy-mocks on top of the real
//! emulator (unmatched calls pass through to it).

use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::types::RoleDetail;
use aws_sdk_sagemaker::operation::list_apps::ListAppsError;
use aws_sdk_sagemaker::operation::list_domains::ListDomainsError;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use aws_smithy_types::error::ErrorMetadata;
use sagemaker_auditor::collect::AwsClients;
use sagemaker_auditor::snapshot::{ErrorKind, RoleState, Snapshot};

use crate::fixtures::small_account;
use crate::util::{self, REGION};

/// Clients that answer `rules` themselves and pass every other call to the emulator.
fn with_faults(sdk: aws_config::SdkConfig, rules: &[&Rule]) -> AwsClients {
    let mut faults = MockResponseInterceptor::new()
        .rule_mode(RuleMode::MatchAny)
        .allow_passthrough();
    for rule in rules {
        faults = faults.with_rule(rule);
    }
    AwsClients::new(sdk).with_interceptor(faults)
}

fn throttling() -> ListDomainsError {
    ListDomainsError::generic(
        ErrorMetadata::builder()
            .code("ThrottlingException")
            .message("Rate exceeded")
            .build(),
    )
}

async fn scan(clients: &AwsClients) -> Snapshot {
    util::scan(clients, &[REGION]).await
}

fn calls(s: &Snapshot, operation: &str) -> (u64, u64) {
    util::call_counts(s)
        .into_iter()
        .find(|(k, _)| k.ends_with(&format!(":{operation}")))
        .map_or((0, 0), |(_, v)| v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_on_list_apps_is_recorded_and_the_rest_completes() {
    let (account, domain) = small_account("000000000003").await;
    let denied = mock!(aws_sdk_sagemaker::Client::list_apps).then_error(|| {
        ListAppsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User is not authorized to perform: sagemaker:ListApps")
                .build(),
        )
    });
    let clients = with_faults(account.sdk.clone(), &[&denied]);
    let s = scan(&clients).await;

    assert_eq!(s.collection_errors.len(), 1, "{:?}", s.collection_errors);
    let e = &s.collection_errors[0];
    assert_eq!(
        (
            e.account_id.as_str(),
            e.region.as_str(),
            e.service.as_str(),
            e.operation.as_str(),
            e.error
        ),
        (
            "000000000003",
            REGION,
            "sagemaker",
            "ListApps",
            ErrorKind::AccessDenied
        )
    );
    assert_eq!(e.error_code.as_deref(), Some("AccessDeniedException"));
    assert!(e.message.contains("not authorized"), "{}", e.message);
    let d = &s.accounts[0].regions[0].domains[0];
    assert_eq!(d.domain_id, domain);
    assert!(d.described);
    assert_eq!(d.user_profiles.len(), 1, "profiles are still collected");
    assert!(d.apps.is_empty(), "apps are unknown, and the error says so");
    assert_eq!(s.accounts[0].regions[0].efs_file_systems.len(), 1);
    assert!(
        s.accounts[0]
            .execution_roles
            .iter()
            .all(|r| r.state == RoleState::Found)
    );

    // Judged: only the app checks lack their input, and they say so instead of passing.
    let config = sagemaker_auditor::config::Config::default();
    let judge = sagemaker_auditor::pipeline::Judge::load(&config, &[]).unwrap();
    let report = judge.report(&s, &config, chrono::Utc::now().date_naive());
    let app_wide = format!("arn:aws:sagemaker:{REGION}:000000000003:app/*");
    for check in ["app_failed", "app_long_running"] {
        let results: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.check_id == check)
            .map(|f| (f.status, f.resource_arn.as_str()))
            .collect();
        assert_eq!(
            results,
            vec![(sagemaker_auditor::report::Status::Error, app_wide.as_str())]
        );
    }
    let errors: std::collections::BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.status == sagemaker_auditor::report::Status::Error)
        .map(|f| f.check_id.as_str())
        .collect();
    assert_eq!(errors, ["app_failed", "app_long_running"].into());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_and_the_scan_completes() {
    let (account, domain) = small_account("000000000004").await;
    let throttled = mock!(aws_sdk_sagemaker::Client::list_domains)
        .sequence()
        .error(throttling)
        .times(2)
        .build();
    let sdk = account
        .sdk
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::adaptive().with_max_attempts(4))
        .build();
    let clients = with_faults(sdk, &[&throttled]);
    let s = scan(&clients).await;

    assert_eq!(s.collection_errors, vec![], "throttling was retried away");
    assert_eq!(s.accounts[0].regions[0].domains.len(), 1);
    assert_eq!(s.accounts[0].regions[0].domains[0].domain_id, domain);
    assert_eq!(
        calls(&s, "ListDomains"),
        (1, 3),
        "one call, two throttled attempts and a good one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_throttling_becomes_a_collection_error_not_an_empty_region() {
    let (account, _) = small_account("000000000005").await;
    let throttled = mock!(aws_sdk_sagemaker::Client::list_domains)
        .sequence()
        .error(throttling)
        .repeatedly()
        .build();
    let clients = with_faults(account.sdk.clone(), &[&throttled]);
    let s = scan(&clients).await;

    assert_eq!(s.collection_errors.len(), 1);
    assert_eq!(
        (
            s.collection_errors[0].operation.as_str(),
            s.collection_errors[0].error
        ),
        ("ListDomains", ErrorKind::Throttling)
    );
    assert_eq!(
        calls(&s, "ListDomains"),
        (1, 2),
        "retried up to max_attempts"
    );
    // EFS is still collected: an unreadable domain list is not an absent one.
    assert_eq!(s.accounts[0].regions[0].efs_file_systems.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_iam_pages_are_followed() {
    let (account, _) = small_account("000000000006").await;
    let role = |name: &str| {
        RoleDetail::builder()
            .arn(format!(
                "arn:aws:iam::000000000006:role/service-role/{name}"
            ))
            .role_name(name)
            .path("/service-role/")
            .role_id(format!("AROA{name}"))
            .assume_role_policy_document(
                "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
            )
            .build()
    };
    let first = role("default-role");
    let second = role("user-role");
    let page_one = mock!(aws_sdk_iam::Client::get_account_authorization_details)
        .match_requests(|r| r.marker().is_none())
        .then_output(move || {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(first.clone())
                .is_truncated(true)
                .marker("page-2")
                .build()
        });
    let page_two = mock!(aws_sdk_iam::Client::get_account_authorization_details)
        .match_requests(|r| r.marker() == Some("page-2"))
        .then_output(move || {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(second.clone())
                .is_truncated(false)
                .build()
        });
    let clients = with_faults(account.sdk.clone(), &[&page_one, &page_two]);
    let s = scan(&clients).await;

    assert_eq!(s.collection_errors, vec![]);
    assert_eq!(calls(&s, "GetAccountAuthorizationDetails").0, 2);
    let roles = &s.accounts[0].execution_roles;
    assert_eq!(roles.len(), 2);
    assert!(
        roles.iter().all(|r| r.state == RoleState::Found),
        "a role on the second page is not missing"
    );
    assert_eq!(
        roles[0]
            .role
            .as_ref()
            .map(|r| r.assume_role_policy["Version"].clone()),
        Some("2012-10-17".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_scan_reports_its_own_calls_when_clients_are_reused() {
    let (account, _) = small_account("000000000009").await;
    let clients = AwsClients::new(account.sdk.clone());
    let first = scan(&clients).await;
    let second = scan(&clients).await;
    assert_eq!(
        first.api_calls, second.api_calls,
        "the second scan does not include the first's calls"
    );
    assert_eq!(calls(&second, "ListDomains"), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_deleted_between_list_and_describe_is_gone_not_an_error() {
    let (account, real) = small_account("000000000010").await;
    let listed = mock!(aws_sdk_sagemaker::Client::list_domains).then_output(move || {
        aws_sdk_sagemaker::operation::list_domains::ListDomainsOutput::builder()
            .domains(
                aws_sdk_sagemaker::types::DomainDetails::builder()
                    .domain_id("d-vanished0000")
                    .build(),
            )
            .domains(
                aws_sdk_sagemaker::types::DomainDetails::builder()
                    .domain_id(&real)
                    .build(),
            )
            .build()
    });
    let s = scan(&with_faults(account.sdk.clone(), &[&listed])).await;

    assert_eq!(
        s.collection_errors,
        vec![],
        "ResourceNotFound on describe means deleted"
    );
    let domains = &s.accounts[0].regions[0].domains;
    assert_eq!(domains.len(), 1);
    assert!(domains[0].described && domains[0].user_profiles.len() == 1);
    assert_eq!(calls(&s, "DescribeDomain").0, 2);
}
