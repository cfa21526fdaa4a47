//! Multipart uploads with parts in flight side by side: known-length streams over the threshold
//! and streams of unknown length, against s3s-fs (the object, its multipart ETag, no upload
//! left behind after a failure mid-way) and on the recording server (how many parts were in
//! flight at once).

use crate::common;

use std::time::Duration;

use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::ObjectRef;
use s3_connector_host::types::{ChecksumAlgorithm, PutOptions, S3Error};
use s3_connector_host::{Connector, Error, Secret};
use s3_connector_local_store::LocalS3;
use tokio::io::AsyncReadExt;

const ACCESS_KEY: &str = "AKPARALLEL000000001";
const SECRET: &str = "parallel-secret";
const MIB: usize = 1024 * 1024;

fn connector(endpoint: &str) -> Connector {
    common::connector_at(endpoint, ACCESS_KEY, &Secret::new(SECRET), &[])
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 % 253) as u8).collect()
}

fn options(part_size: u64, parallel: u32, threshold: Option<u64>) -> PutOptions {
    PutOptions {
        part_size: Some(part_size),
        parallel_parts: Some(parallel),
        multipart_threshold: threshold,
        ..Default::default()
    }
}

async fn download(c: &Connector, bucket: &str, key: &str) -> Vec<u8> {
    let (sink, mut reader) = tokio::io::duplex(1 << 20);
    let reading = tokio::spawn(async move {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.unwrap();
        bytes
    });
    c.get_object(&ObjectRef::new(bucket, key), sink, Default::default()).await.unwrap();
    reading.await.unwrap()
}

