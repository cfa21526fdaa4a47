//! The S3 operations, one request each (or one request per page): what each sends and how its
//! answer is read. Sending, signing and retries are [`crate::transport::client`]'s; transfers
//! of many requests (multipart uploads, parallel ranges, copies of any size) are in
//! [`crate::transfers`].

pub mod bucket_tagging;
pub mod multipart;

use std::time::Duration;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, RANGE};
use s3_connector_rules::sigv4::Payload;

use crate::bindings::s3_connector::s3::types::{
    BucketInfo, ByteRange, DeleteFailure, DeleteObjectsResult, GetOptions, ListObjectsRequest,
    ListObjectsResult, ObjectInfo, ObjectRef, ObjectSummary, ObjectVersion, PresignMethod, PresignRequest,
    PutOptions, PutResult, S3Error,
};
use crate::bindings::wasi::io::streams::OutputStream;
use crate::protocol::checked_names::{Bucket, Object};
use crate::protocol::s3_error::invalid;
use crate::protocol::{checksum_headers, object_headers, xml};
use crate::transport::client::{Call, S3, S3Action};
use crate::transport::wire::{Body, Response};
use crate::transport::{host_imports, range_source};

/// CreateBucket.
pub fn create_bucket(s3: &S3, bucket: Bucket<'_>) -> Result<(), S3Error> {
    let call = Call::on_bucket(S3Action::CreateBucket, bucket);
    // us-east-1 is the default location and AWS rejects it as an explicit constraint.
    let configuration = (s3.region() != "us-east-1").then(|| xml::create_bucket_body(s3.region()));
    let body = configuration.as_deref().map_or(Body::Empty, |xml| Body::Bytes(xml.as_bytes()));
    s3.send(call, body).map(drop)
}

/// DeleteBucket.
pub fn delete_bucket(s3: &S3, bucket: Bucket<'_>) -> Result<(), S3Error> {
    s3.send(Call::on_bucket(S3Action::DeleteBucket, bucket), Body::Empty).map(drop)
}

/// HeadBucket.
pub fn head_bucket(s3: &S3, bucket: Bucket<'_>) -> Result<(), S3Error> {
    s3.send(Call::on_bucket(S3Action::HeadBucket, bucket), Body::Empty).map(drop)
}

/// ListBuckets.
pub fn list_buckets(s3: &S3) -> Result<Vec<BucketInfo>, S3Error> {
    let text = s3.send_for_xml(Call::on_service(S3Action::ListBuckets), Body::Empty)?;
    let parsed = xml::list_buckets(&text).map_err(|e| S3Error::Other(e.to_string()))?;
    Ok(parsed
        .buckets
        .bucket
        .into_iter()
        .map(|b| BucketInfo { name: b.name, creation_date: b.creation_date })
        .collect())
}

/// PutObject with a body of known length (a stream or bytes).
pub fn put_object(
    s3: &S3,
    object: Object<'_>,
    body: Body<'_>,
    options: &PutOptions,
) -> Result<PutResult, S3Error> {
    let mut call = Call::on_object(S3Action::PutObject, object);
    call.headers = object_headers::put_headers(options)?;
    if matches!(body, Body::Empty) {
        call.headers.push((CONTENT_LENGTH, HeaderValue::from(0)));
    }
    let body = match (options.checksum, body) {
        (None, body) => body,
        // A stream is read once: its checksum goes in a trailer, computed as it is sent.
        (Some(algorithm), Body::Stream { source, length })
        | (Some(algorithm), Body::WithTrailer { source, length, .. }) => {
            checksum_headers::for_trailer(&mut call.headers, algorithm, length);
            Body::WithTrailer { source, length, algorithm }
        }
        // A range is read through guest memory a chunk at a time for its checksum, then
        // spliced by the host: the checksum goes ahead in a header.
        (Some(algorithm), Body::Range { source, offset, length }) => {
            let value = range_source::hash(source, offset, length, algorithm)?.finish();
            call.headers.extend(checksum_headers::carrying(algorithm, &value));
            body
        }
        (Some(algorithm), Body::Bytes(bytes)) => {
            call.headers.extend(checksum_headers::for_bytes(algorithm, bytes));
            body
        }
        (Some(algorithm), Body::Empty) => {
            call.headers.extend(checksum_headers::for_bytes(algorithm, &[]));
            body
        }
    };
    let response = s3.send(call, body)?;
    Ok(PutResult {
        etag: response.header("etag").map(str::to_owned),
        version_id: response.header("x-amz-version-id").map(str::to_owned),
    })
}

