//! Collectors: the only place that talks to AWS. Each service module turns SDK responses into
//! snapshot types; this module runs them for every account (the caller's own, or member
//! accounts reached with AssumeRole) across its regions, concurrently and bounded, and gathers
//! what failed into `collection_errors` instead of aborting.

mod accounts;
mod clients;
pub mod cloudtrail;
mod ec2;
mod efs;
mod error;
mod iam;
mod notebooks;
mod pace;
pub mod permissions;
mod sagemaker;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::Semaphore;

pub use accounts::AssumedRole;
pub use clients::{ApiCallCounter, AwsClients, ClientSettings};
pub(crate) use error::classify as classify_error;
pub use iam::ManagedPolicyCache;

use crate::config::AccountsConfig;
use crate::snapshot::{
    AccountSnapshot, CollectionError, ControlPlaneEvent, ErrorKind, ExecutionRole, RegionSnapshot,
    RoleState, SCHEMA_VERSION, Snapshot, role_bindings,
};

/// The STS action the account identity needs (it is allowed without any policy, but
/// listing it keeps the declaration complete).
pub(crate) const STS_ACTIONS: &[&str] = &["sts:GetCallerIdentity"];

/// Region label of the global services (IAM, STS) in `collection_errors`.
pub use crate::vocab::GLOBAL;

/// What to scan and how hard to push.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    pub regions: Vec<String>,
    /// Every region enabled in each account instead of `regions`.
    pub all_regions: bool,
    /// AWS calls in flight at once, across accounts, regions and domains.
    pub concurrency: usize,
    /// Which accounts (none listed: the default credentials' own), the shard, and the calls in
    /// flight per account.
    pub accounts: AccountsConfig,
    /// Read the SageMaker control-plane events CloudTrail recorded since then (per account
    /// and region); `None`: do not consult CloudTrail.
    pub events_since: Option<EventsSince>,
}

/// Where each account-region's CloudTrail window starts and what an earlier scan left unread:
/// its own when it has them (the daemon keeps them per account and region, so an account that
/// cannot be read holds back only itself), else `floor` and nothing unread.
#[derive(Debug, Clone)]
pub struct EventsSince {
    pub floor: DateTime<Utc>,
    /// (account id, region) → its window.
    pub scopes: std::collections::HashMap<(String, String), cloudtrail::Window>,
    /// LookupEvents calls allowed per account and region in one scan.
    pub max_pages: u32,
}

impl EventsSince {
    /// One start for every account and region.
    pub fn all(from: DateTime<Utc>, max_pages: u32) -> Self {
        Self {
            floor: from,
            scopes: Default::default(),
            max_pages,
        }
    }

    pub fn of(&self, account_id: &str, region: &str) -> cloudtrail::Window {
        self.scopes
            .get(&(account_id.to_string(), region.to_string()))
            .copied()
            .unwrap_or(cloudtrail::Window {
                since: self.floor,
                unread: None,
            })
    }
}

/// What a scan read from CloudTrail, and what its page budget left unread.
#[derive(Debug, Default)]
pub struct Trail {
    pub events: Vec<ControlPlaneEvent>,
    pub unread: Vec<crate::snapshot::UnreadEvents>,
}

impl Trail {
    fn extend(&mut self, other: Trail) {
        self.events.extend(other.events);
        self.unread.extend(other.unread);
    }
}

