//! The explicit multipart calls against s3s-fs, and ListMultipartUploads on the wire (s3s-fs
//! does not implement it).

use crate::common;

use common::recording_server::{Answer, RecordingServer};
use s3_connector_host::types::{CompletedPart, S3Error};
use s3_connector_host::{Connector, Error, Secret};
use s3_connector_host::{ObjectRef, UploadRef};
use s3_connector_local_store::LocalS3;
use tokio::io::AsyncReadExt;

fn connector(endpoint: &str, flags: &[&str]) -> Connector {
    common::connector_at(endpoint, "AKMULTIPART00000001", &Secret::new("multipart-secret"), flags)
}

async fn download(c: &Connector, bucket: &str, key: &str) -> Vec<u8> {
    let (sink, mut reader) = tokio::io::duplex(1 << 20);
    let reading = tokio::spawn(async move {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.unwrap();
        bytes
    });
    c.get_object(&ObjectRef::new(bucket, key), sink, Default::default()).await.unwrap();
    reading.await.unwrap()
}

/// An upload named by hand, as an engine that kept the id would.
fn upload_ref(bucket: &str, key: &str, upload_id: &str) -> UploadRef {
    UploadRef { bucket: bucket.into(), key: key.into(), upload_id: upload_id.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_uploaded_copied_listed_and_completed() {
    let dir = tempfile::tempdir().unwrap();
    let s3 =
        LocalS3::start(dir.path(), "AKMULTIPART00000001", Secret::new("multipart-secret")).await.unwrap();
    let c = connector(&s3.endpoint(), &[]);
    c.create_bucket("parts").await.unwrap();
    c.put_object_bytes(&ObjectRef::new("parts", "source.bin"), &[b's'; 1000], Default::default())
        .await
        .unwrap();

    let upload =
        &c.create_multipart_upload(&ObjectRef::new("parts", "big.bin"), Default::default()).await.unwrap();
    assert_eq!(upload.object(), ObjectRef::new("parts", "big.bin"));
    let first = vec![b'a'; 5 * 1024 * 1024];
    let etag1 =
        c.upload_part(upload, 1, std::io::Cursor::new(first.clone()), first.len() as u64).await.unwrap();
    let etag2 =
        c.upload_part_copy(&ObjectRef::new("parts", "source.bin"), Some((0, 99)), upload, 2).await.unwrap();
    let parts = c.list_parts(upload).await.unwrap();
    assert_eq!(
        parts.iter().map(|p| (p.part_number, p.size)).collect::<Vec<_>>(),
        [(1, 5 * 1024 * 1024), (2, 100)]
    );

    let out_of_order = [
        CompletedPart { part_number: 2, etag: etag2.clone() },
        CompletedPart { part_number: 1, etag: etag1.clone() },
    ];
    let error = c.complete_multipart_upload(upload, &out_of_order).await.unwrap_err();
    assert_eq!(error.exit_code(), 2, "{error}");
    let parts =
        [CompletedPart { part_number: 1, etag: etag1 }, CompletedPart { part_number: 2, etag: etag2 }];
    c.complete_multipart_upload(upload, &parts).await.unwrap();

    let mut expected = first;
    expected.extend_from_slice(&[b's'; 100]);
    assert_eq!(download(&c, "parts", "big.bin").await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_upload_is_gone_and_parts_obey_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let s3 =
        LocalS3::start(dir.path(), "AKMULTIPART00000001", Secret::new("multipart-secret")).await.unwrap();
    let admin = connector(&s3.endpoint(), &[]);
    admin.create_bucket("parts").await.unwrap();
    let upload =
        admin.create_multipart_upload(&ObjectRef::new("parts", "tmp/x"), Default::default()).await.unwrap();
    admin.upload_part(&upload, 1, std::io::Cursor::new(vec![1u8; 10]), 10).await.unwrap();
    admin.abort_multipart_upload(&upload).await.unwrap();
    // S3 answers NoSuchUpload; s3s-fs lists no parts.
    match admin.list_parts(&upload).await {
        Ok(parts) => assert!(parts.is_empty(), "{parts:?}"),
        Err(error) => {
            assert!(matches!(&error, Error::S3(S3Error::Service(e)) if e.code == "NoSuchUpload"), "{error:?}")
        }
    }

    let limited = connector(&s3.endpoint(), &["parts/in/=read,write"]);
    let before = s3.requests_received();
    let error = limited
        .create_multipart_upload(&ObjectRef::new("parts", "out/x"), Default::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Denied(_)), "{error:?}");
    let error = limited
        .upload_part_copy(&ObjectRef::new("parts", "tmp/x"), None, &upload_ref("parts", "in/y", "id"), 1)
        .await
        .unwrap_err();
    assert!(matches!(&error, Error::Denied(d) if d.to_string().contains("copy source")), "{error:?}");
    assert_eq!(s3.requests_received(), before);
    let bad_number = admin
        .upload_part(&upload_ref("parts", "k", "id"), 10_001, std::io::Cursor::new(vec![]), 0)
        .await
        .unwrap_err();
    assert_eq!(bad_number.exit_code(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_in_progress_are_listed_page_by_page() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint, &[]);
    server.answer(Answer {
        status: 200,
        headers: vec![],
        body: "<ListMultipartUploadsResult><Upload><Key>a</Key><UploadId>u1</UploadId>\
               <Initiated>2024-01-01T00:00:00Z</Initiated></Upload><IsTruncated>false</IsTruncated>\
               </ListMultipartUploadsResult>"
            .into(),
    });
    let uploads = c.list_multipart_uploads("parts", Some("a")).await.unwrap();
    assert_eq!((uploads[0].key.as_str(), uploads[0].upload_id.as_str()), ("a", "u1"));
    assert_eq!(server.requests()[0].uri, "/parts?uploads&prefix=a");
}

/// s3s-fs keeps no versions, so ListObjectVersions is checked on the wire: the query, both
/// kinds of entry in order, and the markers of the next page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_versions_and_delete_markers_are_listed_in_order() {
    let server = RecordingServer::start().await;
    let c = connector(&server.endpoint, &[]);
    server.answer(Answer {
        status: 200,
        headers: vec![],
        body: "<ListVersionsResult><Name>v</Name><Prefix>a</Prefix>\
               <DeleteMarker><Key>a</Key><VersionId>3</VersionId><IsLatest>true</IsLatest></DeleteMarker>\
               <Version><Key>a</Key><VersionId>2</VersionId><IsLatest>false</IsLatest><Size>7</Size>\
               <ETag>\"e2\"</ETag></Version><IsTruncated>false</IsTruncated></ListVersionsResult>"
            .into(),
    });
    let versions = c.list_object_versions("versioned", Some("a")).await.unwrap();
    let summary: Vec<_> =
        versions.iter().map(|v| (v.version_id.as_str(), v.is_delete_marker, v.is_latest, v.size)).collect();
    assert_eq!(summary, [("3", true, true, 0), ("2", false, false, 7)]);
    assert_eq!(server.requests()[0].uri, "/versioned?versions&prefix=a");
}
