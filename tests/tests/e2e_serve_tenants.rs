//! `serve` for many tenants (issue 21) end to end, against s3s-fs with two key pairs: each
//! tenant's token selects its own policy, credentials and limits; the tenants file is reloaded
//! whole or not at all; limits answer 429 with `Retry-After` and 413; every request has an id
//! in its answer and its audit records; the metrics parse as Prometheus text.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Bytes;
use s3_connector_host::audit::{AuditRecord, MemorySink};
use s3_connector_host::{Connection, Connector, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;
use s3_connector_serve::tenants_file::{hex, token_hash};
use s3_connector_serve::{TenantBase, Tenants};
use s3_connector_tests::fault_proxy::{Fault, FaultProxy};
use s3_connector_tests::http_client::{self, bytes};
use s3_connector_tests::serving::Serving;

const TOKEN_A: &str = "token-of-team-a";
const TOKEN_B: &str = "token-of-team-b";
const TOKEN_C: &str = "token-of-team-c";

/// A store that accepts two key pairs, with buckets `alpha` and `beta`.
struct Store {
    s3: LocalS3,
    dir: tempfile::TempDir,
    a: (String, Secret),
    b: (String, Secret),
}

impl Store {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let a = ("AKTENANTA00000000001".to_owned(), Secret::new("secret-of-team-a-0123456789"));
        let b = ("AKTENANTB00000000002".to_owned(), Secret::new("secret-of-team-b-0123456789"));
        std::fs::create_dir(dir.path().join("store")).unwrap();
        let s3 =
            LocalS3::start_with_keys(&dir.path().join("store"), &[(&a.0, a.1.clone()), (&b.0, b.1.clone())])
                .await
                .unwrap();
        let store = Self { s3, dir, a, b };
        let admin = Connector::builder(
            store.connection(),
            Policy::allow_all(),
            Arc::new(StaticCredentials::new(store.a.0.clone(), store.a.1.clone(), None)),
        )
        .build()
        .unwrap();
        admin.create_bucket("alpha").await.unwrap();
        admin.create_bucket("beta").await.unwrap();
        store
    }

    fn connection(&self) -> Connection {
        Connection::resolve(Some(&self.s3.endpoint()), Some("us-east-1"), true, |_| None).unwrap()
    }

    /// The base of every tenant: this store, the audit in `sink`, and an environment whose
    /// shared credentials file has profile `b` with the second key pair.
    fn base(&self, sink: Arc<MemorySink>) -> TenantBase {
        let credentials = self.dir.path().join("credentials");
        std::fs::write(
            &credentials,
            format!("[b]\naws_access_key_id = {}\naws_secret_access_key = {}\n", self.b.0, self.b.1.expose()),
        )
        .unwrap();
        let config = self.dir.path().join("no-config");
        let lookup = move |name: &str| match name {
            "AWS_SHARED_CREDENTIALS_FILE" => Some(credentials.display().to_string()),
            "AWS_CONFIG_FILE" => Some(config.display().to_string()),
            "AWS_EC2_METADATA_DISABLED" => Some("true".to_owned()),
            _ => None,
        };
        TenantBase {
            connection: self.connection(),
            max_attempts: 1,
            response_checksum_validation: Default::default(),
            allow_request_credentials: false,
            audit: Some(sink),
            lookup: Arc::new(lookup),
        }
    }

    fn tenants_path(&self) -> std::path::PathBuf {
        self.dir.path().join("tenants.toml")
    }
}

fn token(tenant: &str, token: &str) -> String {
    format!("\n[[token]]\ntenant = \"{tenant}\"\nsha256 = \"{}\"\n", hex(&token_hash(token)))
}

fn tenant(name: &str, credentials: &str, allow: &str, limits: &str) -> String {
    format!(
        "\n[[tenant]]\nname = \"{name}\"\ncredentials = {credentials}\nallow = {allow}\nlimits = {{ {limits} }}\n"
    )
}

fn static_keys((id, secret): &(String, Secret)) -> String {
    format!(
        "{{ source = \"static\", access_key_id = \"{id}\", secret_access_key = \"{}\" }}",
        secret.expose()
    )
}