/// GetObject into `sink`, in one request (see [`crate::transfers::download`] for downloads in
/// parallel ranges).
pub fn get_object(
    s3: &S3,
    object: Object<'_>,
    sink: &OutputStream,
    options: &GetOptions,
) -> Result<ObjectInfo, S3Error> {
    let (info, response) = get_object_response(s3, object, options)?;
    response.copy_checked_to(sink)?;
    Ok(info)
}

/// GetObject up to the response head: the object's metadata, and the body still to read.
pub fn get_object_response(
    s3: &S3,
    object: Object<'_>,
    options: &GetOptions,
) -> Result<(ObjectInfo, Response), S3Error> {
    let mut call = Call::on_object(S3Action::GetObject, object);
    call.headers = object_headers::get_headers(options)?;
    match options.range {
        Some(range) => {
            let value = range_header(range)?;
            call.headers.push((RANGE, HeaderValue::from_str(&value).map_err(invalid)?));
        }
        // A whole object comes with its checksum, verified as the body streams.
        None => call.headers.push(checksum_headers::checksum_mode()),
    }
    if let Some(version) = &options.version_id {
        call.query.push(("versionId", version.clone()));
    }
    let response = s3.send(call, Body::Empty)?;
    Ok((object_info(object.key(), &response), response))
}

/// The `Range` header value of a byte range.
pub fn range_header(range: ByteRange) -> Result<String, S3Error> {
    match range {
        ByteRange::Closed((first, last)) if first <= last => Ok(format!("bytes={first}-{last}")),
        ByteRange::Closed((first, last)) => {
            Err(invalid(format!("byte range {first}-{last} ends before it starts; give first <= last")))
        }
        ByteRange::StartingAt(first) => Ok(format!("bytes={first}-")),
        ByteRange::Suffix(0) => Err(invalid("a suffix range of 0 bytes selects nothing; ask for at least 1")),
        ByteRange::Suffix(n) => Ok(format!("bytes=-{n}")),
    }
}

/// HeadObject.
pub fn head_object(s3: &S3, object: Object<'_>, options: &GetOptions) -> Result<ObjectInfo, S3Error> {
    let mut call = Call::on_object(S3Action::HeadObject, object);
    call.headers = object_headers::get_headers(options)?;
    call.headers.push(checksum_headers::checksum_mode());
    if let Some(version) = &options.version_id {
        call.query.push(("versionId", version.clone()));
    }
    Ok(object_info(object.key(), &s3.send(call, Body::Empty)?))
}

/// DeleteObject.
pub fn delete_object(s3: &S3, object: Object<'_>, version_id: Option<&str>) -> Result<(), S3Error> {
    let mut call = Call::on_object(S3Action::DeleteObject, object);
    if let Some(version) = version_id {
        call.query.push(("versionId", version.to_owned()));
    }
    s3.send(call, Body::Empty).map(drop)
}

/// ListObjectsV2, one page.
pub fn list_objects(
    s3: &S3,
    bucket: Bucket<'_>,
    request: &ListObjectsRequest,
) -> Result<ListObjectsResult, S3Error> {
    let mut call = Call::on_bucket(S3Action::ListObjectsV2, bucket);
    call.query.push(("list-type", "2".to_owned()));
    let optional = [
        ("prefix", request.prefix.clone()),
        ("delimiter", request.delimiter.clone()),
        ("max-keys", request.max_keys.map(|n| n.to_string())),
        ("continuation-token", request.continuation_token.clone()),
        ("start-after", request.start_after.clone()),
    ];
    call.query.extend(optional.into_iter().filter_map(|(name, value)| Some((name, value?))));
    let text = s3.send_for_xml(call, Body::Empty)?;
    let parsed = xml::list_objects_v2(&text).map_err(|e| S3Error::Other(e.to_string()))?;
    Ok(ListObjectsResult {
        objects: parsed
            .contents
            .into_iter()
            .map(|c| ObjectSummary {
                key: c.key,
                size: c.size,
                etag: c.etag,
                last_modified: c.last_modified,
                storage_class: c.storage_class,
            })
            .collect(),
        common_prefixes: parsed.common_prefixes.into_iter().map(|p| p.prefix).collect(),
        is_truncated: parsed.is_truncated,
        next_continuation_token: parsed.next_continuation_token,
    })
}

/// S3's limit on keys per DeleteObjects request.
const MAX_KEYS_PER_DELETE: usize = 1000;

