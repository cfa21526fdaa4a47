//! Presigned URLs and server-side copies: AWS's published SigV4 example, URLs that work against
//! a real server, and the host's checks on both.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use common::connector_for;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use s3_connector_host::ObjectRef;
use s3_connector_host::types::{PresignMethod, PresignRequest, S3Error};
use s3_connector_host::{Connection, Connector, ConnectorBuilder, Error, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;

const AWS_EXAMPLE_URL: &str = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

fn request(method: PresignMethod, bucket: &str, key: &str, expires: u32) -> PresignRequest {
    PresignRequest { method, object: ObjectRef::new(bucket, key), expires_in_seconds: expires }
}

/// The example of "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)":
/// the plugin, with its clock pinned by the host, reproduces AWS's URL byte for byte. Nothing
/// is sent: presigning makes no request.
#[tokio::test]
async fn presigning_reproduces_the_aws_published_example() {
    let connection =
        Connection::resolve(Some("https://s3.amazonaws.com"), Some("us-east-1"), false, |_| None).unwrap();
    let credentials = StaticCredentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        None,
    );
    let connector = Connector::builder(connection, Policy::allow_all(), Arc::new(credentials))
        .pinned_time(UNIX_EPOCH + Duration::from_secs(1_369_353_600))
        .build()
        .unwrap();
    let url =
        connector.presign(request(PresignMethod::Get, "examplebucket", "test.txt", 86_400)).await.unwrap();
    assert_eq!(url, AWS_EXAMPLE_URL);
}

struct Setup {
    _dir: tempfile::TempDir,
    s3: LocalS3,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), "AKPRESIGN0000000001", Secret::new("presign-secret")).await.unwrap();
    Setup { _dir: dir, s3 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_work_against_a_real_server() {
    let Setup { s3, _dir } = setup().await;
    let admin = connector_for(&s3, &[]);
    admin.create_bucket("shared").await.unwrap();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    let put = admin.presign(request(PresignMethod::Put, "shared", "up/report.txt", 600)).await.unwrap();
    let response = client
        .request(
            hyper::Request::put(&put)
                .body(Full::new(Bytes::from_static(b"uploaded without credentials")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let get = admin.presign(request(PresignMethod::Get, "shared", "up/report.txt", 600)).await.unwrap();
    let response = client.request(hyper::Request::get(&get).body(Full::default()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"uploaded without credentials");

    // A tampered URL (another key, same signature) is refused by the server.
    let tampered = get.replace("report.txt", "other.txt");
    let response =
        client.request(hyper::Request::get(&tampered).body(Full::default()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_checks_presigning_against_its_policy_and_cap() {
    let Setup { s3, _dir } = setup().await;
    let reader = connector_for(&s3, &["shared/pub/=read"]);
    assert!(reader.presign(request(PresignMethod::Get, "shared", "pub/a.txt", 60)).await.is_ok());
    for denied in [
        request(PresignMethod::Put, "shared", "pub/a.txt", 60),
        request(PresignMethod::Get, "shared", "private/a.txt", 60),
        request(PresignMethod::Delete, "shared", "pub/a.txt", 60),
        request(PresignMethod::Get, "elsewhere", "pub/a.txt", 60),
    ] {
        let error = reader.presign(denied).await.unwrap_err();
        assert!(matches!(error, Error::Denied(_)), "{error:?}");
        assert_eq!(error.exit_code(), 3);
    }
    let capped = ConnectorBuilder::from_connector(&reader).presign_cap(300).build().unwrap();
    let error = capped.presign(request(PresignMethod::Get, "shared", "pub/a.txt", 301)).await.unwrap_err();
    assert!(matches!(&error, Error::Denied(d) if d.to_string().contains("cap of 300")), "{error:?}");
    let too_long = connector_for(&s3, &[])
        .presign(request(PresignMethod::Get, "shared", "k", 604_801))
        .await
        .unwrap_err();
    assert!(
        matches!(&too_long, Error::S3(S3Error::InvalidRequest(m)) if m.contains("604801")),
        "{too_long:?}"
    );
    assert_eq!(s3.requests_received(), 0, "presigning never sends a request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_need_read_on_the_source_and_write_on_the_destination() {
    let Setup { s3, _dir } = setup().await;
    let admin = connector_for(&s3, &[]);
    for bucket in ["source", "target"] {
        admin.create_bucket(bucket).await.unwrap();
    }
    admin
        .put_object_bytes(&ObjectRef::new("source", "open/a.txt"), b"copy me", Default::default())
        .await
        .unwrap();
    admin
        .put_object_bytes(&ObjectRef::new("source", "secret/b.txt"), b"not me", Default::default())
        .await
        .unwrap();

    let copier = connector_for(&s3, &["source/open/=read", "target=write,read"]);
    let copied = copier
        .copy_object(&ObjectRef::new("source", "open/a.txt"), &ObjectRef::new("target", "a.txt"))
        .await
        .unwrap();
    assert!(copied.etag.is_some());
    let info = copier.head_object(&ObjectRef::new("target", "a.txt")).await.unwrap();
    assert_eq!(info.size, 7);

    let before = s3.requests_received();
    let error = copier
        .copy_object(&ObjectRef::new("source", "secret/b.txt"), &ObjectRef::new("target", "b.txt"))
        .await
        .unwrap_err();
    assert!(matches!(&error, Error::Denied(d) if d.to_string().contains("copy source")), "{error:?}");
    let error = copier
        .copy_object(&ObjectRef::new("source", "open/a.txt"), &ObjectRef::new("source", "open/c.txt"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Denied(_)), "{error:?}");
    assert_eq!(s3.requests_received(), before, "denied copies never reach the server");

    let missing = admin
        .copy_object(&ObjectRef::new("source", "open/none.txt"), &ObjectRef::new("target", "x"))
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::S3(S3Error::NoSuchKey(_))), "{missing:?}");
}
