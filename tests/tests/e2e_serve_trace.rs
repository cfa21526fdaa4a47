//! W3C Trace Context and span export through `serve` (issue 21). A caller's `traceparent` goes
//! on to every request sent to S3 for it, with the same trace id and the caller's flags; without
//! one, serve starts a trace whose id is the answer's `x-request-id`. With a collector
//! configured (the `OTEL_*` variables), serve exports a server span per request and a client
//! span per S3 attempt over OTLP/HTTP JSON, and the `traceparent` S3 receives names the client
//! span. The S3 requests are seen by a forwarding proxy in front of s3s-fs, which still verifies
//! their signatures: the header the host adds is not one the guest signed.

use std::collections::BTreeSet;

use http_body_util::BodyExt;
use s3_connector_host::ObjectRef;
use s3_connector_serve::otlp_exporter::{OtlpConfig, OtlpExporter};
use s3_connector_tests::fault_proxy::{Fault, FaultProxy};
use s3_connector_tests::http_client::{self, bytes};
use s3_connector_tests::otlp_collector::OtlpCollector;
use s3_connector_tests::serving::{Serving, TOKEN};
use s3_connector_tests::{TestServer, policy};

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// The trace id, parent span id and flags of a `traceparent` of version 00.
fn fields(traceparent: &str) -> (String, String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00", "the host writes version 00: {traceparent}");
    assert!(parts[2].len() == 16 && parts[2].bytes().all(|b| b.is_ascii_hexdigit()), "{traceparent}");
    (parts[1].to_owned(), parts[2].to_owned(), parts[3].to_owned())
}

/// s3s-fs with an object `traced/k`, and the proxy in front of it.
async fn s3_behind_a_proxy() -> (TestServer, FaultProxy) {
    let s3 = TestServer::start().await;
    s3.admin().create_bucket("traced").await.unwrap();
    s3.admin().put_object_bytes(&ObjectRef::new("traced", "k"), b"hello", Default::default()).await.unwrap();
    let proxy = FaultProxy::start(&s3.s3.endpoint()).await;
    (s3, proxy)
}

