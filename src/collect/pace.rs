//! Request pacing per account and region, for the APIs whose quota AWS states that way:
//! CloudTrail `LookupEvents` allows 2 requests a second per account and region. The pacer is
//! shared by everything in the process, so parallel scans (or regions, or member accounts
//! reached twice) of one account-region never exceed it together, however many calls
//! `account_concurrency` allows in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// When a scope may send its next request (`None`: now).
type Slot = Arc<tokio::sync::Mutex<Option<Instant>>>;

/// Grants requests to each (account, region) at most `per_second` a second.
pub(crate) struct Pacer {
    interval: Duration,
    scopes: Mutex<HashMap<(String, String), Slot>>,
}

impl Pacer {
    pub(crate) fn new(per_second: u32) -> Self {
        Self {
            interval: Duration::from_secs(1) / per_second.max(1),
            scopes: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until the scope may send its next request. Callers of one scope are served in
    /// turn (the slot's mutex is fair); other scopes never wait for it.
    pub(crate) async fn ready(&self, account_id: &str, region: &str) {
        let slot = {
            let mut scopes = self.scopes.lock().unwrap_or_else(PoisonError::into_inner);
            scopes
                .entry((account_id.to_string(), region.to_string()))
                .or_default()
                .clone()
        };
        let mut next = slot.lock().await;
        let now = Instant::now();
        let at = next.map_or(now, |t| t.max(now));
        if at > now {
            tokio::time::sleep_until(at).await;
        }
        *next = Some(at + self.interval);
    }
}

/// AWS's LookupEvents quota: 2 requests a second per account and region.
pub(crate) const LOOKUP_EVENTS_PER_SECOND: u32 = 2;

/// The process's pacer of CloudTrail `LookupEvents`.
pub(crate) fn lookup_events() -> &'static Pacer {
    static PACER: OnceLock<Pacer> = OnceLock::new();
    PACER.get_or_init(|| Pacer::new(LOOKUP_EVENTS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight callers of one account-region (as `account_concurrency = 8` allows) are granted
    /// one request every half second; another account-region is not held up by them.
    #[tokio::test(start_paused = true)]
    async fn two_requests_a_second_per_account_and_region() {
        let pacer = Arc::new(Pacer::new(LOOKUP_EVENTS_PER_SECOND));
        let start = Instant::now();
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let pacer = pacer.clone();
                tokio::spawn(async move {
                    pacer.ready("111111111111", "us-east-1").await;
                    Instant::now()
                })
            })
            .collect();
        let other = {
            let pacer = pacer.clone();
            tokio::spawn(async move {
                pacer.ready("111111111111", "eu-west-1").await;
                Instant::now()
            })
        };
        let mut granted = Vec::new();
        for call in calls {
            granted.push(call.await.unwrap());
        }
        granted.sort();
        for pair in granted.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(500),
                "{granted:?}"
            );
        }
        assert_eq!(granted[7] - start, Duration::from_millis(3500));
        assert_eq!(
            other.await.unwrap(),
            start,
            "another region waits for nobody"
        );
    }
}
