//! Inline content: JSON values, text and base64 in action requests and responses.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::error::ActionError;
use super::request::InlineContent;

/// The bytes of inline content and the Content-Type it implies.
pub fn to_bytes(content: &InlineContent) -> Result<(Vec<u8>, &'static str), ActionError> {
    match content {
        // Serialising a `Value` cannot fail: its map keys are strings.
        InlineContent::Json(value) => Ok((value.to_string().into_bytes(), "application/json")),
        InlineContent::Text(text) => Ok((text.as_bytes().to_vec(), "text/plain; charset=utf-8")),
        InlineContent::Base64(text) => {
            STANDARD.decode(text.trim()).map(|bytes| (bytes, "application/octet-stream")).map_err(|e| {
                ActionError::InvalidField(format!("field \"content.base64\" is not standard base64: {e}"))
            })
        }
    }
}

/// Which rules turn downloaded bytes into inline content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentRules {
    /// The project's own: typed (`{"json"}`, `{"text"}`, `{"base64"}`) by media type.
    #[default]
    Own,
    /// Camunda's executor's: `text/plain` as text, `application/json` as JSON, anything else as
    /// a base64 string.
    Camunda,
}

/// Downloaded bytes as content, by `rules`.
pub fn content_of(rules: ContentRules, content_type: Option<&str>, bytes: &[u8]) -> Value {
    match rules {
        ContentRules::Own => from_bytes(content_type, bytes),
        ContentRules::Camunda => camunda_from_bytes(content_type, bytes),
    }
}

/// Camunda's `S3Executor.retrieveResponseWithContent`: the media type compared as it is, so
/// `text/plain; charset=utf-8` is base64 there too; JSON that does not parse is base64 here
/// (Camunda fails the job).
fn camunda_from_bytes(content_type: Option<&str>, bytes: &[u8]) -> Value {
    match content_type {
        Some("text/plain") => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        Some("application/json") => {
            serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(STANDARD.encode(bytes)))
        }
        _ => Value::String(STANDARD.encode(bytes)),
    }
}

/// Downloaded bytes as response content: `{"json": value}` for JSON media types whose bytes
/// parse, `{"text": string}` for text media types in UTF-8, `{"base64": string}` otherwise.
pub fn from_bytes(content_type: Option<&str>, bytes: &[u8]) -> Value {
    let media = content_type.and_then(|t| t.split(';').next()).unwrap_or("").trim().to_ascii_lowercase();
    let is_json = media == "application/json" || media.ends_with("+json");
    if is_json && let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        return json!({ "json": value });
    }
    let is_text = media.starts_with("text/")
        || is_json
        || media.ends_with("+xml")
        || matches!(media.as_str(), "application/xml" | "application/javascript" | "application/x-yaml");
    if is_text && let Ok(text) = std::str::from_utf8(bytes) {
        return json!({ "text": text });
    }
    json!({ "base64": STANDARD.encode(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camundas_content_rules_follow_its_executor() {
        let table: &[(Option<&str>, &[u8], Value)] = &[
            (Some("text/plain"), b"hi", json!("hi")),
            (Some("application/json"), br#"{"a":1}"#, json!({"a": 1})),
            (Some("text/plain; charset=utf-8"), b"hi", json!("aGk=")),
            (Some("application/pdf"), b"hi", json!("aGk=")),
            (None, b"hi", json!("aGk=")),
        ];
        for (content_type, bytes, expected) in table {
            assert_eq!(
                content_of(ContentRules::Camunda, *content_type, bytes),
                *expected,
                "{content_type:?}"
            );
        }
        assert_eq!(content_of(ContentRules::Own, Some("text/plain"), b"hi"), json!({"text": "hi"}));
    }

    #[test]
    fn content_is_classified_by_media_type() {
        let table: &[(Option<&str>, &[u8], Value)] = &[
            (Some("application/json"), br#"{"a":1}"#, json!({"json": {"a": 1}})),
            (Some("application/vnd.api+json; charset=utf-8"), b"[1]", json!({"json": [1]})),
            (Some("application/json"), b"not json", json!({"text": "not json"})),
            (Some("text/plain; charset=utf-8"), b"hello", json!({"text": "hello"})),
            (Some("text/csv"), b"\xff\xfe", json!({"base64": "//4="})),
            (Some("application/xml"), b"<a/>", json!({"text": "<a/>"})),
            (Some("application/pdf"), b"%PDF", json!({"base64": "JVBERg=="})),
            (None, b"x", json!({"base64": "eA=="})),
        ];
        for (content_type, bytes, expected) in table {
            assert_eq!(from_bytes(*content_type, bytes), *expected, "{content_type:?}");
        }
    }

    #[test]
    fn inline_content_round_trips() {
        let (bytes, kind) = to_bytes(&InlineContent::Json(json!({"n": [1, 2]}))).unwrap();
        assert_eq!((bytes.as_slice(), kind), (br#"{"n":[1,2]}"#.as_slice(), "application/json"));
        assert_eq!(from_bytes(Some(kind), &bytes), json!({"json": {"n": [1, 2]}}));
        let (bytes, _) = to_bytes(&InlineContent::Base64("AAEC".into())).unwrap();
        assert_eq!(bytes, [0, 1, 2]);
        let error = to_bytes(&InlineContent::Base64("not base64!".into())).unwrap_err();
        assert_eq!(error.code().as_str(), "invalid-field");
        assert!(error.to_string().contains("content.base64"), "{error}");
    }
}
