//! Waiting between attempts, on `wasi:clocks` (a monotonic-clock pollable, blocked on), and the
//! randomness of the backoff's jitter.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::bindings::wasi::clocks0_2_12::monotonic_clock;

/// Sleeps for `duration`: subscribes to the monotonic clock and polls the pollable.
pub fn sleep(duration: Duration) {
    if duration.is_zero() {
        return;
    }
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    monotonic_clock::subscribe_duration(nanos).block();
}

/// A uniformly random number in `[0, 1)`, for jitter. `RandomState` is seeded from the
/// platform's random source (`wasi:random`), which is all jitter needs.
pub fn random_unit() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    // The top 53 bits fill an f64's mantissa exactly.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}
