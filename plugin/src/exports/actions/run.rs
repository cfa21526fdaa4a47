//! Runs a parsed action with the S3 operations and the host's document store.
//!
//! Thin glue: every S3 request goes through [`crate::operations`] (and so through the host's
//! policy check); every JSON shape comes from plain functions in the sibling modules.

use std::time::SystemTime;

use s3_connector_rules::sigv4;
use serde_json::{Map, Value, json};

use super::bulk;
use super::content::{self, ContentRules};
use super::error::ActionError;
use super::request::{Action, DocumentRef, Encryption, InlineContent, ObjectOptions};
use crate::bindings::s3_connector::s3::types::{
    Conditions, CopyOptions, GetOptions, ListObjectsRequest, ObjectInfo, PutOptions, S3Error,
};
use crate::operations as op;
use crate::protocol::checked_names::{Bucket, Object};
use crate::protocol::http_date;
use crate::transfers::copy::copy_with;
use crate::transport::client::Access;
use crate::transport::client::S3;
use crate::transport::host_imports::{self, DocumentMetadata, Scope};
use crate::transport::wire::Body;

/// Runs `action`; the result is the response object without the tracked properties.
pub fn run(
    s3: &S3,
    action: Action,
    max_inline_bytes: u64,
    rules: ContentRules,
) -> Result<Map<String, Value>, ActionError> {
    let value = match action {
        Action::UploadDocument { bucket, key, document, content, options } => {
            upload(s3, Bucket::checked(&bucket)?, key, document, content, *options, max_inline_bytes)?
        }
        Action::DownloadDocument { bucket, key, create_document } => {
            download(s3, Object::checked(&bucket, &key)?, create_document, max_inline_bytes, rules)?
        }
        Action::DeleteDocument { bucket, key } => {
            op::delete_object(s3, Object::checked(&bucket, &key)?, None)?;
            json!({})
        }
        Action::CreateBucket { bucket } => {
            op::create_bucket(s3, Bucket::checked(&bucket)?)?;
            json!({})
        }
        Action::DeleteBucket { bucket } => {
            op::delete_bucket(s3, Bucket::checked(&bucket)?)?;
            json!({})
        }
        Action::ListBuckets {} => {
            let buckets = op::list_buckets(s3)?;
            let buckets: Vec<Value> = buckets
                .into_iter()
                .map(|b| json!({"name": b.name, "creationDate": b.creation_date}))
                .collect();
            json!({ "buckets": buckets })
        }
        Action::ListObjects { bucket, prefix, delimiter, max_keys, continuation_token } => {
            let request =
                ListObjectsRequest { prefix, delimiter, max_keys, continuation_token, start_after: None };
            let page = op::list_objects(s3, Bucket::checked(&bucket)?, &request)?;
            let objects: Vec<Value> = page
                .objects
                .into_iter()
                .map(|o| {
                    json!({"key": o.key, "size": o.size, "etag": o.etag, "lastModified": o.last_modified,
                           "storageClass": o.storage_class})
                })
                .collect();
            json!({
                "objects": objects,
                "commonPrefixes": page.common_prefixes,
                "isTruncated": page.is_truncated,
                "nextContinuationToken": page.next_continuation_token,
            })
        }
        Action::HeadObject { bucket, key } => {
            object_json(&op::head_object(s3, Object::checked(&bucket, &key)?, &GetOptions::default())?)
        }
        Action::CopyObject { source_bucket, source_key, bucket, key } => {
            let (source, target) =
                (Object::checked(&source_bucket, &source_key)?, Object::checked(&bucket, &key)?);
            // Any size: over 5 GiB the copy goes part by part (UploadPartCopy).
            let copy = copy_with(s3, source, target, &CopyOptions::default())?;
            json!({"sourceBucket": source_bucket, "sourceKey": source_key, "etag": copy.etag,
                   "lastModified": copy.last_modified})
        }
        Action::MoveObject { source_bucket, source_key, bucket, key } => {
            let (source, target) =
                (Object::checked(&source_bucket, &source_key)?, Object::checked(&bucket, &key)?);
            if source == target {
                return Err(ActionError::InvalidField(format!(
                    "moveObject: the source and the destination are both {target}; name another destination"
                )));
            }
            let copy = copy_with(s3, source, target, &CopyOptions::default())?;
            op::delete_object(s3, source, None)?;
            json!({"sourceBucket": source_bucket, "sourceKey": source_key, "etag": copy.etag})
        }
        Action::Presign { bucket, key, method, expires_in } => {
            let presign_method = op::presign_method_named(&method).ok_or_else(|| {
                ActionError::InvalidField(format!(
                    "presign: field \"method\" is {method:?}; use GET, PUT, DELETE or HEAD"
                ))
            })?;
            let url = op::presign(s3, Object::checked(&bucket, &key)?, presign_method, expires_in)?;
            json!({"url": url, "method": method.to_ascii_uppercase(), "expiresIn": expires_in})
        }
        Action::GetObjectTags { bucket, key } => {
            let tags: Map<String, Value> = op::get_object_tags(s3, Object::checked(&bucket, &key)?)?
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            json!({ "tags": tags })
        }
        Action::PutObjectTags { bucket, key, tags } => {
            let tags: Vec<(String, String)> = tags.into_iter().collect();
            op::put_object_tags(s3, Object::checked(&bucket, &key)?, &tags)?;
            json!({})
        }
        Action::TestConnection { bucket, prefix } => test_connection(s3, bucket.as_deref(), prefix),
        Action::DeleteObjects { bucket, keys, prefix } => {
            bulk::delete_objects(s3, Bucket::checked(&bucket)?, keys, prefix)?
        }
        Action::CopyPrefix { source_bucket, source_prefix, bucket, prefix } => {
            let (source, target) = (Bucket::checked(&source_bucket)?, Bucket::checked(&bucket)?);
            bulk::copy_prefix(s3, (source, &source_prefix), (target, &prefix))?
        }
        Action::SyncPrefix { source_bucket, source_prefix, bucket, prefix, dry_run, delete } => {
            let (source, target) = (Bucket::checked(&source_bucket)?, Bucket::checked(&bucket)?);
            bulk::sync_prefix(s3, (source, &source_prefix), (target, &prefix), dry_run, delete)?
        }
    };
    match value {
        Value::Object(map) => Ok(map),
        // Invariant: every arm above builds an object.
        other => Ok(Map::from_iter([("result".to_owned(), other)])),
    }
}

