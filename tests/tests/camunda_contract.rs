//! Camunda's AWS S3 connector contract: its runtime's three example requests, as they stand in
//! `camunda/connectors` (copies in `tests/camunda/`, only the region changed to the host's), run
//! against s3s-fs through `invoke` and through `serve`. Every answer is checked field by field
//! against Camunda's DTOs (`UploadResponse(bucket, key, link)`, `DownloadResponse(bucket, key,
//! element)`, `DeleteResponse(bucket, key)`); the keys the requests carry are refused unless the
//! host allows request credentials.

use std::sync::Arc;

use s3_connector_host::ObjectRef;
use s3_connector_host::{Connector, FsDocumentStore, Policy, Secret, StaticCredentials};
use s3_connector_tests::TestServer;
use s3_connector_tests::serving::Serving;
use serde_json::{Value, json};

const BUCKET: &str = "connector-aws-s3-test";
/// The document Camunda's upload example refers to (`in-memory` store, this id, 41,730 bytes).
const DOCUMENT_ID: &str = "41d2a87f-f39c-4ddd-a116-18d2091cc695";

/// One of Camunda's example requests (each file holds a list of one).
fn example(name: &str) -> Value {
    let path = format!("{}/camunda/{name}ActionsExample.json", env!("CARGO_MANIFEST_DIR"));
    let list: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    list[0].clone()
}

/// The example with the server's own keys in place of Camunda's `test`/`test`.
fn with_keys(mut request: Value, server: &TestServer) -> Value {
    request["authentication"]["accessKey"] = json!(server.s3.access_key_id());
    request["authentication"]["secretKey"] = json!(server.s3.secret_access_key().expose());
    request
}

/// The text of the uploaded document: `text/plain`, as the example's metadata says.
fn document_text() -> String {
    "Camunda document. ".repeat(41_730 / 18 + 1)[..41_730].to_owned()
}

struct Setup {
    server: TestServer,
    _documents: tempfile::TempDir,
    connector: Connector,
}

async fn setup(allow_request_credentials: bool) -> Setup {
    let server = TestServer::start().await;
    server.admin().create_bucket(BUCKET).await.unwrap();
    let documents = tempfile::tempdir().unwrap();
    std::fs::write(documents.path().join(DOCUMENT_ID), document_text()).unwrap();
    let store = FsDocumentStore::new(documents.path()).unwrap().with_store_id("in-memory");
    // A host that takes the request's keys gets wrong keys of its own, so that only the request's
    // can sign what succeeds.
    let builder = if allow_request_credentials {
        let wrong = StaticCredentials::new("AKWRONGWRONGWRONG", Secret::new("wrong"), None);
        Connector::builder(server.connection(), Policy::allow_all(), Arc::new(wrong))
    } else {
        server.builder(Policy::allow_all())
    };
    let connector =
        builder.documents(Arc::new(store)).request_credentials(allow_request_credentials).build().unwrap();
    Setup { server, _documents: documents, connector }
}

/// Checks the three answers against Camunda's DTOs, and what they did on the server.
fn check_answers(server: &TestServer, upload: &Value, download: &Value, delete: &Value) {
    let link = format!("{}/{BUCKET}/attachment", server.s3.endpoint());
    assert_eq!(
        (&upload["bucket"], &upload["key"], &upload["link"]),
        (&json!(BUCKET), &json!("attachment"), &json!(link)),
        "UploadResponse(bucket, key, link): {upload}"
    );
    assert_eq!(
        (&download["bucket"], &download["key"]),
        (&json!(BUCKET), &json!("attachment")),
        "DownloadResponse(bucket, key, ..)"
    );
    assert_eq!((&delete["bucket"], &delete["key"]), (&json!(BUCKET), &json!("test")), "{delete}");
    assert!(!server.object_path(BUCKET, "test").exists(), "deleteObject deleted the object");
    let stored = std::fs::read_to_string(server.object_path(BUCKET, "attachment")).unwrap();
    assert_eq!(stored, document_text(), "uploadObject stored the document's bytes");
}

/// The delete example deletes key `test`: an object put there first.
async fn put_delete_target(setup: &Setup) {
    setup
        .server
        .admin()
        .put_object_bytes(&ObjectRef::new(BUCKET, "test"), b"to delete", Default::default())
        .await
        .unwrap();
}

/// The download example reads back the uploaded document (`text/plain`, `asFile: false`).
fn check_download_element(download: &Value) {
    // Camunda's executor: text/plain as the text itself, beside the documented `content`.
    let text = json!(document_text());
    assert!(
        download["element"] == json!({"content": text}),
        "element is {{\"content\": the document's text}}"
    );
    assert!(download["content"] == text, "content is the document's text");
    assert!(download["document"].is_null(), "no document was asked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camundas_examples_run_through_invoke() {
    let setup = setup(true).await;
    put_delete_target(&setup).await;
    let run = async |name: &str| {
        let request = with_keys(example(name), &setup.server).to_string();
        setup.connector.invoke(&request).await.unwrap_or_else(|f| panic!("{name}: {f}"))
    };
    let upload = run("upload").await;
    let download = run("download").await;
    check_download_element(&download);
    let delete = run("delete").await;
    check_answers(&setup.server, &upload, &download, &delete);
    assert_eq!(upload["credentials"], Value::Null, "nothing of the keys is echoed: {upload}");
    assert!(!upload.to_string().contains(setup.server.s3.secret_access_key().expose()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camundas_examples_run_through_serve() {
    let setup = setup(true).await;
    put_delete_target(&setup).await;
    let serving = Serving::start(setup.connector.clone()).await;
    let mut answers = Vec::new();
    for name in ["upload", "download", "delete"] {
        let request = with_keys(example(name), &setup.server).to_string();
        let (status, answer) = serving.call("POST", "/actions", &request).await;
        assert_eq!(status, 200, "{name}: {answer}");
        answers.push(serde_json::from_str::<Value>(&answer).unwrap());
    }
    check_download_element(&answers[1]);
    check_answers(&setup.server, &answers[0], &answers[1], &answers[2]);
    serving.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_credentials_are_refused_by_default_and_the_host_decides_the_settings() {
    let setup = setup(false).await;
    let before = setup.server.requests_received();
    // Camunda's examples as they stand: keys in the request, which this host does not take.
    for name in ["upload", "download", "delete"] {
        let refused = setup.connector.invoke(&example(name).to_string()).await.unwrap_err();
        assert_eq!(refused.code(), "invalid-field", "{name}: {refused}");
        let message = refused.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains("authentication.type") && message.contains("--allow-request-credentials"),
            "{message}"
        );
    }
    // The host's own credentials are fine; a region or endpoint other than the host's is not.
    let mut own = example("delete");
    own["authentication"] = json!({"type": "defaultCredentialsChain"});
    assert!(setup.connector.invoke(&own.to_string()).await.is_ok());
    own["configuration"]["region"] = json!("eu-central-1");
    let refused = setup.connector.invoke(&own.to_string()).await.unwrap_err();
    assert!(refused.to_string().contains("configuration.region"), "{refused}");
    own["configuration"] = json!({"region": "us-east-1", "endpoint": "https://s3.amazonaws.com"});
    let refused = setup.connector.invoke(&own.to_string()).await.unwrap_err();
    assert!(refused.to_string().contains("configuration.endpoint"), "{refused}");
    assert_eq!(setup.server.requests_received(), before + 1, "only the allowed delete reached the server");
}