/// Takes a snapshot of the configured accounts (or the one the credentials belong to), in
/// every requested region. One account's failure never stops the others.
pub async fn collect(clients: &AwsClients, options: &CollectOptions) -> Snapshot {
    let started_at = Utc::now();
    // IAM and STS in the partition of the scanned regions (config refuses a mix).
    let partitioned;
    let clients = match options.regions.first() {
        Some(region) => {
            partitioned = clients.in_partition_of(region);
            &partitioned
        }
        None => clients,
    };
    // Clients may serve several scans (the daemon): report this scan's calls only.
    let calls_before = clients.counter().snapshot();
    let global = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let policy_cache = ManagedPolicyCache::default();
    let mut errors = Vec::new();
    let mut accounts = Vec::new();
    let mut trail = Trail::default();
    let per_account = options.accounts.per_account_concurrency;

    match caller_identity(clients).await {
        Err(error) => errors.push(error),
        Ok(identity) if !options.accounts.is_multi_account() => {
            let in_shard = options
                .accounts
                .shard
                .is_none_or(|s| s.contains(&identity.account_id));
            if in_shard {
                let ctx = Ctx::new(
                    identity.account_id,
                    identity.partition,
                    &global,
                    per_account,
                );
                if let Some(account) = scan_account(&ctx, clients, options, &policy_cache).await {
                    accounts.push(account);
                }
                errors.extend(ctx.take_errors());
                trail.extend(ctx.take_trail());
            } else {
                tracing::info!(account_id = %identity.account_id, shard = ?options.accounts.shard, "the account is not in this shard: nothing to scan");
            }
        }
        Ok(identity) => {
            let caller = Ctx::new(
                identity.account_id.clone(),
                identity.partition.clone(),
                &global,
                per_account,
            );
            let targets =
                accounts::targets(&caller, &clients.organizations(), &options.accounts).await;
            errors.extend(caller.take_errors());
            let scans = targets.into_iter().map(|target| {
                let ctx = Ctx::new(
                    target.id.clone(),
                    identity.partition.clone(),
                    &global,
                    per_account,
                );
                scan_member(ctx, target, clients, options, &policy_cache)
            });
            // A window of accounts at a time: enough to keep `concurrency` calls busy through
            // each account's serial phases, few enough that the clients and sessions of
            // accounts not yet started (or done) hold no memory.
            let window = 2 * options.concurrency.max(1).div_ceil(per_account.max(1));
            let mut done = futures::stream::iter(scans).buffer_unordered(window);
            while let Some((account, account_errors, account_trail)) = done.next().await {
                accounts.extend(account);
                errors.extend(account_errors);
                trail.extend(account_trail);
            }
            accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        }
    }

    errors.sort();
    let Trail {
        mut events,
        unread: mut events_unread,
    } = trail;
    events_unread.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));
    events.sort_by(|a: &ControlPlaneEvent, b| {
        (b.event_time, &a.event_id).cmp(&(a.event_time, &b.event_id))
    });
    Snapshot {
        schema_version: SCHEMA_VERSION.to_string(),
        scanner_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        finished_at: Utc::now(),
        accounts,
        managed_policies: policy_cache.into_map(),
        collection_errors: errors,
        api_calls: clients.counter().since(&calls_before),
        events,
        events_unread,
    }
}

/// A member account: assume its role, then scan it with those credentials. Returns what the
/// account yielded: its snapshot (none when unreachable), its errors and events.
async fn scan_member(
    ctx: Ctx,
    target: crate::config::AccountTarget,
    clients: &AwsClients,
    options: &CollectOptions,
    policy_cache: &ManagedPolicyCache,
) -> (Option<AccountSnapshot>, Vec<CollectionError>, Trail) {
    let account = match accounts::assume_role(&ctx, clients.sts(), &target).await {
        Ok(role) => {
            let member = clients.with_credentials(role);
            scan_account(&ctx, &member, options, policy_cache).await
        }
        Err(error) => {
            ctx.push(error);
            None
        }
    };
    (account, ctx.take_errors(), ctx.take_trail())
}

/// One reachable account: its regions (listed, or read with `DescribeRegions`), then
/// [`collect_account`]. `None` when its enabled regions cannot be read.
async fn scan_account(
    ctx: &Ctx,
    clients: &AwsClients,
    options: &CollectOptions,
    policy_cache: &ManagedPolicyCache,
) -> Option<AccountSnapshot> {
    let regions = if options.all_regions {
        accounts::enabled_regions(ctx, &clients.ec2(&clients.global_region_name())).await?
    } else {
        options.regions.clone()
    };
    let events_since = options.events_since.as_ref();
    Some(collect_account(ctx, clients, &regions, events_since, policy_cache).await)
}

struct Identity {
    account_id: String,
    partition: String,
}

async fn caller_identity(clients: &AwsClients) -> Result<Identity, CollectionError> {
    let out = clients.sts().get_caller_identity().send().await;
    let failed = |kind, code, message| CollectionError {
        account_id: "unknown".into(),
        region: GLOBAL.into(),
        service: "sts".into(),
        operation: "GetCallerIdentity".into(),
        error: kind,
        error_code: code,
        message,
        resource: None,
    };
    match out {
        Ok(out) => {
            let account_id = out.account().unwrap_or_default().to_string();
            if account_id.is_empty() {
                return Err(failed(
                    ErrorKind::InvalidResponse,
                    None,
                    "GetCallerIdentity returned no account".into(),
                ));
            }
            let partition = out
                .arn()
                .and_then(|arn| crate::vocab::Arn::parse(arn).map(|a| a.partition))
                .filter(|p| !p.is_empty())
                .unwrap_or("aws")
                .to_string();
            Ok(Identity {
                account_id,
                partition,
            })
        }
        Err(err) => {
            let c = error::classify(&err);
            Err(failed(c.kind, c.code, c.message))
        }
    }
}

