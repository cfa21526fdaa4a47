//! `GET /openapi.json` (issue 21, item 6) end to end: the document `serve` hands out is a valid
//! OpenAPI 3.1 document (checked against the official schema, `tests/fixtures/openapi-3.1/`),
//! and it tells the truth. Real requests against s3s-fs reach every documented operation, with
//! successes and every error status the test can provoke (401, 400, 403, 404, 405, 413, 429,
//! 502, 503); each answer's status must be listed for its path and method (not merely covered
//! by `default`), its required headers present and of their schema, and its JSON body valid
//! against the documented schema. Every operation of the document must have been exercised.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use http_body_util::BodyExt;
use s3_connector_rules::ErrorCode;
use s3_connector_serve::tenants_file::{hex, token_hash};
use s3_connector_serve::{MAX_ACTION_BYTES, TenantBase, Tenants};
use s3_connector_tests::http_client::{self, bytes};
use s3_connector_tests::serving::{Serving, TOKEN};
use s3_connector_tests::{TestServer, policy};
use serde_json::{Value, json};

/// The OpenAPI 3.1 schema's `$id`.
const OAS_SCHEMA_ID: &str = "https://spec.openapis.org/oas/3.1/schema/2022-10-07";

fn read_json(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The served document, with what it takes to validate against its schemas.
struct Document {
    document: Value,
    oas_schema: Value,
    actions_schema: Value,
    /// The operations exercised, `(path template, method)`, and the statuses seen for each.
    exercised: BTreeMap<(String, String), BTreeSet<u16>>,
}

/// One request of the test, and the answer it is checked by.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

impl Document {
    fn new(document: Value) -> Self {
        let actions_schema = read_json("../schema/actions.schema.json");
        Self {
            document,
            oas_schema: read_json("fixtures/openapi-3.1/schema.json"),
            actions_schema,
            exercised: BTreeMap::new(),
        }
    }

    /// Errors of `instance` against `schema`, a schema of the document: compiled as part of the
    /// document (under `$defs`), so that its `#/components/...` references resolve there; the
    /// OpenAPI schema is found by its `$id`.
    fn errors(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let resource = |value: &Value| jsonschema::Resource::from_contents(value.clone()).unwrap();
        let mut root = self.document.clone();
        root["$defs"] = json!({ "under-test": schema });
        root["$ref"] = json!("#/$defs/under-test");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_resource(OAS_SCHEMA_ID, resource(&self.oas_schema))
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema {schema} does not compile: {e}"));
        validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path)).collect()
    }

    /// `value` with a Reference Object (`{"$ref": "#/components/..."}`) followed.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("not local: {reference}"));
                self.resolve(
                    self.document.pointer(pointer).unwrap_or_else(|| panic!("{reference} is not there")),
                )
            }
            None => value,
        }
    }

    /// The path template of the document a request for `path` is routed to, as serve routes:
    /// exact paths first, then `/{bucket}/` and `/{bucket}/{key}` (the key takes the rest).
    fn template(&self, path: &str) -> String {
        let paths = self.document["paths"].as_object().unwrap();
        if paths.contains_key(path) {
            return path.to_owned();
        }
        let rest = path.strip_prefix('/').unwrap();
        let template = match rest.split_once('/') {
            Some((_, "")) => "/{bucket}/",
            Some(_) => "/{bucket}/{key}",
            None => panic!("the test sends no path like {path}"),
        };
        assert!(paths.contains_key(template), "{template} is not documented");
        template.to_owned()
    }

    /// Sends one request and checks its answer against the document.
    async fn check(
        &mut self,
        address: SocketAddr,
        token: Option<&str>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(authorization) = &authorization {
            all.push(("authorization", authorization));
        }
        let response = http_client::send(address, method, path, &all, bytes(body.to_vec())).await.unwrap();
        let (status, answer_headers) = (response.status().as_u16(), response.headers().clone());
        let answer_body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        let answer = Answer { status, headers: answer_headers, body: answer_body };
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        let context = format!("{method} {path} answered {status}: {text}");

        let template = self.template(path.split('?').next().unwrap());
        let verb = method.to_ascii_lowercase();
        let operation = &self.document["paths"][&template][&verb];
        assert!(operation.is_object(), "{method} {template} is not documented ({context})");
        let documented = operation["responses"].get(status.to_string());
        let response = self.resolve(documented.unwrap_or_else(|| {
            panic!("status {status} is not documented for {method} {template}: {context}")
        }));
        assert!(response["description"].is_string(), "{context}");

        // The headers it promises.
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let header = self.resolve(header);
            let value = answer.headers.get(name.as_str()).map(|v| v.to_str().unwrap().to_owned());
            if header["required"] == true {
                assert!(value.is_some(), "the header {name} is missing: {context}\n{:?}", answer.headers);
            }
            if let Some(value) = value {
                let schema = &header["schema"];
                let instance = if schema["type"] == "integer" {
                    value.parse::<u64>().map(Value::from).unwrap_or(Value::String(value))
                } else {
                    Value::String(value)
                };
                let errors = self.errors(schema, &instance);
                assert!(errors.is_empty(), "the header {name}: {errors:?}: {context}");
            }
        }

        // The body it promises.
        let content_type = answer.headers.get("content-type").map(|v| v.to_str().unwrap().to_owned());
        match response["content"].as_object() {
            None => assert!(answer.body.is_empty(), "a body where none is documented: {context}"),
            Some(content) if content.contains_key("application/json") => {
                assert_eq!(content_type.as_deref(), Some("application/json"), "{context}");
                let schema = &content["application/json"]["schema"];
                let instance: Value = serde_json::from_slice(&answer.body)
                    .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {context}"));
                let errors = self.errors(schema, &instance);
                assert!(errors.is_empty(), "the body does not match {schema}: {errors:#?}\n{context}");
            }
            Some(content) => {
                assert!(content.contains_key("application/octet-stream"), "{context}");
                assert!(!answer.body.is_empty() || method == "HEAD", "{context}");
            }
        }

        // A JSON request that succeeded must have been one the document describes.
        if let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema")
            && (200..300).contains(&status)
        {
            let request: Value = serde_json::from_slice(body).unwrap();
            let errors = self.errors(schema, &request);
            assert!(errors.is_empty(), "the request {request} does not match its schema: {errors:#?}");
        }
        self.exercised.entry((template, verb)).or_default().insert(status);
        answer
    }
}