fn object_json(info: &ObjectInfo) -> Value {
    let metadata: Map<String, Value> =
        info.metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    // A HEAD's Last-Modified is an HTTP date; every other answer's time is ISO 8601 UTC, as
    // S3's listings write it. A time that is no HTTP date passes as S3 sent it.
    let last_modified =
        info.last_modified.as_deref().map(|t| http_date::iso(t).unwrap_or_else(|| t.to_owned()));
    json!({
        "size": info.size,
        "etag": info.etag,
        "lastModified": last_modified,
        "contentType": info.content_type,
        "metadata": metadata,
        "storageClass": info.storage_class,
        "versionId": info.version_id,
    })
}

fn put_options(options: ObjectOptions, content_type: Option<String>) -> PutOptions {
    let defaults = PutOptions::default();
    PutOptions {
        content_type: options.content_type.or(content_type),
        metadata: options.metadata.into_iter().collect(),
        content_disposition: options.content_disposition,
        cache_control: options.cache_control,
        storage_class: options.storage_class,
        tags: options.tags.into_iter().collect(),
        encryption: options.encryption.map(|e| match e {
            Encryption::S3Managed => crate::bindings::s3_connector::s3::types::Encryption::S3Managed,
            Encryption::Kms { kms_key_id } => {
                crate::bindings::s3_connector::s3::types::Encryption::Kms(kms_key_id)
            }
        }),
        conditions: Conditions {
            if_none_match: options.if_not_exists.then(|| "*".to_owned()),
            ..Conditions::default()
        },
        ..defaults
    }
}

