//! CloudTrail attribution: who made the change a finding is about, and the report's
//! `changes`, read through LookupEvents from the emulator's recorded control-plane calls.

use aws_sdk_sagemaker::types::AppNetworkAccessType;
use serde_json::Value;

use crate::fixtures::small_account;
use crate::util::{REGION, calls_in, run_bin, temp_dir};

/// The domain is created by the scanner's user, then set public by another user, who also
/// signs in to Studio: the public-domain finding names the second user's `UpdateDomain`,
/// not the sign-in; `changes` lists every change, oldest first, and no sign-in.
#[tokio::test(flavor = "multi_thread")]
async fn a_finding_names_the_actor_of_the_last_change() {
    let (account, domain) = small_account("000000000036").await;
    let mallory = account.another_user("mallory").await;
    mallory
        .sagemaker()
        .update_domain()
        .domain_id(&domain)
        .app_network_access_type(AppNetworkAccessType::PublicInternetOnly)
        .send()
        .await
        .unwrap();
    mallory
        .sagemaker()
        .create_presigned_domain_url()
        .domain_id(&domain)
        .user_profile_name("user")
        .send()
        .await
        .unwrap();

    let dir = temp_dir("attribution");
    let snapshot_path = dir.join("snapshot.json");
    let report = scan_saving(&account, &snapshot_path);
    let mallory_arn = format!("arn:aws:iam::{}:user/mallory", account.id);
    let domain_arn = format!("arn:aws:sagemaker:{REGION}:{}:domain/{domain}", account.id);

    let public = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == "domain_public_internet_access")
        .expect("the public-domain finding");
    assert_eq!(public["status"], "FAIL");
    let who = &public["attribution"];
    assert_eq!(who["event_name"], "UpdateDomain", "{who}");
    assert_eq!(who["actor_arn"], mallory_arn.as_str());
    assert_eq!(who["actor_type"], "IAMUser");
    assert!(!who["source_ip"].as_str().unwrap().is_empty());
    assert!(
        who["user_agent"].as_str().unwrap().contains("aws-sdk-rust"),
        "{who}"
    );
    // Passing findings carry none.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "PASS")
            .all(|f| f["attribution"].is_null())
    );

    let changes = report["changes"].as_array().expect("changes section");
    let names: Vec<&str> = changes
        .iter()
        .map(|c| c["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "CreateDomain",
            "CreateUserProfile",
            "CreateApp",
            "UpdateDomain"
        ]
    );
    assert!(
        changes[0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == domain_arn.as_str())
    );
    assert!(
        changes[0]["actor_arn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("arn:aws:iam::{}:user/auditor-", account.id))
    );
    assert_eq!(changes[3]["actor_arn"], mallory_arn.as_str());

    // One LookupEvents page for the account's one region; the sign-in is in the snapshot.
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot_path).unwrap()).unwrap();
    assert_eq!(calls_in(&snapshot, "LookupEvents"), 1);
    assert!(
        snapshot["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_name"] == "CreatePresignedDomainUrl"
                && e["domain_id"] == domain.as_str())
    );

    // The table says it too.
    let (code, table, err) = run_bin(&["scan", "--format", "table"], &account.env());
    assert_eq!(code, 0, "{err}");
    assert!(
        table.contains(&format!("last changed by {mallory_arn} (UpdateDomain at ")),
        "{table}"
    );

    // `[cloudtrail] enabled = false`: no call, no attribution, no `changes`.
    let config = dir.join("config.toml");
    std::fs::write(&config, "[cloudtrail]\nenabled = false\n").unwrap();
    let (code, out, err) = run_bin(
        &[
            "scan",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--save-snapshot",
            snapshot_path.to_str().unwrap(),
        ],
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert!(report.get("changes").is_none());
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["attribution"].is_null())
    );
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot_path).unwrap()).unwrap();
    assert_eq!(calls_in(&snapshot, "LookupEvents"), 0);
}

