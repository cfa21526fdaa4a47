//! The parts of a multipart upload sent side by side: up to [`Plan::parallel`] UploadPart
//! requests in flight at once (`wasi:http` requests progress together while the guest polls
//! their pollables), each part read from the input into guest memory once. A part whose first
//! attempt fails transiently is sent again through the retrying path; any other failure ends the
//! upload, and the caller aborts it.
//!
//! Memory: at most `parallel + 1` parts (those in flight and the next one read).

use crate::bindings::s3_connector::s3::types::{ChecksumAlgorithm, S3Error};
use crate::bindings::wasi::io::poll;
use crate::bindings::wasi::io::streams::InputStream;
use crate::operations::multipart::{self, part_call};
use crate::protocol::checked_names::Object;
use crate::protocol::checksum;
use crate::protocol::checksum_headers;
use crate::protocol::s3_error::invalid;
use crate::transfers::transfer_plan::{MAX_PARTS, Plan};
use crate::transport::client::{Call, S3};
use crate::transport::in_flight::InFlight;
use crate::transport::stream_copy::read_up_to;
use crate::transport::wire::Body;

/// A part as CompleteMultipartUpload names it: number, ETag, and its checksum element and value.
pub type Done = (u32, String, Option<(String, String)>);

/// Reads an input part by part: up to its announced length, or to its end.
pub struct PartReader<'a> {
    source: &'a InputStream,
    length: Option<u64>,
    part_size: usize,
    read: u64,
    ended: bool,
}

impl<'a> PartReader<'a> {
    /// A reader of `source`, which gives exactly `length` bytes when that is known.
    pub fn new(source: &'a InputStream, length: Option<u64>, part_size: usize) -> Self {
        Self { source, length, part_size, read: 0, ended: false }
    }

    /// The next part, empty once the input is done; an input shorter than its announced length
    /// is an error.
    pub fn next_part(&mut self) -> Result<Vec<u8>, S3Error> {
        if self.ended {
            return Ok(Vec::new());
        }
        let want = match self.length {
            Some(length) => (length - self.read).min(self.part_size as u64) as usize,
            None => self.part_size,
        };
        let (bytes, source_ended) = read_up_to(self.source, want).map_err(|e| {
            S3Error::Other(format!(
                "reading the input failed after {} bytes: {e}; nothing was stored",
                self.read
            ))
        })?;
        self.read += bytes.len() as u64;
        match self.length {
            Some(length) if bytes.len() < want => {
                return Err(S3Error::InvalidRequest(format!(
                    "the input ended after {} of the {length} bytes announced; nothing was stored",
                    self.read
                )));
            }
            Some(length) => self.ended = self.read == length,
            None => self.ended = source_ended,
        }
        Ok(bytes)
    }

    /// Whether the input has given everything.
    pub fn ended(&self) -> bool {
        self.ended
    }
}

/// One part in flight.
struct Slot<'a> {
    number: u32,
    bytes: Vec<u8>,
    checksum: Option<String>,
    call: Call<'a>,
    request: InFlight,
}

/// The parts in ascending order for CompleteMultipartUpload, and the whole object's checksum
/// when the algorithm makes a full-object one.
pub type Uploaded = (Vec<Done>, Option<(ChecksumAlgorithm, String)>);

/// Uploads `first` and every further part of `reader` to the upload, `plan.parallel` at a time;
/// returns the parts in ascending order for CompleteMultipartUpload and, for the CRCs, the
/// checksum of the whole input, computed as the parts are read (in order, whatever order
/// their requests finish in).
#[allow(clippy::too_many_arguments)]
pub fn upload<'a>(
    s3: &S3,
    object: Object<'a>,
    upload_id: &'a str,
    reader: &mut PartReader<'_>,
    first: Vec<u8>,
    plan: Plan,
    algorithm: Option<ChecksumAlgorithm>,
) -> Result<Uploaded, S3Error> {
    let mut slots: Vec<Slot<'a>> = Vec::new();
    let mut whole = algorithm.filter(|a| checksum::full_object_multipart(*a)).map(checksum::Hasher::new);
    let result = run(s3, object, upload_id, reader, first, plan, algorithm, &mut slots, &mut whole);
    if result.is_err() {
        // Parts still in flight finish (or fail) before the caller aborts the upload, so that
        // none is stored after the abort.
        for slot in slots.drain(..) {
            slot.request.settle_quietly(&slot.bytes);
        }
    }
    let parts = result?;
    Ok((parts, whole.map(|hasher| (hasher.algorithm(), hasher.finish()))))
}

