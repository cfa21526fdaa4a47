//! Limits the host puts on a call.

use crate::common;

use std::time::{Duration, Instant};

use s3_connector_host::Exceeded;
use s3_connector_host::ObjectRef;
use s3_connector_host::types::S3Error;
use s3_connector_host::{Error, Secret};

/// A server that accepts connections and never answers: the call is stopped at its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_hangs_is_stopped_at_the_wall_clock_timeout() {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        // Bounded: the test makes one call.
        for _ in 0..4 {
            if let Ok((socket, _)) = listener.accept().await {
                sockets.push(socket);
            }
        }
    });
    let connector = common::builder_at(&endpoint, "AKLIMITS00000000001", &Secret::new("limits"), &[])
        .call_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = connector.head_object(&ObjectRef::new("silent", "k")).await.unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::Timeout)), "{error:?}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(10), "{elapsed:?}");
    held.abort();
}

// Hostile guests: tiny components in the text format, run through the sandbox's own store,
// limits and error mapping (`connector::guest_probe`).

/// Returns at once: the harness itself works.
const QUIET: &str = r#"(component
  (core module $m (func (export "run")))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "run"))))"#;

/// Loops forever without calling the host.
const SPIN: &str = r#"(component
  (core module $m (func (export "run") (loop $l (br $l))))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "run"))))"#;

/// Grows its memory 1 MiB at a time, forever, ignoring failures.
const GROW: &str = r#"(component
  (core module $m (memory 1)
    (func (export "run") (loop $l (drop (memory.grow (i32.const 16))) (br $l))))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "run"))))"#;

/// Makes the host hold things for it through `wasi:http/types`, each export in its own way,
/// keeping every handle it gets so that nothing is ever freed. Each export loops without end:
/// only a host limit stops it. Memory: the header name at 0, the `result` the host writes at
/// 1024, header values (the letter `a`) from 4096.
const HTTP_HOARDER: &str = r#"(component
  (import "wasi:http/types@0.2.0" (instance $types
    (export "fields" (type $fields (sub resource)))
    (export "outgoing-request" (type $request (sub resource)))
    (export "outgoing-body" (type $body (sub resource)))
    (type $header-error-def (variant (case "invalid-syntax") (case "forbidden") (case "immutable")))
    (export "header-error" (type $header-error (eq $header-error-def)))
    (export "[constructor]fields" (func (result (own $fields))))
    (export "[method]fields.append"
      (func (param "self" (borrow $fields)) (param "name" string) (param "value" (list u8))
        (result (result (error $header-error)))))
    (export "[constructor]outgoing-request" (func (param "headers" (own $fields)) (result (own $request))))
    (export "[method]outgoing-request.body" (func (param "self" (borrow $request)) (result (result (own $body)))))))
  (core module $memory (memory (export "memory") 5))
  (core instance $memory (instantiate $memory))
  (alias core export $memory "memory" (core memory $mem))
  (core func $new-fields (canon lower (func $types "[constructor]fields")))
  (core func $append (canon lower (func $types "[method]fields.append") (memory $mem)))
  (core func $new-request (canon lower (func $types "[constructor]outgoing-request")))
  (core func $body (canon lower (func $types "[method]outgoing-request.body") (memory $mem)))
  (core module $hoarder
    (import "env" "memory" (memory 1))
    (import "http" "new-fields" (func $new-fields (result i32)))
    (import "http" "append" (func $append (param i32 i32 i32 i32 i32 i32)))
    (import "http" "new-request" (func $new-request (param i32) (result i32)))
    (import "http" "body" (func $body (param i32 i32)))
    (data (i32.const 0) "x-amz-meta-pad")
    (data (i32.const 64) "host")
    (data (i32.const 128) "transfer-encoding")
    (data (i32.const 192) "x-split")
    (data (i32.const 256) "a\r\nhost: elsewhere")
    (func $fill (memory.fill (i32.const 4096) (i32.const 97) (i32.const 262144)))
    ;; Appends a header named by the `len` bytes at `name` with a `size`-byte value.
    (func $pad (param $fields i32) (param $name i32) (param $len i32) (param $size i32)
      (call $append (local.get $fields) (local.get $name) (local.get $len) (i32.const 4096)
        (local.get $size) (i32.const 1024)))
    ;; Requests with a body, never sent.
    (func (export "bodies")
      (loop $l (call $body (call $new-request (call $new-fields)) (i32.const 1024)) (br $l)))
    ;; Header maps of 60 KiB each, kept.
    (func (export "headers")
      (call $fill)
      (loop $l (call $pad (call $new-fields) (i32.const 0) (i32.const 14) (i32.const 61440)) (br $l)))
    ;; One header of 200 KiB.
    (func (export "oversized-header")
      (call $fill)
      (call $pad (call $new-fields) (i32.const 0) (i32.const 14) (i32.const 204800)))
    ;; Empty header maps, kept: every one is an entry in the host's resource table.
    (func (export "handles")
      (loop $l (drop (call $new-fields)) (br $l)))
    ;; Tries forbidden names and a value that smuggles a header; traps unless the host
    ;; answered each with its header error (1: forbidden, 0: invalid syntax).
    (func $expect-refused (param $case i32)
      (if (i32.ne (i32.load8_u (i32.const 1024)) (i32.const 1)) (then unreachable))
      (if (i32.ne (i32.load8_u (i32.const 1025)) (local.get $case)) (then unreachable)))
    (func (export "forbidden-headers") (local $fields i32)
      (call $fill)
      (local.set $fields (call $new-fields))
      (call $pad (local.get $fields) (i32.const 64) (i32.const 4) (i32.const 9))
      (call $expect-refused (i32.const 1))
      (call $pad (local.get $fields) (i32.const 128) (i32.const 17) (i32.const 7))
      (call $expect-refused (i32.const 1))
      (call $append (local.get $fields) (i32.const 192) (i32.const 7) (i32.const 256) (i32.const 20) (i32.const 1024))
      (call $expect-refused (i32.const 0))))
  (core instance $hoarder (instantiate $hoarder
    (with "env" (instance $memory))
    (with "http" (instance
      (export "new-fields" (func $new-fields))
      (export "append" (func $append))
      (export "new-request" (func $new-request))
      (export "body" (func $body))))))
  (func (export "bodies") (canon lift (core func $hoarder "bodies")))
  (func (export "headers") (canon lift (core func $hoarder "headers")))
  (func (export "oversized-header") (canon lift (core func $hoarder "oversized-header")))
  (func (export "handles") (canon lift (core func $hoarder "handles")))
  (func (export "forbidden-headers") (canon lift (core func $hoarder "forbidden-headers"))))"#;

