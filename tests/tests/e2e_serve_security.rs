//! `serve` against the policy and against clients without a token: presigned URLs from every
//! route obey the policy as library calls do (issue: serve handed out URLs for any bucket),
//! error answers carry no spelling of a secret, and idle or slow connections cannot shut out a
//! client with the token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use s3_connector_host::ObjectRef;
use s3_connector_host::audit::{Decision, Kind, MemorySink};
use s3_connector_host::types::{PresignMethod, PresignRequest};
use s3_connector_host::{Connector, Policy, Secret, StaticCredentials};
use s3_connector_serve::ServeLimits;
use s3_connector_tests::http_client::{self, bytes, peak_rss};
use s3_connector_tests::serving::{Serving, TOKEN};
use s3_connector_tests::{TestServer, policy};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The host's cap on presigned URLs in these tests.
const CAP: u32 = 3600;

/// One presign request and what the host must say: `None` allowed, else a fragment of the
/// refusal.
struct Case {
    method: &'static str,
    bucket: &'static str,
    key: &'static str,
    expires: u32,
    refusal: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case { method: "GET", bucket: "photos", key: "in/a.txt", expires: 600, refusal: None },
    Case { method: "HEAD", bucket: "photos", key: "in/a.txt", expires: 600, refusal: None },
    Case { method: "PUT", bucket: "photos", key: "in/new.txt", expires: 600, refusal: None },
    // A bucket the policy never names, for every method.
    Case { method: "GET", bucket: "secret", key: "k", expires: 600, refusal: Some("secret") },
    Case { method: "HEAD", bucket: "secret", key: "k", expires: 600, refusal: Some("secret") },
    Case { method: "PUT", bucket: "secret", key: "k", expires: 600, refusal: Some("secret") },
    Case { method: "DELETE", bucket: "secret", key: "k", expires: 604_800, refusal: Some("cap") },
    // An operation the rule does not grant.
    Case { method: "DELETE", bucket: "photos", key: "in/a.txt", expires: 600, refusal: Some("delete") },
    // Outside the prefix.
    Case { method: "GET", bucket: "photos", key: "out/b.txt", expires: 600, refusal: Some("out/b.txt") },
    // The expiry cap, below and at S3's own 7 days.
    Case { method: "GET", bucket: "photos", key: "in/a.txt", expires: CAP + 1, refusal: Some("cap") },
    Case { method: "GET", bucket: "photos", key: "in/a.txt", expires: 604_800, refusal: Some("cap") },
    // Dot segments that a normalising server reads as another key.
    Case { method: "GET", bucket: "photos", key: "in/../out/b.txt", expires: 600, refusal: Some("") },
];

fn presign_request(case: &Case) -> PresignRequest {
    let method = match case.method {
        "GET" => PresignMethod::Get,
        "HEAD" => PresignMethod::Head,
        "PUT" => PresignMethod::Put,
        _ => PresignMethod::Delete,
    };
    PresignRequest { method, object: ObjectRef::new(case.bucket, case.key), expires_in_seconds: case.expires }
}

fn action(case: &Case) -> String {
    json!({"action": "presign", "bucket": case.bucket, "key": case.key, "method": case.method,
        "expiresIn": case.expires})
    .to_string()
}

