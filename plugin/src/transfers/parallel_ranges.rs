//! GetObject in ranges side by side: the object is HEADed (with the caller's conditions, and
//! its checksum asked for), then up to `parallel` ranged GETs are in flight at once, each pinned
//! to the HEAD's ETag (`If-Match`). Each range's body streams to its destination: into one
//! stream, in order; into a seekable sink, at its own offset, in the order the responses arrive,
//! so that a slow range holds back none of the others.
//!
//! The full-object checksum, if the object has one, is checked at the end: computed over the
//! bytes in order, or, when ranges are written out of order, by combining the ranges' CRCs (an
//! object with a SHA checksum, which does not combine, is written in order). A range whose body
//! breaks resumes from its last byte written; one whose first attempt fails transiently is
//! fetched again through the retrying path.
//!
//! Memory: a chunk of the range being written, or none without a checksum (the host splices);
//! the other ranges in flight wait in the host's connections, not in guest memory.

use http::header::{HeaderValue, RANGE};

use crate::bindings::s3_connector::s3::types::{Conditions, GetOptions, ObjectInfo, S3Error};
use crate::bindings::wasi::io::poll;
use crate::bindings::wasi::io::streams::OutputStream;
use crate::operations::{get_object, object_info};
use crate::protocol::checked_names::Object;
use crate::protocol::checksum::{self, Hasher};
use crate::protocol::checksum_headers;
use crate::protocol::object_headers;
use crate::protocol::option_defaults;
use crate::protocol::s3_error::invalid;
use crate::transfers::transfer_plan;
use crate::transport::client::{AttemptError, Call, S3, S3Action};
use crate::transport::in_flight::InFlight;
use crate::transport::range_sink::{RangeSink, stream_from};
use crate::transport::stream_copy::CopyEnd;
use crate::transport::wire::{Body, Response};
use crate::transport::{pause, retry};

/// Where a download's ranges are written.
#[derive(Clone, Copy)]
pub enum Destination<'a> {
    /// One stream, written in order.
    Stream(&'a OutputStream),
    /// A sink the host writes at any offset.
    Seekable(&'a dyn RangeSink),
}

/// A ranged GET in flight: the range's index and bytes, its call, and its first attempt.
struct Flight<'a> {
    index: usize,
    range: (u64, u64),
    call: Call<'a>,
    started: Result<InFlight, AttemptError>,
}

/// Downloads `bucket/key` into `destination` with `parallel` ranges of `range_size` bytes in
/// flight.
pub fn download(
    s3: &S3,
    object: Object<'_>,
    destination: Destination<'_>,
    options: &GetOptions,
    parallel: usize,
    range_size: u64,
) -> Result<ObjectInfo, S3Error> {
    let mut head = Call::on_object(S3Action::HeadObject, object);
    head.headers = object_headers::get_headers(options)?;
    head.headers.push(checksum_headers::checksum_mode());
    if let Some(version) = &options.version_id {
        head.query.push(("versionId", version.clone()));
    }
    let response = s3.send(head, Body::Empty)?;
    let info = object_info(object.key(), &response);
    let expected = response.full_object_checksum();
    drop(response);
    if info.size <= range_size {
        // One range's worth: a plain GET (which verifies the checksum itself).
        let single = GetOptions { parallel_ranges: None, ..options.clone() };
        return match destination {
            Destination::Stream(sink) => get_object(s3, object, sink, &single),
            Destination::Seekable(sink) => get_object(s3, object, &stream_from(sink, 0)?, &single),
        };
    }

    // Every range only while the object is the one the HEAD saw.
    let pinned = GetOptions {
        conditions: Conditions { if_match: Some(info.etag.clone()), ..option_defaults::no_conditions() },
        customer_key: options.customer_key.clone(),
        ..option_defaults::get_options()
    };
    let range_call = |(first, last): (u64, u64)| -> Result<Call<'_>, S3Error> {
        let mut call = Call::on_object(S3Action::GetObject, object);
        call.headers = object_headers::get_headers(&pinned)?;
        let value = HeaderValue::from_str(&format!("bytes={first}-{last}")).map_err(invalid)?;
        call.headers.push((RANGE, value));
        if let Some(version) = &options.version_id {
            call.query.push(("versionId", version.clone()));
        }
        Ok(call)
    };

    let algorithm = expected.as_ref().map(|(algorithm, _)| *algorithm);
    // Out of order only into a sink, and only when the ranges' checksums combine (the CRCs).
    let any_order = matches!(destination, Destination::Seekable(_))
        && algorithm.is_none_or(checksum::full_object_multipart);
    let ranges = transfer_plan::ranges(info.size, range_size);
    // In order, one hasher runs through the ranges; out of order, each range has its own.
    let mut running = algorithm.map(Hasher::new);
    let mut per_range: Vec<Option<Hasher>> = vec![None; ranges.len()];
    let mut pending = ranges.iter().copied().enumerate();
    let mut in_flight: Vec<Flight<'_>> = Vec::with_capacity(parallel);
    // Bounded: each pass writes one range (or fails); there are finitely many ranges.
    loop {
        while in_flight.len() < parallel
            && let Some((index, range)) = pending.next()
        {
            let call = range_call(range)?;
            let started = s3.start_bodiless(&call);
            in_flight.push(Flight { index, range, call, started });
        }
        if in_flight.is_empty() {
            break;
        }
        let next = if any_order { first_ready(&in_flight) } else { 0 };
        let Flight { index, range, call, started } = in_flight.remove(next);
        let response = match started.and_then(|request| s3.settle(&call, request.wait())) {
            Ok(response) => response,
            Err(failed) if failed.retryable => s3.send(range_call(range)?, Body::Empty)?,
            Err(failed) => return Err(failed.error),
        };
        let resume = |from: u64| range_call((from, range.1));
        match destination {
            Destination::Stream(sink) => {
                write_range(s3, object, range, response, &resume, sink, running.as_mut())?
            }
            Destination::Seekable(sink) if any_order => {
                let mut hasher = algorithm.map(Hasher::new);
                write_range(
                    s3,
                    object,
                    range,
                    response,
                    &resume,
                    &stream_from(sink, range.0)?,
                    hasher.as_mut(),
                )?;
                per_range[index] = hasher;
            }
            Destination::Seekable(sink) => write_range(
                s3,
                object,
                range,
                response,
                &resume,
                &stream_from(sink, range.0)?,
                running.as_mut(),
            )?,
        }
    }
    if let Some((algorithm, expected)) = expected {
        let hasher = match running {
            Some(hasher) if !any_order => hasher,
            _ => per_range.iter().flatten().fold(Hasher::new(algorithm), |mut whole, range| {
                whole.combine(range);
                whole
            }),
        };
        hasher.check_download(&expected, info.size)?;
    }
    Ok(info)
}

