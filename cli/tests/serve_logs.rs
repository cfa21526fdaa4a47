//! `s3-connector serve --tenants` as an operator runs it (issue 21): its log lines, at every
//! level (RUST_LOG=trace), as text and as JSON, never hold a client token, a secret key or a
//! presigned signature; every answered request is logged with its id and tenant; SIGHUP reloads
//! the tenants file; `serve-token add` prints a token once and stores only its hash.

use std::process::Stdio;
use std::time::Duration;

use s3_connector_host::Secret;
use s3_connector_local_store::LocalS3;
use s3_connector_serve::tenants_file;
use s3_connector_serve::tenants_file::{hex, token_hash};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

use crate::common::cli_binary;

const ACCESS_KEY: &str = "AKSERVELOGSTEST00001";
const SECRET: &str = "SECRET-serve-logs-sentinel-4f1d9a-never-log-me";
const TOKEN: &str = "TOKEN-serve-logs-sentinel-77c2e0-never-log-me";
const WRONG_TOKEN: &str = "WRONG-TOKEN-sentinel-a91b3c-never-log-me";

/// One request over a fresh connection; the whole answer as text.
async fn request(address: &str, method: &str, path: &str, token: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

/// Runs serve with `log_format`, sends requests of every kind, reloads on SIGHUP, stops it, and
/// returns its stderr and a presigned URL's signature it handed out.
async fn serve_and_log(endpoint: &str, log_format: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let tenants = dir.path().join("tenants.toml");
    let text = format!(
        "[[tenant]]\nname = \"team-logs\"\ncredentials = {{ source = \"static\", access_key_id = \"{ACCESS_KEY}\", \
         secret_access_key = \"{SECRET}\" }}\nallow = [{{ bucket = \"logs\" }}]\n\n[[token]]\ntenant = \
         \"team-logs\"\nsha256 = \"{}\"\n",
        hex(&token_hash(TOKEN))
    );
    std::fs::write(&tenants, text).unwrap();
    let mut child = cli_binary::bare(&[
        "--endpoint",
        endpoint,
        "--path-style",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tenants",
        tenants.to_str().unwrap(),
        "--log-format",
        log_format,
    ])
    .env("RUST_LOG", "trace")
    .stderr(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (address, mut log) = cli_binary::serve_started(&mut stderr).await;
    // Read the rest as it comes, so that the pipe never fills.
    let rest = tokio::spawn(async move {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest).await;
        rest
    });

    let put = request(&address, "PUT", "/logs/a.txt?x-id=PutObject", TOKEN, "hello").await;
    assert!(put.starts_with("HTTP/1.1 200"), "{put}");
    assert!(put.to_ascii_lowercase().contains("x-request-id: "), "{put}");
    assert!(request(&address, "GET", "/logs/a.txt", TOKEN, "").await.starts_with("HTTP/1.1 200"));
    assert!(request(&address, "GET", "/other/a.txt", TOKEN, "").await.starts_with("HTTP/1.1 403"));
    assert!(request(&address, "GET", "/logs/a.txt", WRONG_TOKEN, "").await.starts_with("HTTP/1.1 401"));
    let presign = r#"{"action":"presign","bucket":"logs","key":"a.txt","method":"GET","expiresIn":60}"#;
    let presigned = request(&address, "POST", "/actions", TOKEN, presign).await;
    assert!(presigned.starts_with("HTTP/1.1 200"), "{presigned}");
    let signature = presigned
        .split("X-Amz-Signature=")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect::<String>())
        .unwrap_or_default();
    assert_eq!(signature.len(), 64, "{presigned}");

    let pid = child.id().unwrap() as i32;
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status}");
    log.push_str(&rest.await.unwrap());
    (log, signature)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_secret_or_signature_reaches_a_log_line_at_any_level() {
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(store_dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let admin = {
        let connection =
            s3_connector_host::Connection::resolve(Some(&s3.endpoint()), Some("us-east-1"), true, |_| None)
                .unwrap();
        let credentials = s3_connector_host::StaticCredentials::new(ACCESS_KEY, Secret::new(SECRET), None);
        s3_connector_host::Connector::builder(
            connection,
            s3_connector_host::Policy::allow_all(),
            std::sync::Arc::new(credentials),
        )
        .build()
        .unwrap()
    };
    admin.create_bucket("logs").await.unwrap();
    for format in ["json", "text"] {
        let (log, signature) = serve_and_log(&s3.endpoint(), format).await;
        for sentinel in [SECRET, TOKEN, WRONG_TOKEN, signature.as_str(), &hex(&token_hash(TOKEN))] {
            assert!(!log.contains(sentinel), "{format}: {sentinel} in the log:\n{log}");
        }
        // Every level was on: the runtime's own TRACE lines are there.
        assert!(log.contains("TRACE"), "{format}:\n{log}");
        assert!(log.contains("tenants file reloaded") && log.contains("SIGHUP"), "{format}:\n{log}");
        let answered: Vec<&str> = log.lines().filter(|line| line.contains("answered")).collect();
        assert!(answered.len() >= 5, "{format}: every request is logged:\n{log}");
        assert!(answered.iter().any(|line| line.contains("team-logs") && line.contains("403")), "{log}");
        if format == "json" {
            for line in log.lines().filter(|line| line.starts_with('{')) {
                let value: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert!(value["level"].is_string(), "{line}");
            }
            let parsed: serde_json::Value = serde_json::from_str(answered[0]).unwrap();
            assert_eq!(parsed["span"]["id"].as_str().map(str::len), Some(32), "{}", answered[0]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_token_add_prints_a_token_once_and_stores_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenants.toml");
    let original = "# the operator's comment stays\n[[tenant]]\nname = \"team-a\"\ncredentials = { source = \"default\" }\nallow = []\n";
    std::fs::write(&path, original).unwrap();
    let added =
        cli_binary::bare(&["serve-token", "add", "--tenants", path.to_str().unwrap(), "--tenant", "team-a"])
            .output()
            .await
            .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let token = String::from_utf8(added.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("s3c_") && token.len() == 68, "{token}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(original) && !text.contains(&token), "{text}");
    let specs = tenants_file::parse(&path, &text).unwrap();
    assert_eq!(specs[0].token_hashes, vec![token_hash(&token)]);

    let missing =
        cli_binary::bare(&["serve-token", "add", "--tenants", path.to_str().unwrap(), "--tenant", "team-b"])
            .output()
            .await
            .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no tenant \"team-b\""));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "a refused add changes nothing");

    // The command line's policy would be ignored beside the tenants': refused by name.
    let flags = cli_binary::bare(&["--allow", "bucket", "serve", "--tenants", path.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert_eq!(flags.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&flags.stderr).contains("--allow does not apply with --tenants"));
}
