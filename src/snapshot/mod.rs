//! The snapshot: everything a scan learned about an account's SageMaker domains, in our own
//! serde types. No AWS SDK type crosses this boundary; policies, reports and the state store
//! only ever see these structs. Its JSON Schema is generated from them
//! (`policies/schema/snapshot.json`).

pub mod ownership;
mod roles;
pub mod secrets;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use roles::{BindingKind, RoleBinding, arn_account, role_bindings};

/// Bumped whenever a field changes meaning or disappears. Adding optional fields is compatible.
pub const SCHEMA_VERSION: &str = "2";

/// One scan's view of every account and region it covered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub schema_version: String,
    /// Version of sagemaker-auditor that collected it.
    pub scanner_version: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub accounts: Vec<AccountSnapshot>,
    /// Managed policies attached to execution roles, keyed by policy ARN, at their default
    /// version. AWS managed policies are stored once however many accounts attach them.
    pub managed_policies: BTreeMap<String, ManagedPolicy>,
    /// Calls that failed. A resource type whose collection failed here is unknown, not absent.
    pub collection_errors: Vec<CollectionError>,
    /// Every AWS operation the scan invoked, by outcome.
    pub api_calls: Vec<ApiCallCount>,
    /// SageMaker control-plane events CloudTrail recorded in the look-back window (newest
    /// first); empty when CloudTrail was not consulted.
    #[serde(default)]
    pub events: Vec<ControlPlaneEvent>,
    /// Parts of account-regions' CloudTrail windows this scan left unread because the page
    /// budget (`cloudtrail.max_pages_per_scan`) ran out: `events` lacks what CloudTrail
    /// recorded there. The daemon reads them at its next scans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events_unread: Vec<UnreadEvents>,
}

/// A span of CloudTrail time: the events after `from` and at or before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSpan {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The CloudTrail events of one account and region a scan did not read (see
/// [`Snapshot::events_unread`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnreadEvents {
    pub account_id: String,
    pub region: String,
    #[serde(flatten)]
    pub span: EventSpan,
}

/// The snapshot as the policies' input: every field, with `events` only when the policies
/// read them (the policy engine decides). Borrowed, not copied.
#[derive(Serialize)]
pub struct PolicyInput<'a> {
    schema_version: &'a str,
    scanner_version: &'a str,
    started_at: &'a DateTime<Utc>,
    finished_at: &'a DateTime<Utc>,
    accounts: &'a [AccountSnapshot],
    managed_policies: &'a BTreeMap<String, ManagedPolicy>,
    collection_errors: &'a [CollectionError],
    api_calls: &'a [ApiCallCount],
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<&'a [ControlPlaneEvent]>,
}

impl Snapshot {
    /// Gives back the spare capacity the parser's vectors grew (by doubling: a third of the
    /// 40 MB the benchmark snapshot's 50,000 apps took when parsed). A shrink in place, no
    /// copy.
    fn shrink_to_fit(&mut self) {
        self.accounts.shrink_to_fit();
        self.events.shrink_to_fit();
        for account in &mut self.accounts {
            account.regions.shrink_to_fit();
            account.execution_roles.shrink_to_fit();
            for region in &mut account.regions {
                region.domains.shrink_to_fit();
                region.efs_file_systems.shrink_to_fit();
                region.notebook_instances.shrink_to_fit();
                for domain in &mut region.domains {
                    domain.user_profiles.shrink_to_fit();
                    domain.spaces.shrink_to_fit();
                    domain.apps.shrink_to_fit();
                }
            }
        }
    }

