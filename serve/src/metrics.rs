//! `serve`'s metrics, in the Prometheus (OpenMetrics) text format on a listener of their own
//! (`--metrics-listen`), so that scraping needs no token and never shares a port with clients.
//!
//! Encoded by `prometheus-client` rather than by hand. The S3 side (attempts, retries, bytes,
//! policy denials) is read from the audit records the host already writes for every request
//! it decides on ([`MetricsSink`]): one source of truth, and nothing the guest reports.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use tokio::net::TcpListener;

use super::connection_gate::ConnectionGate;
use s3_connector_host::audit::{AuditRecord, AuditSink, Decision, Kind};
use s3_connector_host::error::Error;
use s3_connector_host::instances;

/// The content type of the text format `prometheus-client` writes.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of Prometheus's classic text format, for scrapers that ask for it.
const CLASSIC_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Labels of a client request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `objects` (the edge routes), `actions`, or `health`.
    pub route: String,
    /// The HTTP status answered.
    pub status: String,
    /// The tenant, or `none` before one is known (a missing or wrong token).
    pub tenant: String,
}

/// Labels of a request's duration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// As in [`RequestLabels`].
    pub route: String,
    /// As in [`RequestLabels`].
    pub tenant: String,
}

/// One tenant.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabel {
    /// The tenant's name.
    pub tenant: String,
}

/// A refusal by one of a tenant's limits.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// The tenant.
    pub tenant: String,
    /// `in_flight`, `sandboxes`, `rate`, `connections`, `body` or `body_timeout`.
    pub limit: String,
}

/// A request to S3 by a tenant's sandbox.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AccessLabels {
    /// The tenant.
    pub tenant: String,
    /// The policy's access class (`read`, `write`, `delete`, `list`, `admin`), or `unknown`.
    pub access_class: String,
}

/// A refresh of a tenant's credentials, as `credential_refreshes.rs` counts it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefreshLabels {
    /// The tenant.
    pub tenant: String,
    /// `ok` (new credentials) or `error` (none could be had).
    pub result: String,
}

/// The outcome of a reload of the tenants file.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `applied` or `refused`.
    pub result: String,
}

/// Every metric `serve` keeps, and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    /// Client requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Time from a request's head to its answer's head.
    pub duration: Family<RouteLabels, Histogram>,
    /// Request body bytes read from clients.
    pub received_bytes: Family<TenantLabel, Counter>,
    /// Answer body bytes written to clients.
    pub sent_bytes: Family<TenantLabel, Counter>,
    /// Requests refused by a tenant's limits.
    pub limited: Family<LimitLabels, Counter>,
    /// Requests of each tenant running now.
    pub in_flight: Family<TenantLabel, Gauge>,
    /// Requests the sandboxes sent to S3, retries included.
    pub s3_attempts: Family<AccessLabels, Counter>,
    /// Of those, the retries (attempt 2 and up).
    pub s3_retries: Family<AccessLabels, Counter>,
    /// Request body bytes sent to S3.
    pub s3_sent_bytes: Family<TenantLabel, Counter>,
    /// Answer body bytes received from S3.
    pub s3_received_bytes: Family<TenantLabel, Counter>,
    /// Requests the policy refused, by access class.
    pub policy_denials: Family<AccessLabels, Counter>,
    /// Sandboxes (instances of the pool) in use, read at each scrape.
    pub sandboxes_in_use: Gauge,
    /// Calls waiting for a sandbox, read at each scrape.
    pub sandboxes_waiting: Gauge,
    /// Reloads of the tenants file.
    pub reloads: Family<ReloadLabels, Counter>,
    /// Refreshes of each tenant's credentials, and failures to get any.
    pub credential_refreshes: Family<RefreshLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Latency buckets from 1 ms to about 33 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("s3_connector");
        let metrics = Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram),
            received_bytes: Family::default(),
            sent_bytes: Family::default(),
            limited: Family::default(),
            in_flight: Family::default(),
            s3_attempts: Family::default(),
            s3_retries: Family::default(),
            s3_sent_bytes: Family::default(),
            s3_received_bytes: Family::default(),
            policy_denials: Family::default(),
            sandboxes_in_use: Gauge::default(),
            sandboxes_waiting: Gauge::default(),
            reloads: Family::default(),
            credential_refreshes: Family::default(),
            registry: Registry::default(),
        };
        registry.register("serve_requests", "Client requests answered", metrics.requests.clone());
        registry.register_with_unit(
            "serve_request_duration",
            "From a request's head to its answer's head",
            Unit::Seconds,
            metrics.duration.clone(),
        );
        registry.register_with_unit(
            "serve_received",
            "Request body bytes read from clients",
            Unit::Bytes,
            metrics.received_bytes.clone(),
        );
        registry.register_with_unit(
            "serve_sent",
            "Answer body bytes written to clients",
            Unit::Bytes,
            metrics.sent_bytes.clone(),
        );
        registry.register("serve_limited", "Requests refused by a tenant's limits", metrics.limited.clone());
        registry.register(
            "serve_in_flight",
            "Requests of each tenant running now",
            metrics.in_flight.clone(),
        );
        registry.register(
            "s3_attempts",
            "Requests sent to S3, retries included",
            metrics.s3_attempts.clone(),
        );
        registry.register("s3_retries", "Requests sent to S3 as a retry", metrics.s3_retries.clone());
        registry.register_with_unit(
            "s3_sent",
            "Body bytes sent to S3",
            Unit::Bytes,
            metrics.s3_sent_bytes.clone(),
        );
        registry.register_with_unit(
            "s3_received",
            "Body bytes received from S3",
            Unit::Bytes,
            metrics.s3_received_bytes.clone(),
        );
        registry.register(
            "policy_denials",
            "Requests the host's policy refused, by access class",
            metrics.policy_denials.clone(),
        );
        registry.register(
            "sandboxes_in_use",
            "Sandboxes of the instance pool in use",
            metrics.sandboxes_in_use.clone(),
        );
        registry.register(
            "sandboxes_waiting",
            "Calls waiting for a sandbox",
            metrics.sandboxes_waiting.clone(),
        );
        registry.register("tenants_reloads", "Reloads of the tenants file", metrics.reloads.clone());
        registry.register(
            "credential_refreshes",
            "Times a tenant's credentials changed (the first fetch included), or could not be had",
            metrics.credential_refreshes.clone(),
        );
        Self { registry, ..metrics }
    }
}

