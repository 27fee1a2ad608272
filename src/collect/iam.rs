//! IAM: the effective execution roles with trust policy, inline and attached policies.
//!
//! One paginated `GetAccountAuthorizationDetails` (roles and customer managed policies, up to
//! 1,000 entities a page) returns every role of the account with everything we need, instead
//! of `GetRole` + `ListAttachedRolePolicies` + `ListRolePolicies` + `GetRolePolicy` per role and
//! `GetPolicy` + `GetPolicyVersion` per customer policy. Its absence list is also what lets us
//! say a role is *missing*, not merely unreadable. AWS managed policies are not in it (asking
//! for them returns every AWS policy in existence): the few attached to execution roles are
//! fetched with `GetPolicy` + `GetPolicyVersion`, once per scan for all accounts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{EntityType, ManagedPolicyDetail, RoleDetail};
use tokio::sync::OnceCell;

use super::{Ctx, GLOBAL, opt, ts};
use crate::snapshot::{
    AttachedPolicy, CollectionError, ErrorKind, IamRole, InlinePolicy, ManagedPolicy,
};

const SERVICE: &str = "iam";
const PAGE: i32 = 1000;

/// The IAM actions this collector calls.
pub(crate) const ACTIONS: &[&str] = &[
    "iam:GetAccountAuthorizationDetails",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
];

/// Every role and customer managed policy of one account.
pub(super) struct RoleList {
    roles: HashMap<String, RoleDetail>,
    local_policies: HashMap<String, ManagedPolicyDetail>,
}

pub(super) struct FoundRole<'a> {
    ctx: &'a Ctx,
    detail: &'a RoleDetail,
}

impl RoleList {
    pub(super) fn find<'a>(&'a self, ctx: &'a Ctx, arn: &str) -> Option<FoundRole<'a>> {
        // IAM names are unique case-insensitively; SageMaker stores the ARN as typed.
        self.roles
            .get(&arn.to_ascii_lowercase())
            .map(|detail| FoundRole { ctx, detail })
    }
}

impl FoundRole<'_> {
    pub(super) fn to_snapshot(&self) -> IamRole {
        let d = self.detail;
        let arn = d.arn().unwrap_or_default().to_string();
        IamRole {
            name: d.role_name().unwrap_or_default().to_string(),
            path: d.path().unwrap_or("/").to_string(),
            role_id: d.role_id().unwrap_or_default().to_string(),
            create_date: ts(d.create_date()),
            assume_role_policy: self.document(&arn, d.assume_role_policy_document()),
            attached_policies: d
                .attached_managed_policies()
                .iter()
                .filter_map(|p| {
                    Some(AttachedPolicy {
                        arn: p.policy_arn()?.to_string(),
                        name: p.policy_name().unwrap_or_default().to_string(),
                    })
                })
                .collect(),
            inline_policies: d
                .role_policy_list()
                .iter()
                .map(|p| InlinePolicy {
                    name: p.policy_name().unwrap_or_default().to_string(),
                    document: self.document(&arn, p.policy_document()),
                })
                .collect(),
            permissions_boundary_arn: d
                .permissions_boundary()
                .and_then(|b| opt(b.permissions_boundary_arn())),
            arn,
        }
    }

    fn document(&self, arn: &str, raw: Option<&str>) -> serde_json::Value {
        decode_document(raw.unwrap_or_default()).unwrap_or_else(|message| {
            self.ctx.push(invalid_document(
                &self.ctx.account_id,
                "GetAccountAuthorizationDetails",
                arn,
                message,
            ));
            serde_json::Value::Null
        })
    }
}

fn invalid_document(
    account_id: &str,
    operation: &str,
    resource: &str,
    message: String,
) -> CollectionError {
    CollectionError {
        account_id: account_id.to_string(),
        region: GLOBAL.into(),
        service: SERVICE.into(),
        operation: operation.into(),
        error: ErrorKind::InvalidResponse,
        error_code: None,
        message: format!("policy document is not valid JSON: {message}"),
        resource: Some(resource.to_string()),
    }
}

/// IAM returns policy documents URL-encoded (RFC 3986); the SDK leaves them so. Some
/// emulators do not encode. Accept both.
pub fn decode_document(raw: &str) -> Result<serde_json::Value, String> {
    if let Ok(value) = serde_json::from_str(raw) {
        return Ok(value);
    }
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&decoded)
        .or_else(|_| {
            let decoded = percent_encoding::percent_decode_str(&raw.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            serde_json::from_str(&decoded)
        })
        .map_err(|e| e.to_string())
}

