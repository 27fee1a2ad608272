//! The reference account: a problem for every IAM, network and storage fact the checks read,
//! each beside a clean twin. Seeded through the real APIs into the emulator.

use aws_sdk_ec2::types::VpcEndpointType;
use aws_sdk_sagemaker::types::{AppInstanceType, AppType, SharingType};
use serde_json::json;

use crate::fixtures::{DomainSpec, Fixture, Owner, sagemaker_trust, tag};
use crate::util::Account;

pub const FULL_ACCESS: &str = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess";
pub const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
/// Bytes the orphaned home EFS holds (5 GiB).
pub const ORPHAN_BYTES: i64 = 5 * 1024 * 1024 * 1024;
pub const OTHER_ACCOUNT: &str = "999999999999";

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
}

pub async fn seed(account: &Account) -> Seeded {
    let f = Fixture::new(account);

    // Roles: one per IAM check, plus a clean one.
    f.role("sm-full-access", sagemaker_trust(), &[FULL_ACCESS], &[])
        .await;
    f.role("sm-admin", sagemaker_trust(), &[ADMIN], &[]).await;
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
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::*/*"}]}))]).await;
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
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]}), &[], &[]).await;
    let scoped_policy = f
        .customer_policy(
            "sm-scoped-data",
            json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::team-bucket/*"},
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

    // Network: a private VPC with every endpoint, a leaky one with a public subnet.
    let private_vpc = f.vpc("10.1.0.0/16").await;
    let private_subnets = vec![
        f.subnet(&private_vpc, "10.1.1.0/24", "a").await,
        f.subnet(&private_vpc, "10.1.2.0/24", "b").await,
    ];
    for service in [
        "sagemaker.api",
        "sagemaker.runtime",
        "servicecatalog",
        "sts",
    ] {
        f.endpoint(
            &private_vpc,
            service,
            VpcEndpointType::Interface,
            true,
            &private_subnets,
        )
        .await;
    }
    f.endpoint(&private_vpc, "s3", VpcEndpointType::Gateway, false, &[])
        .await;

    let leaky_vpc = f.vpc("10.2.0.0/16").await;
    let leaky_public_subnet = f.subnet(&leaky_vpc, "10.2.1.0/24", "a").await;
    let leaky_private_subnet = f.subnet(&leaky_vpc, "10.2.2.0/24", "b").await;
    let (leaky_public_route_table, leaky_igw) =
        f.public_route(&leaky_vpc, &leaky_public_subnet).await;
    // Present, but without private DNS: counts as missing.
    f.endpoint(
        &leaky_vpc,
        "sagemaker.api",
        VpcEndpointType::Interface,
        false,
        std::slice::from_ref(&leaky_private_subnet),
    )
    .await;
    let open_group = f.open_group(&leaky_vpc, "studio-open-to-world", 8888).await;

    let (default_vpc, default_subnets) = f.default_vpc().await;

    let public_domain = f
        .domain(DomainSpec {
            name: "public-domain",
            vpc_id: &default_vpc,
            subnet_ids: default_subnets.clone(),
            default_role: Some(f.role_arn("service-role/sm-full-access")),
            ..Default::default()
        })
        .await;
    let private_domain = f
        .domain(DomainSpec {
            name: "private-domain",
            vpc_id: &private_vpc,
            subnet_ids: private_subnets.clone(),
            vpc_only: true,
            kms_key_id: Some(
                "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
            ),
            default_role: Some(f.role_arn("service-role/sm-scoped")),
            space_role: Some(f.role_arn("service-role/sm-passrole")),
            rstudio_role: Some(f.role_arn("service-role/sm-s3-wildcard")),
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
            rstudio_role: Some(format!("arn:aws:iam::{OTHER_ACCOUNT}:role/rstudio")),
            tags: vec![
                tag("emulator:status", "Update_Failed"),
                tag("emulator:failure-reason", "Subnet capacity exhausted"),
            ],
            ..Default::default()
        })
        .await;
    let gone_domain = f
        .domain(DomainSpec {
            name: "gone-domain",
            vpc_id: &private_vpc,
            subnet_ids: private_subnets.clone(),
            default_role: Some(f.role_arn("service-role/sm-scoped")),
            tags: vec![tag(
                "emulator:home-efs-size-bytes",
                &ORPHAN_BYTES.to_string(),
            )],
            ..Default::default()
        })
        .await;

    // Five profiles: two inherit the public domain's role, three override theirs.
    f.profile(&public_domain, "alice", None, &[], vec![]).await;
    f.profile(&public_domain, "bob", None, &[], vec![]).await;
    f.profile(
        &private_domain,
        "carol",
        Some(&f.role_arn("service-role/sm-trust-anyone")),
        &[],
        vec![],
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

    // Two spaces, one failed.
    f.space(
        &private_domain,
        "team-space",
        "carol",
        SharingType::Shared,
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
        vec![tag("emulator:creation-time", "2026-02-01T00:00:00Z")],
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
    }
}
