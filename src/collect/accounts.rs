//! Reaching the accounts of a multi-account scan: the organisation's member list, `AssumeRole`
//! with credentials that refresh themselves, and each account's enabled regions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};

use super::{CollectionError, Ctx, GLOBAL, error};
use crate::config::{AccountTarget, AccountsConfig};

/// Called in each scanned account with `regions = ["all"]`.
pub(crate) const MEMBER_ACTIONS: &[&str] = &["ec2:DescribeRegions"];
/// Called by the scanner's own identity: `[[accounts]]` and `[organization]`.
pub(crate) const HUB_ACTIONS: &[&str] = &["organizations:ListAccounts", "sts:AssumeRole"];

/// Session name every assumed role carries: CloudTrail in the member accounts shows it.
const SESSION_NAME: &str = "sagemaker-auditor";
/// Lifetime asked of assumed-role sessions (AssumeRole's default; every role allows it).
const SESSION_SECONDS: i32 = 3600;
/// Credentials are renewed this long before they expire, so no call carries expiring ones.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// The accounts of `[[accounts]]` and `[organization]`, within the shard, sorted by id.
/// An explicit `[[accounts]]` entry wins over the organisation's role for the same id.
pub async fn targets(
    caller: &Ctx,
    organizations: &aws_sdk_organizations::Client,
    config: &AccountsConfig,
) -> Vec<AccountTarget> {
    let mut targets = config.members.clone();
    if let Some(org) = &config.organization {
        for id in list_accounts(caller, organizations).await {
            if org.exclude.contains(&id) || targets.iter().any(|t| t.id == id) {
                continue;
            }
            targets.push(AccountTarget {
                id,
                role_name: org.role_name.clone(),
                external_id: org.external_id.clone(),
            });
        }
    }
    if let Some(shard) = config.shard {
        targets.retain(|t| shard.contains(&t.id));
    }
    targets.sort_by(|a, b| a.id.cmp(&b.id));
    targets
}

/// Active member accounts (Organizations `ListAccounts`). A failure is recorded against the
/// caller's account and yields the accounts of the pages read so far.
async fn list_accounts(caller: &Ctx, organizations: &aws_sdk_organizations::Client) -> Vec<String> {
    let mut ids = Vec::new();
    let mut pages = organizations.list_accounts().into_paginator().send();
    loop {
        let page = match caller.call(pages.next()).await {
            None => break,
            Some(Ok(page)) => page,
            Some(Err(err)) => {
                caller.record(GLOBAL, "organizations", "ListAccounts", None, &err);
                break;
            }
        };
        for account in page.accounts() {
            // `State` replaced `Status`; either says whether the account can be reached.
            let active = match (account.state(), account.status()) {
                (Some(state), _) => state.as_str() == "ACTIVE",
                (None, Some(status)) => status.as_str() == "ACTIVE",
                (None, None) => true,
            };
            if let Some(id) = account.id().filter(|_| active) {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

/// Assumed-role credentials that renew themselves [`REFRESH_BEFORE`] they expire. The first
/// `AssumeRole` is made by [`assume_role`] (so a denial is known before any other call); the
/// SDK's identity cache asks again only when these are about to expire.
#[derive(Debug)]
pub struct AssumedRole {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    external_id: Option<String>,
    current: Mutex<Option<Credentials>>,
}

impl AssumedRole {
    /// The role of `target` in `partition`, assumed at first use (by the identity cache of the
    /// clients it is given to), not now: the exports reach accounts the scan already reached.
    pub fn lazy(sts: aws_sdk_sts::Client, partition: &str, target: &AccountTarget) -> Arc<Self> {
        Arc::new(Self {
            sts,
            role_arn: crate::vocab::Arn::iam_role(partition, &target.id, &target.role_name),
            external_id: target.external_id.clone(),
            current: Mutex::new(None),
        })
    }

    /// A role by its ARN (the S3 export's `role_arn`), assumed at first use or [`Self::check`].
    pub fn for_role(
        sts: aws_sdk_sts::Client,
        role_arn: &str,
        external_id: Option<String>,
    ) -> Arc<Self> {
        Arc::new(Self {
            sts,
            role_arn: role_arn.to_string(),
            external_id,
            current: Mutex::new(None),
        })
    }

    /// Assumes the role now: whether it can be, with AWS's (code, message) when not.
    pub async fn check(&self) -> Result<(), (String, String)> {
        self.fetch().await.map(drop).map_err(|e| {
            let c = error::classify(&e);
            (
                c.code.unwrap_or_else(|| c.kind.as_str().to_string()),
                format!("AssumeRole {}: {}", self.role_arn, c.message),
            )
        })
    }

    async fn fetch(
        &self,
    ) -> Result<
        Credentials,
        aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError>,
    > {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(SESSION_NAME)
            .set_external_id(self.external_id.clone())
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await?;
        let expiry = |c: &aws_sdk_sts::types::Credentials| {
            SystemTime::try_from(*c.expiration()).unwrap_or_else(|_| SystemTime::now())
        };
        let creds = out.credentials().map(|c| {
            Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                Some(expiry(c)),
                "sagemaker-auditor-assume-role",
            )
        });
        let creds = creds.ok_or_else(|| {
            aws_sdk_sts::error::SdkError::construction_failure("AssumeRole returned no credentials")
        })?;
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(creds.clone());
        Ok(creds)
    }

    fn fresh(&self) -> Option<Credentials> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|c| {
                c.expiry()
                    .is_none_or(|e| e > SystemTime::now() + REFRESH_BEFORE)
            })
            .cloned()
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            if let Some(creds) = self.fresh() {
                return Ok(creds);
            }
            self.fetch()
                .await
                .map_err(|e| CredentialsError::provider_error(Box::new(e)))
        })
    }
}

