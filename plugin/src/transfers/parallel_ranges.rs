//! GetObject in ranges side by side: the object is HEADed (with the caller's conditions, and
//! its checksum asked for), then up to `parallel` ranged GETs are in flight at once, each pinned
//! to the HEAD's ETag (`If-Match`). Each range's body streams to its destination: into one
//! stream, in order, one range after the other; into a seekable sink, at its own offset, all the
//! ranges that have answered taking turns chunk by chunk, so that the transfers really run side
//! by side and a slow range holds back none of the others.
//!
//! The full-object checksum, if the object has one, is checked at the end: computed over the
//! bytes in order, or, when ranges are written out of order, by combining the ranges' CRCs (an
//! object with a SHA checksum, which does not combine, is written in order). A range whose body
//! breaks resumes from its last byte written; one whose first attempt fails transiently is
//! fetched again through the retrying path.
//!
//! Memory: in order, a chunk of the range being written, or none without a checksum (the host
//! splices), the other ranges waiting in the host's connections; side by side, a chunk at a
//! time passes through guest memory.

use http::header::{HeaderValue, RANGE};

use crate::bindings::s3_connector::s3::types::{
    ChecksumAlgorithm, Conditions, GetOptions, ObjectInfo, S3Error,
};
use crate::bindings::wasi::io::poll;
use crate::bindings::wasi::io::streams::OutputStream;
use crate::operations::{get_object, object_info};
use crate::protocol::checked_names::Object;
use crate::protocol::checksum::{self, Hasher};
use crate::protocol::checksum_headers;
use crate::protocol::object_headers;
use crate::protocol::s3_error::invalid;
use crate::transfers::transfer_plan;
use crate::transport::client::{AttemptError, Call, S3, S3Action};
use crate::transport::in_flight::InFlight;
use crate::transport::range_sink::{RangeSink, stream_from};
use crate::transport::resumed_copy::{before_next_attempt, copy_resuming};
use crate::transport::stream_copy;
use crate::transport::wire::{Body, Failure, Response, Step};

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
    let expected = response.checksum_to_verify()?;
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
        conditions: Conditions { if_match: Some(info.etag.clone()), ..Conditions::default() },
        customer_key: options.customer_key.clone(),
        ..GetOptions::default()
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
    let hasher = match destination {
        Destination::Seekable(sink) if any_order => {
            side_by_side(s3, object, &ranges, &range_call, sink, parallel, algorithm)?
        }
        _ => in_order(s3, object, &ranges, &range_call, destination, parallel, algorithm)?,
    };
    if let (Some(hasher), Some((_, expected))) = (hasher, expected) {
        hasher.check_download(&expected, info.size)?;
    }
    Ok(info)
}

/// Makes the call that fetches a range (`(first, last)`, inclusive).
type RangeCall<'c, 'a> = dyn Fn((u64, u64)) -> Result<Call<'a>, S3Error> + 'c;

/// Starts the ranges not started yet while fewer than `parallel` are under way.
fn start_more<'a>(
    s3: &S3,
    pending: &mut impl Iterator<Item = (usize, (u64, u64))>,
    range_call: &RangeCall<'_, 'a>,
    in_flight: &mut Vec<Flight<'a>>,
    under_way: usize,
    parallel: usize,
) -> Result<(), S3Error> {
    while in_flight.len() + under_way < parallel
        && let Some((index, range)) = pending.next()
    {
        let call = range_call(range)?;
        let started = s3.start_bodiless(&call);
        in_flight.push(Flight { index, range, call, started });
    }
    Ok(())
}

/// The response to a range: its first attempt's (`answer`, or waited for when there is none
/// yet), or, when that failed transiently (at its start or in its answer), one fetched again
/// through the retrying path.
fn response_to(
    s3: &S3,
    flight: Flight<'_>,
    answer: Option<Result<Response, Failure>>,
    range_call: &RangeCall<'_, '_>,
) -> Result<Response, S3Error> {
    let first = match (flight.started, answer) {
        (Ok(_), Some(answer)) => s3.settle(&flight.call, answer),
        (Ok(request), None) => s3.settle(&flight.call, request.wait()),
        (Err(failed), _) => Err(failed),
    };
    match first {
        Ok(response) => Ok(response),
        Err(failed) if failed.retryable => s3.send(range_call(flight.range)?, Body::Empty),
        Err(failed) => Err(failed.error),
    }
}

