//! Retries through the fault-injection proxy in front of s3s-fs: transient failures are
//! retried, each attempt signed afresh and checked by the host; retries stop at the limit and
//! in bounded time (replayed bodies and resumed downloads: `e2e_transfer_faults.rs`); a 200 with an error body is retried; a
//! skewed clock is corrected from the server's `Date`. The stored objects are checked on the
//! server's disk.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use s3_connector_host::ObjectRef;
use s3_connector_host::audit::{Decision, MemorySink};
use s3_connector_host::types::S3Error;
use s3_connector_host::{ConnectorBuilder, Error, Policy};
use s3_connector_tests::fault_proxy::{Fault, FaultProxy};
use s3_connector_tests::{TestServer, pattern};

async fn setup() -> (TestServer, FaultProxy) {
    let server = TestServer::start().await;
    server.admin().create_bucket("retry").await.unwrap();
    let proxy = FaultProxy::start(&server.s3.endpoint()).await;
    (server, proxy)
}

fn stored(server: &TestServer, key: &str) -> Option<Vec<u8>> {
    std::fs::read(server.object_path("retry", key)).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_errors_are_retried_each_attempt_checked_by_the_host() {
    let (server, proxy) = setup().await;
    let audit = Arc::new(MemorySink::default());
    let c = server.builder_via(proxy.endpoint(), Policy::allow_all()).audit(audit.clone()).build().unwrap();
    let body = pattern(100_000, 1);
    proxy.inject([
        Fault::Error { status: 503, code: "SlowDown" },
        Fault::Error { status: 500, code: "InternalError" },
    ]);
    c.put_object_bytes(&ObjectRef::new("retry", "a.bin"), &body, Default::default()).await.unwrap();
    assert_eq!(proxy.seen().len(), 3, "{:?}", proxy.seen());
    assert!(proxy.seen().iter().all(|s| s.method == "PUT" && s.body_length == body.len()));
    assert_eq!(stored(&server, "a.bin").as_deref(), Some(body.as_slice()));
    // Three requests left the sandbox, each one checked by the host's policy.
    let statuses: Vec<_> = audit.records().iter().map(|r| (r.decision, r.status)).collect();
    assert_eq!(
        statuses,
        [(Decision::Allowed, Some(503)), (Decision::Allowed, Some(500)), (Decision::Allowed, Some(200))]
    );

    // Reads too, and a 429 or 502 without an S3 body.
    proxy.inject([Fault::Error { status: 429, code: "" }, Fault::Error { status: 502, code: "" }]);
    let info = c.head_object(&ObjectRef::new("retry", "a.bin")).await.unwrap();
    assert_eq!((info.size, proxy.seen().len()), (100_000, 6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded_in_count_and_time() {
    let (server, proxy) = setup().await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    proxy.inject(std::iter::repeat_n(Fault::Error { status: 503, code: "ServiceUnavailable" }, 5));
    let started = Instant::now();
    let error = c
        .put_object_bytes(&ObjectRef::new("retry", "never.bin"), b"x", Default::default())
        .await
        .unwrap_err();
    // Three attempts, two backoffs of at most 100 ms and 200 ms.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(matches!(&error, Error::S3(S3Error::Service(e)) if e.status == 503), "{error:?}");
    assert_eq!((proxy.seen().len(), proxy.pending()), (3, 2));
    assert_eq!(stored(&server, "never.bin"), None);

    // One attempt only, when so configured; errors that are not transient are never retried.
    let once = ConnectorBuilder::from_connector(&c).max_attempts(1).build().unwrap();
    assert!(once.head_object(&ObjectRef::new("retry", "never.bin")).await.is_err());
    assert_eq!((proxy.seen().len(), proxy.pending()), (4, 1));
    proxy.inject([Fault::Error { status: 403, code: "AccessDenied" }]);
    let before = proxy.seen().len();
    let denied = c.head_object(&ObjectRef::new("retry", "never.bin")).await.unwrap_err();
    assert!(matches!(denied, Error::S3(S3Error::Service(_) | S3Error::AccessDenied(_))), "{denied:?}");
    // The queue held one 503 (retried) and the 403 (final).
    assert_eq!(proxy.seen().len() - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_are_retried_and_slow_answers_are_waited_for() {
    let (server, proxy) = setup().await;
    let audit = Arc::new(MemorySink::default());
    let c = server.builder_via(proxy.endpoint(), Policy::allow_all()).audit(audit.clone()).build().unwrap();
    let body = pattern(5000, 2);
    proxy.inject([Fault::Reset]);
    c.put_object_bytes(&ObjectRef::new("retry", "reset.bin"), &body, Default::default()).await.unwrap();
    assert_eq!(proxy.seen().len(), 2);
    assert_eq!(stored(&server, "reset.bin").as_deref(), Some(body.as_slice()));
    // The broken attempt is audited without a status, with what went wrong.
    let records = audit.records();
    assert_eq!((records[0].status, records[1].status), (None, Some(200)));
    assert!(records[0].reason.as_deref().is_some_and(|r| r.contains("failed")), "{:?}", records[0]);

    proxy.inject([Fault::Delay(Duration::from_millis(300))]);
    let started = Instant::now();
    c.head_object(&ObjectRef::new("retry", "reset.bin")).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(proxy.seen().len(), 3, "a slow answer is not a reason to retry");
    let slow = &audit.records()[2];
    assert_eq!(slow.action.as_deref(), Some("HeadObject"));
    assert!(slow.duration_ms >= 300, "{slow:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_with_an_error_body_is_retried_when_transient() {
    let (server, proxy) = setup().await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    let body = pattern(3000, 4);
    server
        .admin()
        .put_object_bytes(&ObjectRef::new("retry", "src.bin"), &body, Default::default())
        .await
        .unwrap();
    proxy.inject([Fault::ErrorIn200 { code: "InternalError" }]);
    c.copy_object(&ObjectRef::new("retry", "src.bin"), &ObjectRef::new("retry", "dst.bin")).await.unwrap();
    assert_eq!(proxy.seen().len(), 2);
    assert_eq!(stored(&server, "dst.bin").as_deref(), Some(body.as_slice()));

    proxy.inject([Fault::ErrorIn200 { code: "AccessDenied" }]);
    let error = c
        .copy_object(&ObjectRef::new("retry", "src.bin"), &ObjectRef::new("retry", "dst2.bin"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::AccessDenied(_))), "{error:?}");
    assert_eq!(proxy.seen().len(), 3);
    assert_eq!(stored(&server, "dst2.bin"), None);

    // CompleteMultipartUpload: the explicit calls, with the completion failing once in a 200.
    let upload =
        c.create_multipart_upload(&ObjectRef::new("retry", "mp.bin"), Default::default()).await.unwrap();
    let etag =
        c.upload_part(&upload, 1, std::io::Cursor::new(body.clone()), body.len() as u64).await.unwrap();
    proxy.inject([Fault::ErrorIn200 { code: "InternalError" }]);
    let part = s3_connector_host::types::CompletedPart { part_number: 1, etag };
    c.complete_multipart_upload(&upload, &[part]).await.unwrap();
    assert_eq!(stored(&server, "mp.bin").as_deref(), Some(body.as_slice()));
}

/// `20261128T223323Z` to seconds of the day's clock, enough to compare two nearby times.
fn amz_seconds(date: &str) -> i64 {
    let number = |range: std::ops::Range<usize>| date[range].parse::<i64>().unwrap();
    number(6..8) * 86_400 + number(9..11) * 3600 + number(11..13) * 60 + number(13..15)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_clock_is_corrected_from_the_date_header() {
    let (server, proxy) = setup().await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    // Ten minutes: within s3s-fs's own 15-minute tolerance, so the retry is accepted.
    proxy.inject([Fault::Skewed { shift_seconds: 600 }]);
    c.put_object_bytes(&ObjectRef::new("retry", "skew.bin"), b"on time", Default::default()).await.unwrap();
    let seen = proxy.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let dates: Vec<i64> = seen.iter().map(|s| amz_seconds(s.amz_date.as_deref().unwrap())).collect();
    let shift = dates[1] - dates[0];
    assert!((595..=605).contains(&shift), "signed {shift} s later, expected about 600: {seen:?}");
    assert_eq!(stored(&server, "skew.bin").as_deref(), Some(&b"on time"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_an_hour_behind_is_corrected_against_the_real_server() {
    let server = TestServer::start().await;
    server.admin().create_bucket("retry").await.unwrap();
    let audit = Arc::new(MemorySink::default());
    let behind = SystemTime::now() - Duration::from_secs(3600);
    let c = server.builder(Policy::allow_all()).pinned_time(behind).audit(audit.clone()).build().unwrap();
    c.put_object_bytes(&ObjectRef::new("retry", "late.bin"), b"late", Default::default()).await.unwrap();
    let statuses: Vec<_> = audit.records().iter().map(|r| r.status).collect();
    // s3s-fs refuses the first signature as RequestTimeTooSkewed (403), then takes the retry.
    assert_eq!(statuses, [Some(403), Some(200)]);
    assert_eq!(stored(&server, "late.bin").as_deref(), Some(&b"late"[..]));
}
