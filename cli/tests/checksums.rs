//! S3 checksums end to end. s3s-fs verifies a checksum sent in a header or an `aws-chunked`
//! trailer (a mismatch is `BadDigest`) and returns it on GET with `x-amz-checksum-mode`, so the
//! round trips below are checked by the server on the way up and by the plugin on the way down;
//! an object altered on the server's disk must fail its download. The recording server checks
//! the wire format (chunk framing, trailer) and a wrong checksum header.

use crate::common;

use base64::Engine as _;
use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::ObjectRef;
use s3_connector_host::types::{ChecksumAlgorithm, PutOptions};
use s3_connector_host::{Connector, Error, Secret};
use s3_connector_local_store::LocalS3;
use sha2::Digest as _;
use tokio::io::AsyncReadExt;

const ACCESS_KEY: &str = "AKCHECKSUMS00000001";
const SECRET: &str = "checksums-secret";

const ALL: [(ChecksumAlgorithm, &str); 5] = [
    (ChecksumAlgorithm::Crc32, "crc32"),
    (ChecksumAlgorithm::Crc32c, "crc32c"),
    (ChecksumAlgorithm::Sha1, "sha1"),
    (ChecksumAlgorithm::Sha256, "sha256"),
    (ChecksumAlgorithm::Crc64nvme, "crc64nvme"),
];

fn connector(endpoint: &str) -> Connector {
    common::connector_at(endpoint, ACCESS_KEY, &Secret::new(SECRET), &[])
}

fn with_checksum(algorithm: ChecksumAlgorithm) -> PutOptions {
    PutOptions { checksum: Some(algorithm), ..Default::default() }
}

/// Bytes that differ from chunk to chunk, so that a misplaced chunk changes the checksum.
fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

async fn download(c: &Connector, bucket: &str, key: &str) -> Result<Vec<u8>, Error> {
    let (sink, mut reader) = tokio::io::duplex(1 << 20);
    let reading = tokio::spawn(async move {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.map(|_| bytes)
    });
    let result = c.get_object(&ObjectRef::new(bucket, key), sink, Default::default()).await;
    let bytes = reading.await.unwrap().unwrap();
    result.map(|_| bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_algorithm_is_verified_by_the_server_and_on_download() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("sums").await.unwrap();
    // Three batches of 16 chunks of the trailer's encoding, the last batch and chunk short.
    let body = data(2_200_000);
    for (algorithm, name) in ALL {
        let streamed = format!("streamed-{name}");
        let reader = std::io::Cursor::new(body.clone());
        c.put_object(
            &ObjectRef::new("sums", &streamed),
            reader,
            Some(body.len() as u64),
            with_checksum(algorithm),
        )
        .await
        .unwrap_or_else(|e| panic!("{algorithm:?} as a trailer: {e}"));
        let in_memory = format!("bytes-{name}");
        c.put_object_bytes(&ObjectRef::new("sums", &in_memory), b"123456789", with_checksum(algorithm))
            .await
            .unwrap_or_else(|e| panic!("{algorithm:?} in a header: {e}"));
        assert_eq!(download(&c, "sums", &streamed).await.unwrap(), body, "{algorithm:?}");
        let (reported, value) = c
            .head_object(&ObjectRef::new("sums", &streamed))
            .await
            .unwrap()
            .checksum
            .expect("HEAD reports it");
        assert_eq!(reported, algorithm);
        let (_, in_memory_value) =
            c.head_object(&ObjectRef::new("sums", format!("bytes-{name}"))).await.unwrap().checksum.unwrap();
        assert_ne!(value, in_memory_value, "{algorithm:?}: different bytes, different checksums");
        if algorithm == ChecksumAlgorithm::Crc32 {
            assert_eq!(in_memory_value, "y/Q5Jg==", "the CRC-32 check value of 123456789");
        }
        assert_eq!(download(&c, "sums", &in_memory).await.unwrap(), b"123456789", "{algorithm:?}");
    }

    // The same length, one byte different, behind the server's back: the stored checksum no
    // longer matches, and the download must fail rather than hand out the bytes as good.
    let stored = dir.path().join("sums").join("streamed-crc64nvme");
    let mut altered = std::fs::read(&stored).expect("s3s-fs keeps the object as a file");
    assert_eq!(altered, body);
    altered[2_100_000] ^= 0xff;
    std::fs::write(&stored, &altered).unwrap();
    let error = download(&c, "sums", "streamed-crc64nvme").await.unwrap_err();
    assert!(error.to_string().contains("x-amz-checksum-crc64nvme"), "{error}");
    assert_eq!(error.exit_code(), 1, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_length_uploads_send_a_checksum_per_part() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("parts").await.unwrap();
    // Two parts: 8 MiB and the rest.
    let body = data(9 * 1024 * 1024 + 5);
    let options = with_checksum(ChecksumAlgorithm::Crc32c);
    c.put_object(&ObjectRef::new("parts", "big.bin"), std::io::Cursor::new(body.clone()), None, options)
        .await
        .unwrap();
    assert_eq!(download(&c, "parts", "big.bin").await.unwrap(), body);
    // A stream that ends within the first part is one PutObject, its checksum in a header.
    let options = with_checksum(ChecksumAlgorithm::Sha1);
    c.put_object(&ObjectRef::new("parts", "small.bin"), std::io::Cursor::new(b"abc".to_vec()), None, options)
        .await
        .unwrap();
    assert_eq!(download(&c, "parts", "small.bin").await.unwrap(), b"abc");
}

/// Splits an `aws-chunked` body into its chunks and its trailer lines.
fn decode_chunked(mut body: &[u8]) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut chunks = Vec::new();
    for _ in 0..10_000 {
        let line_end = body.windows(2).position(|w| w == b"\r\n").expect("a chunk header line");
        let size = usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap(), 16).unwrap();
        body = &body[line_end + 2..];
        if size == 0 {
            let trailer = std::str::from_utf8(body).unwrap();
            assert!(trailer.ends_with("\r\n\r\n"), "the trailer ends with a blank line: {trailer:?}");
            let lines = trailer.trim_end().split("\r\n").map(str::to_owned).collect();
            return (chunks, lines);
        }
        chunks.push(body[..size].to_vec());
        assert_eq!(&body[size..size + 2], b"\r\n", "chunk {} ends with CRLF", chunks.len());
        body = &body[size + 2..];
    }
    panic!("no final chunk");
}