/// `scan --format json --save-snapshot PATH` of the account: its report.
fn scan_saving(account: &crate::util::Account, snapshot_path: &std::path::Path) -> Value {
    let (code, out, err) = run_bin(
        &[
            "scan",
            "--format",
            "json",
            "--save-snapshot",
            snapshot_path.to_str().unwrap(),
        ],
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// A session of `role` assumed by `account`'s user, as Studio assumes an execution role:
/// named `session`, with a source identity or an Identity Center user when given.
async fn session(
    account: &crate::util::Account,
    role: &str,
    session: &str,
    source_identity: Option<&str>,
    identity_center_user: Option<&str>,
) -> crate::util::Account {
    use aws_sdk_sts::types::ProvidedContext;
    let mut req = aws_sdk_sts::Client::new(&account.sdk)
        .assume_role()
        .role_arn(role)
        .role_session_name(session)
        .set_source_identity(source_identity.map(String::from));
    if let Some(user) = identity_center_user {
        req = req.provided_contexts(
            ProvidedContext::builder()
                .provider_arn("arn:aws:iam::aws:contextProvider/IdentityCenter")
                .context_assertion(user)
                .build(),
        );
    }
    let credentials = req
        .send()
        .await
        .expect("assume the execution role")
        .credentials
        .expect("credentials");
    let sdk = account
        .sdk
        .to_builder()
        .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(
            aws_sdk_iam::config::Credentials::new(
                credentials.access_key_id(),
                credentials.secret_access_key(),
                Some(credentials.session_token().to_string()),
                None,
                "session",
            ),
        ))
        .build();
    crate::util::Account {
        id: account.id.clone(),
        sdk,
        access_key: credentials.access_key_id().to_string(),
        secret_key: credentials.secret_access_key().to_string(),
    }
}

/// The person behind an execution role's session, and failed calls that change nothing.
/// Calls made "from Studio" (sessions of the execution role) name their user by the session
/// name (ExecutionRoleSessionNameMode=USER_IDENTITY), the source identity
/// (ExecutionRoleIdentityConfig=USER_PROFILE_NAME) or the Identity Center user (trusted
/// identity propagation); the static `SageMaker` session names nobody. A denied or invalid
/// UpdateDomain after the real change is not its attribution, and no failed call is a
/// change.
#[tokio::test(flavor = "multi_thread")]
async fn attribution_names_the_person_and_ignores_failed_calls() {
    use crate::fixtures::{Fixture, Owner, tag};
    use aws_sdk_sagemaker::types::{AppInstanceType, AppType};

    let (account, domain) = small_account("000000000041").await;
    let f = Fixture::new(&account);
    // An execution role Studio would assume, which this account's user may assume too.
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", account.id)},
         "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:SetContext"]},
    ]});
    let role = f.role("studio-exec", trust, &[], &[]).await;
    let failed = || vec![tag("emulator:status", "Failed")];
    let by_name = session(&account, &role, "alice", None, None).await;
    Fixture::new(&by_name)
        .profile(
            &domain,
            "alice",
            Some(&role),
            &[],
            vec![tag("emulator:status", "Update_Failed")],
        )
        .await;
    let by_source = session(&account, &role, "SageMaker", Some("bob"), None).await;
    Fixture::new(&by_source)
        .app(
            &domain,
            Owner::Profile("user"),
            AppType::KernelGateway,
            "broken",
            AppInstanceType::MlT3Medium,
            failed(),
        )
        .await;
    let idc_user = "94482488-3041-7026-18f3-be45837cd0e4";
    let by_idc = session(&account, &role, "SageMaker", None, Some(idc_user)).await;
    Fixture::new(&by_idc)
        .profile(
            &domain,
            "carol",
            Some(&role),
            &[],
            vec![tag("emulator:status", "Update_Failed")],
        )
        .await;
    let anonymous = session(&account, &role, "SageMaker", None, None).await;
    Fixture::new(&anonymous)
        .profile(
            &domain,
            "dave",
            Some(&role),
            &[],
            vec![tag("emulator:status", "Update_Failed")],
        )
        .await;

    // Failed calls: an invalid UpdateDomain of the real domain, a sign-in to a made-up one.
    let mallory = account.another_user("mallory").await;
    let invalid = mallory
        .sagemaker()
        .update_domain()
        .domain_id(&domain)
        .app_network_access_type(aws_sdk_sagemaker::types::AppNetworkAccessType::from(
            "Bogus",
        ))
        .send()
        .await;
    assert!(
        invalid.is_err(),
        "the emulator validates the enum as AWS does"
    );
    let made_up = mallory
        .sagemaker()
        .create_presigned_domain_url()
        .domain_id("d-madeup000000")
        .user_profile_name("user")
        .send()
        .await;
    assert!(made_up.is_err());

    let dir = temp_dir("attribution-person");
    let snapshot_path = dir.join("snapshot.json");
    let report = scan_saving(&account, &snapshot_path);
    let attribution = |check: &str, arn_end: &str| -> Value {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| {
                f["check_id"] == check && f["resource_arn"].as_str().unwrap().ends_with(arn_end)
            })
            .unwrap_or_else(|| panic!("a {check} finding on {arn_end}"))["attribution"]
            .clone()
    };
    let alice = attribution("user_profile_unhealthy", &format!("{domain}/alice"));
    assert_eq!(alice["event_name"], "CreateUserProfile", "{alice}");
    assert_eq!(alice["user"], "alice", "{alice}");
    assert!(
        alice["actor_arn"]
            .as_str()
            .unwrap()
            .ends_with(":assumed-role/studio-exec/alice")
    );
    let bob = attribution("app_failed", "/user/kernelgateway/broken");
    assert_eq!(bob["user"], "bob", "{bob}");
    let carol = attribution("user_profile_unhealthy", &format!("{domain}/carol"));
    assert_eq!(carol["user"], idc_user, "{carol}");
    let dave = attribution("user_profile_unhealthy", &format!("{domain}/dave"));
    assert!(dave["user"].is_null(), "{dave}");
    assert!(dave["actor_arn"].as_str().unwrap().ends_with("/SageMaker"));

    // The domain's last change is still its creation, not mallory's invalid update.
    let created = attribution(
        "domain_no_customer_managed_key",
        &format!("domain/{domain}"),
    );
    assert_eq!(created["event_name"], "CreateDomain", "{created}");
    assert!(created["user"].is_null());
    // Failed calls are in the snapshot, with their error, but never in `changes`.
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot_path).unwrap()).unwrap();
    let errors: Vec<(&str, &str)> = snapshot["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["event_name"].as_str()?, e["error_code"].as_str()?)))
        .collect();
    assert!(
        errors.contains(&("UpdateDomain", "ValidationException")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(name, _)| *name == "CreatePresignedDomainUrl"),
        "{errors:?}"
    );
    let changes = report["changes"].as_array().unwrap();
    assert!(
        changes.iter().all(|c| c.get("error_code").is_none()),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .all(|c| c["actor_arn"] != format!("arn:aws:iam::{}:user/mallory", account.id))
    );

    // Every format carries the person: the table, OCSF and ASFF.
    let (code, table, err) = run_bin(&["scan", "--format", "table"], &account.env());
    assert_eq!(code, 0, "{err}");
    assert!(
        table.contains(", user alice (CreateUserProfile at "),
        "{table}"
    );
    let (code, ocsf, err) = run_bin(&["scan", "--format", "ocsf"], &account.env());
    assert_eq!(code, 0, "{err}");
    assert!(ocsf.contains(r#""user": "bob""#), "{ocsf}");
    let (code, asff, err) = run_bin(&["scan", "--format", "asff"], &account.env());
    assert_eq!(code, 0, "{err}");
    assert!(
        asff.contains(r#""sagemaker-auditor/LastChangedByUser": "alice""#),
        "{asff}"
    );
}

/// A busy CloudTrail window (20,000 read-only events from Studio's polling, 1,500 denied
/// calls, and Amplify calls of a SageMaker event name) is read through the event-source
/// listing for 22 pages, then one lookup per event name that is used: the domain's creation
/// eight hours back, beneath all of it, is still its findings' attribution, for 74 calls
/// where the listing alone needs 431 and more. Read-only and Amplify events are not kept. With a budget
/// of 50 pages the scan stops short, and the report says which span it did not read.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_window_is_read_by_event_name_within_the_page_budget() {
    use crate::fixtures::{Fixture, Noise, Owner, busy_domain};
    use aws_sdk_sagemaker::types::{AppInstanceType, AppType};

    let account = crate::util::account("000000000086").await;
    let noise = Noise {
        reads: 20_000,
        denied_creates: 1500,
        amplify_apps: 3,
    };
    let (domain, created) = busy_domain(&account, "busy", noise).await;
    let f = Fixture::new(&account);
    f.profile(&domain, "user", None, &[], vec![]).await;
    f.app(
        &domain,
        Owner::Profile("user"),
        AppType::JupyterServer,
        "default",
        AppInstanceType::System,
        vec![],
    )
    .await;
    let domain_arn = format!("arn:aws:sagemaker:{REGION}:{}:domain/{domain}", account.id);
    let domain_failure = |report: &Value| -> Value {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["status"] == "FAIL" && f["resource_arn"] == domain_arn.as_str())
            .expect("a failing finding on the domain")
            .clone()
    };

    let dir = temp_dir("busy-window");
    let snapshot_path = dir.join("snapshot.json");
    let report = scan_saving(&account, &snapshot_path);
    let who = &domain_failure(&report)["attribution"];
    assert_eq!(who["event_name"], "CreateDomain", "{who}");
    let changes: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["CreateDomain", "CreateUserProfile", "CreateApp"]);
    assert!(
        report["scan"].get("cloudtrail_unread").is_none(),
        "{}",
        report["scan"]
    );
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot_path).unwrap()).unwrap();
    // 22 listing pages (the newest reads), then a round of the 22 names (each under a page
    // but CreateDomain), then CreateDomain's other 30 pages of its 1,500 denied calls and the
    // creation. The listing alone: 21,500 events and more, at least 431 pages.
    assert_eq!(calls_in(&snapshot, "LookupEvents"), 22 + 22 + 30);
    let events = snapshot["events"].as_array().unwrap();
    assert!(
        events.iter().all(|e| e["read_only"] == false),
        "no read is kept"
    );
    let denied = events
        .iter()
        .filter(|e| e["error_code"] == "AccessDeniedException")
        .count();
    assert_eq!(
        denied, 1500,
        "failed calls are evidence, kept in the snapshot"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event_name"] == "CreateApp")
            .count(),
        1,
        "Amplify's CreateApp is not SageMaker's"
    );

    // A budget of 50: the listing and a round of names, then 6 of CreateDomain's 30 pages.
    let config = dir.join("config.toml");
    std::fs::write(&config, "[cloudtrail]\nmax_pages_per_scan = 50\n").unwrap();
    let args = [
        "scan",
        "--config",
        config.to_str().unwrap(),
        "--save-snapshot",
    ];
    let (code, out, err) = run_bin(
        &[
            &args[..],
            &[snapshot_path.to_str().unwrap(), "--format", "json"],
        ]
        .concat(),
        &account.env(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("CloudTrail events left unread"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let unread = report["scan"]["cloudtrail_unread"]
        .as_array()
        .expect("unread spans");
    assert_eq!(unread.len(), 1, "{unread:?}");
    assert_eq!(unread[0]["account_id"], account.id.as_str());
    assert_eq!(unread[0]["region"], REGION);
    let until: chrono::DateTime<chrono::Utc> =
        unread[0]["until"].as_str().unwrap().parse().unwrap();
    let from: chrono::DateTime<chrono::Utc> = unread[0]["from"].as_str().unwrap().parse().unwrap();
    // Read down through the reads (20,000 s) and 350 of the denied calls: unread below.
    let now = chrono::Utc::now();
    assert!(
        until > created && until < now - chrono::Duration::hours(5),
        "{until}"
    );
    assert!(
        from < now - chrono::Duration::days(6),
        "the look-back: {from}"
    );
    // The creation lies in the unread span: no attribution rather than a wrong one.
    assert!(domain_failure(&report)["attribution"].is_null());
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&snapshot_path).unwrap()).unwrap();
    assert_eq!(calls_in(&snapshot, "LookupEvents"), 50);
    std::fs::remove_dir_all(dir).unwrap();
}