async fn run_guest(connector: &s3_connector_host::Connector, wat: &str) -> Result<(), Error> {
    run_guest_export(connector, wat, "run").await
}

async fn run_guest_export(
    connector: &s3_connector_host::Connector,
    wat: &str,
    export: &str,
) -> Result<(), Error> {
    let component = wat::parse_str(wat).unwrap();
    s3_connector_host::internals::guest_probe::run_export(connector, &component, export).await
}

struct Store {
    s3: s3_connector_local_store::LocalS3,
    _dir: tempfile::TempDir,
}

async fn local_store() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_connector_local_store::LocalS3::start(dir.path(), "AKLIMITS00000000002", Secret::new("lim"))
        .await
        .unwrap();
    Store { s3, _dir: dir }
}

/// After a guest was stopped, the same connector serves a normal call.
async fn a_normal_call_succeeds(connector: &s3_connector_host::Connector, bucket: &str) {
    connector.create_bucket(bucket).await.unwrap_or_else(|e| panic!("after the hostile guest: {e}"));
    connector.head_bucket(bucket).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_never_stops_is_stopped_at_its_cpu_budget() {
    let store = local_store().await;
    let connector =
        common::builder_for(&store.s3, &[]).cpu_budget(Duration::from_millis(300)).build().unwrap();
    run_guest(&connector, QUIET).await.unwrap();
    let started = Instant::now();
    let error = run_guest(&connector, SPIN).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(&error, Error::Limit(Exceeded::Cpu { budget }) if *budget == Duration::from_millis(300)),
        "{error:?}"
    );
    let cause = std::error::Error::source(&error).expect("the broken limit is the error's source");
    assert_eq!(
        cause.to_string(),
        "it exceeded its CPU budget of 0.3 s of WebAssembly execution; the host stopped it"
    );
    assert_eq!(
        error.to_string(),
        "the plugin failed: it exceeded its CPU budget of 0.3 s of WebAssembly execution; the host stopped it"
    );
    assert!(elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(10), "{elapsed:?}");
    a_normal_call_succeeds(&connector, "after-cpu").await;
}