/// The first of `in_flight` whose response has arrived (or whose start failed), waiting for
/// one if none has.
fn first_ready(in_flight: &[Flight<'_>]) -> usize {
    if let Some(failed) = in_flight.iter().position(|flight| flight.started.is_err()) {
        return failed;
    }
    let pollables: Vec<_> =
        in_flight.iter().filter_map(|flight| flight.started.as_ref().ok()).map(InFlight::pollable).collect();
    let ready = poll::poll(&pollables.iter().collect::<Vec<_>>());
    ready.first().map_or(0, |&index| index as usize)
}

/// Streams the body of range `first..=last` into `sink` (feeding `hasher`), resuming with
/// `resume(from)` from the first byte not written when the body breaks, up to the attempt
/// budget; fails unless exactly the range's bytes arrived.
fn write_range<'a>(
    s3: &S3,
    object: Object<'_>,
    (first, last): (u64, u64),
    response: Response,
    resume: &dyn Fn(u64) -> Result<Call<'a>, S3Error>,
    sink: &OutputStream,
    mut hasher: Option<&mut Hasher>,
) -> Result<(), S3Error> {
    let length = last - first + 1;
    let mut written = 0u64;
    let mut body = response;
    let mut attempt = 1;
    // Bounded: every pass either ends the loop or uses one of `max_attempts` attempts.
    loop {
        match body.copy_into(sink, hasher.as_deref_mut()) {
            CopyEnd::Done(n) => {
                written += n;
                break;
            }
            CopyEnd::SinkFailed(n, e) => {
                return Err(S3Error::Other(format!(
                    "writing range {first}-{last} of {object} to the destination failed after {} bytes: {e}",
                    written + n
                )));
            }
            CopyEnd::SourceFailed(n, e) => {
                written += n;
                if attempt >= s3.max_attempts() || written >= length {
                    return Err(S3Error::Transport(format!(
                        "range {first}-{last} of {object} broke after {written} of its {length} bytes, \
                         {attempt} attempts in all: {e}"
                    )));
                }
                attempt += 1;
                pause::sleep(retry::backoff(attempt, pause::random_unit()));
                body = s3.send(resume(first + written)?, Body::Empty)?;
            }
        }
    }
    if written != length {
        return Err(S3Error::Transport(format!(
            "range {first}-{last} of {object} came with {written} of its {length} bytes"
        )));
    }
    Ok(())
}
