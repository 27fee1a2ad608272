//! Fixture builder: seeds an emulated account through the real AWS APIs.

use aws_sdk_ec2::types::{Filter, VpcEndpointType};
use aws_sdk_sagemaker::types::{
    AppInstanceType, AppNetworkAccessType, AppType, AuthMode, DefaultSpaceSettings, DomainSettings,
    OwnershipSettings, RStudioServerProDomainSettings, ResourceSpec, SharingType, SpaceSettings,
    SpaceSharingSettings, Tag, UserSettings,
};
use serde_json::{Value, json};

use crate::util::{Account, REGION};

pub struct Fixture<'a> {
    pub account: &'a Account,
    sm: aws_sdk_sagemaker::Client,
    iam: aws_sdk_iam::Client,
    ec2: aws_sdk_ec2::Client,
}

pub fn sagemaker_trust() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
}

pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

#[derive(Default)]
pub struct DomainSpec<'s> {
    pub name: &'s str,
    pub vpc_id: &'s str,
    pub subnet_ids: Vec<String>,
    pub vpc_only: bool,
    pub kms_key_id: Option<&'s str>,
    pub default_role: Option<String>,
    pub default_security_groups: Vec<String>,
    pub space_role: Option<String>,
    pub rstudio_role: Option<String>,
    pub tags: Vec<Tag>,
}