#[allow(clippy::too_many_arguments)]
fn run<'a>(
    s3: &S3,
    object: Object<'a>,
    upload_id: &'a str,
    reader: &mut PartReader<'_>,
    first: Vec<u8>,
    plan: Plan,
    algorithm: Option<ChecksumAlgorithm>,
    slots: &mut Vec<Slot<'a>>,
    whole: &mut Option<checksum::Hasher>,
) -> Result<Vec<Done>, S3Error> {
    let mut done: Vec<Done> = Vec::new();
    let mut next = Some(first).filter(|bytes| !bytes.is_empty());
    let mut number = 0u32;
    // Bounded: every pass starts a part, completes one, or waits in `poll` until a request can
    // progress; there are at most 10000 parts, each of finitely many bytes.
    loop {
        while slots.len() < plan.parallel
            && let Some(bytes) = next.take()
        {
            number += 1;
            if u64::from(number) > MAX_PARTS {
                return Err(invalid(format!(
                    "the input is larger than {MAX_PARTS} parts of {} bytes, S3's limit for one object; give a larger part size",
                    plan.part_size
                )));
            }
            let checksum = algorithm.map(|a| {
                let mut part = checksum::Hasher::new(a);
                part.update(&bytes);
                if let Some(hasher) = whole.as_mut() {
                    // Parts are numbered in the order they are read, so combining them in
                    // turn gives the checksum of the whole input without reading it again.
                    hasher.combine(&part);
                }
                part.finish()
            });
            let mut call = part_call(object, upload_id, number);
            if let (Some(a), Some(value)) = (algorithm, &checksum) {
                call.headers = checksum_headers::carrying(a, value);
            }
            match s3.start(&call, &bytes) {
                Ok(request) => slots.push(Slot { number, bytes, checksum, call, request }),
                Err(failed) if failed.retryable => {
                    done.push(send_again(s3, object, upload_id, number, &bytes, algorithm, checksum)?);
                }
                Err(failed) => return Err(failed.error),
            }
            if !reader.ended() {
                next = Some(reader.next_part()?).filter(|bytes| !bytes.is_empty());
            }
        }
        if slots.is_empty() {
            break;
        }
        for slot in slots.iter_mut() {
            // A body that cannot be written shows in the response, which is read below.
            let _ = slot.request.pump(&slot.bytes);
        }
        let mut finished = false;
        let mut index = 0;
        while index < slots.len() {
            let Some(result) = slots[index].request.response() else {
                index += 1;
                continue;
            };
            finished = true;
            let slot = slots.swap_remove(index);
            match s3.settle(&slot.call, result) {
                Ok(response) => {
                    let etag = response.header("etag").map(str::to_owned).ok_or_else(|| {
                        S3Error::Other(format!("S3 answered part {} without an ETag", slot.number))
                    })?;
                    done.push(named(slot.number, etag, algorithm, slot.checksum));
                }
                Err(failed) if failed.retryable => done.push(send_again(
                    s3,
                    object,
                    upload_id,
                    slot.number,
                    &slot.bytes,
                    algorithm,
                    slot.checksum,
                )?),
                Err(failed) => return Err(failed.error),
            }
        }
        if !finished {
            let pollables: Vec<_> = slots.iter().map(|slot| slot.request.pollable()).collect();
            poll::poll(&pollables.iter().collect::<Vec<_>>());
        }
    }
    done.sort_by_key(|part| part.0);
    Ok(done)
}

fn named(number: u32, etag: String, algorithm: Option<ChecksumAlgorithm>, checksum: Option<String>) -> Done {
    let element = algorithm.map(checksum::xml_element);
    (number, etag, element.zip(checksum))
}

/// A part whose first attempt failed transiently, sent again through the retrying path.
#[allow(clippy::too_many_arguments)]
fn send_again(
    s3: &S3,
    object: Object<'_>,
    upload_id: &str,
    number: u32,
    bytes: &[u8],
    algorithm: Option<ChecksumAlgorithm>,
    checksum: Option<String>,
) -> Result<Done, S3Error> {
    let etag = match algorithm {
        Some(a) => multipart::upload_part_checked(s3, object, upload_id, number, bytes, a)?.0,
        None => multipart::upload_part(s3, object, upload_id, number, Body::Bytes(bytes))?,
    };
    Ok(named(number, etag, algorithm, checksum))
}
