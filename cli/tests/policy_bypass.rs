//! Attempts to get past the host's policy with requests the well-behaved plugin never makes.
//!
//! Each attempt is a hand-built `wasmtime_wasi_http` request handed to the egress guard's
//! `send_request` hook, the one every request of the plugin goes through. Every attempt must be
//! denied with the host's reason, and checked on the servers' side: the real S3 server's request
//! counter does not move and the "elsewhere" server (another port on 127.0.0.1) records
//! nothing. A control test proves that an allowed request through the same guard does arrive.

use crate::common;

use std::convert::Infallible;
use std::sync::Arc;

use common::recording_server::{Answer, RecordingServer};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use s3_connector_host::ObjectRef;
use s3_connector_host::internals::EgressGuard;
use s3_connector_host::internals::{Shared, StoreState};
use s3_connector_host::types::{PresignMethod, PresignRequest};
use s3_connector_host::{Connection, Endpoint, Error, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;
use wasmtime_wasi_http::p2::bindings::http::types::{HeaderError, HostFields, HostOutgoingRequest};
use wasmtime_wasi_http::{Error as HttpError, WasiBody, WasiHttpHooks, WasiHttpView};

/// What the guard allows in every test: reads and writes under `allowed/pub/`.
const RULE: &str = "allowed/pub/=read,write,delete,list";

/// The real server, a server elsewhere on 127.0.0.1, and a guard for the real server.
struct Target {
    s3: LocalS3,
    elsewhere: RecordingServer,
    _dir: tempfile::TempDir,
}

impl Target {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let s3 = LocalS3::start(dir.path(), "AKBYPASS00000000001", Secret::new("bypass")).await.unwrap();
        let elsewhere = RecordingServer::start().await;
        Self { s3, elsewhere, _dir: dir }
    }

    /// `host:port` of the real server.
    fn authority(&self) -> String {
        self.s3.endpoint().trim_start_matches("http://").to_owned()
    }

    fn port(&self) -> String {
        self.authority().rsplit_once(':').map(|(_, port)| port.to_owned()).unwrap()
    }

    fn guard(&self) -> EgressGuard {
        let endpoint = Endpoint::parse(&self.s3.endpoint()).unwrap();
        EgressGuard::new(endpoint, Arc::new(Policy::from_allow_flags(&[RULE]).unwrap()), None)
    }

    /// Sends each attempt through a fresh guard: each is denied with `fragment` in the host's
    /// reason, and neither server receives anything.
    async fn assert_all_denied(&self, attempts: &[(&str, String, &[(&str, &str)], &str)]) {
        let before = self.s3.requests_received();
        for (method, uri, headers, fragment) in attempts {
            let mut guard = self.guard();
            let outcome = send(&mut guard, request(method, uri, headers)).await;
            assert!(
                matches!(outcome, Err(HttpError::HttpRequestDenied)),
                "{method} {uri} {headers:?}: {outcome:?}"
            );
            let reason = guard.denials.last().map(ToString::to_string).unwrap_or_default();
            assert!(reason.contains(fragment), "{method} {uri} {headers:?}: {reason}");
        }
        assert_eq!(self.s3.requests_received(), before, "a denied request reached the S3 server");
        assert!(self.elsewhere.requests().is_empty(), "a denied request reached another server");
    }
}

fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::Request<WasiBody> {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let body = Empty::<Bytes>::new().map_err(|never: Infallible| match never {}).boxed_unsync();
    builder.body(body).unwrap_or_else(|e| panic!("{method} {uri}: {e}"))
}