/// DeleteObjects, 1000 keys per request; every key is reported as deleted or failed.
pub fn delete_objects(s3: &S3, bucket: Bucket<'_>, keys: &[String]) -> Result<DeleteObjectsResult, S3Error> {
    for key in keys {
        s3_connector_rules::validate_key(key).map_err(invalid)?;
    }
    let mut result = DeleteObjectsResult { deleted: Vec::new(), failed: Vec::new() };
    for chunk in keys.chunks(MAX_KEYS_PER_DELETE) {
        let body = xml::delete_objects_body(chunk.iter().map(String::as_str));
        let mut call = Call::on_bucket(S3Action::DeleteObjects, bucket);
        call.query.push(("delete", String::new()));
        // S3 requires an integrity check on DeleteObjects.
        call.headers.push(object_headers::content_md5(body.as_bytes()));
        call.headers.push((CONTENT_TYPE, HeaderValue::from_static("application/xml")));
        let text = s3.send_for_xml(call, Body::Bytes(body.as_bytes()))?;
        let parsed = xml::delete_result(&text).map_err(|e| S3Error::Other(e.to_string()))?;
        result.deleted.extend(parsed.deleted.into_iter().map(|d| d.key));
        result.failed.extend(parsed.error.into_iter().map(|e| DeleteFailure {
            key: e.key,
            code: e.code,
            message: e.message,
        }));
    }
    Ok(result)
}

/// GetObjectTagging.
pub fn get_object_tags(s3: &S3, object: Object<'_>) -> Result<Vec<(String, String)>, S3Error> {
    let mut call = Call::on_object(S3Action::GetObjectTagging, object);
    call.query.push(("tagging", String::new()));
    let text = s3.send_for_xml(call, Body::Empty)?;
    xml::tagging(&text).map_err(|e| S3Error::Other(e.to_string()))
}

/// S3's limit on tags per object.
const MAX_TAGS: usize = 10;

/// PutObjectTagging.
pub fn put_object_tags(s3: &S3, object: Object<'_>, tags: &[(String, String)]) -> Result<(), S3Error> {
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!("{} tags given; S3 allows at most {MAX_TAGS} per object", tags.len())));
    }
    let mut call = Call::on_object(S3Action::PutObjectTagging, object);
    call.query.push(("tagging", String::new()));
    let body = xml::tagging_body(tags);
    call.headers.push(object_headers::content_md5(body.as_bytes()));
    s3.send(call, Body::Bytes(body.as_bytes())).map(drop)
}

/// DeleteObjectTagging.
pub fn delete_object_tags(s3: &S3, object: Object<'_>) -> Result<(), S3Error> {
    let mut call = Call::on_object(S3Action::DeleteObjectTagging, object);
    call.query.push(("tagging", String::new()));
    s3.send(call, Body::Empty).map(drop)
}

/// GetBucketLocation; S3's empty answer means us-east-1.
pub fn get_bucket_location(s3: &S3, bucket: Bucket<'_>) -> Result<String, S3Error> {
    let mut call = Call::on_bucket(S3Action::GetBucketLocation, bucket);
    call.query.push(("location", String::new()));
    let region = xml::bucket_location(&s3.send_for_xml(call, Body::Empty)?)
        .map_err(|e| S3Error::Other(e.to_string()))?;
    Ok(if region.is_empty() { "us-east-1".to_owned() } else { region })
}

/// ListObjectVersions, every page.
pub fn list_object_versions(
    s3: &S3,
    bucket: Bucket<'_>,
    prefix: Option<&str>,
) -> Result<Vec<ObjectVersion>, S3Error> {
    let mut versions = Vec::new();
    let mut markers: Option<(String, String)> = None;
    loop {
        let mut call = Call::on_bucket(S3Action::ListObjectVersions, bucket);
        call.query.push(("versions", String::new()));
        if let Some(prefix) = prefix {
            call.query.push(("prefix", prefix.to_owned()));
        }
        if let Some((key, version)) = markers.take() {
            call.query.push(("key-marker", key));
            call.query.push(("version-id-marker", version));
        }
        let page = xml::list_versions(&s3.send_for_xml(call, Body::Empty)?)
            .map_err(|e| S3Error::Other(e.to_string()))?;
        let (mut truncated, mut next_key, mut next_version) = (false, None, None);
        for entry in page.entries {
            let (item, is_delete_marker) = match entry {
                xml::VersionEntry::Version(item) => (item, false),
                xml::VersionEntry::DeleteMarker(item) => (item, true),
                xml::VersionEntry::IsTruncated(value) => {
                    truncated = value;
                    continue;
                }
                xml::VersionEntry::NextKeyMarker(key) => {
                    next_key = Some(key);
                    continue;
                }
                xml::VersionEntry::NextVersionIdMarker(version) => {
                    next_version = Some(version);
                    continue;
                }
                xml::VersionEntry::Other => continue,
            };
            versions.push(ObjectVersion {
                key: item.key,
                version_id: item.version_id,
                is_latest: item.is_latest,
                is_delete_marker,
                size: item.size,
                etag: item.etag,
                last_modified: item.last_modified,
            });
        }
        match (truncated, next_key, next_version) {
            (true, Some(key), Some(version)) => markers = Some((key, version)),
            _ => return Ok(versions),
        }
    }
}