    /// [`Snapshot::policy_input`] with no accounts: the top of every partition's input.
    pub fn policy_input_top(&self, with_events: bool) -> PolicyInput<'_> {
        PolicyInput {
            accounts: &[],
            ..self.policy_input(with_events)
        }
    }

    pub fn policy_input(&self, with_events: bool) -> PolicyInput<'_> {
        // Destructured, so a new snapshot field cannot be forgotten here.
        let Snapshot {
            schema_version,
            scanner_version,
            started_at,
            finished_at,
            accounts,
            managed_policies,
            collection_errors,
            api_calls,
            events,
            // What CloudTrail was not read for is the report's to say, not a policy's.
            events_unread: _,
        } = self;
        PolicyInput {
            schema_version,
            scanner_version,
            started_at,
            finished_at,
            accounts,
            managed_policies,
            collection_errors,
            api_calls,
            events: with_events.then_some(events.as_slice()),
        }
    }
}

/// An account without its regions: the part of the policies' input that every partition of
/// the account shares (see `policy::partition`).
#[derive(Serialize)]
pub struct AccountContext<'a> {
    account_id: &'a str,
    partition: &'a str,
    execution_roles: &'a [ExecutionRole],
}

impl AccountSnapshot {
    pub fn context(&self) -> AccountContext<'_> {
        // Destructured, so a new account field cannot be forgotten here.
        let AccountSnapshot {
            account_id,
            partition,
            regions: _,
            execution_roles,
        } = self;
        AccountContext {
            account_id,
            partition,
            execution_roles,
        }
    }
}

/// A region without its domains: network, file systems, notebook instances and lifecycle
/// configurations, which every partition of the region shares.
#[derive(Serialize)]
pub struct RegionContext<'a> {
    region: &'a str,
    network: &'a Network,
    efs_file_systems: &'a [EfsFileSystem],
    notebook_instances: &'a [NotebookInstance],
    lifecycle_configs: &'a [LifecycleConfig],
}

impl RegionSnapshot {
    pub fn context(&self) -> RegionContext<'_> {
        let RegionSnapshot {
            region,
            domains: _,
            network,
            efs_file_systems,
            notebook_instances,
            lifecycle_configs,
        } = self;
        RegionContext {
            region,
            network,
            efs_file_systems,
            notebook_instances,
            lifecycle_configs,
        }
    }
}

/// One CloudTrail event of `sagemaker.amazonaws.com`: who did what to which resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlPlaneEvent {
    pub event_id: String,
    pub account_id: String,
    pub region: String,
    pub event_time: DateTime<Utc>,
    /// `CreateDomain`, `UpdateDomain`, `DeleteApp`, `CreatePresignedDomainUrl`, …
    pub event_name: String,
    /// ARNs of the domains, user profiles, spaces and apps it names (from the event's
    /// resources and request parameters).
    pub resources: Vec<String>,
    /// `requestParameters.domainId`, when the call named a domain.
    pub domain_id: Option<String>,
    /// `userIdentity.arn`: the role session or user that made the call.
    pub actor_arn: Option<String>,
    /// `userIdentity.type`: `AssumedRole`, `IAMUser`, `Root`, …
    pub actor_type: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub read_only: bool,
    /// `errorCode` of a call that failed (`AccessDenied`, `ValidationException`, ...): it
    /// changed nothing, signed nobody in, and is never attributed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `userIdentity.sessionContext.sourceIdentity`: whom a role session was assumed for (a
    /// domain with `ExecutionRoleIdentityConfig=USER_PROFILE_NAME` sets the user profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// `userIdentity.onBehalfOf.userId`: the IAM Identity Center user of a session with
    /// trusted identity propagation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

impl ControlPlaneEvent {
    /// A Studio sign-in: a presigned URL was created for a user profile (and the call
    /// succeeded).
    pub fn is_login(&self) -> bool {
        self.event_name == "CreatePresignedDomainUrl" && self.error_code.is_none()
    }

    /// A call that changed something: it succeeded, and it is not a read or a sign-in.
    pub fn is_change(&self) -> bool {
        !self.read_only
            && self.error_code.is_none()
            && self.event_name != "CreatePresignedDomainUrl"
    }

