//! Probes for load balancers and orchestrators, answered without a token and revealing nothing
//! secret: `GET /healthz` (the process serves) and `GET /readyz` (the component is compiled,
//! credentials resolve, the endpoint accepts connections), the latter cached briefly so that
//! frequent probes do not hammer the credential source or the endpoint.
//!
//! The exact paths `/healthz` and `/readyz` are taken: a bucket of either name is still listed
//! at `/healthz/` and `/readyz/`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use serde_json::json;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::json_answer;
use crate::connector::Connector;
use crate::runtime::edge_runtime::EdgeRuntime;

/// How long a readiness verdict is reused.
const READY_CACHE: Duration = Duration::from_secs(5);
/// How long the endpoint may take to accept a connection.
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

/// The last readiness verdict and when it was reached.
#[derive(Default)]
pub(super) struct ReadyCache(Mutex<Option<(Instant, Readiness)>>);

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
    connector: &Connector,
    cache: &ReadyCache,
) -> hyper::Response<HyperOutgoingBody> {
    match probe {
        Probe::Live => json_answer::json(200, &json!({"status": "serving"})),
        Probe::Ready => {
            let readiness = readiness(connector, cache).await;
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

/// The cached verdict, or a fresh one.
async fn readiness(connector: &Connector, cache: &ReadyCache) -> Readiness {
    let cached = *cache.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((at, readiness)) = cached
        && at.elapsed() < READY_CACHE
    {
        return readiness;
    }
    let endpoint = &connector.connection().endpoint;
    let address =
        (endpoint.host.trim_start_matches('[').trim_end_matches(']').to_owned(), endpoint.effective_port());
    let readiness = Readiness {
        component: EdgeRuntime::shared().is_ok(),
        credentials: connector.settings().shared.credentials.credentials().await.is_ok(),
        endpoint: tokio::time::timeout(ENDPOINT_TIMEOUT, tokio::net::TcpStream::connect(address))
            .await
            .is_ok_and(|connected| connected.is_ok()),
    };
    *cache.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), readiness));
    readiness
}