/// S3's limit on a presigned URL's lifetime.
pub const MAX_PRESIGN_SECONDS: u32 = 7 * 24 * 3600;

/// The action a presigned URL for `method` grants: the plugin's one reading of the contract's
/// presign methods.
fn presign_action(method: PresignMethod) -> S3Action {
    match method {
        PresignMethod::Get => S3Action::GetObject,
        PresignMethod::Head => S3Action::HeadObject,
        PresignMethod::Put => S3Action::PutObject,
        PresignMethod::Delete => S3Action::DeleteObject,
    }
}

/// The presign method an HTTP method's name names (`GET`, `head`, ...), as JSON actions write
/// it; the names are S3's ([`S3Action::presigned`]).
pub fn presign_method_named(name: &str) -> Option<PresignMethod> {
    let action = S3Action::presigned(name)?;
    [PresignMethod::Get, PresignMethod::Head, PresignMethod::Put, PresignMethod::Delete]
        .into_iter()
        .find(|method| presign_action(*method) == action)
}

/// A presigned URL for one method on one object: the host's where it presigns (the `plugin`
/// world), else signed here.
pub fn presign(
    s3: &S3,
    object: Object<'_>,
    method: PresignMethod,
    expires_in_seconds: u32,
) -> Result<String, S3Error> {
    if expires_in_seconds == 0 || expires_in_seconds > MAX_PRESIGN_SECONDS {
        return Err(invalid(format!(
            "expiry of {} seconds is out of range; presigned URLs last 1 to {MAX_PRESIGN_SECONDS} seconds (7 days)",
            expires_in_seconds
        )));
    }
    let request = PresignRequest {
        method,
        object: ObjectRef { bucket: object.bucket().name().to_owned(), key: object.key().to_owned() },
        expires_in_seconds,
    };
    if let Some(presigned) = host_imports::presigned_by_host(&request) {
        return presigned;
    }
    let call = Call::on_object(presign_action(method), object);
    let expires_in = Duration::from_secs(u64::from(expires_in_seconds));
    let (signed, _) = s3.authorize(&call, None, Payload::Unsigned, Some(expires_in))?;
    Ok(signed.uri().to_string())
}

/// Object metadata from the headers of a GET or HEAD response.
pub fn object_info(key: &str, response: &Response) -> ObjectInfo {
    let header = |name: &str| response.header(name).map(str::to_owned);
    let content_range = header("content-range");
    // For a range, the whole object's size is after the slash of `bytes a-b/size`.
    let size = content_range
        .as_deref()
        .and_then(|r| r.rsplit_once('/'))
        .and_then(|(_, total)| total.parse().ok())
        .or_else(|| response.header("content-length").and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    let metadata = response
        .headers()
        .filter_map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            name.strip_prefix("x-amz-meta-").map(|n| (n.to_owned(), value.to_owned()))
        })
        .collect();
    ObjectInfo {
        key: key.to_owned(),
        size,
        etag: header("etag").unwrap_or_default(),
        last_modified: header("last-modified"),
        content_type: header("content-type"),
        metadata,
        storage_class: header("x-amz-storage-class"),
        version_id: header("x-amz-version-id"),
        content_range,
        checksum: response.full_object_checksum(),
        cache_control: header("cache-control"),
        content_disposition: header("content-disposition"),
        content_encoding: header("content-encoding"),
        server_side_encryption: header("x-amz-server-side-encryption"),
        sse_kms_key_id: header("x-amz-server-side-encryption-aws-kms-key-id"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_headers_or_errors() {
        assert_eq!(range_header(ByteRange::Closed((0, 9))).unwrap(), "bytes=0-9");
        assert_eq!(range_header(ByteRange::StartingAt(5)).unwrap(), "bytes=5-");
        assert_eq!(range_header(ByteRange::Suffix(3)).unwrap(), "bytes=-3");
        assert!(
            matches!(range_header(ByteRange::Closed((9, 0))), Err(S3Error::InvalidRequest(m)) if m.contains("9-0"))
        );
        assert!(matches!(range_header(ByteRange::Suffix(0)), Err(S3Error::InvalidRequest(_))));
    }
}
