//! AWS clients, built once per scan from `aws-config`'s default chain, and the interceptor
//! that counts every call. No global clients: tests build [`AwsClients`] pointed at the
//! emulator, with extra interceptors (aws-smithy-mocks) for faults an emulator cannot make.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::snapshot::ApiCallCount;

/// IAM and STS are global; their calls go to this region when neither the default chain nor
/// the scanned regions name a partition.
const GLOBAL_REGION: &str = "us-east-1";

/// How clients reach AWS: the part of the config the collectors need.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Overrides every service endpoint (the emulator in tests). `AWS_ENDPOINT_URL` is
    /// honoured by `aws-config` itself when this is unset.
    pub endpoint_url: Option<String>,
    /// Attempts per call, first one included, with adaptive (client-side rate limited) retry.
    pub max_attempts: u32,
    /// Upper bound on one call, retries included.
    pub call_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            endpoint_url: None,
            max_attempts: 10,
            call_timeout: Duration::from_secs(120),
        }
    }
}

/// A service client from the shared config, in `region`, with the call counter and any extra
/// interceptors. (Each service crate has its own config type: a macro, not a generic.)
macro_rules! client {
    ($clients:expr, $service:ident, $region:expr) => {{
        let mut builder = $service::config::Builder::from(&$clients.sdk)
            .region($region)
            .interceptor($clients.counter.clone());
        for interceptor in &$clients.extra_interceptors {
            builder.push_interceptor(interceptor.clone());
        }
        $service::Client::from_conf(builder.build())
    }};
}

/// Builds the per-service clients of one scan; every client shares the call counter.
#[derive(Clone)]
pub struct AwsClients {
    sdk: SdkConfig,
    counter: ApiCallCounter,
    extra_interceptors: Vec<SharedInterceptor>,
    /// The region of IAM, STS, Organizations and `DescribeRegions` (see `in_partition_of`).
    global: Option<Region>,
}

impl AwsClients {
    /// Loads credentials and region from the default chain (environment, profile, IMDS, IRSA).
    pub async fn from_env(settings: &ClientSettings) -> Self {
        let timeouts = TimeoutConfig::builder()
            .operation_timeout(settings.call_timeout)
            .operation_attempt_timeout(settings.call_timeout / 2)
            .connect_timeout(Duration::from_secs(10))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::adaptive().with_max_attempts(settings.max_attempts.max(1)))
            .timeout_config(timeouts);
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        Self::new(loader.load().await)
    }

    pub fn new(sdk: SdkConfig) -> Self {
        Self {
            sdk,
            counter: ApiCallCounter::default(),
            extra_interceptors: Vec::new(),
            global: None,
        }
    }

    /// The same clients with the global services in the partition of `region`: IAM signs in
    /// the partition's own region (in aws-cn, `cn-north-1`), so a scan of China regions with
    /// a default region elsewhere would otherwise call the wrong partition. The default
    /// chain's region is kept when it is in that partition.
    pub fn in_partition_of(&self, region: &str) -> Self {
        let partition = crate::vocab::partition_of_region(region);
        let default_fits = self
            .sdk
            .region()
            .is_some_and(|r| crate::vocab::partition_of_region(r.as_ref()) == partition);
        let mut out = self.clone();
        if !default_fits {
            out.global = Some(Region::from_static(crate::vocab::global_region_of(
                partition,
            )));
        }
        out
    }

    /// Adds an interceptor to every client built from now on (tests inject faults with it).
    pub fn with_interceptor(mut self, interceptor: impl Intercept + 'static) -> Self {
        self.extra_interceptors
            .push(SharedInterceptor::new(interceptor));
        self
    }

    /// The region of the default chain (`AWS_REGION`, profile), if any.
    pub fn default_region(&self) -> Option<String> {
        self.sdk.region().map(|r| r.to_string())
    }

    pub fn counter(&self) -> &ApiCallCounter {
        &self.counter
    }

    /// The same settings, counter and interceptors with other credentials (an assumed role)
    /// and an identity cache of their own, so accounts never share credentials.
    pub fn with_credentials(&self, provider: Arc<impl ProvideCredentials + 'static>) -> Self {
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(ArcProvider(provider)))
            .identity_cache(IdentityCache::lazy().build())
            .build();
        Self {
            sdk,
            counter: self.counter.clone(),
            extra_interceptors: self.extra_interceptors.clone(),
            global: self.global.clone(),
        }
    }

    /// The region of the global services' calls (and of `DescribeRegions`).
    pub fn global_region_name(&self) -> String {
        self.global_region().to_string()
    }

    fn global_region(&self) -> Region {
        self.global
            .clone()
            .or_else(|| self.sdk.region().cloned())
            .unwrap_or_else(|| Region::from_static(GLOBAL_REGION))
    }

    pub fn sagemaker(&self, region: &str) -> aws_sdk_sagemaker::Client {
        client!(self, aws_sdk_sagemaker, Region::new(region.to_string()))
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        client!(self, aws_sdk_ec2, Region::new(region.to_string()))
    }

    pub fn efs(&self, region: &str) -> aws_sdk_efs::Client {
        client!(self, aws_sdk_efs, Region::new(region.to_string()))
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        client!(self, aws_sdk_iam, self.global_region())
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        client!(self, aws_sdk_sts, self.global_region())
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        client!(self, aws_sdk_organizations, self.global_region())
    }

    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        client!(self, aws_sdk_cloudtrail, Region::new(region.to_string()))
    }

    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        client!(self, aws_sdk_s3, Region::new(region.to_string()))
    }

    pub fn securityhub(&self, region: &str) -> aws_sdk_securityhub::Client {
        client!(self, aws_sdk_securityhub, Region::new(region.to_string()))
    }
}

