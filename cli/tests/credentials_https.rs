//! The credential providers reach their endpoints with the same trust as S3: STS over HTTPS
//! behind a private CA works with that CA (`with_trust`, or `AWS_CA_BUNDLE` for providers built
//! from the environment), and fails without it with the S3 path's words.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use s3_connector_host::credentials::RoleSessionSettings;
use s3_connector_host::credentials::{AssumeRoleProvider, WebIdentityProvider, time};
use s3_connector_host::network::{CaBundle, CaBundleSource, ProxySettings, Trust};
use s3_connector_host::{CredentialsProvider, Secret, StaticCredentials};

/// An STS stand-in over TLS answering every request with credentials for `action`; returns
/// its address and how many requests it answered.
async fn tls_sts(config: Arc<rustls::ServerConfig>, action: &'static str) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let answered = Arc::new(AtomicU64::new(0));
    let counter = answered.clone();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, counter) = (acceptor.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(socket).await else { return };
                let service = hyper::service::service_fn(move |_request| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let expiry = time::format_rfc3339(SystemTime::now() + Duration::from_secs(3600));
                    let body = format!(
                        "<{action}Response><{action}Result><Credentials><AccessKeyId>ASIATLS</AccessKeyId>\
                         <SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>\
                         <Expiration>{expiry}</Expiration></Credentials></{action}Result></{action}Response>"
                    );
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from(body))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, answered)
}

/// A CA (PEM in `dir/ca.pem`) and a server configuration for 127.0.0.1 it signed.
fn ca(dir: &std::path::Path) -> (std::path::PathBuf, Arc<rustls::ServerConfig>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, ca.pem()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![server.der().clone()], key);
    (path, Arc::new(config.unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_over_https_uses_the_connections_trust() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, config) = ca(dir.path());
    let (address, answered) = tls_sts(config, "AssumeRole").await;
    let source = Arc::new(StaticCredentials::new("AKSOURCE", Secret::new("source-secret"), None));
    let role = || {
        AssumeRoleProvider::new(source.clone(), "arn:aws:iam::123456789012:role/r")
            .unwrap()
            .with_endpoint(&format!("https://{address}"))
            .unwrap()
    };

    // The system's trust only: refused before any request, in the S3 path's words.
    let error = role().credentials().await.unwrap_err().to_string();
    assert!(
        error.contains(&address) && error.contains("not trusted") && error.contains("--ca-bundle"),
        "{error}"
    );
    assert_eq!(answered.load(Ordering::SeqCst), 0);

    let trust =
        Trust::with_ca_bundle(CaBundle { path: ca_file.clone(), source: CaBundleSource::Library }).unwrap();
    let credentials = role().with_trust(trust).credentials().await.unwrap();
    assert_eq!((credentials.access_key_id.as_str(), answered.load(Ordering::SeqCst)), ("ASIATLS", 1));

    // Web identity from the environment takes AWS_CA_BUNDLE.
    let (address, answered) = tls_sts(ca(dir.path()).1, "AssumeRoleWithWebIdentity").await;
    // (a fresh CA overwrote ca.pem: the server and the file agree again)
    let token = dir.path().join("token");
    std::fs::write(&token, "header.payload.signature").unwrap();
    let env = |name: &str| match name {
        "AWS_WEB_IDENTITY_TOKEN_FILE" => Some(token.display().to_string()),
        "AWS_ROLE_ARN" => Some("arn:aws:iam::123456789012:role/w".to_owned()),
        "AWS_ENDPOINT_URL_STS" => Some(format!("https://{address}")),
        "AWS_CA_BUNDLE" => Some(ca_file.display().to_string()),
        _ => None,
    };
    let provider = WebIdentityProvider::from_env(&env).unwrap().unwrap();
    let credentials = provider.credentials().await.unwrap();
    assert_eq!((credentials.access_key_id.as_str(), answered.load(Ordering::SeqCst)), ("ASIATLS", 1));
}

/// A `CONNECT` proxy that tunnels to whatever it is asked and counts the tunnels.
async fn connect_proxy() -> (String, Arc<AtomicU64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let tunnels = Arc::new(AtomicU64::new(0));
    let counter = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let Ok(byte) = client.read_u8().await else { return };
                    head.push(byte);
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let Some(target) = text.strip_prefix("CONNECT ").and_then(|t| t.split(' ').next()) else {
                    return;
                };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (address, tunnels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_goes_through_the_proxy_like_s3() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, config) = ca(dir.path());
    let (sts, answered) = tls_sts(config, "AssumeRole").await;
    let (proxy, tunnels) = connect_proxy().await;
    let lookup = |name: &str| (name == "HTTPS_PROXY").then(|| format!("http://{proxy}"));
    let proxies = ProxySettings::resolve(None, &lookup).unwrap();
    let trust = Trust::with_ca_bundle(CaBundle { path: ca_file, source: CaBundleSource::Library }).unwrap();
    let source = Arc::new(StaticCredentials::new("AKSOURCE", Secret::new("source-secret"), None));
    let role = AssumeRoleProvider::new(source, "arn:aws:iam::123456789012:role/r")
        .unwrap()
        .with_endpoint(&format!("https://{sts}"))
        .unwrap()
        .with_trust(trust)
        .with_proxies(proxies);
    let credentials = role.credentials().await.unwrap();
    assert_eq!(credentials.access_key_id, "ASIATLS");
    assert_eq!((tunnels.load(Ordering::SeqCst), answered.load(Ordering::SeqCst)), (1, 1));
}
