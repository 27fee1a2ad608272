//! SageMaker: domains, user profiles, spaces and apps.
//!
//! Calls per region: `ListDomains`, then `ListUserProfiles`, `ListSpaces` and `ListApps` once
//! for the whole region (not once per domain: one page holds 100 items of every domain), one
//! `DescribeDomain` per domain and `DescribeUserProfile` per profile (their settings carry the
//! execution role and security groups), `DescribeSpace` per space (`RemoteAccess`, custom file
//! systems and `FailureReason` are only there), `DescribeApp` only for a failed app (for its
//! `FailureReason`; `ListApps` already has what the other checks read).

use std::collections::BTreeMap;

use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::types::{self as sm};

use super::{Ctx, is_not_found, opt, ts};
use crate::snapshot::{
    App, AppRole, BindingKind, CustomFileSystem, Domain, IdleSettings, Space, SpaceDefaults,
    UserProfile, UserSettings,
};
use crate::vocab::Arn;

const SERVICE: &str = "sagemaker";
/// The largest page every SageMaker list operation accepts.
const PAGE: i32 = 100;

/// The SageMaker actions this collector calls.
pub(crate) const ACTIONS: &[&str] = &[
    "sagemaker:ListDomains",
    "sagemaker:DescribeDomain",
    "sagemaker:ListUserProfiles",
    "sagemaker:DescribeUserProfile",
    "sagemaker:ListSpaces",
    "sagemaker:DescribeSpace",
    "sagemaker:ListApps",
    "sagemaker:DescribeApp",
];

pub(super) async fn collect_domains(ctx: &Ctx, client: &Client, region: &str) -> Vec<Domain> {
    let listed = ctx.listing(
        region,
        SERVICE,
        "ListDomains",
        client
            .list_domains()
            .max_results(PAGE)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
    );
    let Some(summaries) = listed.await else {
        return Vec::new();
    };
    if summaries.is_empty() {
        // Profiles, spaces and apps cannot exist without a domain: no call needed.
        return Vec::new();
    }

    let (described, mut profiles, mut spaces, mut apps) = tokio::join!(
        ctx.each(&summaries, |s| describe_domain(ctx, client, region, s)),
        list_user_profiles(ctx, client, region),
        list_spaces(ctx, client, region),
        list_apps(ctx, client, region),
    );
    let mut domains: Vec<Domain> = described.into_iter().flatten().collect();
    let index: BTreeMap<String, usize> = domains
        .iter()
        .enumerate()
        .map(|(i, d)| (d.domain_id.clone(), i))
        .collect();

    // Only what belongs to a domain we hold is worth a describe (one created or deleted
    // between the list calls is not).
    let known = |domain_id: Option<&str>| domain_id.is_some_and(|d| index.contains_key(d));
    profiles.retain(|p| known(p.domain_id()));
    spaces.retain(|s| known(s.domain_id()));
    apps.retain(|a| known(a.domain_id()));
    let (profiles, spaces, apps) = tokio::join!(
        ctx.each(&profiles, |p| describe_user_profile(ctx, client, region, p)),
        ctx.each(&spaces, |s| space(ctx, client, region, s)),
        ctx.each(&apps, |a| app(ctx, client, region, a)),
    );
    for profile in profiles.into_iter().flatten() {
        if let Some(&i) = index.get(&profile.domain_id) {
            domains[i].user_profiles.push(profile);
        }
    }
    for space in spaces.into_iter().flatten() {
        if let Some(&i) = index.get(&space.domain_id) {
            domains[i].spaces.push(space);
        }
    }
    for app in apps.into_iter().flatten() {
        if let Some(&i) = index.get(&app.domain_id) {
            domains[i].apps.push(app);
        }
    }
    for d in &mut domains {
        d.user_profiles.sort_by(|a, b| a.name.cmp(&b.name));
        d.spaces.sort_by(|a, b| a.name.cmp(&b.name));
        d.apps.sort_by(|a, b| a.arn.cmp(&b.arn));
    }
    domains.sort_by(|a, b| a.domain_id.cmp(&b.domain_id));
    domains
}

fn idle(s: Option<&sm::IdleSettings>) -> Option<IdleSettings> {
    s.map(|s| IdleSettings {
        lifecycle_management: s.lifecycle_management().map(|m| m.as_str().to_string()),
        idle_timeout_in_minutes: s.idle_timeout_in_minutes(),
    })
}

