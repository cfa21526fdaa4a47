//! Whom the host's TLS clients trust: the system's trust store (rustls-native-certs), the
//! webpki roots as a fallback for systems without one, and a private CA bundle when one is
//! named (MinIO, Ceph, appliances behind a company CA). One [`Trust`] is built per connection
//! and shared by every request of it; the system roots are read once per process.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::ca_bundle::CaBundle;

/// A CA bundle that cannot be used; each names the file and where it was named.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file cannot be read.
    #[error("cannot read the CA bundle {path} (from {source_name}): {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// Where it was named.
        source_name: String,
        /// The system's reason.
        reason: String,
    },
    /// The file holds no PEM certificate.
    #[error(
        "the CA bundle {path} (from {source_name}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    )]
    NoCertificate {
        /// The file.
        path: String,
        /// Where it was named.
        source_name: String,
    },
    /// A certificate in the file is not a usable trust anchor.
    #[error("the CA bundle {path} (from {source_name}) has a certificate rustls cannot use: {reason}")]
    BadCertificate {
        /// The file.
        path: String,
        /// Where it was named.
        source_name: String,
        /// Why.
        reason: String,
    },
}

/// The trust of TLS connections: a rustls client configuration and a number that tells
/// connections made with it from those of another trust (the connection pool keys on it, so a
/// connection verified against one CA is never handed to a client that trusts another).
#[derive(Clone)]
pub struct Trust {
    config: Arc<rustls::ClientConfig>,
    id: u64,
    bundle: Option<CaBundle>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust").field("id", &self.id).field("bundle", &self.bundle).finish()
    }
}

impl PartialEq for Trust {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Trust {}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The system's roots and the webpki roots, read once: the store is the machine's, and reading
/// it (hundreds of files) for every connector would cost more than any request.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.into() };
        // Certificates the system has but rustls cannot parse are skipped, as browsers do;
        // errors reading the store leave the webpki roots.
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        roots
    })
}

fn config(roots: RootCertStore) -> Arc<rustls::ClientConfig> {
    Arc::new(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
}

impl Trust {
    /// The system's trust store and the webpki roots; one shared value per process.
    pub fn system() -> Self {
        static SYSTEM: OnceLock<Trust> = OnceLock::new();
        SYSTEM
            .get_or_init(|| Self { config: config(system_roots().clone()), id: next_id(), bundle: None })
            .clone()
    }

    /// The system's roots plus the CA certificates of `bundle` (PEM).
    pub fn with_ca_bundle(bundle: CaBundle) -> Result<Self, TrustError> {
        let pem = std::fs::read(&bundle.path).map_err(|e| TrustError::Unreadable {
            path: bundle.path.display().to_string(),
            source_name: bundle.source.to_string(),
            reason: e.to_string(),
        })?;
        let extra = Self::parse_pem(&pem, &bundle.path, &bundle.source.to_string())?;
        let mut roots = system_roots().clone();
        for certificate in extra {
            roots.add(certificate).map_err(|e| TrustError::BadCertificate {
                path: bundle.path.display().to_string(),
                source_name: bundle.source.to_string(),
                reason: e.to_string(),
            })?;
        }
        Ok(Self { config: config(roots), id: next_id(), bundle: Some(bundle) })
    }

    fn parse_pem(
        pem: &[u8],
        path: &Path,
        source_name: &str,
    ) -> Result<Vec<CertificateDer<'static>>, TrustError> {
        let certificates: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
        let certificates = certificates.map_err(|e| TrustError::BadCertificate {
            path: path.display().to_string(),
            source_name: source_name.to_owned(),
            reason: e.to_string(),
        })?;
        if certificates.is_empty() {
            return Err(TrustError::NoCertificate {
                path: path.display().to_string(),
                source_name: source_name.to_owned(),
            });
        }
        Ok(certificates)
    }

    /// `AWS_CA_BUNDLE` through `lookup` if set, else the system's trust: what credential
    /// providers built from the environment use.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, TrustError> {
        match CaBundle::resolve(None, None, lookup, None) {
            Some(bundle) => Self::with_ca_bundle(bundle),
            None => Ok(Self::system()),
        }
    }

    /// The rustls configuration of clients with this trust.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.config.clone()
    }

    /// The number that tells this trust from others in the same process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The private CA bundle, if one was added.
    pub fn ca_bundle(&self) -> Option<&CaBundle> {
        self.bundle.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::CaBundleSource;

    #[test]
    fn bad_bundles_name_the_file_and_where_it_was_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = CaBundle { path: dir.path().join("nope.pem"), source: CaBundleSource::Environment };
        let error = Trust::with_ca_bundle(missing).unwrap_err().to_string();
        assert!(
            error.starts_with("cannot read the CA bundle ")
                && error.contains("nope.pem (from AWS_CA_BUNDLE)"),
            "{error}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error =
            Trust::with_ca_bundle(CaBundle { path: empty, source: CaBundleSource::Flag }).unwrap_err();
        assert!(matches!(error, TrustError::NoCertificate { .. }), "{error}");
        assert!(error.to_string().contains("(from --ca-bundle) holds no PEM certificate"), "{error}");
    }

    #[test]
    fn each_bundle_is_a_trust_of_its_own_and_the_system_one_is_shared() {
        assert_eq!(Trust::system(), Trust::system());
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).unwrap().pem();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, pem).unwrap();
        let bundle = CaBundle { path, source: CaBundleSource::Library };
        let a = Trust::with_ca_bundle(bundle.clone()).unwrap();
        let b = Trust::with_ca_bundle(bundle).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, Trust::system());
    }
}
