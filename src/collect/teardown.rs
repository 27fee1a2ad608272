//! What a domain consists of, read for `teardown-plan`: the domain (if it still exists), its
//! apps, spaces and user profiles, its home EFS with mount targets, and its two NFS security
//! groups. Read-only, and only this domain's: lists are filtered by domain id.

use aws_sdk_sagemaker::Client as SageMaker;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{AwsClients, Ctx, caller_identity, ec2, efs, is_not_found, opt};
use crate::snapshot::{CollectionError, SecurityGroupRule};

/// Actions `teardown-plan` calls beyond the scan's (see `permissions`).
pub(crate) const ACTIONS: &[&str] = &["elasticfilesystem:DescribeMountTargets"];

/// The tag SageMaker puts on a domain's home EFS: the domain's ARN.
pub const EFS_DOMAIN_TAG: &str = "ManagedByAmazonSageMakerResource";

/// Everything of one domain that has to go, as found.
#[derive(Debug, Clone, Default)]
pub struct DomainRemains {
    pub account_id: String,
    pub partition: String,
    pub region: String,
    pub domain_id: String,
    /// `None` when the domain no longer exists (only its leftovers may).
    pub domain: Option<LiveDomain>,
    pub apps: Vec<AppRemains>,
    pub spaces: Vec<NamedRemains>,
    pub user_profiles: Vec<NamedRemains>,
    pub file_systems: Vec<FileSystemRemains>,
    pub security_groups: Vec<GroupRemains>,
    /// Calls that failed: the picture is incomplete.
    pub errors: Vec<CollectionError>,
}

