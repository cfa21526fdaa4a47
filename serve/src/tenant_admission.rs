//! A tenant's own limits at the door: requests in flight and requests per second (a token
//! bucket). It exists so that one tenant saturating `serve` is answered 429 at once, before a
//! sandbox or a credential is spent on it, instead of queueing in front of everyone else.
//! The body limit is enforced where the body is read ([`super::body_cap`]).
//!
//! A tenant without `max_in_flight` still gets a cap when others are served
//! ([`sandbox_share`]): every request in flight holds or waits for a sandbox, and 12 stalled
//! PUTs of one tenant under `--max-instances 8` once held every sandbox while the other tenants
//! waited.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::tenants_file::{Rate, TenantLimits};

/// Why a request was refused at the door; each says when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The tenant has as many requests running as it may.
    InFlight {
        /// The tenant's cap.
        max: u32,
    },
    /// The tenant, without a cap of its own, has its share of the server's sandboxes in flight.
    Sandboxes {
        /// The share.
        max: u32,
    },
    /// The tenant's token bucket is empty.
    Rate {
        /// When the next token arrives.
        retry_after: Duration,
    },
}

impl Refusal {
    /// The limit's name in metrics and audit records.
    pub fn limit(&self) -> &'static str {
        match self {
            Refusal::InFlight { .. } => "in_flight",
            Refusal::Sandboxes { .. } => "sandboxes",
            Refusal::Rate { .. } => "rate",
        }
    }

    /// Whole seconds for `Retry-After` (at least 1: HTTP counts in seconds, and 0 would invite
    /// an immediate retry). A request in flight has no known end, so 1.
    pub fn retry_after_seconds(&self) -> u64 {
        match self {
            Refusal::InFlight { .. } | Refusal::Sandboxes { .. } => 1,
            Refusal::Rate { retry_after } => retry_after.as_secs_f64().ceil().max(1.0) as u64,
        }
    }

    /// The client's message.
    pub fn message(&self, tenant: &str) -> String {
        match self {
            Refusal::InFlight { max } => {
                format!("tenant {tenant} has {max} requests in flight, its limit; retry when one ends")
            }
            Refusal::Sandboxes { max } => format!(
                "tenant {tenant} has {max} requests in flight, its share of the server's sandboxes; retry when \
                 one ends"
            ),
            Refusal::Rate { .. } => format!(
                "tenant {tenant} is over its requests per second; retry after {} s",
                self.retry_after_seconds()
            ),
        }
    }
}

