//! The retry budget every call of one connector shares, as the AWS SDKs' standard retry mode
//! has it: a retry costs tokens, a success gives some back, and when the bucket is empty
//! retries are refused until successes refill it. A server in trouble is then not hammered by
//! every caller retrying at once.
//!
//! The host reads which attempt a request is from the request itself (`amz-sdk-request:
//! attempt=N; max=M`, the header the SDKs send), not from anything the guest reports.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Tokens a full bucket holds (the SDKs' standard mode).
pub const DEFAULT_RETRY_TOKENS: u32 = 500;
/// What one retry costs.
pub const RETRY_COST: u32 = 5;
/// What a request that succeeds at its first attempt gives back.
const FIRST_ATTEMPT_REFILL: u32 = 1;

/// A connector's shared retry budget.
#[derive(Debug)]
pub struct RetryBudget {
    capacity: u32,
    tokens: AtomicU32,
    refused: AtomicU64,
}

impl RetryBudget {
    /// A full bucket of `capacity` tokens.
    pub fn new(capacity: u32) -> Self {
        Self { capacity, tokens: AtomicU32::new(capacity), refused: AtomicU64::new(0) }
    }

    /// Takes the cost of one retry; `false` (and counted as refused) when the bucket cannot pay.
    pub fn take_retry(&self) -> bool {
        let taken = self
            .tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |tokens| tokens.checked_sub(RETRY_COST));
        if taken.is_err() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        taken.is_ok()
    }

    /// Records a success of a request at `attempt`: a first attempt refills a little, a retry
    /// that worked gets its cost back.
    pub fn succeeded(&self, attempt: u32) {
        let refill = if attempt > 1 { RETRY_COST } else { FIRST_ATTEMPT_REFILL };
        let _ = self.tokens.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |tokens| {
            Some(tokens.saturating_add(refill).min(self.capacity))
        });
    }

    /// Tokens left.
    pub fn tokens(&self) -> u32 {
        self.tokens.load(Ordering::SeqCst)
    }

    /// Retries refused so far, for metrics.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self::new(DEFAULT_RETRY_TOKENS)
    }
}

/// The attempt a request says it is in `amz-sdk-request` (`attempt=2; max=3`); 1 when the
/// header is missing or unreadable, so that a request that says nothing is never charged.
pub fn attempt_of(headers: &http::HeaderMap) -> u32 {
    headers
        .get("amz-sdk-request")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .split(';')
                .find_map(|part| part.trim().strip_prefix("attempt=").and_then(|n| n.trim().parse().ok()))
        })
        .filter(|attempt| *attempt >= 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempt_is_read_from_the_request() {
        let table: &[(Option<&str>, u32)] = &[
            (None, 1),
            (Some("attempt=1; max=3"), 1),
            (Some("attempt=2; max=3"), 2),
            (Some("max=3; attempt=3"), 3),
            (Some("attempt=0"), 1),
            (Some("attempt=x"), 1),
            (Some("ttl=20260101T000000Z; attempt=2"), 2),
        ];
        for (value, attempt) in table {
            let mut headers = http::HeaderMap::new();
            if let Some(value) = value {
                headers.insert("amz-sdk-request", http::HeaderValue::from_static(value));
            }
            assert_eq!(attempt_of(&headers), *attempt, "{value:?}");
        }
    }

    #[test]
    fn retries_drain_the_bucket_and_successes_refill_it() {
        let budget = RetryBudget::new(12);
        assert!(budget.take_retry() && budget.take_retry(), "two retries fit in 12 tokens");
        assert_eq!(budget.tokens(), 2);
        assert!(!budget.take_retry(), "a third does not");
        assert_eq!(budget.refused(), 1);
        budget.succeeded(2);
        assert_eq!(budget.tokens(), 7, "a retry that worked gets its cost back");
        budget.succeeded(1);
        assert_eq!(budget.tokens(), 8);
        for _ in 0..10 {
            budget.succeeded(2);
        }
        assert_eq!(budget.tokens(), 12, "never above the capacity");
    }
}