/// One account: every region concurrently, IAM alongside them.
pub async fn collect_account(
    ctx: &Ctx,
    clients: &AwsClients,
    regions: &[String],
    events_since: Option<&EventsSince>,
    policy_cache: &ManagedPolicyCache,
) -> AccountSnapshot {
    let iam_client = clients.iam();
    let regions_fut = futures::future::join_all(regions.iter().map(|region| {
        let since = events_since.map(|e| (e.of(&ctx.account_id, region), e.max_pages));
        collect_region(ctx, clients, region, since)
    }));
    // IAM does not depend on the domains: its one listing runs while the regions are read.
    let (regions, role_list) = tokio::join!(regions_fut, iam::list_roles(ctx, &iam_client));

    let bindings = role_bindings(&regions);
    let mut execution_roles = Vec::with_capacity(bindings.len());
    let mut wanted_policies = BTreeSet::new();
    for (arn, bindings) in bindings {
        let in_account = crate::snapshot::arn_account(&arn) == Some(ctx.account_id.as_str());
        let (state, role) = match (&role_list, in_account) {
            (_, false) => (RoleState::CrossAccount, None),
            (None, true) => (RoleState::NotCollected, None),
            (Some(list), true) => match list.find(ctx, &arn) {
                Some(found) => {
                    let role = found.to_snapshot();
                    wanted_policies.extend(role.attached_policies.iter().map(|p| p.arn.clone()));
                    // A permissions boundary is read like an attached policy (CHECKS.md v2).
                    wanted_policies.extend(role.permissions_boundary_arn.iter().cloned());
                    (RoleState::Found, Some(role))
                }
                None => (RoleState::Missing, None),
            },
        };
        execution_roles.push(ExecutionRole {
            arn,
            state,
            bindings,
            role,
        });
    }
    if let Some(list) = &role_list {
        iam::resolve_policies(ctx, &iam_client, list, &wanted_policies, policy_cache).await;
    }

    AccountSnapshot {
        account_id: ctx.account_id.clone(),
        partition: ctx.partition.clone(),
        regions,
        execution_roles,
    }
}

async fn collect_region(
    ctx: &Ctx,
    clients: &AwsClients,
    region: &str,
    events_since: Option<(cloudtrail::Window, u32)>,
) -> RegionSnapshot {
    let sagemaker = clients.sagemaker(region);
    let efs = clients.efs(region);
    let ec2 = clients.ec2(region);
    let events = async {
        if let Some((window, max_pages)) = events_since {
            let read = cloudtrail::collect_events(
                ctx,
                &clients.cloudtrail(region),
                region,
                window,
                max_pages,
            )
            .await;
            let mut trail = ctx.trail.lock().unwrap_or_else(|p| p.into_inner());
            trail.events.extend(read.events);
            if let Some(span) = read.unread {
                trail.unread.push(crate::snapshot::UnreadEvents {
                    account_id: ctx.account_id.clone(),
                    region: region.to_string(),
                    span,
                });
            }
        }
    };
    let (domains, notebook_instances, lifecycle_configs, efs_file_systems, ()) = tokio::join!(
        sagemaker::collect_domains(ctx, &sagemaker, region),
        notebooks::collect_notebook_instances(ctx, &sagemaker, region),
        notebooks::collect_lifecycle_configs(ctx, &sagemaker, region),
        efs::collect_file_systems(ctx, &efs, region),
        events,
    );
    let mut out = RegionSnapshot {
        region: region.to_string(),
        domains,
        network: Default::default(),
        efs_file_systems,
        notebook_instances,
        lifecycle_configs,
    };
    // Owners first: the mount targets are read for domains' home file systems only.
    crate::snapshot::ownership::assign_file_systems(&mut out);
    let (network, ()) = tokio::join!(
        ec2::collect_network(ctx, &ec2, region, &out.domains),
        efs::collect_mount_targets(ctx, &efs, region, &mut out.efs_file_systems),
    );
    out.network = network;
    crate::snapshot::ownership::assign_groups(&mut out);
    out
}

