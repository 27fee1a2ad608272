//! Fixture builder: seeds an emulated account through the real AWS APIs.

use aws_sdk_ec2::types::{DomainType, Filter, VpcEndpointType};
use aws_sdk_sagemaker::types::{
    AppInstanceType, AppNetworkAccessType, AppType, AuthMode, DefaultSpaceSettings, DomainSettings,
    NotebookInstanceLifecycleHook, OwnershipSettings, RStudioServerProDomainSettings, ResourceSpec,
    SharingType, SpaceSettings, SpaceSharingSettings, StudioLifecycleConfigAppType, Tag,
    UserSettings,
};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::util::{Account, REGION};

pub struct Fixture<'a> {
    pub account: &'a Account,
    /// The account's region, and its partition (`aws`, `aws-cn`).
    pub region: String,
    pub partition: &'static str,
    sm: aws_sdk_sagemaker::Client,
    iam: aws_sdk_iam::Client,
    ec2: aws_sdk_ec2::Client,
}

/// A script as lifecycle configurations carry it (base64).
pub fn base64(script: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(script)
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
    /// `DefaultUserSettings` beyond the role and groups (idle shutdown, sharing, Canvas...).
    pub user_settings: Option<aws_sdk_sagemaker::types::builders::UserSettingsBuilder>,
    /// `DefaultSpaceSettings` beyond the role.
    pub space_settings: Option<aws_sdk_sagemaker::types::builders::DefaultSpaceSettingsBuilder>,
    /// `DomainSettings` beyond the RStudio role.
    pub domain_settings: Option<aws_sdk_sagemaker::types::builders::DomainSettingsBuilder>,
}

