//! A wall clock that always reads the same time: `--at` pins what the plugin sees, so that
//! signatures and presigned URLs are reproducible.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime_wasi::HostWallClock;

/// The wall clock of a plugin instance whose time is pinned.
pub struct PinnedClock(Duration);

impl PinnedClock {
    /// A clock stopped at `time` (times before 1970 read as 1970).
    pub fn new(time: SystemTime) -> Self {
        Self(time.duration_since(UNIX_EPOCH).unwrap_or_default())
    }
}

impl HostWallClock for PinnedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        self.0
    }
}