/// Lists every role and customer managed policy; `None` when IAM could not be read.
pub(super) async fn list_roles(ctx: &Ctx, client: &Client) -> Option<RoleList> {
    let pages = ctx
        .call(
            client
                .get_account_authorization_details()
                .filter(EntityType::Role)
                .filter(EntityType::LocalManagedPolicy)
                .max_items(PAGE)
                .into_paginator()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .await;
    match pages {
        Ok(pages) => {
            let mut list = RoleList {
                roles: HashMap::new(),
                local_policies: HashMap::new(),
            };
            // The pages are ours: move every role and policy instead of copying it.
            for page in pages {
                for role in page.role_detail_list.unwrap_or_default() {
                    if let Some(arn) = role.arn() {
                        list.roles.insert(arn.to_ascii_lowercase(), role);
                    }
                }
                for policy in page.policies.unwrap_or_default() {
                    if let Some(arn) = policy.arn() {
                        list.local_policies.insert(arn.to_string(), policy);
                    }
                }
            }
            Some(list)
        }
        Err(err) => {
            ctx.record(
                GLOBAL,
                SERVICE,
                "GetAccountAuthorizationDetails",
                None,
                &err,
            );
            None
        }
    }
}

/// `None` once a fetch failed: it is not retried within the scan.
type PolicyCell = Arc<OnceCell<Option<ManagedPolicy>>>;

/// Managed policy documents of one scan, fetched at most once each.
#[derive(Clone, Default)]
pub struct ManagedPolicyCache {
    entries: Arc<Mutex<BTreeMap<String, PolicyCell>>>,
}

impl ManagedPolicyCache {
    fn cell(&self, arn: &str) -> PolicyCell {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(arn.to_string())
            .or_default()
            .clone()
    }

    pub fn into_map(self) -> BTreeMap<String, ManagedPolicy> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .filter_map(|(arn, cell)| Some((arn.clone(), cell.get()?.clone()?)))
            .collect()
    }
}

fn is_aws_managed(arn: &str) -> bool {
    crate::vocab::Arn::parse(arn).is_some_and(|a| a.account == "aws")
}

fn local_policy(ctx: &Ctx, detail: &ManagedPolicyDetail) -> Option<ManagedPolicy> {
    let arn = detail.arn()?.to_string();
    let default_version_id = detail.default_version_id().unwrap_or_default().to_string();
    let version = detail
        .policy_version_list()
        .iter()
        .find(|v| v.is_default_version() || v.version_id() == Some(default_version_id.as_str()))?;
    let document = decode_document(version.document().unwrap_or_default()).unwrap_or_else(|m| {
        ctx.push(invalid_document(
            &ctx.account_id,
            "GetAccountAuthorizationDetails",
            &arn,
            m,
        ));
        serde_json::Value::Null
    });
    Some(ManagedPolicy {
        name: detail.policy_name().unwrap_or_default().to_string(),
        aws_managed: false,
        default_version_id,
        document,
        arn,
    })
}

/// Puts the default-version document of every wanted policy into the cache.
pub(super) async fn resolve_policies(
    ctx: &Ctx,
    client: &Client,
    list: &RoleList,
    wanted: &BTreeSet<String>,
    cache: &ManagedPolicyCache,
) {
    let fetches = wanted.iter().map(|arn| async move {
        let cell = cache.cell(arn);
        cell.get_or_init(|| async {
            match list.local_policies.get(arn) {
                Some(detail) if !is_aws_managed(arn) => local_policy(ctx, detail),
                _ => fetch_policy(ctx, client, arn).await,
            }
        })
        .await;
    });
    futures::future::join_all(fetches).await;
}

async fn fetch_policy(ctx: &Ctx, client: &Client, arn: &str) -> Option<ManagedPolicy> {
    let policy = match ctx.call(client.get_policy().policy_arn(arn).send()).await {
        Ok(out) => out.policy?.clone(),
        Err(err) => {
            ctx.record(GLOBAL, SERVICE, "GetPolicy", Some(arn), &err);
            return None;
        }
    };
    let version_id = policy.default_version_id()?.to_string();
    let version = match ctx
        .call(
            client
                .get_policy_version()
                .policy_arn(arn)
                .version_id(&version_id)
                .send(),
        )
        .await
    {
        Ok(out) => out.policy_version?,
        Err(err) => {
            ctx.record(GLOBAL, SERVICE, "GetPolicyVersion", Some(arn), &err);
            return None;
        }
    };
    let document = match decode_document(version.document().unwrap_or_default()) {
        Ok(doc) => doc,
        Err(m) => {
            ctx.push(invalid_document(
                &ctx.account_id,
                "GetPolicyVersion",
                arn,
                m,
            ));
            serde_json::Value::Null
        }
    };
    Some(ManagedPolicy {
        arn: arn.to_string(),
        name: policy.policy_name().unwrap_or_default().to_string(),
        aws_managed: is_aws_managed(arn),
        default_version_id: version_id,
        document,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_decode_encoded_or_plain() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(decode_document(plain), decode_document(encoded));
        assert_eq!(decode_document(plain).unwrap()["Version"], "2012-10-17");
        // A `+` that is not valid JSON after percent-decoding was a form-encoded space.
        let form = "%7B%22Sid%22%3A+%22a%22%7D";
        assert_eq!(decode_document(form).unwrap()["Sid"], "a");
        assert!(decode_document("%7Bnot json").is_err());
    }
}