/// The roles that app settings let a Studio user act as, with the setting naming each.
fn app_roles(s: &sm::UserSettings) -> Vec<AppRole> {
    let mut roles = Vec::new();
    let mut add = |kind, setting: &str, arn: Option<&str>| {
        if let Some(role_arn) = opt(arn) {
            roles.push(AppRole {
                kind,
                setting: setting.to_string(),
                role_arn,
            });
        }
    };
    if let Some(emr) = s.jupyter_lab_app_settings().and_then(|j| j.emr_settings()) {
        for arn in emr.assumable_role_arns() {
            add(
                BindingKind::Emr,
                "JupyterLabAppSettings.EmrSettings.AssumableRoleArns",
                Some(arn),
            );
        }
        for arn in emr.execution_role_arns() {
            add(
                BindingKind::Emr,
                "JupyterLabAppSettings.EmrSettings.ExecutionRoleArns",
                Some(arn),
            );
        }
    }
    if let Some(c) = s.canvas_app_settings() {
        let canvas = BindingKind::Canvas;
        add(
            canvas,
            "CanvasAppSettings.GenerativeAiSettings.AmazonBedrockRoleArn",
            c.generative_ai_settings()
                .and_then(|g| g.amazon_bedrock_role_arn()),
        );
        add(
            canvas,
            "CanvasAppSettings.TimeSeriesForecastingSettings.AmazonForecastRoleArn",
            c.time_series_forecasting_settings()
                .and_then(|t| t.amazon_forecast_role_arn()),
        );
        add(
            canvas,
            "CanvasAppSettings.EmrServerlessSettings.ExecutionRoleArn",
            c.emr_serverless_settings()
                .and_then(|e| e.execution_role_arn()),
        );
        add(
            canvas,
            "CanvasAppSettings.ModelRegisterSettings.CrossAccountModelRegisterRoleArn",
            c.model_register_settings()
                .and_then(|m| m.cross_account_model_register_role_arn()),
        );
    }
    roles
}

fn user_settings(s: &sm::UserSettings) -> UserSettings {
    let sharing = s.sharing_settings();
    UserSettings {
        execution_role: opt(s.execution_role()),
        security_groups: s.security_groups().to_vec(),
        default_landing_uri: opt(s.default_landing_uri()),
        studio_web_portal: s.studio_web_portal().map(|p| p.as_str().to_string()),
        notebook_output_sharing: sharing
            .and_then(|x| x.notebook_output_option())
            .map(|o| o.as_str().to_string()),
        notebook_output_s3_path: sharing.and_then(|x| opt(x.s3_output_path())),
        notebook_output_kms_key_id: sharing.and_then(|x| opt(x.s3_kms_key_id())),
        jupyter_lab_idle: idle(
            s.jupyter_lab_app_settings()
                .and_then(|j| j.app_lifecycle_management())
                .and_then(|m| m.idle_settings()),
        ),
        code_editor_idle: idle(
            s.code_editor_app_settings()
                .and_then(|c| c.app_lifecycle_management())
                .and_then(|m| m.idle_settings()),
        ),
        app_roles: app_roles(s),
    }
}

async fn describe_domain(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    summary: &sm::DomainDetails,
) -> Option<Domain> {
    let domain_id = summary.domain_id()?.to_string();
    let mut domain = Domain {
        arn: summary.domain_arn().unwrap_or_default().to_string(),
        name: summary.domain_name().unwrap_or_default().to_string(),
        status: summary
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        creation_time: ts(summary.creation_time()),
        last_modified_time: ts(summary.last_modified_time()),
        described: false,
        failure_reason: None,
        app_network_access_type: None,
        auth_mode: None,
        vpc_id: None,
        subnet_ids: Vec::new(),
        kms_key_id: None,
        home_efs_file_system_id: None,
        security_group_id_for_domain_boundary: None,
        app_security_group_management: None,
        url: opt(summary.url()),
        default_user_settings: None,
        default_space_settings: None,
        rstudio_domain_execution_role_arn: None,
        domain_security_group_ids: Vec::new(),
        execution_role_identity_config: None,
        docker_access: None,
        docker_vpc_only_trusted_accounts: Vec::new(),
        user_profiles: Vec::new(),
        spaces: Vec::new(),
        apps: Vec::new(),
        domain_id,
    };
    if domain.arn.is_empty() {
        domain.arn =
            Arn::sagemaker_domain(&ctx.partition, region, &ctx.account_id, &domain.domain_id);
    }
    let out = match ctx
        .call(client.describe_domain().domain_id(&domain.domain_id).send())
        .await
    {
        Ok(out) => out,
        Err(err) if is_not_found(&err) => return None,
        Err(err) => {
            ctx.record(
                region,
                SERVICE,
                "DescribeDomain",
                Some(&domain.domain_id),
                &err,
            );
            return Some(domain);
        }
    };
    domain.described = true;
    if let Some(status) = out.status() {
        domain.status = status.as_str().to_string();
    }
    domain.failure_reason = opt(out.failure_reason());
    domain.app_network_access_type = out
        .app_network_access_type()
        .map(|t| t.as_str().to_string());
    domain.auth_mode = out.auth_mode().map(|m| m.as_str().to_string());
    domain.vpc_id = opt(out.vpc_id());
    domain.subnet_ids = out.subnet_ids().to_vec();
    domain.kms_key_id = opt(out.kms_key_id());
    domain.home_efs_file_system_id = opt(out.home_efs_file_system_id());
    domain.security_group_id_for_domain_boundary = opt(out.security_group_id_for_domain_boundary());
    domain.app_security_group_management = out
        .app_security_group_management()
        .map(|m| m.as_str().to_string());
    domain.url = opt(out.url()).or(domain.url);
    domain.default_user_settings = out.default_user_settings().map(user_settings);
    domain.default_space_settings = out.default_space_settings().map(|s| SpaceDefaults {
        execution_role: opt(s.execution_role()),
        security_groups: s.security_groups().to_vec(),
        jupyter_lab_idle: idle(
            s.jupyter_lab_app_settings()
                .and_then(|j| j.app_lifecycle_management())
                .and_then(|m| m.idle_settings()),
        ),
    });
    if let Some(settings) = out.domain_settings() {
        domain.domain_security_group_ids = settings.security_group_ids().to_vec();
        domain.rstudio_domain_execution_role_arn = settings
            .r_studio_server_pro_domain_settings()
            .and_then(|r| opt(r.domain_execution_role_arn()));
        domain.execution_role_identity_config = settings
            .execution_role_identity_config()
            .map(|c| c.as_str().to_string());
        if let Some(docker) = settings.docker_settings() {
            domain.docker_access = docker
                .enable_docker_access()
                .map(|s| s.as_str().to_string());
            domain.docker_vpc_only_trusted_accounts = docker.vpc_only_trusted_accounts().to_vec();
        }
    }
    Some(domain)
}

