//! `[export.security_hub]`: after each scan, the findings go to Security Hub with
//! `BatchImportFindings`, and the ones the scan saw fixed are ended there (`Compliance.Status`
//! `PASSED`, `RecordState` `ARCHIVED`) instead of staying active.
//!
//! Whose hub: an account may import findings of its own default product only, for itself
//! only ("the identifier of the account that you are calling BatchImportFindings from needs
//! to be the same as the AwsAccountId attribute for the finding"; only AWS-allow-listed
//! partner accounts may send other accounts' findings). So each account's findings are
//! imported with that account's credentials (the scanned account itself, or the role the scan
//! assumed there) into its own hub; an organisation's Security Hub administrator sees them
//! there as it sees every member's findings.
//! <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html>
//!
//! What is sent ([`plan`]): every FAIL and MUTED finding (active); every ERROR finding except
//! one the history keeps open (a check that errored on a finding that was failing: it stays
//! as it was); the findings the history resolved (archived); and, for `scan`, which has no
//! history, every PASS finding (archived: a finding fixed since the last scan ends). Findings
//! the history closes as out of scope are left to Security Hub, which deletes active findings
//! 90 days after their last update: their account may be another replica's now.
//! <https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-update-types.html>

use std::collections::{BTreeMap, HashSet};

use aws_sdk_securityhub::types as hub;
use futures::StreamExt;

use crate::collect::{AssumedRole, AwsClients, ClientSettings};
use crate::config::{AccountTarget, Config, SecurityHubExport};
use crate::policy::PolicySet;
use crate::report::asff::{self, AsffFinding};
use crate::report::{Report, Status};

/// What the export calls, in each scanned account (`deploy/iam/scanner-security-hub.json`).
pub const ACTIONS: &[&str] = &["securityhub:BatchImportFindings"];

/// BatchImportFindings takes at most 100 findings a call.
pub const MAX_BATCH_FINDINGS: usize = 100;
/// And each finding at most 240 KB; a request is kept within that too.
pub const MAX_BATCH_BYTES: usize = 240 * 1024;

/// What one export did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings Security Hub accepted, archived ones included.
    pub imported: usize,
    /// Of those, the ones sent as `ARCHIVED`.
    pub archived: usize,
    /// Findings Security Hub did not take (after one retry of a partial failure).
    pub failed: Vec<Failed>,
    /// BatchImportFindings calls made.
    pub calls: usize,
}

#[derive(Debug, Clone)]
pub struct Failed {
    pub finding: AsffFinding,
    pub code: String,
    pub message: String,
}

