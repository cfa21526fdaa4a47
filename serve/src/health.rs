//! Probes for load balancers and orchestrators, answered without a token and revealing nothing
//! secret: `GET /healthz` (the process serves) and `GET /readyz` (the component is compiled,
//! credentials resolve, the endpoint answers HTTP the way S3 requests reach it), the latter
//! cached briefly and checked by one probe at a time, so that frequent or simultaneous probes do
//! not hammer the credential source or the endpoint.
//!
//! The exact paths `/healthz` and `/readyz` are taken: a bucket of either name is still listed
//! at `/healthz/` and `/readyz/`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use serde_json::json;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::json_answer;
use super::tenants::TenantTable;
use s3_connector_host::EdgeRuntime;

/// How long a readiness verdict is reused.
const READY_CACHE: Duration = Duration::from_secs(5);
/// How long the endpoint may take to answer.
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(2);

/// The probe a request asks for, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Probe {
    /// `GET /healthz`.
    Live,
    /// `GET /readyz`.
    Ready,
}

impl Probe {
    /// The probe `request` is, if it is one.
    pub(super) fn of(request: &hyper::Request<Incoming>) -> Option<Self> {
        if request.method() != http::Method::GET {
            return None;
        }
        match request.uri().path() {
            "/healthz" => Some(Probe::Live),
            "/readyz" => Some(Probe::Ready),
            _ => None,
        }
    }
}

/// The last readiness verdict and when it was reached, and the one check in flight: probes
/// that find the verdict stale wait for that check's answer instead of sending their own (200
/// probes at once once sent 34 `HEAD`s to S3).
#[derive(Default)]
pub(super) struct ReadyCache {
    verdict: Mutex<Option<(Instant, Readiness)>>,
    checking: tokio::sync::Mutex<()>,
}

impl ReadyCache {
    fn fresh(&self) -> Option<Readiness> {
        let cached = *self.verdict.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.filter(|(at, _)| at.elapsed() < READY_CACHE).map(|(_, readiness)| readiness)
    }
}

/// What `/readyz` checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Readiness {
    component: bool,
    credentials: bool,
    endpoint: bool,
}

impl Readiness {
    fn ready(self) -> bool {
        self.component && self.credentials && self.endpoint
    }
}

/// Answers `probe`.
pub(super) async fn answer(
    probe: Probe,
    tenants: &TenantTable,
    cache: &ReadyCache,
) -> hyper::Response<HyperOutgoingBody> {
    match probe {
        Probe::Live => json_answer::json(200, &json!({"status": "serving"})),
        Probe::Ready => {
            let readiness = readiness(tenants, cache).await;
            let word = |ok: bool| if ok { "ok" } else { "failing" };
            let body = json!({
                "ready": readiness.ready(),
                "checks": {
                    "component": word(readiness.component),
                    "credentials": word(readiness.credentials),
                    "endpoint": word(readiness.endpoint),
                },
            });
            json_answer::json(if readiness.ready() { 200 } else { 503 }, &body)
        }
    }
}

/// The cached verdict, or a fresh one: every tenant's credentials must resolve.
async fn readiness(tenants: &TenantTable, cache: &ReadyCache) -> Readiness {
    if let Some(readiness) = cache.fresh() {
        return readiness;
    }
    // One check at a time (single flight): whoever waited here takes the verdict just reached.
    let _checking = cache.checking.lock().await;
    if let Some(readiness) = cache.fresh() {
        return readiness;
    }
    let mut credentials = true;
    for tenant in tenants.tenants() {
        credentials &= tenant.connector.check_credentials().await.is_ok();
    }
    // Every tenant's connector has the server's one connection.
    let endpoint = match tenants.tenants().first() {
        Some(tenant) => tenant.connector.endpoint_answers(ENDPOINT_TIMEOUT).await,
        None => false,
    };
    let readiness = Readiness { component: EdgeRuntime::shared().is_ok(), credentials, endpoint };
    *cache.verdict.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some((Instant::now(), readiness));
    readiness
}
