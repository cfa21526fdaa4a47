//! Claims the README, `--help` and the OpenAPI document made that were false (issue 30, item
//! 5), each checked through the binary: the allow-all warning's advice works as written,
//! `serve --documents` exists, `cp --help` and the Limits (`docs/limits.md`) say how ranged
//! downloads are written, `headObject` answers ISO 8601, `invoke` reports an error found before
//! its action as the JSON error object, the FIPS refusal names the flag given, and
//! `serve --log-format json` writes nothing but JSON on stderr while `/metrics` honours a
//! scraper's `Accept`.

use crate::common::cli_binary;

use std::path::Path;
use std::process::Stdio;

use cli_binary::{ACCESS_KEY, SECRET, run};
use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

async fn server(dir: &Path) -> LocalS3 {
    LocalS3::start(dir, ACCESS_KEY, Secret::new(SECRET)).await.expect("the store starts")
}

/// The binary with an empty environment (no keys, no endpoint, no IMDS), and `args`.
fn bare(args: &[&str]) -> Command {
    let mut command = cli_binary::bare(args);
    command.env(
        "S3_CONNECTOR_CACHE_DIR",
        std::env::var("S3_CONNECTOR_CACHE_DIR").unwrap_or_else(|_| "off".to_owned()),
    );
    if let Ok(home) = std::env::var("HOME") {
        command.env("HOME", home);
    }
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allow_all_warnings_advice_works_as_written() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    let warned = run(&endpoint, &["mb", "s3://advised"]).await;
    assert_eq!(warned.code, 0, "{}", warned.stderr);
    // The flag the warning tells the user to pass, as a shell would read it.
    let advice = warned.stderr.split("pass --allow '").nth(1).and_then(|rest| rest.split('\'').next());
    let rule = advice.unwrap_or_else(|| panic!("no --allow advice in: {}", warned.stderr));
    for command in [["mb", "s3://advised-too"], ["rb", "s3://advised-too"], ["rb", "s3://advised"]] {
        let advised = run(&endpoint, &["--allow", rule, command[0], command[1]]).await;
        assert_eq!((advised.code, advised.stderr.as_str()), (0, ""), "--allow '{rule}' {command:?}");
    }
}

/// A running `serve`: its stderr so far, its address and its metrics address.
struct Serving {
    _child: Child,
    log: String,
    address: String,
    metrics: String,
    rest: tokio::task::JoinHandle<String>,
}

/// Starts `serve` on loopback with `args` after `serve`, reads stderr until it serves.
async fn serve(endpoint: &str, args: &[&str]) -> Serving {
    let mut all = vec!["--endpoint", endpoint, "--path-style", "serve", "--listen", "127.0.0.1:0"];
    all.extend(["--metrics-listen", "127.0.0.1:0", "--insecure-no-auth"]);
    all.extend(args);
    let mut child = bare(&all)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (address, log) = cli_binary::serve_started(&mut stderr).await;
    let metrics = cli_binary::address_after(&log, "metrics on http://").unwrap_or_default();
    let rest = tokio::spawn(async move {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest).await;
        rest
    });
    Serving { _child: child, log, address, metrics, rest }
}

