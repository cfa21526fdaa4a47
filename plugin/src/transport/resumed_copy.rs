//! A download's body copied into its sink and, when it breaks (a reset, a truncation, a stall
//! past the read timeout), resumed from the first byte not written with a ranged GET of the
//! rest, up to the attempt budget. One sequence for a whole object and for each range of a
//! parallel download, so that both resume, count and fail alike.

use crate::bindings::s3_connector::s3::types::S3Error;
use crate::bindings::wasi::io::streams::OutputStream;
use crate::protocol::checksum::Hasher;
use crate::transport::client::{Call, S3};
use crate::transport::stream_copy::CopyEnd;
use crate::transport::wire::{Body, Response};
use crate::transport::{pause, retry};

/// Whether the download `what` may make attempt `attempt + 1` after it broke off with `written`
/// of its `length` bytes (for `reason`): if so, once the backoff has passed; if not (the budget
/// is spent, or nothing is left to fetch), the error that ends it.
pub fn before_next_attempt(
    s3: &S3,
    what: &str,
    attempt: u32,
    (written, length): (u64, u64),
    reason: &str,
) -> Result<(), S3Error> {
    if attempt >= s3.max_attempts() || written >= length {
        return Err(S3Error::Transport(format!(
            "{what} broke after {written} of {length} bytes, {attempt} attempts in all: {reason}"
        )));
    }
    pause::sleep(retry::backoff(attempt + 1, pause::random_unit()));
    Ok(())
}

/// Streams `body` into `sink` (feeding `hasher`), and whenever it breaks, the rest from
/// `rest(written)`; fails unless exactly `length` bytes arrived in all.
pub fn copy_resuming<'a>(
    s3: &S3,
    what: &str,
    body: Response,
    sink: &OutputStream,
    mut hasher: Option<&mut Hasher>,
    length: u64,
    rest: &dyn Fn(u64) -> Result<Call<'a>, S3Error>,
) -> Result<(), S3Error> {
    let mut written = 0u64;
    let mut body = body;
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
                    "writing {what} to the destination failed after {} bytes: {e}",
                    written + n
                )));
            }
            CopyEnd::SourceFailed(n, e) => {
                written += n;
                before_next_attempt(s3, what, attempt, (written, length), &e)?;
                attempt += 1;
                body = s3.send(rest(written)?, Body::Empty)?;
            }
        }
    }
    if written != length {
        return Err(S3Error::Transport(format!("{what} ended after {written} of its {length} bytes")));
    }
    Ok(())
}
