//! GetObject in ranges side by side: against s3s-fs the bytes arrive whole and in order and the
//! full-object checksum is verified across the ranges (an object altered on disk fails); into a
//! file sink, the ranges (written as they arrive) make the object, its CRC checksum combined
//! across them or its SHA-256 computed in order, and a corrupt download leaves no file; on the
//! recording server, the HEAD, the ranges pinned to the ETag and the number in flight at once.

use crate::common;

use std::time::Duration;

use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::ObjectRef;
use s3_connector_host::types::{ChecksumAlgorithm, GetOptions, PutOptions, S3Error};
use s3_connector_host::{Connector, Error, FileSink, Secret};
use s3_connector_local_store::LocalS3;
use tokio::io::AsyncReadExt;

const ACCESS_KEY: &str = "AKRANGES00000000001";
const SECRET: &str = "ranges-secret";
const MIB: usize = 1024 * 1024;

fn connector(endpoint: &str) -> Connector {
    common::connector_at(endpoint, ACCESS_KEY, &Secret::new(SECRET), &[])
}

fn parallel(ranges: u32, range_size: usize) -> GetOptions {
    GetOptions { parallel_ranges: Some(ranges), range_size: Some(range_size as u64), ..Default::default() }
}

async fn download(c: &Connector, bucket: &str, key: &str, options: GetOptions) -> Result<Vec<u8>, Error> {
    let (sink, mut reader) = tokio::io::duplex(1 << 20);
    let reading = tokio::spawn(async move {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.map(|_| bytes)
    });
    let result = c.get_object(&ObjectRef::new(bucket, key), sink, options).await;
    let bytes = reading.await.unwrap().unwrap();
    result.map(|_| bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_arrive_in_order_and_the_checksum_spans_them() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("ranges").await.unwrap();
    let body: Vec<u8> = (0..(5 * MIB + 7)).map(|i| (i * 17 % 241) as u8).collect();
    // One PutObject with a CRC32C trailer, which s3s-fs keeps and returns on the HEAD.
    let options = PutOptions {
        checksum: Some(ChecksumAlgorithm::Crc32c),
        multipart_threshold: Some(64 * MIB as u64),
        ..Default::default()
    };
    let reader = std::io::Cursor::new(body.clone());
    c.put_object(&ObjectRef::new("ranges", "big.bin"), reader, Some(body.len() as u64), options)
        .await
        .unwrap();

    let info = c
        .get_object(&ObjectRef::new("ranges", "big.bin"), tokio::io::sink(), parallel(4, MIB))
        .await
        .unwrap();
    assert_eq!(info.size, body.len() as u64);
    assert_eq!(
        download(&c, "ranges", "big.bin", parallel(4, MIB)).await.unwrap(),
        body,
        "6 ranges, in order"
    );
    assert_eq!(download(&c, "ranges", "big.bin", parallel(2, 8 * MIB)).await.unwrap(), body, "one range");

    let bad = download(&c, "ranges", "big.bin", parallel(17, MIB)).await.unwrap_err();
    assert!(
        matches!(&bad, Error::S3(S3Error::InvalidRequest(m)) if m.contains("parallel ranges 17")),
        "{bad:?}"
    );

    let stored = dir.path().join("ranges").join("big.bin");
    let mut altered = std::fs::read(&stored).unwrap();
    altered[3 * MIB + 5] ^= 1;
    std::fs::write(&stored, altered).unwrap();
    let error = download(&c, "ranges", "big.bin", parallel(4, MIB)).await.unwrap_err();
    assert!(error.to_string().contains("x-amz-checksum-crc32c"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_are_pinned_to_the_etag_and_bounded_in_flight() {
    let server = RecordingServer::start().await;
    server.answer(Answer {
        status: 200,
        headers: vec![("etag", "\"v1\"".to_owned()), ("content-range", format!("bytes 0-0/{}", 3 * MIB))],
        body: "x".repeat(MIB),
    });
    server.delay(Duration::from_millis(300));
    let c = connector(&server.endpoint);
    let bytes = download(&c, "ranges", "k", parallel(2, MIB)).await.unwrap();
    assert_eq!(bytes.len(), 3 * MIB);

    let requests = server.requests();
    assert_eq!(requests[0].method, "HEAD");
    assert_eq!(requests[0].header("x-amz-checksum-mode"), Some("ENABLED"));
    let mut ranges: Vec<&str> = requests[1..].iter().map(|r| r.header("range").unwrap()).collect();
    ranges.sort();
    assert_eq!(ranges, ["bytes=0-1048575", "bytes=1048576-2097151", "bytes=2097152-3145727"]);
    assert!(requests[1..].iter().all(|r| r.method == "GET" && r.header("if-match") == Some("\"v1\"")));
    assert_eq!(server.max_in_flight(), 2, "two ranges at once, never more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn into_a_file_the_ranges_make_the_object_and_a_corrupt_one_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("ranges").await.unwrap();
    let body: Vec<u8> = (0..(5 * MIB + 7)).map(|i| (i * 31 % 251) as u8).collect();
    let downloads = tempfile::tempdir().unwrap();
    for (key, algorithm) in [("crc.bin", ChecksumAlgorithm::Crc32c), ("sha.bin", ChecksumAlgorithm::Sha256)] {
        let options = PutOptions {
            checksum: Some(algorithm),
            multipart_threshold: Some(64 * MIB as u64),
            ..Default::default()
        };
        let reader = std::io::Cursor::new(body.clone());
        c.put_object(&ObjectRef::new("ranges", key), reader, Some(body.len() as u64), options).await.unwrap();
        for (label, options) in [("6 ranges", parallel(4, MIB)), ("one request", GetOptions::default())] {
            let path = downloads.path().join(key);
            let sink = FileSink::create(&path).unwrap();
            let info =
                c.get_object_into(&ObjectRef::new("ranges", key), sink.clone(), options).await.unwrap();
            assert_eq!(info.size, body.len() as u64);
            sink.persist().unwrap();
            assert!(std::fs::read(&path).unwrap() == body, "{key}, {label}");
        }
    }

    let stored = dir.path().join("ranges").join("crc.bin");
    let mut altered = std::fs::read(&stored).unwrap();
    altered[4 * MIB + 3] ^= 1;
    std::fs::write(&stored, altered).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let sink = FileSink::create(empty.path().join("crc.bin")).unwrap();
    let error = c.get_object_into(&ObjectRef::new("ranges", "crc.bin"), sink.clone(), parallel(4, MIB)).await;
    let error = error.unwrap_err();
    assert!(error.to_string().contains("x-amz-checksum-crc32c"), "{error}");
    drop(sink);
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0, "nothing is left of a corrupt download");
}
