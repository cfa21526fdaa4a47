//! Keep-alive connections to S3, shared by every instance in the process.
//!
//! wasmtime-wasi-http's default sender opens a new TCP (and TLS) connection for every request;
//! with a fresh instance per call, every call would pay for that. The egress guard sends
//! through this pool instead: an HTTP/1.1 connection goes back to the pool once its response
//! has been read to the end, at most [`MAX_IDLE_PER_HOST`] per scheme and authority, each for
//! at most [`IDLE_TIMEOUT`]. A pooled connection the server has closed meanwhile is detected
//! when the request cannot be written, and the request goes out on a fresh one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use crate::network::failure::FailureLog;
use crate::network::{NetworkFailure, Proxy, ProxySettings, ResolveOverrides, Trust};

/// Idle connections kept per scheme and authority.
pub const MAX_IDLE_PER_HOST: usize = 64;
/// How long an idle connection is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The key of a pool: TLS or not, `host:port`, the trust the connection was verified with (a
/// connection checked against one CA is never handed to a client trusting another), the
/// proxy it goes through, and the addresses a resolver override dials instead of the name's.
type Key = (bool, String, u64, Option<String>, Option<Vec<SocketAddr>>);

struct Idle {
    sender: SendRequest<WasiBody>,
    since: Instant,
}

#[derive(Default)]
struct Pool {
    idle: Mutex<HashMap<Key, Vec<Idle>>>,
}

fn pool() -> &'static Arc<Pool> {
    static POOL: OnceLock<Arc<Pool>> = OnceLock::new();
    POOL.get_or_init(|| Arc::new(Pool::default()))
}

impl Pool {
    /// A live idle connection for `key`, if any; stale ones are dropped on the way.
    fn take(&self, key: &Key) -> Option<SendRequest<WasiBody>> {
        let mut idle = self.idle.lock().ok()?;
        let list = idle.get_mut(key)?;
        while let Some(entry) = list.pop() {
            if entry.since.elapsed() < IDLE_TIMEOUT && entry.sender.is_ready() && !entry.sender.is_closed() {
                return Some(entry.sender);
            }
        }
        None
    }

    fn put(&self, key: Key, sender: SendRequest<WasiBody>) {
        let Ok(mut idle) = self.idle.lock() else { return };
        let list = idle.entry(key).or_default();
        list.retain(|entry| entry.since.elapsed() < IDLE_TIMEOUT && !entry.sender.is_closed());
        if list.len() < MAX_IDLE_PER_HOST {
            list.push(Idle { sender, since: Instant::now() });
        }
    }
}

/// The worker future the hook returns: the pool drives its connections on tasks of its own.
pub type Worker = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

/// Sends `request` (absolute URI) over a pooled or new connection, with `options`' timeouts,
/// verifying TLS servers with `trust`, through the proxy `proxies` choose for it, dialing the
/// addresses `resolve` gives for the host dialed (the server's or the proxy's) instead of the
/// system resolver's; a failure is recorded in `failures` in words a person can act on, and
/// returned to the guest as its `wasi:http` error.
pub async fn send(
    mut request: http::Request<WasiBody>,
    options: RequestOptions,
    trust: &Trust,
    proxies: &ProxySettings,
    resolve: &ResolveOverrides,
    failures: &FailureLog,
) -> Result<(http::Response<WasiBody>, Worker), HttpError> {
    let uri = request.uri().clone();
    let authority = uri.authority().ok_or(HttpError::HttpRequestUriInvalid)?;
    let tls = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let proxy = proxies.for_target(tls, host).cloned();
    // Through a proxy, only the proxy's own name is dialed; the target's is the proxy's to resolve.
    let dialed = match &proxy {
        Some(proxy) => {
            let (host, port) = split_authority(&proxy.authority);
            resolve.lookup(host, port)
        }
        None => resolve.lookup(host, port),
    };
    let key: Key =
        (tls, format!("{}:{port}", authority.host()), trust.id(), proxy.as_ref().map(Proxy::display), dialed);
    match (&proxy, tls) {
        // Plain HTTP through a proxy: the request line keeps the absolute URI.
        (Some(proxy), false) => {
            if let Some(value) = proxy.authorization() {
                request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, value);
            }
        }
        // On the wire, the request line carries only the path and query.
        _ => {
            *request.uri_mut() = uri.path_and_query().map_or_else(
                || http::Uri::from_static("/"),
                |p| http::Uri::try_from(p.as_str()).unwrap_or_else(|_| http::Uri::from_static("/")),
            );
        }
    }
    let first_byte = options.first_byte_timeout.unwrap_or(Duration::from_secs(600));
    let between_bytes =
        options.between_bytes_timeout.unwrap_or(Duration::from_secs(600)).max(Duration::from_nanos(1));

    let pool = pool().clone();
    let mut request = Some(request);
    let mut response = None;
    // At most two tries: a pooled connection that turns out closed, then a fresh one.
    for fresh in [false, true] {
        let mut sender = match (fresh, pool.take(&key)) {
            (false, Some(sender)) => sender,
            (false, None) => continue,
            (true, _) => {
                let timeout = options.connect_timeout.unwrap_or(Duration::from_secs(600));
                connect(&key, timeout, trust, proxy.as_ref()).await.map_err(|(failure, error)| {
                    failures.record(failure);
                    error
                })?
            }
        };
        let Some(message) = request.take() else { break };
        let sent =
            tokio::time::timeout(first_byte, sender.try_send_request(message)).await.map_err(|_| {
                failures.record(NetworkFailure::ReadTimeout { host: key.1.clone(), after: first_byte });
                HttpError::ConnectionReadTimeout
            })?;
        match sent {
            Ok(answer) => {
                response = Some(answer);
                let pool = pool.clone();
                let key = key.clone();
                // Back to the pool once the response has been read to its end.
                tokio::spawn(async move {
                    if sender.ready().await.is_ok() {
                        pool.put(key, sender);
                    }
                });
                break;
            }
            Err(mut error) => match error.take_message() {
                // Not written at all: the pooled connection was closed; try a fresh one.
                Some(message) if !fresh => request = Some(message),
                _ => return Err(HttpError::from(error.into_error())),
            },
        }
    }
    let response = response.ok_or(HttpError::ConnectionTerminated)?;
    let mut timer = tokio::time::interval(between_bytes);
    timer.reset();
    let (host, failures) = (key.1, failures.clone());
    let response = response
        .map(|incoming| TimedBody { incoming, timer, host, after: between_bytes, failures }.boxed_unsync());
    Ok((response, Box::new(async { Ok(()) }) as Worker))
}

