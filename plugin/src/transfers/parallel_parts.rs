//! The parts of a multipart upload sent side by side: up to [`Plan::parallel`] UploadPart
//! requests in flight at once (`wasi:http` requests progress together while the guest polls
//! their pollables). A part whose first attempt fails transiently is sent again through the
//! retrying path; any other failure ends the upload, and the caller aborts it.
//!
//! The parts come from a stream or from a seekable source ([`Parts`]). A stream's parts are read
//! into guest memory once, so that a failed part can be sent again: at most `parallel + 1` parts
//! (those in flight and the next one read). A seekable source's parts are never held in guest
//! memory: each is a range the host opens as a fresh stream (again for a retry), passed on to
//! its request as the connection takes it.

use crate::bindings::s3_connector::s3::types::{ChecksumAlgorithm, S3Error};
use crate::bindings::wasi::io::poll;
use crate::operations::multipart::{self, part_call};
use crate::protocol::checked_names::Object;
use crate::protocol::checksum;
use crate::protocol::checksum_headers;
use crate::protocol::s3_error::invalid;
use crate::transfers::transfer_plan::{MAX_PARTS, Plan};
use crate::transport::client::{Call, S3};
use crate::transport::in_flight::{InFlight, Outgoing};
use crate::transport::range_source::{self, RangeSource};
use crate::transport::stream_copy::{ByteSource, read_up_to};
use crate::transport::wire::Body;

/// A part as CompleteMultipartUpload names it: number, ETag, and its checksum element and value.
pub type Done = (u32, String, Option<(String, String)>);

/// Reads an input part by part: up to its announced length, or to its end.
pub struct PartReader<'a> {
    source: &'a dyn ByteSource,
    length: Option<u64>,
    part_size: usize,
    read: u64,
    ended: bool,
}

impl<'a> PartReader<'a> {
    /// A reader of `source`, which gives exactly `length` bytes when that is known.
    pub fn new(source: &'a dyn ByteSource, length: Option<u64>, part_size: usize) -> Self {
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

/// Where the parts come from.
pub enum Parts<'a, 'r> {
    /// A stream, read part by part into guest memory.
    Read {
        /// The rest of the stream.
        reader: &'r mut PartReader<'a>,
        /// The part read ahead (the caller reads the first, to tell a single put from a
        /// multipart upload); `None` once the stream has given everything.
        next: Option<Vec<u8>>,
    },
    /// A seekable source, in these inclusive byte ranges.
    Ranges {
        /// The source.
        source: &'a dyn RangeSource,
        /// The ranges still to send, in order.
        ranges: std::vec::IntoIter<(u64, u64)>,
    },
}

/// One part's bytes: in guest memory, or a range the host reads.
enum Content<'a> {
    Bytes(Vec<u8>),
    Range { source: &'a dyn RangeSource, offset: u64, length: u64 },
}

impl Content<'_> {
    /// The part as a body for the retrying path.
    fn body(&self) -> Body<'_> {
        match self {
            Content::Bytes(bytes) => Body::Bytes(bytes),
            Content::Range { source, offset, length } => {
                Body::Range { source: *source, offset: *offset, length: *length }
            }
        }
    }

    /// The part as what a request in flight sends.
    fn outgoing(&self) -> Outgoing<'_> {
        match self {
            Content::Bytes(bytes) => Outgoing::Bytes(bytes),
            Content::Range { length, .. } => Outgoing::Streamed { length: *length },
        }
    }

    /// The part's `algorithm` checksum: of the bytes in memory, or of the range read through
    /// guest memory a chunk at a time.
    fn hash(&self, algorithm: ChecksumAlgorithm) -> Result<checksum::Hasher, S3Error> {
        match self {
            Content::Bytes(bytes) => {
                let mut hasher = checksum::Hasher::new(algorithm);
                hasher.update(bytes);
                Ok(hasher)
            }
            Content::Range { source, offset, length } => {
                range_source::hash(*source, *offset, *length, algorithm)
            }
        }
    }
}

impl<'a, 'r> Parts<'a, 'r> {
    /// The parts of a stream whose first part, `first`, was read already.
    pub fn read(reader: &'r mut PartReader<'a>, first: Vec<u8>) -> Self {
        Parts::Read { reader, next: Some(first).filter(|bytes| !bytes.is_empty()) }
    }

    /// The next part's content, `None` once every part was given.
    fn next(&mut self) -> Option<Content<'a>> {
        match self {
            Parts::Read { next, .. } => next.take().map(Content::Bytes),
            Parts::Ranges { source, ranges } => ranges.next().map(|(first, last)| Content::Range {
                source: *source,
                offset: first,
                length: last - first + 1,
            }),
        }
    }

    /// Reads the part after the one just started, so that it is ready when a slot frees up.
    fn read_ahead(&mut self) -> Result<(), S3Error> {
        if let Parts::Read { reader, next } = self
            && next.is_none()
            && !reader.ended()
        {
            *next = Some(reader.next_part()?).filter(|bytes| !bytes.is_empty());
        }
        Ok(())
    }
}

/// One part in flight: its call borrows the object's names (`'o`), its content the source
/// (`'s`).
struct Slot<'o, 's> {
    number: u32,
    content: Content<'s>,
    checksum: Option<String>,
    call: Call<'o>,
    request: InFlight,
}