    /// The role session name of an assumed-role caller
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), with its role's name.
    pub fn role_session(&self) -> Option<(&str, &str)> {
        let arn = crate::vocab::Arn::parse(self.actor_arn.as_deref()?)?;
        let rest = arn.resource.strip_prefix("assumed-role/")?;
        rest.split_once('/')
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSnapshot {
    pub account_id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: taken from the caller identity ARN.
    pub partition: String,
    pub regions: Vec<RegionSnapshot>,
    /// Every effective execution role of the account's domains (see `roles`), with its bindings.
    pub execution_roles: Vec<ExecutionRole>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionSnapshot {
    pub region: String,
    pub domains: Vec<Domain>,
    pub network: Network,
    pub efs_file_systems: Vec<EfsFileSystem>,
    /// SageMaker notebook instances (the pre-Studio product; many accounts still run them).
    pub notebook_instances: Vec<NotebookInstance>,
    /// Studio and notebook-instance lifecycle configurations, their scripts redacted.
    pub lifecycle_configs: Vec<LifecycleConfig>,
}

/// A SageMaker domain with the user profiles, spaces and apps that live in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub domain_id: String,
    pub arn: String,
    pub name: String,
    /// `Deleting`, `Failed`, `InService`, `Pending`, `Updating`, `Update_Failed`, `Delete_Failed`.
    pub status: String,
    pub creation_time: Option<DateTime<Utc>>,
    pub last_modified_time: Option<DateTime<Utc>>,
    /// False when `DescribeDomain` failed: every field below is then unknown (see
    /// `collection_errors`), not empty.
    pub described: bool,
    pub failure_reason: Option<String>,
    /// As the API returns it; absent means `PublicInternetOnly`.
    pub app_network_access_type: Option<String>,
    pub auth_mode: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub kms_key_id: Option<String>,
    pub home_efs_file_system_id: Option<String>,
    pub security_group_id_for_domain_boundary: Option<String>,
    pub app_security_group_management: Option<String>,
    pub url: Option<String>,
    pub default_user_settings: Option<UserSettings>,
    pub default_space_settings: Option<SpaceDefaults>,
    /// `DomainSettings.RStudioServerProDomainSettings.DomainExecutionRoleArn`.
    pub rstudio_domain_execution_role_arn: Option<String>,
    /// `DomainSettings.SecurityGroupIds`.
    pub domain_security_group_ids: Vec<String>,
    /// `DomainSettings.ExecutionRoleIdentityConfig`: `USER_PROFILE_NAME` or `DISABLED`
    /// (absent means `DISABLED`).
    pub execution_role_identity_config: Option<String>,
    /// `DomainSettings.DockerSettings.EnableDockerAccess`: `ENABLED` or `DISABLED`.
    pub docker_access: Option<String>,
    /// `DomainSettings.DockerSettings.VpcOnlyTrustedAccounts`.
    pub docker_vpc_only_trusted_accounts: Vec<String>,
    pub user_profiles: Vec<UserProfile>,
    pub spaces: Vec<Space>,
    pub apps: Vec<App>,
}

/// `UserSettings` of a profile or `DefaultUserSettings` of a domain: the parts that decide
/// what its apps may do and reach.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    pub execution_role: Option<String>,
    pub security_groups: Vec<String>,
    pub default_landing_uri: Option<String>,
    pub studio_web_portal: Option<String>,
    /// `SharingSettings.NotebookOutputOption` (`Allowed` or `Disabled`).
    pub notebook_output_sharing: Option<String>,
    /// `SharingSettings.S3OutputPath`.
    pub notebook_output_s3_path: Option<String>,
    /// `SharingSettings.S3KmsKeyId`.
    pub notebook_output_kms_key_id: Option<String>,
    /// `JupyterLabAppSettings.AppLifecycleManagement.IdleSettings`.
    pub jupyter_lab_idle: Option<IdleSettings>,
    /// `CodeEditorAppSettings.AppLifecycleManagement.IdleSettings`.
    pub code_editor_idle: Option<IdleSettings>,
    /// The roles a Studio user can act as through app settings (EMR in JupyterLab, Canvas'
    /// Bedrock, Forecast, EMR Serverless and model registry roles).
    pub app_roles: Vec<AppRole>,
}

