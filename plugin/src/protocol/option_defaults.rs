//! Options with nothing set (S3's defaults), for the front ends that build calls themselves
//! (JSON actions, the edge handler). The WIT records have no `Default`.

use crate::bindings::s3_connector::s3::types::{Conditions, CopyOptions, GetOptions, PutOptions};

/// No conditions.
pub fn no_conditions() -> Conditions {
    Conditions { if_match: None, if_none_match: None, if_modified_since: None, if_unmodified_since: None }
}

/// A whole-object GET of the current version.
pub fn get_options() -> GetOptions {
    GetOptions {
        range: None,
        version_id: None,
        conditions: no_conditions(),
        customer_key: None,
        parallel_ranges: None,
        range_size: None,
    }
}

/// A PUT with S3's defaults.
pub fn put_options() -> PutOptions {
    PutOptions {
        content_type: None,
        metadata: Vec::new(),
        content_disposition: None,
        cache_control: None,
        content_encoding: None,
        storage_class: None,
        tags: Vec::new(),
        encryption: None,
        conditions: no_conditions(),
        checksum: None,
        multipart_threshold: None,
        part_size: None,
        parallel_parts: None,
    }
}

/// A copy that carries the source's metadata over, without conditions on the source.
pub fn copy_options() -> CopyOptions {
    CopyOptions { source_conditions: no_conditions(), metadata: None, content_type: None }
}