impl Metrics {
    /// The text a scrape gets: the pool's gauges read now, then every metric.
    pub fn encode(&self) -> String {
        let (in_use, waiting) = instances::usage();
        self.sandboxes_in_use.set(i64::try_from(in_use).unwrap_or(i64::MAX));
        self.sandboxes_waiting.set(i64::try_from(waiting).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing into a String cannot fail; an error would only come from a metric's own
        // encoder, and then the scrape gets what was written so far.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Counts one client request of `tenant` on `route`, answered with `status` after `seconds`.
    pub fn request(&self, route: &str, tenant: &str, status: u16, seconds: f64) {
        let labels =
            RequestLabels { route: route.to_owned(), status: status.to_string(), tenant: tenant.to_owned() };
        self.requests.get_or_create(&labels).inc();
        let labels = RouteLabels { route: route.to_owned(), tenant: tenant.to_owned() };
        self.duration.get_or_create(&labels).observe(seconds);
    }

    /// Counts a refusal by `limit` of `tenant`.
    pub fn limited(&self, tenant: &str, limit: &str) {
        self.limited.get_or_create(&LimitLabels { tenant: tenant.to_owned(), limit: limit.to_owned() }).inc();
    }

    fn tenant(tenant: &str) -> TenantLabel {
        TenantLabel { tenant: tenant.to_owned() }
    }

    /// Client body bytes of `tenant`, each way.
    pub fn client_bytes(&self, tenant: &str, received: u64, sent: u64) {
        if received > 0 {
            self.received_bytes.get_or_create(&Self::tenant(tenant)).inc_by(received);
        }
        if sent > 0 {
            self.sent_bytes.get_or_create(&Self::tenant(tenant)).inc_by(sent);
        }
    }
}

/// The audit sink every tenant's connector writes to (besides the operator's own): it turns
/// each record into the S3 metrics.
pub struct MetricsSink {
    metrics: Arc<Metrics>,
    then: Option<Arc<dyn AuditSink>>,
}

impl MetricsSink {
    /// Counts records in `metrics`, then passes them to `then` (the `--audit` sink), if any.
    pub fn new(metrics: Arc<Metrics>, then: Option<Arc<dyn AuditSink>>) -> Self {
        Self { metrics, then }
    }
}

impl AuditSink for MetricsSink {
    fn record(&self, record: &AuditRecord) {
        let labels = AccessLabels {
            tenant: record.tenant.clone(),
            access_class: record.access.clone().unwrap_or_else(|| "unknown".to_owned()),
        };
        match (record.kind, record.decision) {
            (Kind::Request, Decision::Allowed) => {
                self.metrics.s3_attempts.get_or_create(&labels).inc();
                if record.attempt.is_some_and(|attempt| attempt > 1) {
                    self.metrics.s3_retries.get_or_create(&labels).inc();
                }
                let tenant = Metrics::tenant(&record.tenant);
                self.metrics.s3_sent_bytes.get_or_create(&tenant).inc_by(record.bytes_sent);
                self.metrics.s3_received_bytes.get_or_create(&tenant).inc_by(record.bytes_received);
            }
            (Kind::Request | Kind::Presign | Kind::Credentials, Decision::Denied) => {
                self.metrics.policy_denials.get_or_create(&labels).inc();
            }
            _ => {}
        }
        if let Some(then) = &self.then {
            then.record(record);
        }
    }
}

/// Connections the metrics listener holds at once: a scraper needs one or two. A new one over
/// the cap closes the oldest, so a scraper always gets in, and clients of the metrics port can
/// never take the descriptors the main port needs (1,100 kept-alive connections to it once
/// left the main port unable to accept).
pub const MAX_METRICS_CONNECTIONS: usize = 64;

/// Serves `GET /metrics` on `listener` (until the task is aborted), calling `refresh` before
/// each scrape to set the gauges read from elsewhere. Connections are capped
/// ([`MAX_METRICS_CONNECTIONS`]) and a request head must come within `header_read_timeout`
/// (which also closes connections idle that long), as on the main port.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    header_read_timeout: Duration,
    refresh: impl Fn() + Send + Sync + 'static,
) {
    let refresh = Arc::new(refresh);
    // Nobody authenticates here: every connection counts against the cap on unauthenticated
    // ones, which closes the oldest for a newcomer.
    let gate = ConnectionGate::new(MAX_METRICS_CONNECTIONS, MAX_METRICS_CONNECTIONS, None);
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            // Out of descriptors: the scraper retries at its next interval.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let admission = gate.admit().await;
        let (metrics, refresh) = (metrics.clone(), refresh.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                refresh();
                let answer = answer(&metrics, &request);
                async move { Ok::<_, std::convert::Infallible>(answer) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(socket), service);
            tokio::select! {
                _ = connection => {}
                () = admission.evicted() => {}
            }
        });
    }
}

