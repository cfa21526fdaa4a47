//! Parts in flight side by side meet faults (the fault-injection proxy in front of s3s-fs): a
//! part whose first attempt fails transiently is sent again and the upload completes; a part
//! refused for good ends the upload, which is aborted, leaving no part file on the server; a
//! range of a parallel download failing transiently is fetched again.

use s3_connector_host::ObjectRef;
use s3_connector_host::types::{PutOptions, S3Error};
use s3_connector_host::{Error, Policy};
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
