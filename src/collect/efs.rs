//! EFS: every file system of the region, with tags, metered size and mount-target count, all
//! inline in `DescribeFileSystems` (one call per page of 100); and the mount targets of the
//! home file systems of domains (one `DescribeMountTargets` each, when it has any), which
//! the teardown plan deletes first.

use aws_sdk_efs::Client;

use super::{Ctx, opt, tags_map, ts};
use crate::snapshot::EfsFileSystem;

const SERVICE: &str = "efs";

/// The EFS actions this collector calls (IAM's prefix for EFS is `elasticfilesystem`).
pub(crate) const ACTIONS: &[&str] = &[
    "elasticfilesystem:DescribeFileSystems",
    "elasticfilesystem:DescribeMountTargets",
];

pub(super) async fn collect_file_systems(
    ctx: &Ctx,
    client: &Client,
    region: &str,
) -> Vec<EfsFileSystem> {
    let listed = ctx
        .call(
            client
                .describe_file_systems()
                // AWS's own default and maximum; some emulators default lower.
                .max_items(100)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .await;
    let file_systems = match listed {
        Ok(file_systems) => file_systems,
        Err(err) => {
            ctx.record(region, SERVICE, "DescribeFileSystems", None, &err);
            return Vec::new();
        }
    };
    let mut out: Vec<EfsFileSystem> = file_systems
        .iter()
        .map(|fs| {
            let id = fs.file_system_id().to_string();
            EfsFileSystem {
                arn: opt(fs.file_system_arn()).unwrap_or_else(|| {
                    crate::vocab::Arn::build(
                        &ctx.partition,
                        "elasticfilesystem",
                        region,
                        &ctx.account_id,
                        &format!("file-system/{id}"),
                    )
                }),
                name: opt(fs.name()),
                creation_time: ts(Some(fs.creation_time())),
                life_cycle_state: fs.life_cycle_state().as_str().to_string(),
                size_in_bytes: fs.size_in_bytes().map_or(0, |s| s.value()),
                size_timestamp: fs.size_in_bytes().and_then(|s| ts(s.timestamp())),
                number_of_mount_targets: fs.number_of_mount_targets(),
                size_in_standard_bytes: fs.size_in_bytes().and_then(|s| s.value_in_standard()),
                size_in_ia_bytes: fs.size_in_bytes().and_then(|s| s.value_in_ia()),
                size_in_archive_bytes: fs.size_in_bytes().and_then(|s| s.value_in_archive()),
                encrypted: fs.encrypted().unwrap_or(false),
                kms_key_id: opt(fs.kms_key_id()),
                tags: tags_map(fs.tags().iter().map(|t| (t.key(), t.value()))),
                domain_id: None,
                mount_target_ids: Vec::new(),
                file_system_id: id,
            }
        })
        .collect();
    out.sort_by(|a, b| a.file_system_id.cmp(&b.file_system_id));
    out
}

/// Reads the mount target ids of every file system a domain owns (`domain_id`, see
/// `snapshot::ownership`) that has mount targets; a failure is recorded and leaves it empty.
pub(super) async fn collect_mount_targets(
    ctx: &Ctx,
    client: &Client,
    region: &str,
    file_systems: &mut [EfsFileSystem],
) {
    let wanted = file_systems
        .iter_mut()
        .filter(|fs| fs.domain_id.is_some() && fs.number_of_mount_targets > 0);
    let reads = wanted.map(|fs| async move {
        let listed = ctx
            .call(
                client
                    .describe_mount_targets()
                    .file_system_id(&fs.file_system_id)
                    .send(),
            )
            .await;
        match listed {
            Ok(out) => {
                let mut ids: Vec<String> = out
                    .mount_targets()
                    .iter()
                    .map(|m| m.mount_target_id().to_string())
                    .collect();
                ids.sort();
                fs.mount_target_ids = ids;
            }
            Err(err) => ctx.record(
                region,
                SERVICE,
                "DescribeMountTargets",
                Some(&fs.file_system_id),
                &err,
            ),
        }
    });
    futures::future::join_all(reads).await;
}
