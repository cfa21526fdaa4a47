//! How much of the server an unauthenticated client can hold, and for how long.
//!
//! `serve` faces clients before it knows who they are: without these bounds, idle and half-sent
//! requests (no token needed) kept a core busy, held every file descriptor and grew memory
//! without end, while authenticated requests went unanswered. Tenants are bounded against each
//! other too: a share of the connections each, and a time limit on a stalled request body.

use std::time::Duration;

/// The server's bounds on connections. [`ServeLimits::default`] suits a server behind a load
/// balancer; every field can be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long a shutdown waits for the requests in flight before it gives up on them.
    pub drain_timeout: Duration,
    /// A request's head must arrive in full within this time, and a kept-alive connection
    /// waiting for its next request is closed after it (hyper's header-read timer covers both).
    pub header_read_timeout: Duration,
    /// Connections open at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Connections open at once that have not yet sent a request with the token. A new
    /// connection over this cap closes the oldest unauthenticated one, so that idle or slow
    /// clients cannot hold the door shut for those that authenticate.
    pub max_unauthenticated: usize,
    /// A tenant's share of `max_connections` (`None`: all of them with one tenant, half with
    /// more). Past it, the tenant's own oldest idle connection is closed, or the request refused
    /// (429) when all of them are busy.
    pub max_connections_per_tenant: Option<usize>,
    /// A request body with no byte for this long fails: the client is answered 408 and the
    /// sandbox reading it is freed (`--body-read-timeout`).
    pub body_read_timeout: Duration,
    /// The largest request head read (hyper's header size limit), bounding what a client without
    /// the token can make a connection hold.
    pub max_header_bytes: usize,
}

/// How long a request body may go without a byte by default.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a shutdown waits for requests in flight by default.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            drain_timeout: DRAIN_TIMEOUT,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_unauthenticated: 256,
            max_connections_per_tenant: None,
            body_read_timeout: BODY_READ_TIMEOUT,
            max_header_bytes: 64 * 1024,
        }
    }
}

impl ServeLimits {
    /// The limits with their bounds enforced: at least one connection of each kind, and a head
    /// buffer no smaller than hyper's minimum (8 KiB).
    pub fn sane(self) -> Self {
        Self {
            max_connections: self.max_connections.max(1),
            max_unauthenticated: self.max_unauthenticated.clamp(1, self.max_connections.max(1)),
            max_header_bytes: self.max_header_bytes.max(8 * 1024),
            body_read_timeout: self.body_read_timeout.max(Duration::from_millis(100)),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_kept_within_what_the_server_can_honour() {
        let table = [
            ((0, 0, 0), (1, 1, 8 * 1024)),
            ((10, 50, 1 << 20), (10, 10, 1 << 20)),
            ((1024, 256, 64 * 1024), (1024, 256, 64 * 1024)),
        ];
        for ((connections, unauthenticated, header), expected) in table {
            let limits = ServeLimits {
                max_connections: connections,
                max_unauthenticated: unauthenticated,
                max_header_bytes: header,
                ..ServeLimits::default()
            }
            .sane();
            assert_eq!(
                (limits.max_connections, limits.max_unauthenticated, limits.max_header_bytes),
                expected
            );
        }
    }
}