/// On a single-threaded runtime a spinning guest that never yielded would starve everything:
/// it yields at every epoch tick, so another call completes meanwhile and the wall-clock
/// timeout can fire.
#[tokio::test(flavor = "current_thread")]
async fn a_spinning_guest_yields_so_other_calls_and_the_timeout_still_run() {
    let store = local_store().await;
    let spinner = common::builder_for(&store.s3, &[]).cpu_budget(Duration::from_secs(60)).build().unwrap();
    let spinning = tokio::spawn(async move { run_guest(&spinner, SPIN).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let connector = common::connector_for(&store.s3, &[]);
    let started = Instant::now();
    a_normal_call_succeeds(&connector, "meanwhile").await;
    assert!(!spinning.is_finished(), "the normal call ran while the guest spun");
    eprintln!("two calls beside a spinning guest on one thread: {:?}", started.elapsed());
    // Dropping the call drops its instance.
    spinning.abort();
    assert!(spinning.await.unwrap_err().is_cancelled());

    let timed = common::builder_for(&store.s3, &[]).call_timeout(Duration::from_millis(200)).build().unwrap();
    let started = Instant::now();
    let error = run_guest(&timed, SPIN).await.unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::Timeout)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_allocates_without_bound_is_stopped_at_its_memory_limit() {
    let store = local_store().await;
    let small = common::builder_for(&store.s3, &[]).memory_limit(16 << 20).build().unwrap();
    let error = run_guest(&small, GROW).await.unwrap_err();
    assert!(
        matches!(&error, Error::Limit(Exceeded::Memory { limit, .. }) if *limit == 16 << 20),
        "{error:?}"
    );
    assert!(error.to_string().contains("memory limit of 16 MiB"), "{error}");
    assert!(error.to_string().contains("asked to grow to 16.1 MiB"), "{error}");
    a_normal_call_succeeds(&small, "after-memory").await;

    // The default is the pooling allocator's slot, 128 MiB.
    let default = common::connector_for(&store.s3, &[]);
    let error = run_guest(&default, GROW).await.unwrap_err();
    assert!(error.to_string().contains("memory limit of 128 MiB"), "{error}");
    a_normal_call_succeeds(&default, "after-default-memory").await;
}

/// The real plugin retrying against a server that always answers 503 would send 20 requests;
/// the host cuts the call at its cap, and the server sees exactly the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_floods_requests_is_cut_at_the_cap() {
    let server = common::recording_server::RecordingServer::start().await;
    server.answer(common::recording_server::Answer {
        status: 503,
        headers: vec![],
        body: "<Error><Code>SlowDown</Code><Message>slow down</Message></Error>".to_owned(),
    });
    let connector = common::builder_at(&server.endpoint, "AKLIMITS00000000003", &Secret::new("lim"), &[])
        .max_attempts(20)
        .max_requests_per_call(4)
        .build()
        .unwrap();
    let error = connector.head_bucket("flood").await.unwrap_err();
    assert!(matches!(error, Error::Denied(_)), "{error:?}");
    assert!(error.to_string().contains("more than 4 requests in one call, the host's cap"), "{error}");
    assert_eq!(server.requests().len(), 4, "the server saw exactly the cap");

    // The cap is per call: the next call starts afresh.
    server.answer(common::recording_server::Answer { status: 200, headers: vec![], body: String::new() });
    connector.head_bucket("flood").await.unwrap();
    assert_eq!(server.requests().len(), 5);
}

/// A hostile guest bounded by every limit: a cap it failed to hit would leave it to the CPU
/// budget, which the assertions below tell apart.
fn hoarder_connector(store: &Store) -> s3_connector_host::Connector {
    hoarder_builder(store).build().unwrap()
}

fn hoarder_builder(store: &Store) -> s3_connector_host::ConnectorBuilder {
    common::builder_for(&store.s3, &[]).cpu_budget(Duration::from_secs(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_opens_bodies_without_end_is_stopped_at_the_host_buffer_cap() {
    let store = local_store().await;
    let connector = hoarder_connector(&store);
    let error = run_guest_export(&connector, HTTP_HOARDER, "bodies").await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(&error, Error::Limit(Exceeded::HostBuffer { .. })), "{error:?}");
    // A request counts its body twice until sent, 2 MiB each: 16 requests fill 64 MiB.
    assert_eq!(
        message,
        "the plugin failed: it exceeded the host's buffer limit of 64.0 MiB: it asked for 2.0 MiB more \
         while the host held 64.0 MiB for it (32 open request or response bodies at 2.0 MiB each, 0.0 KiB \
         of headers); the host stopped it"
    );
    a_normal_call_succeeds(&connector, "after-bodies").await;

    let small = hoarder_builder(&store).host_buffer_limit(8 << 20).build().unwrap();
    let error = run_guest_export(&small, HTTP_HOARDER, "bodies").await.unwrap_err();
    assert!(error.to_string().contains("buffer limit of 8.0 MiB"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_hoards_header_maps_is_stopped_at_the_host_buffer_cap() {
    let store = local_store().await;
    let connector = hoarder_builder(&store).host_buffer_limit(1 << 20).build().unwrap();
    let error = run_guest_export(&connector, HTTP_HOARDER, "headers").await.unwrap_err();
    let message = error.to_string();
    // Maps of one 60 KiB header (60.1 KiB with the host's bookkeeping): the 18th would pass 1 MiB.
    assert!(message.contains("buffer limit of 1.0 MiB: it asked for 60.1 KiB more"), "{message}");
    assert!(
        message.contains("(0 open request or response bodies at 2.0 MiB each, 1021.4 KiB of headers)"),
        "{message}"
    );
    a_normal_call_succeeds(&connector, "after-headers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_header_map_stops_the_guest_with_its_own_error() {
    let store = local_store().await;
    let connector = hoarder_connector(&store);
    let error = run_guest_export(&connector, HTTP_HOARDER, "oversized-header").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the plugin failed: it built a header map larger than the host's limit of 128 KiB; the host stopped it"
    );
    a_normal_call_succeeds(&connector, "after-oversized").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_hoards_handles_is_stopped_at_the_resource_cap() {
    let store = local_store().await;
    let connector = hoarder_connector(&store);
    let error = run_guest_export(&connector, HTTP_HOARDER, "handles").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the plugin failed: it held more than 4096 host resources (streams, requests, header maps) at once, \
         the host's limit; the host stopped it"
    );
    a_normal_call_succeeds(&connector, "after-handles").await;
}

/// The guest traps unless the host refused each header with the right header error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_header_names_and_smuggled_headers_are_refused_to_a_guest() {
    let store = local_store().await;
    let connector = hoarder_connector(&store);
    run_guest_export(&connector, HTTP_HOARDER, "forbidden-headers").await.unwrap();
}

/// The guest of `fixtures/egress_guest.wat` with its request in place: `scheme` 0 HTTP,
/// 1 HTTPS, 2 other (named by `other`).
fn egress_guest(scheme: u32, other: &str, authority: &str, path: &str) -> String {
    let word = |n: usize| {
        format!("\\{:02x}\\{:02x}\\{:02x}\\{:02x}", n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >> 24)
    };
    let data = format!(
        r#"(data (i32.const 0) "{}{}{}{}") (data (i32.const 16) "{other}") (data (i32.const 256) "{authority}")
           (data (i32.const 512) "{path}")"#,
        word(scheme as usize),
        word(other.len()),
        word(authority.len()),
        word(path.len())
    );
    include_str!("fixtures/egress_guest.wat").replace(";;REQUEST;;", &data)
}

/// A guest that builds its own requests through `wasi:http`, not the plugin's code: only the
/// configured scheme, host and port are reachable. The endpoint's server and a second server on
/// another port both count what arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_sending_its_own_requests_reaches_only_the_endpoint() {
    let endpoint = common::recording_server::RecordingServer::start().await;
    endpoint.answer(common::recording_server::Answer { status: 200, headers: vec![], body: String::new() });
    let elsewhere = common::recording_server::RecordingServer::start().await;
    let connector =
        common::builder_at(&endpoint.endpoint, "AKLIMITS00000000004", &Secret::new("lim"), &["pub=read"])
            .cpu_budget(Duration::from_secs(20))
            .build()
            .unwrap();
    let own = endpoint.endpoint.trim_start_matches("http://").to_owned();
    let port = own.rsplit_once(':').unwrap().1.to_owned();
    let other_port = elsewhere.endpoint.trim_start_matches("http://").to_owned();

    // Control: the same guest reaches the endpoint with an allowed request.
    run_guest_export(&connector, &egress_guest(0, "", &own, "/pub/k"), "send").await.unwrap();
    assert_eq!(endpoint.requests().len(), 1, "the harness reaches the endpoint");

    let attempts: &[(u32, &str, String, &str, &str)] = &[
        (0, "", other_port.clone(), "/pub/k", "is not on the configured endpoint"),
        (0, "", format!("localhost:{port}"), "/pub/k", "is not on the configured endpoint"),
        (0, "", format!("2130706433:{port}"), "/pub/k", "is not on the configured endpoint"),
        (0, "", format!("[::1]:{port}"), "/pub/k", "is not on the configured endpoint"),
        (1, "", own.clone(), "/pub/k", "https://"),
        (0, "", own.clone(), "/private/k", "needs 'read'"),
    ];
    for (scheme, other, authority, path, fragment) in attempts {
        let guest = egress_guest(*scheme, other, authority, path);
        let error = run_guest_export(&connector, &guest, "send").await.unwrap_err();
        let Error::Denied(denial) = &error else { panic!("{authority}{path}: {error:?}") };
        assert!(denial.0.contains(fragment), "{scheme} {other} {authority}{path}: {}", denial.0);
        if !path.starts_with("/private") {
            assert!(denial.0.contains("is not on the configured endpoint"), "{}", denial.0);
        }
    }
    // A scheme other than HTTP(S) is refused by wasmtime-wasi-http before the guard sees it: the
    // guest gets `HTTP-protocol-error` and nothing is sent.
    run_guest_export(&connector, &egress_guest(2, "ftp", &own, "/pub/k"), "send").await.unwrap();
    assert_eq!(endpoint.requests().len(), 1, "no refused request reached the endpoint");
    assert!(elsewhere.requests().is_empty(), "nothing reached the other port");
}
