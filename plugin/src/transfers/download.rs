//! A GetObject as its options ask: in one request, resumed where it broke, or in ranges side by
//! side ([`super::parallel_ranges`]) when `parallel-ranges` says so and no range is asked; into
//! a stream, or into a sink the host writes at any offset.
//!
//! A body cut off mid-way is not the end of a download: it continues with a ranged GET from the
//! byte where it stopped ([`crate::transport::resumed_copy`]), pinned with `If-Match` to the
//! first answer's ETag so that the pieces are of one object. The whole-object checksum is
//! computed across the pieces and checked at the end.

use http::header::{HeaderValue, RANGE};

use crate::bindings::s3_connector::s3::types::{Conditions, GetOptions, ObjectInfo, S3Error};
use crate::bindings::wasi::io::streams::OutputStream;
use crate::operations;
use crate::protocol::checked_names::Object;
use crate::protocol::checksum::Hasher;
use crate::protocol::object_headers;
use crate::protocol::s3_error::invalid;
use crate::transport::client::{Call, S3, S3Action};
use crate::transport::range_sink::{RangeSink, stream_from};
use crate::transport::resumed_copy;

use super::parallel_ranges::{self, Destination};
use super::transfer_plan;

/// GetObject into `sink`, in parallel ranges when the options ask for more than one, else in
/// one request resumed where it breaks.
pub fn get_object(
    s3: &S3,
    object: Object<'_>,
    sink: &OutputStream,
    options: &GetOptions,
) -> Result<ObjectInfo, S3Error> {
    if let Some((parallel, range_size)) = ranges_asked(options)? {
        return parallel_ranges::download(
            s3,
            object,
            Destination::Stream(sink),
            options,
            parallel,
            range_size,
        );
    }
    match options.range {
        // A range the caller asked for is delivered as it comes.
        Some(_) => operations::get_object(s3, object, sink, options),
        None => resumable(s3, object, sink, options),
    }
}

/// GetObject into `sink`, which the host writes at any offset: in parallel ranges, each written
/// where it belongs as it arrives, when the options ask for more than one; else as
/// [`get_object`] into a stream of the sink from offset 0.
pub fn get_object_into(
    s3: &S3,
    object: Object<'_>,
    sink: &dyn RangeSink,
    options: &GetOptions,
) -> Result<ObjectInfo, S3Error> {
    match ranges_asked(options)? {
        Some((parallel, range_size)) => {
            parallel_ranges::download(s3, object, Destination::Seekable(sink), options, parallel, range_size)
        }
        None => get_object(s3, object, &stream_from(sink, 0)?, options),
    }
}

/// The parallel download the options ask for, if any (more than one range in flight, and no
/// range of the caller's): ranges in flight and bytes per range, checked.
fn ranges_asked(options: &GetOptions) -> Result<Option<(usize, u64)>, S3Error> {
    match (options.range, options.parallel_ranges) {
        (None, Some(parallel)) if parallel != 1 => {
            transfer_plan::download_plan(parallel, options.range_size).map(Some).map_err(invalid)
        }
        _ => Ok(None),
    }
}

/// The whole object into `sink`, resumed from the last byte written when the body breaks.
fn resumable(
    s3: &S3,
    object: Object<'_>,
    sink: &OutputStream,
    options: &GetOptions,
) -> Result<ObjectInfo, S3Error> {
    let (info, response) = operations::get_object_response(s3, object, options)?;
    let expected = response.checksum_to_verify()?;
    let mut hasher = expected.as_ref().map(|(algorithm, _)| Hasher::new(*algorithm));
    let what = format!("the download of {object}");
    let rest = |from: u64| rest_of(object, options, &info.etag, from);
    resumed_copy::copy_resuming(s3, &what, response, sink, hasher.as_mut(), info.size, &rest)?;
    if let (Some(hasher), Some((_, expected))) = (hasher, expected) {
        hasher.check_download(&expected, info.size)?;
    }
    Ok(info)
}

/// The ranged GET of everything from byte `from`, only while the object is still `etag`.
fn rest_of<'a>(object: Object<'a>, options: &GetOptions, etag: &str, from: u64) -> Result<Call<'a>, S3Error> {
    let pinned = GetOptions {
        conditions: Conditions { if_match: Some(etag.to_owned()), ..Conditions::default() },
        customer_key: options.customer_key.clone(),
        ..GetOptions::default()
    };
    let mut call = Call::on_object(S3Action::GetObject, object);
    call.headers = object_headers::get_headers(&pinned)?;
    call.headers.push((RANGE, HeaderValue::from_str(&format!("bytes={from}-")).map_err(invalid)?));
    if let Some(version) = &options.version_id {
        call.query.push(("versionId", version.clone()));
    }
    Ok(call)
}
