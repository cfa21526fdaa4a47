//! S3 through a proxy: HTTPS through `CONNECT` (TLS end to end, the proxy sees only the
//! tunnel), proxy credentials from the URL (sent, never shown), `NO_PROXY` to go direct, a
//! refusing proxy named in a one-line error, and a request the policy denies reaching neither
//! the proxy nor the server.

use s3_connector_host::ObjectRef;
use s3_connector_host::network::{NetworkFailure, NetworkSettings, ProxySettings};
use s3_connector_host::types::PutOptions;
use s3_connector_host::{Connection, Connector, Error, Policy, StaticCredentials};
use s3_connector_tests::TestServer;
use s3_connector_tests::connect_proxy::ConnectProxy;

fn through(server: &TestServer, proxy: &str, no_proxy: Option<&str>, policy: Policy) -> Connector {
    let proxy = proxy.to_owned();
    let no_proxy = no_proxy.map(str::to_owned);
    let lookup = move |name: &str| match name {
        "HTTPS_PROXY" | "HTTP_PROXY" => Some(proxy.clone()),
        "NO_PROXY" => no_proxy.clone(),
        _ => None,
    };
    let network =
        NetworkSettings { proxy: ProxySettings::resolve(None, &lookup).unwrap(), ..server.network() };
    let connection = Connection::resolve(Some(&server.s3.endpoint()), Some("us-east-1"), true, |_| None)
        .unwrap()
        .with_network(network);
    let credentials =
        StaticCredentials::new(server.s3.access_key_id(), server.s3.secret_access_key().clone(), None);
    Connector::builder(connection, policy, std::sync::Arc::new(credentials)).max_attempts(1).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_goes_through_connect_and_denied_requests_reach_neither_proxy_nor_server() {
    let server = TestServer::start_tls().await;
    server.admin().create_bucket("proxied").await.unwrap();
    let proxy = ConnectProxy::start(None).await;
    let with_credentials = format!("http://alice:PROXY-PASS-SENTINEL@{}", proxy.address);
    let c = through(&server, &with_credentials, None, s3_connector_tests::policy(&["proxied=read,write"]));
    c.put_object_bytes(&ObjectRef::new("proxied", "k"), b"through the tunnel", PutOptions::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read(server.object_path("proxied", "k")).unwrap(), b"through the tunnel");
    let heads = proxy.heads();
    let target = format!("127.0.0.1:{}", server.s3.port());
    assert!(heads[0].starts_with(&format!("CONNECT {target} HTTP/1.1\r\n")), "{heads:?}");
    // alice:PROXY-PASS-SENTINEL in base64.
    assert!(
        heads[0].contains("Proxy-Authorization: Basic YWxpY2U6UFJPWFktUEFTUy1TRU5USU5FTA=="),
        "{heads:?}"
    );

    // Denied by the policy: neither the proxy nor the server sees anything.
    let (proxy_before, server_before) = (proxy.heads().len(), server.requests_received());
    let denied =
        c.put_object_bytes(&ObjectRef::new("other", "k"), b"no", PutOptions::default()).await.unwrap_err();
    assert!(matches!(denied, Error::Denied(_)), "{denied:?}");
    assert_eq!((proxy.heads().len(), server.requests_received()), (proxy_before, server_before));

    // NO_PROXY lists the host: straight to the server.
    let direct = through(&server, &proxy.url(), Some("localhost, 127.0.0.1"), Policy::allow_all());
    let before = proxy.heads().len();
    direct.head_bucket("proxied").await.unwrap();
    assert_eq!(proxy.heads().len(), before, "NO_PROXY bypasses the proxy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_proxy_is_named_without_its_password() {
    let server = TestServer::start_tls().await;
    let proxy = ConnectProxy::start(Some(407)).await;
    let url = format!("http://bob:PROXY-PASS-SENTINEL@{}", proxy.address);
    let c = through(&server, &url, None, Policy::allow_all());
    let error = c.head_bucket("bucket").await.unwrap_err();
    assert!(matches!(&error, Error::Network(NetworkFailure::ProxyRefused { status: 407, .. })), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("bob:<redacted>@{}", proxy.address)) && message.contains("NO_PROXY"),
        "{message}"
    );
    assert!(!message.contains("SENTINEL") && !format!("{error:?}").contains("SENTINEL"), "{error:?}");
    assert_eq!(server.requests_received(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_goes_to_the_proxy_in_absolute_form() {
    let server = TestServer::start().await;
    server.admin().create_bucket("plain").await.unwrap();
    let proxy = ConnectProxy::start(None).await;
    let c = through(&server, &proxy.url(), None, Policy::allow_all());
    c.head_bucket("plain").await.unwrap();
    let heads = proxy.heads();
    assert!(heads[0].starts_with(&format!("HEAD {}/plain", server.s3.endpoint())), "{heads:?}");
}

/// `serve`'s `/readyz` checks the endpoint the way S3 requests reach it: through the proxy.
/// Behind a proxy that refuses, the endpoint is not ready, though a direct connection to it
/// would succeed (egress that only a proxy may cross).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_reaches_the_endpoint_through_the_proxy() {
    use s3_connector_tests::http_client::{self, bytes};
    use s3_connector_tests::serving::Serving;

    let server = TestServer::start_tls().await;
    for (refuse, status, endpoint) in [(None, 200, "ok"), (Some(403), 503, "failing")] {
        let proxy = ConnectProxy::start(refuse).await;
        let serving = Serving::start(through(&server, &proxy.url(), None, Policy::allow_all())).await;
        let (got, body) = http_client::call(serving.address, "GET", "/readyz", &[], bytes("")).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((got, body["checks"]["endpoint"].as_str()), (status, Some(endpoint)), "{body}");
        let heads = proxy.heads();
        let address = server.s3.endpoint().trim_start_matches("https://").to_owned();
        assert!(heads.iter().any(|head| head.starts_with(&format!("CONNECT {address} "))), "{heads:?}");
        serving.stop().await;
    }
}
