//! A GetObject as its options ask: in one request, or in ranges side by side
//! ([`super::parallel_ranges`]) when `parallel-ranges` says so and no range is asked.

use crate::bindings::s3_connector::s3::types::{GetOptions, ObjectInfo, S3Error};
use crate::bindings::wasi::io::streams::OutputStream;
use crate::operations;
use crate::protocol::s3_error::invalid;
use crate::transport::client::S3;

use super::{parallel_ranges, transfer_plan};

/// GetObject into `sink`, in parallel ranges when the options ask for more than one.
pub fn get_object(
    s3: &S3,
    bucket: &str,
    key: &str,
    sink: &OutputStream,
    options: &GetOptions,
) -> Result<ObjectInfo, S3Error> {
    match (options.range, options.parallel_ranges) {
        (None, Some(parallel)) if parallel != 1 => {
            let (parallel, range_size) =
                transfer_plan::download_plan(parallel, options.range_size).map_err(invalid)?;
            parallel_ranges::download(s3, bucket, key, sink, options, parallel, range_size)
        }
        _ => operations::get_object(s3, bucket, key, sink, options),
    }
}
