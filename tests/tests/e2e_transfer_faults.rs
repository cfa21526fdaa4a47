//! Every kind of transfer through the fault-injection proxy in front of s3s-fs: uploads of
//! 1 KiB, 1 MiB and 40 MiB (multipart) of known length, a stream of unknown length, a JSON-action
//! document and `serve` PUTs meet resets, `503 SlowDown` and `500`, and are retried with the same
//! bytes; downloads cut off mid-body resume where they stopped. Each checks the bytes on the
//! server's disk or delivered, and that nothing half-written is left behind.

use std::sync::Arc;

use s3_connector_host::ObjectRef;
use s3_connector_host::types::{ChecksumAlgorithm, PutOptions, S3Error};
use s3_connector_host::{Error, FileSource, FsDocumentStore, Policy};
use s3_connector_tests::fault_proxy::{Fault, FaultProxy};
use s3_connector_tests::serving::Serving;
use s3_connector_tests::{TestServer, pattern};

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

async fn setup() -> (TestServer, FaultProxy) {
    let server = TestServer::start().await;
    server.admin().create_bucket("faults").await.unwrap();
    let proxy = FaultProxy::start(&server.s3.endpoint()).await;
    (server, proxy)
}

fn stored(server: &TestServer, key: &str) -> Option<Vec<u8>> {
    std::fs::read(server.object_path("faults", key)).ok()
}

/// Files in the bucket's directory besides the objects named: what a failed or retried upload
/// would leave half-written.
fn leftovers(server: &TestServer, keys: &[&str]) -> Vec<String> {
    let dir = server.root().join("faults");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !keys.contains(&name.as_str()) {
            found.push(name);
        }
    }
    found
}