pub enum Owner<'s> {
    Profile(&'s str),
    Space(&'s str),
}

impl<'a> Fixture<'a> {
    pub fn new(account: &'a Account) -> Self {
        Self {
            sm: account.sagemaker(),
            iam: account.iam(),
            ec2: account.ec2(),
            account,
        }
    }

    pub fn role_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", self.account.id)
    }

    pub async fn default_vpc(&self) -> (String, Vec<String>) {
        let vpcs = self
            .ec2
            .describe_vpcs()
            .filters(Filter::builder().name("is-default").values("true").build())
            .send()
            .await
            .expect("vpcs");
        let vpc = vpcs.vpcs()[0].vpc_id().expect("vpc").to_string();
        let subnets = self
            .ec2
            .describe_subnets()
            .filters(Filter::builder().name("vpc-id").values(&vpc).build())
            .send()
            .await
            .expect("subnets");
        (
            vpc,
            subnets
                .subnets()
                .iter()
                .take(2)
                .map(|s| s.subnet_id().expect("id").to_string())
                .collect(),
        )
    }

    pub async fn vpc(&self, cidr: &str) -> String {
        let out = self
            .ec2
            .create_vpc()
            .cidr_block(cidr)
            .send()
            .await
            .expect("create vpc");
        out.vpc.and_then(|v| v.vpc_id).expect("vpc id")
    }

    pub async fn subnet(&self, vpc: &str, cidr: &str, az: &str) -> String {
        let out = self
            .ec2
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block(cidr)
            .availability_zone(format!("{REGION}{az}"))
            .send()
            .await
            .expect("create subnet");
        out.subnet.and_then(|s| s.subnet_id).expect("subnet id")
    }

    /// A route table sending 0.0.0.0/0 to a new internet gateway, associated with `subnet`.
    pub async fn public_route(&self, vpc: &str, subnet: &str) -> (String, String) {
        let igw = self
            .ec2
            .create_internet_gateway()
            .send()
            .await
            .expect("igw")
            .internet_gateway
            .and_then(|g| g.internet_gateway_id)
            .expect("igw id");
        self.ec2
            .attach_internet_gateway()
            .internet_gateway_id(&igw)
            .vpc_id(vpc)
            .send()
            .await
            .expect("attach igw");
        let rt = self
            .ec2
            .create_route_table()
            .vpc_id(vpc)
            .send()
            .await
            .expect("rt")
            .route_table
            .and_then(|t| t.route_table_id)
            .expect("rt id");
        self.ec2
            .create_route()
            .route_table_id(&rt)
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(&igw)
            .send()
            .await
            .expect("route");
        self.ec2
            .associate_route_table()
            .route_table_id(&rt)
            .subnet_id(subnet)
            .send()
            .await
            .expect("associate");
        (rt, igw)
    }

    pub async fn endpoint(
        &self,
        vpc: &str,
        service: &str,
        kind: VpcEndpointType,
        private_dns: bool,
        subnets: &[String],
    ) -> String {
        let mut req = self
            .ec2
            .create_vpc_endpoint()
            .vpc_id(vpc)
            .service_name(format!("com.amazonaws.{REGION}.{service}"))
            .vpc_endpoint_type(kind.clone());
        if kind == VpcEndpointType::Interface {
            req = req
                .private_dns_enabled(private_dns)
                .set_subnet_ids(Some(subnets.to_vec()));
        }
        req.send()
            .await
            .expect("endpoint")
            .vpc_endpoint
            .and_then(|e| e.vpc_endpoint_id)
            .expect("endpoint id")
    }

    /// A security group open to the internet on `port`.
    pub async fn open_group(&self, vpc: &str, name: &str, port: i32) -> String {
        let id = self
            .ec2
            .create_security_group()
            .group_name(name)
            .description(name)
            .vpc_id(vpc)
            .send()
            .await
            .expect("sg")
            .group_id
            .expect("sg id");
        self.ec2
            .authorize_security_group_ingress()
            .group_id(&id)
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .cidr_ip("0.0.0.0/0")
            .send()
            .await
            .expect("ingress");
        id
    }

    pub async fn customer_policy(&self, name: &str, document: Value) -> String {
        self.iam
            .create_policy()
            .policy_name(name)
            .policy_document(document.to_string())
            .send()
            .await
            .expect("policy")
            .policy
            .and_then(|p| p.arn)
            .expect("policy arn")
    }

    /// An IAM role with a trust policy, attached managed policies and inline policies.
    pub async fn role(
        &self,
        name: &str,
        trust: Value,
        attached: &[&str],
        inline: &[(&str, Value)],
    ) -> String {
        let arn = self
            .iam
            .create_role()
            .role_name(name)
            .path("/service-role/")
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("role")
            .role
            .expect("role")
            .arn;
        for policy in attached {
            self.iam
                .attach_role_policy()
                .role_name(name)
                .policy_arn(*policy)
                .send()
                .await
                .expect("attach");
        }
        for (policy_name, doc) in inline {
            self.iam
                .put_role_policy()
                .role_name(name)
                .policy_name(*policy_name)
                .policy_document(doc.to_string())
                .send()
                .await
                .expect("inline");
        }
        arn
    }

    pub async fn domain(&self, spec: DomainSpec<'_>) -> String {
        let mut user =
            UserSettings::builder().set_security_groups(Some(spec.default_security_groups.clone()));
        if let Some(role) = &spec.default_role {
            user = user.execution_role(role);
        }
        let mut req = self
            .sm
            .create_domain()
            .domain_name(spec.name)
            .auth_mode(AuthMode::Iam)
            .vpc_id(spec.vpc_id)
            .set_subnet_ids(Some(spec.subnet_ids.clone()))
            .default_user_settings(user.build())
            .set_tags(Some(spec.tags.clone()));
        if spec.vpc_only {
            req = req.app_network_access_type(AppNetworkAccessType::VpcOnly);
        }
        if let Some(key) = spec.kms_key_id {
            req = req.kms_key_id(key);
        }
        if let Some(role) = &spec.space_role {
            req = req.default_space_settings(
                DefaultSpaceSettings::builder().execution_role(role).build(),
            );
        }
        if let Some(role) = &spec.rstudio_role {
            req = req.domain_settings(
                DomainSettings::builder()
                    .r_studio_server_pro_domain_settings(
                        RStudioServerProDomainSettings::builder()
                            .domain_execution_role_arn(role)
                            .build(),
                    )
                    .build(),
            );
        }
        let out = req.send().await.expect("create domain");
        let arn = out.domain_arn().expect("domain arn");
        arn.rsplit('/').next().expect("domain id").to_string()
    }

    pub async fn profile(
        &self,
        domain: &str,
        name: &str,
        role: Option<&str>,
        groups: &[&str],
        tags: Vec<Tag>,
    ) {
        let mut req = self
            .sm
            .create_user_profile()
            .domain_id(domain)
            .user_profile_name(name)
            .set_tags(Some(tags));
        if role.is_some() || !groups.is_empty() {
            let mut settings = UserSettings::builder()
                .set_security_groups(Some(groups.iter().map(|g| g.to_string()).collect()));
            if let Some(role) = role {
                settings = settings.execution_role(role);
            }
            req = req.user_settings(settings.build());
        }
        req.send().await.expect("create user profile");
    }

    pub async fn space(
        &self,
        domain: &str,
        name: &str,
        owner: &str,
        sharing: SharingType,
        tags: Vec<Tag>,
    ) {
        self.sm
            .create_space()
            .domain_id(domain)
            .space_name(name)
            .ownership_settings(
                OwnershipSettings::builder()
                    .owner_user_profile_name(owner)
                    .build(),
            )
            .space_sharing_settings(
                SpaceSharingSettings::builder()
                    .sharing_type(sharing)
                    .build(),
            )
            .space_settings(
                SpaceSettings::builder()
                    .app_type(AppType::JupyterLab)
                    .build(),
            )
            .set_tags(Some(tags))
            .send()
            .await
            .expect("create space");
    }

    pub async fn app(
        &self,
        domain: &str,
        owner: Owner<'_>,
        app_type: AppType,
        name: &str,
        instance: AppInstanceType,
        tags: Vec<Tag>,
    ) {
        let req = self
            .sm
            .create_app()
            .domain_id(domain)
            .app_type(app_type)
            .app_name(name)
            .resource_spec(ResourceSpec::builder().instance_type(instance).build())
            .set_tags(Some(tags));
        let req = match owner {
            Owner::Profile(p) => req.user_profile_name(p),
            Owner::Space(s) => req.space_name(s),
        };
        req.send().await.expect("create app");
    }

    pub async fn delete_app(&self, domain: &str, profile: &str, app_type: AppType, name: &str) {
        self.sm
            .delete_app()
            .domain_id(domain)
            .user_profile_name(profile)
            .app_type(app_type)
            .app_name(name)
            .send()
            .await
            .expect("delete app");
    }

    pub async fn delete_profile(&self, domain: &str, name: &str) {
        self.sm
            .delete_user_profile()
            .domain_id(domain)
            .user_profile_name(name)
            .send()
            .await
            .expect("delete profile");
    }

    /// `DeleteDomain` with the default retention: the home EFS and NFS groups stay behind.
    pub async fn delete_domain(&self, domain: &str) {
        self.sm
            .delete_domain()
            .domain_id(domain)
            .send()
            .await
            .expect("delete domain");
    }
}

/// One domain with a profile and an app.
pub async fn small_account(id: &str) -> (Account, String) {
    let account = crate::util::account(id).await;
    let f = Fixture::new(&account);
    let (vpc, subnets) = f.default_vpc().await;
    f.role("default-role", sagemaker_trust(), &[], &[]).await;
    f.role("user-role", sagemaker_trust(), &[], &[]).await;
    let domain = f
        .domain(DomainSpec {
            name: "small",
            vpc_id: &vpc,
            subnet_ids: subnets,
            default_role: Some(f.role_arn("service-role/default-role")),
            ..Default::default()
        })
        .await;
    f.profile(
        &domain,
        "user",
        Some(&f.role_arn("service-role/user-role")),
        &[],
        vec![],
    )
    .await;
    f.app(
        &domain,
        Owner::Profile("user"),
        AppType::JupyterServer,
        "default",
        AppInstanceType::System,
        vec![],
    )
    .await;
    (account, domain)
}
