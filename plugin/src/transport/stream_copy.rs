//! Moving bytes between `wasi:io` streams without holding a whole object.
//!
//! Splicing keeps the bytes on the host side: a GET body goes from the HTTP connection to the
//! host's sink, and a PUT body from the host's source to the connection, without a copy through
//! guest memory.

use crate::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};

/// Largest amount moved per splice call; the host bounds it further by what the sink accepts.
const SPLICE_CHUNK: u64 = 1 << 20;

/// How a copy ended.
#[derive(Debug)]
pub enum CopyEnd {
    /// The source reached its end (or the limit was reached) after this many bytes.
    Done(u64),
    /// The source failed after this many bytes.
    SourceFailed(u64, String),
    /// The destination was closed or failed after this many bytes.
    SinkFailed(u64, String),
}

/// Splices from `source` to `sink` until the source ends or `limit` bytes have moved.
pub fn splice(source: &InputStream, sink: &OutputStream, limit: u64) -> CopyEnd {
    let mut moved = 0u64;
    while moved < limit {
        match sink.blocking_splice(source, (limit - moved).min(SPLICE_CHUNK)) {
            Ok(0) => source.subscribe().block(),
            Ok(n) => moved += n,
            // Closed is ambiguous in a splice: ask the sink whether it is the one that closed.
            Err(StreamError::Closed) => {
                return match sink.check_write() {
                    Err(e) => CopyEnd::SinkFailed(moved, describe(e)),
                    Ok(_) => CopyEnd::Done(moved),
                };
            }
            Err(StreamError::LastOperationFailed(e)) => {
                let message = e.to_debug_string();
                return match sink.check_write() {
                    Err(_) => CopyEnd::SinkFailed(moved, message),
                    Ok(_) => CopyEnd::SourceFailed(moved, message),
                };
            }
        }
    }
    match flush(sink) {
        Ok(()) => CopyEnd::Done(moved),
        Err(e) => CopyEnd::SinkFailed(moved, e),
    }
}

/// Writes all of `bytes`, waiting for the sink as needed, then flushes.
pub fn write_all(sink: &OutputStream, mut bytes: &[u8]) -> Result<(), String> {
    while !bytes.is_empty() {
        let permit = sink.check_write().map_err(describe)?;
        if permit == 0 {
            sink.subscribe().block();
            continue;
        }
        let n = usize::try_from(permit).unwrap_or(usize::MAX).min(bytes.len());
        sink.write(&bytes[..n]).map_err(describe)?;
        bytes = &bytes[n..];
    }
    flush(sink)
}

/// Waits until everything written to `sink` has left the guest's hands.
pub fn flush(sink: &OutputStream) -> Result<(), String> {
    match sink.blocking_flush() {
        // An HTTP body of known length closes itself once it has every byte.
        Ok(()) | Err(StreamError::Closed) => Ok(()),
        Err(e) => Err(describe(e)),
    }
}

/// A body read a chunk at a time by the upload path: a `wasi:io` stream (every world's
/// `client` calls, the `edge` world's requests) or a WASI 0.3 `stream<u8>` (the `edge-p3`
/// world's requests). The uploads read through this, so that one multipart path serves both.
pub trait ByteSource {
    /// Reads until `limit` bytes, the end of the source or its failure (as [`read_chunk`]).
    fn read_chunk(&self, limit: usize) -> (Vec<u8>, ChunkEnd);

    /// The `wasi:io` stream behind the source, when there is one: a single PUT too large to hold
    /// is spliced from it by the host, which only a `wasi:io` stream allows.
    fn wasi_stream(&self) -> Option<&InputStream> {
        None
    }
}

impl ByteSource for InputStream {
    fn read_chunk(&self, limit: usize) -> (Vec<u8>, ChunkEnd) {
        read_chunk(self, limit)
    }

    fn wasi_stream(&self) -> Option<&InputStream> {
        Some(self)
    }
}

/// Reads until `limit` bytes or the end of the source. Returns the bytes and whether the
/// source ended.
pub fn read_up_to(source: &(impl ByteSource + ?Sized), limit: usize) -> Result<(Vec<u8>, bool), String> {
    match source.read_chunk(limit) {
        (bytes, ChunkEnd::Full) => Ok((bytes, false)),
        (bytes, ChunkEnd::Ended) => Ok((bytes, true)),
        (_, ChunkEnd::Failed(e)) => Err(e),
    }
}

/// How a [`read_chunk`] ended.
pub enum ChunkEnd {
    /// `limit` bytes were read; the source may have more.
    Full,
    /// The source ended.
    Ended,
    /// The source failed, after the bytes returned with it.
    Failed(String),
}

/// Reads until `limit` bytes, the end of the source or its failure. The bytes read before a
/// failure come with it, so that a copy keeps them and resumes right after them.
pub fn read_chunk(source: &InputStream, limit: usize) -> (Vec<u8>, ChunkEnd) {
    let mut buffer = Vec::new();
    while buffer.len() < limit {
        let want = (limit - buffer.len()).min(SPLICE_CHUNK as usize) as u64;
        match source.blocking_read(want) {
            Ok(chunk) => buffer.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return (buffer, ChunkEnd::Ended),
            Err(e) => return (buffer, ChunkEnd::Failed(describe(e))),
        }
    }
    (buffer, ChunkEnd::Full)
}

/// A stream error in words.
pub fn describe(e: StreamError) -> String {
    match e {
        StreamError::Closed => "the stream was closed".to_owned(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
    }
}