fn transient() -> [Fault; 3] {
    [
        Fault::Error { status: 503, code: "SlowDown" },
        Fault::Reset,
        Fault::Error { status: 500, code: "InternalError" },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_of_known_length_are_replayed_after_transient_faults() {
    let (server, proxy) = setup().await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    let mut keys = Vec::new();
    for (i, size) in [KIB, MIB].into_iter().enumerate() {
        for (j, fault) in transient().into_iter().enumerate() {
            let key = format!("known-{size}-{j}.bin");
            let body = pattern(size, (i * 10 + j) as u64);
            let before = proxy.seen().len();
            proxy.inject([fault.clone()]);
            let reader = std::io::Cursor::new(body.clone());
            let put = c
                .put_object(&ObjectRef::new("faults", &key), reader, Some(size as u64), Default::default())
                .await;
            assert!(put.is_ok(), "{size} bytes after {fault:?}: {put:?}");
            assert_eq!(stored(&server, &key).as_deref(), Some(&body[..]), "{key}");
            let puts = proxy.seen()[before..].iter().filter(|s| s.method == "PUT").count();
            assert_eq!(puts, 2, "{key}: the fault, then the same bytes again");
            keys.push(key);
        }
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_eq!(leftovers(&server, &keys), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_uploads_retry_their_parts_known_length_or_not() {
    let (server, proxy) = setup().await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    for (key, length, size) in [("known-40m.bin", true, 40 * MIB), ("stream-20m.bin", false, 20 * MIB)] {
        let body = pattern(size, size as u64);
        // The first request creates the upload; the next parts meet the faults.
        let [slow, reset, error] = transient();
        proxy.inject([Fault::Delay(std::time::Duration::from_millis(1)), slow, reset, error]);
        let reader = std::io::Cursor::new(body.clone());
        let length = length.then_some(size as u64);
        let put = c.put_object(&ObjectRef::new("faults", key), reader, length, Default::default()).await;
        assert!(put.is_ok(), "{key}: {put:?}");
        assert_eq!(proxy.pending(), 0, "{key}: every fault was met");
        assert_eq!(stored(&server, key).map(|b| b == body), Some(true), "{key}: the bytes differ");
    }
    assert_eq!(leftovers(&server, &["known-40m.bin", "stream-20m.bin"]), Vec::<String>::new());
}

/// Uploads from a file (`put_object_from`: the host splices each part's range into its request)
/// meet the same faults: a failed part's range is read again from the file, with or without a
/// checksum, and a single PUT of 17 MiB, above the replay limit of a stream, is replayed too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_from_a_file_read_their_ranges_again_after_faults() {
    let (server, proxy) = setup().await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    let dir = tempfile::tempdir().unwrap();
    let single = Some(32 * MIB as u64);
    let cases = [
        ("file-40m.bin", 40 * MIB, None, None),
        ("file-40m-crc64.bin", 40 * MIB, Some(ChecksumAlgorithm::Crc64nvme), None),
        ("file-40m-sha256.bin", 40 * MIB, Some(ChecksumAlgorithm::Sha256), None),
        ("file-17m-single.bin", 17 * MIB, None, single),
        ("file-17m-single-crc32.bin", 17 * MIB, Some(ChecksumAlgorithm::Crc32), single),
    ];
    for (key, size, checksum, multipart_threshold) in cases {
        let body = pattern(size, size as u64 + key.len() as u64);
        let path = dir.path().join(key);
        std::fs::write(&path, &body).unwrap();
        let [slow, reset, error] = transient();
        let before = proxy.seen().len();
        match multipart_threshold {
            // The first request creates the upload; the next parts meet the faults.
            None => proxy.inject([Fault::Delay(std::time::Duration::from_millis(1)), slow, reset, error]),
            Some(_) => proxy.inject([slow, reset]),
        }
        let options = PutOptions { checksum, multipart_threshold, ..Default::default() };
        let source = FileSource::open(&path).unwrap();
        let put = c.put_object_from(&ObjectRef::new("faults", key), source, options).await;
        assert!(put.is_ok(), "{key}: {put:?}");
        assert_eq!(proxy.pending(), 0, "{key}: every fault was met");
        assert_eq!(stored(&server, key).map(|b| b == body), Some(true), "{key}: the bytes differ");
        let puts = proxy.seen()[before..].iter().filter(|s| s.method == "PUT").count();
        let expected = if multipart_threshold.is_some() { 3 } else { 5 + 3 };
        assert_eq!(puts, expected, "{key}: every part once, and again after each fault");
    }
    let keys: Vec<&str> = cases.iter().map(|case| case.0).collect();
    assert_eq!(leftovers(&server, &keys), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_put_above_the_replay_limit_is_sent_once_and_leaves_nothing() {
    let (server, proxy) = setup().await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    let size = 17 * MIB;
    let body = pattern(size, 17);
    proxy.inject([Fault::Error { status: 503, code: "SlowDown" }]);
    // A threshold raised above the 16 MiB replay limit makes this one streamed PUT.
    let options = PutOptions { multipart_threshold: Some(32 * MIB as u64), ..Default::default() };
    let reader = std::io::Cursor::new(body);
    let put =
        c.put_object(&ObjectRef::new("faults", "big-single.bin"), reader, Some(size as u64), options).await;
    assert!(matches!(&put, Err(Error::S3(S3Error::Service(e))) if e.code == "SlowDown"), "{put:?}");
    assert_eq!(stored(&server, "big-single.bin"), None);
    assert_eq!(leftovers(&server, &[]), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_cut_off_mid_body_resume_where_they_stopped() {
    let (server, proxy) = setup().await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    let body = pattern(4 * MIB, 5);
    // With a checksum, so that S3 sends the whole object's and it is checked across the pieces.
    let options = PutOptions { checksum: Some(ChecksumAlgorithm::Crc32), ..Default::default() };
    server.admin().put_object_bytes(&ObjectRef::new("faults", "cut.bin"), &body, options).await.unwrap();

    proxy.inject([Fault::Truncate(MIB), Fault::Truncate(MIB)]);
    let sink = SharedSink::default();
    let before = proxy.seen().len();
    let info = c.get_object(&ObjectRef::new("faults", "cut.bin"), sink.clone(), Default::default()).await;
    assert!(info.is_ok(), "{info:?}");
    let gets: Vec<_> = proxy.seen()[before..].iter().map(|s| s.range.clone()).collect();
    assert_eq!(
        gets,
        [None, Some(format!("bytes={MIB}-")), Some(format!("bytes={}-", 2 * MIB))],
        "the first GET, then each resumed from the last byte written"
    );
    assert!(sink.bytes() == body, "the bytes delivered are exactly the object's");

    // Past the attempt budget (3 in all), the download fails and says how far it got.
    proxy.inject([Fault::Truncate(MIB), Fault::Truncate(MIB), Fault::Truncate(MIB)]);
    let failed =
        c.get_object(&ObjectRef::new("faults", "cut.bin"), tokio::io::sink(), Default::default()).await;
    let message = failed.unwrap_err().to_string();
    assert!(message.contains("broke after 3145728 of 4194304 bytes"), "{message}");
}

/// Collects what is written to it.
#[derive(Clone, Default)]
struct SharedSink(Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedSink {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl tokio::io::AsyncWrite for SharedSink {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.lock().unwrap().extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_action_document_upload_is_retried() {
    let (server, proxy) = setup().await;
    let documents = tempfile::tempdir().unwrap();
    let body = pattern(MIB, 9);
    std::fs::write(documents.path().join("report.bin"), &body).unwrap();
    let store = Arc::new(FsDocumentStore::new(documents.path()).unwrap());
    let c = server.builder_via(proxy.endpoint(), Policy::allow_all()).documents(store).build().unwrap();
    proxy.inject([Fault::Reset]);
    let action = r#"{"action":"uploadDocument","bucket":"faults","key":"doc.bin",
        "document":{"storeId":"fs","documentId":"report.bin"}}"#;
    let answer = c.invoke(action).await;
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(stored(&server, "doc.bin").as_deref(), Some(&body[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_puts_of_both_sizes_are_retried() {
    let (server, proxy) = setup().await;
    let serving = Serving::start(server.connector_via(proxy.endpoint(), Policy::allow_all())).await;
    // Under serve's own 1 MiB replay buffer, and above it (read into the plugin up to 16 MiB).
    for (key, size) in [("serve-small.bin", 100 * KIB), ("serve-2m.bin", 2 * MIB)] {
        let body = pattern(size, size as u64);
        proxy.inject([Fault::Error { status: 503, code: "SlowDown" }]);
        let auth = format!("Bearer {}", s3_connector_tests::serving::TOKEN);
        let (status, answer) = s3_connector_tests::http_client::call(
            serving.address,
            "PUT",
            &format!("/faults/{key}"),
            &[("authorization", &auth)],
            s3_connector_tests::http_client::bytes(body.clone()),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{key}: {}", String::from_utf8_lossy(&answer));
        assert_eq!(stored(&server, key).as_deref(), Some(&body[..]), "{key}");
    }
    serving.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_retry_budget_stops_retries_when_too_many_fail() {
    let (server, proxy) = setup().await;
    // Room for two retries (5 tokens each), shared by every call of the connector and its clones.
    let c = server.builder_via(proxy.endpoint(), Policy::allow_all()).retry_budget(10).build().unwrap();
    let slow = || Fault::Error { status: 503, code: "SlowDown" };
    proxy.inject([slow(), slow(), slow()]);
    let first = c.put_object_bytes(&ObjectRef::new("faults", "a.bin"), b"a", Default::default()).await;
    assert!(matches!(&first, Err(Error::S3(S3Error::Service(e))) if e.code == "SlowDown"), "{first:?}");
    assert_eq!(c.retry_budget().tokens(), 0, "its two retries used the budget");

    proxy.inject([slow()]);
    let before = proxy.seen().len();
    let second =
        c.clone().put_object_bytes(&ObjectRef::new("faults", "b.bin"), b"b", Default::default()).await;
    match &second {
        Err(error @ Error::RetryBudget(message)) => {
            assert!(message.contains("retry budget is empty"), "{message}");
            assert_eq!((error.code(), error.exit_code()), ("retry-budget-exhausted", 1));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(proxy.seen().len() - before, 1, "the refused retry never left the host");
    assert_eq!(c.retry_budget().refused(), 1);

    // Successes refill it: five first-attempt successes pay for one retry again.
    for i in 0..5 {
        c.put_object_bytes(&ObjectRef::new("faults", format!("ok-{i}.bin")), b"ok", Default::default())
            .await
            .unwrap();
    }
    proxy.inject([slow()]);
    let third = c.put_object_bytes(&ObjectRef::new("faults", "c.bin"), b"c", Default::default()).await;
    assert!(third.is_ok(), "{third:?}");
    assert_eq!(stored(&server, "c.bin").as_deref(), Some(&b"c"[..]));
}
