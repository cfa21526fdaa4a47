//! A destination the host writes at any offset: a download's ranges go where they belong as
//! they arrive, each through a fresh stream, instead of waiting for the ranges before them. The
//! trait keeps the transfers independent of the world that provides the sink
//! (only the plugin world imports `seekable`).

use crate::bindings::s3_connector::s3::types::S3Error;
use crate::bindings::wasi::io::streams::OutputStream;

/// Something that opens fresh host streams writing from any offset.
pub trait RangeSink {
    /// A fresh stream that writes from `offset` on, or the host's reason why not.
    fn open(&self, offset: u64) -> Result<OutputStream, String>;
}

/// A fresh stream of `sink` from `offset`; the host's refusal as the call's error.
pub fn stream_from(sink: &dyn RangeSink, offset: u64) -> Result<OutputStream, S3Error> {
    sink.open(offset).map_err(|e| {
        S3Error::Other(format!("the host cannot write the destination from offset {offset}: {e}"))
    })
}
