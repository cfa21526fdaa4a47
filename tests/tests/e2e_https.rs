//! HTTPS end to end: s3s-fs behind tokio-rustls on 127.0.0.1 with a certificate from a private
//! CA made at test time. Every kind of call goes over TLS (objects, ranges, parallel ranges,
//! multipart, listings, copies, presigned URLs fetched by a plain HTTPS client, JSON actions),
//! and a client that does not trust the CA, or a certificate for another name, gets an error a
//! person can act on while the server receives no request.

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use s3_connector_host::ObjectRef;
use s3_connector_host::network::{NetworkFailure, NetworkSettings, Trust};
use s3_connector_host::types::{
    ByteRange, GetOptions, ListObjectsRequest, PresignMethod, PresignRequest, PutOptions,
};
use s3_connector_host::{Connection, Connector, Error, Policy, StaticCredentials};
use s3_connector_tests::tls::TestCa;
use s3_connector_tests::{TestServer, pattern};
use serde_json::json;
use tokio::io::AsyncReadExt;

async fn get(c: &Connector, bucket: &str, key: &str, options: GetOptions) -> Result<Vec<u8>, Error> {
    let (sink, mut reader) = tokio::io::duplex(1 << 20);
    let reading = tokio::spawn(async move {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.map(|_| bytes)
    });
    c.get_object(&ObjectRef::new(bucket, key), sink, options).await?;
    Ok(reading.await.unwrap().unwrap())
}

