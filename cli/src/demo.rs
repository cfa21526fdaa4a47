//! `s3-connector demo`: the main job on an embedded S3 store, no account and no network.
//!
//! It starts s3s-fs in-process on 127.0.0.1 with random keys, then drives the sandboxed plugin
//! through what a user does: make a bucket, upload, list, download and compare, read a range,
//! watch the host refuse a request outside the policy, and clean up.

use std::time::Instant;

use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use s3_connector_host::connector::Connector;
use s3_connector_host::credentials::{Secret, StaticCredentials};
use s3_connector_host::error::Error;
use s3_connector_host::policy::Policy;
use s3_connector_host::settings::Connection;
use s3_connector_host::types::ObjectRef;
use s3_connector_host::types::{ByteRange, GetOptions, ListObjectsRequest, PutOptions};
use s3_connector_local_store::LocalS3;

const BUCKET: &str = "demo-photos";
const FORBIDDEN_BUCKET: &str = "demo-private";

/// Runs the demo, printing each step with its timing.
pub async fn run() -> Result<(), Error> {
    let started = Instant::now();
    let dir = tempfile::tempdir().map_err(|e| Error::local_io("cannot make a temporary directory", e))?;
    let access_key = format!("AKDEMO{}", Alphanumeric.sample_string(&mut rand::rng(), 14).to_uppercase());
    let secret = Secret::new(Alphanumeric.sample_string(&mut rand::rng(), 40));
    let store = LocalS3::start(dir.path(), &access_key, secret.clone())
        .await
        .map_err(|e| Error::local_io("cannot start the embedded S3 store", e))?;
    let connection = Connection::resolve(Some(&store.endpoint()), Some("us-east-1"), true, |_| None)?;
    let policy = Policy::from_allow_flags(&[format!("{BUCKET}=read,write,delete,list,admin")])?;
    out!("s3-connector demo");
    out!("  embedded S3 store (s3s-fs) at {} in {}", store.endpoint(), dir.path().display());
    out!("  credentials: access key {access_key}, secret generated for this run (never printed)");
    out!("  host policy: --allow {}", policy.summary());
    let connector = Connector::builder(
        connection,
        policy,
        std::sync::Arc::new(StaticCredentials::new(&access_key, secret, None)),
    )
    .build()?;
    out!("  plugin compiled and pre-linked in {:.1} ms\n", started.elapsed().as_secs_f64() * 1e3);

    let files: [(&str, Vec<u8>, &str); 3] = [
        ("notes/readme.txt", b"Objects cross the sandbox as streams.\n".repeat(32), "text/plain"),
        ("data/settings.json", br#"{"retries": 3, "region": "us-east-1"}"#.to_vec(), "application/json"),
        (
            "images/large.bin",
            (0..6 * 1024 * 1024).map(|i: u32| (i.wrapping_mul(2654435761) >> 24) as u8).collect(),
            "application/octet-stream",
        ),
    ];

    let mut step = Step::default();
    step.run(&format!("make bucket s3://{BUCKET}"), connector.create_bucket(BUCKET)).await?;
    for (key, body, content_type) in &files {
        let options = PutOptions {
            content_type: Some((*content_type).to_owned()),
            metadata: vec![("origin".into(), "demo".into())],
            ..Default::default()
        };
        let reader = std::io::Cursor::new(body.clone());
        let what = format!("upload s3://{BUCKET}/{key} ({}, streamed)", size(body.len() as u64));
        step.run(
            &what,
            connector.put_object(&ObjectRef::new(BUCKET, *key), reader, Some(body.len() as u64), options),
        )
        .await?;
    }

    let request = ListObjectsRequest { delimiter: Some("/".into()), ..Default::default() };
    let listing =
        step.run(&format!("list s3://{BUCKET}/ one level"), connector.list_objects(BUCKET, request)).await?;
    for prefix in &listing.common_prefixes {
        out!("{:>10}PRE {prefix}", "");
    }

    for (key, body, _) in &files {
        let (digest, info) = step
            .run(
                &format!("download s3://{BUCKET}/{key} and compare"),
                download(&connector, key, GetOptions::default()),
            )
            .await?;
        let expected = Sha256::digest(body);
        let verdict = if digest == expected.as_slice() { "SHA-256 matches" } else { "SHA-256 DIFFERS" };
        out!(
            "{:>10}{} bytes, {}, content-type {}",
            "",
            info.size,
            verdict,
            info.content_type.unwrap_or_default()
        );
        if digest != expected.as_slice() {
            return Err(Error::local(format!("the download of {key} does not match what was uploaded")));
        }
    }

    let range = GetOptions { range: Some(ByteRange::Closed((0, 36))), ..Default::default() };
    let (_, info) = step
        .run("read bytes 0-36 of notes/readme.txt", download(&connector, "notes/readme.txt", range))
        .await?;
    out!("{:>10}Content-Range: {}", "", info.content_range.unwrap_or_default());

    let before = store.requests_received();
    step.started = Some(Instant::now());
    let refused = connector
        .put_object_bytes(
            &ObjectRef::new(FORBIDDEN_BUCKET, "secret.txt"),
            b"not allowed",
            PutOptions::default(),
        )
        .await;
    step.report(&format!("upload s3://{FORBIDDEN_BUCKET}/secret.txt (outside the policy)"));
    match refused {
        Err(Error::Denied(denial)) => {
            out!("{:>10}refused as expected: {denial}", "");
            out!(
                "{:>10}requests that reached the store: {before} before, {} after",
                "",
                store.requests_received()
            );
        }
        other => return Err(Error::local(format!("the host should have refused the upload, got {other:?}"))),
    }

    for (key, _, _) in &files {
        step.run(
            &format!("delete s3://{BUCKET}/{key}"),
            connector.delete_object(&ObjectRef::new(BUCKET, *key)),
        )
        .await?;
    }
    step.run(&format!("remove bucket s3://{BUCKET}"), connector.delete_bucket(BUCKET)).await?;
    out!(
        "\ndone in {:.1} ms: every request signed inside the sandbox and checked by the host",
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

/// Downloads `key` through a pipe, hashing it on the host side.
async fn download(
    connector: &Connector,
    key: &str,
    options: GetOptions,
) -> Result<(Vec<u8>, s3_connector_host::types::ObjectInfo), Error> {
    let (writer, mut reader) = tokio::io::duplex(64 * 1024);
    let hashing = tokio::spawn(async move {
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 64 * 1024];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => hasher.update(&buffer[..n]),
            }
        }
        hasher.finalize().to_vec()
    });
    let info = connector.get_object(&ObjectRef::new(BUCKET, key), writer, options).await?;
    let digest = hashing.await.map_err(|e| Error::local(format!("hashing the download failed: {e}")))?;
    Ok((digest, info))
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// Numbers and times the steps.
#[derive(Default)]
struct Step {
    number: u32,
    started: Option<Instant>,
}

impl Step {
    async fn run<T>(&mut self, what: &str, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        self.started = Some(Instant::now());
        let result = call.await;
        self.report(what);
        result
    }

    fn report(&mut self, what: &str) {
        self.number += 1;
        let elapsed = self.started.take().map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3);
        out!("[{:>2}] {what:<66} {elapsed:>8.1} ms", self.number);
    }
}
