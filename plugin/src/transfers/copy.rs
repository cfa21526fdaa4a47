//! Server-side copies: one CopyObject up to S3's 5 GiB limit, a multipart upload of
//! UploadPartCopy ranges above it; source conditions; metadata kept or replaced. The headers,
//! ranges and the self-copy rule are pure functions, table-tested.

use http::header::{HeaderName, HeaderValue};

use crate::bindings::s3_connector::s3::types::{
    Conditions, CopyOptions, CopyResult, GetOptions, PutOptions, S3Error,
};
use crate::operations::head_object;
use crate::operations::multipart;
use crate::protocol::checked_names::Object;
use crate::protocol::object_headers::{Headers, copy_source, put_headers};
use crate::protocol::s3_error::invalid;
use crate::protocol::xml;
use crate::transfers::transfer_plan;
use crate::transport::client::{Call, S3, S3Action};
use crate::transport::wire::Body;

/// The largest object CopyObject copies in one request, and the largest UploadPartCopy range.
pub const MAX_SINGLE_COPY: u64 = 5 * 1024 * 1024 * 1024;

/// Refuses a copy of an object onto itself that changes nothing: S3 answers it with an error.
pub fn check_not_onto_itself(
    source: Object<'_>,
    target: Object<'_>,
    options: &CopyOptions,
) -> Result<(), S3Error> {
    if source == target && options.metadata.is_none() {
        return Err(invalid(format!(
            "copying {target} onto itself without new metadata would change nothing (S3 refuses it); \
             give metadata to replace, or another destination"
        )));
    }
    Ok(())
}

/// The source conditions as `x-amz-copy-source-if-*` headers.
pub fn source_condition_headers(conditions: &Conditions) -> Result<Headers, S3Error> {
    let all = [
        ("x-amz-copy-source-if-match", "source if-match", &conditions.if_match),
        ("x-amz-copy-source-if-none-match", "source if-none-match", &conditions.if_none_match),
        ("x-amz-copy-source-if-modified-since", "source if-modified-since", &conditions.if_modified_since),
        (
            "x-amz-copy-source-if-unmodified-since",
            "source if-unmodified-since",
            &conditions.if_unmodified_since,
        ),
    ];
    let mut headers = Headers::new();
    for (name, what, text) in all {
        if let Some(text) = text {
            let value = HeaderValue::from_str(text).map_err(|_| {
                invalid(format!("{what} {text:?} is not a valid header value; use printable ASCII"))
            })?;
            headers.push((HeaderName::from_static(name), value));
        }
    }
    Ok(headers)
}

/// The options of a new object with only a content type and metadata.
pub fn object_options(content_type: Option<String>, metadata: Vec<(String, String)>) -> PutOptions {
    PutOptions { content_type, metadata, ..PutOptions::default() }
}

/// `x-amz-metadata-directive: REPLACE` with the new metadata and content type, or nothing.
pub fn replace_metadata_headers(options: &CopyOptions) -> Result<Headers, S3Error> {
    let Some(metadata) = &options.metadata else {
        if options.content_type.is_some() {
            return Err(invalid(
                "a content type on a copy replaces the metadata; give metadata too (may be empty)",
            ));
        }
        return Ok(Headers::new());
    };
    let mut headers =
        vec![(HeaderName::from_static("x-amz-metadata-directive"), HeaderValue::from_static("REPLACE"))];
    headers.extend(put_headers(&object_options(options.content_type.clone(), metadata.clone()))?);
    Ok(headers)
}

/// One CopyObject with extra headers (conditions, metadata directive).
pub fn single(
    s3: &S3,
    source: Object<'_>,
    target: Object<'_>,
    extra: Headers,
) -> Result<CopyResult, S3Error> {
    let mut call = Call::on_object(S3Action::CopyObject, target);
    call.headers.push(copy_source(source)?);
    call.headers.extend(extra);
    // CopyObject can fail after a 200 status, with an <Error> body.
    call.error_in_ok = true;
    let text = s3.send_for_xml(call, Body::Empty)?;
    let parsed = xml::copy_object(&text).map_err(|e| S3Error::Other(e.to_string()))?;
    Ok(CopyResult { etag: parsed.etag, last_modified: parsed.last_modified, version_id: None })
}

