//! `serve` over TLS: the certificate and key (PEM) it presents, and the rule that a server
//! off loopback either speaks TLS or is told explicitly to send tokens and data in plain text.
//! The run loop calls [`ServeTls::accept`] in one place, before HTTP starts.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why `serve` cannot start with the TLS settings given; each names the file or the address.
#[derive(Debug, thiserror::Error)]
pub enum ServeTlsError {
    /// A PEM file cannot be read or holds nothing usable.
    #[error("--tls-{which} {path}: {reason}")]
    File {
        /// `cert` or `key`.
        which: &'static str,
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refuses the pair (a key that does not match the certificate, say).
    #[error("--tls-cert {cert} and --tls-key {key} do not make a usable pair: {reason}")]
    Pair {
        /// The certificate file.
        cert: String,
        /// The key file.
        key: String,
        /// rustls's reason.
        reason: String,
    },
    /// A plain-text listener off loopback, not asked for explicitly.
    #[error(
        "serve on {listen} (not a loopback address) would send tokens and objects in plain text; give \
         --tls-cert and --tls-key, or --insecure-plaintext to accept that"
    )]
    PlaintextOffLoopback {
        /// The address.
        listen: SocketAddr,
    },
}

/// The TLS side of a listener: a rustls acceptor with the server's certificate.
#[derive(Clone)]
pub struct ServeTls {
    acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for ServeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServeTls")
    }
}

impl ServeTls {
    /// A listener presenting `config`.
    pub fn new(config: Arc<rustls::ServerConfig>) -> Self {
        Self { acceptor: tokio_rustls::TlsAcceptor::from(config) }
    }

    /// Reads a certificate chain and its private key (PEM; PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, ServeTlsError> {
        let file_error = |which, path: &Path, reason: String| ServeTlsError::File {
            which,
            path: path.display().to_string(),
            reason,
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| file_error("cert", cert, e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| file_error("cert", cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(file_error("cert", cert, "no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
        }
        // The key's own bytes never appear in an error: only the file name and the parser's kind.
        let private_key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| file_error("key", key, format!("no usable private key ({e})")))?;
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, private_key)
            .map_err(|e| ServeTlsError::Pair {
                cert: cert.display().to_string(),
                key: key.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self::new(Arc::new(config)))
    }

    /// The TLS for `listen`: `tls` when given; none on loopback, or off loopback only with
    /// `insecure_plaintext`.
    pub fn choose(
        tls: Option<ServeTls>,
        insecure_plaintext: bool,
        listen: SocketAddr,
    ) -> Result<Option<Self>, ServeTlsError> {
        match tls {
            Some(tls) => Ok(Some(tls)),
            None if listen.ip().is_loopback() || insecure_plaintext => Ok(None),
            None => Err(ServeTlsError::PlaintextOffLoopback { listen }),
        }
    }

    /// The server side of the handshake on `socket`.
    pub async fn accept(
        &self,
        socket: tokio::net::TcpStream,
    ) -> std::io::Result<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
        self.acceptor.accept(socket).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_off_loopback_must_be_asked_for() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let error = ServeTls::choose(None, false, public).unwrap_err().to_string();
        assert!(
            error.contains("0.0.0.0:8080")
                && error.contains("--tls-cert")
                && error.contains("--insecure-plaintext"),
            "{error}"
        );
        assert!(ServeTls::choose(None, true, public).unwrap().is_none());
        assert!(ServeTls::choose(None, false, loopback).unwrap().is_none());
        assert!(ServeTls::choose(None, false, "[::1]:1".parse().unwrap()).unwrap().is_none());
    }

    #[test]
    fn bad_files_are_named_and_keys_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, "nothing here").unwrap();
        std::fs::write(&key, "KEY-SENTINEL-never-print").unwrap();
        let error = ServeTls::from_pem_files(&cert, &key).unwrap_err().to_string();
        assert!(error.starts_with("--tls-cert ") && error.contains("cert.pem"), "{error}");
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        let error = ServeTls::from_pem_files(&cert, &key).unwrap_err().to_string();
        assert!(error.starts_with("--tls-key ") && !error.contains("SENTINEL"), "{error}");
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        assert!(ServeTls::from_pem_files(&cert, &key).is_ok());
    }
}
