//! `s3-connector serve`: an HTTP listener in front of the connector, with the connector's
//! credentials, policy, limits and audit applied as everywhere.
//!
//! A client's bearer token selects its tenant ([`tenants`]; one tenant with `--token`, many with
//! a tenants file, [`tenants_file`], reloaded by `tenants_watch`); each tenant has its own
//! connector (`tenant_connector`) and limits (`tenant_admission`, `body_cap`).
//! `POST /actions` runs through the plugin world like a library call (`actions_route`); every
//! other route runs the edge component, one fresh instance per request (`edge_call`).
//! Connections are bounded before anyone has authenticated ([`ServeLimits`]), and tenants
//! against each other: a share of the connections each (`connection_gate`), of the sandboxes
//! (`tenant_admission`), a time limit on a stalled body (`body_cap`), descriptors enough
//! for both listeners (`descriptors`). With [`ServeTls`]
//! every connection speaks TLS first (`tls`). Every request gets an id ([`request_id`]: its
//! trace's, [`s3_connector_host::telemetry`]), a log line and its metrics ([`metrics`], on a listener of
//! their own); its trace goes on to S3, and its spans go to a collector when one is configured
//! ([`Server::with_span_export`]). `GET /openapi.json` describes the whole API (`openapi`).

mod actions_route;
mod auth;
mod body_cap;
mod connection_gate;
mod credential_refreshes;
mod descriptors;
mod edge_call;
mod health;
mod json_answer;
mod limits;
pub mod metrics;
mod openapi;
pub mod otlp_exporter;
mod otlp_json;
pub mod request_id;
mod tenant_admission;
mod tenant_connector;
pub mod tenants;
pub mod tenants_file;
mod tenants_watch;
mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use s3_connector_rules::ErrorCode;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

pub use actions_route::MAX_ACTION_BYTES;
pub use auth::{ClientAuth, ClientAuthError};
pub use limits::{BODY_READ_TIMEOUT, DRAIN_TIMEOUT, ServeLimits};
pub use tenant_connector::TenantBase;
pub use tenants::{Tenant, TenantTable, Tenants};
pub use tenants_file::TenantsFileError;
pub use tls::{ServeTls, ServeTlsError};

use crate::otlp_exporter::OtlpExporter;
use body_cap::CappedBody;
use connection_gate::{Admission, Busy, ConnectionGate};
use s3_connector_host::audit::{AuditRecord, Decision, Kind};
use s3_connector_host::connector::Connector;
use s3_connector_host::error::Error;
use s3_connector_host::telemetry::span::SpanSink;
use s3_connector_host::telemetry::trace_context::TraceContext;
use s3_connector_host::{EdgeRuntime, EdgeWorld, instances};

/// How long a stopping server waits for its last spans to be exported.
const SPAN_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest pause after failed accepts (out of file descriptors, say) before trying again.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The period of the idle check: once a whole period has passed with no request started, and
/// none is in flight, the server hands back the pages the instance pool's freed slots keep
/// resident ([`instances::release_idle_memory`]), one to two periods after the last
/// request. Long enough that steady traffic keeps its fault-free instantiations (a release
/// costs the next instances page faults, about a microsecond per page), short enough that a
/// burst's memory is handed back within 30 s of quiet (bench/serve_memory.sh).
const IDLE_CHECK_PERIOD: Duration = Duration::from_secs(10);

/// A bound server, not yet accepting.
pub struct Server {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: Arc<ServerState>,
    limits: ServeLimits,
    tls: Option<ServeTls>,
    exporter: Option<OtlpExporter>,
}

struct ServerState {
    tenants: Tenants,
    runtime: &'static EdgeRuntime,
    in_flight: AtomicUsize,
    /// Requests started since the server was bound, so that its idle path sees a quiet spell.
    started: AtomicUsize,
    idle: Notify,
    ready: health::ReadyCache,
    /// Where the spans of sampled requests go, when they are exported.
    spans: OnceLock<SpanSink>,
}

/// Counts a request in flight until dropped.
struct InFlight(Arc<ServerState>);

