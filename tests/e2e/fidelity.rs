//! The emulator behaves as AWS does where the checks depend on it (CHECKS.md v2): what moto
//! lacks or gets wrong is corrected in tests/emulator/server.py, and tested here.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use aws_sdk_sagemaker::types::{AppInstanceType, AppType};

use crate::fixtures::{self, Fixture, Owner, base64, tag};
use crate::util;

/// A running app's `LastUserActivityTimestamp` is its latest health check, not its user's
/// last action: a five-day-old app looks active "now" (why `app_idle` was retired).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_app_s_activity_follows_its_health_checks() {
    let (account, domain) = fixtures::small_account("000000000083").await;
    let created = chrono::Utc::now() - chrono::Duration::days(5);
    Fixture::new(&account)
        .app(
            &domain,
            Owner::Profile("user"),
            AppType::KernelGateway,
            "billed",
            AppInstanceType::MlT3Medium,
            vec![tag("emulator:creation-time", &created.to_rfc3339())],
        )
        .await;
    let app = account
        .sagemaker()
        .describe_app()
        .domain_id(&domain)
        .user_profile_name("user")
        .app_type(AppType::KernelGateway)
        .app_name("billed")
        .send()
        .await
        .unwrap();
    let secs = |t: Option<&aws_smithy_types::DateTime>| t.map(|t| t.secs()).unwrap();
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        secs(app.last_user_activity_timestamp()),
        secs(app.last_health_check_timestamp())
    );
    assert!((now - secs(app.last_health_check_timestamp())).abs() < 300);
    assert!((secs(app.creation_time()) - created.timestamp()).abs() < 2);
}

/// Studio lifecycle configurations and the notebook-instance lifecycle list exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_configurations_are_listed_and_described() {
    let (account, _) = fixtures::small_account("000000000084").await;
    let f = Fixture::new(&account);
    f.studio_lifecycle_config("studio-setup", "#!/bin/bash\necho hi\n")
        .await;
    f.notebook_lifecycle_config("nb-setup", "#!/bin/bash\necho hi\n")
        .await;
    let sm = account.sagemaker();
    let listed = sm.list_studio_lifecycle_configs().send().await.unwrap();
    let names: Vec<_> = listed
        .studio_lifecycle_configs()
        .iter()
        .filter_map(|c| c.studio_lifecycle_config_name())
        .collect();
    assert_eq!(names, ["studio-setup"]);
    let described = sm
        .describe_studio_lifecycle_config()
        .studio_lifecycle_config_name("studio-setup")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.studio_lifecycle_config_content(),
        Some(base64("#!/bin/bash\necho hi\n").as_str())
    );
    assert!(
        described
            .studio_lifecycle_config_arn()
            .is_some_and(|a| a.ends_with(":studio-lifecycle-config/studio-setup"))
    );
    let notebooks = sm
        .list_notebook_instance_lifecycle_configs()
        .send()
        .await
        .unwrap();
    let names: Vec<_> = notebooks
        .notebook_instance_lifecycle_configs()
        .iter()
        .filter_map(|c| c.notebook_instance_lifecycle_config_name())
        .collect();
    assert_eq!(names, ["nb-setup"]);
}

/// A raw JSON-protocol call to the emulator: (status, body).
fn post(target: &str, body: &str) -> (u16, String) {
    let url = &util::emulator().url;
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: {target}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261202/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    util::http_response(&raw)
}

/// botocore's service model is the reference: the emulator refuses what AWS's model does not
/// allow, as AWS does, e.g. `CodeEditorAppSettings` in `DefaultSpaceSettings`.
#[test]
fn requests_outside_the_service_model_are_refused_as_aws_does() {
    let (status, body) = post(
        "SageMaker.CreateDomain",
        r#"{"DomainName": "misfit", "AuthMode": "IAM", "VpcId": "vpc-1", "SubnetIds": ["subnet-1"],
            "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::123456789012:role/r"},
            "DefaultSpaceSettings": {"CodeEditorAppSettings": {}}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("ValidationException"), "{body}");
    assert!(
        body.contains("DefaultSpaceSettings.CodeEditorAppSettings"),
        "{body}"
    );
    // An enum value AWS does not know, and a missing required member.
    let (status, body) = post("SageMaker.ListApps", r#"{"SortBy": "Size"}"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("'Size' is not one of"), "{body}");
    let (status, body) = post("SageMaker.DescribeDomain", "{}");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("DomainId: required"), "{body}");
}
