//! JSON actions end to end against s3s-fs, through `Connector::invoke`: every action, the
//! document store, the error shape, and the host's own checks.

use std::sync::Arc;

use s3_connector_host::ObjectRef;
use s3_connector_host::{Connector, FsDocumentStore, Policy};
use s3_connector_tests::{TestServer, pattern, policy};
use serde_json::{Value, json};

async fn ok(c: &Connector, request: Value) -> Value {
    match c.invoke(&request.to_string()).await {
        Ok(answer) => answer,
        Err(failure) => panic!("{request}: {}", failure.json()),
    }
}

async fn fail(c: &Connector, request: &str) -> Value {
    match c.invoke(request).await {
        Ok(answer) => panic!("{request} succeeded: {answer}"),
        Err(failure) => {
            let json = failure.json().clone();
            assert_eq!(failure.code(), json["error"]["code"]);
            assert!(json["error"]["auditId"].as_str().is_some_and(|id| id.len() == 32), "{json}");
            json["error"].clone()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camunda_actions_upload_download_and_delete_documents() {
    let server = TestServer::start().await;
    let documents = tempfile::tempdir().unwrap();
    let store = Arc::new(FsDocumentStore::new(documents.path()).unwrap());
    let c = server.builder(Policy::allow_all()).documents(store).build().unwrap();
    ok(&c, json!({"action": "createBucket", "bucket": "docs"})).await;

    let report = pattern(3 * 1024 * 1024 + 17, 7);
    std::fs::write(documents.path().join("report.pdf"), &report).unwrap();
    let document = json!({"storeId": "fs", "documentId": "report.pdf",
        "metadata": {"contentType": "application/pdf", "size": report.len(), "fileName": "report.pdf"},
        "camunda.document.type": "camunda"});
    let uploaded = ok(&c, json!({"action": "uploadDocument", "bucket": "docs", "document": document})).await;
    assert_eq!(uploaded["bucket"], "docs");
    assert_eq!(uploaded["key"], "report.pdf", "the key falls back to the file name");
    assert_eq!(uploaded["link"], format!("{}/docs/report.pdf", server.connection().endpoint.url()));
    assert_eq!(uploaded["contentType"], "application/pdf");
    assert_eq!(std::fs::read(server.object_path("docs", "report.pdf")).unwrap(), report);

    let downloaded = ok(
        &c,
        json!({"action": "downloadDocument", "bucket": "docs", "key": "report.pdf", "createDocument": true}),
    )
    .await;
    assert_eq!(downloaded["content"], Value::Null);
    let reference = &downloaded["document"];
    assert_eq!(reference["storeId"], "fs");
    assert_eq!(reference["camunda.document.type"], "camunda");
    assert_eq!(reference["metadata"]["size"], report.len());
    assert_eq!(reference["metadata"]["fileName"], "report.pdf");
    let id = reference["documentId"].as_str().unwrap();
    assert_eq!(std::fs::read(documents.path().join(id)).unwrap(), report);

    ok(&c, json!({"action": "uploadDocument", "bucket": "docs", "key": "data.json", "content": {"json": {"n": [1, 2]}}}))
        .await;
    ok(&c, json!({"action": "uploadDocument", "bucket": "docs", "key": "note.txt", "content": {"text": "héllo"}})).await;
    ok(&c, json!({"action": "uploadDocument", "bucket": "docs", "key": "raw.bin", "content": {"base64": "AAEC/w=="},
        "options": {"metadata": {"origin": "test"}, "contentType": "application/x-raw"}}))
    .await;
    let inline = |key: &str| json!({"action": "downloadDocument", "bucket": "docs", "key": key, "createDocument": false});
    let answer = ok(&c, inline("data.json")).await;
    assert_eq!(
        (answer["document"].clone(), answer["content"].clone()),
        (Value::Null, json!({"json": {"n": [1, 2]}}))
    );
    assert_eq!(answer["contentType"], "application/json");
    assert_eq!(ok(&c, inline("note.txt")).await["content"], json!({"text": "héllo"}));
    assert_eq!(ok(&c, inline("raw.bin")).await["content"], json!({"base64": "AAEC/w=="}));
    let head = ok(&c, json!({"action": "headObject", "bucket": "docs", "key": "raw.bin"})).await;
    assert_eq!((head["size"].clone(), head["metadata"]["origin"].clone()), (json!(4), json!("test")));

    let deleted = ok(&c, json!({"action": "deleteDocument", "bucket": "docs", "key": "report.pdf"})).await;
    assert_eq!((deleted["bucket"].clone(), deleted["key"].clone()), (json!("docs"), json!("report.pdf")));
    assert!(!server.object_path("docs", "report.pdf").exists());
    let missing = fail(&c, &inline("report.pdf").to_string()).await;
    assert_eq!((missing["code"].clone(), missing["status"].clone()), (json!("no-such-key"), json!(404)));
    assert_eq!((missing["bucket"].clone(), missing["key"].clone()), (json!("docs"), json!("report.pdf")));

    // A failed download leaves no document behind: only the one kept above and the source.
    let names = std::fs::read_dir(documents.path()).unwrap().count();
    assert_eq!(names, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_listing_copy_move_and_presign_actions() {
    let server = TestServer::start().await;
    let c = server.admin();
    for bucket in ["src", "dst"] {
        assert_eq!(ok(&c, json!({"action": "createBucket", "bucket": bucket})).await["bucket"], bucket);
    }
    let mut names: Vec<String> = ok(&c, json!({"action": "listBuckets"})).await["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["dst", "src"]);
    for key in ["a/1.txt", "a/2.txt", "b.txt"] {
        ok(&c, json!({"action": "uploadDocument", "bucket": "src", "key": key, "content": {"text": key}}))
            .await;
    }
    let page =
        ok(&c, json!({"action": "listObjects", "bucket": "src", "delimiter": "/", "maxKeys": 10})).await;
    assert_eq!(page["commonPrefixes"], json!(["a/"]));
    assert_eq!(page["objects"].as_array().unwrap().len(), 1);
    assert_eq!(page["objects"][0]["key"], "b.txt");
    let first = ok(&c, json!({"action": "listObjects", "bucket": "src", "prefix": "a/", "maxKeys": 1})).await;
    assert_eq!(first["isTruncated"], true);
    let token = first["nextContinuationToken"].as_str().unwrap();
    let second =
        ok(&c, json!({"action": "listObjects", "bucket": "src", "prefix": "a/", "continuationToken": token}))
            .await;
    assert_eq!(second["objects"][0]["key"], "a/2.txt");

    let copied = ok(&c, json!({"action": "copyObject", "sourceBucket": "src", "sourceKey": "b.txt", "bucket": "dst", "key": "b.txt"})).await;
    assert!(copied["etag"].is_string(), "{copied}");
    ok(&c, json!({"action": "moveObject", "sourceBucket": "src", "sourceKey": "a/1.txt", "bucket": "dst", "key": "moved.txt"})).await;
    assert!(!server.object_path("src", "a/1.txt").exists());
    assert_eq!(std::fs::read(server.object_path("dst", "moved.txt")).unwrap(), b"a/1.txt");
    let onto_itself = fail(
        &c,
        r#"{"action":"moveObject","sourceBucket":"dst","sourceKey":"b.txt","bucket":"dst","key":"b.txt"}"#,
    )
    .await;
    assert_eq!(onto_itself["code"], "invalid-field");

    let url = ok(&c, json!({"action": "presign", "bucket": "dst", "key": "b.txt", "expiresIn": 300})).await;
    let url = url["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=300") && url.contains("/dst/b.txt?"), "{url}");
    let fetched = reqwest_free_get(url).await;
    assert_eq!(fetched, b"b.txt");

    ok(&c, json!({"action": "deleteBucket", "bucket": "src"})).await;
    assert!(!server.root().join("src").exists());
}

/// GET of a presigned URL over a raw TCP connection (the tests crate has no HTTP client).
async fn reqwest_free_get(url: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    response[body..].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_one_error_shape_and_writes_nothing() {
    let server = TestServer::start().await;
    server.admin().create_bucket("bkt").await.unwrap();
    let c = server.builder(Policy::allow_all()).max_inline_bytes(4).build().unwrap();
    let table: &[(&str, &str, &str)] = &[
        ("{", "invalid-json", "not valid JSON"),
        (r#"{"action":"explode"}"#, "unknown-action", "uploadDocument"),
        (r#"{"action":"deleteDocument","bucket":"bkt"}"#, "invalid-field", "`key`"),
        (r#"{"action":"listObjects","bucket":"bkt","maxKeys":"x"}"#, "invalid-field", "maxKeys"),
        (r#"{"action":"uploadDocument","bucket":"bkt","key":"k"}"#, "invalid-field", "exactly one"),
        (
            r#"{"action":"uploadDocument","bucket":"Bad_Bucket","key":"k","content":{"text":"x"}}"#,
            "invalid-request",
            "Bad_Bucket",
        ),
        (
            r#"{"action":"uploadDocument","bucket":"bkt","key":"k","document":{"storeId":"fs","documentId":"x.pdf"}}"#,
            "document",
            "no document store",
        ),
        (r#"{"action":"presign","bucket":"bkt","key":"k","expiresIn":700000}"#, "invalid-request", "604800"),
    ];
    for (request, code, fragment) in table {
        let error = fail(&c, request).await;
        assert_eq!(error["code"], *code, "{request}: {error}");
        assert!(error["message"].as_str().unwrap().contains(fragment), "{request}: {error}");
        assert_eq!(error["retryable"], false, "{request}");
    }
    let inline_upload =
        fail(&c, r#"{"action":"uploadDocument","bucket":"bkt","key":"big.txt","content":{"text":"12345"}}"#)
            .await;
    assert_eq!(inline_upload["code"], "content-too-large");
    assert!(inline_upload["message"].as_str().unwrap().contains("\"document\""), "{inline_upload}");
    server
        .admin()
        .put_object_bytes(&ObjectRef::new("bkt", "big.txt"), b"12345", Default::default())
        .await
        .unwrap();
    let too_large = fail(&c, r#"{"action":"downloadDocument","bucket":"bkt","key":"big.txt"}"#).await;
    assert_eq!(too_large["code"], "content-too-large");
    assert!(too_large["message"].as_str().unwrap().contains("createDocument"), "{too_large}");
    let names: Vec<_> =
        std::fs::read_dir(server.root().join("bkt")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["big.txt"], "nothing but the admin's upload was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_and_test_connection_are_reported_by_the_host() {
    let server = TestServer::start().await;
    let admin = server.admin();
    admin.create_bucket("open").await.unwrap();
    admin.create_bucket("closed").await.unwrap();
    let c = server.builder(policy(&["open/in/"])).presign_cap(60).build().unwrap();
    let before = server.requests_received();
    let denied =
        fail(&c, r#"{"action":"uploadDocument","bucket":"closed","key":"k","content":{"text":"x"}}"#).await;
    assert_eq!(denied["code"], "denied-by-host");
    let outside = fail(&c, r#"{"action":"presign","bucket":"open","key":"out/k"}"#).await;
    assert_eq!(outside["code"], "denied-by-host", "{outside}");
    let over_cap = fail(&c, r#"{"action":"presign","bucket":"open","key":"in/k","expiresIn":61}"#).await;
    assert!(over_cap["message"].as_str().unwrap().contains("cap of 60"), "{over_cap}");
    assert_eq!(server.requests_received(), before, "no denied request reached the server");

    let report = ok(&c, json!({"action": "testConnection", "bucket": "open", "prefix": "in/"})).await;
    assert_eq!(report["ok"], true, "{report}");
    let whole_bucket = ok(&c, json!({"action": "testConnection", "bucket": "open"})).await;
    assert_eq!(
        (whole_bucket["ok"].clone(), whole_bucket["policy"]["ok"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(whole_bucket["endpoint"]["ok"], false, "not tried: {whole_bucket}");
    assert_eq!(report["credentials"]["provider"], "static", "{report}");
    let refused = ok(&c, json!({"action": "testConnection", "bucket": "closed"})).await;
    assert_eq!(
        (refused["ok"].clone(), refused["policy"]["ok"].clone()),
        (json!(false), json!(false)),
        "{refused}"
    );
    let missing = ok(&server.admin(), json!({"action": "testConnection", "bucket": "nothere"})).await;
    assert_eq!(
        (missing["ok"].clone(), missing["bucketCheck"]["ok"].clone(), missing["bucket"].clone()),
        (json!(false), json!(false), json!("nothere")),
        "{missing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_id_of_an_answer_names_its_audit_records() {
    let server = TestServer::start().await;
    server.admin().create_bucket("audited").await.unwrap();
    let records = Arc::new(s3_connector_host::audit::MemorySink::default());
    let c = server.builder(policy(&["audited/ok/"])).tenant("crm").audit(records.clone()).build().unwrap();
    let answer = ok(
        &c,
        json!({"action": "uploadDocument", "bucket": "audited", "key": "ok/a.txt", "content": {"text": "a"}}),
    )
    .await;
    let denied = fail(&c, r#"{"action":"deleteDocument","bucket":"audited","key":"other.txt"}"#).await;
    let records = records.records();
    let of = |id: &Value| records.iter().filter(|r| r.call_id.as_deref() == id.as_str()).collect::<Vec<_>>();
    let upload = of(&answer["auditId"]);
    assert_eq!(upload.len(), 1, "{records:?}");
    assert_eq!(
        (upload[0].action.as_deref(), upload[0].status, upload[0].tenant.as_str()),
        (Some("PutObject"), Some(200), "crm")
    );
    let refused = of(&denied["auditId"]);
    assert_eq!(refused.len(), 1, "{records:?}");
    assert_eq!(refused[0].key.as_deref(), Some("other.txt"));
    assert_ne!(answer["auditId"], denied["auditId"]);
}
