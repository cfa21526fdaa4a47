//! S3's naming rules, the endpoint, and the encoding of keys in request paths.
//!
//! Both sides of the sandbox need the same answers: the plugin refuses a bad name before it
//! sends anything, and the host refuses a request whose bucket the plugin encoded differently
//! from what these rules allow. One crate keeps the two from drifting apart.

mod bucket_name;
mod endpoint;
mod key;
mod operation;

pub use bucket_name::{BucketNameError, validate_bucket_name};
pub use endpoint::{Endpoint, Scheme};
pub use key::{KeyError, MAX_KEY_BYTES, decode_path, encode_key, encode_query_component, validate_key};
pub use operation::Operation;
