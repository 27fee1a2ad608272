//! The reference account: a problem for every IAM, network and storage fact the checks read,
//! each beside a clean twin (CHECKS.md v2). Seeded through the real APIs into the emulator, in
//! the account's region and partition: the same seed runs in `us-east-1`, `us-east-2` and
//! `cn-north-1`.

use aws_sdk_ec2::types::VpcEndpointType;
use aws_sdk_sagemaker::types::{
    AppInstanceType, AppLifecycleManagement, AppType, CanvasAppSettings, CodeEditorAppSettings,
    CustomFileSystem, DefaultSpaceSettings, DockerSettings, DomainSettings, EfsFileSystem,
    EmrSettings, ExecutionRoleIdentityConfig, FeatureStatus, GenerativeAiSettings, IdleSettings,
    JupyterLabAppSettings, LifecycleManagement, NotebookOutputOption, SharingSettings, SharingType,
    SpaceSettings, UserSettings,
};
use serde_json::json;

use crate::fixtures::{DomainSpec, Fixture, Owner, sagemaker_trust, tag};
use crate::util::Account;

pub const FULL_ACCESS: &str = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess";
pub const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
/// Bytes the orphaned home EFS holds (5 GiB).
pub const ORPHAN_BYTES: i64 = 5 * 1024 * 1024 * 1024;
pub const OTHER_ACCOUNT: &str = "999999999999";
/// Bytes of the orphaned home EFS in Infrequent Access and Archive (2 and 10 GiB).
pub const ORPHAN_IA_BYTES: i64 = 2 * 1024 * 1024 * 1024;
pub const ORPHAN_ARCHIVE_BYTES: i64 = 10 * 1024 * 1024 * 1024;
/// An access key id AWS documents as an example: the Studio lifecycle script "leaks" it.
pub const LEAKED_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";

fn idle(state: LifecycleManagement) -> AppLifecycleManagement {
    AppLifecycleManagement::builder()
        .idle_settings(
            IdleSettings::builder()
                .lifecycle_management(state)
                .idle_timeout_in_minutes(60)
                .build(),
        )
        .build()
}

pub struct Seeded {
    pub public_domain: String,
    pub private_domain: String,
    pub leaky_domain: String,
    pub gone_domain: String,
    pub private_vpc: String,
    pub leaky_vpc: String,
    pub leaky_public_subnet: String,
    pub leaky_private_subnet: String,
    pub leaky_public_route_table: String,
    pub leaky_igw: String,
    pub open_group: String,
    pub scoped_policy: String,
    pub nat_domain: String,
    pub nat_gateway: String,
    pub boundary_policy: String,
    pub leaky_s3_gateway: String,
    pub leaky_runtime_endpoint: String,
}

