//! Tenants of `s3-connector serve` cannot starve each other (issue 29, item 3), tested on the
//! real binary against s3s-fs, over 127.0.0.1 only, with bounded counts and times: one tenant's
//! kept-alive connections do not shut out another tenant nor `/healthz`; stalled request
//! bodies are answered 408 and free their sandboxes, and one tenant never holds every sandbox;
//! connections to the metrics port cannot take the main port's file descriptors; simultaneous
//! `/readyz` probes send one request to S3.
//!
//! `S3_CONNECTOR_BIN` runs another build of the binary instead (to see a test fail on a build
//! without the fix); every run prints what it measured (`--nocapture`).

use std::process::Stdio;
use std::time::{Duration, Instant};

use s3_connector_host::{Connection, Connector, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;
use s3_connector_serve::tenants_file::{hex, token_hash};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::common::cli_binary;

const ACCESS_KEY: &str = "AKFAIRNESSTEST000001";
const SECRET: &str = "secret-of-the-fairness-tests-0123456789";
const TOKEN_A: &str = "token-of-team-a-fairness";
const TOKEN_B: &str = "token-of-team-b-fairness";

/// A bound on an answer that is normally milliseconds away on loopback, far below what the
/// starving clients held before the fix (the header timeout, 10 s; the call timeout, 1 h).
const PROMPT: Duration = Duration::from_secs(5);

/// An S3 store with buckets `alpha` (team A's) and `beta` (team B's).
async fn store(dir: &std::path::Path) -> LocalS3 {
    let s3 = LocalS3::start(dir, ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let connection = Connection::resolve(Some(&s3.endpoint()), Some("us-east-1"), true, |_| None).unwrap();
    let credentials = StaticCredentials::new(ACCESS_KEY, Secret::new(SECRET), None);
    let admin = Connector::builder(connection, Policy::allow_all(), std::sync::Arc::new(credentials))
        .build()
        .unwrap();
    admin.create_bucket("alpha").await.unwrap();
    admin.create_bucket("beta").await.unwrap();
    s3
}

/// A running `serve` with two tenants.
struct Serve {
    child: Child,
    address: String,
    metrics: Option<String>,
    _dir: tempfile::TempDir,
}

impl Serve {
    /// Starts `serve` on `endpoint` with `args` besides the tenants file, under a descriptor
    /// limit of `nofile` when given.
    async fn start(endpoint: &str, args: &[&str], nofile: Option<u32>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let tenants = dir.path().join("tenants.toml");
        let keys = format!(
            "{{ source = \"static\", access_key_id = \"{ACCESS_KEY}\", secret_access_key = \"{SECRET}\" }}"
        );
        let mut text = String::new();
        for (name, bucket, token) in [("team-a", "alpha", TOKEN_A), ("team-b", "beta", TOKEN_B)] {
            text.push_str(&format!(
                "[[tenant]]\nname = \"{name}\"\ncredentials = {keys}\nallow = [{{ bucket = \"{bucket}\" }}]\n\n\
                 [[token]]\ntenant = \"{name}\"\nsha256 = \"{}\"\n\n",
                hex(&token_hash(token))
            ));
        }
        std::fs::write(&tenants, text).unwrap();
        let binary =
            std::env::var("S3_CONNECTOR_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_s3-connector").into());
        let mut all = vec!["--endpoint", endpoint, "--path-style", "serve", "--listen", "127.0.0.1:0"];
        all.extend(["--tenants", tenants.to_str().unwrap()]);
        all.extend(args);
        let mut command = match nofile {
            // The shell's `ulimit` lowers both limits, then `exec` keeps them for serve.
            Some(limit) => {
                let mut command = Command::new("/bin/sh");
                command.arg("-c").arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\"")).arg(&binary);
                command
            }
            None => Command::new(&binary),
        };
        cli_binary::isolated(&mut command)
            .env("RUST_LOG", "info")
            .args(&all)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let (address, log) = cli_binary::serve_started(&mut stderr).await;
        let metrics = cli_binary::address_after(&log, "metrics on http://");
        // Drain the rest, so that the pipe never fills.
        tokio::spawn(async move {
            let mut rest = Vec::new();
            let _ = stderr.read_to_end(&mut rest).await;
        });
        Self { child, address, metrics, _dir: dir }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Sends one request on `stream` (kept alive); `Content-Length` says `length`, `body` is what
/// is sent of it now.
async fn send(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    token: Option<&str>,
    length: usize,
    body: &str,
) {
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head =
        format!("{method} {path} HTTP/1.1\r\nhost: serve\r\n{auth}content-length: {length}\r\n\r\n{body}");
    stream.write_all(head.as_bytes()).await.unwrap();
}

/// Reads one answer from `stream` within `within`: its status, or `None` (no answer in time,
/// or the connection closed).
async fn status(stream: &mut TcpStream, within: Duration) -> Option<u16> {
    let read = async {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.ok()? == 0 {
                return None;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).await.ok()?;
        head.split_whitespace().nth(1)?.parse().ok()
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

/// One request over a fresh connection: its status and how long it took, `None` when not
/// answered within [`PROMPT`].
async fn timed(address: &str, method: &str, path: &str, token: Option<&str>) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let call = async {
        let mut stream = TcpStream::connect(address).await.ok()?;
        send(&mut stream, method, path, token, 0, "").await;
        status(&mut stream, PROMPT).await
    };
    let answer = tokio::time::timeout(PROMPT, call).await.ok().flatten();
    (answer, started.elapsed())
}

/// Team A's attack: `count` connections, each with one authenticated request sent at once,
/// then kept alive. The connections and how many were answered within a second.
async fn hold_connections(address: &str, count: usize) -> (Vec<TcpStream>, usize) {
    let mut sent = Vec::new();
    for _ in 0..count {
        let mut stream = TcpStream::connect(address).await.unwrap();
        send(&mut stream, "GET", "/alpha/", Some(TOKEN_A), 0, "").await;
        sent.push(tokio::spawn(async move {
            let answered = status(&mut stream, Duration::from_secs(1)).await == Some(200);
            (stream, answered)
        }));
    }
    let (mut held, mut answered) = (Vec::new(), 0);
    for task in sent {
        let (stream, ok) = task.await.unwrap();
        answered += usize::from(ok);
        held.push(stream);
    }
    (held, answered)
}

/// Whether the server has closed `stream`: what is left to read ends in end of file (or an
/// error) rather than waiting.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenants_kept_alive_connections_shut_out_neither_another_tenant_nor_healthz() {
    const HELD: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let s3 = store(dir.path()).await;
    // Team A may fill the whole gate: a full gate must still make room for team B.
    let serve = Serve::start(
        &s3.endpoint(),
        &["--max-connections", "64", "--max-connections-per-tenant", "64"],
        None,
    )
    .await;

    // Team A: one authenticated request on each connection, then kept alive (all within a
    // second or two, far inside the 10 s that would close them idle).
    let (mut held, answered) = hold_connections(&serve.address, HELD).await;
    let (b, b_took) = timed(&serve.address, "GET", "/beta/", Some(TOKEN_B)).await;
    let (health, health_took) = timed(&serve.address, "GET", "/healthz", None).await;
    let mut open = 0;
    for stream in &mut held {
        if !closed(stream).await {
            open += 1;
        }
    }
    eprintln!(
        "team A: {HELD} connections, {answered} answered, {open} still open; team B answered {b:?} in \
         {b_took:?}; /healthz answered {health:?} in {health_took:?}"
    );
    assert_eq!(b, Some(200), "team B was shut out ({b_took:?})");
    assert_eq!(health, Some(200), "/healthz was shut out ({health_took:?})");
    assert!(open <= 64, "team A holds {open} connections, over the cap");

    // With the default share (half of the gate for two tenants), team A cannot fill it at all.
    drop(held);
    let serve = Serve::start(&s3.endpoint(), &["--max-connections", "64"], None).await;
    let (mut held, _) = hold_connections(&serve.address, HELD).await;
    let mut open = 0;
    for stream in &mut held {
        if !closed(stream).await {
            open += 1;
        }
    }
    eprintln!("default share: team A holds {open} of {HELD} connections");
    assert!(open <= 32, "team A holds {open} connections, over its share of 32");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_are_answered_408_and_no_tenant_holds_every_sandbox() {
    const STALLED: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let s3 = store(dir.path()).await;
    let serve =
        Serve::start(&s3.endpoint(), &["--max-instances", "8", "--body-read-timeout", "2"], None).await;

    // Team A: PUTs that promise 1,000 bytes, send 10, then stall.
    let mut stalled = Vec::new();
    for i in 0..STALLED {
        let mut stream = TcpStream::connect(&serve.address).await.unwrap();
        send(&mut stream, "PUT", &format!("/alpha/stalled-{i}"), Some(TOKEN_A), 1000, "0123456789").await;
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (b, b_took) = timed(&serve.address, "GET", "/beta/", Some(TOKEN_B)).await;
    let started = Instant::now();
    let mut statuses = Vec::new();
    for stream in &mut stalled {
        statuses.push(status(stream, Duration::from_secs(10)).await);
    }
    let all_answered = started.elapsed();
    let (a_after, a_took) = timed(&serve.address, "GET", "/alpha/", Some(TOKEN_A)).await;
    eprintln!(
        "team B answered {b:?} in {b_took:?} beside {STALLED} stalled PUTs of team A; those answered \
         {statuses:?} within {all_answered:?}; team A then answered {a_after:?} in {a_took:?}"
    );
    assert_eq!(b, Some(200), "team B waited for a sandbox ({b_took:?})");
    let timed_out = statuses.iter().filter(|s| **s == Some(408)).count();
    let refused = statuses.iter().filter(|s| **s == Some(429)).count();
    assert_eq!((timed_out, refused), (6, 6), "6 in its share of 8 sandboxes time out, the rest are refused");
    assert_eq!(a_after, Some(200), "the stalled PUTs' sandboxes were freed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_to_the_metrics_port_cannot_take_the_main_ports_descriptors() {
    const HELD: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let s3 = store(dir.path()).await;
    let serve = Serve::start(&s3.endpoint(), &["--metrics-listen", "127.0.0.1:0"], Some(300)).await;
    let metrics = serve.metrics.clone().expect("the metrics address");

    let mut held = Vec::new();
    for _ in 0..HELD {
        let mut stream = TcpStream::connect(&metrics).await.unwrap();
        send(&mut stream, "GET", "/metrics", None, 0, "").await;
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (a, a_took) = timed(&serve.address, "GET", "/alpha/", Some(TOKEN_A)).await;
    let (health, health_took) = timed(&serve.address, "GET", "/healthz", None).await;
    let (scrape, scrape_took) = timed(&metrics, "GET", "/metrics", None).await;
    let mut open = 0;
    for stream in &mut held {
        if !closed(stream).await {
            open += 1;
        }
    }
    eprintln!(
        "{HELD} connections to the metrics port under a limit of 300 descriptors, {open} still open; the main \
         port answered {a:?} in {a_took:?}, /healthz {health:?} in {health_took:?}; a scrape {scrape:?} in \
         {scrape_took:?}"
    );
    assert_eq!(a, Some(200), "the main port answered nothing ({a_took:?})");
    assert_eq!(health, Some(200), "/healthz answered nothing ({health_took:?})");
    assert_eq!(scrape, Some(200), "a scraper always gets in");
    assert!(open <= 64, "the metrics port holds {open} connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_readiness_probes_send_one_request_to_s3() {
    const PROBES: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let s3 = store(dir.path()).await;
    let serve = Serve::start(&s3.endpoint(), &[], None).await;
    // Every connection open first, then every probe sent at once.
    let mut streams = Vec::new();
    for _ in 0..PROBES {
        streams.push(TcpStream::connect(&serve.address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = s3.requests_received();
    let probes: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                send(&mut stream, "GET", "/readyz", None, 0, "").await;
                status(&mut stream, Duration::from_secs(20)).await
            })
        })
        .collect();
    let mut ready = 0;
    for probe in probes {
        if probe.await.unwrap() == Some(200) {
            ready += 1;
        }
    }
    let sent = s3.requests_received() - before;
    eprintln!("{PROBES} simultaneous /readyz probes: {ready} answered 200, {sent} requests reached S3");
    assert_eq!(ready, PROBES);
    assert_eq!(sent, 1, "one probe in flight at a time; the others take its answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_every_connection_is_busy() {
    const BUSY: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let s3 = store(dir.path()).await;
    let serve =
        Serve::start(&s3.endpoint(), &["--max-connections", "8", "--max-connections-per-tenant", "8"], None)
            .await;
    // Team A: stalled PUTs (the body read timeout, 30 s, is far off) on every connection.
    let mut stalled = Vec::new();
    for i in 0..BUSY {
        let mut stream = TcpStream::connect(&serve.address).await.unwrap();
        send(&mut stream, "PUT", &format!("/alpha/busy-{i}"), Some(TOKEN_A), 1000, "0123456789").await;
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (health, health_took) = timed(&serve.address, "GET", "/healthz", None).await;
    let (b, b_took) = timed(&serve.address, "GET", "/beta/", Some(TOKEN_B)).await;
    eprintln!(
        "{BUSY} busy connections of team A fill the gate: /healthz answered {health:?} in {health_took:?}; team B \
         {b:?} in {b_took:?}"
    );
    assert_eq!(health, Some(200), "/healthz waited for a busy connection to end ({health_took:?})");
    assert_eq!(b, Some(503), "team B is told the server is full rather than left waiting ({b_took:?})");
    drop(stalled);
}