impl InFlight {
    fn start(state: &Arc<ServerState>) -> Self {
        state.in_flight.fetch_add(1, Ordering::SeqCst);
        state.started.fetch_add(1, Ordering::SeqCst);
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
    /// Binds `listen` and loads the edge component, with the default [`ServeLimits`]: one
    /// tenant, `connector`, admitted by `auth`.
    pub async fn bind(listen: SocketAddr, connector: Connector, auth: ClientAuth) -> Result<Self, Error> {
        Self::bind_tenants(listen, Tenants::single(connector, &auth)).await
    }

    /// Binds `listen` and loads the edge component, serving `tenants` (a token selects one).
    pub async fn bind_tenants(listen: SocketAddr, tenants: Tenants) -> Result<Self, Error> {
        let runtime = EdgeRuntime::shared()?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {listen}: {e}")))?;
        let state = Arc::new(ServerState {
            tenants,
            runtime,
            in_flight: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            idle: Notify::new(),
            ready: health::ReadyCache::default(),
            spans: OnceLock::new(),
        });
        Ok(Self {
            listener,
            metrics_listener: None,
            state,
            limits: ServeLimits::default(),
            tls: None,
            exporter: None,
        })
    }

    /// Records the spans of every sampled request (and of the S3 requests sent for it) into
    /// `exporter`, which the server flushes and stops when it stops.
    pub fn with_span_export(mut self, exporter: OtlpExporter) -> Self {
        let _ = self.state.spans.set(exporter.sink());
        self.exporter = Some(exporter);
        self
    }

    /// Serves the metrics (`GET /metrics`, Prometheus text) on `listener` too.
    pub fn with_metrics_listener(mut self, listener: TcpListener) -> Self {
        self.metrics_listener = Some(listener);
        self
    }

    /// The tenants served (to reload them, or to read the metrics).
    pub fn tenants(&self) -> &Tenants {
        &self.state.tenants
    }

    /// Runs `world`'s edge component instead of the WASI 0.2 one (`serve --edge p3`): the
    /// same routes, policy and egress guard; loaded (and compiled) here. Call before serving.
    pub fn with_edge(mut self, world: EdgeWorld) -> Result<Self, Error> {
        let runtime = EdgeRuntime::shared_for(world)?;
        let state = Arc::get_mut(&mut self.state)
            .ok_or_else(|| Error::local("internal error: the edge component changed while serving"))?;
        state.runtime = runtime;
        Ok(self)
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

    /// Serves until `shutdown` completes, then stops accepting and waits (at most the limits'
    /// `drain_timeout`, [`DRAIN_TIMEOUT`] by default) for the requests in flight. Returns how many were still running when
    /// it gave up (0 after a clean drain).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> usize {
        tokio::pin!(shutdown);
        // Both end with the server: aborted once the drain is over.
        let watcher = tokio::spawn(tenants_watch::watch(self.state.tenants.clone(), std::future::pending()));
        let releaser = tokio::spawn(release_when_quiet(self.state.clone()));
        let scraper = self.metrics_listener.map(|listener| {
            let tenants = self.state.tenants.clone();
            let timeout = self.limits.header_read_timeout;
            tokio::spawn(metrics::serve(listener, tenants.metrics().clone(), timeout, move || {
                refresh_gauges(&tenants)
            }))
        });
        // The main port's cap lowered, if need be, to what the descriptor limit holds beside
        // the metrics port's connections and a reserve.
        let metrics_connections = if scraper.is_some() { metrics::MAX_METRICS_CONNECTIONS } else { 0 };
        let fitted = descriptors::fit_process(self.limits.max_connections, metrics_connections);
        let limits = ServeLimits { max_connections: fitted, ..self.limits }.sane();
        let gate = ConnectionGate::new(
            limits.max_connections,
            limits.max_unauthenticated,
            limits.max_connections_per_tenant,
        );
        let mut backoff = Duration::ZERO;
        loop {
            // Accepted first, then admitted: a full gate makes room only for a client that is
            // there (closing an idle connection), and waits only while every connection is busy.
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
            let admission = tokio::select! {
                admission = gate.admit() => Arc::new(admission),
                () = &mut shutdown => break,
            };
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
        let _ = tokio::time::timeout(limits.drain_timeout, drained).await;
        watcher.abort();
        releaser.abort();
        if let Some(scraper) = scraper {
            scraper.abort();
        }
        if let Some(exporter) = self.exporter {
            exporter.shutdown(SPAN_FLUSH_TIMEOUT).await;
        }
        self.state.in_flight.load(Ordering::SeqCst)
    }
}

/// At each [`IDLE_CHECK_PERIOD`] that passed with no request started, with none in flight and
/// requests run since the last release, hands the pages the pool's freed slots keep resident
/// back to the system. A release refused because a sandbox is busy (a library call of the same
/// process) is tried again at the next quiet tick.
async fn release_when_quiet(state: Arc<ServerState>) {
    let mut ticks = tokio::time::interval(IDLE_CHECK_PERIOD);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = state.started.load(Ordering::SeqCst);
    let mut released_at = seen;
    loop {
        ticks.tick().await;
        let started = state.started.load(Ordering::SeqCst);
        let quiet = started == seen && state.in_flight.load(Ordering::SeqCst) == 0;
        seen = started;
        if quiet
            && started != released_at
            && let Some(bytes) = instances::release_idle_memory()
        {
            tracing::debug!(bytes, "idle: released the instance pool's resident pages");
            trim_allocator();
            released_at = started;
        }
    }
}

/// Hands the allocator's free pages back to the system as well: after a burst, glibc's malloc
/// keeps the heap its arenas grew to (connection buffers, request state), which is most of what
/// an idle server still holds once the pool's pages are back (bench/serve_memory.sh).
fn trim_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of glibc's heap to the system; it takes no
    // pointer and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
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
        async move { Ok::<_, Infallible>(handle(state, &admission, request, limits).await) }
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

/// Sets each tenant's requests-in-flight gauge before a scrape.
fn refresh_gauges(tenants: &Tenants) {
    let table = tenants.current();
    for tenant in table.tenants() {
        let label = metrics::TenantLabel { tenant: tenant.name.clone() };
        tenants.metrics().in_flight.get_or_create(&label).set(i64::from(tenant.admission.in_flight()));
    }
}

/// Answers one request, with its id in the answer, its log line and its metrics.
async fn handle(
    state: Arc<ServerState>,
    admission: &Admission,
    request: hyper::Request<Incoming>,
    limits: ServeLimits,
) -> hyper::Response<HyperOutgoingBody> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    // Busy until the answer's body has gone out: a full gate never closes this connection.
    let busy = admission.busy();
    let trace = TraceContext::of_headers(request.headers(), state.spans.get());
    let id = trace.trace_id().to_owned();
    let method = request.method().clone();
    // The path only: a query string could carry a presigned signature.
    let path = request.uri().path().to_owned();
    let route = if health::Probe::of(&request).is_some() {
        "health"
    } else if openapi::matches(&request) {
        "openapi"
    } else if actions_route::matches(&request) {
        "actions"
    } else {
        "objects"
    };
    let span = tracing::info_span!("request", id = %id, method = %method, route);
    let (mut response, tenant, received) = tracing::Instrument::instrument(
        route_request(&state, admission, request, &trace, limits),
        span.clone(),
    )
    .await;
    let status = response.status().as_u16();
    if let Ok(value) = http::HeaderValue::from_str(&id) {
        response.headers_mut().insert(request_id::HEADER, value);
    }
    let tenant_name = tenant.as_deref().unwrap_or("none");
    let seconds = started.elapsed().as_secs_f64();
    let metrics = state.tenants.metrics();
    metrics.request(route, tenant_name, status, seconds);
    metrics.client_bytes(tenant_name, received, 0);
    span.in_scope(|| {
        tracing::info!(tenant = tenant_name, status, path = %path, ms = seconds * 1000.0, "answered");
    });
    // Probes would drown the traces that matter.
    if route != "health" {
        let error = (status >= 500).then(|| format!("serve answered {status}"));
        trace.record_server_span(
            format!("{method} {route}"),
            started_at,
            |span| {
                span.text("http.request.method", method.as_str())
                    .text("http.route", route)
                    .int("http.response.status_code", i64::from(status))
                    .text("s3_connector.tenant", tenant_name)
            },
            error,
        );
    }
    count_sent(response, metrics.clone(), tenant_name.to_owned(), busy)
}

/// `response` with its body's bytes counted in the metrics as they go out and its connection
/// busy until then; the body's size hint is kept, so that an answer of known length still goes out with `Content-Length`.
fn count_sent(
    response: hyper::Response<HyperOutgoingBody>,
    metrics: Arc<metrics::Metrics>,
    tenant: String,
    busy: Busy,
) -> hyper::Response<HyperOutgoingBody> {
    use http_body_util::BodyExt;
    response.map(move |inner| SentBody { inner, metrics, tenant, _busy: busy }.boxed_unsync())
}

/// An answer body that counts its bytes for the metrics, and keeps its connection marked busy
/// until it is dropped (sent whole, or abandoned).
struct SentBody {
    inner: HyperOutgoingBody,
    metrics: Arc<metrics::Metrics>,
    tenant: String,
    _busy: Busy,
}

impl hyper::body::Body for SentBody {
    type Data = bytes::Bytes;
    type Error = <HyperOutgoingBody as hyper::body::Body>::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.metrics.client_bytes(&self.tenant, 0, data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The answer, the tenant's name once known, and the request body bytes read.
async fn route_request(
    state: &Arc<ServerState>,
    admission: &Admission,
    request: hyper::Request<Incoming>,
    trace: &TraceContext,
    limits: ServeLimits,
) -> (hyper::Response<HyperOutgoingBody>, Option<String>, u64) {
    let table = state.tenants.current();
    // Probes and the API's description need no token and say nothing secret.
    if let Some(probe) = health::Probe::of(&request) {
        return (health::answer(probe, &table, &state.ready).await, None, 0);
    }
    if openapi::matches(&request) {
        return (openapi::answer(), None, 0);
    }
    let authorization = request.headers().get(http::header::AUTHORIZATION).map(|v| v.as_bytes());
    let Some(tenant) = table.select(authorization) else {
        let answer = json_answer::error(
            ErrorCode::Unauthorized,
            "send Authorization: Bearer TOKEN with a token of the server's",
        );
        return (answer, None, 0);
    };
    let tenants = table.tenants().len();
    drop(table);
    let name = Some(tenant.name.clone());
    let connector = tenant.connector.traced(trace);
    if let Err(refusal) = admission.authenticated(&tenant.name, tenants) {
        let message = format!("tenant {}: {refusal}", tenant.name);
        refused(state, &tenant, &connector, &request, "connections", &message);
        // Over the tenant's share is the tenant's doing (429); a server full of busy
        // connections is not (503).
        let status = match refusal {
            connection_gate::Refused::OverShare { .. } => 429,
            connection_gate::Refused::Full => 503,
        };
        let mut answer = json_answer::error_with_status(status, ErrorCode::TooManyRequests, &message);
        answer.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(1));
        // The connection is over the tenant's share: it ends with this answer.
        answer.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
        return (answer, name, 0);
    }
    let share = tenant_admission::sandbox_share(instances::capacity(), tenants);
    let permit = match tenant.admission.admit(share) {
        Ok(permit) => permit,
        Err(refusal) => {
            let message = refusal.message(&tenant.name);
            refused(state, &tenant, &connector, &request, refusal.limit(), &message);
            let mut answer = json_answer::error(ErrorCode::TooManyRequests, &message);
            answer
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(refusal.retry_after_seconds()));
            return (answer, name, 0);
        }
    };
    let max_body = tenant.admission.limits().max_body_bytes;
    if body_cap::declared_over(&request, max_body) {
        let message = body_message(&tenant.name, max_body);
        refused(state, &tenant, &connector, &request, "body", &message);
        return (json_answer::error(ErrorCode::ContentTooLarge, &message), name, 0);
    }
    let (parts, body) = request.into_parts();
    let (body, tally) = CappedBody::new(body, max_body, limits.body_read_timeout);
    let request = hyper::Request::from_parts(parts, body);
    let in_flight = InFlight::start(state);
    let answer = if actions_route::matches(&request) {
        actions_route::answer(&connector, request).await
    } else if !edge_call::names_host(&request) {
        json_answer::error(ErrorCode::InvalidRequest, "the request has no Host header; send one")
    } else {
        match edge_call::answer(state.runtime, &connector, request, (in_flight, permit)).await {
            Ok(response) => response,
            // The host's own failures (a trap, a limit, no credentials) are the server's fault; a
            // timeout keeps its own status.
            Err(error) => match error.error_code() {
                ErrorCode::Timeout => json_answer::error(ErrorCode::Timeout, &error.to_string()),
                code => json_answer::error_with_status(500, code, &error.to_string()),
            },
        }
    };
    if tally.stalled() {
        // The body stopped coming: reading it failed, so the sandbox reading it has ended or
        // is ending; whatever the route answered, the client hears why.
        let seconds = limits.body_read_timeout.as_secs_f64();
        let message = format!("no byte of the request body came for {seconds} s (the body read timeout)");
        let mut record = AuditRecord::new(&tenant.name, Kind::Limit, Decision::Denied);
        record.reason = Some(format!("body_timeout: {message}"));
        connector.audit(record);
        state.tenants.metrics().limited(&tenant.name, "body_timeout");
        let mut answer = json_answer::error_with_status(408, ErrorCode::Timeout, &message);
        // The rest of the body may still come: the connection cannot be reused.
        answer.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
        return (answer, name, tally.bytes());
    }
    if tally.over() {
        // A body without a length that ran past the limit: reading it failed there, whatever
        // the route then answered.
        let message = body_message(&tenant.name, max_body);
        let mut record = AuditRecord::new(&tenant.name, Kind::Limit, Decision::Denied);
        record.reason = Some(format!("body: {message}"));
        connector.audit(record);
        state.tenants.metrics().limited(&tenant.name, "body");
        return (json_answer::error(ErrorCode::ContentTooLarge, &message), name, tally.bytes());
    }
    (answer, name, tally.bytes())
}

fn body_message(tenant: &str, max: Option<u64>) -> String {
    format!("the body is over tenant {tenant}'s limit of {} bytes", max.unwrap_or_default())
}

/// Counts and audits a request refused by one of `tenant`'s limits.
fn refused(
    state: &ServerState,
    tenant: &Tenant,
    connector: &Connector,
    request: &hyper::Request<Incoming>,
    limit: &str,
    message: &str,
) {
    state.tenants.metrics().limited(&tenant.name, limit);
    let mut record = AuditRecord::new(&tenant.name, Kind::Limit, Decision::Denied);
    record.method = Some(request.method().to_string());
    record.reason = Some(format!("{limit}: {message}"));
    connector.audit(record);
    tracing::warn!(tenant = %tenant.name, limit, "refused by the tenant's limit");
}