pub async fn seed(account: &Account) -> Seeded {
    let f = Fixture::new(account);
    let (full_access, admin) = (
        f.aws_policy("AmazonSageMakerFullAccess"),
        f.aws_policy("AdministratorAccess"),
    );
    let region = f.region.clone();
    let kms_key = format!(
        "arn:{}:kms:{region}:{}:key/11111111-2222-3333-4444-555555555555",
        f.partition, account.id
    );

    // Roles: one per IAM check, plus a clean one.
    f.role("sm-full-access", sagemaker_trust(), &[&full_access], &[])
        .await;
    f.role("sm-admin", sagemaker_trust(), &[&admin], &[]).await;
    // v2: AdministratorAccess inside a boundary that allows S3 and SageMaker only (not
    // administrator), and a PassRole on * that an explicit Deny takes away.
    let boundary_policy = f
        .customer_policy(
            "sm-boundary",
            json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "sagemaker:*"], "Resource": "*"}]}),
        )
        .await;
    f.bounded_role(
        "sm-admin-bounded",
        sagemaker_trust(),
        &[&admin],
        &[],
        Some(&boundary_policy),
    )
    .await;
    f.role(
        "sm-passrole-denied",
        sagemaker_trust(),
        &[],
        &[(
            "pass",
            json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}]}),
        )],
    )
    .await;
    // Reachable only through Canvas' Bedrock setting: still an execution role.
    f.role(
        "sm-canvas",
        sagemaker_trust(),
        &[],
        &[(
            "pass",
            json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}),
        )],
    )
    .await;
    f.role("sm-notebook", sagemaker_trust(), &[], &[]).await;
    f.role(
        "sm-passrole",
        sagemaker_trust(),
        &[],
        &[(
            "pass",
            json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}),
        )],
    )
    .await;
    f.role("sm-s3-wildcard", sagemaker_trust(), &[], &[("data", json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": format!("arn:{}:s3:::*/*", f.partition)}]}))]).await;
    f.role(
        "sm-trust-anyone",
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}),
        &[],
        &[],
    )
    .await;
    f.role("sm-trust-other-account", json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:{}:iam::{OTHER_ACCOUNT}:root", f.partition)}, "Action": "sts:AssumeRole"}]}), &[], &[]).await;
    let scoped_policy = f
        .customer_policy(
            "sm-scoped-data",
            json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:{}:s3:::team-bucket/*", f.partition)},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}]}),
        )
        .await;
    f.role("sm-scoped", sagemaker_trust(), &[&scoped_policy], &[])
        .await;
    // Many roles no domain uses: the scan must not read them one by one.
    for i in 0..5 {
        f.role(&format!("unrelated-{i}"), sagemaker_trust(), &[], &[])
            .await;
    }

    // Network: a private VPC with usable endpoints, a leaky one with a public subnet and
    // endpoints that cannot work, one that reaches AWS through a NAT gateway.
    let private_vpc = f.vpc("10.1.0.0/16").await;
    let private_subnets = vec![
        f.subnet(&private_vpc, "10.1.1.0/24", "a").await,
        f.subnet(&private_vpc, "10.1.2.0/24", "b").await,
    ];
    let studio_private = f.group(&private_vpc, "studio-private").await;
    let endpoints_private = f
        .group_from(&private_vpc, "endpoints-private", 443, &studio_private)
        .await;
    for service in ["sagemaker.api", "sagemaker.runtime", "sts"] {
        f.endpoint_with(
            &private_vpc,
            service,
            VpcEndpointType::Interface,
            true,
            &private_subnets,
            std::slice::from_ref(&endpoints_private),
            &[],
        )
        .await;
    }
    let private_main = f.main_route_table(&private_vpc).await;
    f.endpoint_with(
        &private_vpc,
        "s3",
        VpcEndpointType::Gateway,
        false,
        &[],
        &[],
        std::slice::from_ref(&private_main),
    )
    .await;

    let leaky_vpc = f.vpc("10.2.0.0/16").await;
    let leaky_public_subnet = f.subnet(&leaky_vpc, "10.2.1.0/24", "a").await;
    let leaky_private_subnet = f.subnet(&leaky_vpc, "10.2.2.0/24", "b").await;
    let (leaky_public_route_table, leaky_igw) =
        f.public_route(&leaky_vpc, &leaky_public_subnet).await;
    let open_group = f.open_group(&leaky_vpc, "studio-open-to-world", 8888).await;
    // Present, but without private DNS; with a group that admits SSH only; an S3 gateway
    // associated with no route table: none of them serves Studio.
    f.endpoint(
        &leaky_vpc,
        "sagemaker.api",
        VpcEndpointType::Interface,
        false,
        std::slice::from_ref(&leaky_private_subnet),
    )
    .await;
    let ssh_only = f
        .group_from(&leaky_vpc, "endpoints-ssh-only", 22, &open_group)
        .await;
    let leaky_runtime_endpoint = f
        .endpoint_with(
            &leaky_vpc,
            "sagemaker.runtime",
            VpcEndpointType::Interface,
            true,
            std::slice::from_ref(&leaky_private_subnet),
            &[ssh_only],
            &[],
        )
        .await;
    let leaky_s3_gateway = f
        .endpoint_with(
            &leaky_vpc,
            "s3",
            VpcEndpointType::Gateway,
            false,
            &[],
            &[],
            &[],
        )
        .await;

    let nat_vpc = f.vpc("10.3.0.0/16").await;
    let nat_public_subnet = f.subnet(&nat_vpc, "10.3.1.0/24", "a").await;
    let nat_private_subnet = f.subnet(&nat_vpc, "10.3.2.0/24", "b").await;
    f.public_route(&nat_vpc, &nat_public_subnet).await;
    let (_, nat_gateway) = f
        .nat_route(&nat_public_subnet, &nat_private_subnet, &nat_vpc)
        .await;
    let studio_nat = f.group(&nat_vpc, "studio-nat").await;

    let (default_vpc, default_subnets) = f.default_vpc().await;

    // Shares notebook output without a key; lets Canvas users act as sm-canvas.
    let public_settings = UserSettings::builder()
        .sharing_settings(
            SharingSettings::builder()
                .notebook_output_option(NotebookOutputOption::Allowed)
                .s3_output_path("s3://team-notebooks/shared/")
                .build(),
        )
        .canvas_app_settings(
            CanvasAppSettings::builder()
                .generative_ai_settings(
                    GenerativeAiSettings::builder()
                        .amazon_bedrock_role_arn(f.role_arn("service-role/sm-canvas"))
                        .build(),
                )
                .build(),
        );
    let public_domain = f
        .domain(DomainSpec {
            name: "public-domain",
            vpc_id: &default_vpc,
            subnet_ids: default_subnets.clone(),
            default_role: Some(f.role_arn("service-role/sm-full-access")),
            user_settings: Some(public_settings),
            ..Default::default()
        })
        .await;
    // Idle shutdown everywhere, the user profile name as source identity, sharing with a key.
    let private_settings = UserSettings::builder()
        .jupyter_lab_app_settings(
            JupyterLabAppSettings::builder()
                .app_lifecycle_management(idle(LifecycleManagement::Enabled))
                .build(),
        )
        .code_editor_app_settings(
            CodeEditorAppSettings::builder()
                .app_lifecycle_management(idle(LifecycleManagement::Enabled))
                .build(),
        )
        .sharing_settings(
            SharingSettings::builder()
                .notebook_output_option(NotebookOutputOption::Allowed)
                .s3_output_path("s3://team-notebooks/shared/")
                .s3_kms_key_id(&kms_key)
                .build(),
        );
    let private_space_settings = DefaultSpaceSettings::builder().jupyter_lab_app_settings(
        JupyterLabAppSettings::builder()
            .app_lifecycle_management(idle(LifecycleManagement::Enabled))
            .build(),
    );
    let private_domain = f
        .domain(DomainSpec {
            name: "private-domain",
            vpc_id: &private_vpc,
            subnet_ids: private_subnets.clone(),
            vpc_only: true,
            kms_key_id: Some(&kms_key),
            default_role: Some(f.role_arn("service-role/sm-scoped")),
            default_security_groups: vec![studio_private.clone()],
            space_role: Some(f.role_arn("service-role/sm-passrole")),
            rstudio_role: Some(f.role_arn("service-role/sm-s3-wildcard")),
            user_settings: Some(private_settings),
            space_settings: Some(private_space_settings),
            domain_settings: Some(
                DomainSettings::builder()
                    .execution_role_identity_config(ExecutionRoleIdentityConfig::UserProfileName),
            ),
            ..Default::default()
        })
        .await;
    let leaky_domain = f
        .domain(DomainSpec {
            name: "leaky-domain",
            vpc_id: &leaky_vpc,
            subnet_ids: vec![leaky_public_subnet.clone(), leaky_private_subnet.clone()],
            vpc_only: true,
            default_role: Some(f.role_arn("service-role/sm-admin")),
            default_security_groups: vec![open_group.clone()],
            rstudio_role: Some(format!(
                "arn:{}:iam::{OTHER_ACCOUNT}:role/rstudio",
                f.partition
            )),
            domain_settings: Some(
                DomainSettings::builder().docker_settings(
                    DockerSettings::builder()
                        .enable_docker_access(FeatureStatus::Enabled)
                        .vpc_only_trusted_accounts(OTHER_ACCOUNT)
                        .build(),
                ),
            ),
            tags: vec![
                tag("emulator:status", "Update_Failed"),
                tag("emulator:failure-reason", "Subnet capacity exhausted"),
            ],
            ..Default::default()
        })
        .await;
    // Reaches AWS through a NAT gateway (no endpoints): usable, but its apps reach the
    // internet. Its roles: a bounded administrator and a denied PassRole.
    let nat_domain = f
        .domain(DomainSpec {
            name: "nat-domain",
            vpc_id: &nat_vpc,
            subnet_ids: vec![nat_private_subnet.clone()],
            vpc_only: true,
            default_role: Some(f.role_arn("service-role/sm-admin-bounded")),
            default_security_groups: vec![studio_nat.clone()],
            space_role: Some(f.role_arn("service-role/sm-passrole-denied")),
            ..Default::default()
        })
        .await;
    let gone_domain = f
        .domain(DomainSpec {
            name: "gone-domain",
            vpc_id: &private_vpc,
            subnet_ids: private_subnets.clone(),
            default_role: Some(f.role_arn("service-role/sm-scoped")),
            tags: vec![
                tag("emulator:home-efs-size-bytes", &ORPHAN_BYTES.to_string()),
                tag("emulator:home-efs-ia-bytes", &ORPHAN_IA_BYTES.to_string()),
                tag(
                    "emulator:home-efs-archive-bytes",
                    &ORPHAN_ARCHIVE_BYTES.to_string(),
                ),
            ],
            ..Default::default()
        })
        .await;

    // Five profiles: two inherit the public domain's role, three override theirs.
    f.profile(&public_domain, "alice", None, &[], vec![]).await;
    f.profile(&public_domain, "bob", None, &[], vec![]).await;
    // Carol turns Code Editor's idle shutdown off and may assume an EMR role that is gone.
    f.profile_with(
        &private_domain,
        "carol",
        UserSettings::builder()
            .execution_role(f.role_arn("service-role/sm-trust-anyone"))
            .code_editor_app_settings(
                CodeEditorAppSettings::builder()
                    .app_lifecycle_management(idle(LifecycleManagement::Disabled))
                    .build(),
            )
            .jupyter_lab_app_settings(
                JupyterLabAppSettings::builder()
                    .emr_settings(
                        EmrSettings::builder()
                            .assumable_role_arns(f.role_arn("service-role/sm-emr-gone"))
                            .build(),
                    )
                    .build(),
            )
            .build(),
    )
    .await;
    f.profile(
        &private_domain,
        "dave",
        Some(&f.role_arn("service-role/sm-does-not-exist")),
        &[],
        vec![],
    )
    .await;
    f.profile(
        &leaky_domain,
        "erin",
        Some(&f.role_arn("service-role/sm-trust-other-account")),
        &[&open_group],
        vec![
            tag("emulator:status", "Update_Failed"),
            tag("emulator:failure-reason", "Role not assumable"),
        ],
    )
    .await;

    // Two spaces, one failed; the other lets a local IDE in and mounts a team EFS.
    f.space_with(
        &private_domain,
        "team-space",
        "carol",
        SharingType::Shared,
        SpaceSettings::builder()
            .app_type(AppType::JupyterLab)
            .remote_access(FeatureStatus::Enabled)
            .custom_file_systems(CustomFileSystem::EfsFileSystem(
                EfsFileSystem::builder()
                    .file_system_id("fs-0team0shared0001")
                    .build(),
            )),
        vec![],
    )
    .await;
    f.space(
        &public_domain,
        "broken-space",
        "alice",
        SharingType::Private,
        vec![
            tag("emulator:status", "Failed"),
            tag("emulator:failure-reason", "EFS mount failed"),
        ],
    )
    .await;

    // Six apps: free default, idle billed, failed, active billed in a space, deleted, idle since creation.
    f.app(
        &public_domain,
        Owner::Profile("alice"),
        AppType::JupyterServer,
        "default",
        AppInstanceType::System,
        vec![],
    )
    .await;
    f.app(
        &public_domain,
        Owner::Profile("alice"),
        AppType::KernelGateway,
        "datascience-1",
        AppInstanceType::MlT3Medium,
        vec![
            tag("emulator:creation-time", "2026-01-01T00:00:00Z"),
            tag("emulator:last-user-activity", "2026-01-02T00:00:00Z"),
        ],
    )
    .await;
    f.app(
        &private_domain,
        Owner::Profile("carol"),
        AppType::JupyterLab,
        "default",
        AppInstanceType::MlT3Medium,
        vec![
            tag("emulator:status", "Failed"),
            tag("emulator:failure-reason", "Image pull failed"),
        ],
    )
    .await;
    f.app(
        &private_domain,
        Owner::Space("team-space"),
        AppType::JupyterLab,
        "default",
        AppInstanceType::MlM5Large,
        vec![],
    )
    .await;
    f.app(
        &public_domain,
        Owner::Profile("bob"),
        AppType::JupyterServer,
        "default",
        AppInstanceType::System,
        vec![],
    )
    .await;
    f.delete_app(&public_domain, "bob", AppType::JupyterServer, "default")
        .await;
    f.app(
        &private_domain,
        Owner::Profile("dave"),
        AppType::CodeEditor,
        "default",
        AppInstanceType::MlT3Large,
        // Five days old: billed that long whatever its (health-check) activity says.
        vec![tag(
            "emulator:creation-time",
            &(chrono::Utc::now() - chrono::Duration::days(5)).to_rfc3339(),
        )],
    )
    .await;

    // Lifecycle configurations: a Studio script with an access key, a clean notebook one.
    f.studio_lifecycle_config(
        "install-tools",
        &format!(
            "#!/bin/bash\nset -eu\nexport AWS_ACCESS_KEY_ID={LEAKED_KEY_ID}\npip install --user tools\n"
        ),
    )
    .await;
    f.notebook_lifecycle_config(
        "nb-setup",
        "#!/bin/bash\nsudo -u ec2-user pip install tools\n",
    )
    .await;
    // Notebook instances: one open in every way, one locked down.
    f.notebook_instance(
        "nb-open",
        &f.role_arn("service-role/sm-notebook"),
        None,
        None,
    )
    .await;
    f.notebook_instance(
        "nb-locked",
        &f.role_arn("service-role/sm-scoped"),
        Some((&private_subnets[0], &studio_private, &kms_key)),
        Some("nb-setup"),
    )
    .await;

    // A domain deleted with the default retention: its EFS and NFS groups stay behind.
    f.profile(&gone_domain, "temp", None, &[], vec![]).await;
    f.delete_profile(&gone_domain, "temp").await;
    f.delete_domain(&gone_domain).await;

    Seeded {
        public_domain,
        private_domain,
        leaky_domain,
        gone_domain,
        private_vpc,
        leaky_vpc,
        leaky_public_subnet,
        leaky_private_subnet,
        leaky_public_route_table,
        leaky_igw,
        open_group,
        scoped_policy,
        nat_domain,
        nat_gateway,
        boundary_policy,
        leaky_s3_gateway,
        leaky_runtime_endpoint,
    }
}
