//! The JSON action examples of docs/actions.md are real: every request runs, in order, against
//! s3s-fs, and every request, every answer it got and every answer shown is checked against
//! `schema/actions.schema.json`.

use std::path::Path;
use std::sync::Arc;

use s3_connector_host::{FsDocumentStore, Policy};
use s3_connector_tests::TestServer;
use serde_json::{Value, json};

/// One ```json block of docs/actions.md, with the words after `json` in its info string.
struct Example {
    kind: String,
    argument: Option<String>,
    json: Value,
}

fn readme_examples() -> Vec<Example> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/actions.md")).unwrap();
    let mut examples = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```json ") else { continue };
        let mut words = info.split_whitespace();
        let kind = words.next().unwrap_or_default().to_owned();
        if !kind.starts_with("action-") {
            continue;
        }
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        let json = serde_json::from_str(&body.join("\n"))
            .unwrap_or_else(|e| panic!("docs/actions.md example is not JSON ({e}):\n{}", body.join("\n")));
        examples.push(Example { kind, argument: words.next().map(str::to_owned), json });
    }
    examples
}

fn schema() -> Value {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/actions.schema.json"));
    serde_json::from_str(&text.unwrap()).unwrap()
}

/// A validator for the definition at `pointer` (`None`: the root, the requests).
fn validator(schema: &Value, pointer: Option<&str>) -> jsonschema::Validator {
    let mut schema = schema.clone();
    if let Some(pointer) = pointer {
        let root = schema.as_object_mut().unwrap();
        root.remove("oneOf");
        root.insert("$ref".into(), json!(pointer));
    }
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{what} does not match the schema: {errors:#?}\n{instance:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_example_runs_and_matches_the_schema() {
    let schema = schema();
    let requests = validator(&schema, None);
    let error = validator(&schema, Some("#/$defs/error"));
    let examples = readme_examples();
    let count = |kind: &str| examples.iter().filter(|e| e.kind == kind).count();
    assert!(count("action-request") >= 14 && count("action-response") >= 3 && count("action-error") >= 1);

    let server = TestServer::start().await;
    let documents = tempfile::tempdir().unwrap();
    std::fs::write(documents.path().join("invoice-1.pdf"), b"%PDF-1.7\n").unwrap();
    let connector = server
        .builder(Policy::allow_all())
        .documents(Arc::new(FsDocumentStore::new(documents.path()).unwrap()))
        .build()
        .unwrap();

    let mut shown_actions = std::collections::BTreeSet::new();
    for example in &examples {
        match example.kind.as_str() {
            "action-request" => {
                let action = example.json["action"].as_str().unwrap().to_owned();
                shown_actions.insert(action.clone());
                assert_valid(&requests, &example.json, &format!("docs/actions.md's {action} request"));
                if example.argument.as_deref() == Some("norun") {
                    continue;
                }
                let answer = match connector.invoke(&example.json.to_string()).await {
                    Ok(answer) => answer,
                    Err(failure) => panic!("docs/actions.md's {action} request failed: {}", failure.json()),
                };
                let response = validator(&schema, Some(&format!("#/$defs/responses/{action}")));
                assert_valid(
                    &response,
                    &answer,
                    &format!("the answer to docs/actions.md's {action} request"),
                );
            }
            "action-response" => {
                let action = example.argument.as_deref().expect("action-response names its action");
                let response = validator(&schema, Some(&format!("#/$defs/responses/{action}")));
                assert_valid(&response, &example.json, &format!("docs/actions.md's {action} answer"));
            }
            "action-error" => assert_valid(&error, &example.json, "docs/actions.md's error"),
            other => panic!("unknown docs/actions.md example kind {other}"),
        }
    }
    let all: Vec<&str> =
        schema["$defs"]["requests"].as_object().unwrap().keys().map(String::as_str).collect();
    let shown: Vec<&str> = shown_actions.iter().map(String::as_str).collect();
    let mut all_sorted = all.clone();
    all_sorted.sort();
    assert_eq!(shown, all_sorted, "docs/actions.md shows one example per action");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_what_the_plugin_refuses_and_errors_match_it() {
    let schema = schema();
    let requests = validator(&schema, None);
    for bad in [
        json!({"action": "explode"}),
        json!({"action": "headObject", "bucket": "b"}),
        json!({"action": "headObject", "bucket": "b", "key": "k", "bukcet": "x"}),
        json!({"action": "listObjects", "bucket": "b", "maxKeys": "10"}),
    ] {
        assert!(!requests.is_valid(&bad), "the schema accepts {bad}");
    }
    // Errors the plugin and the host produce match the documented shape.
    let server = TestServer::start().await;
    let c = server.admin();
    let error = validator(&schema, Some("#/$defs/error"));
    for request in
        ["{", r#"{"action":"explode"}"#, r#"{"action":"headObject","bucket":"nope-bucket","key":"k"}"#]
    {
        let failure = c.invoke(request).await.unwrap_err();
        assert_valid(&error, failure.json(), request);
    }
}
