//! GetObject in ranges side by side: the object is HEADed (with the caller's conditions, and
//! its checksum asked for), then up to `parallel` ranged GETs are in flight at once, each pinned
//! to the HEAD's ETag (`If-Match`), and their bodies are written to the sink in order. The
//! full-object checksum, if the object has one, is computed over the bytes as they are written
//! and checked at the end. A range whose first attempt fails transiently is fetched again
//! through the retrying path.
//!
//! Memory: at most `parallel` ranges' bodies (the one being written and those arriving).

use std::collections::VecDeque;

use http::header::{HeaderValue, RANGE};

use crate::bindings::s3_connector::s3::types::{Conditions, GetOptions, ObjectInfo, S3Error};
use crate::bindings::wasi::io::streams::OutputStream;
use crate::operations::{get_object, object_info};
use crate::protocol::checked_names::Object;
use crate::protocol::checksum::Hasher;
use crate::protocol::checksum_headers;
use crate::protocol::object_headers;
use crate::protocol::option_defaults;
use crate::protocol::s3_error::invalid;
use crate::transfers::transfer_plan;
use crate::transport::client::{AttemptError, Call, S3, S3Action};
use crate::transport::in_flight::InFlight;
use crate::transport::stream_copy;
use crate::transport::wire::Body;

/// Downloads `bucket/key` into `sink` with `parallel` ranges of `range_size` bytes in flight.
pub fn download(
    s3: &S3,
    object: Object<'_>,
    sink: &OutputStream,
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
        return get_object(s3, object, sink, &single);
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

    let mut hasher = expected.as_ref().map(|(algorithm, _)| Hasher::new(*algorithm));
    let ranges = transfer_plan::ranges(info.size, range_size);
    let mut pending = ranges.iter().copied();
    let mut in_flight: VecDeque<((u64, u64), Call<'_>, Result<InFlight, AttemptError>)> = VecDeque::new();
    let mut written = 0u64;
    // Bounded: each pass writes the next range (or fails); there are finitely many ranges.
    loop {
        while in_flight.len() < parallel
            && let Some(range) = pending.next()
        {
            let call = range_call(range)?;
            let started = s3.start_bodiless(&call);
            in_flight.push_back((range, call, started));
        }
        let Some(((first, last), call, started)) = in_flight.pop_front() else {
            break;
        };
        let response = match started.and_then(|request| s3.settle(&call, request.wait())) {
            Ok(response) => response,
            Err(failed) if failed.retryable => s3.send(range_call((first, last))?, Body::Empty)?,
            Err(failed) => return Err(failed.error),
        };
        let length = last - first + 1;
        // A range is at most 256 MiB (checked by the plan), within the guest's address space.
        let bytes = response.bytes(usize::try_from(length).map_err(invalid)?)?;
        if bytes.len() as u64 != length {
            return Err(S3Error::Transport(format!(
                "range {first}-{last} of {object} came with {} of its {length} bytes",
                bytes.len()
            )));
        }
        if let Some(hasher) = &mut hasher {
            hasher.update(&bytes);
        }
        stream_copy::write_all(sink, &bytes).map_err(|e| {
            S3Error::Other(format!("writing to the destination failed after {written} bytes: {e}"))
        })?;
        written += length;
    }
    if let (Some(hasher), Some((_, expected))) = (hasher, expected) {
        hasher.check_download(&expected, written)?;
    }
    Ok(info)
}
