//! DeleteObjects in batches of 1000, per-key results, and `rm --recursive`.

use crate::common;

use common::connector_for;
use s3_connector_host::ObjectRef;
use s3_connector_host::{Connector, Error, Secret};
use s3_connector_local_store::LocalS3;

async fn count(connector: &Connector, bucket: &str) -> usize {
    let mut request = s3_connector_host::types::ListObjectsRequest::default();
    let mut total = 0;
    loop {
        let page = connector.list_objects(bucket, request.clone()).await.unwrap();
        total += page.objects.len();
        match page.next_continuation_token {
            Some(token) if page.is_truncated => request.continuation_token = Some(token),
            _ => return total,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_thousand_keys_are_deleted_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), "AKBATCH000000000001", Secret::new("batch-secret")).await.unwrap();
    let admin = connector_for(&s3, &[]);
    admin.create_bucket("batch").await.unwrap();
    let keys: Vec<String> = (0..1100).map(|i| format!("logs/{i:05}.txt")).collect();
    for key in &keys {
        admin.put_object_bytes(&ObjectRef::new("batch", key), b"x", Default::default()).await.unwrap();
    }
    admin.put_object_bytes(&ObjectRef::new("batch", "keep/me.txt"), b"k", Default::default()).await.unwrap();

    let before = s3.requests_received();
    let result = admin.delete_objects("batch", &keys).await.unwrap();
    assert_eq!(s3.requests_received() - before, 2, "1100 keys take two requests of at most 1000");
    assert_eq!(result.deleted.len(), 1100);
    assert!(result.failed.is_empty(), "{:?}", result.failed);
    assert_eq!(count(&admin, "batch").await, 1, "only keep/me.txt is left");

    // Keys that do not exist are reported deleted, as S3 does.
    let again = admin.delete_objects("batch", &keys[..3]).await.unwrap();
    assert_eq!(again.deleted.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_delete_needs_delete_on_the_whole_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), "AKBATCH000000000002", Secret::new("batch-secret")).await.unwrap();
    let admin = connector_for(&s3, &[]);
    admin.create_bucket("batch").await.unwrap();
    admin.put_object_bytes(&ObjectRef::new("batch", "in/a"), b"a", Default::default()).await.unwrap();

    let limited = connector_for(&s3, &["batch/in/=read,delete,list"]);
    let before = s3.requests_received();
    let error = limited.delete_objects("batch", &["in/a".to_owned()]).await.unwrap_err();
    assert!(matches!(&error, Error::Denied(d) if d.to_string().contains("whole bucket")), "{error:?}");
    assert_eq!(s3.requests_received(), before);
    // One by one, the prefix rule allows it.
    limited.delete_object(&ObjectRef::new("batch", "in/a")).await.unwrap();
    let bad_key = admin.delete_objects("batch", &["k".repeat(1025)]).await.unwrap_err();
    assert_eq!(bad_key.exit_code(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_recursive_deletes_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), "AKBATCH000000000003", Secret::new("batch-secret")).await.unwrap();
    let admin = connector_for(&s3, &[]);
    admin.create_bucket("tree").await.unwrap();
    for key in ["a/1", "a/2", "a/b/3", "z/4"] {
        admin.put_object_bytes(&ObjectRef::new("tree", key), b"x", Default::default()).await.unwrap();
    }
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_s3-connector"))
        .env("AWS_ACCESS_KEY_ID", s3.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", s3.secret_access_key().expose())
        .args(["--endpoint", &s3.endpoint(), "--path-style", "rm", "--recursive", "s3://tree/a/"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.contains("delete: s3://tree/a/b/3"), "{stdout}");
    assert_eq!(count(&admin, "tree").await, 1);
}