/// `AppLifecycleManagement.IdleSettings` of an app type: whether idle apps shut down.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdleSettings {
    /// `ENABLED` or `DISABLED`; absent when not set.
    pub lifecycle_management: Option<String>,
    pub idle_timeout_in_minutes: Option<i32>,
}

/// A role named by an app setting, with the setting's path in `UserSettings`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppRole {
    /// `emr` or `canvas`.
    pub kind: BindingKind,
    /// e.g. `CanvasAppSettings.GenerativeAiSettings.AmazonBedrockRoleArn`.
    pub setting: String,
    pub role_arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaceDefaults {
    pub execution_role: Option<String>,
    pub security_groups: Vec<String>,
    /// `JupyterLabAppSettings.AppLifecycleManagement.IdleSettings` (the API has no Code
    /// Editor settings in `DefaultSpaceSettings`).
    pub jupyter_lab_idle: Option<IdleSettings>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserProfile {
    pub name: String,
    pub arn: String,
    pub domain_id: String,
    pub status: String,
    pub creation_time: Option<DateTime<Utc>>,
    pub last_modified_time: Option<DateTime<Utc>>,
    /// False when `DescribeUserProfile` failed: `user_settings` is then unknown.
    pub described: bool,
    pub failure_reason: Option<String>,
    /// `None` when the profile overrides nothing (or was not described); it then runs as the
    /// domain's `DefaultUserSettings`.
    pub user_settings: Option<UserSettings>,
    pub single_sign_on_user_identifier: Option<String>,
    pub single_sign_on_user_value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Space {
    pub name: String,
    pub arn: String,
    pub domain_id: String,
    pub status: String,
    pub creation_time: Option<DateTime<Utc>>,
    pub last_modified_time: Option<DateTime<Utc>>,
    pub display_name: Option<String>,
    /// `Private` or `Shared`.
    pub sharing_type: Option<String>,
    pub owner_user_profile_name: Option<String>,
    pub app_type: Option<String>,
    /// False when `DescribeSpace` failed: the fields below are then unknown.
    pub described: bool,
    pub failure_reason: Option<String>,
    /// `SpaceSettings.RemoteAccess`: `ENABLED` lets a local IDE connect into the space.
    pub remote_access: Option<String>,
    /// `SpaceSettings.CustomFileSystems`: file systems the space mounts besides its home.
    pub custom_file_systems: Vec<CustomFileSystem>,
}

/// A file system a space mounts (`SpaceSettings.CustomFileSystems`): deleting the domain
/// leaves it in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomFileSystem {
    /// `efs`, `fsx_lustre` or `s3`.
    pub kind: String,
    /// The EFS or FSx file system id, or the S3 URI.
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub name: String,
    /// `JupyterServer`, `KernelGateway`, `JupyterLab`, `CodeEditor`, `Canvas`, ...
    pub app_type: String,
    pub arn: String,
    pub domain_id: String,
    pub user_profile_name: Option<String>,
    pub space_name: Option<String>,
    /// `Deleted`, `Deleting`, `Failed`, `InService`, `Pending`.
    pub status: String,
    pub creation_time: Option<DateTime<Utc>>,
    /// `ResourceSpec.InstanceType`; `system` for the free default JupyterServer instance.
    pub instance_type: Option<String>,
    pub sagemaker_image_arn: Option<String>,
    /// True when `DescribeApp` answered (called for failed apps only, for `FailureReason`).
    /// `LastUserActivityTimestamp` is not read: SageMaker's health checks refresh it, so it
    /// says nothing about users.
    pub described: bool,
    pub failure_reason: Option<String>,
}

/// A notebook instance (`DescribeNotebookInstance`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotebookInstance {
    pub name: String,
    pub arn: String,
    /// `Pending`, `InService`, `Stopping`, `Stopped`, `Failed`, `Deleting`, `Updating`.
    pub status: String,
    pub creation_time: Option<DateTime<Utc>>,
    pub last_modified_time: Option<DateTime<Utc>>,
    pub instance_type: Option<String>,
    /// False when `DescribeNotebookInstance` failed: the fields below are then unknown.
    pub described: bool,
    pub failure_reason: Option<String>,
    pub subnet_id: Option<String>,
    pub security_groups: Vec<String>,
    pub role_arn: Option<String>,
    pub kms_key_id: Option<String>,
    /// `Enabled` or `Disabled`.
    pub direct_internet_access: Option<String>,
    /// `Enabled` or `Disabled`; absent means `Enabled`.
    pub root_access: Option<String>,
    pub lifecycle_config_name: Option<String>,
}