async fn list_user_profiles(
    ctx: &Ctx,
    client: &Client,
    region: &str,
) -> Vec<sm::UserProfileDetails> {
    let pages = client
        .list_user_profiles()
        .max_results(PAGE)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>();
    let listed = ctx
        .listing(region, SERVICE, "ListUserProfiles", pages)
        .await;
    listed.unwrap_or_default()
}

async fn describe_user_profile(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    summary: &sm::UserProfileDetails,
) -> Option<UserProfile> {
    let domain_id = summary.domain_id()?.to_string();
    let name = summary.user_profile_name()?.to_string();
    let mut profile = UserProfile {
        arn: Arn::sagemaker(
            &ctx.partition,
            region,
            &ctx.account_id,
            &format!("user-profile/{domain_id}/{name}"),
        ),
        status: summary
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        creation_time: ts(summary.creation_time()),
        last_modified_time: ts(summary.last_modified_time()),
        described: false,
        failure_reason: None,
        user_settings: None,
        single_sign_on_user_identifier: None,
        single_sign_on_user_value: None,
        domain_id,
        name,
    };
    let out = match ctx
        .call(
            client
                .describe_user_profile()
                .domain_id(&profile.domain_id)
                .user_profile_name(&profile.name)
                .send(),
        )
        .await
    {
        Ok(out) => out,
        Err(err) if is_not_found(&err) => return None,
        Err(err) => {
            let resource = format!("{}/{}", profile.domain_id, profile.name);
            ctx.record(
                region,
                SERVICE,
                "DescribeUserProfile",
                Some(&resource),
                &err,
            );
            return Some(profile);
        }
    };
    profile.described = true;
    if let Some(arn) = opt(out.user_profile_arn()) {
        profile.arn = arn;
    }
    if let Some(status) = out.status() {
        profile.status = status.as_str().to_string();
    }
    profile.failure_reason = opt(out.failure_reason());
    profile.user_settings = out.user_settings().map(user_settings);
    profile.single_sign_on_user_identifier = opt(out.single_sign_on_user_identifier());
    profile.single_sign_on_user_value = opt(out.single_sign_on_user_value());
    Some(profile)
}

async fn list_spaces(ctx: &Ctx, client: &Client, region: &str) -> Vec<sm::SpaceDetails> {
    let pages = client
        .list_spaces()
        .max_results(PAGE)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>();
    let listed = ctx.listing(region, SERVICE, "ListSpaces", pages).await;
    listed.unwrap_or_default()
}