/// The ranges written one after the other, each whole before the next, with one hasher running
/// through them: into one stream, or into a sink when the checksum must see the bytes in order.
fn in_order<'a>(
    s3: &S3,
    object: Object<'_>,
    ranges: &[(u64, u64)],
    range_call: &RangeCall<'_, 'a>,
    destination: Destination<'_>,
    parallel: usize,
    algorithm: Option<ChecksumAlgorithm>,
) -> Result<Option<Hasher>, S3Error> {
    let mut hasher = algorithm.map(Hasher::new);
    let mut pending = ranges.iter().copied().enumerate();
    let mut in_flight: Vec<Flight<'a>> = Vec::with_capacity(parallel);
    // Bounded: each pass writes one range (or fails); there are finitely many ranges.
    loop {
        start_more(s3, &mut pending, range_call, &mut in_flight, 0, parallel)?;
        if in_flight.is_empty() {
            return Ok(hasher);
        }
        let flight = in_flight.remove(0);
        let range = flight.range;
        let response = response_to(s3, flight, None, range_call)?;
        let what = format!("range {}-{} of {object}", range.0, range.1);
        let rest = |from: u64| range_call((range.0 + from, range.1));
        let length = range.1 - range.0 + 1;
        match destination {
            Destination::Stream(sink) => {
                copy_resuming(s3, &what, response, sink, hasher.as_mut(), length, &rest)?
            }
            Destination::Seekable(sink) => {
                let stream = stream_from(sink, range.0)?;
                copy_resuming(s3, &what, response, &stream, hasher.as_mut(), length, &rest)?
            }
        }
    }
}

/// A range whose response has arrived, being written into its stream of the sink.
struct Writing {
    index: usize,
    range: (u64, u64),
    body: Response,
    sink: OutputStream,
    hasher: Option<Hasher>,
    written: u64,
    attempt: u32,
}

/// Bytes one range moves in one turn.
const TURN_BYTES: u64 = 256 * 1024;

/// The ranges written side by side into `sink`, each at its offset: every range that has
/// answered moves what it has ready in turn, and when none can move, the guest waits for any
/// of them (or a response) at once. Returns the ranges' CRCs combined in order.
fn side_by_side<'a>(
    s3: &S3,
    object: Object<'_>,
    ranges: &[(u64, u64)],
    range_call: &RangeCall<'_, 'a>,
    sink: &dyn RangeSink,
    parallel: usize,
    algorithm: Option<ChecksumAlgorithm>,
) -> Result<Option<Hasher>, S3Error> {
    let mut per_range: Vec<Option<Hasher>> = vec![None; ranges.len()];
    let mut pending = ranges.iter().copied().enumerate();
    let mut in_flight: Vec<Flight<'a>> = Vec::with_capacity(parallel);
    let mut writing: Vec<Writing> = Vec::with_capacity(parallel);
    // Bounded: every pass moves bytes, ends a range, uses an attempt or waits for one of the
    // finitely many requests and bodies to be ready.
    loop {
        start_more(s3, &mut pending, range_call, &mut in_flight, writing.len(), parallel)?;
        if in_flight.is_empty() && writing.is_empty() {
            break;
        }
        let mut moved = false;
        let mut waits = Vec::new();
        let mut next = 0;
        while next < in_flight.len() {
            let answer = match &in_flight[next].started {
                Ok(request) => match request.response() {
                    Some(answer) => Some(answer),
                    None => {
                        waits.push(request.pollable());
                        next += 1;
                        continue;
                    }
                },
                Err(_) => None,
            };
            let flight = in_flight.remove(next);
            let (index, range) = (flight.index, flight.range);
            let body = response_to(s3, flight, answer, range_call)?;
            let sink = stream_from(sink, range.0)?;
            writing.push(Writing {
                index,
                range,
                body,
                sink,
                hasher: algorithm.map(Hasher::new),
                written: 0,
                attempt: 1,
            });
            moved = true;
        }
        let mut next = 0;
        while next < writing.len() {
            let range = &mut writing[next];
            let (first, last) = range.range;
            let length = last - first + 1;
            match range.body.move_ready(&range.sink, range.hasher.as_mut(), TURN_BYTES) {
                Step::Moved(n) => {
                    range.written += n;
                    moved = true;
                }
                Step::Waiting(pollable) => waits.push(pollable),
                Step::Ended if range.written == length => {
                    stream_copy::flush(&range.sink).map_err(|e| {
                        S3Error::Other(format!(
                            "writing range {first}-{last} of {object} to the destination failed: {e}"
                        ))
                    })?;
                    let done = writing.remove(next);
                    per_range[done.index] = done.hasher;
                    moved = true;
                    continue;
                }
                broke @ (Step::Ended | Step::SourceFailed(_)) => {
                    let reason = match broke {
                        Step::SourceFailed(e) => e,
                        _ => "the body ended early".to_owned(),
                    };
                    let what = format!("range {first}-{last} of {object}");
                    before_next_attempt(s3, &what, range.attempt, (range.written, length), &reason)?;
                    range.attempt += 1;
                    range.body = s3.send(range_call((first + range.written, last))?, Body::Empty)?;
                    moved = true;
                }
                Step::SinkFailed(e) => {
                    return Err(S3Error::Other(format!(
                        "writing range {first}-{last} of {object} to the destination failed after {} bytes: {e}",
                        range.written
                    )));
                }
            }
            next += 1;
        }
        if !moved && !waits.is_empty() {
            poll::poll(&waits.iter().collect::<Vec<_>>());
        }
    }
    Ok(algorithm.map(|algorithm| {
        per_range.iter().flatten().fold(Hasher::new(algorithm), |mut whole, range| {
            whole.combine(range);
            whole
        })
    }))
}
