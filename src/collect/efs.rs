//! EFS: every file system of the region, with tags, metered size and mount-target count, all
//! inline in `DescribeFileSystems` (one call per page of 100).

use aws_sdk_efs::Client;

use super::{Ctx, opt, tags_map, ts};
use crate::snapshot::EfsFileSystem;

const SERVICE: &str = "efs";

/// The EFS actions this collector calls (IAM's prefix for EFS is `elasticfilesystem`).
pub(crate) const ACTIONS: &[&str] = &["elasticfilesystem:DescribeFileSystems"];

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
                    format!(
                        "arn:{}:elasticfilesystem:{region}:{}:file-system/{id}",
                        ctx.partition, ctx.account_id
                    )
                }),
                name: opt(fs.name()),
                creation_time: ts(Some(fs.creation_time())),
                life_cycle_state: fs.life_cycle_state().as_str().to_string(),
                size_in_bytes: fs.size_in_bytes().map_or(0, |s| s.value()),
                size_timestamp: fs.size_in_bytes().and_then(|s| ts(s.timestamp())),
                number_of_mount_targets: fs.number_of_mount_targets(),
                encrypted: fs.encrypted().unwrap_or(false),
                kms_key_id: opt(fs.kms_key_id()),
                tags: tags_map(fs.tags().iter().map(|t| (t.key(), t.value()))),
                file_system_id: id,
            }
        })
        .collect();
    out.sort_by(|a, b| a.file_system_id.cmp(&b.file_system_id));
    out
}
