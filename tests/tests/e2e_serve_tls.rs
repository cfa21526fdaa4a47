//! `serve` over TLS, in front of S3 over TLS: a client that trusts the test CA reads and writes
//! objects and runs JSON actions; one that does not trust it, or speaks plain HTTP, gets
//! nothing and the S3 server sees no request from it. When S3's certificate is not trusted,
//! `serve`'s error answer says so in the host's words.

use s3_connector_host::Secret;
use s3_connector_serve::{ClientAuth, ServeTls, Server};
use s3_connector_tests::TestServer;
use s3_connector_tests::http_client::{self, bytes};
use s3_connector_tests::tls::{TestCa, https_call};

const TOKEN: &str = "serve-over-tls-token";

fn request(
    method: &str,
    address: std::net::SocketAddr,
    path: &str,
    body: &str,
) -> http::Request<http_client::Body> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", address.to_string())
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(bytes(body.to_owned()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_speaks_tls_to_clients_that_trust_its_ca() {
    let s3 = TestServer::start_tls().await;
    s3.admin().create_bucket("edge").await.unwrap();
    let front = TestCa::loopback();
    let server =
        Server::bind("127.0.0.1:0".parse().unwrap(), s3.admin(), ClientAuth::Bearer(Secret::new(TOKEN)))
            .await
            .unwrap()
            .with_tls(Some(ServeTls::new(front.server_config())));
    let address = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    let client = front.client_config();
    let (status, _) = https_call(
        client.clone(),
        address,
        "127.0.0.1",
        request("PUT", address, "/edge/hello.txt", "hi over tls"),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let (status, body) =
        https_call(client.clone(), address, "localhost", request("GET", address, "/edge/hello.txt", ""))
            .await
            .unwrap();
    assert_eq!((status, body.as_ref()), (200, b"hi over tls".as_ref()));
    let action = r#"{"action": "listObjects", "bucket": "edge"}"#;
    let (status, body) =
        https_call(client, address, "127.0.0.1", request("POST", address, "/actions", action)).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("hello.txt"));

    // A client that trusts another CA fails the handshake; a plain HTTP client gets no answer.
    let seen = s3.requests_received();
    let stranger = TestCa::loopback().client_config();
    let refused =
        https_call(stranger, address, "127.0.0.1", request("GET", address, "/edge/hello.txt", "")).await;
    assert!(refused.unwrap_err().starts_with("tls:"));
    let plain = http_client::call(
        address,
        "GET",
        "/edge/hello.txt",
        &[("authorization", &format!("Bearer {TOKEN}"))],
        bytes(""),
    )
    .await;
    assert!(plain.is_err() || plain.as_ref().is_ok_and(|(status, _)| *status >= 400), "{plain:?}");
    assert_eq!(s3.requests_received(), seen, "neither reached S3");

    let _ = stop.send(());
    assert_eq!(done.await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_s3_certificate_is_named_in_serves_answer() {
    let s3 = TestServer::start_tls().await;
    // A connector with the system's trust only: the test CA is not in it.
    let connection =
        s3_connector_host::Connection::resolve(Some(&s3.s3.endpoint()), Some("us-east-1"), true, |_| None)
            .unwrap();
    let credentials = s3_connector_host::StaticCredentials::new(
        s3.s3.access_key_id(),
        s3.s3.secret_access_key().clone(),
        None,
    );
    let connector = s3_connector_host::Connector::builder(
        connection,
        s3_connector_host::Policy::allow_all(),
        std::sync::Arc::new(credentials),
    )
    .max_attempts(1)
    .build()
    .unwrap();
    let serving = s3_connector_tests::serving::Serving::start(connector).await;
    let (status, body) = serving.call("GET", "/edge/hello.txt", "").await;
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(status >= 500, "{status} {body}");
    assert!(
        message.contains(&format!("127.0.0.1:{}", s3.s3.port())) && message.contains("--ca-bundle"),
        "{body}"
    );
    assert_eq!(s3.requests_received(), 0);
    serving.stop().await;
}
