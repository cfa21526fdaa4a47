//! A request body the host can give again from any offset: a range of a seekable source.
//!
//! Unlike a stream, which is read once, a range is opened anew for every attempt, so a body
//! of any size is replayable without being held in guest memory: the host splices the range
//! into the request (or, for requests side by side, it passes through a piece at a time). The trait keeps the transport independent of the world that provides the
//! source (only the plugin world imports `seekable`).

use crate::bindings::s3_connector::s3::types::{ChecksumAlgorithm, S3Error};
use crate::bindings::wasi::io::streams::InputStream;
use crate::protocol::checksum::Hasher;
use crate::transport::stream_copy::read_up_to;

/// Something that opens byte ranges as fresh host streams.
pub trait RangeSource {
    /// The source's length in bytes.
    fn length(&self) -> u64;

    /// A fresh stream of the `length` bytes from `offset`, or the host's reason why not.
    fn open(&self, offset: u64, length: u64) -> Result<InputStream, String>;
}

/// Bytes read through guest memory at once while hashing a range.
const HASH_CHUNK: usize = 1024 * 1024;

/// A hasher fed with the `length` bytes from `offset`, read through guest memory a chunk at a
/// time (never the whole range), for a checksum sent ahead of the body.
pub fn hash(
    source: &dyn RangeSource,
    offset: u64,
    length: u64,
    algorithm: ChecksumAlgorithm,
) -> Result<Hasher, S3Error> {
    let stream = source.open(offset, length).map_err(|e| {
        S3Error::Other(format!(
            "the host cannot read the {length} bytes from offset {offset} of the source: {e}"
        ))
    })?;
    let mut hasher = Hasher::new(algorithm);
    let mut read = 0u64;
    // Bounded: every pass reads a full chunk (or the rest) or returns.
    while read < length {
        let want = usize::try_from(length - read).map_or(HASH_CHUNK, |rest| rest.min(HASH_CHUNK));
        let (chunk, _) = read_up_to(&stream, want).map_err(|e| {
            S3Error::Other(format!("reading the source failed at offset {}: {e}", offset + read))
        })?;
        hasher.update(&chunk);
        read += chunk.len() as u64;
        if chunk.len() < want {
            return Err(S3Error::InvalidRequest(format!(
                "the source ended {read} bytes into the {length} bytes from offset {offset}; nothing was stored"
            )));
        }
    }
    Ok(hasher)
}