/// GET `url` with a plain HTTPS client (hyper over tokio-rustls) that trusts `ca` only.
async fn https_get(ca: &TestCa, url: &str) -> (u16, Vec<u8>) {
    let uri: http::Uri = url.parse().unwrap();
    assert_eq!(uri.scheme_str(), Some("https"), "{url}");
    let authority = uri.authority().unwrap().clone();
    let tcp = tokio::net::TcpStream::connect(authority.as_str()).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from(authority.host().to_owned()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(ca.client_config()).connect(name, tcp).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await.unwrap();
    tokio::spawn(connection);
    let request = http::Request::get(uri.path_and_query().unwrap().as_str())
        .header("host", authority.as_str())
        .body(Empty::<bytes_of::Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

mod bytes_of {
    pub use hyper::body::Bytes;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_call_works_over_https_with_a_private_ca() {
    let server = TestServer::start_tls().await;
    assert!(server.s3.endpoint().starts_with("https://127.0.0.1:"), "{}", server.s3.endpoint());
    let c = server.admin();
    c.create_bucket("tls").await.unwrap();

    // Put, streamed with its length; get whole and by range.
    let body = pattern(3 * 1024 * 1024 + 5, 17);
    c.put_object(
        &ObjectRef::new("tls", "data.bin"),
        std::io::Cursor::new(body.clone()),
        Some(body.len() as u64),
        PutOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read(server.object_path("tls", "data.bin")).unwrap(), body);
    assert_eq!(get(&c, "tls", "data.bin", GetOptions::default()).await.unwrap(), body);
    let ranged = GetOptions { range: Some(ByteRange::Closed((100, 199))), ..Default::default() };
    assert_eq!(get(&c, "tls", "data.bin", ranged).await.unwrap(), &body[100..200]);
    // Parallel ranged GETs: 1 MiB ranges, 3 in flight, over several TLS connections.
    let parallel = GetOptions { parallel_ranges: Some(3), range_size: Some(1 << 20), ..Default::default() };
    assert_eq!(get(&c, "tls", "data.bin", parallel).await.unwrap(), body);

    // Multipart: a stream without a length goes up in parts.
    let big = pattern(6 * 1024 * 1024, 18);
    c.put_object(
        &ObjectRef::new("tls", "multi.bin"),
        std::io::Cursor::new(big.clone()),
        None,
        PutOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read(server.object_path("tls", "multi.bin")).unwrap(), big);

    // Copy and list.
    c.copy_object(&ObjectRef::new("tls", "data.bin"), &ObjectRef::new("tls", "copy.bin")).await.unwrap();
    assert_eq!(std::fs::read(server.object_path("tls", "copy.bin")).unwrap(), body);
    let listing = c.list_objects("tls", ListObjectsRequest::default()).await.unwrap();
    let mut keys: Vec<String> = listing.objects.into_iter().map(|o| o.key).collect();
    keys.sort();
    assert_eq!(keys, ["copy.bin", "data.bin", "multi.bin"]);

    // A presigned URL is https and works with a plain HTTPS client that trusts the CA.
    let url = c
        .presign(PresignRequest {
            method: PresignMethod::Get,
            object: ObjectRef::new("tls", "copy.bin"),
            expires_in_seconds: 300,
        })
        .await
        .unwrap();
    let ca = server.ca.as_ref().unwrap();
    let (status, fetched) = https_get(ca, &url).await;
    assert_eq!((status, fetched == body), (200, true), "{url}");

    // JSON actions go the same way.
    let answer = c.invoke(&json!({"action": "listObjects", "bucket": "tls"}).to_string()).await.unwrap();
    assert_eq!(answer["objects"].as_array().map(Vec::len), Some(3), "{answer}");
    assert!(server.connections_accepted() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_names_the_host_and_suggests_a_ca_bundle() {
    let server = TestServer::start_tls().await;
    // The system's trust store and the webpki roots: the test CA is in neither.
    let connection =
        Connection::resolve(Some(&server.s3.endpoint()), Some("us-east-1"), true, |_| None).unwrap();
    let credentials =
        StaticCredentials::new(server.s3.access_key_id(), server.s3.secret_access_key().clone(), None);
    let c = Connector::builder(connection, Policy::allow_all(), std::sync::Arc::new(credentials))
        .build()
        .unwrap();
    let error = c.head_bucket("tls").await.unwrap_err();
    let host = format!("127.0.0.1:{}", server.s3.port());
    assert!(
        matches!(&error, Error::Network(NetworkFailure::UntrustedCertificate { host: h, .. }) if *h == host),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        !message.contains('\n') && message.contains(&host) && message.contains("--ca-bundle"),
        "{message}"
    );
    assert_eq!(error.exit_code(), 1);
    // A JSON action says the same.
    let failure = c.invoke(&json!({"action": "listObjects", "bucket": "tls"}).to_string()).await.unwrap_err();
    let text = failure.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(text.contains(&host) && text.contains("--ca-bundle"), "{}", failure.json());
    assert_eq!(server.requests_received(), 0, "no request was read by the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_refused() {
    // Trusted CA, but the certificate names only other.example: the name check must fail.
    let ca = TestCa::new(&["other.example"]);
    let dir = tempfile::tempdir().unwrap();
    let keys = [("AKTESTNAMEMISMATCH01", s3_connector_host::Secret::new("s".repeat(40)))];
    let s3 =
        s3_connector_local_store::LocalS3::start_tls(dir.path(), &keys, ca.server_config()).await.unwrap();
    let bundle = s3_connector_host::network::CaBundle {
        path: ca.ca_file(),
        source: s3_connector_host::network::CaBundleSource::Library,
    };
    let network = NetworkSettings { trust: Trust::with_ca_bundle(bundle).unwrap(), ..Default::default() };
    let connection = Connection::resolve(Some(&s3.endpoint()), Some("us-east-1"), true, |_| None)
        .unwrap()
        .with_network(network);
    let credentials = StaticCredentials::new(keys[0].0, keys[0].1.clone(), None);
    let c = Connector::builder(connection, Policy::allow_all(), std::sync::Arc::new(credentials))
        .build()
        .unwrap();
    let error = c.head_bucket("bkt").await.unwrap_err();
    assert!(matches!(&error, Error::Network(NetworkFailure::NameMismatch { .. })), "{error:?}");
    assert!(error.to_string().contains(&format!("127.0.0.1:{}", s3.port())), "{error}");
    assert_eq!(s3.requests_received(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_timeout_names_itself() {
    // A server that accepts and then says nothing: over https the handshake never completes
    // (the connect timeout), over http the answer never comes (the read timeout).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let network = NetworkSettings {
        connect_timeout: Duration::from_millis(300),
        read_timeout: Duration::from_millis(400),
        ..Default::default()
    };
    let credentials = std::sync::Arc::new(StaticCredentials::new(
        "AKTESTTIMEOUTS000001",
        s3_connector_host::Secret::new("s".repeat(40)),
        None,
    ));
    for (scheme, want) in [("https", "connect timeout (0.3 s"), ("http", "read timeout (0.4 s")] {
        let connection =
            Connection::resolve(Some(&format!("{scheme}://{address}")), Some("us-east-1"), true, |_| None)
                .unwrap()
                .with_network(network.clone());
        let c = Connector::builder(connection, Policy::allow_all(), credentials.clone())
            .max_attempts(1)
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let error = c.head_bucket("bkt").await.unwrap_err();
        assert!(matches!(error, Error::Network(ref f) if f.is_timeout()), "{scheme}: {error:?}");
        let message = error.to_string();
        assert!(message.contains(want) && message.contains(&address.to_string()), "{scheme}: {message}");
        assert!(started.elapsed() < Duration::from_secs(10), "{scheme}: took {:?}", started.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipv6_loopback_endpoint_works_over_https() {
    let ca = TestCa::new(&["::1"]);
    let dir = tempfile::tempdir().unwrap();
    let keys = [("AKTESTIPV6ENDPOINT01", s3_connector_host::Secret::new("v".repeat(40)))];
    let bind: std::net::SocketAddr = "[::1]:0".parse().unwrap();
    let Ok(s3) =
        s3_connector_local_store::LocalS3::start_tls_at(bind, dir.path(), &keys, ca.server_config()).await
    else {
        eprintln!("skipped: this machine has no ::1");
        return;
    };
    assert!(s3.endpoint().starts_with("https://[::1]:"), "{}", s3.endpoint());
    let bundle = s3_connector_host::network::CaBundle {
        path: ca.ca_file(),
        source: s3_connector_host::network::CaBundleSource::Library,
    };
    let network = NetworkSettings { trust: Trust::with_ca_bundle(bundle).unwrap(), ..Default::default() };
    // Virtual-hosted asked for: an IP literal endpoint goes path-style anyway.
    let connection = Connection::resolve(Some(&s3.endpoint()), Some("us-east-1"), false, |_| None)
        .unwrap()
        .with_network(network);
    let credentials = StaticCredentials::new(keys[0].0, keys[0].1.clone(), None);
    let c = Connector::builder(connection, Policy::allow_all(), std::sync::Arc::new(credentials))
        .build()
        .unwrap();
    c.create_bucket("six").await.unwrap();
    c.put_object_bytes(&ObjectRef::new("six", "k"), b"over ::1", PutOptions::default()).await.unwrap();
    assert_eq!(get(&c, "six", "k", GetOptions::default()).await.unwrap(), b"over ::1");
    assert_eq!(s3.requests_received(), 3);
}
