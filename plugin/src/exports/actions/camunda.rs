//! Camunda's connector runtime request, exactly as its AWS S3 connector sends it
//! (`camunda/connectors`, `connectors/aws/aws-s3`: `S3Request`, its `*ActionsExample.json`):
//!
//! ```json
//! {"actionDiscriminator": "uploadObject", "action": {"bucket": "...", "key": "...", "document": {...}},
//!  "configuration": {"region": "..."}, "authentication": {"type": "credentials", ...}}
//! ```
//!
//! translated to this project's own actions (`uploadObject` -> `uploadDocument`, `downloadObject`
//! -> `downloadDocument` with `asFile` as `createDocument`, `deleteObject` -> `deleteDocument`),
//! and the answer shaped so that Camunda's DTOs read it: `UploadResponse(bucket, key, link)`,
//! `DownloadResponse(bucket, key, element)` with `element` `{"document": ...}` or
//! `{"content": ...}` beside the documented `document` and `content`, `DeleteResponse(bucket,
//! key)`. `configuration` and `authentication` are the host's to decide on (it strips
//! `authentication` before the request reaches the plugin); the plugin ignores both.

use serde_json::{Map, Value};

use super::error::ActionError;

/// Camunda's three actions, by their discriminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CamundaAction {
    /// `uploadObject`.
    Upload,
    /// `downloadObject`.
    Download,
    /// `deleteObject`.
    Delete,
}

impl CamundaAction {
    fn parse(discriminator: &str) -> Option<Self> {
        match discriminator {
            "uploadObject" => Some(CamundaAction::Upload),
            "downloadObject" => Some(CamundaAction::Download),
            "deleteObject" => Some(CamundaAction::Delete),
            _ => None,
        }
    }

    /// The fields of Camunda's `action` object for it (`camunda/connectors`' `UploadObject`,
    /// `DownloadObject`, `DeleteObject` records, and the element template's inline `content`
    /// and `options`), each with the project's own name for it. Any other field is refused by
    /// name: copying it would let `action.action` replace the action this discriminator names.
    fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            CamundaAction::Upload => &[
                ("bucket", "bucket"),
                ("key", "key"),
                ("document", "document"),
                ("content", "content"),
                ("options", "options"),
            ],
            CamundaAction::Download => &[("bucket", "bucket"), ("key", "key"), ("asFile", "createDocument")],
            CamundaAction::Delete => &[("bucket", "bucket"), ("key", "key")],
        }
    }

    /// Camunda's discriminator.
    fn discriminator(self) -> &'static str {
        match self {
            CamundaAction::Upload => "uploadObject",
            CamundaAction::Download => "downloadObject",
            CamundaAction::Delete => "deleteObject",
        }
    }

    /// The project's own action that does it.
    fn own_name(self) -> &'static str {
        match self {
            CamundaAction::Upload => "uploadDocument",
            CamundaAction::Download => "downloadDocument",
            CamundaAction::Delete => "deleteDocument",
        }
    }
}

/// The request in the project's own form and which Camunda action it was, when `request` is in
/// Camunda's form (it has `actionDiscriminator`); `None` for the project's own form.
pub fn translate(request: &Value) -> Result<Option<(Value, CamundaAction)>, ActionError> {
    let Some(object) = request.as_object() else { return Ok(None) };
    let Some(discriminator) = object.get("actionDiscriminator") else { return Ok(None) };
    let action = discriminator.as_str().and_then(CamundaAction::parse).ok_or_else(|| {
        ActionError::UnknownAction(format!(
            "actionDiscriminator {discriminator} is not one of Camunda's S3 actions: uploadObject, \
             downloadObject, deleteObject"
        ))
    })?;
    let Some(fields) = object.get("action").and_then(Value::as_object) else {
        return Err(ActionError::InvalidField(
            "Camunda's request needs an \"action\" object with the action's fields".to_owned(),
        ));
    };
    let mut own = Map::new();
    own.insert("action".to_owned(), Value::String(action.own_name().to_owned()));
    for (name, value) in fields {
        let Some((_, own_name)) = action.fields().iter().find(|(camunda, _)| camunda == name) else {
            let known: Vec<&str> = action.fields().iter().map(|(camunda, _)| *camunda).collect();
            return Err(ActionError::InvalidField(format!(
                "{}: field `{name}` of \"action\" is not one of Camunda's fields for it ({}); the action is \
                 named by actionDiscriminator alone",
                action.discriminator(),
                known.join(", ")
            )));
        };
        own.insert((*own_name).to_owned(), value.clone());
    }
    Ok(Some((Value::Object(own), action)))
}

