//! `GET /openapi.json`: the OpenAPI 3.1 description of `serve`'s routes, errors and JSON
//! actions, so that a client can be generated or checked against the server instead of the
//! docs (docs/serve.md). Answered without a token, like the probes; it holds nothing secret.
//!
//! The document is checked in (`openapi.json` beside this file) and served as written, but for
//! one thing: `schema/actions.schema.json` is placed whole under `components/schemas/Actions`,
//! so that the actions have one schema, not two. Its `$id` and `$schema` are dropped and its
//! references (`#/$defs/...`) rewritten to that place: OpenAPI tools resolve `#` against the
//! document, and few follow an embedded `$id`.
//! `tests/tests/e2e_serve_openapi.rs` checks the document against the OpenAPI 3.1 schema and
//! every route's real answers against it.

use std::sync::LazyLock;

use s3_connector_rules::ErrorCode;
use serde_json::Value;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::json_answer;

/// The checked-in document.
const DOCUMENT: &str = include_str!("openapi.json");

/// The JSON actions' schema, the one source of the actions' requests and answers.
const ACTIONS_SCHEMA: &str = include_str!("../../schema/actions.schema.json");

/// The document as served, built once.
static SERVED: LazyLock<Result<String, String>> = LazyLock::new(document);

/// Whether `request` asks for the document.
pub(super) fn matches<B>(request: &hyper::Request<B>) -> bool {
    request.method() == http::Method::GET && request.uri().path() == "/openapi.json"
}

/// The document (or a 500 if the build embedded a broken one, which its tests rule out).
pub(super) fn answer() -> hyper::Response<HyperOutgoingBody> {
    match &*SERVED {
        Ok(text) => json_answer::text(200, text.clone()),
        Err(message) => json_answer::error(ErrorCode::Other, message),
    }
}

/// Where the actions' schema is placed in the document.
const ACTIONS_PLACE: &str = "#/components/schemas/Actions";

/// The checked-in document with the actions' schema in place.
fn document() -> Result<String, String> {
    let mut document: Value =
        serde_json::from_str(DOCUMENT).map_err(|e| format!("the OpenAPI document is not JSON: {e}"))?;
    let mut actions: Value =
        serde_json::from_str(ACTIONS_SCHEMA).map_err(|e| format!("the actions' schema is not JSON: {e}"))?;
    if let Some(root) = actions.as_object_mut() {
        root.remove("$id");
        root.remove("$schema");
    }
    rebase_references(&mut actions);
    let slot = document
        .pointer_mut(ACTIONS_PLACE.trim_start_matches('#'))
        .ok_or("the OpenAPI document has no components/schemas/Actions")?;
    *slot = actions;
    Ok(document.to_string())
}

/// Rewrites every `$ref` of the actions' schema (`#/...`, relative to its own root) to point
/// into its place in the document.
fn rebase_references(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map.iter_mut() {
                match inner {
                    Value::String(reference) if name == "$ref" && reference.starts_with('#') => {
                        *reference = format!("{ACTIONS_PLACE}{}", &reference[1..]);
                    }
                    _ => rebase_references(inner),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rebase_references),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_built_with_the_actions_schema_in_place() {
        let text = document().unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(document["openapi"], "3.1.1");
        let actions = &document["components"]["schemas"]["Actions"];
        let original: Value = serde_json::from_str(ACTIONS_SCHEMA).unwrap();
        assert_eq!(actions["$defs"]["error"]["required"], original["$defs"]["error"]["required"]);
        assert!(actions.get("$id").is_none());
        let first = &actions["oneOf"][0]["$ref"];
        assert_eq!(first, "#/components/schemas/Actions/$defs/requests/uploadDocument");
        assert!(document.pointer(&first.as_str().unwrap()[1..]).is_some());
    }
}
