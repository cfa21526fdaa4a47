//! Parts in flight side by side meet faults (the fault-injection proxy in front of s3s-fs): a
//! part whose first attempt fails transiently is sent again and the upload completes; a part
//! refused for good ends the upload, which is aborted, leaving no part file on the server; a
//! range of a parallel download failing transiently is fetched again. Into a seekable sink (a
//! file), a slow range holds back none of the others, and a range cut off mid-way resumes where
//! it stopped; the object's CRC checksum is verified across the ranges either way.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use s3_connector_host::seekable::RangeWriter;
use s3_connector_host::types::{ChecksumAlgorithm, GetOptions, PutOptions, S3Error};
use s3_connector_host::{Error, FileSink, ObjectRef, Policy, SeekableSink};
use s3_connector_tests::fault_proxy::{Fault, FaultProxy};
use s3_connector_tests::{TestServer, pattern};

const MIB: usize = 1024 * 1024;

fn parts_of_5_mib() -> PutOptions {
    PutOptions { part_size: Some(5 * MIB as u64), parallel_parts: Some(3), ..Default::default() }
}

fn upload_files(server: &TestServer) -> Vec<String> {
    std::fs::read_dir(server.root())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".upload"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_failing_transiently_is_sent_again() {
    let server = TestServer::start().await;
    server.admin().create_bucket("par").await.unwrap();
    let proxy = FaultProxy::start(&server.s3.endpoint()).await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    let body = pattern(16 * MIB, 3);
    // The first request (CreateMultipartUpload) goes through; the first part to arrive is
    // answered 503.
    proxy.inject([Fault::Delay(std::time::Duration::ZERO), Fault::Error { status: 503, code: "SlowDown" }]);
    let reader = std::io::Cursor::new(body.clone());
    let put = c.put_object(&ObjectRef::new("par", "big.bin"), reader, None, parts_of_5_mib()).await.unwrap();
    assert!(put.etag.unwrap().ends_with("-4\""));
    let seen = proxy.seen();
    let parts = seen.iter().filter(|s| s.uri.contains("partNumber=")).count();
    assert_eq!(parts, 5, "4 parts, one of them sent twice: {seen:?}");
    assert_eq!(std::fs::read(server.object_path("par", "big.bin")).unwrap(), body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_refused_for_good_aborts_the_upload() {
    let server = TestServer::start().await;
    server.admin().create_bucket("par").await.unwrap();
    let proxy = FaultProxy::start(&server.s3.endpoint()).await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    proxy.inject([
        Fault::Delay(std::time::Duration::ZERO),
        Fault::Delay(std::time::Duration::ZERO),
        Fault::Error { status: 403, code: "AccessDenied" },
    ]);
    let reader = std::io::Cursor::new(pattern(26 * MIB, 4));
    let error =
        c.put_object(&ObjectRef::new("par", "big.bin"), reader, None, parts_of_5_mib()).await.unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::AccessDenied(_))), "{error:?}");
    let seen = proxy.seen();
    let last = seen.last().unwrap();
    assert_eq!(last.method, "DELETE", "the upload was aborted last: {seen:?}");
    assert_eq!(upload_files(&server), Vec::<String>::new(), "no part left on the server");
    assert!(std::fs::read(server.object_path("par", "big.bin")).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_failing_transiently_is_fetched_again() {
    use tokio::io::AsyncReadExt;
    let server = TestServer::start().await;
    server.admin().create_bucket("par").await.unwrap();
    let body = pattern(3 * MIB + 11, 5);
    server
        .admin()
        .put_object_bytes(&ObjectRef::new("par", "r.bin"), &body, Default::default())
        .await
        .unwrap();
    let proxy = FaultProxy::start(&server.s3.endpoint()).await;
    let c = server.connector_via(proxy.endpoint(), Policy::allow_all());
    // The HEAD goes through; the first range to arrive is answered 500.
    proxy.inject([
        Fault::Delay(std::time::Duration::ZERO),
        Fault::Error { status: 500, code: "InternalError" },
    ]);
    let options = s3_connector_host::types::GetOptions {
        parallel_ranges: Some(3),
        range_size: Some(MIB as u64),
        ..Default::default()
    };
    let (sink, mut reader) = tokio::io::duplex(1 << 20);
    let reading = tokio::spawn(async move {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.unwrap();
        bytes
    });
    c.get_object(&ObjectRef::new("par", "r.bin"), sink, options).await.unwrap();
    assert_eq!(reading.await.unwrap(), body);
    let gets = proxy.seen().iter().filter(|s| s.method == "GET").count();
    assert_eq!(gets, 5, "4 ranges, one of them fetched twice");
}

/// A file sink that records the offset of every range it opens, in the order they are opened.
#[derive(Clone)]
struct RecordingSink {
    file: FileSink,
    opened: Arc<Mutex<Vec<u64>>>,
}

impl SeekableSink for RecordingSink {
    fn write_range(&self, offset: u64) -> std::io::Result<RangeWriter> {
        self.opened.lock().unwrap().push(offset);
        self.file.write_range(offset)
    }
}

/// An object of 3 MiB and 11 bytes with a CRC-32C checksum, and a connector through the
/// fault proxy.
async fn object_behind_proxy(
    server: &TestServer,
    proxy: &FaultProxy,
) -> (Vec<u8>, s3_connector_host::Connector) {
    server.admin().create_bucket("par").await.unwrap();
    let body = pattern(3 * MIB + 11, 9);
    let options = PutOptions { checksum: Some(ChecksumAlgorithm::Crc32c), ..Default::default() };
    server.admin().put_object_bytes(&ObjectRef::new("par", "r.bin"), &body, options).await.unwrap();
    (body, server.connector_via(proxy.endpoint(), Policy::allow_all()))
}

/// Ranges of 1 MiB (4 of the object), 3 in flight.
fn three_ranges_of_1_mib() -> GetOptions {
    GetOptions { parallel_ranges: Some(3), range_size: Some(MIB as u64), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn into_a_file_a_slow_range_holds_back_none_of_the_others() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(&server.s3.endpoint()).await;
    let (body, c) = object_behind_proxy(&server, &proxy).await;
    // The HEAD goes through; the first range to reach the server is answered 800 ms late.
    proxy.inject([Fault::Delay(Duration::ZERO), Fault::Delay(Duration::from_millis(800))]);
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("r.bin");
    let sink = RecordingSink { file: FileSink::create(&path).unwrap(), opened: Arc::default() };
    c.get_object_into(&ObjectRef::new("par", "r.bin"), sink.clone(), three_ranges_of_1_mib()).await.unwrap();
    sink.file.persist().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body);

    let seen = proxy.seen();
    let delayed = seen.iter().find(|s| matches!(s.fault, Some(Fault::Delay(d)) if !d.is_zero())).unwrap();
    let delayed_offset: u64 =
        delayed.range.as_deref().unwrap()["bytes=".len()..].split('-').next().unwrap().parse().unwrap();
    let opened = sink.opened.lock().unwrap().clone();
    assert_eq!(opened.len(), 4, "{opened:?}");
    let position = opened.iter().position(|&offset| offset == delayed_offset).unwrap();
    assert!(position >= 2, "the two ranges in flight beside the slow one were written before it: {opened:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn into_a_file_a_range_cut_off_resumes_where_it_stopped() {
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(&server.s3.endpoint()).await;
    let (body, c) = object_behind_proxy(&server, &proxy).await;
    // Ranges of 2 MiB, so two. The HEAD goes through; the first range to reach the server
    // breaks after 1 MiB, and the other is late, so that the cut one is read first (a reset
    // connection loses what its reader had not taken yet; this test is about what was taken).
    let late = Fault::Delay(Duration::from_millis(500));
    proxy.inject([Fault::Delay(Duration::ZERO), Fault::Truncate(MIB), late]);
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("r.bin");
    let sink = FileSink::create(&path).unwrap();
    let options = GetOptions { range_size: Some(2 * MIB as u64), ..three_ranges_of_1_mib() };
    c.get_object_into(&ObjectRef::new("par", "r.bin"), sink.clone(), options).await.unwrap();
    sink.persist().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body);

    let seen = proxy.seen();
    let cut = seen.iter().find(|s| matches!(s.fault, Some(Fault::Truncate(_)))).unwrap();
    let (first, last) = cut.range.as_deref().unwrap()["bytes=".len()..].split_once('-').unwrap();
    let resumed = format!("bytes={}-{last}", first.parse::<usize>().unwrap() + MIB);
    let gets: Vec<_> = seen.iter().filter(|s| s.method == "GET").filter_map(|s| s.range.clone()).collect();
    assert!(gets.contains(&resumed), "the range went on from its last byte written: {gets:?}");
    assert_eq!(gets.len(), 3, "2 ranges and the rest of the cut one: {gets:?}");
}
