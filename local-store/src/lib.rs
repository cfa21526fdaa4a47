//! An embedded S3-compatible store for the demo and the tests: s3s-fs in-process, on
//! 127.0.0.1 and a free port, in a directory of the caller's choosing, with SigV4 checked
//! against one key pair. It counts the requests it receives, so a test can prove that a denied
//! request never arrived, and numbers its answers with an `x-amz-request-id` as S3 does. With
//! a rustls server configuration it answers over TLS, so the tests prove the HTTPS path too;
//! with a domain it also reads the bucket from the `Host` header (virtual-hosted addressing).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use s3_connector_host::Secret;

/// A running local S3 server. Dropping it stops the server.
pub struct LocalS3 {
    address: SocketAddr,
    access_key_id: String,
    secret_access_key: Secret,
    requests: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    tls: bool,
    /// The name in its endpoint instead of its IP address, when virtual-hosted.
    domain: Option<String>,
    _stop: oneshot::Sender<()>,
}

impl std::fmt::Debug for LocalS3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalS3").field("address", &self.address).finish_non_exhaustive()
    }
}

/// Wraps the S3 service to count requests before they are handled, and to give each answer
/// the request id S3 would.
#[derive(Clone)]
struct Counting {
    inner: S3Service,
    requests: Arc<AtomicU64>,
}

impl Service<http::Request<Incoming>> for Counting {
    type Response = <S3Service as Service<http::Request<Incoming>>>::Response;
    type Error = <S3Service as Service<http::Request<Incoming>>>::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let number = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let answer = Service::call(&self.inner, request);
        Box::pin(async move {
            let mut response = answer.await?;
            let id = http::HeaderValue::from_str(&format!("LOCAL{number:012}"))
                .unwrap_or(http::HeaderValue::from_static("LOCAL"));
            response.headers_mut().insert("x-amz-request-id", id);
            Ok(response)
        })
    }
}

impl LocalS3 {
    /// Starts a server storing its buckets under `root`, accepting only the given key pair.
    /// Must be called inside a Tokio runtime.
    pub async fn start(root: &Path, access_key_id: &str, secret_access_key: Secret) -> std::io::Result<Self> {
        Self::start_with_keys(root, &[(access_key_id, secret_access_key)]).await
    }

    /// Starts a server that accepts each of `keys` (the first is the one
    /// [`LocalS3::access_key_id`] reports): tenants with credentials of their own.
    pub async fn start_with_keys(root: &Path, keys: &[(&str, Secret)]) -> std::io::Result<Self> {
        Self::start_inner(([127, 0, 0, 1], 0).into(), root, keys, None, None).await
    }

    /// Starts a server that answers over TLS with `tls` (its certificate and key), accepting
    /// each of `keys`; its [`LocalS3::endpoint`] is `https://127.0.0.1:PORT`.
    pub async fn start_tls(
        root: &Path,
        keys: &[(&str, Secret)],
        tls: Arc<rustls::ServerConfig>,
    ) -> std::io::Result<Self> {
        Self::start_tls_at(([127, 0, 0, 1], 0).into(), root, keys, tls).await
    }

    /// As [`LocalS3::start_tls`], listening on `address` (`[::1]:0` for an IPv6 endpoint).
    pub async fn start_tls_at(
        address: SocketAddr,
        root: &Path,
        keys: &[(&str, Secret)],
        tls: Arc<rustls::ServerConfig>,
    ) -> std::io::Result<Self> {
        Self::start_inner(address, root, keys, Some(tokio_rustls::TlsAcceptor::from(tls)), None).await
    }

