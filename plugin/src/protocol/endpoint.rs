//! The S3 endpoint and where each request goes, as the rules shared with the host define them
//! (the host addresses presigned URLs by the same rule).

pub use s3_connector_rules::{Endpoint, Scheme, Target, target};
