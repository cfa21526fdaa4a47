//! A multipart upload of a stream: parts read in turn and sent side by side, completed when all
//! are in, aborted if anything fails. The single requests it makes are
//! [`crate::operations::multipart`]'s.

use crate::bindings::s3_connector::s3::types::{PutOptions, PutResult, S3Error};
use crate::operations::multipart;
use crate::operations::put_object;
use crate::protocol::checked_names::Object;
use crate::protocol::s3_error::invalid;
use crate::transport::client::S3;
use crate::transport::range_source::RangeSource;
use crate::transport::stream_copy::{self, ByteSource};
use crate::transport::wire::Body;

use super::parallel_parts::{self, PartReader, Parts};
use super::transfer_plan;

/// Single PUTs up to this size are read into the sandbox's memory first, so that a transient
/// failure (a reset, `503 SlowDown`) is retried with the same bytes, as the AWS SDKs retry a
/// file. It is the default multipart threshold: only a threshold raised above it sends a
/// larger single PUT as a stream, once.
pub const REPLAY_LIMIT: u64 = 16 * 1024 * 1024;

/// One PutObject of exactly `length` bytes from `source`: from memory (replayable) up to
/// [`REPLAY_LIMIT`], else streamed once (spliced from a `wasi:io` stream; any other source is
/// refused there, as it cannot be spliced and is too large to hold).
pub fn put_known_length(
    s3: &S3,
    object: Object<'_>,
    source: &dyn ByteSource,
    length: u64,
    options: &PutOptions,
) -> Result<PutResult, S3Error> {
    if length == 0 {
        return put_object(s3, object, Body::Empty, options);
    }
    if length > REPLAY_LIMIT {
        let Some(source) = source.wasi_stream() else {
            return Err(S3Error::InvalidRequest(format!(
                "a single PUT of {length} bytes (over {REPLAY_LIMIT}) is sent only from a wasi:io \
                 stream; lower the multipart threshold"
            )));
        };
        return put_object(s3, object, Body::Stream { source, length }, options);
    }
    let bytes = read_exactly(source, length)?;
    put_object(s3, object, Body::Bytes(&bytes), options)
}

/// Exactly `length` bytes of `source` (at most [`REPLAY_LIMIT`]) in memory, so that they can be
/// sent again; a source that ends early is bad input, named as such.
pub fn read_exactly(source: &dyn ByteSource, length: u64) -> Result<Vec<u8>, S3Error> {
    if length > REPLAY_LIMIT {
        return Err(S3Error::Other(format!("{length} bytes are over the replay limit of {REPLAY_LIMIT}")));
    }
    let wanted = usize::try_from(length).map_err(invalid)?;
    let (bytes, _) = stream_copy::read_up_to(source, wanted)
        .map_err(|e| S3Error::Other(format!("reading the body failed: {e}")))?;
    if bytes.len() != wanted {
        return Err(S3Error::InvalidRequest(format!(
            "the body ended after {} of the {length} bytes announced",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// Uploads a stream: of known `length` up to the plan's threshold in one PutObject (spliced, or
/// `aws-chunked` with a checksum); longer or of unknown length as a multipart upload with parts
/// sent side by side ([`parallel_parts`]), aborted if any step fails so that no orphaned parts
/// remain. A stream of unknown length that ends within its first part is one PutObject.
pub fn upload_stream(
    s3: &S3,
    object: Object<'_>,
    source: &dyn ByteSource,
    length: Option<u64>,
    options: &PutOptions,
) -> Result<PutResult, S3Error> {
    let plan = transfer_plan::plan(options.part_size, options.parallel_parts, options.multipart_threshold)
        .map_err(invalid)?;
    if let Some(length) = length
        && !plan.multipart_for(length).map_err(invalid)?
    {
        return put_known_length(s3, object, source, length, options);
    }
    let mut reader = PartReader::new(source, length, plan.part_size);
    let first = reader.next_part()?;
    if reader.ended() {
        let body = if first.is_empty() { Body::Empty } else { Body::Bytes(&first) };
        return put_object(s3, object, body, options);
    }
    multipart(s3, object, Parts::read(&mut reader, first), plan, options)
}

/// Uploads `source`, which the host reads at any offset (a file): one PutObject up to the
/// multipart threshold (the range spliced by the host), else a multipart upload whose parts
/// stream from their ranges into their requests side by side ([`parallel_parts`]), each range
/// opened again for a retry. No part is held in guest memory (a checksum asked for is computed
/// by reading its range a chunk at a time before it is sent); aborted if any step fails.
pub fn upload_seekable(
    s3: &S3,
    object: Object<'_>,
    source: &dyn RangeSource,
    options: &PutOptions,
) -> Result<PutResult, S3Error> {
    let plan = transfer_plan::plan(options.part_size, options.parallel_parts, options.multipart_threshold)
        .map_err(invalid)?;
    let length = source.length();
    if !plan.multipart_for(length).map_err(invalid)? {
        let body = if length == 0 { Body::Empty } else { Body::Range { source, offset: 0, length } };
        return put_object(s3, object, body, options);
    }
    let ranges = transfer_plan::ranges(length, plan.part_size as u64).into_iter();
    multipart(s3, object, Parts::Ranges { source, ranges }, plan, options)
}

/// CreateMultipartUpload, the parts, CompleteMultipartUpload; on any failure the upload is
/// aborted, so that no orphaned parts remain.
fn multipart(
    s3: &S3,
    object: Object<'_>,
    parts: Parts<'_, '_>,
    plan: transfer_plan::Plan,
    options: &PutOptions,
) -> Result<PutResult, S3Error> {
    let upload_id = multipart::create(s3, object, options)?;
    let uploaded = parallel_parts::upload(s3, object, &upload_id, parts, plan, options.checksum)
        .and_then(|(parts, whole)| multipart::complete_numbered(s3, object, &upload_id, &parts, whole));
    match uploaded {
        Ok(result) => Ok(result),
        Err(error) => match multipart::abort(s3, object, &upload_id) {
            Ok(()) => Err(error),
            Err(abort_error) => Err(S3Error::Other(format!(
                "{error:?}; aborting multipart upload {upload_id} also failed ({abort_error:?}): list and abort it by hand"
            ))),
        },
    }
}