/// Opens a connection (through `proxy` if given; TLS verified with `trust` for `https`) and
/// starts its driver task. A failure comes with what the host reports and what the guest sees.
async fn connect(
    (tls, authority, _, _, dialed): &Key,
    timeout: Duration,
    trust: &Trust,
    proxy: Option<&Proxy>,
) -> Result<SendRequest<WasiBody>, (NetworkFailure, HttpError)> {
    let timed_out = || {
        (
            NetworkFailure::ConnectTimeout { host: authority.clone(), after: timeout },
            HttpError::ConnectionTimeout,
        )
    };
    let dial = proxy.map_or(authority.as_str(), |proxy| proxy.authority.as_str());
    let tcp = async {
        match dialed {
            Some(addresses) => TcpStream::connect(addresses.as_slice()).await,
            None => TcpStream::connect(dial).await,
        }
    };
    let stream = match tokio::time::timeout(timeout, tcp).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            let failure = match proxy {
                Some(proxy) => NetworkFailure::ProxyConnect {
                    proxy: proxy.display(),
                    detail: NetworkFailure::from_connect(dial, &error).to_string(),
                },
                None => NetworkFailure::from_connect(authority, &error),
            };
            return Err((failure, HttpError::Connect(error)));
        }
        Err(_) => return Err(timed_out()),
    };
    let _ = stream.set_nodelay(true);
    let protocol = |error: hyper::Error| {
        (
            NetworkFailure::Connect { host: authority.clone(), detail: error.to_string() },
            HttpError::from(error),
        )
    };
    let handshake = async {
        let stream = match (proxy, *tls) {
            (Some(proxy), true) => {
                crate::network::proxy::tunnel(stream, authority, proxy).await.map_err(|failure| {
                    let error = match &failure {
                        NetworkFailure::ProxyRefused { .. } => HttpError::DestinationUnavailable,
                        _ => HttpError::ConnectionRefused,
                    };
                    (failure, error)
                })?
            }
            _ => stream,
        };
        if *tls {
            let connector = tokio_rustls::TlsConnector::from(trust.client_config());
            let host = authority.rsplit_once(':').map_or(authority.as_str(), |(host, _)| host);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| {
                let failure = NetworkFailure::Tls { host: authority.clone(), detail: e.to_string() };
                (failure, HttpError::HttpRequestUriInvalid)
            })?;
            let stream = connector
                .connect(name, stream)
                .await
                .map_err(|error| (NetworkFailure::from_tls(authority, &error), HttpError::Tls(error)))?;
            let (sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(protocol)?;
            tokio::spawn(connection);
            Ok(sender)
        } else {
            let (sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(protocol)?;
            tokio::spawn(connection);
            Ok(sender)
        }
    };
    tokio::time::timeout(timeout, handshake).await.map_err(|_| timed_out())?
}

/// `host:port` split, the port 80 when absent (a proxy's authority), IPv6 without brackets.
fn split_authority(authority: &str) -> (&str, u16) {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, port.parse().unwrap_or(80))
        }
        _ => (authority, 80),
    };
    (host.trim_start_matches('[').trim_end_matches(']'), port)
}

/// A response body that fails when no bytes arrive for the between-bytes timeout, and says so.
struct TimedBody {
    incoming: hyper::body::Incoming,
    timer: tokio::time::Interval,
    host: String,
    after: Duration,
    failures: FailureLog,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                self.timer.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(HttpError::from(error)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                ready!(self.timer.poll_tick(cx));
                self.failures
                    .record(NetworkFailure::ReadTimeout { host: self.host.clone(), after: self.after });
                Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}