/// A GET of `traced/k` (the edge component; S3 answers 503 first, so the guest retries) and a
/// headObject action (the plugin), both with `traceparent` when given; the GET's request id.
async fn get_and_head(serving: &Serving, proxy: &FaultProxy, traceparent: Option<&str>) -> String {
    let auth = format!("Bearer {TOKEN}");
    let mut headers = vec![("authorization", auth.as_str())];
    headers.extend(traceparent.map(|value| ("traceparent", value)));
    proxy.inject([Fault::Error { status: 503, code: "SlowDown" }]);
    let got = http_client::send(serving.address, "GET", "/traced/k", &headers, bytes("")).await.unwrap();
    assert_eq!(got.status(), 200);
    let request_id = got.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(got.into_body().collect().await.unwrap().to_bytes(), "hello");
    headers.push(("content-type", "application/json"));
    let action = r#"{"action":"headObject","bucket":"traced","key":"k"}"#;
    let headed =
        http_client::send(serving.address, "POST", "/actions", &headers, bytes(action)).await.unwrap();
    assert_eq!(headed.status(), 200);
    request_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_export_the_callers_trace_goes_on_to_s3_and_a_new_one_is_the_request_id() {
    let (s3, proxy) = s3_behind_a_proxy().await;
    let serving = Serving::start(s3.connector_via(proxy.endpoint(), policy(&["traced"]))).await;

    let caller = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    let request_id = get_and_head(&serving, &proxy, Some(&caller)).await;
    assert_eq!(request_id, CALLER_TRACE);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 3, "a refused GET, its retry and a HEAD: {seen:?}");
    for request in &seen {
        let traceparent =
            request.traceparent.as_deref().unwrap_or_else(|| panic!("no traceparent: {request:?}"));
        // No span of serve's is recorded, so the next hop's parent is the caller's span.
        assert_eq!(fields(traceparent), (CALLER_TRACE.into(), CALLER_SPAN.into(), "01".into()));
    }

    // No traceparent: a new trace, whose id is the request id; not sampled.
    let request_id = get_and_head(&serving, &proxy, None).await;
    let seen = proxy.seen();
    let last = seen.last().unwrap().traceparent.clone().expect("a traceparent on every request");
    let (trace, _, flags) = fields(&last);
    assert_ne!(trace, CALLER_TRACE);
    assert_eq!(fields(seen[3].traceparent.as_deref().unwrap()).0, request_id);
    assert_eq!(flags, "00");
    serving.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_collector_serve_exports_a_server_span_per_request_and_a_client_span_per_attempt() {
    let (s3, proxy) = s3_behind_a_proxy().await;
    let collector = OtlpCollector::start().await;
    let endpoint = collector.endpoint();
    let config = OtlpConfig::from_lookup(&|name| match name {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
        "OTEL_SERVICE_NAME" => Some("trace-test".into()),
        _ => None,
    })
    .unwrap()
    .expect("an export");
    let exporter = OtlpExporter::start(config);
    let serving =
        Serving::start_exporting(s3.connector_via(proxy.endpoint(), policy(&["traced"])), exporter).await;

    get_and_head(&serving, &proxy, Some(&format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))).await;
    let unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    get_and_head(&serving, &proxy, Some(unsampled)).await;
    let new_trace = get_and_head(&serving, &proxy, None).await;
    // Stopping flushes what is queued.
    serving.stop().await;

    let exports = collector.exports();
    assert!(!exports.is_empty(), "nothing was exported");
    assert!(exports.iter().all(|e| e.content_type == "application/json"), "{exports:?}");
    let spans = collector.spans();
    let of_trace =
        |trace: &str| -> Vec<&serde_json::Value> { spans.iter().filter(|s| s["traceId"] == trace).collect() };
    assert!(of_trace("0af7651916cd43dd8448eb211c80319c").is_empty(), "an unsampled trace was exported");
    // The GET of a new trace: its server span and a client span per attempt.
    assert_eq!(of_trace(&new_trace).len(), 3, "a new trace is sampled: {spans:#?}");

    let caller = of_trace(CALLER_TRACE);
    let servers: Vec<_> = caller.iter().filter(|s| s["kind"] == 2).collect();
    let clients: Vec<_> = caller.iter().filter(|s| s["kind"] == 3).collect();
    let names = |spans: &[&&serde_json::Value]| -> BTreeSet<String> {
        spans.iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&servers), BTreeSet::from(["GET objects".into(), "POST actions".into()]));
    assert_eq!(clients.len(), 3, "{clients:#?}");
    assert_eq!(names(&clients), BTreeSet::from(["S3.GetObject".into(), "S3.HeadObject".into()]));
    let server_ids: BTreeSet<&str> = servers.iter().map(|s| s["spanId"].as_str().unwrap()).collect();
    for span in &servers {
        assert_eq!(span["parentSpanId"], CALLER_SPAN, "{span}");
        assert_eq!(span["service"], "trace-test");
    }
    for span in &clients {
        assert!(server_ids.contains(span["parentSpanId"].as_str().unwrap()), "{span}");
        let start: u128 = span["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
        let end: u128 = span["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
        assert!(start > 0 && end >= start, "{span}");
    }
    let failed: Vec<_> = clients.iter().filter(|s| s["status"]["code"] == 2).collect();
    assert_eq!(failed.len(), 1, "the attempt S3 answered 503: {clients:#?}");
    assert_eq!(failed[0]["name"], "S3.GetObject");

    // What S3 received names the client spans, one per attempt.
    let client_ids: BTreeSet<String> =
        clients.iter().map(|s| s["spanId"].as_str().unwrap().to_owned()).collect();
    let sent: BTreeSet<String> = proxy.seen()[..3]
        .iter()
        .map(|seen| fields(seen.traceparent.as_deref().expect("a traceparent")))
        .map(|(trace, parent, flags)| {
            assert_eq!((trace.as_str(), flags.as_str()), (CALLER_TRACE, "01"));
            parent
        })
        .collect();
    assert_eq!(sent, client_ids);
}