/// The project's answer to `action`, with what Camunda's DTO of it reads.
pub fn answer(action: CamundaAction, mut response: Map<String, Value>) -> Map<String, Value> {
    if action == CamundaAction::Download {
        if let Some(document) = response.get_mut("document").and_then(Value::as_object_mut) {
            // The runtime's spelling of the document type, beside the documentation's.
            document.insert("documentType".to_owned(), Value::String("camunda".to_owned()));
        }
        let element = match response.get("document") {
            Some(document) if !document.is_null() => {
                Value::Object(Map::from_iter([("document".to_owned(), document.clone())]))
            }
            _ => Value::Object(Map::from_iter([(
                "content".to_owned(),
                response.get("content").cloned().unwrap_or(Value::Null),
            )])),
        };
        response.insert("element".to_owned(), element);
    }
    response
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_and_reserved_fields_are_refused_by_name() {
        let table = [
            json!({"actionDiscriminator": "downloadObject", "action": {"action": "presign", "bucket": "b",
                "key": "k", "expiresIn": 604800}}),
            json!({"actionDiscriminator": "downloadObject", "action": {"bucket": "b", "key": "k",
                "createDocument": true}}),
            json!({"actionDiscriminator": "deleteObject", "action": {"bucket": "b", "key": "k", "method": "PUT"}}),
            json!({"actionDiscriminator": "uploadObject", "action": {"bucket": "b", "Action": "presign"}}),
        ];
        for request in table {
            let error = translate(&request).unwrap_err();
            let field = request["action"].as_object().unwrap().keys().find(|name| {
                !["bucket", "key", "document", "content", "options", "asFile"].contains(&name.as_str())
            });
            let message = error.to_string();
            assert!(message.contains(&format!("`{}`", field.unwrap())), "{message}");
            assert!(matches!(error, ActionError::InvalidField(_)), "{request}");
        }
    }

    #[test]
    fn camundas_requests_become_the_projects_own() {
        let table = [
            (
                json!({"actionDiscriminator": "uploadObject", "action": {"bucket": "b", "key": "k",
                    "document": {"storeId": "fs", "documentId": "d"}}, "configuration": {"region": "r"}}),
                json!({"action": "uploadDocument", "bucket": "b", "key": "k",
                    "document": {"storeId": "fs", "documentId": "d"}}),
            ),
            (
                json!({"actionDiscriminator": "downloadObject", "action": {"bucket": "b", "key": "k", "asFile": true}}),
                json!({"action": "downloadDocument", "bucket": "b", "key": "k", "createDocument": true}),
            ),
            (
                json!({"actionDiscriminator": "deleteObject", "action": {"bucket": "b", "key": "k"}}),
                json!({"action": "deleteDocument", "bucket": "b", "key": "k"}),
            ),
        ];
        for (camunda, own) in table {
            let (translated, _) = translate(&camunda).unwrap().unwrap();
            assert_eq!(translated, own);
        }
        assert!(translate(&json!({"action": "listBuckets"})).unwrap().is_none(), "the own form passes");
        let unknown = translate(&json!({"actionDiscriminator": "nope", "action": {}})).unwrap_err();
        assert!(unknown.to_string().contains("uploadObject"), "{unknown}");
        let missing = translate(&json!({"actionDiscriminator": "deleteObject"})).unwrap_err();
        assert!(missing.to_string().contains("\"action\" object"), "{missing}");
    }

    #[test]
    fn download_answers_carry_camundas_element() {
        let inline = json!({"document": null, "content": "hello", "contentType": "text/plain"});
        let answer = answer(CamundaAction::Download, inline.as_object().unwrap().clone());
        assert_eq!(answer["element"], json!({"content": "hello"}));
        let document = json!({"document": {"storeId": "fs", "documentId": "d"}, "content": null});
        let answer = super::answer(CamundaAction::Download, document.as_object().unwrap().clone());
        assert_eq!(answer["element"]["document"]["documentId"], "d");
        assert_eq!(answer["document"]["documentType"], "camunda");
    }
}