/// A lifecycle configuration: a shell script SageMaker runs in Studio apps or on notebook
/// instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleConfig {
    pub name: String,
    pub arn: String,
    pub kind: LifecycleConfigKind,
    /// `StudioLifecycleConfigAppType` of a Studio config (`JupyterLab`, `CodeEditor`, ...).
    pub app_type: Option<String>,
    pub creation_time: Option<DateTime<Utc>>,
    pub last_modified_time: Option<DateTime<Utc>>,
    /// False when its describe call failed: `scripts` is then unknown.
    pub described: bool,
    /// Its scripts: one `content` for Studio, `on_create`/`on_start` for notebook instances.
    pub scripts: Vec<LifecycleScript>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleConfigKind {
    /// `ListStudioLifecycleConfigs`.
    StudioLifecycleConfig,
    /// `ListNotebookInstanceLifecycleConfigs`.
    NotebookInstanceLifecycleConfig,
}

impl LifecycleConfigKind {
    /// The resource type of its findings.
    pub fn resource_type(self) -> crate::vocab::ResourceType {
        match self {
            Self::StudioLifecycleConfig => crate::vocab::ResourceType::StudioLifecycleConfig,
            Self::NotebookInstanceLifecycleConfig => {
                crate::vocab::ResourceType::NotebookInstanceLifecycleConfig
            }
        }
    }
}

/// One decoded script. Secrets found in it are replaced by `<redacted:KIND>` before it is
/// stored: no snapshot, report or history ever holds one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleScript {
    /// `content` (Studio), `on_create` or `on_start` (notebook instance).
    pub hook: String,
    /// The script as text, secrets redacted; `null` when AWS's content was not base64.
    pub text: Option<String>,
    /// Where secrets were found (see `secrets`).
    pub secrets: Vec<SecretMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretMatch {
    /// 1-based line of the script.
    pub line: usize,
    /// `aws_access_key_id`, `aws_secret_access_key` or `private_key`.
    pub kind: String,
}

