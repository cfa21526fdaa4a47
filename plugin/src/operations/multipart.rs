//! The multipart upload requests, one each: create, upload a part (or copy one), complete,
//! abort, and the listings. Uploads of a whole stream built from them are
//! [`crate::transfers::multipart_upload`]'s.

use http::header::{HeaderName, HeaderValue};

use crate::bindings::s3_connector::s3::types::{
    ChecksumAlgorithm, CompletedPart, MultipartUpload, PartInfo, PutOptions, PutResult, S3Error,
};
use crate::protocol::checked_names::{Bucket, Object};
use crate::protocol::checksum_headers;
use crate::protocol::object_headers::{copy_source, put_headers};
use crate::protocol::s3_error::invalid;
use crate::protocol::xml;
use crate::transport::client::{Call, S3, S3Action};
use crate::transport::wire::Body;

/// S3's part numbers run from 1 to this.
const MAX_PARTS: u32 = 10_000;

fn xml_error(e: xml::XmlError) -> S3Error {
    S3Error::Other(e.to_string())
}

fn check_part_number(part_number: u32) -> Result<(), S3Error> {
    if !(1..=MAX_PARTS).contains(&part_number) {
        return Err(invalid(format!(
            "part number {part_number} is out of range; S3 parts are numbered 1 to {MAX_PARTS}"
        )));
    }
    Ok(())
}

/// A call on one upload: `?uploadId=` (and `partNumber=` first, for parts).
fn upload_call<'a>(
    action: S3Action,
    object: Object<'a>,
    upload_id: &str,
    part_number: Option<u32>,
) -> Call<'a> {
    let mut call = Call::on_object(action, object);
    if let Some(number) = part_number {
        call.query.push(("partNumber", number.to_string()));
    }
    call.query.push(("uploadId", upload_id.to_owned()));
    call
}

/// CreateMultipartUpload; returns the upload id.
pub fn create(s3: &S3, object: Object<'_>, options: &PutOptions) -> Result<String, S3Error> {
    let mut call = Call::on_object(S3Action::CreateMultipartUpload, object);
    call.query.push(("uploads", String::new()));
    call.headers = put_headers(options)?;
    if let Some(algorithm) = options.checksum {
        call.headers.extend(checksum_headers::for_multipart(algorithm));
    }
    let text = s3.send_for_xml(call, Body::Empty)?;
    Ok(xml::initiate_multipart_upload(&text).map_err(xml_error)?.upload_id)
}

/// The UploadPart call of part `number`.
pub fn part_call<'a>(object: Object<'a>, upload_id: &str, number: u32) -> Call<'a> {
    upload_call(S3Action::UploadPart, object, upload_id, Some(number))
}

/// UploadPart from a body, with the part's checksum (algorithm and value) for S3 to verify
/// when one is given; returns the part's ETag.
pub fn upload_part(
    s3: &S3,
    object: Object<'_>,
    upload_id: &str,
    part_number: u32,
    body: Body<'_>,
    checksum: Option<(ChecksumAlgorithm, &str)>,
) -> Result<String, S3Error> {
    check_part_number(part_number)?;
    let mut call = upload_call(S3Action::UploadPart, object, upload_id, Some(part_number));
    if let Some((algorithm, value)) = checksum {
        call.headers = checksum_headers::carrying(algorithm, value);
    }
    part_etag(s3.send(call, body)?, part_number)
}

fn part_etag(response: crate::transport::wire::Response, part_number: u32) -> Result<String, S3Error> {
    response
        .header("etag")
        .map(str::to_owned)
        .ok_or_else(|| S3Error::Other(format!("S3 answered part {part_number} without an ETag")))
}

/// UploadPartCopy, optionally of the inclusive byte range `first..=last` of the source, and
/// only while the source has the ETag `source_etag` when one is given.
#[allow(clippy::too_many_arguments)]
pub fn upload_part_copy(
    s3: &S3,
    source: Object<'_>,
    range: Option<(u64, u64)>,
    object: Object<'_>,
    upload_id: &str,
    part_number: u32,
    source_etag: Option<&str>,
) -> Result<String, S3Error> {
    check_part_number(part_number)?;
    let mut call = upload_call(S3Action::UploadPartCopy, object, upload_id, Some(part_number));
    call.headers.push(copy_source(source)?);
    if let Some((first, last)) = range {
        if first > last {
            return Err(invalid(format!("copy range {first}-{last} ends before it starts")));
        }
        let value = HeaderValue::from_str(&format!("bytes={first}-{last}")).map_err(invalid)?;
        call.headers.push((HeaderName::from_static("x-amz-copy-source-range"), value));
    }
    if let Some(etag) = source_etag {
        let value = HeaderValue::from_str(etag).map_err(invalid)?;
        call.headers.push((HeaderName::from_static("x-amz-copy-source-if-match"), value));
    }
    // UploadPartCopy can fail after a 200 status, with an <Error> body.
    call.error_in_ok = true;
    let text = s3.send_for_xml(call, Body::Empty)?;
    Ok(xml::copy_part(&text).map_err(xml_error)?.etag)
}

