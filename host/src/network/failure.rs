//! What went wrong on the network, in words a person can act on: which host, which timeout,
//! what to try. The plugin only sees a `wasi:http` error code; the host keeps the full story
//! here and reports it instead of the plugin's generic transport error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A network failure of one request, naming the host (never a path, query or secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkFailure {
    /// The server's certificate chain does not lead to a trusted CA.
    #[error(
        "the TLS certificate of {host} is not trusted ({detail}); if a private CA signed it, pass that CA \
         with --ca-bundle FILE (or AWS_CA_BUNDLE, or ca_bundle in the profile or --config)"
    )]
    UntrustedCertificate {
        /// `host:port`.
        host: String,
        /// rustls's reason.
        detail: String,
    },
    /// The certificate is trusted but made out for other names.
    #[error(
        "the TLS certificate of {host} is not valid for that name ({detail}); check the endpoint's host name, \
         or use a name the certificate lists"
    )]
    NameMismatch {
        /// `host:port`.
        host: String,
        /// rustls's reason.
        detail: String,
    },
    /// Any other TLS failure (handshake, protocol, expired certificate).
    #[error("the TLS handshake with {host} failed: {detail}")]
    Tls {
        /// `host:port`.
        host: String,
        /// rustls's reason.
        detail: String,
    },
    /// The TCP connection failed (refused, unreachable, the name does not resolve).
    #[error("cannot connect to {host}: {detail}; check the endpoint and that the server is running")]
    Connect {
        /// `host:port`.
        host: String,
        /// The system's reason.
        detail: String,
    },
    /// The proxy cannot be reached.
    #[error(
        "cannot connect to the proxy {proxy}: {detail}; check HTTPS_PROXY / HTTP_PROXY / --proxy, or list the host in NO_PROXY"
    )]
    ProxyConnect {
        /// The proxy, its password redacted.
        proxy: String,
        /// The system's reason.
        detail: String,
    },
    /// The proxy answered `CONNECT` with something else than 2xx.
    #[error(
        "the proxy {proxy} refused to connect to {host} (HTTP {status}); check the proxy's credentials and \
         rules, or list the host in NO_PROXY"
    )]
    ProxyRefused {
        /// The proxy, its password redacted.
        proxy: String,
        /// `host:port` asked for.
        host: String,
        /// The proxy's status (0: not an HTTP answer).
        status: u16,
    },
    /// The connection (TCP and TLS handshake) took longer than the connect timeout.
    #[error(
        "no connection to {host} within the connect timeout ({} s; --cli-connect-timeout)",
        after.as_secs_f32()
    )]
    ConnectTimeout {
        /// `host:port`.
        host: String,
        /// The timeout.
        after: Duration,
    },
    /// The answer, or its next bytes, took longer than the read timeout.
    #[error(
        "{host} sent nothing for the read timeout ({} s; --cli-read-timeout)",
        after.as_secs_f32()
    )]
    ReadTimeout {
        /// `host:port`.
        host: String,
        /// The timeout.
        after: Duration,
    },
}

impl NetworkFailure {
    /// A failed TCP connect to `host`, in plain words for the common causes.
    pub fn from_connect(host: &str, error: &std::io::Error) -> Self {
        use std::io::ErrorKind;
        let detail = match error.kind() {
            ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => "unreachable".to_owned(),
            // getaddrinfo's failures carry no kind of their own.
            _ if error.to_string().contains("lookup address") => "the name does not resolve".to_owned(),
            _ => error.to_string(),
        };
        NetworkFailure::Connect { host: host.to_owned(), detail }
    }

    /// Whether a timeout fired (as opposed to a failure the server or network reported).
    pub fn is_timeout(&self) -> bool {
        matches!(self, NetworkFailure::ConnectTimeout { .. } | NetworkFailure::ReadTimeout { .. })
    }

    /// A failed TLS handshake with `host`, sorted by what a person would do about it.
    pub fn from_tls(host: &str, error: &std::io::Error) -> Self {
        use rustls::CertificateError as Certificate;
        let host = host.to_owned();
        match error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            Some(rustls::Error::InvalidCertificate(certificate)) => match certificate {
                Certificate::UnknownIssuer => {
                    NetworkFailure::UntrustedCertificate { host, detail: "unknown issuer".to_owned() }
                }
                Certificate::BadSignature | Certificate::UnhandledCriticalExtension => {
                    NetworkFailure::UntrustedCertificate { host, detail: format!("{certificate:?}") }
                }
                Certificate::NotValidForName | Certificate::NotValidForNameContext { .. } => {
                    NetworkFailure::NameMismatch {
                        host,
                        detail: "the name is not among those it lists".to_owned(),
                    }
                }
                other => NetworkFailure::Tls { host, detail: format!("certificate: {other:?}") },
            },
            Some(other) => NetworkFailure::Tls { host, detail: other.to_string() },
            None => NetworkFailure::Tls { host, detail: error.to_string() },
        }
    }
}

/// The first network failure of one call, shared between the egress guard and the requests it
/// sends (which finish after the guard's hook has returned).
#[derive(Debug, Clone, Default)]
pub struct FailureLog(Arc<Mutex<Option<NetworkFailure>>>);

impl FailureLog {
    /// Keeps `failure` unless an earlier one is kept: the first cause is the one to fix.
    pub fn record(&self, failure: NetworkFailure) {
        if let Ok(mut first) = self.0.lock() {
            first.get_or_insert(failure);
        }
    }

    /// The first failure recorded, if any.
    pub fn first(&self) -> Option<NetworkFailure> {
        self.0.lock().ok().and_then(|first| first.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connect_reads_as_one_sentence() {
        let failure =
            NetworkFailure::ProxyRefused { proxy: "http://p:1".into(), host: "h:443".into(), status: 407 };
        assert_eq!(
            failure.to_string(),
            "the proxy http://p:1 refused to connect to h:443 (HTTP 407); check the proxy's credentials and rules, \
             or list the host in NO_PROXY"
        );
    }
}