/// One HTTP/1.1 request; the whole answer as text.
async fn request(address: &str, head: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let text = format!(
        "{head}\r\nhost: {address}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_documents_gives_the_actions_a_document_store() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://docs"]).await.code, 0);
    let documents = tempfile::tempdir().unwrap();
    std::fs::write(documents.path().join("invoice-1.txt"), b"invoice 1").unwrap();
    let serving = serve(&endpoint, &["--documents", documents.path().to_str().unwrap()]).await;
    let action = r#"{"action": "uploadDocument", "bucket": "docs",
        "document": {"storeId": "fs", "documentId": "invoice-1.txt", "camunda.document.type": "camunda"}}"#;
    let uploaded = request(&serving.address, "POST /actions HTTP/1.1", action).await;
    assert!(uploaded.starts_with("HTTP/1.1 200"), "{uploaded}");
    let back = run(&endpoint, &["cp", "s3://docs/invoice-1.txt", "-"]).await;
    assert_eq!(back.stdout, "invoice 1", "{}", back.stderr);
    let down =
        r#"{"action": "downloadDocument", "bucket": "docs", "key": "invoice-1.txt", "createDocument": true}"#;
    let downloaded = request(&serving.address, "POST /actions HTTP/1.1", down).await;
    assert!(downloaded.starts_with("HTTP/1.1 200"), "{downloaded}");
    let created = std::fs::read_dir(documents.path()).unwrap().count();
    assert_eq!(created, 2, "the download became a document in the directory");

    // Each tenant of a tenants file names its own directory; one for all would mix them.
    let tenants = documents.path().join("tenants.toml");
    std::fs::write(
        &tenants,
        "[[tenant]]\nname = \"a\"\ncredentials = { source = \"default\" }\nallow = []\n",
    )
    .unwrap();
    let mixed =
        run(&endpoint, &["serve", "--tenants", tenants.to_str().unwrap(), "--documents", "/tmp"]).await;
    assert_eq!(mixed.code, 2, "{}", mixed.stderr);
    assert!(mixed.stderr.contains("documents"), "{}", mixed.stderr);
    let per_tenant = format!(
        "[[tenant]]\nname = \"a\"\ncredentials = {{ source = \"default\" }}\nallow = []\ndocuments = \"{}\"\n",
        documents.path().display()
    );
    std::fs::write(&tenants, per_tenant).unwrap();
    let specs = s3_connector_serve::tenants_file::load(&tenants).unwrap();
    assert_eq!(specs[0].documents.as_deref(), Some(documents.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_json_logs_are_json_from_the_first_line_and_metrics_honour_accept() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    // No --allow: the allow-all warning is among the first lines.
    let serving = serve(&s3.endpoint(), &["--log-format", "json"]).await;
    assert!(serving.log.contains("allows every bucket"), "{}", serving.log);
    for line in serving.log.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}\n{}", serving.log));
        assert!(value["level"].is_string(), "{line}");
    }

    // One request answered, so that the requests counter has a sample to show.
    let health = request(&serving.address, "GET /healthz HTTP/1.1", "").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let classic =
        request(&serving.metrics, "GET /metrics HTTP/1.1\r\naccept: text/plain; version=0.0.4", "").await;
    let (head, body) = classic.split_once("\r\n\r\n").unwrap();
    assert!(head.to_ascii_lowercase().contains("content-type: text/plain; version=0.0.4"), "{head}");
    assert!(!body.contains("# EOF") && !body.contains("# UNIT"), "{body}");
    // A counter's TYPE names its samples, as the 0.0.4 format wants.
    assert!(body.contains("# TYPE s3_connector_serve_requests_total counter"), "{body}");
    let open = request(
        &serving.metrics,
        "GET /metrics HTTP/1.1\r\naccept: application/openmetrics-text; version=1.0.0",
        "",
    )
    .await;
    assert!(open.to_ascii_lowercase().contains("content-type: application/openmetrics-text"), "{open}");
    assert!(open.contains("# EOF"), "{open}");
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let scraped =
        request(&serving.metrics, &format!("GET /metrics HTTP/1.1\r\naccept: {prometheus}"), "").await;
    assert!(scraped.to_ascii_lowercase().contains("content-type: application/openmetrics-text"), "{scraped}");
    drop(serving.rest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_help_and_the_limits_say_ranges_are_written_at_their_offsets() {
    let help = bare(&["cp", "--help"]).output().await.unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let parallel = help.split("--parallel-ranges").nth(1).unwrap_or_default();
    let parallel = parallel.split("--range-size-mib").next().unwrap_or_default();
    assert!(parallel.contains("at its offset"), "{parallel}");
    assert!(!parallel.contains("written in order."), "{parallel}");
    let limits = include_str!("../../docs/limits.md");
    assert!(!limits.contains("they write in order"), "the Limits still say ranges are written in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_object_answers_its_time_in_iso_8601() {
    let store = tempfile::tempdir().unwrap();
    let s3 = server(store.path()).await;
    let endpoint = s3.endpoint();
    assert_eq!(run(&endpoint, &["mb", "s3://heads"]).await.code, 0);
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("a.txt");
    std::fs::write(&file, b"alpha").unwrap();
    assert_eq!(run(&endpoint, &["cp", file.to_str().unwrap(), "s3://heads/a.txt"]).await.code, 0);
    let head =
        run(&endpoint, &["invoke", r#"{"action": "headObject", "bucket": "heads", "key": "a.txt"}"#]).await;
    assert_eq!(head.code, 0, "{}{}", head.stdout, head.stderr);
    let answer: serde_json::Value = serde_json::from_str(&head.stdout).unwrap();
    let time = answer["lastModified"].as_str().unwrap_or_default().to_owned();
    let listed = run(&endpoint, &["invoke", r#"{"action": "listObjects", "bucket": "heads"}"#]).await;
    let listed: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    // The same instant and form as listObjects answers (S3's HEAD gives no milliseconds).
    let listed_time = listed["objects"][0]["lastModified"].as_str().unwrap();
    assert_eq!(time.get(..19), listed_time.get(..19), "{time} and {listed_time}");
    let shape = time.len() == 24 && time.as_bytes()[10] == b'T' && time.ends_with(".000Z");
    assert!(shape, "{time:?} is not ISO 8601 UTC");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_reports_an_error_before_its_action_as_the_json_error_object() {
    let action = r#"{"action": "headObject", "bucket": "b", "key": "k"}"#;
    let output = bare(&["--endpoint", "http://127.0.0.1:1", "invoke", action]).output().await.unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("{e}: stdout {stdout:?}, stderr {:?}", String::from_utf8_lossy(&output.stderr))
    });
    assert_eq!(answer["error"]["code"], "usage", "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("AWS_ACCESS_KEY_ID"), "{answer}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("AWS_ACCESS_KEY_ID"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fips_refusal_names_the_flag_that_was_given() {
    let flag =
        bare(&["--use-fips-endpoint", "--region", "cn-north-1", "ls", "s3://b"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&flag.stderr);
    assert_eq!(flag.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--use-fips-endpoint") && !stderr.contains("AWS_USE_FIPS_ENDPOINT"), "{stderr}");
    let variable = bare(&["--region", "cn-north-1", "ls", "s3://b"])
        .env("AWS_USE_FIPS_ENDPOINT", "true")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&variable.stderr);
    assert!(stderr.contains("AWS_USE_FIPS_ENDPOINT"), "{stderr}");
}
