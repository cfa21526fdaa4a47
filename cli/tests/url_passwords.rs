//! Issue 29, item 4: a password in a URL the operator configures (the OTLP collector, STS, the
//! container credentials agent) never reaches stderr, a log line or an error, at any level and
//! under `--verbose`. The collector's user and password travel as `Authorization: Basic`, never
//! in `Host`; a collector's refusal that echoes what it was sent is logged by its status only.

use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;
use s3_connector_serve::tenants_file::{hex, token_hash};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

use crate::common::cli_binary;
use crate::common::recording_server::{Answer, RecordingServer};

const ACCESS_KEY: &str = "AKURLPASSWORDS000001";
const SECRET: &str = "SECRET-url-passwords-never-print";
const TOKEN: &str = "TOKEN-url-passwords-0c1d";
/// The password of every URL below: no output may hold it, nor any part of it.
const PASSWORD: &str = "PASS-url-sentinel-9e4b";
/// The collector's API key, which the collector's refusal echoes.
const API_KEY: &str = "KEY-url-sentinel-27fa";

/// Whether `text` holds the password, its first or second half (a URL parser may cut it at a
/// `/`), or its Basic-auth encoding.
fn leaks(text: &str, basic: &str) -> bool {
    let (first, second) = PASSWORD.split_at(PASSWORD.len() / 2);
    [PASSWORD, first, second, basic, API_KEY].iter().any(|secret| text.contains(secret))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_the_collectors_password_as_basic_auth_and_never_logs_it() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(store_dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let collector = RecordingServer::start().await;
    // A collector that refuses and echoes what it was sent, as one did in the red team's run.
    collector.answer(Answer {
        status: 401,
        headers: vec![],
        body: format!("unauthorized: x-api-key {API_KEY} user otlpuser:{PASSWORD}"),
    });
    let endpoint = collector.endpoint.replacen("http://", &format!("http://otlpuser:{PASSWORD}@"), 1);
    let dir = tempfile::tempdir().unwrap();
    let tenants = dir.path().join("tenants.toml");
    let text = format!(
        "[[tenant]]\nname = \"team-a\"\ncredentials = {{ source = \"static\", access_key_id = \"{ACCESS_KEY}\", \
         secret_access_key = \"{SECRET}\" }}\nallow = [{{ bucket = \"logs\" }}]\n\n[[token]]\ntenant = \
         \"team-a\"\nsha256 = \"{}\"\n",
        hex(&token_hash(TOKEN))
    );
    std::fs::write(&tenants, text).unwrap();
    let s3_endpoint = s3.endpoint();
    let mut child = cli_binary::bare(&[
        "--endpoint",
        &s3_endpoint,
        "--path-style",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tenants",
        tenants.to_str().unwrap(),
    ])
    .env("RUST_LOG", "trace")
    .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
    .env("OTEL_EXPORTER_OTLP_HEADERS", format!("x-api-key={API_KEY}"))
    .stderr(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (address, mut log) = cli_binary::serve_started(&mut stderr).await;
    let rest = tokio::spawn(async move {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest).await;
        rest
    });
    // One request, so that there is a span to export.
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "GET /logs/a.txt HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {TOKEN}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    let pid = child.id().unwrap() as i32;
    // SAFETY: kill(2) on the child this test started; stopping flushes the queued spans.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
    log.push_str(&rest.await.unwrap());

    let basic = base64::engine::general_purpose::STANDARD.encode(format!("otlpuser:{PASSWORD}"));
    let exports = collector.requests();
    assert!(!exports.is_empty(), "nothing was exported:\n{log}");
    let collector_authority = collector.endpoint.trim_start_matches("http://");
    for export in &exports {
        assert_eq!(export.header("authorization"), Some(format!("Basic {basic}").as_str()), "{export:?}");
        assert_eq!(export.header("host"), Some(collector_authority), "no userinfo in Host: {export:?}");
        assert_eq!(export.header("x-api-key"), Some(API_KEY));
    }
    assert!(log.contains("the collector refused spans") && log.contains("401"), "{log}");
    assert!(log.contains(&format!("exporting spans to {}/v1/traces", collector.endpoint)), "{log}");
    assert!(!leaks(&log, &basic), "a password or key in serve's log:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_and_container_passwords_never_reach_stderr_even_with_verbose() {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("u:{PASSWORD}"));
    // A password as operators write it, and one with a `/` that breaks the URL.
    let (first, second) = PASSWORD.split_at(PASSWORD.len() / 2);
    let urls = [format!("http://u:{PASSWORD}@127.0.0.1:1"), format!("http://u:{first}/{second}@127.0.0.1:1")];
    for url in &urls {
        let assumed = cli_binary::bare(&[
            "--endpoint",
            "http://127.0.0.1:1",
            "--path-style",
            "--verbose",
            "--role-arn",
            "arn:aws:iam::123456789012:role/reader",
            "ls",
            "s3://reader-bucket",
        ])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL_STS", url)
        .output()
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&assumed.stderr);
        assert_ne!(assumed.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("u:<redacted>@"), "the URL is named, its password not: {stderr}");
        assert!(!leaks(&stderr, &basic), "AWS_ENDPOINT_URL_STS={url}: {stderr}");

        let container = format!("{url}/creds");
        let fetched = cli_binary::bare(&[
            "--endpoint",
            "http://127.0.0.1:1",
            "--path-style",
            "--verbose",
            "ls",
            "s3://reader-bucket",
        ])
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &container)
        .output()
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&fetched.stderr);
        assert_ne!(fetched.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("u:<redacted>@"), "the URL is named, its password not: {stderr}");
        assert!(!leaks(&stderr, &basic), "AWS_CONTAINER_CREDENTIALS_FULL_URI={container}: {stderr}");
    }
}