/// A stream up to the replay limit (16 MiB) is read into the sandbox first, so that it can be
/// retried: its checksum travels as a header, computed over the bytes in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_streamed_upload_sends_its_checksum_as_a_header() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    let body = data(150_000);
    let reader = std::io::Cursor::new(body.clone());
    c.put_object(
        &ObjectRef::new("wire", "k"),
        reader,
        Some(body.len() as u64),
        with_checksum(ChecksumAlgorithm::Sha256),
    )
    .await
    .unwrap();
    let request = &server.requests()[0];
    let expected = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&body));
    assert_eq!(request.header("x-amz-checksum-sha256"), Some(expected.as_str()));
    assert_eq!(request.header("content-encoding"), None);
    assert_eq!(request.body, body);
}

/// A single PUT streamed above the replay limit (a raised multipart threshold) goes
/// `aws-chunked`, its checksum in a trailer computed as the bytes pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_streamed_upload_is_aws_chunked_with_a_trailer() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    let size = 16 * 1024 * 1024 + 18_928;
    let body = data(size);
    let reader = std::io::Cursor::new(body.clone());
    let options = PutOptions {
        multipart_threshold: Some(32 * 1024 * 1024),
        ..with_checksum(ChecksumAlgorithm::Sha256)
    };
    c.put_object(&ObjectRef::new("wire", "k"), reader, Some(body.len() as u64), options).await.unwrap();

    let request = &server.requests()[0];
    assert_eq!(request.header("x-amz-content-sha256"), Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"));
    assert_eq!(request.header("content-encoding"), Some("aws-chunked"));
    assert_eq!(request.header("x-amz-trailer"), Some("x-amz-checksum-sha256"));
    assert_eq!(request.header("x-amz-sdk-checksum-algorithm"), Some("SHA256"));
    assert_eq!(request.header("x-amz-decoded-content-length"), Some(size.to_string().as_str()));
    assert_eq!(request.header("content-length"), Some(request.body.len().to_string().as_str()));
    assert!(request.signed_headers().contains(&"x-amz-trailer".to_owned()));

    let (chunks, trailer) = decode_chunked(&request.body);
    let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
    assert_eq!(sizes.len(), 257, "256 full chunks and a partial one");
    assert!(sizes[..256].iter().all(|&n| n == 65_536), "{:?}", &sizes[..4]);
    assert_eq!(sizes[256], 18_928);
    assert!(chunks.concat() == body, "the chunks are the body");
    let expected = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&body));
    assert_eq!(trailer, [format!("x-amz-checksum-sha256:{expected}")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_check_full_object_checksums_only() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    let answer = |checksum: &str| Answer {
        status: 200,
        headers: vec![("etag", "\"e\"".to_owned()), ("x-amz-checksum-crc32", checksum.to_owned())],
        body: "hello world".to_owned(),
    };

    server.answer(answer("DUoRhQ=="));
    assert_eq!(download(&c, "bkt", "good").await.unwrap(), b"hello world");
    assert_eq!(server.requests()[0].header("x-amz-checksum-mode"), Some("ENABLED"));

    server.answer(answer("AAAAAA=="));
    let error = download(&c, "bkt", "corrupt").await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("DUoRhQ==") && message.contains("AAAAAA=="), "{message}");

    // A composite checksum (of the parts' checksums) cannot be checked against the bytes.
    server.answer(answer("AAAAAA==-2"));
    assert_eq!(download(&c, "bkt", "composite").await.unwrap(), b"hello world");

    // A range never asks for the checksum.
    let range = s3_connector_host::types::GetOptions {
        range: Some(s3_connector_host::types::ByteRange::Closed((0, 4))),
        ..Default::default()
    };
    let (sink, _keep) = tokio::io::duplex(1 << 16);
    server.answer(Answer { status: 206, headers: vec![], body: "hello".to_owned() });
    c.get_object(&ObjectRef::new("bkt", "ranged"), sink, range).await.unwrap();
    assert_eq!(server.requests().last().unwrap().header("x-amz-checksum-mode"), None);
}

