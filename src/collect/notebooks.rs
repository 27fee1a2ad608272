//! SageMaker notebook instances and lifecycle configurations (Studio's and notebook
//! instances'): their network, root access, key and role settings, and their scripts.
//!
//! Calls per region: `ListNotebookInstances`, `ListStudioLifecycleConfigs` and
//! `ListNotebookInstanceLifecycleConfigs` (100 a page), then one describe per item: the
//! summaries carry neither the settings the checks read nor the scripts.

use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::types as sm;
use base64::Engine as _;

use super::{Ctx, is_not_found, opt, ts};
use crate::snapshot::{
    LifecycleConfig, LifecycleConfigKind, LifecycleScript, NotebookInstance, secrets,
};

const SERVICE: &str = "sagemaker";
const PAGE: i32 = 100;

pub(crate) const ACTIONS: &[&str] = &[
    "sagemaker:ListNotebookInstances",
    "sagemaker:DescribeNotebookInstance",
    "sagemaker:ListStudioLifecycleConfigs",
    "sagemaker:DescribeStudioLifecycleConfig",
    "sagemaker:ListNotebookInstanceLifecycleConfigs",
    "sagemaker:DescribeNotebookInstanceLifecycleConfig",
];

pub(super) async fn collect_notebook_instances(
    ctx: &Ctx,
    client: &Client,
    region: &str,
) -> Vec<NotebookInstance> {
    let pages = client
        .list_notebook_instances()
        .max_results(PAGE)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>();
    let Some(summaries) = ctx
        .listing(region, SERVICE, "ListNotebookInstances", pages)
        .await
    else {
        return Vec::new();
    };
    let mut out: Vec<NotebookInstance> = ctx
        .each(&summaries, |s| notebook_instance(ctx, client, region, s))
        .await
        .into_iter()
        .flatten()
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

async fn notebook_instance(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    s: &sm::NotebookInstanceSummary,
) -> Option<NotebookInstance> {
    let name = s.notebook_instance_name()?.to_string();
    let mut n = NotebookInstance {
        arn: s.notebook_instance_arn().unwrap_or_default().to_string(),
        status: s
            .notebook_instance_status()
            .map(|x| x.as_str().to_string())
            .unwrap_or_default(),
        creation_time: ts(s.creation_time()),
        last_modified_time: ts(s.last_modified_time()),
        instance_type: s.instance_type().map(|t| t.as_str().to_string()),
        lifecycle_config_name: opt(s.notebook_instance_lifecycle_config_name()),
        name,
        ..Default::default()
    };
    let out = match ctx
        .call(
            client
                .describe_notebook_instance()
                .notebook_instance_name(&n.name)
                .send(),
        )
        .await
    {
        Ok(out) => out,
        Err(err) if is_not_found(&err) => return None,
        Err(err) => {
            ctx.record(
                region,
                SERVICE,
                "DescribeNotebookInstance",
                Some(&n.name),
                &err,
            );
            return Some(n);
        }
    };
    n.described = true;
    if let Some(status) = out.notebook_instance_status() {
        n.status = status.as_str().to_string();
    }
    n.failure_reason = opt(out.failure_reason());
    n.subnet_id = opt(out.subnet_id());
    n.security_groups = out.security_groups().to_vec();
    n.role_arn = opt(out.role_arn());
    n.kms_key_id = opt(out.kms_key_id());
    n.direct_internet_access = out.direct_internet_access().map(|d| d.as_str().to_string());
    n.root_access = out.root_access().map(|r| r.as_str().to_string());
    n.lifecycle_config_name = opt(out.notebook_instance_lifecycle_config_name());
    Some(n)
}

/// Both kinds of lifecycle configuration, Studio's first.
pub(super) async fn collect_lifecycle_configs(
    ctx: &Ctx,
    client: &Client,
    region: &str,
) -> Vec<LifecycleConfig> {
    let (studio, notebook) = tokio::join!(
        studio_configs(ctx, client, region),
        notebook_configs(ctx, client, region)
    );
    let mut out: Vec<LifecycleConfig> = studio.into_iter().chain(notebook).collect();
    out.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    out
}

async fn studio_configs(ctx: &Ctx, client: &Client, region: &str) -> Vec<LifecycleConfig> {
    let pages = client
        .list_studio_lifecycle_configs()
        .max_results(PAGE)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>();
    let Some(summaries) = ctx
        .listing(region, SERVICE, "ListStudioLifecycleConfigs", pages)
        .await
    else {
        return Vec::new();
    };
    let described = ctx
        .each(&summaries, |s| async move {
            let name = s.studio_lifecycle_config_name()?.to_string();
            let mut config = LifecycleConfig {
                arn: s.studio_lifecycle_config_arn().unwrap_or_default().into(),
                kind: LifecycleConfigKind::StudioLifecycleConfig,
                app_type: s
                    .studio_lifecycle_config_app_type()
                    .map(|t| t.as_str().to_string()),
                creation_time: ts(s.creation_time()),
                last_modified_time: ts(s.last_modified_time()),
                described: false,
                scripts: Vec::new(),
                name,
            };
            let call = client
                .describe_studio_lifecycle_config()
                .studio_lifecycle_config_name(&config.name)
                .send();
            match ctx.call(call).await {
                Ok(out) => {
                    config.described = true;
                    config.scripts = vec![script("content", out.studio_lifecycle_config_content())];
                }
                Err(err) if is_not_found(&err) => return None,
                Err(err) => ctx.record(
                    region,
                    SERVICE,
                    "DescribeStudioLifecycleConfig",
                    Some(&config.name),
                    &err,
                ),
            }
            Some(config)
        })
        .await;
    described.into_iter().flatten().collect()
}

async fn notebook_configs(ctx: &Ctx, client: &Client, region: &str) -> Vec<LifecycleConfig> {
    let pages = client
        .list_notebook_instance_lifecycle_configs()
        .max_results(PAGE)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>();
    let Some(summaries) = ctx
        .listing(
            region,
            SERVICE,
            "ListNotebookInstanceLifecycleConfigs",
            pages,
        )
        .await
    else {
        return Vec::new();
    };
    let described = ctx
        .each(&summaries, |s| async move {
            let name = s.notebook_instance_lifecycle_config_name()?.to_string();
            let mut config = LifecycleConfig {
                arn: s
                    .notebook_instance_lifecycle_config_arn()
                    .unwrap_or_default()
                    .into(),
                kind: LifecycleConfigKind::NotebookInstanceLifecycleConfig,
                app_type: None,
                creation_time: ts(s.creation_time()),
                last_modified_time: ts(s.last_modified_time()),
                described: false,
                scripts: Vec::new(),
                name,
            };
            let call = client
                .describe_notebook_instance_lifecycle_config()
                .notebook_instance_lifecycle_config_name(&config.name)
                .send();
            match ctx.call(call).await {
                Ok(out) => {
                    config.described = true;
                    let hooks = [("on_create", out.on_create()), ("on_start", out.on_start())];
                    for (hook, list) in hooks {
                        for h in list {
                            config.scripts.push(script(hook, h.content()));
                        }
                    }
                }
                Err(err) if is_not_found(&err) => return None,
                Err(err) => ctx.record(
                    region,
                    SERVICE,
                    "DescribeNotebookInstanceLifecycleConfig",
                    Some(&config.name),
                    &err,
                ),
            }
            Some(config)
        })
        .await;
    described.into_iter().flatten().collect()
}

/// A script as AWS returns it (base64), decoded and redacted.
fn script(hook: &str, content: Option<&str>) -> LifecycleScript {
    // A script that is not UTF-8 is still scanned (lossily); one that is not base64 stays
    // unknown, and the check says so.
    let decoded = content.and_then(|c| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(c.trim())
            .ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    });
    let (text, secrets) = match decoded {
        Some(text) => {
            let (redacted, found) = secrets::redact(&text);
            (Some(redacted), found)
        }
        None => (None, Vec::new()),
    };
    LifecycleScript {
        hook: hook.to_string(),
        text,
        secrets,
    }
}