async fn space(ctx: &Ctx, client: &Client, region: &str, s: &sm::SpaceDetails) -> Option<Space> {
    let domain_id = s.domain_id()?.to_string();
    let name = s.space_name()?.to_string();
    let mut space = Space {
        arn: Arn::sagemaker(
            &ctx.partition,
            region,
            &ctx.account_id,
            &format!("space/{domain_id}/{name}"),
        ),
        status: s
            .status()
            .map(|x| x.as_str().to_string())
            .unwrap_or_default(),
        creation_time: ts(s.creation_time()),
        last_modified_time: ts(s.last_modified_time()),
        display_name: opt(s.space_display_name()),
        sharing_type: s
            .space_sharing_settings_summary()
            .and_then(|x| x.sharing_type())
            .map(|x| x.as_str().to_string()),
        owner_user_profile_name: s
            .ownership_settings_summary()
            .and_then(|x| opt(x.owner_user_profile_name())),
        app_type: s
            .space_settings_summary()
            .and_then(|x| x.app_type())
            .map(|x| x.as_str().to_string()),
        described: false,
        failure_reason: None,
        remote_access: None,
        custom_file_systems: Vec::new(),
        domain_id,
        name,
    };
    match ctx
        .call(
            client
                .describe_space()
                .domain_id(&space.domain_id)
                .space_name(&space.name)
                .send(),
        )
        .await
    {
        Ok(out) => {
            if let Some(arn) = opt(out.space_arn()) {
                space.arn = arn;
            }
            space.described = true;
            if let Some(status) = out.status() {
                space.status = status.as_str().to_string();
            }
            space.failure_reason = opt(out.failure_reason());
            if let Some(settings) = out.space_settings() {
                space.remote_access = settings.remote_access().map(|r| r.as_str().to_string());
                space.custom_file_systems = settings
                    .custom_file_systems()
                    .iter()
                    .filter_map(custom_file_system)
                    .collect();
            }
        }
        Err(err) if is_not_found(&err) => return None,
        Err(err) => {
            let resource = format!("{}/{}", space.domain_id, space.name);
            ctx.record(region, SERVICE, "DescribeSpace", Some(&resource), &err);
        }
    }
    Some(space)
}

fn custom_file_system(fs: &sm::CustomFileSystem) -> Option<CustomFileSystem> {
    let (kind, id) = match fs {
        sm::CustomFileSystem::EfsFileSystem(e) => ("efs", e.file_system_id()?),
        sm::CustomFileSystem::FSxLustreFileSystem(f) => ("fsx_lustre", f.file_system_id()?),
        sm::CustomFileSystem::S3FileSystem(s) => ("s3", s.s3_uri()?),
        _ => return None,
    };
    Some(CustomFileSystem {
        kind: kind.to_string(),
        id: id.to_string(),
    })
}

async fn list_apps(ctx: &Ctx, client: &Client, region: &str) -> Vec<sm::AppDetails> {
    let pages = client
        .list_apps()
        .max_results(PAGE)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>();
    let listed = ctx.listing(region, SERVICE, "ListApps", pages).await;
    listed.unwrap_or_default()
}

async fn app(ctx: &Ctx, client: &Client, region: &str, a: &sm::AppDetails) -> Option<App> {
    let domain_id = a.domain_id()?.to_string();
    let name = a.app_name()?.to_string();
    let app_type = a.app_type()?.as_str().to_string();
    let owner = a.user_profile_name().or(a.space_name()).unwrap_or_default();
    let instance_type = a
        .resource_spec()
        .and_then(|r| r.instance_type())
        .map(|t| t.as_str().to_string());
    let mut app = App {
        arn: Arn::sagemaker(
            &ctx.partition,
            region,
            &ctx.account_id,
            &format!(
                "app/{domain_id}/{owner}/{}/{name}",
                app_type.to_ascii_lowercase()
            ),
        ),
        user_profile_name: opt(a.user_profile_name()),
        space_name: opt(a.space_name()),
        status: a
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        creation_time: ts(a.creation_time()),
        sagemaker_image_arn: a
            .resource_spec()
            .and_then(|r| opt(r.sage_maker_image_arn())),
        described: false,
        failure_reason: None,
        instance_type,
        domain_id,
        name,
        app_type,
    };
    if app.status != "Failed" {
        return Some(app);
    }
    let mut req = client
        .describe_app()
        .domain_id(&app.domain_id)
        .app_type(sm::AppType::from(app.app_type.as_str()))
        .app_name(&app.name);
    req = match (&app.user_profile_name, &app.space_name) {
        (Some(profile), _) => req.user_profile_name(profile),
        (None, Some(space)) => req.space_name(space),
        (None, None) => req,
    };
    match ctx.call(req.send()).await {
        Ok(out) => {
            app.described = true;
            if let Some(arn) = opt(out.app_arn()) {
                app.arn = arn;
            }
            if let Some(status) = out.status() {
                app.status = status.as_str().to_string();
            }
            app.failure_reason = opt(out.failure_reason());
        }
        Err(err) if is_not_found(&err) => return None,
        Err(err) => {
            let resource = format!("{}/{owner}/{}/{}", app.domain_id, app.app_type, app.name);
            ctx.record(region, SERVICE, "DescribeApp", Some(&resource), &err);
        }
    }
    Some(app)
}