/// The findings to import after `report` (complete, not filtered by status), in report
/// order, then the history's resolved ones, then `pending` (archives an earlier export
/// failed to deliver) unless this scan sends or opens the same finding. `title_of` gives a
/// check's title (the history keeps none); `hub_region` moves every finding into that
/// region's hub. Every finding's `UpdatedAt` is the scan's end.
pub fn plan(
    report: &Report,
    title_of: &dyn Fn(&str) -> Option<String>,
    hub_region: Option<&str>,
    pending: Vec<AsffFinding>,
) -> Vec<AsffFinding> {
    let history = report.history.as_ref();
    let resolved: std::collections::HashMap<&str, &crate::report::history::ResolvedFinding> =
        history
            .map(|h| h.resolved.iter().map(|r| (r.id.as_str(), r)).collect())
            .unwrap_or_default();
    let kept_open: HashSet<&str> = history
        .map(|h| h.kept_open.iter().map(|k| k.id.as_str()).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut open_now = HashSet::new();
    for f in &report.findings {
        let send = match f.status {
            Status::Fail | Status::Muted => true,
            Status::Error => !kept_open.contains(f.id.as_str()),
            Status::Pass => history.is_none() || resolved.contains_key(f.id.as_str()),
        };
        if f.status != Status::Pass {
            open_now.insert(asff::finding_id(&f.check_id, &f.id));
        }
        if !send {
            continue;
        }
        let mut finding = asff::finding(report, f);
        if f.status == Status::Pass {
            finding.record_state = "ARCHIVED".into();
            // A PASS carries no history dates; the finding opened when the history says.
            if let Some(r) = resolved.get(f.id.as_str()) {
                let opened = asff::timestamp(r.first_seen);
                finding.first_observed_at.clone_from(&opened);
                finding.created_at = opened;
                finding.last_observed_at = asff::timestamp(r.resolved_at);
            }
        }
        out.push(finding);
    }
    let mut sent: HashSet<String> = out.iter().map(|f| f.id.clone()).collect();
    if let Some(h) = history {
        let home = report
            .scan
            .regions
            .first()
            .map_or("us-east-1", String::as_str);
        for r in &h.resolved {
            if sent.contains(&asff::finding_id(&r.check_id, &r.id)) {
                continue;
            }
            let title = title_of(&r.check_id).unwrap_or_else(|| r.check_id.clone());
            let finding = asff::resolved(r, &title, &report.scan.id, home);
            sent.insert(finding.id.clone());
            out.push(finding);
        }
    }
    for finding in pending {
        if !sent.contains(&finding.id) && !open_now.contains(&finding.id) {
            sent.insert(finding.id.clone());
            out.push(finding);
        }
    }
    let updated_at = report
        .scan
        .finished_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for finding in &mut out {
        finding.updated_at.clone_from(&updated_at);
        if let Some(region) = hub_region {
            finding.product_arn = asff::product_arn(
                crate::vocab::partition_of_region(region),
                region,
                &finding.aws_account_id,
            );
        }
    }
    out
}

/// Plans and sends the export of a scan's complete `report` (before any status filter),
/// logging what failed. `pending`: archives earlier exports failed to deliver.
pub async fn export(
    config: &Config,
    hub: &SecurityHubExport,
    policies: &PolicySet,
    report: &Report,
    pending: Vec<AsffFinding>,
) -> Outcome {
    let findings = {
        let title_of = |id: &str| policies.check(id).map(|c| c.metadata.title.clone());
        plan(report, &title_of, hub.region.as_deref(), pending)
    };
    let planned = findings.len();
    let started = std::time::Instant::now();
    let outcome = send(config, findings).await;
    for f in outcome.failed.iter().take(20) {
        tracing::warn!(
            finding_id = %f.finding.id,
            account_id = %f.finding.aws_account_id,
            hub_region = hub_region(&f.finding),
            record_state = %f.finding.record_state,
            code = %f.code,
            "Security Hub did not take a finding: {}", f.message
        );
    }
    let failed = outcome.failed.len();
    let fields = (
        planned,
        outcome.imported,
        outcome.archived,
        failed,
        outcome.calls,
    );
    let duration_ms = started.elapsed().as_millis() as u64;
    if failed == 0 {
        tracing::info!(
            planned = fields.0,
            imported = fields.1,
            archived = fields.2,
            failed = fields.3,
            calls = fields.4,
            duration_ms,
            "findings exported to Security Hub"
        );
    } else {
        tracing::error!(
            planned = fields.0,
            imported = fields.1,
            archived = fields.2,
            failed = fields.3,
            calls = fields.4,
            duration_ms,
            "findings exported to Security Hub, some not delivered (the first 20 are logged above); the local report is complete"
        );
    }
    outcome
}

/// The archives of `outcome` that were not delivered: what the daemon keeps and sends again.
pub fn undelivered_archives(outcome: &Outcome) -> Vec<AsffFinding> {
    outcome
        .failed
        .iter()
        .filter(|f| f.finding.record_state == "ARCHIVED")
        .map(|f| f.finding.clone())
        .collect()
}

/// The region of a hub's product ARN (`arn:aws:securityhub:eu-west-1:…`).
fn hub_region(finding: &AsffFinding) -> &str {
    finding.product_arn.split(':').nth(3).unwrap_or_default()
}

/// Imports `findings` with clients from the default chain and the config's endpoint.
pub async fn send(config: &Config, findings: Vec<AsffFinding>) -> Outcome {
    let settings = ClientSettings {
        endpoint_url: config.endpoint_url.clone(),
        max_attempts: config.max_attempts,
        call_timeout: config.call_timeout,
    };
    let clients = AwsClients::from_env(&settings).await;
    send_with(&clients, config, findings).await
}

/// The role the scan assumes in `account_id`, when the config reaches accounts by role.
fn target_of(config: &Config, account_id: &str) -> Option<AccountTarget> {
    let accounts = &config.accounts;
    if let Some(member) = accounts.members.iter().find(|t| t.id == account_id) {
        return Some(member.clone());
    }
    accounts.organization.as_ref().map(|org| AccountTarget {
        id: account_id.to_string(),
        role_name: org.role_name.clone(),
        external_id: org.external_id.clone(),
    })
}

/// Imports `findings`, each with its account's credentials into its hub: one account and
/// region at a time per task, `concurrency` tasks at once.
pub async fn send_with(
    clients: &AwsClients,
    config: &Config,
    findings: Vec<AsffFinding>,
) -> Outcome {
    let mut groups: BTreeMap<(String, String), Vec<AsffFinding>> = BTreeMap::new();
    for finding in findings {
        let key = (
            finding.aws_account_id.clone(),
            hub_region(&finding).to_string(),
        );
        groups.entry(key).or_default().push(finding);
    }
    let mut outcome = Outcome::default();
    let mut account_clients: BTreeMap<String, AwsClients> = BTreeMap::new();
    let mut jobs = Vec::new();
    for ((account, region), findings) in groups {
        let regional = clients.in_partition_of(&region);
        let account_side = if !config.accounts.is_multi_account() {
            Some(regional)
        } else if let Some(c) = account_clients.get(&account) {
            Some(c.clone())
        } else {
            target_of(config, &account).map(|target| {
                let partition = crate::vocab::partition_of_region(&region);
                let role = AssumedRole::lazy(regional.sts(), partition, &target);
                let member = regional.with_credentials(role);
                account_clients.insert(account.clone(), member.clone());
                member
            })
        };
        match account_side {
            Some(c) => jobs.push(import_all(c.securityhub(&region), findings)),
            None => outcome.failed.extend(findings.into_iter().map(|finding| Failed {
                finding,
                code: "NoRole".into(),
                message: format!(
                    "account {account} is not reached through a role of the config ([[accounts]] or [organization])"
                ),
            })),
        }
    }
    let mut done = futures::stream::iter(jobs).buffer_unordered(config.concurrency.clamp(1, 8));
    while let Some(part) = done.next().await {
        outcome.imported += part.imported;
        outcome.archived += part.archived;
        outcome.calls += part.calls;
        outcome.failed.extend(part.failed);
    }
    outcome
        .failed
        .sort_by(|a, b| a.finding.id.cmp(&b.finding.id));
    outcome
}

/// One account's findings into one hub; the findings a call rejects are sent once more
/// (Security Hub may reject a finding for a passing reason), then reported.
async fn import_all(client: aws_sdk_securityhub::Client, findings: Vec<AsffFinding>) -> Outcome {
    let mut outcome = Outcome::default();
    let mut retry = Vec::new();
    for attempt in 0..2 {
        let todo = if attempt == 0 {
            findings.clone()
        } else {
            std::mem::take(&mut retry)
        };
        if todo.is_empty() {
            break;
        }
        let (batches, too_large) = batches(todo);
        outcome.failed.extend(too_large);
        for batch in batches {
            outcome.calls += 1;
            let rejected = import(&client, &batch).await;
            for finding in batch {
                match rejected.get(&finding.id) {
                    None => {
                        outcome.imported += 1;
                        if finding.record_state == "ARCHIVED" {
                            outcome.archived += 1;
                        }
                    }
                    Some((code, message)) => {
                        let failed = Failed {
                            finding,
                            code: code.clone(),
                            message: message.clone(),
                        };
                        if attempt == 0 && code != WHOLE_CALL {
                            retry.push(failed.finding);
                        } else {
                            outcome.failed.push(failed);
                        }
                    }
                }
            }
        }
    }
    outcome
}

/// The code of a finding rejected because its whole call failed (the SDK retried the call
/// as it retries every call: throttling, 5xx); such a finding is not sent again this scan.
const WHOLE_CALL: &str = "CallFailed";

/// Findings in batches within BatchImportFindings' limits; a finding over 240 KB on its own
/// (not possible with the text limits of [`asff`], but never sent) is returned as failed.
fn batches(findings: Vec<AsffFinding>) -> (Vec<Vec<AsffFinding>>, Vec<Failed>) {
    let mut out: Vec<Vec<AsffFinding>> = Vec::new();
    let mut too_large = Vec::new();
    let mut bytes = 0;
    for finding in findings {
        let size = serde_json::to_vec(&finding).map_or(usize::MAX, |v| v.len()) + 1;
        if size > MAX_BATCH_BYTES {
            too_large.push(Failed {
                finding,
                code: "FindingTooLarge".into(),
                message: format!("{size} bytes; Security Hub takes at most {MAX_BATCH_BYTES}"),
            });
            continue;
        }
        match out.last_mut() {
            Some(batch) if batch.len() < MAX_BATCH_FINDINGS && bytes + size <= MAX_BATCH_BYTES => {
                bytes += size;
                batch.push(finding);
            }
            _ => {
                bytes = size;
                out.push(vec![finding]);
            }
        }
    }
    (out, too_large)
}

/// One BatchImportFindings call: the ids it rejected, with code and message (every id of the
/// batch when the call itself failed).
async fn import(
    client: &aws_sdk_securityhub::Client,
    batch: &[AsffFinding],
) -> BTreeMap<String, (String, String)> {
    let request = client
        .batch_import_findings()
        .set_findings(Some(batch.iter().map(to_sdk).collect()));
    match request.send().await {
        Ok(out) => out
            .failed_findings()
            .iter()
            .map(|e| {
                (
                    e.id().unwrap_or_default().to_string(),
                    (
                        e.error_code().unwrap_or("Unknown").to_string(),
                        e.error_message().unwrap_or_default().to_string(),
                    ),
                )
            })
            .collect(),
        Err(err) => {
            let c = crate::collect::classify_error(&err);
            let message = format!(
                "BatchImportFindings failed ({}): {}",
                c.code.as_deref().unwrap_or(c.kind.as_str()),
                c.message
            );
            batch
                .iter()
                .map(|f| (f.id.clone(), (WHOLE_CALL.to_string(), message.clone())))
                .collect()
        }
    }
}

/// The SDK's shape of a finding.
fn to_sdk(f: &AsffFinding) -> hub::AwsSecurityFinding {
    let resources = f.resources.iter().map(|r| {
        hub::Resource::builder()
            .r#type(&r.r#type)
            .id(&r.id)
            .partition(hub::Partition::from(r.partition.as_str()))
            .region(&r.region)
            .set_details(r.details.as_ref().map(|d| {
                hub::ResourceDetails::builder()
                    .set_other(Some(d.other.clone().into_iter().collect()))
                    .build()
            }))
            .build()
    });
    hub::AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .product_name(&f.product_name)
        .company_name(&f.company_name)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .region(&f.region)
        .set_types(Some(f.types.clone()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .first_observed_at(&f.first_observed_at)
        .last_observed_at(&f.last_observed_at)
        .severity(
            hub::Severity::builder()
                .label(hub::SeverityLabel::from(f.severity.label.as_str()))
                .build(),
        )
        .finding_provider_fields(
            hub::FindingProviderFields::builder()
                .severity(
                    hub::FindingProviderSeverity::builder()
                        .label(hub::SeverityLabel::from(
                            f.finding_provider_fields.severity.label.as_str(),
                        ))
                        .build(),
                )
                .set_types(Some(f.finding_provider_fields.types.clone()))
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .remediation(
            hub::Remediation::builder()
                .recommendation(
                    hub::Recommendation::builder()
                        .text(&f.remediation.recommendation.text)
                        .build(),
                )
                .build(),
        )
        .set_product_fields(Some(f.product_fields.clone().into_iter().collect()))
        .set_resources(Some(resources.collect()))
        .compliance(
            hub::Compliance::builder()
                .status(hub::ComplianceStatus::from(f.compliance.status.as_str()))
                .set_related_requirements(Some(f.compliance.related_requirements.clone()))
                .build(),
        )
        .workflow(
            hub::Workflow::builder()
                .status(hub::WorkflowStatus::from(f.workflow.status.as_str()))
                .build(),
        )
        .record_state(hub::RecordState::from(f.record_state.as_str()))
        .build()
}

#[cfg(test)]
mod tests;
