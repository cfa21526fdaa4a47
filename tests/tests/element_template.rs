//! The Camunda element template (`element-templates/s3-connector-serve.json`) as Camunda would
//! use it: every distinct request its bindings build (`element-templates/template-requests.json`,
//! written and kept in step with the template by `element-templates/validate.mjs`, which `.ci/run`
//! runs) is posted to `serve`'s `/actions` with the bearer token, against s3s-fs, and must do
//! what it says. The node check proves the requests fit the schema; this proves the host and the
//! plugin run them (an upload's key, a document's store, the host's region and endpoint).

use std::path::Path;
use std::sync::Arc;

use s3_connector_host::ObjectRef;
use s3_connector_host::{Connector, FsDocumentStore, Policy, Secret, StaticCredentials};
use s3_connector_tests::TestServer;
use s3_connector_tests::serving::Serving;
use serde_json::{Value, json};

/// The object every request but `createBucket` finds (in `invoices`, and in `archive` unless the
/// request deletes that bucket), and the document a host-store upload names: the samples of
/// `validate.mjs`.
const KEY: &str = "2026/invoice-1.txt";
const DOCUMENT_ID: &str = "invoice-1.txt";
const OBJECT_TEXT: &str = "Invoice 1: 19.90";

/// The requests the template builds, each with the choices that built it.
fn template_requests() -> Vec<(Value, Value)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../element-templates/template-requests.json");
    let list: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    list.into_iter().map(|entry| (entry["chosen"].clone(), entry["body"].clone())).collect()
}

/// Standard base64, as Camunda's REST connector writes a document's bytes.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|a| *a == byte).expect("base64") as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// A server with what the request needs, and the connector `serve` runs for it: with the
/// request's keys allowed (and wrong keys of the host's own) when the request carries keys.
async fn host_for(body: &mut Value, documents: &Path) -> (TestServer, Connector) {
    let server = TestServer::start().await;
    let admin = server.admin();
    admin.create_bucket("invoices").await.unwrap();
    admin
        .put_object_bytes(&ObjectRef::new("invoices", KEY), OBJECT_TEXT.as_bytes(), Default::default())
        .await
        .unwrap();
    let action = body["action"].as_str().unwrap_or("");
    if action != "createBucket" {
        admin.create_bucket("archive").await.unwrap();
    }
    if action != "createBucket" && action != "deleteBucket" {
        admin
            .put_object_bytes(&ObjectRef::new("archive", KEY), OBJECT_TEXT.as_bytes(), Default::default())
            .await
            .unwrap();
    }
    std::fs::write(documents.join(DOCUMENT_ID), OBJECT_TEXT).unwrap();
    // The template's endpoint sample stands for "this host's endpoint".
    if body["configuration"]["endpoint"].is_string() {
        body["configuration"]["endpoint"] = json!(server.s3.endpoint());
    }
    let keys = body["authentication"]["type"] == "credentials";
    let builder = if keys {
        body["authentication"]["accessKey"] = json!(server.s3.access_key_id());
        body["authentication"]["secretKey"] = json!(server.s3.secret_access_key().expose());
        let wrong = StaticCredentials::new("AKWRONGWRONGWRONG", Secret::new("wrong"), None);
        Connector::builder(server.connection(), Policy::allow_all(), Arc::new(wrong))
    } else {
        server.builder(Policy::allow_all())
    };
    let store = FsDocumentStore::new(documents).unwrap();
    let connector = builder.documents(Arc::new(store)).request_credentials(keys).build().unwrap();
    (server, connector)
}

/// What an upload of Camunda's form stored, by the template's content choice.
fn uploaded_bytes(body: &Value) -> Vec<u8> {
    let action = &body["action"];
    match &action["content"] {
        Value::Null => OBJECT_TEXT.as_bytes().to_vec(),
        content if content["base64"].is_string() => base64_decode(content["base64"].as_str().unwrap()),
        content if content["text"].is_string() => content["text"].as_str().unwrap().as_bytes().to_vec(),
        content => serde_json::to_vec(&content["json"]).unwrap(),
    }
}

/// Checks one answer against what the request asked for.
fn check(server: &TestServer, chosen: &Value, body: &Value, answer: &Value) {
    assert!(answer["auditId"].is_string(), "{chosen}: {answer}");
    let Some(discriminator) = body["actionDiscriminator"].as_str() else {
        assert_eq!(
            answer["bucket"],
            body.get("bucket").cloned().unwrap_or(Value::Null),
            "{chosen}: {answer}"
        );
        return;
    };
    let fields = &body["action"];
    // Camunda's DTOs: bucket and key; an upload without a key takes the document's file name.
    let key = fields["key"].as_str().unwrap_or(DOCUMENT_ID);
    assert_eq!((&answer["bucket"], &answer["key"]), (&fields["bucket"], &json!(key)), "{chosen}: {answer}");
    let stored = std::fs::read(server.object_path("archive", key));
    match discriminator {
        "uploadObject" => {
            assert_eq!(stored.unwrap(), uploaded_bytes(body), "{chosen}: the bytes stored");
            assert!(answer["link"].as_str().unwrap().ends_with(&format!("/archive/{key}")), "{answer}");
        }
        "downloadObject" => {
            assert!(answer["element"]["content"].is_string() || answer["element"]["document"].is_object())
        }
        _ => assert!(stored.is_err(), "{chosen}: deleteObject deleted the object"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_the_template_builds_runs_through_serve() {
    let requests = template_requests();
    assert!(requests.len() >= 17, "every action at least once: {} requests", requests.len());
    for (chosen, mut body) in requests {
        let documents = tempfile::tempdir().unwrap();
        let (server, connector) = host_for(&mut body, documents.path()).await;
        let serving = Serving::start(connector).await;
        let (status, answer) = serving.call("POST", "/actions", &body.to_string()).await;
        serving.stop().await;
        let answer: Value = serde_json::from_str(&answer).unwrap();
        if body["action"] == "getObjectTags" || body["action"] == "putObjectTags" {
            // s3s-fs has no tagging: the request was taken and S3 refused the operation.
            assert_eq!((status, &answer["error"]["code"]), (501, &json!("service")), "{chosen}: {answer}");
            continue;
        }
        assert_eq!(status, 200, "{chosen}: {body} -> {answer}");
        check(&server, &chosen, &body, &answer);
    }
}