fn upload(
    s3: &S3,
    bucket: Bucket<'_>,
    key: Option<String>,
    document: Option<DocumentRef>,
    content: Option<InlineContent>,
    options: ObjectOptions,
    max_inline_bytes: u64,
) -> Result<Value, ActionError> {
    let no_key = || {
        ActionError::InvalidField(
            "uploadDocument: give \"key\", or a document with a file name to use as the key".to_owned(),
        )
    };
    let (key, result, content_type) = match (document, content) {
        (Some(document), None) => {
            let (metadata, stream) = host_imports::open_document(&document.store_id, &document.document_id)
                .map_err(|e| ActionError::Document(format!("uploadDocument: {e}")))?;
            // The request's own metadata first: the engine may know better than the store.
            let key = key.or(document.metadata.file_name).or(metadata.file_name).ok_or_else(no_key)?;
            let options = put_options(options, document.metadata.content_type.or(metadata.content_type));
            // Up to the multipart threshold from memory, above it in parts: retried either way.
            let result = crate::transfers::multipart_upload::upload_stream(
                s3,
                bucket.object(&key)?,
                &stream,
                metadata.size,
                &options,
            )?;
            (key, result, options.content_type)
        }
        (None, Some(content)) => {
            let key = key.ok_or_else(no_key)?;
            let object = bucket.object(&key)?;
            let (bytes, implied) = content::to_bytes(&content)?;
            if bytes.len() as u64 > max_inline_bytes {
                return Err(ActionError::ContentTooLarge(format!(
                    "the inline content for {object} is {} bytes, over the {max_inline_bytes} bytes \
                     allowed inline; pass it as a \"document\" instead",
                    bytes.len()
                )));
            }
            let options = put_options(options, Some(implied.to_owned()));
            let body = if bytes.is_empty() { Body::Empty } else { Body::Bytes(&bytes) };
            (key.clone(), op::put_object(s3, object, body, &options)?, options.content_type)
        }
        (Some(_), Some(_)) | (None, None) => {
            return Err(ActionError::InvalidField(
                "uploadDocument: give exactly one of \"document\" and \"content\"".to_owned(),
            ));
        }
    };
    Ok(json!({
        "key": key,
        "link": s3.object_url(bucket.object(&key)?),
        "etag": result.etag,
        "versionId": result.version_id,
        "contentType": content_type,
    }))
}

fn download(
    s3: &S3,
    object: Object<'_>,
    create_document: bool,
    max_inline_bytes: u64,
    rules: ContentRules,
) -> Result<Value, ActionError> {
    let (info, response) = op::get_object_response(s3, object, &GetOptions::default())?;
    if create_document {
        let file_name = object.key().rsplit('/').next().filter(|name| !name.is_empty()).map(str::to_owned);
        let metadata =
            DocumentMetadata { content_type: info.content_type.clone(), size: Some(info.size), file_name };
        let (reference, sink) = host_imports::create_document(&metadata)
            .map_err(|e| ActionError::Document(format!("downloadDocument: {e}")))?;
        response.copy_checked_to(&sink)?;
        drop(sink);
        let document = json!({
            "storeId": reference.store_id,
            "documentId": reference.document_id,
            "metadata": {
                "contentType": reference.metadata.content_type,
                "size": reference.metadata.size,
                "fileName": reference.metadata.file_name,
            },
            "camunda.document.type": "camunda",
        });
        return Ok(json!({"document": document, "content": null, "contentType": info.content_type}));
    }
    if info.size > max_inline_bytes {
        return Err(too_large(object, info.size, max_inline_bytes));
    }
    // A cap beyond the guest's address space cannot be reached anyway.
    let limit = usize::try_from(max_inline_bytes).unwrap_or(usize::MAX);
    let expected = response.checksum_to_verify()?;
    let bytes = response.bytes(limit).map_err(|e| match e {
        S3Error::Other(_) => too_large(object, info.size, max_inline_bytes),
        other => ActionError::S3(other),
    })?;
    if let Some((algorithm, expected)) = expected {
        let actual = crate::protocol::checksum::compute(algorithm, &bytes);
        if actual != expected {
            return Err(ActionError::S3(S3Error::Other(format!(
                "{object}: the downloaded bytes have {} {actual}, S3 sent {expected}; the download is corrupt",
                crate::protocol::checksum::header_name(algorithm)
            ))));
        }
    }
    let content = content::content_of(rules, info.content_type.as_deref(), &bytes);
    Ok(json!({"document": null, "content": content, "contentType": info.content_type}))
}

