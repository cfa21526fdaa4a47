//! Large objects: a 64 MiB round trip compared by SHA-256, uploads of unknown length through
//! multipart, and a failing upload that leaves nothing behind.

use std::pin::Pin;
use std::task::{Context, Poll};

use s3_connector_host::Error;
use s3_connector_host::ObjectRef;
use s3_connector_host::types::{GetOptions, PutOptions, S3Error};
use s3_connector_tests::{TestServer, pattern};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

async fn sha256_of_download(
    c: &s3_connector_host::Connector,
    bucket: &str,
    key: &str,
    dir: &std::path::Path,
) -> Vec<u8> {
    let path = dir.join(format!("download-{}", key.replace('/', "_")));
    let file = tokio::fs::File::create(&path).await.unwrap();
    c.get_object(&ObjectRef::new(bucket, key), file, GetOptions::default()).await.unwrap();
    Sha256::digest(std::fs::read(&path).unwrap()).to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_object_round_trips_through_files() {
    let server = TestServer::start().await;
    let c = server.admin();
    c.create_bucket("large").await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source.bin");
    let body = pattern(64 << 20, 7);
    std::fs::write(&source, &body).unwrap();
    let file = tokio::fs::File::open(&source).await.unwrap();
    c.put_object(&ObjectRef::new("large", "big.bin"), file, Some(body.len() as u64), PutOptions::default())
        .await
        .unwrap();
    assert_eq!(c.head_object(&ObjectRef::new("large", "big.bin")).await.unwrap().size, 64 << 20);
    assert_eq!(sha256_of_download(&c, "large", "big.bin", work.path()).await, Sha256::digest(&body).to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_lengths_upload_as_multipart() {
    let server = TestServer::start().await;
    let c = server.admin();
    c.create_bucket("streams").await.unwrap();
    let work = tempfile::tempdir().unwrap();
    // 20 MiB: three parts of at most 8 MiB; and a short stream that fits in one PutObject.
    for (key, len) in [("three-parts.bin", 20 << 20), ("small.bin", 1000), ("empty.bin", 0)] {
        let body = pattern(len, len as u64);
        c.put_object(
            &ObjectRef::new("streams", key),
            std::io::Cursor::new(body.clone()),
            None,
            PutOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(
            sha256_of_download(&c, "streams", key, work.path()).await,
            Sha256::digest(&body).to_vec(),
            "{key}"
        );
    }
}

/// Yields `good` bytes, then fails.
struct FailingReader {
    good: usize,
}

impl AsyncRead for FailingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.good == 0 {
            return Poll::Ready(Err(std::io::Error::other("the disk went away")));
        }
        let n = self.good.min(buf.remaining()).min(64 * 1024);
        buf.put_slice(&vec![b'z'; n]);
        self.good -= n;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upload_leaves_no_object_and_no_parts() {
    let server = TestServer::start().await;
    let c = server.admin();
    c.create_bucket("failing").await.unwrap();
    // Past the first 8 MiB part, so a multipart upload was started and must be aborted.
    let error = c
        .put_object(
            &ObjectRef::new("failing", "broken.bin"),
            FailingReader { good: 10 << 20 },
            None,
            PutOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("nothing was stored"), "{error}");
    let gone = c.head_object(&ObjectRef::new("failing", "broken.bin")).await.unwrap_err();
    assert!(matches!(gone, Error::S3(S3Error::NoSuchKey(_))), "{gone:?}");
    let leftovers: Vec<String> = std::fs::read_dir(server.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".upload_id-") || name.contains(".upload-"))
        .collect();
    assert!(leftovers.is_empty(), "parts left behind: {leftovers:?}");

    // A known length the input does not deliver: the request is abandoned, nothing stored.
    let short = c
        .put_object(
            &ObjectRef::new("failing", "short.bin"),
            std::io::Cursor::new(vec![1u8; 10]),
            Some(100),
            PutOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(short.to_string().contains("10 of the 100 bytes"), "{short}");
    assert!(!server.object_path("failing", "short.bin").exists());
}