/// The EC2 plumbing of the VPCs that this region's domains use, plus every NFS security group
/// that SageMaker created in the region (orphans included).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    pub vpc_endpoints: Vec<VpcEndpoint>,
    pub security_groups: Vec<SecurityGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub subnet_id: String,
    pub vpc_id: String,
    pub cidr_block: Option<String>,
    pub availability_zone: Option<String>,
    pub map_public_ip_on_launch: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteTable {
    pub route_table_id: String,
    pub vpc_id: String,
    /// The VPC's main route table: it serves every subnet without an explicit association.
    pub main: bool,
    /// Subnets explicitly associated with this table.
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub destination_cidr_block: Option<String>,
    pub destination_ipv6_cidr_block: Option<String>,
    pub destination_prefix_list_id: Option<String>,
    /// An internet gateway (`igw-…`), a virtual private gateway (`vgw-…`) or `local`.
    pub gateway_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    pub egress_only_internet_gateway_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
    pub network_interface_id: Option<String>,
    /// `active` or `blackhole`.
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VpcEndpoint {
    pub vpc_endpoint_id: String,
    pub vpc_id: String,
    /// `com.amazonaws.<region>.<name>`, in `aws-cn` often `cn.com.amazonaws.<region>.<name>`.
    pub service_name: String,
    /// `Interface`, `Gateway`, `GatewayLoadBalancer`, ...
    pub endpoint_type: Option<String>,
    /// Lower case as the API returns it: `available`, `pending`, `rejected`, ...
    pub state: Option<String>,
    pub private_dns_enabled: bool,
    pub subnet_ids: Vec<String>,
    /// Route tables a Gateway endpoint is associated with.
    pub route_table_ids: Vec<String>,
    /// Security groups of an Interface endpoint (their rules are in `security_groups`).
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    pub group_id: String,
    pub group_name: String,
    pub vpc_id: Option<String>,
    pub description: Option<String>,
    pub arn: String,
    pub ingress: Vec<SecurityGroupRule>,
    pub egress: Vec<SecurityGroupRule>,
    pub tags: BTreeMap<String, String>,
    /// The SageMaker domain whose NFS group this is (`security-group-for-inbound-nfs-<id>`,
    /// `security-group-for-outbound-nfs-<id>`); the domain may be gone.
    #[serde(default)]
    pub domain_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupRule {
    /// `-1` means every protocol.
    pub ip_protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub ipv4_ranges: Vec<String>,
    pub ipv6_ranges: Vec<String>,
    pub referenced_group_ids: Vec<String>,
    pub prefix_list_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EfsFileSystem {
    pub file_system_id: String,
    pub arn: String,
    pub name: Option<String>,
    pub creation_time: Option<DateTime<Utc>>,
    pub life_cycle_state: String,
    /// Metered size (`SizeInBytes.Value`), as of `size_timestamp`.
    pub size_in_bytes: i64,
    pub size_timestamp: Option<DateTime<Utc>>,
    pub number_of_mount_targets: i32,
    /// `SizeInBytes.ValueInStandard`, `ValueInIA` and `ValueInArchive`, when EFS reports them.
    pub size_in_standard_bytes: Option<i64>,
    pub size_in_ia_bytes: Option<i64>,
    pub size_in_archive_bytes: Option<i64>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// The SageMaker domain whose home file system this is: the one its
    /// `ManagedByAmazonSageMakerResource` tag names, else the live domain whose
    /// `HomeEfsFileSystemId` it is (see `ownership`). The domain may be gone.
    #[serde(default)]
    pub domain_id: Option<String>,
    /// Its mount targets (`DescribeMountTargets`), read for the home EFS of a domain only.
    #[serde(default)]
    pub mount_target_ids: Vec<String>,
}

/// A role that some domain, profile or space runs as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionRole {
    pub arn: String,
    pub state: RoleState,
    /// Every use of the role, so a finding can say which users are affected.
    pub bindings: Vec<RoleBinding>,
    /// Present when `state` is `found`.
    pub role: Option<IamRole>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleState {
    /// IAM returned the role.
    Found,
    /// IAM's complete role list of the account does not contain it.
    Missing,
    /// The role lives in an account this scan did not read.
    CrossAccount,
    /// IAM could not be read (see `collection_errors`).
    NotCollected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IamRole {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub role_id: String,
    pub create_date: Option<DateTime<Utc>>,
    /// The trust policy document, decoded.
    pub assume_role_policy: serde_json::Value,
    /// ARNs of attached managed policies; their documents are in `Snapshot::managed_policies`.
    pub attached_policies: Vec<AttachedPolicy>,
    pub inline_policies: Vec<InlinePolicy>,
    pub permissions_boundary_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachedPolicy {
    pub arn: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlinePolicy {
    pub name: String,
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    /// `arn:<partition>:iam::aws:policy/...`.
    pub aws_managed: bool,
    pub default_version_id: String,
    /// The default version's document, decoded.
    pub document: serde_json::Value,
}

/// A call that failed. The scan goes on; what the call would have returned is unknown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionError {
    pub account_id: String,
    /// The region, or `global` for IAM and STS.
    pub region: String,
    /// `sagemaker`, `iam`, `ec2`, `efs`, `sts`.
    pub service: String,
    /// The API operation, e.g. `ListApps`.
    pub operation: String,
    /// A bounded kind: `access_denied`, `throttling`, `not_found`, `timeout`, `connection`,
    /// `service_error`, `invalid_response`.
    pub error: ErrorKind,
    /// The AWS error code, when the service sent one.
    pub error_code: Option<String>,
    pub message: String,
    /// What the call was about, when it was about one resource (a domain id, a profile).
    pub resource: Option<String>,
}

impl std::fmt::Display for CollectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} failed ({}): {}",
            self.service,
            self.operation,
            self.error.as_str(),
            self.message
        )
    }
}

impl CollectionError {
    /// The error of an account that could not be read at all: its scanner role could not be
    /// assumed, or (with `regions = ["all"]`) its enabled regions could not be listed.
    pub fn is_account_unreachable(&self) -> bool {
        matches!(
            (self.service.as_str(), self.operation.as_str()),
            ("sts", "AssumeRole") | ("ec2", "DescribeRegions")
        )
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    AccessDenied,
    Throttling,
    NotFound,
    Timeout,
    Connection,
    ServiceError,
    InvalidResponse,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::Throttling => "throttling",
            Self::NotFound => "not_found",
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::ServiceError => "service_error",
            Self::InvalidResponse => "invalid_response",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiCallCount {
    pub service: String,
    pub operation: String,
    /// `success`, or the error kind of the final attempt.
    pub outcome: String,
    /// Operations invoked (one per page of a paginated list).
    pub calls: u64,
    /// HTTP attempts, retries included.
    pub attempts: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: cannot read snapshot: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: invalid snapshot: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}:{line}: snapshot schema_version {found:?} is not supported (expected {expected:?}): it was saved by another version of sagemaker-auditor; scan again with --save-snapshot (version 2 added notebook instances, lifecycle configurations and the settings the v2 checks read)"
    )]
    Version {
        path: String,
        /// The line of the `schema_version` key.
        line: usize,
        found: String,
        expected: &'static str,
    },
    #[error("{path}: cannot write snapshot: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl Snapshot {
    /// Loads a snapshot saved by `scan --save-snapshot`, refusing another schema version.
    pub fn load(path: &Path) -> Result<Self, SnapshotError> {
        let display = path.display().to_string();
        let text = crate::fsutil::read_text(path).map_err(|e| match e {
            crate::fsutil::ReadTextError::Io(source) => SnapshotError::Read {
                path: display.clone(),
                source,
            },
            crate::fsutil::ReadTextError::NotUtf8 { line, column } => SnapshotError::Parse {
                path: display.clone(),
                line,
                column,
                message: "not UTF-8 text".into(),
            },
        })?;
        Self::from_json(&display, &text)
    }

    pub fn from_json(origin: &str, text: &str) -> Result<Self, SnapshotError> {
        // An old file gets the version error, not a field error: its version is read when
        // the snapshot does not parse or parses with another version (a second pass over
        // the text only then: 26 MB took 60 ms more on every load).
        #[derive(Deserialize)]
        struct VersionProbe {
            schema_version: Option<String>,
        }
        let version_error = |found: String| {
            let at = text.find("\"schema_version\"").unwrap_or(0);
            SnapshotError::Version {
                path: origin.to_string(),
                line: text[..at].matches('\n').count() + 1,
                found,
                expected: SCHEMA_VERSION,
            }
        };
        let mut snapshot: Snapshot = match serde_json::from_str::<Snapshot>(text) {
            Ok(snapshot) if snapshot.schema_version != SCHEMA_VERSION => {
                return Err(version_error(snapshot.schema_version));
            }
            Ok(snapshot) => snapshot,
            Err(e) => {
                if let Ok(VersionProbe {
                    schema_version: Some(found),
                }) = serde_json::from_str::<VersionProbe>(text)
                    && found != SCHEMA_VERSION
                {
                    return Err(version_error(found));
                }
                return Err(SnapshotError::Parse {
                    path: origin.to_string(),
                    line: e.line(),
                    column: e.column(),
                    message: e.to_string(),
                });
            }
        };
        // Decided here as at collection, so a snapshot saved or written without owners reads
        // the same.
        for region in snapshot.accounts.iter_mut().flat_map(|a| &mut a.regions) {
            ownership::assign(region);
        }
        snapshot.shrink_to_fit();
        Ok(snapshot)
    }

    /// Writes the snapshot atomically: a reader sees the old file or the new one, never half.
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| SnapshotError::Write {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        json.push(b'\n');
        crate::fsutil::write_atomic(path, &json).map_err(|source| SnapshotError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// The JSON Schema of the snapshot, as committed at `policies/schema/snapshot.json`.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Snapshot);
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Accounts the scan set out to read but could not reach (their role could not be
    /// assumed), with the errors that say why. Nothing is known about them.
    pub fn unreachable_accounts(&self) -> BTreeMap<&str, Vec<&CollectionError>> {
        let mut out: BTreeMap<&str, Vec<&CollectionError>> = BTreeMap::new();
        for e in &self.collection_errors {
            if e.is_account_unreachable()
                && !self.accounts.iter().any(|a| a.account_id == e.account_id)
            {
                out.entry(e.account_id.as_str()).or_default().push(e);
            }
        }
        out
    }

    pub fn resource_counts(&self) -> ResourceCounts {
        let mut c = ResourceCounts::default();
        for account in &self.accounts {
            c.execution_roles += account.execution_roles.len();
            for region in &account.regions {
                c.domains += region.domains.len();
                for d in &region.domains {
                    c.user_profiles += d.user_profiles.len();
                    c.spaces += d.spaces.len();
                    c.apps += d.apps.len();
                }
                c.efs_file_systems += region.efs_file_systems.len();
                c.security_groups += region.network.security_groups.len();
                c.notebook_instances += region.notebook_instances.len();
                c.lifecycle_configs += region.lifecycle_configs.len();
                c.vpc_endpoints += region.network.vpc_endpoints.len();
            }
        }
        c
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResourceCounts {
    pub domains: usize,
    pub user_profiles: usize,
    pub spaces: usize,
    pub apps: usize,
    pub execution_roles: usize,
    pub efs_file_systems: usize,
    pub security_groups: usize,
    pub vpc_endpoints: usize,
    pub notebook_instances: usize,
    pub lifecycle_configs: usize,
}

#[cfg(test)]
mod policy_input_tests {
    use super::*;

    #[test]
    fn the_policy_input_is_the_snapshot_with_events_only_when_asked() {
        let text = include_str!("../../examples/snapshot.json");
        let mut snapshot = Snapshot::from_json("example", text).unwrap();
        snapshot.events.push(ControlPlaneEvent {
            event_id: "e-1".into(),
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            event_time: Utc::now(),
            event_name: "UpdateDomain".into(),
            resources: vec![],
            domain_id: Some("d-1".into()),
            actor_arn: None,
            actor_type: None,
            source_ip: None,
            user_agent: None,
            read_only: false,
            error_code: None,
            source_identity: None,
            on_behalf_of: None,
        });
        let whole = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(
            serde_json::to_value(snapshot.policy_input(true)).unwrap(),
            whole
        );
        let mut without = whole.clone();
        without.as_object_mut().unwrap().remove("events");
        assert_eq!(
            serde_json::to_value(snapshot.policy_input(false)).unwrap(),
            without
        );
    }

    #[test]
    fn a_version_1_snapshot_is_refused_with_its_line_and_what_to_do() {
        let err = Snapshot::from_json(
            "old.json",
            "{\n  \"schema_version\": \"1\",\n  \"accounts\": []\n}",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "old.json:2: snapshot schema_version \"1\" is not supported (expected \"2\")"
            ),
            "{err}"
        );
        assert!(err.contains("--save-snapshot"), "{err}");
    }
}