fn too_large(object: Object<'_>, size: u64, cap: u64) -> ActionError {
    ActionError::ContentTooLarge(format!(
        "{object} is {size} bytes, over the {cap} bytes allowed inline; \
         set \"createDocument\": true to get it as a document"
    ))
}

/// Checks, in order, that the host gives credentials (which also checks the policy's scope)
/// and that S3 answers to them; reports each step rather than failing on the first.
fn test_connection(s3: &S3, bucket: Option<&str>, prefix: Option<String>) -> Value {
    let check = |ok: bool, message: String| json!({"ok": ok, "message": message});
    let asked = sigv4::signing_date(SystemTime::now()).map_err(S3Error::from).and_then(|signing_date| {
        let scope = Scope { bucket: bucket.map(str::to_owned), access: Access::List, signing_date };
        host_imports::signing_identity(&scope, s3.region())
    });
    let (credentials, policy) = match asked {
        Ok(identity) => (
            check(
                true,
                if identity.is_some() {
                    "the host supplied credentials".to_owned()
                } else {
                    "the host sends unsigned requests (anonymous access)".to_owned()
                },
            ),
            check(
                true,
                format!(
                    "the policy allows listing {}",
                    bucket.map_or("buckets".to_owned(), |b| format!("s3://{b}"))
                ),
            ),
        ),
        Err(S3Error::DeniedByHost(why)) => {
            (check(true, "not asked: the policy refused first".to_owned()), check(false, why))
        }
        Err(e) => {
            (check(false, ActionError::S3(e).to_string()), check(true, "the scope was allowed".to_owned()))
        }
    };
    let attempt = match (credentials["ok"].as_bool(), policy["ok"].as_bool()) {
        (Some(true), Some(true)) => Some(match bucket {
            Some(bucket) => {
                let request = ListObjectsRequest {
                    prefix,
                    delimiter: None,
                    max_keys: Some(1),
                    continuation_token: None,
                    start_after: None,
                };
                Bucket::checked(bucket)
                    .and_then(|checked| op::list_objects(s3, checked, &request))
                    .map(|_| format!("s3://{bucket} answered a listing"))
            }
            None => op::list_buckets(s3).map(|b| format!("ListBuckets answered with {} buckets", b.len())),
        }),
        _ => None,
    };
    let not_tried = || check(false, "not tried: the host gave no credentials for the scope".to_owned());
    let mut policy = policy;
    let mut bucket_check = None;
    let (endpoint, credentials) = match attempt {
        None => (not_tried(), credentials),
        Some(Ok(message)) => {
            bucket_check = bucket.map(|b| check(true, format!("s3://{b} exists")));
            (check(true, message), credentials)
        }
        Some(Err(S3Error::DeniedByHost(why))) => {
            policy = check(false, why);
            (not_tried(), credentials)
        }
        Some(Err(S3Error::AccessDenied(why))) => (check(true, "S3 answered".to_owned()), check(false, why)),
        Some(Err(S3Error::NoSuchBucket(why))) => {
            bucket_check = Some(check(false, why));
            (check(true, "S3 answered".to_owned()), credentials)
        }
        Some(Err(e)) => (check(false, ActionError::S3(e).to_string()), credentials),
    };
    let ok = [&endpoint, &credentials, &policy].into_iter().all(|c| c["ok"] == true)
        && bucket_check.as_ref().is_none_or(|c| c["ok"] == true);
    json!({"ok": ok, "endpoint": endpoint, "credentials": credentials, "policy": policy, "bucketCheck": bucket_check})
}