/// Assumes the target's role; the credentials are ready for an [`super::AwsClients`] when it
/// succeeds, the failure is the account's collection error when it does not.
pub async fn assume_role(
    ctx: &Ctx,
    sts: aws_sdk_sts::Client,
    target: &AccountTarget,
) -> Result<Arc<AssumedRole>, CollectionError> {
    let role = Arc::new(AssumedRole {
        sts,
        role_arn: crate::vocab::Arn::iam_role(&ctx.partition, &target.id, &target.role_name),
        external_id: target.external_id.clone(),
        current: Mutex::new(None),
    });
    match ctx.call(role.fetch()).await {
        Ok(_) => Ok(role),
        Err(err) => {
            let c = error::classify(&err);
            tracing::warn!(
                account_id = %target.id, role = %role.role_arn,
                error = c.kind.as_str(), code = c.code.as_deref(),
                "cannot assume the scanner role: {}", c.message
            );
            Err(CollectionError {
                account_id: target.id.clone(),
                region: GLOBAL.into(),
                service: "sts".into(),
                operation: "AssumeRole".into(),
                error: c.kind,
                error_code: c.code,
                message: c.message,
                resource: Some(role.role_arn.clone()),
            })
        }
    }
}

/// The regions enabled in the account (EC2 `DescribeRegions` without `AllRegions`: regions
/// that need no opt-in plus the opted-in ones), sorted; `None` when they cannot be read.
pub async fn enabled_regions(ctx: &Ctx, ec2: &aws_sdk_ec2::Client) -> Option<Vec<String>> {
    match ctx.call(ec2.describe_regions().send()).await {
        Ok(out) => {
            let mut regions: Vec<String> = out
                .regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_string))
                .collect();
            regions.sort();
            regions.dedup();
            Some(regions)
        }
        Err(err) => {
            ctx.record(GLOBAL, "ec2", "DescribeRegions", None, &err);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sts::operation::assume_role::AssumeRoleOutput;
    use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, create_mock_http_client, mock};

    fn session(key: &str, lifetime: Duration) -> AssumeRoleOutput {
        let expiration = aws_smithy_types::DateTime::from(SystemTime::now() + lifetime);
        AssumeRoleOutput::builder()
            .credentials(
                aws_sdk_sts::types::Credentials::builder()
                    .access_key_id(key)
                    .secret_access_key("secret")
                    .session_token("token")
                    .expiration(expiration)
                    .build()
                    .unwrap(),
            )
            .build()
    }

    /// A session about to expire is renewed before use; a fresh one is reused.
    #[tokio::test]
    async fn credentials_are_renewed_before_they_expire() {
        let sessions = mock!(aws_sdk_sts::Client::assume_role)
            .sequence()
            .output(|| session("ASIAEXPIRING", Duration::from_secs(120)))
            .output(|| session("ASIAFRESH", Duration::from_secs(3600)))
            .build();
        let interceptor = MockResponseInterceptor::new()
            .rule_mode(RuleMode::Sequential)
            .with_rule(&sessions);
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                .region(aws_sdk_sts::config::Region::new("us-east-1"))
                .credentials_provider(Credentials::new("AKIA", "secret", None, None, "test"))
                .http_client(create_mock_http_client())
                .interceptor(interceptor)
                .build(),
        );
        let role = AssumedRole {
            sts,
            role_arn: "arn:aws:iam::111111111111:role/SageMakerAuditor".into(),
            external_id: None,
            current: Mutex::new(None),
        };
        let first = role.provide_credentials().await.unwrap();
        assert_eq!(first.access_key_id(), "ASIAEXPIRING");
        // Two minutes left is inside the renewal margin: a new session.
        let second = role.provide_credentials().await.unwrap();
        assert_eq!(second.access_key_id(), "ASIAFRESH");
        // An hour left: the same session, no call.
        let third = role.provide_credentials().await.unwrap();
        assert_eq!(third.access_key_id(), "ASIAFRESH");
        assert_eq!(sessions.num_calls(), 2);
    }
}
