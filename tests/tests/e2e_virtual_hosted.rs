//! Virtual-hosted addressing over TLS: an endpoint named `s3.connector.test` (not an IP, not
//! `localhost`, so the plugin puts the bucket in the host name), resolved to 127.0.0.1 by the
//! connection's resolver overrides (curl's `--resolve`), against s3s-fs behind tokio-rustls
//! with a certificate for `*.s3.connector.test` and `s3.connector.test`. It proves what the
//! path-style suites cannot: the SNI a bucket's connection sends, the certificate's name check
//! against a bucket's host name, and that the policy still decides on the request's own host
//! before any connection. Only 127.0.0.1 is ever dialed (`.test` is reserved, RFC 6761, and
//! every name used is overridden).

use std::sync::Arc;

use s3_connector_host::ObjectRef;
use s3_connector_host::network::NetworkFailure;
use s3_connector_host::types::{GetOptions, ListObjectsRequest, PutOptions};
use s3_connector_host::{Connection, Connector, Error, Policy, StaticCredentials};
use s3_connector_tests::{TestServer, policy};
use tokio::io::AsyncReadExt;

const DOMAIN: &str = "s3.connector.test";
const CERTIFICATE_NAMES: &[&str] = &["*.s3.connector.test", "s3.connector.test"];

/// A connector to `server` by its name, virtual-hosted (path-style not asked for).
fn virtual_hosted(server: &TestServer, policy: Policy) -> Connector {
    let connection = Connection::resolve(Some(&server.s3.endpoint()), Some("us-east-1"), false, |_| None)
        .unwrap()
        .with_network(server.network());
    let credentials =
        StaticCredentials::new(server.s3.access_key_id(), server.s3.secret_access_key().clone(), None);
    Connector::builder(connection, policy, Arc::new(credentials)).max_attempts(1).build().unwrap()
}

async fn get(c: &Connector, bucket: &str, key: &str) -> Result<Vec<u8>, Error> {
    let (sink, mut reader) = tokio::io::duplex(1 << 16);
    let reading = tokio::spawn(async move {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.map(|_| bytes)
    });
    c.get_object(&ObjectRef::new(bucket, key), sink, GetOptions::default()).await?;
    Ok(reading.await.unwrap().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_are_addressed_by_host_name_over_tls_with_sni_and_the_policy_decides_first() {
    let (server, sni) = TestServer::start_tls_virtual_hosted(DOMAIN, CERTIFICATE_NAMES).await;
    let port = server.s3.port();
    assert_eq!(server.s3.endpoint(), format!("https://{DOMAIN}:{port}"));
    let admin = virtual_hosted(&server, Policy::allow_all());
    admin.create_bucket("vhost").await.unwrap();

    let c = virtual_hosted(&server, policy(&["vhost=read,write,list"]));
    let object = ObjectRef::new("vhost", "dir/k.txt");
    c.put_object_bytes(&object, b"virtual-hosted over TLS", PutOptions::default()).await.unwrap();
    assert_eq!(std::fs::read(server.object_path("vhost", "dir/k.txt")).unwrap(), b"virtual-hosted over TLS");
    assert_eq!(get(&c, "vhost", "dir/k.txt").await.unwrap(), b"virtual-hosted over TLS");
    let listing = c.list_objects("vhost", ListObjectsRequest::default()).await.unwrap();
    let keys: Vec<String> = listing.objects.into_iter().map(|o| o.key).collect();
    assert_eq!(keys, ["dir/k.txt"]);

    // Every TLS hello named the bucket's host: the bucket went in the host name, the SNI
    // carried it, and the certificate's wildcard was checked against it.
    let names = sni.names();
    assert!(!names.is_empty());
    let bucket_host = format!("vhost.{DOMAIN}");
    assert!(names.iter().all(|n| *n == bucket_host), "{names:?}");

    // Denied by the policy on the request's own host (bucket "other"): refused before any
    // connection, so neither a TCP connection, a TLS hello nor a request reaches the server.
    let before = (server.connections_accepted(), sni.names().len(), server.requests_received());
    let denied =
        c.put_object_bytes(&ObjectRef::new("other", "k"), b"no", PutOptions::default()).await.unwrap_err();
    assert!(matches!(&denied, Error::Denied(_)), "{denied:?}");
    assert!(denied.to_string().contains("s3://other"), "{denied}");
    assert_eq!((server.connections_accepted(), sni.names().len(), server.requests_received()), before);

    // A dotted bucket name goes path-style over HTTPS (the wildcard covers one label only), so
    // its SNI is the endpoint's own name.
    admin.create_bucket("a.b").await.unwrap();
    admin.put_object_bytes(&ObjectRef::new("a.b", "k"), b"dotted", PutOptions::default()).await.unwrap();
    assert_eq!(std::fs::read(server.object_path("a.b", "k")).unwrap(), b"dotted");
    assert!(sni.names().contains(&DOMAIN.to_owned()), "{:?}", sni.names());
    assert!(!sni.names().iter().any(|n| n.starts_with("a.b.")), "{:?}", sni.names());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_refused_naming_the_buckets_host() {
    // The CA is trusted, but the certificate names only other.example.
    let (server, sni) = TestServer::start_tls_virtual_hosted(DOMAIN, &["other.example"]).await;
    let c = virtual_hosted(&server, Policy::allow_all());
    let error = c.head_bucket("vhost").await.unwrap_err();
    let host = format!("vhost.{DOMAIN}:{}", server.s3.port());
    assert!(
        matches!(&error, Error::Network(NetworkFailure::NameMismatch { host: h, .. }) if *h == host),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(!message.contains('\n') && message.contains(&host), "{message}");
    assert_eq!(error.exit_code(), 1);
    // The hello reached the server (it asked for the bucket's name), no request did.
    assert_eq!(sni.names().first().map(String::as_str), Some(format!("vhost.{DOMAIN}").as_str()));
    assert_eq!(server.requests_received(), 0);
}