#[derive(Debug, Clone)]
pub struct LiveDomain {
    pub arn: String,
    pub name: String,
    pub status: String,
    pub home_efs_file_system_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AppRemains {
    pub app_type: String,
    pub name: String,
    /// `user_profile` or `space`, and its name.
    pub owner_kind: &'static str,
    pub owner: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct NamedRemains {
    pub name: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct FileSystemRemains {
    pub file_system_id: String,
    pub arn: String,
    pub size_in_bytes: i64,
    pub life_cycle_state: String,
    pub mount_target_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct GroupRemains {
    pub group_id: String,
    pub group_name: String,
    pub vpc_id: Option<String>,
    pub ingress: Vec<SecurityGroupRule>,
    pub egress: Vec<SecurityGroupRule>,
}

/// Reads what is left of `domain_id` in `region`, with the default credentials.
pub async fn domain_remains(clients: &AwsClients, region: &str, domain_id: &str) -> DomainRemains {
    let mut out = DomainRemains {
        region: region.to_string(),
        domain_id: domain_id.to_string(),
        ..DomainRemains::default()
    };
    let identity = match caller_identity(clients).await {
        Ok(identity) => identity,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    let global = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let ctx = Ctx::new(
        identity.account_id.clone(),
        identity.partition.clone(),
        &global,
        8,
    );
    out.account_id = identity.account_id;
    out.partition = identity.partition;
    let domain_arn = format!(
        "arn:{}:sagemaker:{region}:{}:domain/{domain_id}",
        out.partition, out.account_id
    );

    let sm = clients.sagemaker(region);
    let (efs_client, ec2_client) = (clients.efs(region), clients.ec2(region));
    let (domain, apps, spaces, profiles, file_systems, groups) = tokio::join!(
        describe(&ctx, &sm, region, domain_id),
        apps(&ctx, &sm, region, domain_id),
        spaces(&ctx, &sm, region, domain_id),
        profiles(&ctx, &sm, region, domain_id),
        efs::collect_file_systems(&ctx, &efs_client, region),
        ec2::security_groups(
            &ctx,
            &ec2_client,
            region,
            ec2::filter(
                "group-name",
                [
                    format!("security-group-for-inbound-nfs-{domain_id}"),
                    format!("security-group-for-outbound-nfs-{domain_id}"),
                ],
            ),
        ),
    );
    out.domain = domain;
    out.apps = apps;
    out.spaces = spaces;
    out.user_profiles = profiles;

    // The home EFS: tagged with the domain's ARN (also after the domain is gone), or named
    // by the live domain.
    let home = out
        .domain
        .as_ref()
        .and_then(|d| d.home_efs_file_system_id.clone());
    for fs in file_systems.into_iter().filter(|fs| {
        fs.tags.get(EFS_DOMAIN_TAG) == Some(&domain_arn)
            || home.as_deref() == Some(fs.file_system_id.as_str())
    }) {
        let mount_target_ids = mount_targets(&ctx, &efs_client, region, &fs.file_system_id).await;
        out.file_systems.push(FileSystemRemains {
            file_system_id: fs.file_system_id,
            arn: fs.arn,
            size_in_bytes: fs.size_in_bytes,
            life_cycle_state: fs.life_cycle_state,
            mount_target_ids,
        });
    }
    out.security_groups = groups
        .into_iter()
        .map(|g| GroupRemains {
            group_id: g.group_id,
            group_name: g.group_name,
            vpc_id: g.vpc_id,
            ingress: g.ingress,
            egress: g.egress,
        })
        .collect();
    out.security_groups
        .sort_by(|a, b| a.group_name.cmp(&b.group_name));
    out.errors = ctx.take_errors();
    out
}

async fn describe(ctx: &Ctx, sm: &SageMaker, region: &str, domain_id: &str) -> Option<LiveDomain> {
    match ctx
        .call(sm.describe_domain().domain_id(domain_id).send())
        .await
    {
        Ok(d) => Some(LiveDomain {
            arn: d.domain_arn().unwrap_or_default().to_string(),
            name: d.domain_name().unwrap_or_default().to_string(),
            status: d
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            home_efs_file_system_id: opt(d.home_efs_file_system_id()),
        }),
        Err(err) if is_not_found(&err) => None,
        Err(err) => {
            ctx.record(region, "sagemaker", "DescribeDomain", Some(domain_id), &err);
            None
        }
    }
}

/// Every item of a SageMaker listing filtered to one domain (all pages, 100 per page).
macro_rules! list_in_domain {
    ($ctx:expr, $client:expr, $operation:ident, $domain_id:expr) => {
        $ctx.call(
            $client
                .$operation()
                .domain_id_equals($domain_id)
                .max_results(100)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .await
    };
}

async fn apps(ctx: &Ctx, sm: &SageMaker, region: &str, domain_id: &str) -> Vec<AppRemains> {
    let listed = list_in_domain!(ctx, sm, list_apps, domain_id);
    let apps = listed_or_record(ctx, region, "ListApps", domain_id, listed);
    let mut out: Vec<AppRemains> = apps
        .iter()
        .filter_map(|a| {
            let (owner_kind, owner) = match (a.user_profile_name(), a.space_name()) {
                (_, Some(space)) => ("space", space),
                (Some(profile), None) => ("user_profile", profile),
                (None, None) => return None,
            };
            Some(AppRemains {
                app_type: a.app_type()?.as_str().to_string(),
                name: a.app_name()?.to_string(),
                owner_kind,
                owner: owner.to_string(),
                status: a
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.owner, &a.app_type, &a.name).cmp(&(&b.owner, &b.app_type, &b.name)));
    out
}

async fn spaces(ctx: &Ctx, sm: &SageMaker, region: &str, domain_id: &str) -> Vec<NamedRemains> {
    let listed = list_in_domain!(ctx, sm, list_spaces, domain_id);
    let spaces = listed_or_record(ctx, region, "ListSpaces", domain_id, listed);
    named(
        spaces
            .iter()
            .map(|s| (s.space_name(), s.status().map(|x| x.as_str()))),
    )
}

async fn profiles(ctx: &Ctx, sm: &SageMaker, region: &str, domain_id: &str) -> Vec<NamedRemains> {
    let listed = list_in_domain!(ctx, sm, list_user_profiles, domain_id);
    let profiles = listed_or_record(ctx, region, "ListUserProfiles", domain_id, listed);
    named(
        profiles
            .iter()
            .map(|p| (p.user_profile_name(), p.status().map(|x| x.as_str()))),
    )
}

/// A listing's items; a failure is recorded (a domain that is gone lists nothing).
fn listed_or_record<T, E, R>(
    ctx: &Ctx,
    region: &str,
    operation: &str,
    domain_id: &str,
    listed: Result<Vec<T>, SdkError<E, R>>,
) -> Vec<T>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match listed {
        Ok(items) => items,
        Err(err) if is_not_found(&err) => Vec::new(),
        Err(err) => {
            ctx.record(region, "sagemaker", operation, Some(domain_id), &err);
            Vec::new()
        }
    }
}

fn named<'a>(items: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Vec<NamedRemains> {
    let mut out: Vec<NamedRemains> = items
        .filter_map(|(name, status)| {
            Some(NamedRemains {
                name: name?.to_string(),
                status: status.unwrap_or_default().to_string(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

async fn mount_targets(
    ctx: &Ctx,
    client: &aws_sdk_efs::Client,
    region: &str,
    file_system_id: &str,
) -> Vec<String> {
    match ctx
        .call(
            client
                .describe_mount_targets()
                .file_system_id(file_system_id)
                .send(),
        )
        .await
    {
        Ok(out) => {
            let mut ids: Vec<String> = out
                .mount_targets()
                .iter()
                .map(|m| m.mount_target_id().to_string())
                .collect();
            ids.sort();
            ids
        }
        Err(err) => {
            ctx.record(
                region,
                "efs",
                "DescribeMountTargets",
                Some(file_system_id),
                &err,
            );
            Vec::new()
        }
    }
}