/// A copy of any size with options (see the contract's `copy-object-with`).
pub fn copy_with(
    s3: &S3,
    source: Object<'_>,
    target: Object<'_>,
    options: &CopyOptions,
) -> Result<CopyResult, S3Error> {
    check_not_onto_itself(source, target, options)?;
    let replace = replace_metadata_headers(options)?;
    let head_options = GetOptions { conditions: options.source_conditions.clone(), ..GetOptions::default() };
    let info = head_object(s3, source, &head_options)?;
    if info.size <= MAX_SINGLE_COPY {
        let mut extra = source_condition_headers(&options.source_conditions)?;
        extra.extend(replace);
        return single(s3, source, target, extra);
    }
    // A multipart copy does not carry metadata over: the new upload gets it explicitly.
    let new_object = match &options.metadata {
        Some(metadata) => object_options(options.content_type.clone(), metadata.clone()),
        None => object_options(info.content_type.clone(), info.metadata.clone()),
    };
    let upload_id = multipart::create(s3, target, &new_object)?;
    let copied = copy_parts(s3, source, target, &upload_id, info.size, &info.etag);
    match copied {
        Ok(result) => Ok(result),
        Err(error) => match multipart::abort(s3, target, &upload_id) {
            Ok(()) => Err(error),
            Err(abort_error) => Err(S3Error::Other(format!(
                "{error:?}; aborting multipart copy {upload_id} also failed ({abort_error:?}): list and abort it by hand"
            ))),
        },
    }
}

fn copy_parts(
    s3: &S3,
    source: Object<'_>,
    target: Object<'_>,
    upload_id: &str,
    size: u64,
    source_etag: &str,
) -> Result<CopyResult, S3Error> {
    let mut parts = Vec::new();
    for (index, range) in transfer_plan::ranges(size, MAX_SINGLE_COPY).into_iter().enumerate() {
        // At most 10000 parts: 5 GiB parts of S3's 5 TiB largest object make 1024.
        let number = u32::try_from(index + 1).map_err(invalid)?;
        let etag = multipart::upload_part_copy(
            s3,
            source,
            Some(range),
            target,
            upload_id,
            number,
            Some(source_etag),
        )?;
        parts.push((number, etag, None));
    }
    let result = multipart::complete_numbered(s3, target, upload_id, &parts, None)?;
    Ok(CopyResult { etag: result.etag, last_modified: None, version_id: result.version_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(metadata: Option<Vec<(String, String)>>, content_type: Option<&str>) -> CopyOptions {
        CopyOptions {
            source_conditions: Conditions::default(),
            metadata,
            content_type: content_type.map(str::to_owned),
        }
    }

    #[test]
    fn a_copy_onto_itself_must_replace_the_metadata() {
        let object = |bucket, key| Object::checked(bucket, key).unwrap();
        let (source, same) = (object("bkt", "k"), object("bkt", "k"));
        let error = check_not_onto_itself(source, same, &options(None, None)).unwrap_err();
        assert!(
            matches!(&error, S3Error::InvalidRequest(m) if m.contains("s3://bkt/k onto itself")),
            "{error:?}"
        );
        assert!(check_not_onto_itself(source, same, &options(Some(vec![]), None)).is_ok());
        assert!(check_not_onto_itself(source, object("bkt", "other"), &options(None, None)).is_ok());
        assert!(check_not_onto_itself(source, object("other-bkt", "k"), &options(None, None)).is_ok());
    }

    fn text(headers: Headers) -> Vec<(String, String)> {
        headers.into_iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned())).collect()
    }

    #[test]
    fn source_conditions_and_metadata_become_headers() {
        let conditions = Conditions {
            if_match: Some("\"e1\"".into()),
            if_none_match: Some("\"e2\"".into()),
            if_modified_since: Some("Mon, 01 Jan 2024 00:00:00 GMT".into()),
            if_unmodified_since: Some("Tue, 02 Jan 2024 00:00:00 GMT".into()),
        };
        let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
        assert_eq!(
            text(source_condition_headers(&conditions).unwrap()),
            [
                pair("x-amz-copy-source-if-match", "\"e1\""),
                pair("x-amz-copy-source-if-none-match", "\"e2\""),
                pair("x-amz-copy-source-if-modified-since", "Mon, 01 Jan 2024 00:00:00 GMT"),
                pair("x-amz-copy-source-if-unmodified-since", "Tue, 02 Jan 2024 00:00:00 GMT"),
            ]
        );
        assert!(text(replace_metadata_headers(&options(None, None)).unwrap()).is_empty());
        assert_eq!(
            text(
                replace_metadata_headers(&options(
                    Some(vec![("Owner".into(), "ops".into())]),
                    Some("text/plain")
                ))
                .unwrap()
            ),
            [
                pair("x-amz-metadata-directive", "REPLACE"),
                pair("content-type", "text/plain"),
                pair("x-amz-meta-owner", "ops"),
            ]
        );
        let error = replace_metadata_headers(&options(None, Some("text/plain"))).unwrap_err();
        assert!(matches!(&error, S3Error::InvalidRequest(m) if m.contains("give metadata too")), "{error:?}");
        let source = Object::checked("bkt", "a b/c").unwrap();
        assert_eq!(text(vec![copy_source(source).unwrap()]), [pair("x-amz-copy-source", "/bkt/a%20b/c")]);
    }
}
