//! `s3-connector serve`: an HTTP listener in front of the connector, with the connector's
//! credentials, policy, limits and audit applied as everywhere.
//!
//! Clients authenticate with a bearer token ([`ClientAuth`]). `POST /actions` runs through the
//! plugin world like a library call ([`actions_route`]); every other route runs the edge
//! component, one fresh instance per request ([`edge_call`]). Connections are bounded before
//! anyone has authenticated ([`ServeLimits`]). With [`ServeTls`] every connection speaks TLS
//! first ([`tls`]).

mod actions_route;
mod auth;
mod connection_gate;
mod edge_call;
mod health;
mod json_answer;
mod limits;
mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use s3_connector_rules::ErrorCode;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

pub use actions_route::MAX_ACTION_BYTES;
pub use auth::ClientAuth;
pub use limits::ServeLimits;
pub use tls::{ServeTls, ServeTlsError};

use crate::connector::Connector;
use crate::error::Error;
use crate::runtime::edge_runtime::EdgeRuntime;
use connection_gate::{Admission, ConnectionGate};

/// How long a shutdown waits for requests in flight before it gives up on them.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest pause after failed accepts (out of file descriptors, say) before trying again.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// A bound server, not yet accepting.
pub struct Server {
    listener: TcpListener,
    state: Arc<ServerState>,
    limits: ServeLimits,
    tls: Option<ServeTls>,
}

struct ServerState {
    connector: Connector,
    auth: ClientAuth,
    runtime: &'static EdgeRuntime,
    in_flight: AtomicUsize,
    idle: Notify,
    ready: health::ReadyCache,
}

/// Counts a request in flight until dropped.
struct InFlight(Arc<ServerState>);

impl InFlight {
    fn start(state: &Arc<ServerState>) -> Self {
        state.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Server {
    /// Binds `listen` and loads the edge component, with the default [`ServeLimits`].
    pub async fn bind(listen: SocketAddr, connector: Connector, auth: ClientAuth) -> Result<Self, Error> {
        let runtime = EdgeRuntime::shared()?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {listen}: {e}")))?;
        let state = Arc::new(ServerState {
            connector,
            auth,
            runtime,
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            ready: health::ReadyCache::default(),
        });
        Ok(Self { listener, state, limits: ServeLimits::default(), tls: None })
    }

    /// Bounds connections with `limits` instead of the defaults.
    pub fn with_limits(mut self, limits: ServeLimits) -> Self {
        self.limits = limits.sane();
        self
    }

    /// Speaks TLS with `tls` on every connection (or plain HTTP with `None`).
    pub fn with_tls(mut self, tls: Option<ServeTls>) -> Self {
        self.tls = tls;
        self
    }

    /// Whether it speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The address it listens on (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener.local_addr().map_err(|e| Error::local_io("the listener has no address", e))
    }

    /// Serves until `shutdown` completes, then stops accepting and waits (at most
    /// [`DRAIN_TIMEOUT`]) for the requests in flight. Returns how many were still running when
    /// it gave up (0 after a clean drain).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> usize {
        tokio::pin!(shutdown);
        let limits = self.limits;
        let gate = ConnectionGate::new(limits.max_connections, limits.max_unauthenticated);
        let mut backoff = Duration::ZERO;
        loop {
            let slot = tokio::select! {
                slot = gate.slot() => slot,
                () = &mut shutdown => break,
            };
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let socket = match accepted {
                Ok((socket, _)) => socket,
                Err(_) => {
                    // Out of file descriptors (EMFILE) fails every accept at once: pause, so
                    // that the loop does not spin a core while connections end.
                    backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => continue,
                        () = &mut shutdown => break,
                    }
                }
            };
            backoff = Duration::ZERO;
            // An answer's head and body go out as separate writes; with Nagle the body waited for
            // the client's delayed ACK (~40 ms per request on a kept-alive connection).
            let _ = socket.set_nodelay(true);
            let admission = Arc::new(gate.admit(slot));
            tokio::spawn(serve_socket(self.state.clone(), socket, self.tls.clone(), admission, limits));
        }
        drop(self.listener);
        let drained = async {
            while self.state.in_flight.load(Ordering::SeqCst) > 0 {
                let idle = self.state.idle.notified();
                if self.state.in_flight.load(Ordering::SeqCst) == 0 {
                    break;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
        self.state.in_flight.load(Ordering::SeqCst)
    }
}

/// Serves one accepted socket: the TLS handshake first when the server speaks TLS. The
/// handshake counts against the header-read timeout and the connection holds an
/// unauthenticated slot meanwhile, so a client that never finishes it is closed like an idle one.
async fn serve_socket(
    state: Arc<ServerState>,
    socket: tokio::net::TcpStream,
    tls: Option<ServeTls>,
    admission: Arc<Admission>,
    limits: ServeLimits,
) {
    let Some(tls) = tls else {
        return serve_connection(state, socket, admission, limits).await;
    };
    let handshake = tokio::select! {
        handshake = tokio::time::timeout(limits.header_read_timeout, tls.accept(socket)) => handshake,
        () = admission.evicted() => return,
    };
    if let Ok(Ok(stream)) = handshake {
        serve_connection(state, stream, admission, limits).await;
    }
}

/// Serves one connection until it ends, times out, or is closed to make room.
async fn serve_connection<S>(
    state: Arc<ServerState>,
    socket: S,
    admission: Arc<Admission>,
    limits: ServeLimits,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let connection_admission = admission.clone();
    let service = hyper::service::service_fn(move |request| {
        let state = state.clone();
        let admission = connection_admission.clone();
        async move { Ok::<_, Infallible>(handle(state, &admission, request).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // The head's size, not the read buffer's: a buffer capped small broke large uploads
        // mid-body ("error writing a body to connection" about one run in ten).
        .max_header_size(limits.max_header_bytes)
        .keep_alive(true)
        .serve_connection(TokioIo::new(socket), service);
    tokio::select! {
        _ = connection => {}
        () = admission.evicted() => {}
    }
}

async fn handle(
    state: Arc<ServerState>,
    admission: &Admission,
    request: hyper::Request<Incoming>,
) -> hyper::Response<HyperOutgoingBody> {
    // Probes need no token and say nothing secret.
    if let Some(probe) = health::Probe::of(&request) {
        return health::answer(probe, &state.connector, &state.ready).await;
    }
    let authorization = request.headers().get(http::header::AUTHORIZATION).map(|v| v.as_bytes());
    if !state.auth.admits(authorization) {
        return json_answer::error(
            ErrorCode::Unauthorized,
            "send Authorization: Bearer TOKEN with the server's token",
        );
    }
    admission.authenticated();
    let in_flight = InFlight::start(&state);
    if actions_route::matches(&request) {
        return actions_route::answer(&state.connector, request).await;
    }
    if !edge_call::names_host(&request) {
        return json_answer::error(ErrorCode::InvalidRequest, "the request has no Host header; send one");
    }
    match edge_call::answer(&state, request, in_flight).await {
        Ok(response) => response,
        // The host's own failures (a trap, a limit, no credentials) are the server's fault; a
        // timeout keeps its own status.
        Err(error) => match error.error_code() {
            ErrorCode::Timeout => json_answer::error(ErrorCode::Timeout, &error.to_string()),
            code => json_answer::error_with_status(500, code, &error.to_string()),
        },
    }
}
