//! Shared setup of the end-to-end suite: a real S3 server (s3s-fs, in-process, on
//! 127.0.0.1:0 with its own temporary directory and keys) and connectors pointed at it.

pub mod connect_proxy;
pub mod fault_proxy;
pub mod http_client;
pub mod otlp_collector;
pub mod serving;
pub mod tls;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::distr::{Alphanumeric, SampleString};
use s3_connector_host::network::{CaBundle, CaBundleSource, NetworkSettings, ResolveOverrides, Trust};
use s3_connector_host::{Connection, Connector, ConnectorBuilder, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;

/// A running server with its data directory.
pub struct TestServer {
    /// The server.
    pub s3: LocalS3,
    dir: tempfile::TempDir,
    /// Over TLS: the CA that signed the server's certificate.
    pub ca: Option<tls::TestCa>,
    /// Virtual-hosted: the endpoint's domain, which clients resolve to 127.0.0.1 themselves.
    pub domain: Option<String>,
}

impl TestServer {
    /// Starts a server with fresh random keys.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (access_key, secret) = keys();
        let s3 = LocalS3::start(dir.path(), &access_key, secret).await.expect("the server starts");
        Self { s3, dir, ca: None, domain: None }
    }

    /// Starts a server over TLS (`https://127.0.0.1:PORT`) with a certificate for `127.0.0.1`
    /// and `localhost` from a fresh private CA; [`TestServer::connection`] trusts that CA.
    pub async fn start_tls() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (access_key, secret) = keys();
        let ca = tls::TestCa::loopback();
        let s3 = LocalS3::start_tls(dir.path(), &[(&access_key, secret)], ca.server_config())
            .await
            .expect("the server starts");
        Self { s3, dir, ca: Some(ca), domain: None }
    }

    /// Starts a server over TLS at `https://DOMAIN:PORT` that takes virtual-hosted requests
    /// (`BUCKET.DOMAIN`), with a certificate for `certificate_names` from a fresh private CA,
    /// recording the SNI of every TLS hello. [`TestServer::network`] trusts that CA and
    /// resolves `DOMAIN` and `*.DOMAIN` on the server's port to 127.0.0.1, and nothing else:
    /// no test reaches beyond loopback.
    pub async fn start_tls_virtual_hosted(domain: &str, certificate_names: &[&str]) -> (Self, tls::SniLog) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (access_key, secret) = keys();
        let ca = tls::TestCa::new(certificate_names);
        let (config, sni) = ca.server_config_recording_sni();
        let s3 = LocalS3::start_tls_virtual_hosted(dir.path(), &[(&access_key, secret)], config, domain)
            .await
            .expect("the server starts");
        (Self { s3, dir, ca: Some(ca), domain: Some(domain.to_owned()) }, sni)
    }

    /// The network settings of a client of this server: over TLS, trusting its CA; virtual-hosted,
    /// resolving its domain to 127.0.0.1.
    pub fn network(&self) -> NetworkSettings {
        let resolve = match &self.domain {
            Some(domain) => {
                let port = self.s3.port();
                ResolveOverrides::parse(
                    &[format!("{domain}:{port}:127.0.0.1"), format!("*.{domain}:{port}:127.0.0.1")],
                    "the test server",
                )
                .expect("valid overrides")
            }
            None => ResolveOverrides::default(),
        };
        NetworkSettings { resolve, ..self.trust_only() }
    }

    fn trust_only(&self) -> NetworkSettings {
        match &self.ca {
            Some(ca) => {
                let bundle = CaBundle { path: ca.ca_file(), source: CaBundleSource::Library };
                NetworkSettings {
                    trust: Trust::with_ca_bundle(bundle).expect("the test CA loads"),
                    ..Default::default()
                }
            }
            None => NetworkSettings::default(),
        }
    }

    /// The directory the server stores buckets in.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where the server keeps `bucket/key` on disk.
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.dir.path().join(bucket).join(key)
    }

    /// The connection settings for this server.
    pub fn connection(&self) -> Connection {
        Connection::resolve(Some(&self.s3.endpoint()), Some("us-east-1"), true, |_| None)
            .expect("a valid endpoint")
            .with_network(self.network())
    }

    /// How many TCP connections the server has accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.s3.connections_accepted()
    }

    /// A connector with the server's keys and `policy`.
    pub fn connector(&self, policy: Policy) -> Connector {
        self.builder(policy).build().expect("the plugin loads")
    }

    /// The settings of a connector with the server's keys and `policy`, for a test to change.
    pub fn builder(&self, policy: Policy) -> ConnectorBuilder {
        Connector::builder(self.connection(), policy, Arc::new(self.credentials()))
    }

    /// The server's keys.
    fn credentials(&self) -> StaticCredentials {
        StaticCredentials::new(self.s3.access_key_id(), self.s3.secret_access_key().clone(), None)
    }

    /// How many requests the server has received so far (to prove a denial sent nothing).
    pub fn requests_received(&self) -> u64 {
        self.s3.requests_received()
    }

    /// A connector with the server's keys and `policy`, pointed at `endpoint` (a proxy in
    /// front of the server).
    pub fn connector_via(&self, endpoint: &str, policy: Policy) -> Connector {
        self.builder_via(endpoint, policy).build().expect("the plugin loads")
    }

    /// The settings of [`TestServer::connector_via`], for a test to change.
    pub fn builder_via(&self, endpoint: &str, policy: Policy) -> ConnectorBuilder {
        let connection =
            Connection::resolve(Some(endpoint), Some("us-east-1"), true, |_| None).expect("a valid endpoint");
        Connector::builder(connection, policy, Arc::new(self.credentials()))
    }

    /// A connector that may do everything.
    pub fn admin(&self) -> Connector {
        self.connector(Policy::allow_all())
    }
}

/// Fresh random keys for a test server.
fn keys() -> (String, Secret) {
    let access_key = format!("AKTEST{}", Alphanumeric.sample_string(&mut rand::rng(), 14).to_uppercase());
    (access_key, Secret::new(Alphanumeric.sample_string(&mut rand::rng(), 40)))
}

/// A policy from `--allow` flags.
pub fn policy(flags: &[&str]) -> Policy {
    Policy::from_allow_flags(flags).expect("valid test policy")
}

/// Deterministic pseudo-random bytes, so that failures reproduce.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}
