//! Uploads of unknown length: one part in memory at a time, aborted on any failure.
//!
//! A stream that ends within the first part is stored with a plain PutObject; a longer one as a
//! multipart upload. If any step fails the upload is aborted, so no orphaned parts remain.

use crate::bindings::s3_connector::s3::types::{PutOptions, PutResult, S3Error};
use crate::bindings::wasi::io::streams::InputStream;
use crate::object_headers::put_headers;
use crate::operations::{Call, Operation, S3, check_object, put_object};
use crate::s3_error::{Subject, from_response};
use crate::stream_copy::read_up_to;
use crate::wire::Body;
use crate::xml;

/// The size of each part but the last (S3's minimum is 5 MiB).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// S3's maximum number of parts.
const MAX_PARTS: u32 = 10_000;

/// Uploads everything `source` yields until it ends.
pub fn upload_unknown_length(
    s3: &S3,
    bucket: &str,
    key: &str,
    source: &InputStream,
    options: &PutOptions,
) -> Result<PutResult, S3Error> {
    check_object(bucket, key)?;
    let (first, ended) = read_part(source)?;
    if ended {
        let body = if first.is_empty() { Body::Empty } else { Body::Bytes(&first) };
        return put_object(s3, bucket, key, body, options);
    }
    let mut create = Call::new(http::Method::POST, Some(bucket), Some(key), Operation::Write);
    create.query.push(("uploads", String::new()));
    create.headers = put_headers(options)?;
    let text = s3.send_for_xml(create, Body::Empty)?;
    let upload_id =
        xml::initiate_multipart_upload(&text).map_err(|e| S3Error::Other(e.to_string()))?.upload_id;

    match upload_parts(s3, bucket, key, &upload_id, source, first) {
        Ok(result) => Ok(result),
        Err(error) => {
            let mut abort = Call::new(http::Method::DELETE, Some(bucket), Some(key), Operation::Write);
            abort.query.push(("uploadId", upload_id.clone()));
            match s3.send(abort, Body::Empty) {
                Ok(_) => Err(error),
                Err(abort_error) => Err(S3Error::Other(format!(
                    "{}; aborting multipart upload {upload_id} also failed ({}): list and abort it by hand",
                    describe(&error),
                    describe(&abort_error)
                ))),
            }
        }
    }
}

fn upload_parts(
    s3: &S3,
    bucket: &str,
    key: &str,
    upload_id: &str,
    source: &InputStream,
    first: Vec<u8>,
) -> Result<PutResult, S3Error> {
    let mut parts = Vec::new();
    let mut part = first;
    let mut ended = false;
    while !part.is_empty() || parts.is_empty() {
        let number = parts.len() as u32 + 1;
        if number > MAX_PARTS {
            return Err(S3Error::InvalidRequest(format!(
                "the input is larger than {MAX_PARTS} parts of {PART_SIZE} bytes, S3's limit for one object"
            )));
        }
        let mut call = Call::new(http::Method::PUT, Some(bucket), Some(key), Operation::Write);
        call.query.push(("partNumber", number.to_string()));
        call.query.push(("uploadId", upload_id.to_owned()));
        let response = s3.send(call, Body::Bytes(&part))?;
        let etag = response
            .header("etag")
            .ok_or_else(|| S3Error::Other(format!("S3 answered part {number} without an ETag")))?
            .to_owned();
        parts.push((number, etag));
        if ended {
            break;
        }
        (part, ended) = read_part(source)?;
    }
    let mut complete = Call::new(http::Method::POST, Some(bucket), Some(key), Operation::Write);
    complete.query.push(("uploadId", upload_id.to_owned()));
    let body = xml::complete_multipart_upload_body(&parts);
    let text = s3.send_for_xml(complete, Body::Bytes(body.as_bytes()))?;
    // CompleteMultipartUpload can fail with a 200 status and an <Error> body.
    if xml::error_body(&text).is_some() {
        return Err(from_response(200, None, &text, Subject { bucket: Some(bucket), key: Some(key) }));
    }
    let completed = xml::complete_multipart_upload(&text).map_err(|e| S3Error::Other(e.to_string()))?;
    Ok(PutResult { etag: completed.etag, version_id: None })
}

fn read_part(source: &InputStream) -> Result<(Vec<u8>, bool), S3Error> {
    read_up_to(source, PART_SIZE)
        .map_err(|e| S3Error::Other(format!("reading the input failed: {e}; nothing was stored")))
}

fn describe(error: &S3Error) -> String {
    format!("{error:?}")
}
