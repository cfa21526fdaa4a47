//! Certificates made at test time, so the suite proves the HTTPS path without a network or a
//! checked-in key: a private CA and a server certificate for `127.0.0.1` and `localhost`, and
//! clients and servers configured from them, and a server configuration that records the
//! names clients asked for (SNI).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A private CA, one server certificate it signed, and both as PEM files.
pub struct TestCa {
    dir: tempfile::TempDir,
    ca_der: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key_der: Vec<u8>,
}

impl TestCa {
    /// A fresh CA and a server certificate for `names` (IP addresses become IP names).
    pub fn new(names: &[&str]) -> Self {
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "s3-connector test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, ca_key).expect("the CA certificate");
        let server_key = KeyPair::generate().expect("a server key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let server = CertificateParams::new(names)
            .expect("server parameters")
            .signed_by(&server_key, &ca)
            .expect("the server certificate");
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("ca.pem written");
        std::fs::write(dir.path().join("server.pem"), server.pem()).expect("server.pem written");
        std::fs::write(dir.path().join("server.key"), server_key.serialize_pem())
            .expect("server.key written");
        Self {
            dir,
            ca_der: ca.der().clone(),
            server_chain: vec![server.der().clone()],
            server_key_der: server_key.serialize_der(),
        }
    }

    /// A CA and a certificate for `127.0.0.1` and `localhost`.
    pub fn loopback() -> Self {
        Self::new(&["127.0.0.1", "localhost"])
    }

    /// The CA certificate's PEM file (what `--ca-bundle` takes).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server certificate's PEM file (`serve --tls-cert`).
    pub fn cert_file(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server key's PEM file (`serve --tls-key`).
    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A rustls server configuration presenting the server certificate.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone()));
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(self.server_chain.clone(), key)
            .expect("a valid server certificate and key");
        Arc::new(config)
    }

    /// [`TestCa::server_config`] that also records the server name (SNI) of every client
    /// hello it answers, in order; a hello without SNI is recorded as `""`.
    pub fn server_config_recording_sni(&self) -> (Arc<rustls::ServerConfig>, SniLog) {
        let mut config = Arc::unwrap_or_clone(self.server_config());
        let log = SniLog::default();
        config.cert_resolver =
            Arc::new(RecordingResolver { inner: config.cert_resolver.clone(), log: log.clone() });
        (Arc::new(config), log)
    }

    /// A rustls client configuration that trusts this CA only.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("the CA is a valid anchor");
        Arc::new(rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
    }
}

/// The server names clients asked a server for in their TLS hellos.
#[derive(Debug, Clone, Default)]
pub struct SniLog(Arc<Mutex<Vec<String>>>);

impl SniLog {
    /// Every name so far, in order.
    pub fn names(&self) -> Vec<String> {
        self.0.lock().expect("the SNI log is not poisoned").clone()
    }
}

/// A certificate resolver that writes down the SNI of each hello before the real one answers.
#[derive(Debug)]
struct RecordingResolver {
    inner: Arc<dyn rustls::server::ResolvesServerCert>,
    log: SniLog,
}

impl rustls::server::ResolvesServerCert for RecordingResolver {
    fn resolve(&self, hello: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let name = hello.server_name().unwrap_or_default().to_owned();
        self.log.0.lock().expect("the SNI log is not poisoned").push(name);
        self.inner.resolve(hello)
    }
}

/// One request over a fresh TLS connection to `address` that trusts `client` (for example
/// [`TestCa::client_config`]), checking the certificate for `name`: status and body.
pub async fn https_call(
    client: Arc<rustls::ClientConfig>,
    address: std::net::SocketAddr,
    name: &str,
    request: http::Request<crate::http_client::Body>,
) -> Result<(u16, hyper::body::Bytes), String> {
    use http_body_util::BodyExt;
    let tcp = tokio::net::TcpStream::connect(address).await.map_err(|e| format!("connect: {e}"))?;
    let name = rustls::pki_types::ServerName::try_from(name.to_owned()).map_err(|e| format!("name: {e}"))?;
    let tls =
        tokio_rustls::TlsConnector::from(client).connect(name, tcp).await.map_err(|e| format!("tls: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|e| format!("send: {e}"))?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
    Ok((status, body))
}