/// A store that keeps a checksum which cannot be right (moto without `awscrt` sends a 4-byte
/// CRC-32 as `x-amz-checksum-crc64nvme`, issue 30): through the binary, the download fails as
/// the server's fault, names the setting that skips the check, and leaves no file;
/// `AWS_RESPONSE_CHECKSUM_VALIDATION=when_required` or the profile's
/// `response_checksum_validation` downloads it; a value neither SDK knows exits 2 unsent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_checksum_that_cannot_be_right_is_the_servers_fault_and_when_required_skips_it() {
    use common::cli_binary::run_with;
    let server = RecordingServer::start().await;
    server.answer(Answer {
        status: 200,
        headers: vec![
            ("etag", "\"e\"".to_owned()),
            ("last-modified", "Wed, 01 Jan 2025 00:00:00 GMT".to_owned()),
            // The CRC-32 of "hello world" under CRC64NVME's name.
            ("x-amz-checksum-crc64nvme", "DUoRhQ==".to_owned()),
            ("x-amz-checksum-type", "FULL_OBJECT".to_owned()),
        ],
        body: "hello world".to_owned(),
    });
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let target = out.join("k.txt");
    let target = target.to_str().unwrap();
    let endpoint = server.endpoint.clone();

    for args in
        [&["cp", "s3://bkt/k.txt", target][..], &["cp", "s3://bkt/k.txt", target, "--parallel-ranges", "4"]]
    {
        let done = run_with(&endpoint, args, &[]).await;
        assert_eq!(done.code, 1, "{args:?}: {}", done.stderr);
        for needle in [
            "4 bytes where a CRC64NVME is 8",
            "fault of the server",
            "AWS_RESPONSE_CHECKSUM_VALIDATION=when_required",
        ] {
            assert!(done.stderr.contains(needle), "{args:?}: {needle:?} not in {}", done.stderr);
        }
        assert!(!done.stderr.contains("corrupt"), "{}", done.stderr);
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }

    let profile = work.path().join("config");
    std::fs::write(&profile, "[default]\nresponse_checksum_validation = when_required\n").unwrap();
    let skipping: [&[(&str, &str)]; 2] = [
        &[("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")],
        &[("AWS_CONFIG_FILE", profile.to_str().unwrap())],
    ];
    for environment in skipping {
        std::fs::remove_file(target).ok();
        let done = run_with(&endpoint, &["cp", "s3://bkt/k.txt", target], environment).await;
        assert_eq!(done.code, 0, "{environment:?}: {}", done.stderr);
        assert_eq!(std::fs::read(target).unwrap(), b"hello world");
    }
    // The environment wins over the profile.
    let done = run_with(
        &endpoint,
        &["cp", "s3://bkt/k.txt", target],
        &[
            ("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_supported"),
            ("AWS_CONFIG_FILE", profile.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(done.code, 1, "{}", done.stderr);

    let before = server.requests().len();
    let done = run_with(
        &endpoint,
        &["cp", "s3://bkt/k.txt", target],
        &[("AWS_RESPONSE_CHECKSUM_VALIDATION", "never")],
    )
    .await;
    assert_eq!(done.code, 2, "{}", done.stderr);
    assert!(done.stderr.contains("AWS_RESPONSE_CHECKSUM_VALIDATION is \"never\""), "{}", done.stderr);
    assert_eq!(server.requests().len(), before);

    // The library: the builder's setting.
    let skipping = common::builder_at(&endpoint, ACCESS_KEY, &Secret::new(SECRET), &[])
        .response_checksum_validation(s3_connector_host::ResponseChecksumValidation::WhenRequired)
        .build()
        .unwrap();
    assert_eq!(download(&skipping, "bkt", "k.txt").await.unwrap(), b"hello world");
    let error = download(&connector(&endpoint), "bkt", "k.txt").await.unwrap_err().to_string();
    assert!(error.contains("fault of the server"), "{error}");
}
