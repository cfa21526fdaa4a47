//! Object options end to end: conditions, metadata and content headers against s3s-fs;
//! encryption, tags and storage class on the wire (a recording server, since s3s-fs ignores
//! them).

use crate::common;

use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::ObjectRef;
use s3_connector_host::types::{Conditions, Encryption, GetOptions, PutOptions, S3Error};
use s3_connector_host::{Connector, Error, Secret};
use s3_connector_local_store::LocalS3;

fn connector(endpoint: &str) -> Connector {
    common::connector_at(endpoint, "AKOPTIONS0000000001", &Secret::new("options-secret"), &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_hold_or_fail_without_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), "AKOPTIONS0000000001", Secret::new("options-secret")).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("cond").await.unwrap();

    let create_only = |body: &'static [u8]| {
        let c = c.clone();
        async move {
            let options = PutOptions {
                conditions: Conditions { if_none_match: Some("*".into()), ..Default::default() },
                ..Default::default()
            };
            c.put_object_bytes(&ObjectRef::new("cond", "once.txt"), body, options).await
        }
    };
    let first = create_only(b"first").await.unwrap();
    let second = create_only(b"second").await.unwrap_err();
    assert!(matches!(second, Error::S3(S3Error::PreconditionFailed(_))), "{second:?}");
    let info = c.head_object(&ObjectRef::new("cond", "once.txt")).await.unwrap();
    assert_eq!(info.size, 5, "the failed create-only write changed nothing");
    let etag = first.etag.unwrap();
    assert_eq!(info.etag, etag);
}

/// s3s-fs evaluates conditions on writes only, so reads are checked on the wire: the headers
/// are sent and signed, and 412 and 304 answers map to precondition-failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_conditions_are_sent_and_their_failures_mapped() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    let read = |conditions: Conditions| GetOptions { conditions, ..Default::default() };

    server.answer(Answer { status: 412, headers: vec![], body: String::new() });
    let stale = read(Conditions { if_match: Some("\"old\"".into()), ..Default::default() });
    let error = c.head_object_with(&ObjectRef::new("cond", "k"), stale).await.unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::PreconditionFailed(_))), "{error:?}");

    server.answer(Answer { status: 304, headers: vec![], body: String::new() });
    let since = read(Conditions {
        if_none_match: Some("\"e1\"".into()),
        if_modified_since: Some("Mon, 01 Jan 2024 00:00:00 GMT".into()),
        ..Default::default()
    });
    let (sink, _keep) = tokio::io::duplex(1024);
    let error = c.get_object(&ObjectRef::new("cond", "k"), sink, since).await.unwrap_err();
    assert!(
        matches!(&error, Error::S3(S3Error::PreconditionFailed(m)) if m.contains("NotModified")),
        "{error:?}"
    );

    let requests = server.requests();
    assert_eq!(requests[0].header("if-match"), Some("\"old\""));
    assert_eq!(requests[1].header("if-none-match"), Some("\"e1\""));
    assert_eq!(requests[1].header("if-modified-since"), Some("Mon, 01 Jan 2024 00:00:00 GMT"));
    assert!(requests[1].signed_headers().contains(&"if-modified-since".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_and_content_headers_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), "AKOPTIONS0000000001", Secret::new("options-secret")).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("meta").await.unwrap();
    let options = PutOptions {
        content_type: Some("application/pdf".into()),
        metadata: vec![("Owner".into(), "ops team".into()), ("run".into(), "42".into())],
        ..Default::default()
    };
    c.put_object_bytes(&ObjectRef::new("meta", "doc.pdf"), b"%PDF-1.7", options).await.unwrap();
    let info = c.head_object(&ObjectRef::new("meta", "doc.pdf")).await.unwrap();
    assert_eq!(info.content_type.as_deref(), Some("application/pdf"));
    let mut metadata = info.metadata.clone();
    metadata.sort();
    assert_eq!(metadata, [("owner".to_owned(), "ops team".to_owned()), ("run".to_owned(), "42".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_tags_and_storage_class_are_sent_and_signed() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    let key = vec![0x42; 32];
    let options = PutOptions {
        content_disposition: Some("attachment; filename=\"r.pdf\"".into()),
        cache_control: Some("max-age=60".into()),
        content_encoding: Some("gzip".into()),
        storage_class: Some("STANDARD_IA".into()),
        tags: vec![("team".into(), "data eng".into())],
        encryption: Some(Encryption::CustomerKey(key.clone())),
        ..Default::default()
    };
    c.put_object_bytes(&ObjectRef::new("wire", "r.pdf"), b"body", options).await.unwrap();
    let kms = PutOptions {
        encryption: Some(Encryption::Kms(Some("arn:aws:kms:us-east-1:1:key/k".into()))),
        ..Default::default()
    };
    c.put_object_bytes(&ObjectRef::new("wire", "k.bin"), b"body", kms).await.unwrap();
    c.delete_object_version(&ObjectRef::new("wire", "k.bin"), Some("v1")).await.unwrap();

    let requests = server.requests();
    let put = &requests[0];
    for (name, value) in [
        ("content-disposition", "attachment; filename=\"r.pdf\""),
        ("cache-control", "max-age=60"),
        ("content-encoding", "gzip"),
        ("x-amz-storage-class", "STANDARD_IA"),
        ("x-amz-tagging", "team=data%20eng"),
        ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
    ] {
        assert_eq!(put.header(name), Some(value), "{name}");
        assert!(
            put.signed_headers().contains(&name.to_owned()),
            "{name} is signed: {:?}",
            put.signed_headers()
        );
    }
    assert!(put.header("x-amz-server-side-encryption-customer-key").is_some());
    assert_eq!(requests[1].header("x-amz-server-side-encryption"), Some("aws:kms"));
    assert_eq!(
        requests[1].header("x-amz-server-side-encryption-aws-kms-key-id"),
        Some("arn:aws:kms:us-east-1:1:key/k")
    );
    assert_eq!(
        (requests[2].method.as_str(), requests[2].uri.as_str()),
        ("DELETE", "/wire/k.bin?versionId=v1")
    );
}

/// s3s-fs has no tagging, so tags are checked on the wire: the XML sent (with the Content-MD5
/// S3 requires) and the XML read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_tags_are_read_written_and_deleted() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    server.answer(Answer {
        status: 200,
        headers: vec![],
        body: "<Tagging><TagSet><Tag><Key>team</Key><Value>data &amp; ml</Value></Tag></TagSet></Tagging>"
            .into(),
    });
    let tags = c.get_object_tags(&ObjectRef::new("tags", "k")).await.unwrap();
    assert_eq!(tags, [("team".to_owned(), "data & ml".to_owned())]);
    server.answer(Answer { status: 200, headers: vec![], body: String::new() });
    c.put_object_tags(&ObjectRef::new("tags", "k"), &[("a".into(), "<1>".into())]).await.unwrap();
    c.delete_object_tags(&ObjectRef::new("tags", "k")).await.unwrap();
    let too_many: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
    assert_eq!(c.put_object_tags(&ObjectRef::new("tags", "k"), &too_many).await.unwrap_err().exit_code(), 2);

    let requests = server.requests();
    assert_eq!(requests.len(), 3, "the eleven tags were refused before sending");
    assert_eq!((requests[0].method.as_str(), requests[0].uri.as_str()), ("GET", "/tags/k?tagging"));
    let put = &requests[1];
    assert_eq!((put.method.as_str(), put.uri.as_str()), ("PUT", "/tags/k?tagging"));
    assert!(String::from_utf8_lossy(&put.body).contains("<Tag><Key>a</Key><Value>&lt;1&gt;</Value></Tag>"));
    use base64::Engine as _;
    let md5 = put.header("content-md5").unwrap();
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(md5).unwrap().len(), 16);
    assert_eq!((requests[2].method.as_str(), requests[2].uri.as_str()), ("DELETE", "/tags/k?tagging"));
}