fn answer(metrics: &Metrics, request: &hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&http::Method::GET, "/metrics") => {
            let accept = request.headers().get(http::header::ACCEPT).and_then(|v| v.to_str().ok());
            match wants_classic(accept) {
                true => (200, CLASSIC_CONTENT_TYPE, classic(&metrics.encode())),
                false => (200, CONTENT_TYPE, metrics.encode()),
            }
        }
        _ => (404, "text/plain; charset=utf-8", "GET /metrics\n".to_owned()),
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::NOT_FOUND);
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
}

/// Whether `accept` prefers Prometheus's classic text format (`text/plain; version=0.0.4`) to
/// OpenMetrics: by the media ranges' `q` values, OpenMetrics winning a tie (and when the
/// header is missing or names neither), as Prometheus's own scrape header asks for it first.
fn wants_classic(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    let (mut open, mut classic) = (0.0f32, 0.0f32);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, value)| value.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "application/openmetrics-text" => open = open.max(q),
            "text/plain" => classic = classic.max(q),
            _ => {}
        }
    }
    classic > open
}

/// OpenMetrics text as Prometheus's classic format 0.0.4: no `# EOF` or `# UNIT` lines, and a
/// counter's `HELP` and `TYPE` named as its samples are (`_total`), which 0.0.4 wants.
fn classic(open_metrics: &str) -> String {
    let counters: Vec<&str> = open_metrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open_metrics.len());
    for line in open_metrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|kind| {
            let rest = line.strip_prefix(kind)?;
            let (name, tail) = rest.split_once(' ')?;
            counters.contains(&name).then(|| format!("{kind}{name}_total {tail}"))
        });
        match renamed {
            Some(line) => out.push_str(&line),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Binds the metrics listener on `address`.
pub async fn bind(address: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(address)
        .await
        .map_err(|e| Error::Usage(format!("cannot listen for metrics on {address} (--metrics-listen): {e}")))
}
