//! How results and errors look: one readable line each, or JSON with `--json`.

use serde_json::{Value, json};

use super::times;
use s3_connector_host::error::Error;
use s3_connector_host::types::{BucketInfo, ObjectInfo, ObjectSummary};

/// Prints an error on stderr: `s3-connector: MESSAGE`, or `{"error": {...}}` with `--json`.
pub fn print_error(error: &Error, json: bool) {
    if json {
        super::print::error_line(json!({ "error": { "code": error.code(), "message": error.to_string() } }));
    } else {
        super::print::error_line(format_args!("s3-connector: {error}"));
    }
}

/// Prints a warning on stderr: `s3-connector: warning: MESSAGE`, or with `--json` a JSON line
/// `{"warning": {"code", "message"}}`, so that stderr stays machine-readable.
pub fn print_warning(code: &str, message: &str, json: bool) {
    if !super::print::shows_problems() {
        return;
    }
    if json {
        super::print::error_line(json!({ "warning": { "code": code, "message": message } }));
    } else {
        super::print::error_line(format_args!("s3-connector: warning: {message}"));
    }
}

/// Prints the aws CLI's warning for an object it leaves out, as aws words it
/// (`warning: Skipping file ../x. File references a parent directory.`), or with `--json`
/// `{"warning": {"code": "skipped", "message", "object"}}`. Not under `--quiet`.
pub fn print_skip(object: &str, message: &str, json: bool) {
    if !super::print::shows_problems() {
        return;
    }
    if json {
        let warning = json!({ "warning": { "code": "skipped", "message": message, "object": object } });
        super::print::error_line(warning);
    } else {
        super::print::error_line(format_args!("warning: {message}"));
    }
}

/// An object's metadata as JSON.
pub fn object_info(info: &ObjectInfo) -> Value {
    let metadata: serde_json::Map<String, Value> =
        info.metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    json!({
        "key": info.key,
        "size": info.size,
        "etag": info.etag,
        "lastModified": info.last_modified.as_deref().map(times::iso_text),
        "contentType": info.content_type,
        "metadata": metadata,
        "storageClass": info.storage_class,
        "versionId": info.version_id,
        "cacheControl": info.cache_control,
        "contentDisposition": info.content_disposition,
        "contentEncoding": info.content_encoding,
        "serverSideEncryption": info.server_side_encryption,
        "sseKmsKeyId": info.sse_kms_key_id,
        "checksum": info.checksum.as_ref().map(|(algorithm, value)| json!({
            "algorithm": algorithm.s3_name(),
            "value": value,
        })),
    })
}

/// A bucket as JSON.
pub fn bucket(bucket: &BucketInfo) -> Value {
    json!({ "name": bucket.name, "creationDate": bucket.creation_date.as_deref().map(times::iso_text) })
}

/// A listed object as JSON.
pub fn summary(object: &ObjectSummary) -> Value {
    json!({
        "key": object.key,
        "size": object.size,
        "etag": object.etag,
        "lastModified": object.last_modified.as_deref().map(times::iso_text),
        "storageClass": object.storage_class,
    })
}

/// A listing line as `aws s3 ls` prints it, so that scripts cutting its columns work on both:
/// the local date and time (19 characters), the size right-aligned in 10 (as given: bytes, or
/// `ls --human-readable`'s text), the key.
pub fn summary_line(object: &ObjectSummary, prefix: &str, size: &str) -> String {
    let date = object.last_modified.as_deref().map(shown_date).unwrap_or_default();
    let name = object.key.strip_prefix(prefix).unwrap_or(&object.key);
    format!("{date:<19} {size:>10} {name}")
}

/// A common prefix's line, `PRE` where the size would be, as `aws s3 ls` prints it.
pub fn prefix_line(prefix: &str) -> String {
    format!("{:>30} {prefix}", "PRE")
}

/// S3's time in the local time zone, as `aws s3 ls` shows it.
fn shown_date(text: &str) -> String {
    times::parse(text).map(times::local).unwrap_or_else(|| text.to_owned())
}

/// A bucket line: date and name.
pub fn bucket_line(bucket: &BucketInfo) -> String {
    let date = bucket.creation_date.as_deref().map(shown_date).unwrap_or_default();
    format!("{date:<19} {}", bucket.name)
}

#[cfg(test)]
mod tests {
    use crate::upload_checksum::checksum_algorithm;

    #[test]
    fn checksum_names_round_trip_with_the_flag() {
        use s3_connector_host::types::ChecksumAlgorithm::{Crc32, Crc32c, Crc64nvme, Sha1, Sha256};
        for algorithm in [Crc32, Crc32c, Sha1, Sha256, Crc64nvme] {
            assert_eq!(checksum_algorithm(algorithm.s3_name()), Ok(algorithm));
        }
    }
}
