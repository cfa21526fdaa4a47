//! How the host reaches S3 over a real network: whom it trusts for TLS, how long it waits, which
//! proxy and which addresses it dials, and what it tells a person when the network fails. Kept
//! apart from `runtime/` so that the CLI and embedders configure it through
//! [`crate::Connection`] without touching the sandbox.

pub mod ca_bundle;
pub mod failure;
pub mod http_client;
pub mod proxy;
pub mod resolve;
pub mod trust;

use std::time::Duration;

pub use ca_bundle::{CaBundle, CaBundleSource};
pub use failure::NetworkFailure;
pub use proxy::{Proxy, ProxyError, ProxySettings};
pub use resolve::{ResolveEntry, ResolveError, ResolveOverrides};
pub use trust::{Trust, TrustError};

/// How long a TCP connection and its TLS handshake may take, unless set otherwise: the time
/// the host waited before this setting existed.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the host waits for an answer to begin, and then for each next piece of it, unless
/// set otherwise. Counted from the start of sending, so it bounds a part's upload too.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// The network settings of a connection: trust, timeouts, proxies and resolver overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSettings {
    /// Whom TLS connections trust.
    pub trust: Trust,
    /// The connect timeout (TCP and TLS handshake).
    pub connect_timeout: Duration,
    /// The read timeout (the answer's head, and between its bytes).
    pub read_timeout: Duration,
    /// The proxies requests go through, if any.
    pub proxy: ProxySettings,
    /// Addresses to dial for some host names instead of the system resolver's (curl's
    /// `--resolve`); none by default.
    pub resolve: ResolveOverrides,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        Self {
            trust: Trust::system(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            proxy: ProxySettings::default(),
            resolve: ResolveOverrides::default(),
        }
    }
}
