//! Copies with options: source conditions and replaced metadata against s3s-fs (which
//! evaluates `x-amz-copy-source-if-*` and the metadata directive), the self-copy rule, and the
//! multipart copy of a source over 5 GiB on the recording server (its HEAD answers a faked size).

use crate::common;

use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::ObjectRef;
use s3_connector_host::types::{Conditions, CopyOptions, S3Error};
use s3_connector_host::{Connector, Error, Secret};
use s3_connector_local_store::LocalS3;

const ACCESS_KEY: &str = "AKCOPYTEST000000001";
const SECRET: &str = "copy-secret";

fn connector(endpoint: &str) -> Connector {
    common::connector_at(endpoint, ACCESS_KEY, &Secret::new(SECRET), &[])
}

fn source_conditions(conditions: Conditions) -> CopyOptions {
    CopyOptions { source_conditions: conditions, ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_conditions_metadata_and_the_self_copy_rule() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), ACCESS_KEY, Secret::new(SECRET)).await.unwrap();
    let c = connector(&s3.endpoint());
    c.create_bucket("copies").await.unwrap();
    let put = c
        .put_object_bytes(&ObjectRef::new("copies", "src.txt"), b"source", Default::default())
        .await
        .unwrap();
    let etag = put.etag.unwrap();

    let matching = source_conditions(Conditions { if_match: Some(etag.clone()), ..Default::default() });
    c.copy_object_with(&ObjectRef::new("copies", "src.txt"), &ObjectRef::new("copies", "a.txt"), matching)
        .await
        .unwrap();
    assert_eq!(c.head_object(&ObjectRef::new("copies", "a.txt")).await.unwrap().size, 6);

    let table = [
        Conditions { if_match: Some("\"0123456789abcdef0123456789abcdef\"".into()), ..Default::default() },
        Conditions { if_none_match: Some(etag.clone()), ..Default::default() },
    ];
    for conditions in table {
        let error = c
            .copy_object_with(
                &ObjectRef::new("copies", "src.txt"),
                &ObjectRef::new("copies", "b.txt"),
                source_conditions(conditions.clone()),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, Error::S3(S3Error::PreconditionFailed(_))), "{conditions:?}: {error:?}");
        let missing = c.head_object(&ObjectRef::new("copies", "b.txt")).await.unwrap_err();
        assert!(matches!(missing, Error::S3(S3Error::NoSuchKey(_))), "{missing:?}");
    }

    let replace = CopyOptions {
        metadata: Some(vec![("owner".into(), "ops".into())]),
        content_type: Some("text/plain".into()),
        ..Default::default()
    };
    c.copy_object_with(
        &ObjectRef::new("copies", "src.txt"),
        &ObjectRef::new("copies", "c.txt"),
        replace.clone(),
    )
    .await
    .unwrap();
    let info = c.head_object(&ObjectRef::new("copies", "c.txt")).await.unwrap();
    assert_eq!(info.metadata, [("owner".to_owned(), "ops".to_owned())]);
    assert_eq!(info.content_type.as_deref(), Some("text/plain"));

    let before = s3.requests_received();
    let error = c
        .copy_object_with(
            &ObjectRef::new("copies", "src.txt"),
            &ObjectRef::new("copies", "src.txt"),
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::S3(S3Error::InvalidRequest(m)) if m.contains("onto itself")),
        "{error:?}"
    );
    assert_eq!(s3.requests_received(), before, "refused before anything was sent");
    c.copy_object_with(&ObjectRef::new("copies", "src.txt"), &ObjectRef::new("copies", "src.txt"), replace)
        .await
        .unwrap();
    let info = c.head_object(&ObjectRef::new("copies", "src.txt")).await.unwrap();
    assert_eq!(info.metadata, [("owner".to_owned(), "ops".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_over_5_gib_is_copied_in_part_copies_pinned_to_its_etag() {
    let server = RecordingServer::start().await;
    const SIZE: u64 = 6 * 1024 * 1024 * 1024 + 1;
    // One canned answer for the HEAD (size from Content-Range, type, metadata, ETag), the
    // CreateMultipartUpload (UploadId), the part copies and the completion (ETag).
    server.answer(Answer {
        status: 200,
        headers: vec![
            ("etag", "\"source-etag\"".to_owned()),
            ("content-range", format!("bytes 0-0/{SIZE}")),
            ("content-type", "video/mp4".to_owned()),
            ("x-amz-meta-origin", "camera".to_owned()),
        ],
        body: "<CopyPartResult><UploadId>u1</UploadId><ETag>\"part\"</ETag></CopyPartResult>".to_owned(),
    });
    let c = connector(&server.endpoint);
    let result = c
        .copy_object_with(
            &ObjectRef::new("films", "raw.mp4"),
            &ObjectRef::new("archive", "raw.mp4"),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(result.etag.as_deref(), Some("\"part\""));

    let requests = server.requests();
    let summary: Vec<(&str, &str)> = requests.iter().map(|r| (r.method.as_str(), r.uri.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("HEAD", "/films/raw.mp4"),
            ("POST", "/archive/raw.mp4?uploads"),
            ("PUT", "/archive/raw.mp4?partNumber=1&uploadId=u1"),
            ("PUT", "/archive/raw.mp4?partNumber=2&uploadId=u1"),
            ("POST", "/archive/raw.mp4?uploadId=u1"),
        ]
    );
    assert_eq!(requests[1].header("content-type"), Some("video/mp4"), "the source's type carried over");
    assert_eq!(requests[1].header("x-amz-meta-origin"), Some("camera"), "and its metadata");
    let ranges = ["bytes=0-5368709119", "bytes=5368709120-6442450944"];
    for (request, range) in requests[2..4].iter().zip(ranges) {
        assert_eq!(request.header("x-amz-copy-source"), Some("/films/raw.mp4"));
        assert_eq!(request.header("x-amz-copy-source-range"), Some(range));
        assert_eq!(request.header("x-amz-copy-source-if-match"), Some("\"source-etag\""));
    }
    let listed = String::from_utf8(requests[4].body.clone()).unwrap();
    assert!(listed.contains("<PartNumber>1</PartNumber>") && listed.contains("<PartNumber>2</PartNumber>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_part_copy_aborts_the_multipart_copy() {
    let server = RecordingServer::start().await;
    let ok = |headers: Vec<(&'static str, String)>, body: &str| Answer {
        status: 200,
        headers,
        body: body.to_owned(),
    };
    server.answer_next([
        ok(
            vec![
                ("etag", "\"source-etag\"".to_owned()),
                ("content-range", format!("bytes 0-0/{}", 11u64 << 30)),
            ],
            "",
        ),
        ok(vec![], "<InitiateMultipartUploadResult><UploadId>u9</UploadId></InitiateMultipartUploadResult>"),
        ok(vec![], "<CopyPartResult><ETag>\"p1\"</ETag></CopyPartResult>"),
        Answer {
            status: 403,
            headers: vec![],
            body: "<Error><Code>AccessDenied</Code><Message>no</Message></Error>".to_owned(),
        },
    ]);
    server.answer(Answer { status: 204, headers: vec![], body: String::new() });
    let c = connector(&server.endpoint);
    let error = c
        .copy_object_with(
            &ObjectRef::new("films", "raw.mp4"),
            &ObjectRef::new("archive", "raw.mp4"),
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::S3(S3Error::AccessDenied(_))), "{error:?}");
    let requests = server.requests();
    let summary: Vec<(&str, &str)> = requests.iter().map(|r| (r.method.as_str(), r.uri.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("HEAD", "/films/raw.mp4"),
            ("POST", "/archive/raw.mp4?uploads"),
            ("PUT", "/archive/raw.mp4?partNumber=1&uploadId=u9"),
            ("PUT", "/archive/raw.mp4?partNumber=2&uploadId=u9"),
            ("DELETE", "/archive/raw.mp4?uploadId=u9"),
        ],
        "the third part is never asked for; the upload is aborted"
    );
}

/// The JSON action `copyObject` copies any size as `copy-object-with` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_object_action_copies_a_source_over_5_gib_in_parts() {
    let server = RecordingServer::start().await;
    server.answer(Answer {
        status: 200,
        headers: vec![
            ("etag", "\"source-etag\"".to_owned()),
            ("content-range", "bytes 0-0/6442450945".to_owned()),
        ],
        body: "<CopyPartResult><UploadId>u2</UploadId><ETag>\"whole\"</ETag></CopyPartResult>".to_owned(),
    });
    let answer = connector(&server.endpoint)
        .invoke(
            r#"{"action": "copyObject", "sourceBucket": "films", "sourceKey": "raw.mp4",
                "bucket": "archive", "key": "raw.mp4"}"#,
        )
        .await
        .unwrap();
    assert_eq!(answer["etag"], "\"whole\"", "{answer}");
    let methods: Vec<String> = server.requests().iter().map(|r| format!("{} {}", r.method, r.uri)).collect();
    assert_eq!(
        methods,
        [
            "HEAD /films/raw.mp4",
            "POST /archive/raw.mp4?uploads",
            "PUT /archive/raw.mp4?partNumber=1&uploadId=u2",
            "PUT /archive/raw.mp4?partNumber=2&uploadId=u2",
            "POST /archive/raw.mp4?uploadId=u2",
        ]
    );
}