pub enum Owner<'s> {
    Profile(&'s str),
    Space(&'s str),
}

impl<'a> Fixture<'a> {
    pub fn new(account: &'a Account) -> Self {
        let region = account
            .sdk
            .region()
            .map_or(REGION.to_string(), |r| r.to_string());
        Self {
            sm: account.sagemaker(),
            iam: account.iam(),
            ec2: account.ec2(),
            partition: sagemaker_auditor::vocab::partition_of_region(&region),
            region,
            account,
        }
    }

    pub fn role_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:iam::{}:role/{name}",
            self.partition, self.account.id
        )
    }

    /// An AWS managed policy's ARN in this partition.
    pub fn aws_policy(&self, name: &str) -> String {
        format!("arn:{}:iam::aws:policy/{name}", self.partition)
    }

    /// A VPC endpoint service name as AWS gives it here: in China most services are
    /// `cn.com.amazonaws.<region>.<svc>`, S3 keeps `com.amazonaws.<region>.s3`
    /// (https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Ningxia.html).
    pub fn service_name(&self, service: &str) -> String {
        if self.partition == "aws-cn" && service != "s3" {
            format!("cn.com.amazonaws.{}.{service}", self.region)
        } else {
            format!("com.amazonaws.{}.{service}", self.region)
        }
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
            .availability_zone(format!("{}{az}", self.region))
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
        let route =
            |r: aws_sdk_ec2::operation::create_route::builders::CreateRouteFluentBuilder| {
                r.gateway_id(&igw)
            };
        let rt = self.default_route(vpc, subnet, route).await;
        (rt, igw)
    }

    /// A route table of `vpc` with a 0.0.0.0/0 route to the target `target` sets, associated
    /// with `subnet`.
    async fn default_route(
        &self,
        vpc: &str,
        subnet: &str,
        target: impl FnOnce(
            aws_sdk_ec2::operation::create_route::builders::CreateRouteFluentBuilder,
        )
            -> aws_sdk_ec2::operation::create_route::builders::CreateRouteFluentBuilder,
    ) -> String {
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
        target(
            self.ec2
                .create_route()
                .route_table_id(&rt)
                .destination_cidr_block("0.0.0.0/0"),
        )
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
        rt
    }

    pub async fn endpoint(
        &self,
        vpc: &str,
        service: &str,
        kind: VpcEndpointType,
        private_dns: bool,
        subnets: &[String],
    ) -> String {
        self.endpoint_with(vpc, service, kind, private_dns, subnets, &[], &[])
            .await
    }

    /// An endpoint with security groups (Interface) or route tables (Gateway).
    #[allow(clippy::too_many_arguments)]
    pub async fn endpoint_with(
        &self,
        vpc: &str,
        service: &str,
        kind: VpcEndpointType,
        private_dns: bool,
        subnets: &[String],
        groups: &[String],
        route_tables: &[String],
    ) -> String {
        let mut req = self
            .ec2
            .create_vpc_endpoint()
            .vpc_id(vpc)
            .service_name(self.service_name(service))
            .vpc_endpoint_type(kind.clone());
        if kind == VpcEndpointType::Interface {
            req = req
                .private_dns_enabled(private_dns)
                .set_subnet_ids(Some(subnets.to_vec()))
                .set_security_group_ids(Some(groups.to_vec()));
        } else {
            req = req.set_route_table_ids(Some(route_tables.to_vec()));
        }
        req.send()
            .await
            .expect("endpoint")
            .vpc_endpoint
            .and_then(|e| e.vpc_endpoint_id)
            .expect("endpoint id")
    }

    /// The VPC's main route table.
    pub async fn main_route_table(&self, vpc: &str) -> String {
        let out = self
            .ec2
            .describe_route_tables()
            .filters(Filter::builder().name("vpc-id").values(vpc).build())
            .filters(
                Filter::builder()
                    .name("association.main")
                    .values("true")
                    .build(),
            )
            .send()
            .await
            .expect("route tables");
        out.route_tables()[0]
            .route_table_id()
            .expect("id")
            .to_string()
    }

    /// A NAT gateway in `public_subnet` and a route table sending 0.0.0.0/0 to it, associated
    /// with `private_subnet`: (route table, NAT gateway).
    pub async fn nat_route(
        &self,
        public_subnet: &str,
        private_subnet: &str,
        vpc: &str,
    ) -> (String, String) {
        let eip = self
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .send()
            .await
            .expect("eip")
            .allocation_id
            .expect("allocation id");
        let nat = self
            .ec2
            .create_nat_gateway()
            .subnet_id(public_subnet)
            .allocation_id(eip)
            .send()
            .await
            .expect("nat")
            .nat_gateway
            .and_then(|n| n.nat_gateway_id)
            .expect("nat id");
        let rt = self
            .default_route(vpc, private_subnet, |r| r.nat_gateway_id(&nat))
            .await;
        (rt, nat)
    }

    /// A security group admitting TCP `port` from the group `source` only.
    pub async fn group_from(&self, vpc: &str, name: &str, port: i32, source: &str) -> String {
        let id = self.group(vpc, name).await;
        self.ec2
            .authorize_security_group_ingress()
            .group_id(&id)
            .ip_permissions(
                aws_sdk_ec2::types::IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(port)
                    .to_port(port)
                    .user_id_group_pairs(
                        aws_sdk_ec2::types::UserIdGroupPair::builder()
                            .group_id(source)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("ingress");
        id
    }

    /// A security group with no rules of its own.
    pub async fn group(&self, vpc: &str, name: &str) -> String {
        self.ec2
            .create_security_group()
            .group_name(name)
            .description(name)
            .vpc_id(vpc)
            .send()
            .await
            .expect("sg")
            .group_id
            .expect("sg id")
    }

    /// A security group open to the internet on `port`.
    pub async fn open_group(&self, vpc: &str, name: &str, port: i32) -> String {
        let id = self.group(vpc, name).await;
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
        self.bounded_role(name, trust, attached, inline, None).await
    }

    /// [`Fixture::role`] with a permissions boundary.
    pub async fn bounded_role(
        &self,
        name: &str,
        trust: Value,
        attached: &[&str],
        inline: &[(&str, Value)],
        boundary: Option<&str>,
    ) -> String {
        let arn = self
            .iam
            .create_role()
            .role_name(name)
            .path("/service-role/")
            .assume_role_policy_document(trust.to_string())
            .set_permissions_boundary(boundary.map(str::to_string))
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
        let mut user = spec
            .user_settings
            .unwrap_or_else(UserSettings::builder)
            .set_security_groups(Some(spec.default_security_groups.clone()));
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
        if spec.space_role.is_some() || spec.space_settings.is_some() {
            let space = spec
                .space_settings
                .unwrap_or_else(DefaultSpaceSettings::builder)
                .set_execution_role(spec.space_role.clone());
            req = req.default_space_settings(space.build());
        }
        if spec.rstudio_role.is_some() || spec.domain_settings.is_some() {
            let mut settings = spec.domain_settings.unwrap_or_else(DomainSettings::builder);
            if let Some(role) = &spec.rstudio_role {
                settings = settings.r_studio_server_pro_domain_settings(
                    RStudioServerProDomainSettings::builder()
                        .domain_execution_role_arn(role)
                        .build(),
                );
            }
            req = req.domain_settings(settings.build());
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

    /// A user profile with the settings given.
    pub async fn profile_with(&self, domain: &str, name: &str, settings: UserSettings) {
        self.sm
            .create_user_profile()
            .domain_id(domain)
            .user_profile_name(name)
            .user_settings(settings)
            .send()
            .await
            .expect("create user profile");
    }

    pub async fn space(
        &self,
        domain: &str,
        name: &str,
        owner: &str,
        sharing: SharingType,
        tags: Vec<Tag>,
    ) {
        let settings = SpaceSettings::builder().app_type(AppType::JupyterLab);
        self.space_with(domain, name, owner, sharing, settings, tags)
            .await
    }

    /// A space with the settings given (remote access, custom file systems).
    pub async fn space_with(
        &self,
        domain: &str,
        name: &str,
        owner: &str,
        sharing: SharingType,
        settings: aws_sdk_sagemaker::types::builders::SpaceSettingsBuilder,
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
            .space_settings(settings.build())
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

    /// A notebook instance. `locked_in`: (subnet, security group, KMS key) of one with no
    /// direct internet access and no root access; `None`: one open in every way (direct
    /// internet access, root access, no subnet, no key).
    pub async fn notebook_instance(
        &self,
        name: &str,
        role: &str,
        locked_in: Option<(&str, &str, &str)>,
        lifecycle_config: Option<&str>,
    ) {
        use aws_sdk_sagemaker::types::{DirectInternetAccess, InstanceType, RootAccess};
        let mut req = self
            .sm
            .create_notebook_instance()
            .notebook_instance_name(name)
            .instance_type(InstanceType::MlT2Medium)
            .role_arn(role)
            .set_lifecycle_config_name(lifecycle_config.map(str::to_string));
        req = match locked_in {
            None => req
                .direct_internet_access(DirectInternetAccess::Enabled)
                .root_access(RootAccess::Enabled),
            Some((subnet, group, kms_key)) => req
                .direct_internet_access(DirectInternetAccess::Disabled)
                .root_access(RootAccess::Disabled)
                .subnet_id(subnet)
                .security_group_ids(group)
                .kms_key_id(kms_key),
        };
        req.send().await.expect("create notebook instance");
    }

    pub async fn studio_lifecycle_config(&self, name: &str, script: &str) {
        self.sm
            .create_studio_lifecycle_config()
            .studio_lifecycle_config_name(name)
            .studio_lifecycle_config_app_type(StudioLifecycleConfigAppType::JupyterLab)
            .studio_lifecycle_config_content(base64(script))
            .send()
            .await
            .expect("create studio lifecycle config");
    }

    pub async fn notebook_lifecycle_config(&self, name: &str, on_start: &str) {
        self.sm
            .create_notebook_instance_lifecycle_config()
            .notebook_instance_lifecycle_config_name(name)
            .on_start(
                NotebookInstanceLifecycleHook::builder()
                    .content(base64(on_start))
                    .build(),
            )
            .send()
            .await
            .expect("create notebook lifecycle config");
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

/// What CloudTrail holds beneath a domain's creation (the emulator's `cloudtrail-*`
/// controls): read-only events, denied CreateDomain calls, Amplify `CreateApp` events.
pub struct Noise {
    pub reads: u32,
    pub denied_creates: u32,
    pub amplify_apps: u32,
}

/// A domain named `name` in a fresh default VPC, whose CreateDomain CloudTrail records eight
/// hours ago, beneath `noise` (newest first: the reads, the denied calls, Amplify's). Returns
/// the domain id and when its creation was recorded.
pub async fn busy_domain(
    account: &Account,
    name: &str,
    noise: Noise,
) -> (String, chrono::DateTime<chrono::Utc>) {
    let f = Fixture::new(account);
    let (vpc, subnets) = f.default_vpc().await;
    f.role("default-role", sagemaker_trust(), &[], &[]).await;
    let created = chrono::Utc::now() - chrono::Duration::hours(8);
    let count = |n: u32| n.to_string();
    let domain = f
        .domain(DomainSpec {
            name,
            vpc_id: &vpc,
            subnet_ids: subnets,
            default_role: Some(f.role_arn("service-role/default-role")),
            tags: vec![
                tag("emulator:cloudtrail-time", &created.to_rfc3339()),
                tag("emulator:cloudtrail-reads", &count(noise.reads)),
                tag(
                    "emulator:cloudtrail-denied-creates",
                    &count(noise.denied_creates),
                ),
                tag(
                    "emulator:cloudtrail-amplify-apps",
                    &count(noise.amplify_apps),
                ),
            ],
            ..Default::default()
        })
        .await;
    (domain, created)
}