/// Per-account collection state shared by the service collectors.
pub struct Ctx {
    pub account_id: String,
    pub partition: String,
    /// The scan's bound on calls in flight, shared by every account.
    global: Arc<Semaphore>,
    /// This account's own bound (AWS throttles per account and region).
    account: Semaphore,
    /// The size of `account`: how many of one kind of call are worth preparing at once.
    per_account: usize,
    errors: Mutex<Vec<CollectionError>>,
    trail: Mutex<Trail>,
}

impl Ctx {
    pub fn new(
        account_id: String,
        partition: String,
        global: &Arc<Semaphore>,
        per_account: usize,
    ) -> Self {
        Self {
            account_id,
            partition,
            global: Arc::clone(global),
            account: Semaphore::new(per_account.max(1)),
            per_account: per_account.max(1),
            errors: Mutex::new(Vec::new()),
            trail: Mutex::new(Trail::default()),
        }
    }

    /// Runs `call` on each item (one describe per resource), in order, with no more than a
    /// few times the account's calls in flight prepared at once: as one finishes, the next
    /// is prepared, so the semaphores always have work queued. An SDK call's future is
    /// ~16 KB before it runs: preparing all of them first (`join_all`) held 64 MB at 1,000
    /// profiles and 3,000 apps. (A loop over `FuturesOrdered`, not a `buffered` stream: with
    /// the stream rustc cannot prove the daemon's spawned scan `Send`, rust-lang/rust#102211.)
    async fn each<'a, I, F, Fut>(&self, items: &'a [I], call: F) -> Vec<Fut::Output>
    where
        F: Fn(&'a I) -> Fut,
        Fut: Future,
    {
        let mut out = Vec::with_capacity(items.len());
        let mut next = items.iter();
        let mut pending = futures::stream::FuturesOrdered::new();
        for item in next.by_ref().take(self.per_account * 2) {
            pending.push_back(call(item));
        }
        while let Some(done) = pending.next().await {
            out.push(done);
            if let Some(item) = next.next() {
                pending.push_back(call(item));
            }
        }
        out
    }

    /// Runs one AWS call (or one page of a listing) under the account's and the scan's
    /// concurrency bounds; the account's first, so a busy account holds no global permit
    /// while it waits.
    async fn call<T>(&self, fut: impl Future<Output = T>) -> T {
        // The semaphores are never closed, so acquiring cannot fail; if it ever were, running
        // unbounded is better than dropping the call.
        let _account = self.account.acquire().await.ok();
        let _global = self.global.acquire().await.ok();
        fut.await
    }

    /// A whole listing (every page) under the concurrency bounds; on failure the error is
    /// recorded for the region and `None` returned (what it would have listed is unknown).
    async fn listing<T, E, R>(
        &self,
        region: &str,
        service: &str,
        operation: &str,
        pages: impl Future<Output = Result<Vec<T>, SdkError<E, R>>>,
    ) -> Option<Vec<T>>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        match self.call(pages).await {
            Ok(items) => Some(items),
            Err(err) => {
                self.record(region, service, operation, None, &err);
                None
            }
        }
    }

    fn record<E, R>(
        &self,
        region: &str,
        service: &str,
        operation: &str,
        resource: Option<&str>,
        err: &SdkError<E, R>,
    ) where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let c = error::classify(err);
        tracing::warn!(
            account_id = %self.account_id, region, service, operation, resource,
            error = c.kind.as_str(), code = c.code.as_deref(), "AWS call failed: {}", c.message
        );
        self.push(CollectionError {
            account_id: self.account_id.clone(),
            region: region.to_string(),
            service: service.to_string(),
            operation: operation.to_string(),
            error: c.kind,
            error_code: c.code,
            message: c.message,
            resource: resource.map(str::to_string),
        });
    }

    fn push(&self, error: CollectionError) {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(error);
    }

    pub fn take_trail(&self) -> Trail {
        std::mem::take(&mut *self.trail.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn take_errors(&self) -> Vec<CollectionError> {
        std::mem::take(&mut *self.errors.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Whether an SDK error says the thing asked about does not exist (it vanished between a
/// list and a describe: not an error, just gone).
fn is_not_found<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    error::classify(err).kind == ErrorKind::NotFound
}

fn ts(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn opt(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

fn tags_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
