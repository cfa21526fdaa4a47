//! The JSON requests of the `actions` interface, parsed and checked before anything is sent.
//!
//! Field names are camelCase and keep Camunda's (`bucket`, `key`, `document`,
//! `createDocument`) and Mendix's (`maxKeys`, `continuationToken`, `sourceBucket`) names.
//! Unknown fields are refused, so a typo (`bukcet`) is an error and not a silently ignored option.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::ActionError;

/// Every action, by its `action` name.
pub const ACTION_NAMES: &[&str] = &[
    "uploadDocument",
    "downloadDocument",
    "deleteDocument",
    "createBucket",
    "deleteBucket",
    "listBuckets",
    "listObjects",
    "headObject",
    "copyObject",
    "moveObject",
    "presign",
    "getObjectTags",
    "putObjectTags",
    "testConnection",
    "deleteObjects",
    "copyPrefix",
    "syncPrefix",
];

/// One action request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
// Deserialised externally tagged (`{"listObjects": {...}}`, see [`parse`]), which keeps the
// path of a bad field; an internally tagged enum buffers its fields and loses it.
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Action {
    /// Camunda's upload: a document (or inline content) to `bucket`/`key`.
    UploadDocument {
        /// The bucket.
        bucket: String,
        /// The key; the document's file name when absent.
        key: Option<String>,
        /// The document to upload.
        document: Option<DocumentRef>,
        /// Inline content, instead of a document (small payloads).
        content: Option<InlineContent>,
        /// Options of the new object (boxed: they are large and usually absent).
        #[serde(default)]
        options: Box<ObjectOptions>,
    },
    /// Camunda's download: into a new document, or inline.
    DownloadDocument {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// True: the content goes into a new document; false: inline in the response.
        #[serde(default)]
        create_document: bool,
    },
    /// Camunda's delete.
    DeleteDocument {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// CreateBucket.
    CreateBucket {
        /// The bucket.
        bucket: String,
    },
    /// DeleteBucket (it must be empty).
    DeleteBucket {
        /// The bucket.
        bucket: String,
    },
    /// ListBuckets.
    ListBuckets {},
    /// ListObjectsV2, one page.
    ListObjects {
        /// The bucket.
        bucket: String,
        /// Only keys under this prefix.
        prefix: Option<String>,
        /// Group keys into common prefixes at this delimiter (usually `/`).
        delimiter: Option<String>,
        /// At most this many entries (S3 caps it at 1000).
        max_keys: Option<u32>,
        /// The `nextContinuationToken` of the previous page.
        continuation_token: Option<String>,
    },
    /// HeadObject.
    HeadObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// CopyObject.
    CopyObject {
        /// The source bucket.
        source_bucket: String,
        /// The source key.
        source_key: String,
        /// The destination bucket.
        bucket: String,
        /// The destination key.
        key: String,
    },
    /// CopyObject, then DeleteObject of the source.
    MoveObject {
        /// The source bucket.
        source_bucket: String,
        /// The source key.
        source_key: String,
        /// The destination bucket.
        bucket: String,
        /// The destination key.
        key: String,
    },
    /// A presigned URL.
    Presign {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// `GET` (default), `PUT`, `DELETE` or `HEAD`.
        #[serde(default = "default_method")]
        method: String,
        /// Lifetime in seconds, 1 to 604800 (default 3600).
        #[serde(default = "default_expiry")]
        expires_in: u32,
    },
    /// GetObjectTagging.
    GetObjectTags {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// PutObjectTagging (replaces the object's tags).
    PutObjectTags {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The tags.
        tags: BTreeMap<String, String>,
    },
    /// DeleteObjects: the keys given, or every key under a prefix; a result per key.
    DeleteObjects {
        /// The bucket.
        bucket: String,
        /// The keys to delete (exactly one of `keys` and `prefix`).
        keys: Option<Vec<String>>,
        /// Every key starting with this (exactly one of `keys` and `prefix`).
        prefix: Option<String>,
    },
    /// Server-side copies of every object under a prefix to another prefix.
    CopyPrefix {
        /// The source bucket.
        source_bucket: String,
        /// Every key starting with this is copied.
        source_prefix: String,
        /// The destination bucket.
        bucket: String,
        /// What replaces `sourcePrefix` in each key.
        prefix: String,
    },
    /// The destination prefix made like the source: objects missing or different (size or
    /// ETag) are copied server-side; with `delete`, objects the source lacks are deleted after.
    SyncPrefix {
        /// The source bucket.
        source_bucket: String,
        /// The source prefix.
        source_prefix: String,
        /// The destination bucket.
        bucket: String,
        /// The destination prefix.
        prefix: String,
        /// Report what would be done, do nothing.
        #[serde(default)]
        dry_run: bool,
        /// Also delete what the source lacks.
        #[serde(default)]
        delete: bool,
    },
    /// Checks the endpoint, the credentials and the policy, and says which worked.
    TestConnection {
        /// A bucket to check access to (ListObjectsV2 of one key); without one, ListBuckets.
        bucket: Option<String>,
        /// The prefix to list, for policies that allow only part of the bucket.
        prefix: Option<String>,
    },
}

fn default_method() -> String {
    "GET".to_owned()
}

fn default_expiry() -> u32 {
    3600
}

impl Action {
    /// The bucket and key the action is about, for errors and tracked properties.
    pub fn subject(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Action::UploadDocument { bucket, key, document, .. } => {
                let file_name = document.as_ref().and_then(|d| d.metadata.file_name.as_deref());
                (Some(bucket), key.as_deref().or(file_name))
            }
            Action::DownloadDocument { bucket, key, .. }
            | Action::DeleteDocument { bucket, key }
            | Action::HeadObject { bucket, key }
            | Action::CopyObject { bucket, key, .. }
            | Action::MoveObject { bucket, key, .. }
            | Action::Presign { bucket, key, .. }
            | Action::GetObjectTags { bucket, key }
            | Action::PutObjectTags { bucket, key, .. } => (Some(bucket), Some(key)),
            Action::CreateBucket { bucket }
            | Action::DeleteBucket { bucket }
            | Action::ListObjects { bucket, .. } => (Some(bucket), None),
            Action::TestConnection { bucket, .. } => (bucket.as_deref(), None),
            Action::DeleteObjects { bucket, .. }
            | Action::CopyPrefix { bucket, .. }
            | Action::SyncPrefix { bucket, .. } => (Some(bucket), None),
            Action::ListBuckets {} => (None, None),
        }
    }
}

/// Camunda's document reference. Unknown fields (Camunda adds `contentHash`, `expiresAt`,
/// custom properties) are accepted and ignored, so references from newer engines still work.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRef {
    /// The store, for example `fs`.
    pub store_id: String,
    /// The document's id in that store.
    pub document_id: String,
    /// What the engine knows about it.
    #[serde(default)]
    pub metadata: DocumentMetadata,
}