/// `schema/actions.schema.json` as the document should hold it: without `$id` and `$schema`,
/// its references pointing to `#/components/schemas/Actions`.
fn placed(actions: &Value) -> Value {
    let text = actions.to_string().replace("\"$ref\":\"#/", "\"$ref\":\"#/components/schemas/Actions/");
    let mut placed: Value = serde_json::from_str(&text).unwrap();
    let root = placed.as_object_mut().unwrap();
    root.remove("$id");
    root.remove("$schema");
    placed
}

/// A server whose only tenant has a body limit of 16 bytes and one request per 1000 s.
async fn limited_server(s3: &TestServer, dir: &Path) -> Serving {
    let file = dir.join("tenants.toml");
    let text = format!(
        "[[tenant]]\nname = \"limited\"\nallow = [{{ bucket = \"edge\" }}]\n\
         credentials = {{ source = \"static\", access_key_id = \"{}\", secret_access_key = \"{}\" }}\n\
         limits = {{ max_body_bytes = 16, requests_per_second = 0.001, burst = 1 }}\n\
         [[token]]\ntenant = \"limited\"\nsha256 = \"{}\"\n",
        s3.s3.access_key_id(),
        s3.s3.secret_access_key().expose(),
        hex(&token_hash("limited-token")),
    );
    std::fs::write(&file, text).unwrap();
    let base = TenantBase {
        connection: s3.connection(),
        max_attempts: 1,
        response_checksum_validation: Default::default(),
        allow_request_credentials: false,
        audit: None,
        lookup: Arc::new(|_: &str| None),
    };
    Serving::start_tenants(Tenants::from_file(&file, base).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_valid_and_every_route_answers_as_it_says() {
    let s3 = TestServer::start().await;
    s3.admin().create_bucket("edge").await.unwrap();
    s3.admin().create_bucket("other").await.unwrap();
    let serving = Serving::start(s3.connector(policy(&["edge"]))).await;
    let a = serving.address;

    // Without a token, and nothing secret in it.
    let (status, text) = http_client::call(a, "GET", "/openapi.json", &[], bytes("")).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&text));
    let text = String::from_utf8(text.to_vec()).unwrap();
    for secret in [TOKEN, s3.s3.secret_access_key().expose(), s3.s3.access_key_id(), &s3.s3.endpoint()] {
        assert!(!text.contains(secret), "the document reveals {secret}");
    }
    let mut doc = Document::new(serde_json::from_str(&text).unwrap());

    // A valid OpenAPI 3.1 document.
    let errors = doc.errors(&json!({"$ref": OAS_SCHEMA_ID}), &doc.document.clone());
    assert!(errors.is_empty(), "not a valid OpenAPI 3.1 document: {errors:#?}");
    assert!(doc.document["openapi"].as_str().unwrap().starts_with("3.1."));
    // And the schema check can fail.
    let mut broken = doc.document.clone();
    broken["paths"]["/healthz"]["get"]["responses"]["200"] = json!({"content": {}});
    assert!(
        !doc.errors(&json!({"$ref": OAS_SCHEMA_ID}), &broken).is_empty(),
        "a response without description"
    );

    // One source for what is also said elsewhere.
    assert_eq!(doc.document["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc.document["components"]["schemas"]["Actions"],
        placed(&doc.actions_schema),
        "the actions' schema"
    );
    let codes: BTreeSet<&str> = doc.document["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes, ErrorCode::ALL.iter().map(|c| c.as_str()).collect(), "every error code, no other");
    let answers: BTreeSet<String> = doc.document["components"]["schemas"]["ActionAnswer"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["$ref"].as_str().unwrap().rsplit('/').next().unwrap().to_owned())
        .collect();
    let actions: BTreeSet<String> =
        doc.actions_schema["$defs"]["responses"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(answers, actions, "an answer for every action");
    let too_large =
        doc.document["components"]["responses"]["ContentTooLarge"]["description"].as_str().unwrap();
    assert!(too_large.contains(&MAX_ACTION_BYTES.to_string()), "{too_large}");

    // Served as checked: a second fetch, through the checks.
    let answer = doc.check(a, None, "GET", "/openapi.json", &[], b"").await;
    assert_eq!(answer.json(), doc.document);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let answer = doc.check(a, None, "GET", "/healthz", &[("traceparent", traceparent)], b"").await;
    let id = answer.headers["x-request-id"].to_str().unwrap();
    assert_eq!((answer.status, id), (200, "4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_eq!(doc.check(a, None, "GET", "/readyz", &[], b"").await.status, 200);

    // Objects.
    let token = Some(TOKEN);
    let answer = doc.check(a, token, "PUT", "/edge/dir/a%20b.txt", &[], b"hello, openapi").await;
    assert_eq!(answer.status, 200);
    let answer = doc.check(a, token, "GET", "/edge/dir/a%20b.txt", &[], b"").await;
    assert_eq!((answer.status, answer.body.as_slice()), (200, &b"hello, openapi"[..]));
    let answer = doc.check(a, token, "GET", "/edge/dir/a%20b.txt", &[("range", "bytes=0-4")], b"").await;
    assert_eq!((answer.status, answer.body.as_slice()), (206, &b"hello"[..]));
    let several = [("range", "bytes=0-1,3-4")];
    assert_eq!(doc.check(a, token, "GET", "/edge/dir/a%20b.txt", &several, b"").await.status, 400);
    assert_eq!(doc.check(a, token, "HEAD", "/edge/dir/a%20b.txt", &[], b"").await.status, 200);
    assert_eq!(doc.check(a, token, "HEAD", "/edge/nothing", &[], b"").await.status, 404);
    assert_eq!(doc.check(a, token, "GET", "/edge/nothing", &[], b"").await.status, 404);
    assert_eq!(doc.check(a, token, "GET", "/other/x", &[], b"").await.status, 403, "the policy");
    assert_eq!(doc.check(a, None, "GET", "/edge/dir/a%20b.txt", &[], b"").await.status, 401);
    assert_eq!(doc.check(a, Some("not-the-token"), "PUT", "/edge/x", &[], b"x").await.status, 401);
    assert_eq!(doc.check(a, token, "POST", "/edge/dir/a%20b.txt", &[], b"").await.status, 405);
    let answer = doc.check(a, token, "GET", "/edge/?prefix=dir%2F&delimiter=/", &[], b"").await;
    assert_eq!((answer.status, &answer.json()["objects"][0]["key"]), (200, &json!("dir/a b.txt")));
    assert_eq!(doc.check(a, token, "GET", "/other/", &[], b"").await.status, 403);
    assert_eq!(doc.check(a, token, "PUT", "/edge/", &[], b"").await.status, 405);

    // Actions.
    let head = json!({"action": "headObject", "bucket": "edge", "key": "dir/a b.txt"}).to_string();
    let answer = doc.check(a, token, "POST", "/actions", &[], head.as_bytes()).await;
    assert_eq!((answer.status, &answer.json()["size"]), (200, &json!(14)));
    let list = json!({"action": "listObjects", "bucket": "edge", "prefix": "dir/"}).to_string();
    assert_eq!(doc.check(a, token, "POST", "/actions", &[], list.as_bytes()).await.status, 200);
    let answer = doc.check(a, token, "POST", "/actions", &[], br#"{"action":"nope"}"#).await;
    assert_eq!((answer.status, &answer.json()["error"]["code"]), (400, &json!("unknown-action")));
    assert_eq!(doc.check(a, token, "POST", "/actions", &[], b"not json").await.status, 400);
    let missing = json!({"action": "headObject", "bucket": "edge", "key": "nothing"}).to_string();
    assert_eq!(doc.check(a, token, "POST", "/actions", &[], missing.as_bytes()).await.status, 404);
    let denied = json!({"action": "headObject", "bucket": "other", "key": "x"}).to_string();
    assert_eq!(doc.check(a, token, "POST", "/actions", &[], denied.as_bytes()).await.status, 403);
    let huge = vec![b' '; MAX_ACTION_BYTES + 1];
    assert_eq!(doc.check(a, token, "POST", "/actions", &[], &huge).await.status, 413);
    assert_eq!(doc.check(a, None, "POST", "/actions", &[], head.as_bytes()).await.status, 401);
    assert_eq!(doc.check(a, token, "GET", "/actions", &[], b"").await.status, 405);

    assert_eq!(doc.check(a, token, "DELETE", "/edge/dir/a%20b.txt", &[], b"").await.status, 204);
    assert!(!s3.object_path("edge", "dir/a b.txt").exists());

    // A tenant's limits: the body (checked after the rate's token is taken), then the rate.
    let dir = tempfile::tempdir().unwrap();
    let limited = limited_server(&s3, dir.path()).await;
    let l = limited.address;
    let body = [b'x'; 32];
    assert_eq!(doc.check(l, Some("limited-token"), "PUT", "/edge/big", &[], &body).await.status, 413);
    let answer = doc.check(l, Some("limited-token"), "GET", "/edge/", &[], b"").await;
    assert_eq!((answer.status, &answer.json()["error"]["code"]), (429, &json!("too-many-requests")));
    assert_eq!(limited.stop().await, 0);

    // An endpoint that refuses connections: not ready, and S3 cannot be reached.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let unreachable = Serving::start(
        s3.builder_via(&format!("http://{closed}"), policy(&["edge"])).max_attempts(1).build().unwrap(),
    )
    .await;
    let u = unreachable.address;
    let answer = doc.check(u, None, "GET", "/readyz", &[], b"").await;
    assert_eq!((answer.status, &answer.json()["checks"]["endpoint"]), (503, &json!("failing")));
    let answer = doc.check(u, token, "GET", "/edge/x", &[], b"").await;
    assert_eq!((answer.status, &answer.json()["error"]["code"]), (502, &json!("transport")));
    assert_eq!(unreachable.stop().await, 0);

    // The other way round: every operation of the document was exercised.
    let mut documented = BTreeSet::new();
    for (path, item) in doc.document["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
            if item.get(method).is_some() {
                documented.insert((path.clone(), method.to_owned()));
            }
        }
    }
    let exercised: BTreeSet<(String, String)> = doc.exercised.keys().cloned().collect();
    assert_eq!(documented, exercised, "operations documented but not exercised, or the reverse");
    assert_eq!(serving.stop().await, 0);
}