/// CompleteMultipartUpload.
pub fn complete(
    s3: &S3,
    object: Object<'_>,
    upload_id: &str,
    parts: &[CompletedPart],
) -> Result<PutResult, S3Error> {
    if parts.is_empty() {
        return Err(invalid("a multipart upload completes with at least one part"));
    }
    if parts.windows(2).any(|pair| pair[0].part_number >= pair[1].part_number) {
        return Err(invalid("parts must be listed in ascending part-number order, each once"));
    }
    let numbered: Vec<_> = parts.iter().map(|p| (p.part_number, p.etag.clone(), None)).collect();
    complete_numbered(s3, object, upload_id, &numbered, None)
}

/// CompleteMultipartUpload of parts given as (number, ETag, checksum element and value), with
/// the whole object's checksum when the upload asked for a full-object one, for S3 to check.
pub(crate) fn complete_numbered(
    s3: &S3,
    object: Object<'_>,
    upload_id: &str,
    numbered: &[(u32, String, Option<(String, String)>)],
    whole: Option<(ChecksumAlgorithm, String)>,
) -> Result<PutResult, S3Error> {
    let body = xml::complete_multipart_upload_body(numbered);
    let mut call = upload_call(S3Action::CompleteMultipartUpload, object, upload_id, None);
    if let Some((algorithm, value)) = whole {
        call.headers = checksum_headers::for_completion(algorithm, &value);
    }
    // CompleteMultipartUpload can fail with a 200 status and an <Error> body.
    call.error_in_ok = true;
    let text = s3.send_for_xml(call, Body::Bytes(body.as_bytes()))?;
    let completed = xml::complete_multipart_upload(&text).map_err(xml_error)?;
    Ok(PutResult { etag: completed.etag, version_id: None })
}

/// AbortMultipartUpload.
pub fn abort(s3: &S3, object: Object<'_>, upload_id: &str) -> Result<(), S3Error> {
    s3.send(upload_call(S3Action::AbortMultipartUpload, object, upload_id, None), Body::Empty).map(drop)
}

/// ListMultipartUploads, every page.
pub fn list_uploads(
    s3: &S3,
    bucket: Bucket<'_>,
    prefix: Option<&str>,
) -> Result<Vec<MultipartUpload>, S3Error> {
    let mut uploads = Vec::new();
    let mut markers: Option<(String, String)> = None;
    loop {
        let mut call = Call::on_bucket(S3Action::ListMultipartUploads, bucket);
        call.query.push(("uploads", String::new()));
        if let Some(prefix) = prefix {
            call.query.push(("prefix", prefix.to_owned()));
        }
        if let Some((key_marker, upload_id_marker)) = markers.take() {
            call.query.push(("key-marker", key_marker));
            call.query.push(("upload-id-marker", upload_id_marker));
        }
        let page = xml::list_multipart_uploads(&s3.send_for_xml(call, Body::Empty)?).map_err(xml_error)?;
        uploads.extend(page.upload.into_iter().map(|u| MultipartUpload {
            key: u.key,
            upload_id: u.upload_id,
            initiated: u.initiated,
        }));
        match (page.is_truncated, page.next_key_marker, page.next_upload_id_marker) {
            (true, Some(key), Some(id)) => markers = Some((key, id)),
            _ => return Ok(uploads),
        }
    }
}

/// ListParts, every page.
pub fn list_parts(s3: &S3, object: Object<'_>, upload_id: &str) -> Result<Vec<PartInfo>, S3Error> {
    let mut parts = Vec::new();
    let mut marker = None;
    loop {
        let mut call = upload_call(S3Action::ListParts, object, upload_id, None);
        if let Some(marker) = marker.take() {
            call.query.push(("part-number-marker", u32::to_string(&marker)));
        }
        let page = xml::list_parts(&s3.send_for_xml(call, Body::Empty)?).map_err(xml_error)?;
        parts.extend(page.part.into_iter().map(|p| PartInfo {
            part_number: p.part_number,
            etag: p.etag,
            size: p.size,
        }));
        match (page.is_truncated, page.next_part_number_marker) {
            (true, Some(next)) => marker = Some(next),
            _ => {
                // S3 lists parts in ascending order; some compatible servers do not.
                parts.sort_by_key(|p| p.part_number);
                return Ok(parts);
            }
        }
    }
}
