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
    let report: Value = serde_json::from_str(&out).unwrap();
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
