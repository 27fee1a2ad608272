//! What to scan beyond the caller's own account: `[[accounts]]`, `[organization]`, `shard`,
//! and the calls in flight per account (`account_concurrency`).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Validator, raw};

/// The accounts a scan covers. With neither `members` nor `organization`, the account of the
/// default credentials is scanned with them.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountsConfig {
    /// `[[accounts]]`: reached by assuming `role_name` in each.
    pub members: Vec<AccountTarget>,
    /// `[organization]`: every active account that Organizations `ListAccounts` returns.
    pub organization: Option<OrganizationConfig>,
    /// AWS calls in flight at once within one account (AWS throttles per account and region).
    pub per_account_concurrency: usize,
    /// Only the accounts of this shard (`--shard` wins).
    pub shard: Option<Shard>,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            members: Vec::new(),
            organization: None,
            per_account_concurrency: 8,
            shard: None,
        }
    }
}

impl AccountsConfig {
    /// True when the scan assumes roles instead of using the default credentials' account.
    pub fn is_multi_account(&self) -> bool {
        !self.members.is_empty() || self.organization.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTarget {
    pub id: String,
    pub role_name: String,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationConfig {
    pub role_name: String,
    pub external_id: Option<String>,
    /// Account ids never scanned (e.g. the management account, where no role is deployed).
    pub exclude: Vec<String>,
}

/// `K/N`: this replica scans the accounts whose id hashes to shard K of N (1 ≤ K ≤ N), so N
/// replicas with K = 1..N split the accounts between them without coordination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether `account_id` belongs to this shard: the first 8 bytes of its SHA-256, modulo N.
    /// A fixed function of the id, so every replica agrees without talking to the others.
    pub fn contains(&self, account_id: &str) -> bool {
        let digest = Sha256::digest(account_id.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` (1 ≤ K ≤ N), or `index=I/N` with a 0-based I (0 ≤ I < N: a StatefulSet's pod
    /// index, `apps.kubernetes.io/pod-index`, through the downward API), which is shard I+1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "{s:?} is not a shard K/N with 1 <= K <= N (like \"2/3\") or index=I/N with 0 <= I < N (like \"index=1/3\", a StatefulSet pod index)"
            )
        };
        let (zero_based, rest) = match s.trim().strip_prefix("index=") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (k, n) = rest.split_once('/').ok_or_else(bad)?;
        let k: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        let index = if zero_based {
            k.checked_add(1).ok_or_else(bad)?
        } else {
            k
        };
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `[cloudtrail]`.
/// `[[accounts]]`: a member account reached by assuming a role in it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccount {
    pub(super) id: Spanned<String>,
    pub(super) role_name: Spanned<String>,
    pub(super) external_id: Option<Spanned<String>>,
}

/// `[organization]`: every active account of the organisation, listed with Organizations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrganization {
    pub(super) role_name: Spanned<String>,
    pub(super) external_id: Option<Spanned<String>>,
    pub(super) exclude: Option<Vec<Spanned<String>>>,
}

/// An AWS account id: twelve digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An IAM role name, optionally with a path (`path/name`), as `AssumeRole` takes it in an ARN.
pub(super) fn is_role_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && !s.starts_with('/')
        && !s.ends_with('/')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
}

impl Validator<'_> {
    pub(super) fn accounts(&self, raw: &raw::RawConfig) -> Result<AccountsConfig, ConfigError> {
        let mut accounts = AccountsConfig {
            per_account_concurrency: self.int_in(
                "account_concurrency",
                raw.account_concurrency.as_ref(),
                1..=256,
                AccountsConfig::default().per_account_concurrency,
            )?,
            ..AccountsConfig::default()
        };
        for entry in raw.accounts.iter().flatten() {
            let a = entry.get_ref();
            let id = self.account_id("accounts.id", &a.id)?;
            if accounts.members.iter().any(|m| m.id == id) {
                return self.invalid(
                    "accounts.id",
                    a.id.span(),
                    format!("account {id} is listed twice"),
                );
            }
            accounts.members.push(AccountTarget {
                id,
                role_name: self.role_name("accounts.role_name", &a.role_name)?,
                external_id: self.external_id("accounts.external_id", a.external_id.as_ref())?,
            });
        }
        if let Some(org) = &raw.organization {
            let o = org.get_ref();
            let exclude = o
                .exclude
                .iter()
                .flatten()
                .map(|id| self.account_id("organization.exclude", id))
                .collect::<Result<_, _>>()?;
            accounts.organization = Some(OrganizationConfig {
                role_name: self.role_name("organization.role_name", &o.role_name)?,
                external_id: self
                    .external_id("organization.external_id", o.external_id.as_ref())?,
                exclude,
            });
        }
        if let Some(shard) = &raw.shard {
            accounts.shard = Some(
                shard
                    .get_ref()
                    .parse()
                    .or_else(|problem| self.invalid("shard", shard.span(), problem))?,
            );
        }
        Ok(accounts)
    }

    fn account_id(&self, key: &str, value: &toml::Spanned<String>) -> Result<String, ConfigError> {
        let id = value.get_ref();
        if is_account_id(id) {
            Ok(id.clone())
        } else {
            self.invalid(
                key,
                value.span(),
                format!("{id:?} is not an AWS account id (twelve digits)"),
            )
        }
    }

    fn role_name(&self, key: &str, value: &toml::Spanned<String>) -> Result<String, ConfigError> {
        let name = value.get_ref();
        if is_role_name(name) {
            Ok(name.clone())
        } else {
            self.invalid(
                key,
                value.span(),
                format!("{name:?} is not an IAM role name (a name, not an ARN; a path may prefix it: \"path/name\")"),
            )
        }
    }

    pub(super) fn external_id(
        &self,
        key: &str,
        value: Option<&toml::Spanned<String>>,
    ) -> Result<Option<String>, ConfigError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let id = value.get_ref();
        // AssumeRole's limits: 2 to 1224 characters of [\w+=,.@:\/-].
        if (2..=1224).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b))
        {
            Ok(Some(id.clone()))
        } else {
            self.invalid(
                key,
                value.span(),
                "must be 2 to 1224 characters of letters, digits and _+=,.@:/-".into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_index_names_the_shard_after_it() {
        let shard = |s: &str| s.parse::<Shard>();
        assert_eq!(shard("index=0/3"), Ok(Shard { index: 1, count: 3 }));
        assert_eq!(shard("index=2/3"), Ok(Shard { index: 3, count: 3 }));
        assert_eq!(shard("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in [
            "index=3/3",
            "index=-1/3",
            "index=/3",
            "0/3",
            "index=4294967295/3",
            "index=1",
        ] {
            let e = shard(bad).unwrap_err();
            assert!(e.contains("index=I/N with 0 <= I < N"), "{bad}: {e}");
        }
    }

    #[test]
    fn shards_split_accounts_exactly_once() {
        let ids: Vec<String> = (0..300).map(|i| format!("{:012}", 100_000 + i)).collect();
        for count in 1..=5 {
            let shards: Vec<Shard> = (1..=count).map(|index| Shard { index, count }).collect();
            for id in &ids {
                let owners = shards.iter().filter(|s| s.contains(id)).count();
                assert_eq!(owners, 1, "{id} in {owners} of {count} shards");
            }
            // No shard is left empty by the hash on a few hundred ids.
            for s in &shards {
                assert!(ids.iter().any(|id| s.contains(id)), "shard {s} empty");
            }
        }
    }

    #[test]
    fn shard_syntax() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad:?} accepted");
        }
    }
}