/// The records of the request whose answer carried `id`.
/// The audit records of request `id`. The server writes them as its answer's body ends, which
/// may be just after the client has read that body: wait for the first (up to 5 s).
async fn records_of(sink: &MemorySink, id: &str) -> Vec<AuditRecord> {
    for _ in 0..500 {
        let records: Vec<AuditRecord> =
            sink.records().into_iter().filter(|r| r.serve_request_id.as_deref() == Some(id)).collect();
        if !records.is_empty() {
            return records;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Vec::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_have_their_own_policy_credentials_and_audit() {
    let store = Store::start().await;
    let unknown = ("AKUNKNOWN00000000003".to_owned(), Secret::new("a-key-the-store-does-not-know"));
    let text = [
        tenant("team-a", &static_keys(&store.a), "[{ bucket = \"alpha\" }]", ""),
        tenant("team-b", "{ source = \"profile\", profile = \"b\" }", "[{ bucket = \"beta\" }]", ""),
        tenant("team-c", &static_keys(&unknown), "[{ bucket = \"alpha\", operations = [\"read\"] }]", ""),
        token("team-a", TOKEN_A),
        token("team-b", TOKEN_B),
        token("team-c", TOKEN_C),
    ]
    .concat();
    std::fs::write(store.tenants_path(), text).unwrap();
    let sink = Arc::new(MemorySink::default());
    let tenants = Tenants::from_file(&store.tenants_path(), store.base(sink.clone())).unwrap();
    let serving = Serving::start_tenants(tenants).await;

    let (status, headers, body) = serving.call_as(TOKEN_A, "PUT", "/alpha/a.txt", "from a").await;
    assert_eq!(status, 200, "{body}");
    let id = headers["x-request-id"].to_str().unwrap().to_owned();
    let records = records_of(&sink, &id).await;
    assert!(!records.is_empty(), "the request's audit records carry its id {id}");
    assert!(
        records.iter().all(|r| r.tenant == "team-a" && r.bucket.as_deref() == Some("alpha")),
        "{records:?}"
    );

    // Team b's policy has beta only; its credentials (the profile's second key pair) work there.
    let (status, _, body) = serving.call_as(TOKEN_B, "PUT", "/alpha/b.txt", "from b").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("denied-by-host"), "{body}");
    let (status, _, body) = serving.call_as(TOKEN_B, "PUT", "/beta/b.txt", "from b").await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = serving.call_as(TOKEN_A, "GET", "/beta/b.txt", "").await;
    assert_eq!(status, 403, "team a may not read beta: {body}");

    // Team c may read alpha by its policy, but its keys are not the store's: S3 refuses them,
    // which shows its requests are signed with its own credentials.
    let (status, _, body) = serving.call_as(TOKEN_C, "GET", "/alpha/a.txt", "").await;
    assert_eq!(status, 403, "{body}");
    // s3s-fs answers an unknown key id with NotSignedUp (403); the host allowed the request.
    assert!(body.contains("\"status\":403") && !body.contains("denied-by-host"), "{body}");
    assert!(!body.contains("a-key-the-store-does-not-know"), "{body}");
    let (status, _, body) = serving.call_as(TOKEN_A, "GET", "/alpha/a.txt", "").await;
    assert_eq!((status, body.as_str()), (200, "from a"));

    // A W3C traceparent gives the request its trace id.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let auth = format!("Bearer {TOKEN_B}");
    let traced = http_client::send(
        serving.address,
        "GET",
        "/beta/b.txt",
        &[("authorization", &auth), ("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01"))],
        bytes(""),
    )
    .await
    .unwrap();
    assert_eq!(traced.headers()["x-request-id"], trace);
    // A request's record is written when its answer's body has gone out.
    assert_eq!(traced.into_body().collect().await.unwrap().to_bytes(), "from b");
    let records = records_of(&sink, trace).await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!((records[0].tenant.as_str(), records[0].action.as_deref()), ("team-b", Some("GetObject")));

    for wrong in ["", "token-of-team", "TOKEN-OF-TEAM-A", "token-of-team-a2"] {
        let (status, headers, _) = serving.call_as(wrong, "GET", "/alpha/a.txt", "").await;
        assert_eq!(status, 401, "{wrong:?}");
        assert!(headers.contains_key("x-request-id"), "every answer has an id");
    }
    assert_eq!(serving.stop().await, 0);
}

/// Waits (at most 15 s) until `check` holds.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "{what} did not happen within 15 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenants_file_is_reloaded_whole_or_not_at_all() {
    let store = Store::start().await;
    let path = store.tenants_path();
    let first =
        [tenant("team-a", &static_keys(&store.a), "[{ bucket = \"alpha\" }]", ""), token("team-a", TOKEN_A)]
            .concat();
    std::fs::write(&path, &first).unwrap();
    let sink = Arc::new(MemorySink::default());
    let tenants = Tenants::from_file(&path, store.base(sink.clone())).unwrap();
    let serving = Serving::start_tenants(tenants).await;
    assert_eq!(serving.call_as(TOKEN_A, "PUT", "/alpha/x", "1").await.0, 200);

    // A request in flight when the file changes: its body is still coming.
    let (pieces, body) = http_client::channel();
    let auth = format!("Bearer {TOKEN_A}");
    let address = serving.address;
    let slow = tokio::spawn(async move {
        let response =
            http_client::send(address, "PUT", "/alpha/slow", &[("authorization", &auth)], body).await;
        let response = response.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    });
    pieces.send(Bytes::from_static(b"first half, ")).await.unwrap();
    eventually("the slow request admitted", async || {
        serving.scrape().await.contains("s3_connector_serve_in_flight{tenant=\"team-a\"} 1")
    })
    .await;

    // The new file: team a reads only, with a second token; the change is noticed by itself.
    let second = [
        tenant("team-a", &static_keys(&store.a), "[{ bucket = \"alpha\", operations = [\"read\"] }]", ""),
        token("team-a", TOKEN_A),
        token("team-a", "second-token-of-a"),
    ]
    .concat();
    std::fs::write(&path, &second).unwrap();
    eventually("the reload", async || {
        serving.call_as("second-token-of-a", "GET", "/alpha/x", "").await.0 == 200
    })
    .await;
    let (status, _, body) = serving.call_as(TOKEN_A, "PUT", "/alpha/y", "2").await;
    assert_eq!(status, 403, "the new rules hold for new requests: {body}");

    // The request admitted under the old rules finishes under them.
    pieces.send(Bytes::from_static(b"second half")).await.unwrap();
    drop(pieces);
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(std::fs::read(store.dir.path().join("store/alpha/slow")).unwrap(), b"first half, second half");

    // A file with a mistake is refused with its line, and the rules in force stay.
    let broken = format!(
        "{second}\n[[tenant]]\nname = \"team-z\"\ncredentials = {{ source = \"static\" }}\nallow = []\n"
    );
    let bad_line = second.lines().count() + 4;
    std::fs::write(&path, &broken).unwrap();
    let refused = serving.tenants.reload().unwrap_err();
    assert_eq!(refused.line, Some(bad_line), "{refused}");
    assert!(refused.to_string().contains("tenants.toml"), "{refused}");
    // Give the watcher its chance to (wrongly) apply it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(serving.call_as("second-token-of-a", "GET", "/alpha/x", "").await.0, 200);
    assert_eq!(serving.call_as(TOKEN_A, "PUT", "/alpha/z", "3").await.0, 403);

    let metrics =
        prometheus_parse::Scrape::parse(serving.scrape().await.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let reloads = |result: &str| {
        metrics
            .samples
            .iter()
            .filter(|s| {
                s.metric == "s3_connector_tenants_reloads_total" && s.labels.get("result") == Some(result)
            })
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum::<f64>()
    };
    assert!(reloads("applied") >= 1.0, "{:?}", metrics.samples);
    assert!(reloads("refused") >= 2.0, "the explicit reload and the watcher's: {:?}", metrics.samples);
    assert_eq!(serving.stop().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_answer_429_with_retry_after_and_413_and_are_counted() {
    let store = Store::start().await;
    let keys = static_keys(&store.a);
    let text = [
        tenant("one-at-a-time", &keys, "[{ bucket = \"alpha\" }]", "max_in_flight = 1"),
        tenant("slow", &keys, "[{ bucket = \"alpha\" }]", "requests_per_second = 0.2, burst = 2"),
        tenant("small", &keys, "[{ bucket = \"alpha\" }]", "max_body_bytes = 1024"),
        token("one-at-a-time", "token-one"),
        token("slow", "token-slow"),
        token("small", "token-small"),
    ]
    .concat();
    std::fs::write(store.tenants_path(), text).unwrap();
    let sink = Arc::new(MemorySink::default());
    let tenants = Tenants::from_file(&store.tenants_path(), store.base(sink.clone())).unwrap();
    let serving = Serving::start_tenants(tenants).await;

    // In flight: one request holds the only place while its body is still coming.
    let (pieces, body) = http_client::channel();
    let address = serving.address;
    let held = tokio::spawn(async move {
        let response =
            http_client::send(address, "PUT", "/alpha/held", &[("authorization", "Bearer token-one")], body)
                .await;
        response.unwrap().status().as_u16()
    });
    pieces.send(Bytes::from_static(b"part")).await.unwrap();
    // Watched through the metrics: a probing request of the same tenant could take the place.
    eventually("the first request admitted", async || {
        serving.scrape().await.contains("s3_connector_serve_in_flight{tenant=\"one-at-a-time\"} 1")
    })
    .await;
    let (status, headers, body) = serving.call_as("token-one", "GET", "/alpha/held", "").await;
    assert_eq!((status, headers["retry-after"].to_str().unwrap()), (429, "1"), "{body}");
    let (status, _, body) = serving.call_as("token-small", "GET", "/alpha/", "").await;
    assert_eq!(status, 200, "another tenant is not held back: {body}");
    drop(pieces);
    assert_eq!(held.await.unwrap(), 200);
    assert_eq!(
        serving.call_as("token-one", "GET", "/alpha/held", "").await.0,
        200,
        "the place is given back"
    );

    // Rate: a burst of two, then 429 until the next token (5 s at 0.2/s).
    for _ in 0..2 {
        assert_eq!(serving.call_as("token-slow", "GET", "/alpha/", "").await.0, 200);
    }
    let (status, headers, body) = serving.call_as("token-slow", "GET", "/alpha/", "").await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too-many-requests"), "{body}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=5).contains(&retry_after), "{retry_after}");

    // Body: a declared length over the limit is refused before the body is read...
    let before = store.s3.requests_received();
    let (status, _, body) = serving.call_as("token-small", "PUT", "/alpha/big", &"x".repeat(2048)).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("content-too-large"), "{body}");
    // ...and a chunked body is stopped at the limit.
    let (pieces, body) = http_client::channel();
    let address = serving.address;
    let chunked = tokio::spawn(async move {
        let response =
            http_client::send(address, "PUT", "/alpha/big", &[("authorization", "Bearer token-small")], body)
                .await;
        let response = response.unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().collect().await.unwrap().to_bytes())
    });
    for _ in 0..4 {
        if pieces.send(Bytes::from(vec![b'y'; 512])).await.is_err() {
            break;
        }
    }
    drop(pieces);
    let (status, body) = chunked.await.unwrap();
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert!(!store.dir.path().join("store/alpha/big").exists(), "nothing over the limit was stored");
    let (status, _, _) = serving.call_as("token-small", "PUT", "/alpha/small", &"z".repeat(1024)).await;
    assert_eq!(status, 200, "a body at the limit passes");
    assert!(store.s3.requests_received() > before);

    // Each refusal is audited and counted.
    let limits: Vec<(String, String)> = sink
        .records()
        .iter()
        .filter(|r| r.kind == s3_connector_host::audit::Kind::Limit)
        .map(|r| (r.tenant.clone(), r.reason.clone().unwrap_or_default()))
        .collect();
    for (tenant, limit) in [("one-at-a-time", "in_flight"), ("slow", "rate"), ("small", "body")] {
        assert!(
            limits.iter().any(|(t, reason)| t == tenant && reason.starts_with(limit)),
            "{tenant} {limit}: {limits:?}"
        );
    }
    let text = serving.scrape().await;
    let metrics = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let limited = |tenant: &str, limit: &str| {
        metrics.samples.iter().any(|s| {
            s.metric == "s3_connector_serve_limited_total"
                && s.labels.get("tenant") == Some(tenant)
                && s.labels.get("limit") == Some(limit)
        })
    };
    assert!(
        limited("one-at-a-time", "in_flight") && limited("slow", "rate") && limited("small", "body"),
        "{text}"
    );
    assert_eq!(serving.stop().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text() {
    let store = Store::start().await;
    let text =
        [tenant("team-a", &static_keys(&store.a), "[{ bucket = \"alpha\" }]", ""), token("team-a", TOKEN_A)]
            .concat();
    std::fs::write(store.tenants_path(), text).unwrap();
    // Through a proxy that answers the GET's first attempt 503, so that it is retried once.
    let proxy = FaultProxy::start(&store.s3.endpoint()).await;
    let mut base = store.base(Arc::new(MemorySink::default()));
    base.connection = Connection::resolve(Some(proxy.endpoint()), Some("us-east-1"), true, |_| None).unwrap();
    base.max_attempts = 3;
    let tenants = Tenants::from_file(&store.tenants_path(), base).unwrap();
    let serving = Serving::start_tenants(tenants).await;
    for i in 0..3 {
        assert_eq!(serving.call_as(TOKEN_A, "PUT", &format!("/alpha/{i}"), "0123456789").await.0, 200);
    }
    proxy.inject([Fault::Error { status: 503, code: "SlowDown" }]);
    assert_eq!(serving.call_as(TOKEN_A, "GET", "/alpha/0", "").await.0, 200);
    assert_eq!(proxy.pending(), 0, "the fault was used");
    assert_eq!(serving.call_as(TOKEN_A, "DELETE", "/beta/x", "").await.0, 403);
    assert_eq!(serving.call_as("nobody", "GET", "/alpha/0", "").await.0, 401);

    let text = serving.scrape().await;
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let value = |metric: &str, labels: &[(&str, &str)]| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.iter().map(|b| b.count).fold(0.0, f64::max)
                }
                _ => 0.0,
            })
            .sum()
    };
    let objects = [("route", "objects"), ("tenant", "team-a")];
    assert_eq!(
        value("s3_connector_serve_requests_total", &[objects[0], objects[1], ("status", "200")]),
        4.0,
        "{text}"
    );
    assert_eq!(
        value("s3_connector_serve_requests_total", &[("status", "403"), ("tenant", "team-a")]),
        1.0,
        "{text}"
    );
    assert_eq!(
        value("s3_connector_serve_requests_total", &[("status", "401"), ("tenant", "none")]),
        1.0,
        "{text}"
    );
    assert_eq!(value("s3_connector_serve_request_duration_seconds", &objects), 5.0, "{text}");
    assert_eq!(value("s3_connector_serve_received_bytes_total", &[("tenant", "team-a")]), 30.0, "{text}");
    assert!(value("s3_connector_serve_sent_bytes_total", &[("tenant", "team-a")]) >= 10.0, "{text}");
    assert_eq!(
        value("s3_connector_s3_attempts_total", &[("tenant", "team-a"), ("access_class", "write")]),
        3.0
    );
    assert_eq!(value("s3_connector_s3_sent_bytes_total", &[("tenant", "team-a")]), 30.0, "{text}");
    assert_eq!(
        value("s3_connector_policy_denials_total", &[("tenant", "team-a"), ("access_class", "delete")]),
        1.0
    );
    assert_eq!(
        value("s3_connector_s3_attempts_total", &[("tenant", "team-a"), ("access_class", "read")]),
        2.0,
        "{text}"
    );
    assert_eq!(
        value("s3_connector_s3_retries_total", &[("tenant", "team-a"), ("access_class", "read")]),
        1.0,
        "{text}"
    );
    assert_eq!(value("s3_connector_s3_retries_total", &[("tenant", "team-a")]), 1.0, "{text}");
    // Static keys: fetched for every request, but only the first fetch gave new credentials.
    assert_eq!(
        value("s3_connector_credential_refreshes_total", &[("tenant", "team-a"), ("result", "ok")]),
        1.0,
        "{text}"
    );
    assert!(scrape.samples.iter().any(|s| s.metric == "s3_connector_sandboxes_in_use"), "{text}");
    assert!(scrape.samples.iter().any(|s| s.metric == "s3_connector_serve_in_flight"), "{text}");
    assert_eq!(serving.stop().await, 0);
}

/// The tenants file in the Kubernetes example (`deploy/kubernetes.yaml`, whose schema CI
/// checks) is one `serve` accepts.
#[test]
fn the_deployment_example_has_a_valid_tenants_file() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/kubernetes.yaml")).unwrap();
    let text: String = manifest
        .lines()
        .skip_while(|line| !line.trim_end().ends_with("tenants.toml: |"))
        .skip(1)
        .take_while(|line| line.starts_with("    ") || line.is_empty())
        .map(|line| format!("{}\n", line.trim_start()))
        .collect();
    let specs =
        s3_connector_serve::tenants_file::parse(std::path::Path::new("kubernetes.yaml"), &text).unwrap();
    assert_eq!(specs.len(), 1, "{text}");
    assert_eq!(specs[0].name, "team-a");
}
