//! A stand-in OpenTelemetry collector on 127.0.0.1:0: it takes OTLP/HTTP JSON exports at
//! `POST /v1/traces`, answers 200 as a collector does, and keeps every span it received with
//! the request's content type, so a test can read the spans `serve` exported.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;

/// One export request as received.
#[derive(Debug, Clone)]
pub struct Export {
    /// `Content-Type`.
    pub content_type: String,
    /// Every span of every `resourceSpans[].scopeSpans[]`, with its resource's `service.name`
    /// added as `"service"`.
    pub spans: Vec<serde_json::Value>,
}

/// A running collector; it lives as long as the test's runtime.
pub struct OtlpCollector {
    /// Where it listens.
    pub address: SocketAddr,
    exports: Arc<Mutex<Vec<Export>>>,
}

impl OtlpCollector {
    /// Starts one.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("the collector binds");
        let address = listener.local_addr().expect("a bound address");
        let exports = Arc::new(Mutex::new(Vec::new()));
        let kept = exports.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| receive(request, kept.clone()));
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Self { address, exports }
    }

    /// `http://127.0.0.1:PORT`, the value of `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The export requests received so far.
    pub fn exports(&self) -> Vec<Export> {
        self.exports.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<serde_json::Value> {
        self.exports().into_iter().flat_map(|export| export.spans).collect()
    }
}

async fn receive(
    request: hyper::Request<Incoming>,
    exports: Arc<Mutex<Vec<Export>>>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let answer = |status: u16, body: &'static str| {
        let mut response = hyper::Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = http::StatusCode::from_u16(status).expect("a valid status");
        response
    };
    if request.method() != http::Method::POST || request.uri().path() != "/v1/traces" {
        return Ok(answer(404, "not an OTLP traces endpoint"));
    }
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = request.into_body().collect().await?.to_bytes();
    let Ok(export) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Ok(answer(400, "not JSON"));
    };
    let mut spans = Vec::new();
    for resource in export["resourceSpans"].as_array().into_iter().flatten() {
        let service = resource["resource"]["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["key"] == "service.name")
            .map(|a| a["value"]["stringValue"].clone())
            .unwrap_or_default();
        for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
            for span in scope["spans"].as_array().into_iter().flatten() {
                let mut span = span.clone();
                span["service"] = service.clone();
                spans.push(span);
            }
        }
    }
    exports.lock().expect("the exports").push(Export { content_type, spans });
    Ok(answer(200, "{}"))
}
