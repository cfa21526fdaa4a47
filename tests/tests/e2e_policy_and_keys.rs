//! The host's policy against a real server (denials never reach it), and awkward keys.

use s3_connector_host::Error;
use s3_connector_host::ObjectRef;
use s3_connector_host::types::PutOptions;
use s3_connector_tests::{TestServer, policy};
use tokio::io::AsyncReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_requests_never_reach_the_server() {
    let server = TestServer::start().await;
    let admin = server.admin();
    for bucket in ["photos", "other"] {
        admin.create_bucket(bucket).await.unwrap();
    }
    let c = server.connector(policy(&["photos/in/=read,write,list"]));
    c.put_object_bytes(&ObjectRef::new("photos", "in/a.jpg"), b"ok", PutOptions::default()).await.unwrap();
    assert_eq!(c.head_object(&ObjectRef::new("photos", "in/a.jpg")).await.unwrap().size, 2);

    let before = server.s3.requests_received();
    let attempts: Vec<(&str, Error)> = vec![
        (
            "photos/out/b.jpg",
            c.put_object_bytes(&ObjectRef::new("photos", "out/b.jpg"), b"no", PutOptions::default())
                .await
                .unwrap_err(),
        ),
        (
            "other/in/c.jpg",
            c.put_object_bytes(&ObjectRef::new("other", "in/c.jpg"), b"no", PutOptions::default())
                .await
                .unwrap_err(),
        ),
        ("photos/in/a.jpg", c.delete_object(&ObjectRef::new("photos", "in/a.jpg")).await.unwrap_err()),
        ("newbucket", c.create_bucket("newbucket").await.unwrap_err()),
        ("every bucket", c.list_buckets().await.unwrap_err()),
    ];
    for (what, error) in &attempts {
        assert!(matches!(error, Error::Denied(_)), "{what}: {error:?}");
        assert_eq!(error.exit_code(), 3, "{what}");
    }
    assert!(attempts[0].1.to_string().contains("photos"), "{}", attempts[0].1);
    assert_eq!(server.s3.requests_received(), before, "no denied request reached the server");
    assert!(!server.object_path("photos", "out/b.jpg").exists());
    assert!(!server.object_path("other", "in/c.jpg").exists());
    assert!(!server.root().join("newbucket").exists());
    assert!(server.object_path("photos", "in/a.jpg").exists(), "the refused delete deleted nothing");

    let reader = server.connector(policy(&["photos=read"]));
    assert_eq!(reader.head_object(&ObjectRef::new("photos", "in/a.jpg")).await.unwrap().size, 2);
    assert!(matches!(
        reader.put_object_bytes(&ObjectRef::new("photos", "x"), b"x", PutOptions::default()).await,
        Err(Error::Denied(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_keys_round_trip() {
    let server = TestServer::start().await;
    let c = server.admin();
    c.create_bucket("keys").await.unwrap();
    // The 1024-byte key is tested on the wire (cli/tests/object_options.rs): s3s-fs keeps a
    // file named after the base64 of the key, which caps keys at about 170 bytes there.
    let keys =
        ["with space.txt", "ünïcødé/日本.txt", "a+b+c", "100%/done", "a//b", "x/../y", "./z", "q?x=1&y#z"];
    for (i, key) in keys.iter().enumerate() {
        let body = format!("body of key {i}").into_bytes();
        c.put_object_bytes(&ObjectRef::new("keys", key), &body, PutOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        let info = c.head_object(&ObjectRef::new("keys", key)).await.unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(info.size, body.len() as u64, "{key}");
        let (sink, mut reader) = tokio::io::duplex(1 << 16);
        let reading = tokio::spawn(async move {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).await.unwrap();
            bytes
        });
        c.get_object(&ObjectRef::new("keys", key), sink, Default::default())
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(reading.await.unwrap(), body, "{key}");
    }
    // Keys s3s-fs stores literally are listed as written ("a//b", "x/../y" and "./z" are file
    // paths to it, listed in their normalised form, so they are left out here).
    let listed: Vec<String> = c
        .list_objects("keys", Default::default())
        .await
        .unwrap()
        .objects
        .into_iter()
        .map(|o| o.key)
        .collect();
    for key in ["with space.txt", "ünïcødé/日本.txt", "a+b+c", "100%/done", "q?x=1&y#z"] {
        assert!(listed.iter().any(|k| k == key), "{key} in {listed:?}");
    }
    for key in keys {
        c.delete_object(&ObjectRef::new("keys", key)).await.unwrap_or_else(|e| panic!("{key}: {e}"));
    }
}
