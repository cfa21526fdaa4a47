//! The JSON actions on many objects (`deleteObjects`, `copyPrefix`, `syncPrefix`) against
//! s3s-fs: a result per object, counts, one failing object (refused by the policy) among others
//! that go on, `dryRun` changing nothing, deletions only after the copies; every request and
//! answer checked against the JSON Schema.

use std::path::Path;

use s3_connector_host::Connector;
use s3_connector_host::ObjectRef;
use s3_connector_tests::{TestServer, policy};
use serde_json::{Value, json};

fn schema() -> Value {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/actions.schema.json"));
    serde_json::from_str(&text.unwrap()).unwrap()
}

/// Runs `request` (checked against the schema's requests) and checks the answer against its
/// response definition.
async fn run(c: &Connector, request: Value) -> Value {
    let schema = schema();
    let requests = jsonschema::validator_for(&schema).unwrap();
    assert!(requests.is_valid(&request), "the request does not match the schema: {request}");
    let answer = c.invoke(&request.to_string()).await.unwrap_or_else(|f| panic!("{request}: {}", f.json()));
    let mut response = schema.clone();
    let root = response.as_object_mut().unwrap();
    root.remove("oneOf");
    root.insert("$ref".into(), json!(format!("#/$defs/responses/{}", request["action"].as_str().unwrap())));
    let validator = jsonschema::validator_for(&response).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&answer).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "the answer does not match the schema: {errors:#?}\n{answer:#}");
    answer
}

fn outcomes(answer: &Value) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_owned(), r["outcome"].as_str().unwrap().to_owned()))
        .collect();
    list.sort();
    list
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, o)| (k.to_string(), o.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_objects_at_once_with_a_result_each() {
    let server = TestServer::start().await;
    let admin = server.admin();
    for bucket in ["src-b", "dst-b"] {
        admin.create_bucket(bucket).await.unwrap();
    }
    for (key, body) in [("in/a.txt", "a"), ("in/b.txt", "b"), ("in/sub/c.txt", "c"), ("other.txt", "x")] {
        admin
            .put_object_bytes(&ObjectRef::new("src-b", key), body.as_bytes(), Default::default())
            .await
            .unwrap();
    }

    // copyPrefix: every object under in/, to out/.
    let copied = run(
        &admin,
        json!({"action": "copyPrefix", "sourceBucket": "src-b", "sourcePrefix": "in/",
        "bucket": "dst-b", "prefix": "out/"}),
    )
    .await;
    assert_eq!(
        outcomes(&copied),
        pairs(&[("out/a.txt", "copied"), ("out/b.txt", "copied"), ("out/sub/c.txt", "copied")])
    );
    assert_eq!(copied["summary"], json!({"copied": 3, "deleted": 0, "skipped": 0, "failed": 0}));
    assert_eq!(std::fs::read_to_string(server.object_path("dst-b", "out/sub/c.txt")).unwrap(), "c");

    // syncPrefix: a changed source object and an extra destination object; first a dry run.
    admin
        .put_object_bytes(&ObjectRef::new("src-b", "in/b.txt"), b"b, changed", Default::default())
        .await
        .unwrap();
    admin
        .put_object_bytes(&ObjectRef::new("dst-b", "out/extra.txt"), b"e", Default::default())
        .await
        .unwrap();
    let sync = json!({"action": "syncPrefix", "sourceBucket": "src-b", "sourcePrefix": "in/", "bucket": "dst-b",
        "prefix": "out/", "delete": true, "dryRun": true});
    let planned = run(&admin, sync.clone()).await;
    let expected = pairs(&[
        ("out/a.txt", "skipped"),
        ("out/b.txt", "copied"),
        ("out/extra.txt", "deleted"),
        ("out/sub/c.txt", "skipped"),
    ]);
    assert_eq!(outcomes(&planned), expected);
    assert_eq!(planned["dryRun"], true);
    assert_eq!(
        std::fs::read_to_string(server.object_path("dst-b", "out/b.txt")).unwrap(),
        "b",
        "a dry run changes nothing"
    );
    assert!(server.object_path("dst-b", "out/extra.txt").exists());
    let mut real = sync;
    real["dryRun"] = json!(false);
    let synced = run(&admin, real.clone()).await;
    assert_eq!(outcomes(&synced), expected);
    assert_eq!(std::fs::read_to_string(server.object_path("dst-b", "out/b.txt")).unwrap(), "b, changed");
    assert!(!server.object_path("dst-b", "out/extra.txt").exists());
    let again = run(&admin, real).await;
    assert_eq!(
        again["summary"],
        json!({"copied": 0, "deleted": 0, "skipped": 3, "failed": 0}),
        "nothing left to do"
    );

    // One object the policy refuses among others that go on; --delete waits for every copy.
    let partial =
        server.connector(policy(&["src-b=read,list", "dst-b/partial/a=write", "dst-b=list,delete"]));
    let answer = run(
        &partial,
        json!({"action": "syncPrefix", "sourceBucket": "src-b", "sourcePrefix": "in/",
        "bucket": "dst-b", "prefix": "partial/", "delete": true}),
    )
    .await;
    assert_eq!(answer["summary"]["copied"], 1, "{answer}");
    assert_eq!(answer["summary"]["failed"], 2, "{answer}");
    let failed: Vec<&Value> =
        answer["results"].as_array().unwrap().iter().filter(|r| r["outcome"] == "failed").collect();
    assert!(failed.iter().all(|r| r["error"]["code"] == "denied-by-host"), "{answer}");

    // deleteObjects by prefix, then by keys.
    let deleted = run(&admin, json!({"action": "deleteObjects", "bucket": "dst-b", "prefix": "out/"})).await;
    assert_eq!(deleted["summary"]["deleted"], 3, "{deleted}");
    assert!(!server.object_path("dst-b", "out/a.txt").exists());
    let by_keys =
        run(&admin, json!({"action": "deleteObjects", "bucket": "src-b", "keys": ["other.txt", "in/a.txt"]}))
            .await;
    assert_eq!(outcomes(&by_keys), pairs(&[("in/a.txt", "deleted"), ("other.txt", "deleted")]));
    let refused = admin.invoke(r#"{"action":"deleteObjects","bucket":"src-b"}"#).await.unwrap_err();
    assert_eq!(refused.code(), "invalid-field", "{refused}");
}