    /// As [`LocalS3::start_tls`], on 127.0.0.1, also taking virtual-hosted requests: a `Host`
    /// of `BUCKET.DOMAIN:PORT` names the bucket. Its [`LocalS3::endpoint`] is
    /// `https://DOMAIN:PORT`, a name a client must resolve to 127.0.0.1 itself (for example
    /// with `crate::network::ResolveOverrides`).
    pub async fn start_tls_virtual_hosted(
        root: &Path,
        keys: &[(&str, Secret)],
        tls: Arc<rustls::ServerConfig>,
        domain: &str,
    ) -> std::io::Result<Self> {
        let acceptor = Some(tokio_rustls::TlsAcceptor::from(tls));
        Self::start_inner(([127, 0, 0, 1], 0).into(), root, keys, acceptor, Some(domain)).await
    }

    async fn start_inner(
        bind: SocketAddr,
        root: &Path,
        keys: &[(&str, Secret)],
        tls: Option<tokio_rustls::TlsAcceptor>,
        domain: Option<&str>,
    ) -> std::io::Result<Self> {
        let Some((access_key_id, secret_access_key)) = keys.first().cloned() else {
            return Err(std::io::Error::other("a local S3 server needs at least one key pair"));
        };
        let fs = s3s_fs::FileSystem::new(root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let mut builder = S3ServiceBuilder::new(fs);
        let mut auth = SimpleAuth::new();
        for (id, secret) in keys {
            auth.register((*id).to_owned(), secret.expose().into());
        }
        builder.set_auth(auth);
        let listener = TcpListener::bind(bind).await?;
        let address = listener.local_addr()?;
        if let Some(domain) = domain {
            // The Host header carries the port, so the base domain does too.
            let host = s3s::host::SingleDomain::new(&format!("{domain}:{}", address.port()))
                .map_err(|e| std::io::Error::other(format!("the domain {domain:?}: {e}")))?;
            builder.set_host(host);
        }
        let requests = Arc::new(AtomicU64::new(0));
        let service = Counting { inner: builder.build(), requests: requests.clone() };
        let (stop, mut stopped) = oneshot::channel::<()>();
        let connections_accepted = Arc::new(AtomicU64::new(0));
        let counter = connections_accepted.clone();
        let secure = tls.is_some();
        tokio::spawn(async move {
            let connections = ConnBuilder::new(TokioExecutor::new());
            loop {
                let socket = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => {
                            counter.fetch_add(1, Ordering::SeqCst);
                            socket
                        }
                        Err(_) => continue,
                    },
                    _ = &mut stopped => break,
                };
                // Without it, an answer written in two segments (head, then body) waits for the
                // client's delayed ACK: ~40 ms on a reused connection, as the benchmarks showed.
                let _ = socket.set_nodelay(true);
                let (connections, service, tls) = (connections.clone(), service.clone(), tls.clone());
                tokio::spawn(async move {
                    // A client that fails the handshake (it does not trust the certificate)
                    // just loses its connection, as with any TLS server.
                    let _ = match tls {
                        Some(acceptor) => match acceptor.accept(socket).await {
                            Ok(stream) => connections.serve_connection(TokioIo::new(stream), service).await,
                            Err(_) => return Ok::<(), Infallible>(()),
                        },
                        None => connections.serve_connection(TokioIo::new(socket), service).await,
                    };
                    Ok::<(), Infallible>(())
                });
            }
        });
        Ok(Self {
            address,
            access_key_id: access_key_id.to_owned(),
            secret_access_key,
            requests,
            connections: connections_accepted,
            tls: secure,
            domain: domain.map(str::to_owned),
            _stop: stop,
        })
    }

    /// The endpoint URL, `http://127.0.0.1:PORT` (`https://` over TLS; `https://DOMAIN:PORT`
    /// when virtual-hosted).
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        match &self.domain {
            Some(domain) => format!("{scheme}://{domain}:{}", self.address.port()),
            None => format!("{scheme}://{}", self.address),
        }
    }

    /// The port it listens on (127.0.0.1), for tests that name it as `localhost`.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The access key id it accepts.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret it accepts.
    pub fn secret_access_key(&self) -> &Secret {
        &self.secret_access_key
    }

    /// How many TCP connections the server has accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// How many HTTP requests reached the server so far.
    pub fn requests_received(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}
