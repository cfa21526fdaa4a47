//! Limits the host puts on a call.

mod common;

use std::time::{Duration, Instant};

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
    let connector = common::connector_at(&endpoint, "AKLIMITS00000000001", &Secret::new("limits"), &[])
        .with_call_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let error = connector.head_object("silent", "k").await.unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::Timeout)), "{error:?}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(10), "{elapsed:?}");
    held.abort();
}

// Hostile guests: tiny components in the text format, run through the sandbox's own store,
// limits and error mapping (`runtime::guest_probe`).

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

async fn run_guest(connector: &s3_connector_host::Connector, wat: &str) -> Result<(), Error> {
    let component = wat::parse_str(wat).unwrap();
    s3_connector_host::runtime::guest_probe::run_export(connector, &component, "run").await
}

struct Store {
    s3: s3_connector_host::local_store::LocalS3,
    _dir: tempfile::TempDir,
}

async fn local_store() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let s3 =
        s3_connector_host::local_store::LocalS3::start(dir.path(), "AKLIMITS00000000002", Secret::new("lim"))
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
    let connector = common::connector_for(&store.s3, &[]).with_cpu_budget(Duration::from_millis(300));
    run_guest(&connector, QUIET).await.unwrap();
    let started = Instant::now();
    let error = run_guest(&connector, SPIN).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(&error, Error::Plugin(m) if m.contains("CPU budget of 0.3 s")), "{error:?}");
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
    let spinner = common::connector_for(&store.s3, &[]).with_cpu_budget(Duration::from_secs(60));
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

    let timed = common::connector_for(&store.s3, &[]).with_call_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let error = run_guest(&timed, SPIN).await.unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::Timeout)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_allocates_without_bound_is_stopped_at_its_memory_limit() {
    let store = local_store().await;
    let small = common::connector_for(&store.s3, &[]).with_memory_limit(16 << 20);
    let error = run_guest(&small, GROW).await.unwrap_err();
    assert!(matches!(&error, Error::Plugin(m) if m.contains("memory limit of 16 MiB")), "{error:?}");
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
    let connector = common::connector_at(&server.endpoint, "AKLIMITS00000000003", &Secret::new("lim"), &[])
        .with_max_attempts(20)
        .with_max_requests_per_call(4);
    let error = connector.head_bucket("flood").await.unwrap_err();
    assert!(matches!(error, Error::Denied(_)), "{error:?}");
    assert!(error.to_string().contains("more than 4 requests in one call, the host's cap"), "{error}");
    assert_eq!(server.requests().len(), 4, "the server saw exactly the cap");

    // The cap is per call: the next call starts afresh.
    server.answer(common::recording_server::Answer { status: 200, headers: vec![], body: String::new() });
    connector.head_bucket("flood").await.unwrap();
    assert_eq!(server.requests().len(), 5);
}