/// The hook, as wasmtime-wasi-http calls it for the guest's `outgoing-handler.handle`.
async fn send(guard: &mut EgressGuard, request: http::Request<WasiBody>) -> Result<u16, HttpError> {
    let sent = guard.send_request(request, None, Box::new(async { Ok(()) }));
    let (response, _io) = Box::into_pin(sent).await?;
    Ok(response.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_an_allowed_request_through_the_same_guard_reaches_the_server() {
    let t = Target::start().await;
    let mut guard = t.guard();
    let uri = format!("http://{}/allowed/pub/x", t.authority());
    let host = t.authority();
    // Unsigned, so S3 refuses it; what matters is that it arrived.
    let status = send(&mut guard, request("GET", &uri, &[("host", &host)])).await.unwrap();
    assert!(status >= 400, "{status}");
    assert_eq!(t.s3.requests_received(), 1);
    assert!(guard.denials.is_empty(), "{:?}", guard.denials);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_header_naming_another_bucket_than_the_path_is_denied() {
    let t = Target::start().await;
    let (a, port) = (t.authority(), t.port());
    let uri = format!("http://{a}/allowed/pub/x");
    let (secret_host, localhost) = (format!("secret.{a}"), format!("localhost:{port}"));
    t.assert_all_denied(&[
        ("GET", uri.clone(), &[("host", secret_host.as_str())], "differs from the request's authority"),
        ("GET", uri.clone(), &[("host", localhost.as_str())], "differs from the request's authority"),
        ("GET", uri.clone(), &[("host", "127.0.0.1")], "differs from the request's authority"),
        ("GET", uri, &[("host", a.as_str()), ("host", secret_host.as_str())], "host header more than once"),
    ])
    .await;
}

/// Virtual-hosted addressing needs a host name endpoint, so this one is checked by the same
/// guard without sending: the bucket is read from the host and never from the path.
#[test]
fn virtual_hosted_and_path_style_addresses_cannot_disagree() {
    let endpoint = Endpoint::parse("https://s3.eu-west-1.amazonaws.com").unwrap();
    let guard = EgressGuard::new(endpoint, Arc::new(Policy::from_allow_flags(&[RULE]).unwrap()), None);
    let aws = "s3.eu-west-1.amazonaws.com";
    let allowed = format!("https://allowed.{aws}/pub/x");
    assert!(guard.check(&request("GET", &allowed, &[])).is_ok(), "control");
    // Host names are case-insensitive: this is the same host, so the same bucket.
    assert!(guard.check(&request("GET", &format!("https://Allowed.{aws}/pub/x"), &[])).is_ok());
    let table: &[(String, Vec<(&str, String)>, &str)] = &[
        (format!("https://allowed.{aws}/secret/k"), vec![], "s3://allowed/secret/k"),
        (format!("https://secret.{aws}/allowed/pub/x"), vec![], "s3://secret/allowed/pub/x"),
        (allowed.clone(), vec![("host", format!("secret.{aws}"))], "differs from the request's authority"),
        (allowed.clone(), vec![("host", aws.to_owned())], "differs from the request's authority"),
        (format!("https://allowed.secret.{aws}/pub/x"), vec![], "s3://allowed.secret/pub/x"),
        (format!("https://secret.{aws}/pub/x"), vec![], "s3://secret/pub/x"),
        (format!("https://allowed.{aws}.evil.example/pub/x"), vec![], "not on the configured endpoint"),
        (format!("https://allowed.{aws}:8443/pub/x"), vec![], "not on the configured endpoint"),
        (format!("http://allowed.{aws}/pub/x"), vec![], "not on the configured endpoint"),
        (format!("https://{aws}/secret/pub/x"), vec![], "s3://secret/pub/x"),
    ];
    for (uri, headers, fragment) in table {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let request = request("GET", uri, &headers);
        let denial = guard.check(&request).expect_err(uri).to_string();
        assert!(denial.contains(fragment), "{uri} {headers:?}: {denial}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percent_encoded_slashes_and_dots_are_denied() {
    let t = Target::start().await;
    let a = t.authority();
    t.assert_all_denied(&[
        ("GET", format!("http://{a}/allowed%2Fpub/x"), &[], "'/'"),
        ("GET", format!("http://{a}/allowed%2F..%2Fsecret/k"), &[], "bucket"),
        ("GET", format!("http://{a}/allowed/pub%2F..%2F..%2Fsecret%2Fk"), &[], "reads as s3://secret/k"),
        ("GET", format!("http://{a}/allowed/pub/%2E%2E/%2E%2E/secret/k"), &[], "reads as s3://secret/k"),
        ("GET", format!("http://{a}/allowed/pub/%2e%2e%2f%2e%2e%2fsecret/k"), &[], "reads as s3://secret/k"),
        ("PUT", format!("http://{a}/allowed/pub/%2E%2E/private/k"), &[], "reads as s3://allowed/private/k"),
        ("GET", format!("http://{a}/%2E%2E/secret/k"), &[], "bucket"),
        ("GET", format!("http://{a}/%61llowed/pub/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc/passwd"), &[], "climb out"),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_are_denied() {
    let t = Target::start().await;
    let a = t.authority();
    t.assert_all_denied(&[
        ("GET", format!("http://{a}/allowed/pub/../../secret/k"), &[], "reads as s3://secret/k"),
        ("DELETE", format!("http://{a}/allowed/pub/../private/k"), &[], "reads as s3://allowed/private/k"),
        ("GET", format!("http://{a}/allowed/pub/./../x"), &[], "reads as s3://allowed/x"),
        ("GET", format!("http://{a}/allowed/pub//../../secret/k"), &[], "reads as s3://"),
        ("PUT", format!("http://{a}/allowed/pub/../../../../x"), &[], "climb out"),
        ("GET", format!("http://{a}/../secret/k"), &[], "bucket"),
        ("GET", format!("http://{a}/allowed/pub/.."), &[], "climb out"),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upper_case_and_dotted_bucket_names_are_denied() {
    let t = Target::start().await;
    let a = t.authority();
    t.assert_all_denied(&[
        ("GET", format!("http://{a}/Allowed/pub/x"), &[], "lower-case"),
        ("GET", format!("http://{a}/ALLOWED/pub/x"), &[], "lower-case"),
        ("GET", format!("http://{a}/allowed./pub/x"), &[], "allowed."),
        ("GET", format!("http://{a}/.allowed/pub/x"), &[], ".allowed"),
        ("GET", format!("http://{a}/allowed..x/pub/x"), &[], "allowed..x"),
        ("GET", format!("http://{a}/allowed.secret/pub/x"), &[], "s3://allowed.secret/pub/x"),
        ("GET", format!("http://{a}/192.168.0.1/pub/x"), &[], "192.168.0.1"),
        ("GET", format!("http://{a}/allowed%00/pub/x"), &[], "allowed"),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_authorities_ports_and_spellings_of_the_same_ip_are_denied() {
    let t = Target::start().await;
    let (a, port) = (t.authority(), t.port());
    let elsewhere = t.elsewhere.endpoint.trim_start_matches("http://").to_owned();
    let wrong = "not on the configured endpoint";
    // Every one of these would reach a server on this machine if the guard let it through: the
    // same port spelt differently, or the other server's port.
    t.assert_all_denied(&[
        ("GET", format!("http://{elsewhere}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://localhost:{port}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://127.1:{port}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://2130706433:{port}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://0x7f000001:{port}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://0177.0.0.1:{port}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://[::ffff:127.0.0.1]:{port}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://127.0.0.1.:{port}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://user@{a}/allowed/pub/x"), &[], wrong),
        ("GET", format!("http://{a}@{elsewhere}/allowed/pub/x"), &[], wrong),
        ("GET", "http://127.0.0.1/allowed/pub/x".to_owned(), &[], wrong),
        ("GET", format!("http://169.254.169.254:{port}/allowed/pub/x"), &[], wrong),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_schemes_are_denied() {
    let t = Target::start().await;
    let a = t.authority();
    let wrong = "not on the configured endpoint";
    // The default sender speaks plain HTTP to any scheme but https: these would arrive.
    t.assert_all_denied(&[
        ("GET", format!("https://{a}/allowed/pub/x"), &[], wrong),
        ("GET", format!("ftp://{a}/allowed/pub/x"), &[], wrong),
        ("GET", format!("ws://{a}/allowed/pub/x"), &[], wrong),
        ("GET", format!("HTTP2://{a}/allowed/pub/x"), &[], wrong),
        ("GET", "/allowed/pub/x".to_owned(), &[("host", a.as_str())], wrong),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_sources_naming_a_forbidden_bucket_or_key_are_denied() {
    let t = Target::start().await;
    let dst = format!("http://{}/allowed/pub/dst", t.authority());
    let part = format!("{dst}?partNumber=1&uploadId=u1");
    let source = "the copy source of";
    t.assert_all_denied(&[
        ("PUT", dst.clone(), &[("x-amz-copy-source", "/secret/k")], source),
        ("PUT", dst.clone(), &[("x-amz-copy-source", "secret/k?versionId=3")], source),
        ("PUT", dst.clone(), &[("x-amz-copy-source", "%2Fsecret%2Fk")], "bucket name \"\""),
        ("PUT", dst.clone(), &[("x-amz-copy-source", "/%73ecret/k")], source),
        ("PUT", dst.clone(), &[("x-amz-copy-source", "/allowed/private/k")], source),
        (
            "PUT",
            dst.clone(),
            &[("x-amz-copy-source", "/allowed/pub%2F..%2F..%2Fsecret%2Fk")],
            "reads as s3://secret/k",
        ),
        (
            "PUT",
            dst.clone(),
            &[("x-amz-copy-source", "/allowed/pub/../private/k")],
            "reads as s3://allowed/private/k",
        ),
        ("PUT", dst.clone(), &[("x-amz-copy-source", "/Secret/k")], "lower-case"),
        ("PUT", dst.clone(), &[("x-amz-copy-source", "/secret")], "not bucket/key"),
        (
            "PUT",
            dst.clone(),
            &[("x-amz-copy-source", "/allowed/pub/a"), ("x-amz-copy-source", "/secret/k")],
            "more than once",
        ),
        ("PUT", part, &[("x-amz-copy-source", "/secret/k")], source),
        // A copy source on anything but a copy.
        ("GET", dst, &[("x-amz-copy-source", "/allowed/pub/a")], "not an S3 operation"),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigning_for_a_forbidden_bucket_or_prefix_is_denied() {
    let t = Target::start().await;
    let connection = Connection::resolve(Some(&t.s3.endpoint()), Some("us-east-1"), true, |_| None).unwrap();
    let credentials = StaticCredentials::new(t.s3.access_key_id(), t.s3.secret_access_key().clone(), None);
    let connector = s3_connector_host::Connector::builder(
        connection,
        Policy::from_allow_flags(&[RULE]).unwrap(),
        Arc::new(credentials),
    )
    .build()
    .unwrap();
    let presign = |method, bucket: &str, key: &str| PresignRequest {
        method,
        object: ObjectRef::new(bucket, key),
        expires_in_seconds: 60,
    };
    assert!(connector.presign(presign(PresignMethod::Get, "allowed", "pub/x")).await.is_ok(), "control");
    for (method, bucket, key) in [
        (PresignMethod::Get, "secret", "k"),
        (PresignMethod::Get, "allowed", "private/k"),
        (PresignMethod::Put, "secret", "pub/x"),
        (PresignMethod::Get, "allowed", "pub/../../secret/k"),
        (PresignMethod::Delete, "allowed", "pub/../private/k"),
    ] {
        let error = connector.presign(presign(method, bucket, key)).await.expect_err(key);
        assert!(matches!(error, Error::Denied(_) | Error::S3(_)), "{bucket}/{key}: {error:?}");
        assert_eq!(error.exit_code(), 3, "{bucket}/{key}: {error}");
    }
    // A presigned request sent by the plugin itself is not an operation the host knows.
    let a = t.authority();
    t.assert_all_denied(&[
        (
            "GET",
            format!("http://{a}/allowed/pub/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=60&X-Amz-Signature=00"),
            &[],
            "not an S3 operation",
        ),
        ("GET", format!("http://{a}/secret/k?X-Amz-Signature=00"), &[], "not an S3 operation"),
    ])
    .await;
    assert_eq!(t.s3.requests_received(), 0, "presigning sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_resources_on_forbidden_buckets_are_denied() {
    let t = Target::start().await;
    let a = t.authority();
    let unknown = "not an S3 operation";
    t.assert_all_denied(&[
        ("GET", format!("http://{a}/secret?acl"), &[], unknown),
        ("PUT", format!("http://{a}/secret?acl"), &[], unknown),
        ("GET", format!("http://{a}/secret?policy"), &[], unknown),
        ("PUT", format!("http://{a}/secret?policy"), &[], unknown),
        ("DELETE", format!("http://{a}/secret?policy"), &[], unknown),
        ("GET", format!("http://{a}/secret?versioning"), &[], unknown),
        ("PUT", format!("http://{a}/secret?versioning"), &[], unknown),
        ("GET", format!("http://{a}/secret?uploads"), &[], "ListMultipartUploads s3://secret"),
        ("POST", format!("http://{a}/secret/k?uploads"), &[], "CreateMultipartUpload s3://secret/k"),
        ("GET", format!("http://{a}/secret?tagging"), &[], "GetBucketTagging s3://secret"),
        ("PUT", format!("http://{a}/secret?tagging"), &[], "PutBucketTagging s3://secret"),
        ("GET", format!("http://{a}/secret/k?acl"), &[], unknown),
        // Sub-resources the rule's own bucket does not grant either.
        ("GET", format!("http://{a}/allowed?acl"), &[], unknown),
        ("PUT", format!("http://{a}/allowed?policy"), &[], unknown),
        ("PUT", format!("http://{a}/allowed?versioning"), &[], unknown),
        ("PUT", format!("http://{a}/allowed?tagging"), &[], "needs 'admin' on the whole bucket"),
        ("GET", format!("http://{a}/allowed?list-type=2&prefix=pub/&acl"), &[], unknown),
        ("GET", format!("http://{a}/allowed/pub/x?acl"), &[], unknown),
        ("GET", format!("http://{a}/allowed/pub/x?torrent"), &[], unknown),
    ])
    .await;
}

/// The real plugin against a server that answers every request with a redirect to another
/// server: the redirect is reported, never followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_never_followed() {
    let server = RecordingServer::start().await;
    let elsewhere = RecordingServer::start().await;
    let connector = common::connector_at(&server.endpoint, "AKREDIRECT000000001", &Secret::new("r"), &[]);
    for status in [301, 302, 307, 308] {
        server.answer(Answer {
            status,
            headers: vec![("location", format!("{}/allowed/pub/x", elsewhere.endpoint))],
            body: String::new(),
        });
        let before = server.requests().len();
        let error = connector
            .head_object(&ObjectRef::new("allowed", "pub/x"))
            .await
            .expect_err("a redirect is no answer");
        assert!(matches!(error, Error::S3(_)), "{status}: {error:?}");
        let (sink, _) = tokio::io::duplex(1024);
        assert!(
            connector
                .get_object(&ObjectRef::new("allowed", "pub/x"), sink, Default::default())
                .await
                .is_err(),
            "{status}"
        );
        let put =
            connector.put_object_bytes(&ObjectRef::new("allowed", "pub/x"), b"x", Default::default()).await;
        assert!(put.is_err(), "{status}");
        let received = &server.requests()[before..];
        assert!(
            !received.is_empty() && received.iter().all(|r| r.uri.ends_with("/allowed/pub/x")),
            "{received:?}"
        );
    }
    assert!(elsewhere.requests().is_empty(), "a redirect was followed: {:?}", elsewhere.requests());

    // The guard hands a redirect back as it is.
    let endpoint = Endpoint::parse(&server.endpoint).unwrap();
    let mut guard = EgressGuard::new(endpoint, Arc::new(Policy::allow_all()), None);
    let uri = format!("{}/allowed/pub/x", server.endpoint);
    assert_eq!(send(&mut guard, request("GET", &uri, &[])).await.unwrap(), 308);
    assert!(elsewhere.requests().is_empty());
}

/// The guest gives headers as name and bytes through `wasi:http/types`: the host refuses CR
/// and LF in names, values, paths and authorities, and `Host` altogether; what is left to
/// smuggle is a second copy of a header that decides the target, which the guard refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_smuggling_is_refused() {
    let t = Target::start().await;
    let shared = Shared {
        connection: Connection::resolve(Some(&t.s3.endpoint()), Some("us-east-1"), true, |_| None).unwrap(),
        policy: Arc::new(Policy::from_allow_flags(&[RULE]).unwrap()),
        credentials: Arc::new(StaticCredentials::new("AK", Secret::new("s"), None)),
        signing_keys: Default::default(),
        max_presign_seconds: 3600,
        pinned_time: None,
        documents: None,
        audit: None,
        max_attempts: 1,
        requester_pays: false,
        response_checksum_validation: Default::default(),
        limits: Default::default(),
        retry_budget: Default::default(),
        trace: None,
    };
    let mut state = StoreState::new(shared);
    let mut view = state.http();
    let refused = [
        ("x-amz-copy-source", b"/allowed/pub/a\r\nx-amz-copy-source: /secret/k".to_vec()),
        ("x-amz-meta-a", b"x\nHost: evil".to_vec()),
        ("x-amz-meta-a", b"x\r".to_vec()),
        ("x-amz-meta-a\r\nhost", b"evil".to_vec()),
        ("x-amz-meta-a", b"nul\0".to_vec()),
    ];
    for (name, value) in refused {
        let error = HostFields::from_list(&mut view, vec![(name.to_owned(), value.clone())])
            .map(drop)
            .expect_err(name);
        let code = error.downcast().unwrap();
        assert!(matches!(code, HeaderError::InvalidSyntax), "{name:?} {value:?}: {code:?}");
    }
    for name in ["host", "Host", "connection", "transfer-encoding"] {
        let error = HostFields::from_list(&mut view, vec![(name.to_owned(), b"x".to_vec())])
            .map(drop)
            .expect_err(name);
        assert!(matches!(error.downcast().unwrap(), HeaderError::Forbidden), "{name}");
    }
    let fields = HostFields::from_list(&mut view, Vec::new()).map_err(|_| "empty fields").unwrap();
    let outgoing = HostOutgoingRequest::new(&mut view, fields).unwrap();
    for path in ["/allowed/pub/x\r\nHost: evil", "/allowed/pub/x\nX: y", "/a b"] {
        let set = HostOutgoingRequest::set_path_with_query(
            &mut view,
            wasmtime::component::Resource::new_borrow(outgoing.rep()),
            Some(path.into()),
        );
        assert_eq!(set.unwrap(), Err(()), "{path:?}");
    }
    let authority = format!("{}\r\nHost: evil", t.authority());
    let set = HostOutgoingRequest::set_authority(
        &mut view,
        wasmtime::component::Resource::new_borrow(outgoing.rep()),
        Some(authority),
    );
    assert_eq!(set.unwrap(), Err(()));

    // A second Host or copy source, given to the hook directly.
    let a = t.authority();
    let uri = format!("http://{a}/allowed/pub/dst");
    t.assert_all_denied(&[
        (
            "GET",
            uri.clone(),
            &[("host", a.as_str()), ("host", "secret.localhost")],
            "host header more than once",
        ),
        (
            "PUT",
            uri,
            &[("x-amz-copy-source", "/allowed/pub/a"), ("x-amz-copy-source", "/secret/k")],
            "x-amz-copy-source header more than once",
        ),
    ])
    .await;
}