/// Names in the store's directory that belong to multipart uploads in progress.
fn uploads_left(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".upload"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_streams_go_multipart_with_parts_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("par").await.unwrap();

    // Known length over the threshold: 6 parts of 5 MiB (the last shorter), 4 at a time, each
    // with its CRC32 checked by the server.
    let body = data(28 * MIB + 3);
    let mut known = options(5 * MIB as u64, 4, Some(16 * MIB as u64));
    known.checksum = Some(ChecksumAlgorithm::Crc32);
    let reader = std::io::Cursor::new(body.clone());
    let put = c
        .put_object(&ObjectRef::new("par", "known.bin"), reader, Some(body.len() as u64), known)
        .await
        .unwrap();
    assert!(put.etag.as_deref().unwrap().ends_with("-6\""), "a 6-part ETag: {put:?}");
    assert_eq!(download(&c, "par", "known.bin").await, body);

    // Unknown length, the default 8 MiB parts: 4 parts.
    let reader = std::io::Cursor::new(body.clone());
    let put =
        c.put_object(&ObjectRef::new("par", "unknown.bin"), reader, None, Default::default()).await.unwrap();
    assert!(put.etag.as_deref().unwrap().ends_with("-4\""), "a 4-part ETag: {put:?}");
    assert_eq!(download(&c, "par", "unknown.bin").await, body);

    // Under the threshold: one PutObject, a plain ETag.
    let small = data(6 * MIB);
    let reader = std::io::Cursor::new(small.clone());
    let put = c
        .put_object(&ObjectRef::new("par", "small.bin"), reader, Some(small.len() as u64), Default::default())
        .await
        .unwrap();
    assert!(!put.etag.as_deref().unwrap().contains('-'), "{put:?}");
    assert!(uploads_left(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_mid_way_aborts_the_upload_and_leaves_no_parts() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("par").await.unwrap();
    // 30 MiB announced, 22 MiB given: parts 1 to 4 are sent (some completed, some in flight)
    // before the input runs short.
    let reader = std::io::Cursor::new(data(22 * MIB));
    let error = c
        .put_object(
            &ObjectRef::new("par", "short.bin"),
            reader,
            Some(30 * MIB as u64),
            options(5 * MIB as u64, 3, None),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::S3(S3Error::InvalidRequest(m)) if m.contains("23068672 of the 31457280 bytes")),
        "{error:?}"
    );
    assert_eq!(uploads_left(dir.path()), Vec::<String>::new(), "the upload was aborted, its parts removed");
    let missing = c.head_object(&ObjectRef::new("par", "short.bin")).await.unwrap_err();
    assert!(matches!(missing, Error::S3(S3Error::NoSuchKey(_))), "{missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_out_of_range_are_refused_before_anything_is_sent() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    let table =
        [(options(1024, 4, None), "part size 1024"), (options(5 * MIB as u64, 0, None), "parallel parts 0")];
    for (options, expected) in table {
        let reader = std::io::Cursor::new(vec![0u8; 10]);
        let error = c.put_object(&ObjectRef::new("par", "k"), reader, Some(10), options).await.unwrap_err();
        assert!(matches!(&error, Error::S3(S3Error::InvalidRequest(m)) if m.contains(expected)), "{error:?}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_the_configured_parts_are_in_flight_at_once() {
    for (parallel, parts) in [(3u32, 7usize), (1, 3)] {
        let server = RecordingServer::start().await;
        // One canned answer serves CreateMultipartUpload (UploadId), the parts (the ETag
        // header) and CompleteMultipartUpload (ETag).
        server.answer(Answer {
            status: 200,
            headers: vec![("etag", "\"part\"".to_owned())],
            body: "<InitiateMultipartUploadResult><UploadId>u1</UploadId><ETag>\"whole\"</ETag></InitiateMultipartUploadResult>"
                .to_owned(),
        });
        server.delay(Duration::from_millis(300));
        let c = connector(&server.endpoint);
        let reader = std::io::Cursor::new(data(parts * 5 * MIB));
        c.put_object(&ObjectRef::new("par", "k"), reader, None, options(5 * MIB as u64, parallel, None))
            .await
            .unwrap();
        let requests = server.requests();
        let uploads = requests.iter().filter(|r| r.uri.contains("partNumber=")).count();
        assert_eq!(uploads, parts);
        let complete = requests.last().unwrap();
        assert!(complete.method == "POST" && complete.uri.contains("uploadId=u1"), "{complete:?}");
        let listed = String::from_utf8(complete.body.clone()).unwrap();
        for number in 1..=parts {
            assert!(listed.contains(&format!("<PartNumber>{number}</PartNumber>")), "{listed}");
        }
        assert_eq!(server.max_in_flight(), parallel as usize, "{parallel} parts at once, never more");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_carry_their_checksums_and_the_completion_lists_them() {
    let server = RecordingServer::start().await;
    server.answer(Answer {
        status: 200,
        headers: vec![("etag", "\"part\"".to_owned())],
        body: "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"
            .to_owned(),
    });
    let c = connector(&server.endpoint);
    let mut with_crc = options(5 * MIB as u64, 2, None);
    with_crc.checksum = Some(ChecksumAlgorithm::Crc32);
    let body = data(11 * MIB);
    c.put_object(&ObjectRef::new("par", "k"), std::io::Cursor::new(body.clone()), None, with_crc)
        .await
        .unwrap();
    // The CRC32 of each 5 MiB part, by s3s's own implementation.
    let expected: Vec<String> = body
        .chunks(5 * MIB)
        .map(|part| {
            let mut hasher =
                s3s::checksum::ChecksumHasher { crc32: Some(Default::default()), ..Default::default() };
            hasher.update(part);
            hasher.finalize().checksum_crc32.unwrap()
        })
        .collect();

    let requests = server.requests();
    assert_eq!(requests[0].header("x-amz-checksum-algorithm"), Some("CRC32"), "on CreateMultipartUpload");
    let mut parts: Vec<_> = requests.iter().filter(|r| r.uri.contains("partNumber=")).collect();
    parts.sort_by_key(|r| r.uri.clone());
    assert_eq!(parts.len(), 3);
    let listed = String::from_utf8(requests.last().unwrap().body.clone()).unwrap();
    for (part, expected) in parts.into_iter().zip(&expected) {
        assert_eq!(part.header("x-amz-sdk-checksum-algorithm"), Some("CRC32"));
        let value = part.header("x-amz-checksum-crc32").expect("each part carries its CRC32");
        assert_eq!(value, expected, "{}", part.uri);
        assert!(listed.contains(&format!("<ChecksumCRC32>{value}</ChecksumCRC32>")), "{listed}");
    }
}