/// A shared provider as an owned one ([`SharedCredentialsProvider`] wants ownership; the
/// provider also stays with the account's scan).
#[derive(Debug)]
struct ArcProvider<P>(Arc<P>);

impl<P: ProvideCredentials> ProvideCredentials for ArcProvider<P> {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.provide_credentials()
    }
}

/// Counts operations and HTTP attempts by service, operation and outcome.
#[derive(Debug, Clone, Default)]
pub struct ApiCallCounter {
    counts: Arc<Mutex<BTreeMap<CallKey, (u64, u64)>>>,
}

/// Service, operation, outcome.
type CallKey = (String, String, &'static str);

/// Attempts made so far by the operation in flight (lives in that operation's config bag).
#[derive(Debug, Clone, Copy)]
struct Attempts(u64);

impl Storable for Attempts {
    type Storer = StoreReplace<Self>;
}

impl ApiCallCounter {
    /// The counts accumulated since `earlier` (an earlier [`ApiCallCounter::snapshot`]).
    pub fn since(&self, earlier: &[ApiCallCount]) -> Vec<ApiCallCount> {
        self.snapshot()
            .into_iter()
            .filter_map(|mut now| {
                if let Some(before) = earlier.iter().find(|b| {
                    (&b.service, &b.operation, &b.outcome)
                        == (&now.service, &now.operation, &now.outcome)
                }) {
                    now.calls -= before.calls;
                    now.attempts -= before.attempts;
                }
                (now.calls > 0).then_some(now)
            })
            .collect()
    }

    pub fn snapshot(&self) -> Vec<ApiCallCount> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .map(
                |((service, operation, outcome), (calls, attempts))| ApiCallCount {
                    service: service.clone(),
                    operation: operation.clone(),
                    outcome: (*outcome).to_string(),
                    calls: *calls,
                    attempts: *attempts,
                },
            )
            .collect()
    }
}

/// Our service labels: short, lower case, as in IAM action prefixes.
fn service_label(smithy_service: &str) -> String {
    match smithy_service.to_ascii_lowercase().as_str() {
        s if s.contains("sagemaker") => "sagemaker".into(),
        s if s.contains("elasticfilesystem") || s == "efs" => "efs".into(),
        s if s.contains("ec2") => "ec2".into(),
        s if s.contains("iam") => "iam".into(),
        s if s.contains("sts") || s.contains("securitytoken") => "sts".into(),
        s if s.contains("organizations") => "organizations".into(),
        s if s.contains("cloudtrail") => "cloudtrail".into(),
        other => other.to_string(),
    }
}

impl Intercept for ApiCallCounter {
    fn name(&self) -> &'static str {
        "ApiCallCounter"
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempts = cfg.load::<Attempts>().map_or(0, |a| a.0) + 1;
        cfg.interceptor_state().store_put(Attempts(attempts));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let outcome = match context.output_or_error() {
            Some(Ok(_)) => "success",
            _ => "error",
        };
        let attempts = cfg.load::<Attempts>().map_or(0, |a| a.0);
        let key = (
            service_label(metadata.service()),
            metadata.name().to_string(),
            outcome,
        );
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let entry = counts.entry(key).or_default();
        entry.0 += 1;
        entry.1 += attempts;
        Ok(())
    }
}