/// Uses a presigned URL with a plain HTTP client; its status.
async fn use_url(s3: &TestServer, method: &str, url: &str) -> u16 {
    let endpoint = s3.s3.endpoint();
    let path = url.strip_prefix(&endpoint).unwrap_or_else(|| panic!("{url} is not on {endpoint}"));
    let address: SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let body = if method == "PUT" { "written through a presigned URL" } else { "" };
    http_client::call(address, method, path, &[], bytes(body)).await.unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_obey_the_policy_through_serve_invoke_and_presign() {
    let s3 = TestServer::start().await;
    let admin = s3.admin();
    for bucket in ["photos", "secret"] {
        admin.create_bucket(bucket).await.unwrap();
    }
    admin
        .put_object_bytes(&ObjectRef::new("photos", "in/a.txt"), b"allowed", Default::default())
        .await
        .unwrap();
    admin
        .put_object_bytes(&ObjectRef::new("photos", "out/b.txt"), b"outside", Default::default())
        .await
        .unwrap();
    admin.put_object_bytes(&ObjectRef::new("secret", "k"), b"forbidden", Default::default()).await.unwrap();
    let audit = Arc::new(MemorySink::default());
    let connector = s3
        .builder(policy(&["photos/in/=read,write,list"]))
        .presign_cap(CAP)
        .audit(audit.clone())
        .build()
        .unwrap();
    let serving = Serving::start(connector.clone()).await;

    for case in CASES {
        let seen = audit.records().len();
        let subject = format!("{} s3://{}/{} for {} s", case.method, case.bucket, case.key, case.expires);
        let library = connector.presign(presign_request(case)).await.map_err(|e| e.to_string());
        let invoked = connector.invoke(&action(case)).await;
        let invoked =
            invoked.map(|answer| answer["url"].as_str().map(str::to_owned)).map_err(|f| f.to_string());
        let (status, served) = serving.call("POST", "/actions", &action(case)).await;
        let served: Value = serde_json::from_str(&served).unwrap();
        let answers = [
            ("presign", library.clone()),
            ("invoke", invoked.map(Option::unwrap_or_default)),
            ("serve", served["url"].as_str().map(str::to_owned).ok_or_else(|| served.to_string())),
        ];
        let records: Vec<_> = audit
            .records()
            .into_iter()
            .skip(seen)
            // A refused scope is recorded when the plugin asks for credentials, before it signs.
            .filter(|r| matches!(r.kind, Kind::Presign | Kind::Credentials))
            .filter(|r| r.bucket.as_deref() == Some(case.bucket))
            .filter(|r| r.key.is_none() || r.key.as_deref() == Some(case.key))
            .collect();
        match case.refusal {
            None => {
                assert_eq!(status, 200, "{subject}: {served}");
                for (path, answer) in answers {
                    let url = answer.unwrap_or_else(|e| panic!("{subject} via {path}: {e}"));
                    assert!(
                        (200..300).contains(&use_url(&s3, case.method, &url).await),
                        "{subject} via {path}"
                    );
                }
                let allowed = records.iter().filter(|r| r.decision == Decision::Allowed).count();
                assert_eq!(allowed, 3, "{subject}: one audit record per URL: {records:?}");
            }
            Some(fragment) => {
                assert_eq!(status, 403, "{subject}: {served}");
                assert_eq!(served["error"]["code"], "denied-by-host", "{subject}: {served}");
                for (path, answer) in answers {
                    let error = answer.expect_err(&format!("{subject} via {path}: a URL left the host"));
                    assert!(error.contains(fragment), "{subject} via {path}: {error}");
                    assert!(!error.contains("X-Amz-Signature"), "{subject} via {path}: {error}");
                }
                let denied = records.iter().filter(|r| r.decision == Decision::Denied).count();
                assert_eq!(denied, 3, "{subject}: one audit record per refusal: {records:?}");
            }
        }
    }
    // Nothing the refused URLs could have done happened.
    assert_eq!(std::fs::read(s3.object_path("secret", "k")).unwrap(), b"forbidden");
    assert!(std::fs::read(s3.object_path("photos", "in/new.txt")).is_ok(), "the allowed PUT URL worked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_future_time_cannot_stretch_the_cap() {
    let s3 = TestServer::start().await;
    let far = std::time::SystemTime::now() + Duration::from_secs(30 * 24 * 3600);
    let connector = s3.builder(Policy::allow_all()).presign_cap(CAP).pinned_time(far).build().unwrap();
    let request = PresignRequest {
        method: PresignMethod::Get,
        object: ObjectRef::new("bkt", "k"),
        expires_in_seconds: 60,
    };
    let refused = connector.presign(request).await.unwrap_err().to_string();
    assert!(refused.contains("pinned time"), "{refused}");
    // A pinned time in the past (reproducible signatures) is still fine.
    let past = std::time::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let connector = s3.builder(Policy::allow_all()).presign_cap(CAP).pinned_time(past).build().unwrap();
    let request = PresignRequest {
        method: PresignMethod::Get,
        object: ObjectRef::new("bkt", "k"),
        expires_in_seconds: 60,
    };
    assert!(connector.presign(request).await.is_ok());
}

/// A server that answers every request with `SignatureDoesNotMatch`, quoting the request's
/// session token in the spellings AWS uses in its canonical request: raw in a header line,
/// percent-encoded as a query value.
async fn quoting_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..100 {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let token = head
                    .lines()
                    .find_map(|l| l.strip_prefix("x-amz-security-token: "))
                    .unwrap_or("none")
                    .to_owned();
                let encoded: String = token
                    .bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }
                    })
                    .collect();
                let body = format!(
                    "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>canonical request: \
                     x-amz-security-token:{token} X-Amz-Security-Token={encoded}</Message><RequestId>R</RequestId>\
                     </Error>"
                );
                let answer = format!(
                    "HTTP/1.1 403 Forbidden\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: \
                     close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spelling_of_the_session_token_reaches_a_caller() {
    const SESSION_TOKEN: &str = "FQoGZXIvYXdz/Session+Token==";
    let address = quoting_server().await;
    let connection = s3_connector_host::Connection::resolve(
        Some(&format!("http://{address}")),
        Some("us-east-1"),
        true,
        |_| None,
    )
    .unwrap();
    let credentials =
        StaticCredentials::new("AKIDQUOTED", Secret::new("quoted-secret"), Some(Secret::new(SESSION_TOKEN)));
    let connector = Connector::builder(connection, Policy::allow_all(), Arc::new(credentials))
        .max_attempts(1)
        .build()
        .unwrap();
    let encoded = "FQoGZXIvYXdz%2FSession%2BToken%3D%3D";

    let library = connector.list_objects("bkt", Default::default()).await.unwrap_err().to_string();
    let invoked = connector.invoke(r#"{"action":"listObjects","bucket":"bkt"}"#).await.unwrap_err();
    let serving = Serving::start(connector).await;
    let (status, served) = serving.call("GET", "/bkt/", "").await;
    assert_eq!(status, 403, "{served}");
    let (_, served_action) =
        serving.call("POST", "/actions", r#"{"action":"listObjects","bucket":"bkt"}"#).await;
    for (path, text) in [
        ("library", library),
        ("invoke", invoked.to_string()),
        ("serve", served),
        ("serve /actions", served_action),
    ] {
        // S3's message came through (so the check below can fail), with the token scrubbed.
        assert!(text.contains("canonical request"), "{path}: {text}");
        assert!(!text.contains(SESSION_TOKEN) && !text.contains(encoded), "{path} leaks the token: {text}");
        assert!(!text.contains("quoted-secret"), "{path} leaks the secret: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_clients_cannot_shut_out_one_with_the_token() {
    const IDLE: usize = 300;
    const SLOW: usize = 100;
    let s3 = TestServer::start().await;
    s3.admin().create_bucket("bkt").await.unwrap();
    s3.admin()
        .put_object_bytes(&ObjectRef::new("bkt", "k"), b"still served", Default::default())
        .await
        .unwrap();
    let limits = ServeLimits {
        header_read_timeout: Duration::from_secs(2),
        max_connections: 512,
        max_unauthenticated: 64,
        ..ServeLimits::default()
    };
    let serving = Serving::start_with(s3.connector(Policy::allow_all()), limits).await;
    let before = peak_rss();

    // Idle connections that never send a byte, and slow ones that send half a request head.
    let mut held = Vec::new();
    for i in 0..IDLE + SLOW {
        let mut socket = tokio::net::TcpStream::connect(serving.address).await.unwrap();
        if i >= IDLE {
            socket.write_all(b"GET /bkt/k HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        }
        held.push(socket);
    }
    let started = Instant::now();
    let (status, body) = serving.call("GET", "/bkt/k", "").await;
    let waited = started.elapsed();
    assert_eq!((status, body.as_str()), (200, "still served"));
    // A bound far above a normal answer on loopback (milliseconds), far below the attackers' hold.
    assert!(waited < Duration::from_secs(5), "the client with the token waited {waited:?}");

    // The server closed the oldest unauthenticated connections to make room, and the rest when
    // the header timeout ran out: every held connection reads end-of-file.
    let mut closed = 0;
    for mut socket in held {
        let mut rest = Vec::new();
        if tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut rest)).await.is_ok() {
            closed += 1;
        }
    }
    assert_eq!(closed, IDLE + SLOW, "every idle or slow connection was closed");
    let growth = peak_rss().saturating_sub(before);
    assert!(growth < 64 * 1024 * 1024, "memory grew by {} MiB", growth >> 20);
    serving.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_1_0_request_without_host_gets_a_400() {
    let s3 = TestServer::start().await;
    let serving = Serving::start(s3.connector(Policy::allow_all())).await;
    let mut socket = tokio::net::TcpStream::connect(serving.address).await.unwrap();
    let request = format!("GET /bkt/k HTTP/1.0\r\nAuthorization: Bearer {TOKEN}\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.0 400"), "{answer}");
    assert!(answer.contains("Host"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_need_no_token_and_say_nothing_secret() {
    let s3 = TestServer::start().await;
    let serving = Serving::start(s3.connector(Policy::allow_all())).await;
    for (path, status, body) in [("/healthz", 200, r#"{"status":"serving"}"#), ("/readyz", 200, "")] {
        let (got, answer) = http_client::call(serving.address, "GET", path, &[], bytes("")).await.unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        assert_eq!(got, status, "{path}: {answer}");
        if !body.is_empty() {
            assert_eq!(answer, body);
        }
        assert!(!answer.contains(s3.s3.secret_access_key().expose()) && !answer.contains(TOKEN), "{answer}");
    }
    let (_, ready) = http_client::call(serving.address, "GET", "/readyz", &[], bytes("")).await.unwrap();
    let ready: Value = serde_json::from_slice(&ready).unwrap();
    assert_eq!(
        ready,
        json!({"ready": true, "checks": {"component": "ok", "credentials": "ok", "endpoint": "ok"}})
    );
    serving.stop().await;

    // An endpoint that does not answer makes the server not ready (503), still without a token.
    // On 127.0.0.3, where no test serves: the readiness check goes through the process-wide
    // connection pool, which may still hold a live connection to a server that another test ran
    // on a port of 127.0.0.1 now free again.
    let closed = tokio::net::TcpListener::bind("127.0.0.3:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let serving = Serving::start(s3.connector_via(&dead, Policy::allow_all())).await;
    let (status, answer) =
        http_client::call(serving.address, "GET", "/readyz", &[], bytes("")).await.unwrap();
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!((status, &answer["checks"]["endpoint"]), (503, &json!("failing")), "{answer}");
    serving.stop().await;
}

/// Every string in `answer` that holds a presigned URL's signature.
fn urls_in(answer: &str) -> Vec<String> {
    answer
        .split('"')
        .filter(|part| part.contains("X-Amz-Signature"))
        .map(|part| part.replace("\\u0026", "&"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_action_shape_gets_a_url_past_the_policy() {
    let s3 = TestServer::start().await;
    let admin = s3.admin();
    for bucket in ["photos", "secret"] {
        admin.create_bucket(bucket).await.unwrap();
    }
    admin
        .put_object_bytes(&ObjectRef::new("photos", "in/a.txt"), b"allowed", Default::default())
        .await
        .unwrap();
    admin.put_object_bytes(&ObjectRef::new("secret", "k"), b"forbidden", Default::default()).await.unwrap();
    let audit = Arc::new(MemorySink::default());
    let connector =
        s3.builder(policy(&["photos/in/=read,list"])).presign_cap(CAP).audit(audit.clone()).build().unwrap();
    let serving = Serving::start(connector.clone()).await;
    for method in ["GET", "HEAD", "PUT", "DELETE"] {
        for (bucket, key) in [("photos", "in/a.txt"), ("secret", "k"), ("photos", "out/b.txt")] {
            let allowed = bucket == "photos" && key.starts_with("in/") && matches!(method, "GET" | "HEAD");
            let fields = format!(r#""bucket":"{bucket}","key":"{key}","method":"{method}","expiresIn":600"#);
            let shapes = [
                format!(r#"{{"action":"presign",{fields}}}"#),
                // Camunda's shape with the action hidden in its fields (issue 29).
                format!(
                    r#"{{"actionDiscriminator":"downloadObject","action":{{"action":"presign",{fields}}}}}"#
                ),
                format!(
                    r#"{{"actionDiscriminator":"uploadObject","action":{{"action":"presign",{fields}}}}}"#
                ),
                format!(r#"{{"action":{{"action":"presign",{fields}}}}}"#),
                format!(r#"{{"Action":"presign",{fields}}}"#),
                format!(r#"{{"action":"PRESIGN",{fields}}}"#),
                format!(r#"{{"action":"listObjects","action":"presign",{fields}}}"#),
                format!(r#"{{"action":"presign","action":"presign",{fields},"unknown":1}}"#),
            ];
            for shape in shapes {
                let seen = audit.records().len();
                let invoked = match connector.invoke(&shape).await {
                    Ok(answer) => answer.to_string(),
                    Err(failure) => failure.json().to_string(),
                };
                let (_, served) = serving.call("POST", "/actions", &shape).await;
                for (path, answer) in [("invoke", &invoked), ("serve", &served)] {
                    for url in urls_in(answer) {
                        let status = use_url(&s3, method, &url).await;
                        assert!(
                            allowed,
                            "{shape} via {path}: a URL outside the policy left the host ({status})"
                        );
                        assert!((200..300).contains(&status), "{shape} via {path}: {status}");
                    }
                    if answer.contains("denied-by-host") {
                        let denied = audit.records().into_iter().skip(seen).any(|r| {
                            r.decision == Decision::Denied
                                && matches!(r.kind, Kind::Presign | Kind::Credentials)
                        });
                        assert!(denied, "{shape} via {path}: a refusal without an audit record");
                    }
                }
                // The plain request is the one shape that must work when allowed.
                if allowed && shape.starts_with(r#"{"action":"presign","bucket""#) {
                    assert_eq!(urls_in(&invoked).len(), 1, "{shape}: {invoked}");
                    assert_eq!(urls_in(&served).len(), 1, "{shape}: {served}");
                }
            }
        }
    }
    assert_eq!(std::fs::read(s3.object_path("secret", "k")).unwrap(), b"forbidden");
    assert!(std::fs::read(s3.object_path("photos", "in/a.txt")).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_of_temporary_credentials_carry_their_token_and_work() {
    const TOKEN: &str = "FQoGZXIvYXdz/Temporary+Token==";
    let s3 = TestServer::start().await;
    s3.admin().create_bucket("photos").await.unwrap();
    s3.admin()
        .put_object_bytes(&ObjectRef::new("photos", "in/a.txt"), b"allowed", Default::default())
        .await
        .unwrap();
    let credentials = StaticCredentials::new(
        s3.s3.access_key_id(),
        s3.s3.secret_access_key().clone(),
        Some(Secret::new(TOKEN)),
    );
    let connector = Connector::builder(s3.connection(), policy(&["photos/in/=read"]), Arc::new(credentials))
        .build()
        .unwrap();
    let answer = connector
        .invoke(r#"{"action":"presign","bucket":"photos","key":"in/a.txt","expiresIn":600}"#)
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    let url = answer["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Security-Token=FQoGZXIvYXdz%2FTemporary%2BToken%3D%3D"), "{url}");
    assert!(!url.contains("redacted"), "{url}");
}