/// The parts in ascending order for CompleteMultipartUpload, and the whole object's checksum
/// when the algorithm makes a full-object one.
pub type Uploaded = (Vec<Done>, Option<(ChecksumAlgorithm, String)>);

/// Uploads every part of `parts` to the upload, `plan.parallel` at a time; returns the parts in
/// ascending order for CompleteMultipartUpload and, for the CRCs, the checksum of the whole
/// input, computed as the parts are taken (in order, whatever order their requests finish in).
pub fn upload<'o, 's>(
    s3: &S3,
    object: Object<'o>,
    upload_id: &str,
    mut parts: Parts<'s, '_>,
    plan: Plan,
    algorithm: Option<ChecksumAlgorithm>,
) -> Result<Uploaded, S3Error> {
    let mut slots: Vec<Slot<'o, 's>> = Vec::new();
    let mut whole = algorithm.filter(|a| checksum::full_object_multipart(*a)).map(checksum::Hasher::new);
    let upload = Upload { s3, object, upload_id, plan, algorithm };
    let result = upload.run(&mut parts, &mut slots, &mut whole);
    if result.is_err() {
        // Parts still in flight finish (or fail) before the caller aborts the upload, so that
        // none is stored after the abort.
        for slot in slots.drain(..) {
            slot.request.settle_quietly(slot.content.outgoing());
        }
    }
    let parts = result?;
    Ok((parts, whole.map(|hasher| (hasher.algorithm(), hasher.finish()))))
}

/// What every part of one upload shares.
struct Upload<'u, 'o> {
    s3: &'u S3,
    object: Object<'o>,
    upload_id: &'u str,
    plan: Plan,
    algorithm: Option<ChecksumAlgorithm>,
}

impl<'o> Upload<'_, 'o> {
    fn run<'s>(
        &self,
        parts: &mut Parts<'s, '_>,
        slots: &mut Vec<Slot<'o, 's>>,
        whole: &mut Option<checksum::Hasher>,
    ) -> Result<Vec<Done>, S3Error> {
        let mut done: Vec<Done> = Vec::new();
        let mut number = 0u32;
        // Bounded: every pass starts a part, completes one, or waits in `poll` until a request
        // can progress; there are at most 10000 parts, each of finitely many bytes.
        loop {
            while slots.len() < self.plan.parallel
                && let Some(content) = parts.next()
            {
                number += 1;
                if u64::from(number) > MAX_PARTS {
                    return Err(invalid(format!(
                        "the input is larger than {MAX_PARTS} parts of {} bytes, S3's limit for one object; give a larger part size",
                        self.plan.part_size
                    )));
                }
                let checksum = match self.algorithm {
                    Some(algorithm) => {
                        let part = content.hash(algorithm)?;
                        if let Some(hasher) = whole.as_mut() {
                            // Parts are numbered in the order they are taken, so combining them
                            // in turn gives the checksum of the whole input without reading it
                            // again.
                            hasher.combine(&part);
                        }
                        Some(part.finish())
                    }
                    None => None,
                };
                let mut call = part_call(self.object, self.upload_id, number);
                if let (Some(a), Some(value)) = (self.algorithm, &checksum) {
                    call.headers = checksum_headers::carrying(a, value);
                }
                let started = match &content {
                    Content::Bytes(bytes) => self.s3.start(&call, bytes),
                    Content::Range { source, offset, length } => {
                        self.s3.start_range(&call, *source, *offset, *length)
                    }
                };
                match started {
                    Ok(request) => slots.push(Slot { number, content, checksum, call, request }),
                    Err(failed) if failed.retryable => {
                        done.push(self.send_again(number, &content, checksum)?)
                    }
                    Err(failed) => return Err(failed.error),
                }
                parts.read_ahead()?;
            }
            if slots.is_empty() {
                break;
            }
            for slot in slots.iter_mut() {
                // A body that cannot be written shows in the response, which is read below.
                let _ = slot.request.pump(slot.content.outgoing());
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
                match self.s3.settle(&slot.call, result) {
                    Ok(response) => {
                        let etag = response.header("etag").map(str::to_owned).ok_or_else(|| {
                            S3Error::Other(format!("S3 answered part {} without an ETag", slot.number))
                        })?;
                        done.push(named(slot.number, etag, self.algorithm, slot.checksum));
                    }
                    Err(failed) if failed.retryable => {
                        done.push(self.send_again(slot.number, &slot.content, slot.checksum)?)
                    }
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

    /// A part whose first attempt failed transiently, sent again through the retrying path
    /// (a range is read again from the source).
    fn send_again(
        &self,
        number: u32,
        content: &Content<'_>,
        checksum: Option<String>,
    ) -> Result<Done, S3Error> {
        let carrying = self.algorithm.zip(checksum.as_deref());
        let etag =
            multipart::upload_part(self.s3, self.object, self.upload_id, number, content.body(), carrying)?;
        Ok(named(number, etag, self.algorithm, checksum))
    }
}

fn named(number: u32, etag: String, algorithm: Option<ChecksumAlgorithm>, checksum: Option<String>) -> Done {
    let element = algorithm.map(checksum::xml_element);
    (number, etag, element.zip(checksum))
}
