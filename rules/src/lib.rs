//! S3's naming rules, the endpoint, the encoding of keys in request paths, SigV4 signing, the S3 actions with
//! their access classes, the edge world's configuration keys, and the error vocabulary (codes, exit codes, HTTP statuses, the JSON
//! error object, what is transient).
//!
//! Both sides of the sandbox need the same answers: the plugin refuses a bad name before it
//! sends anything, and the host refuses a request whose bucket the plugin encoded differently
//! from what these rules allow. One crate keeps the two from drifting apart.

mod access;
mod bucket_name;
mod checksum_names;
pub mod civil_date;
pub mod edge_config;
mod endpoint;
mod error_code;
mod key;
mod option_defaults;
mod region;
mod request_target;
mod s3_action;
mod s3_error_mapping;
pub mod sigv4;

pub use access::Access;
pub use bucket_name::{BucketNameError, validate_bucket_name};
pub use endpoint::{Endpoint, EndpointError, Scheme};
pub use error_code::{ErrorBody, ErrorCode, TRANSIENT_S3_CODES, TRANSIENT_STATUSES, is_transient};
pub use key::{KeyError, MAX_KEY_BYTES, decode_path, encode_key, encode_query_component, validate_key};
pub use region::{
    AWS_REGIONS, MAX_SUGGESTION_DISTANCE, RegionError, check_aws_region, edit_distance,
    endpoint_names_region, is_aws_region, nearest_aws_region, partition,
};
pub use request_target::{Target, target};
pub use s3_action::S3Action;