/// A document's metadata, as Camunda sends it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentMetadata {
    /// The media type.
    pub content_type: Option<String>,
    /// The size in bytes.
    pub size: Option<u64>,
    /// The file name.
    pub file_name: Option<String>,
}

/// Content carried in the JSON itself, in one of three encodings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum InlineContent {
    /// A JSON value, stored as `application/json`.
    Json(serde_json::Value),
    /// Text, stored as `text/plain; charset=utf-8` unless `contentType` says otherwise.
    Text(String),
    /// Bytes in standard base64.
    Base64(String),
}

/// Options a new object can have.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectOptions {
    /// The object's Content-Type; else the document's, else guessed from the key.
    pub content_type: Option<String>,
    /// User metadata (`x-amz-meta-*`).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Tags of the new object.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The storage class, for example `STANDARD_IA`.
    pub storage_class: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// Server-side encryption.
    pub encryption: Option<Encryption>,
    /// Write only if no object exists under the key (`If-None-Match: *`).
    #[serde(default)]
    pub if_not_exists: bool,
}

/// Server-side encryption with keys S3 or KMS manage (SSE-C needs a key in the request, which
/// JSON documents tend to log, so actions do not offer it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Encryption {
    /// SSE-S3 (`AES256`).
    #[serde(rename = "AES256")]
    S3Managed,
    /// SSE-KMS, with a key id or ARN (the account's default key when absent).
    #[serde(rename = "aws:kms", rename_all = "camelCase")]
    Kms {
        /// The KMS key id or ARN.
        kms_key_id: Option<String>,
    },
}

/// The field of any action, in either form, that makes its requests say
/// `x-amz-request-payer: requester`.
pub const REQUEST_PAYER: &str = "requestPayer";

/// Whether `request` (parsed) asks to pay for a requester-pays bucket: `"requestPayer":
/// "requester"`, the only value S3 knows.
pub fn requester_pays(request: &serde_json::Value) -> Result<bool, ActionError> {
    match request.get(REQUEST_PAYER) {
        None | Some(serde_json::Value::Null) => Ok(false),
        Some(serde_json::Value::String(payer)) if payer == "requester" => Ok(true),
        Some(other) => Err(ActionError::InvalidField(format!(
            "field \"{REQUEST_PAYER}\" is {other}; the only payer S3 takes is \"requester\""
        ))),
    }
}