/// The counters of one tenant's limits. Kept across reloads while the limits stay the same,
/// so that a reload does not hand a saturating tenant a fresh burst.
#[derive(Debug)]
pub struct TenantAdmission {
    limits: TenantLimits,
    in_flight: AtomicU32,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One admitted request: counts in flight until dropped.
#[derive(Debug)]
pub struct Permit(Arc<TenantAdmission>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl TenantAdmission {
    /// Counters for `limits`, the bucket full.
    pub fn new(limits: TenantLimits) -> Arc<Self> {
        let tokens = limits.rate.map_or(0.0, |rate| f64::from(rate.burst));
        Arc::new(Self {
            limits,
            in_flight: AtomicU32::new(0),
            bucket: Mutex::new(Bucket { tokens, at: Instant::now() }),
        })
    }

    /// The limits counted.
    pub fn limits(&self) -> &TenantLimits {
        &self.limits
    }

    /// Requests of this tenant running now.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Admits one request now, or says why not; `share` caps the requests in flight of a
    /// tenant without `max_in_flight` of its own ([`sandbox_share`]). A request refused for its
    /// rate does not hold a place in flight, and one refused for its place does not spend a
    /// token.
    pub fn admit(self: &Arc<Self>, share: Option<u32>) -> Result<Permit, Refusal> {
        let running = self.in_flight.fetch_add(1, Ordering::SeqCst);
        let permit = Permit(self.clone());
        match (self.limits.max_in_flight, share) {
            (Some(max), _) if running >= max => return Err(Refusal::InFlight { max }),
            (None, Some(max)) if running >= max => return Err(Refusal::Sandboxes { max }),
            _ => {}
        }
        if let Some(rate) = self.limits.rate {
            self.take_token(rate, Instant::now())?;
        }
        Ok(permit)
    }

    fn take_token(&self, rate: Rate, now: Instant) -> Result<(), Refusal> {
        let mut bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate.per_second).min(f64::from(rate.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let retry_after = Duration::from_secs_f64((1.0 - bucket.tokens) / rate.per_second);
        Err(Refusal::Rate { retry_after })
    }
}

/// The requests in flight a tenant without `max_in_flight` may have when `tenants` share a
/// pool of `sandboxes`: none for a tenant alone, else three quarters of the pool (at least one,
/// and at least one sandbox left to the others when the pool has two or more).
pub fn sandbox_share(sandboxes: u32, tenants: usize) -> Option<u32> {
    if tenants <= 1 {
        return None;
    }
    Some(sandboxes.saturating_sub((sandboxes / 4).max(1)).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_without_a_cap_gets_a_share_of_the_sandboxes_when_others_are_served() {
        let table =
            [((8, 1), None), ((8, 2), Some(6)), ((256, 5), Some(192)), ((2, 2), Some(1)), ((1, 3), Some(1))];
        for ((sandboxes, tenants), expected) in table {
            assert_eq!(
                sandbox_share(sandboxes, tenants),
                expected,
                "{sandboxes} sandboxes, {tenants} tenants"
            );
        }
        let admission = TenantAdmission::new(TenantLimits::default());
        let held: Vec<Permit> = (0..6).map(|_| admission.admit(Some(6)).unwrap()).collect();
        assert_eq!(admission.admit(Some(6)).unwrap_err(), Refusal::Sandboxes { max: 6 });
        assert!(admission.admit(None).is_ok(), "a tenant alone is not capped");
        let own = TenantAdmission::new(TenantLimits { max_in_flight: Some(10), ..TenantLimits::default() });
        let more: Vec<Permit> = (0..8).map(|_| own.admit(Some(6)).unwrap()).collect();
        assert_eq!((held.len(), more.len()), (6, 8), "a tenant's own cap replaces the share");
    }

    #[test]
    fn places_in_flight_are_capped_and_given_back() {
        let admission =
            TenantAdmission::new(TenantLimits { max_in_flight: Some(2), ..TenantLimits::default() });
        let first = admission.admit(None).unwrap();
        let _second = admission.admit(None).unwrap();
        let refused = admission.admit(None).unwrap_err();
        assert_eq!((refused, refused.retry_after_seconds()), (Refusal::InFlight { max: 2 }, 1));
        assert_eq!(admission.in_flight(), 2, "a refused request holds no place");
        drop(first);
        assert!(admission.admit(None).is_ok());
    }

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let rate = Rate { per_second: 2.0, burst: 3 };
        let admission = TenantAdmission::new(TenantLimits { rate: Some(rate), ..TenantLimits::default() });
        let start = Instant::now();
        for _ in 0..3 {
            admission.take_token(rate, start).unwrap();
        }
        let Err(Refusal::Rate { retry_after }) = admission.take_token(rate, start) else {
            panic!("the fourth request at once is over the burst");
        };
        assert_eq!(retry_after, Duration::from_millis(500));
        assert_eq!(Refusal::Rate { retry_after }.retry_after_seconds(), 1);
        assert!(admission.take_token(rate, start + Duration::from_millis(500)).is_ok(), "one token in 0.5 s");
        assert!(admission.take_token(rate, start + Duration::from_millis(600)).is_err());
        let later = start + Duration::from_secs(100);
        for _ in 0..3 {
            admission.take_token(rate, later).unwrap();
        }
        assert!(admission.take_token(rate, later).is_err(), "the bucket holds no more than the burst");
    }
}