/// The tagging actions on the wire too: the same requests as the typed calls, the JSON answer
/// built from the XML read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagging_actions_read_and_write_tags() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    server.answer(Answer {
        status: 200,
        headers: vec![],
        body: "<Tagging><TagSet><Tag><Key>team</Key><Value>billing</Value></Tag></TagSet></Tagging>".into(),
    });
    let tags = c.invoke(r#"{"action":"getObjectTags","bucket":"tags","key":"k"}"#).await.unwrap();
    assert_eq!(tags["tags"], serde_json::json!({"team": "billing"}));
    assert_eq!((tags["bucket"].as_str(), tags["key"].as_str()), (Some("tags"), Some("k")));
    server.answer(Answer { status: 200, headers: vec![], body: String::new() });
    let put = r#"{"action":"putObjectTags","bucket":"tags","key":"k","tags":{"retention":"7y"}}"#;
    c.invoke(put).await.unwrap();
    let requests = server.requests();
    assert_eq!((requests[0].method.as_str(), requests[0].uri.as_str()), ("GET", "/tags/k?tagging"));
    assert_eq!((requests[1].method.as_str(), requests[1].uri.as_str()), ("PUT", "/tags/k?tagging"));
    let body = String::from_utf8_lossy(&requests[1].body);
    assert!(body.contains("<Tag><Key>retention</Key><Value>7y</Value></Tag>"), "{body}");
    assert!(requests[1].header("content-md5").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_location_is_discovered() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), "AKOPTIONS0000000001", Secret::new("options-secret")).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("located").await.unwrap();
    assert_eq!(c.get_bucket_location("located").await.unwrap(), "us-east-1");
    let missing = c.get_bucket_location("not-there").await.unwrap_err();
    assert!(matches!(missing, Error::S3(S3Error::NoSuchBucket(_))), "{missing:?}");
}

/// A key of S3's maximum length (1024 bytes, multi-byte characters included) goes out encoded
/// and signed; one byte more is refused before sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_key_is_sent_and_a_longer_one_refused() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint);
    let key = format!("ü/{}", "k".repeat(1024 - "ü/".len()));
    assert_eq!(key.len(), 1024);
    c.put_object_bytes(&ObjectRef::new("keys", &key), b"x", PutOptions::default()).await.unwrap();
    let longer = format!("{key}k");
    let error =
        c.put_object_bytes(&ObjectRef::new("keys", &longer), b"x", PutOptions::default()).await.unwrap_err();
    assert!(matches!(&error, Error::S3(S3Error::InvalidRequest(m)) if m.contains("1025 bytes")), "{error:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].uri, format!("/keys/%C3%BC/{}", "k".repeat(1021)));
}