/// Parses a request: JSON syntax first, then the action name, then its fields, so that each
/// error names what is wrong: the position, the unknown action (with the known ones), or the
/// field and the action.
pub fn parse(request: &str) -> Result<Action, ActionError> {
    let value: serde_json::Value = serde_json::from_str(request)
        .map_err(|e| ActionError::InvalidJson(format!("the request is not valid JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(ActionError::InvalidJson(
            "the request must be a JSON object with an \"action\" field".to_owned(),
        ));
    };
    let name = match object.get("action") {
        Some(serde_json::Value::String(name)) => name.clone(),
        Some(other) => {
            return Err(ActionError::InvalidField(format!(
                "field \"action\" must be a string naming the action, not {other}"
            )));
        }
        None => {
            return Err(ActionError::InvalidField(format!(
                "the request has no \"action\" field; give one of: {}",
                ACTION_NAMES.join(", ")
            )));
        }
    };
    if !ACTION_NAMES.contains(&name.as_str()) {
        return Err(ActionError::UnknownAction(format!(
            "unknown action {name:?}; the actions are: {}",
            ACTION_NAMES.join(", ")
        )));
    }
    let mut fields = object.clone();
    fields.remove("action");
    // A setting of the call, not of the action: read by `requester_pays`.
    fields.remove(REQUEST_PAYER);
    let tagged = serde_json::Value::Object(serde_json::Map::from_iter([(name.clone(), fields.into())]));
    serde_path_to_error::deserialize(tagged).map_err(|e| {
        // The path starts with the action's name, which the message already gives.
        let path = e.path().to_string();
        let field = path.split_once('.').map(|(_, rest)| rest.to_owned()).unwrap_or_default();
        let inner = e.into_inner();
        let at = if field.is_empty() { String::new() } else { format!(" (field \"{field}\")") };
        ActionError::InvalidField(format!("action {name:?}: {inner}{at}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camunda_requests_parse() {
        let upload = parse(
            r#"{"action": "uploadDocument", "bucket": "b", "document": {"storeId": "fs", "documentId": "d1",
                "metadata": {"contentType": "application/pdf", "size": 3, "fileName": "a.pdf",
                "expiresAt": null}, "camunda.document.type": "camunda", "contentHash": "x"}}"#,
        )
        .unwrap();
        assert_eq!(upload.subject(), (Some("b"), Some("a.pdf")));
        let Action::UploadDocument { document: Some(document), key: None, .. } = upload else {
            panic!("{upload:?}")
        };
        assert_eq!(document.metadata.size, Some(3));

        let download = parse(r#"{"action":"downloadDocument","bucket":"b","key":"k","createDocument":true}"#);
        assert_eq!(
            download.unwrap(),
            Action::DownloadDocument { bucket: "b".into(), key: "k".into(), create_document: true }
        );
        let listing = parse(r#"{"action":"listObjects","bucket":"b","maxKeys":5,"continuationToken":"t"}"#);
        assert!(matches!(listing.unwrap(), Action::ListObjects { max_keys: Some(5), .. }));
        let presign = parse(r#"{"action":"presign","bucket":"b","key":"k"}"#).unwrap();
        assert!(matches!(presign, Action::Presign { expires_in: 3600, ref method, .. } if method == "GET"));
        let kms = parse(
            r#"{"action":"uploadDocument","bucket":"b","key":"k","content":{"text":"hi"},
                "options":{"encryption":{"type":"aws:kms","kmsKeyId":"alias/x"},"metadata":{"a":"1"}}}"#,
        )
        .unwrap();
        let Action::UploadDocument { options, content: Some(InlineContent::Text(text)), .. } = kms else {
            panic!()
        };
        assert_eq!(text, "hi");
        assert_eq!(options.encryption, Some(Encryption::Kms { kms_key_id: Some("alias/x".into()) }));
    }

    #[test]
    fn bad_requests_name_the_problem() {
        let table: &[(&str, &str, &[&str])] = &[
            ("{", "invalid-json", &["not valid JSON"]),
            ("[1]", "invalid-json", &["JSON object"]),
            (r#"{"bucket":"b"}"#, "invalid-field", &["no \"action\"", "uploadDocument"]),
            (r#"{"action":7}"#, "invalid-field", &["must be a string"]),
            (r#"{"action":"upload"}"#, "unknown-action", &["\"upload\"", "uploadDocument"]),
            (r#"{"action":"deleteDocument","bucket":"b"}"#, "invalid-field", &["deleteDocument", "`key`"]),
            (
                r#"{"action":"listObjects","bucket":"b","maxKeys":"10"}"#,
                "invalid-field",
                &["listObjects", "maxKeys", "u32"],
            ),
            (r#"{"action":"headObject","bukcet":"b","key":"k"}"#, "invalid-field", &["`bukcet`"]),
            (
                r#"{"action":"uploadDocument","bucket":"b","options":{"colour":1}}"#,
                "invalid-field",
                &["`colour`", "options"],
            ),
        ];
        for (request, code, fragments) in table {
            let error = parse(request).unwrap_err();
            assert_eq!(error.code().as_str(), *code, "{request}: {error}");
            for fragment in *fragments {
                assert!(error.to_string().contains(fragment), "{request}: {error} lacks {fragment}");
            }
        }
    }

    #[test]
    fn every_action_name_parses_to_its_variant() {
        for name in ACTION_NAMES {
            let error = parse(&format!(r#"{{"action":"{name}","nonsense":1}}"#)).unwrap_err();
            assert_eq!(error.code().as_str(), "invalid-field", "{name}: {error}");
        }
    }
}
