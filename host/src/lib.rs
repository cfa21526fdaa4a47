//! The reference host of the s3-connector plugin.
//!
//! It runs the sandboxed S3 plugin (a WebAssembly component) on wasmtime, gives it short-lived
//! credentials for the scope it asks, and checks every request it sends against a [`Policy`]
//! parsed from the request itself. The [`Connector`] is the embedding API; the `s3-connector`
//! binary is a CLI on top of it, behind the default feature `cli` (with the embedded local store,
//! `local_store`): an engine that embeds the library sets `default-features = false`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use s3_connector_host::{Connection, Connector, ObjectRef, Policy, Secret, StaticCredentials};
//!
//! # async fn example() -> Result<(), s3_connector_host::Error> {
//! let connection = Connection::resolve(Some("http://127.0.0.1:9000"), None, true, |_| None)
//!     .map_err(s3_connector_host::Error::Usage)?;
//! let policy = Policy::from_allow_flags(&["photos/in/=read,write,list"])
//!     .map_err(|e| s3_connector_host::Error::Usage(e.to_string()))?;
//! let credentials = Arc::new(StaticCredentials::new("AKID", Secret::new("SECRET"), None));
//! let connector = Connector::builder(connection, policy, credentials).tenant("photos").build()?;
//! connector.put_object_bytes(&ObjectRef::new("photos", "in/hello.txt"), b"hello", Default::default()).await?;
//! # Ok(()) }
//! ```

pub mod actions;
pub mod audit;
pub mod beneath;
pub mod checksum_validation;
pub mod connector;
pub mod credentials;
pub mod documents;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod instances;
pub mod network;
pub mod policy;
pub mod redact;
pub mod request_settings;
mod runtime;
pub mod scrub;
pub mod secret;
pub mod seekable;
pub mod settings;
pub mod telemetry;

pub use actions::ActionFailure;
pub use checksum_validation::ResponseChecksumValidation;
pub use connector::{Connector, ConnectorBuilder, EdgeCall, HostReason};
pub use credentials::{AwsCredentials, CredentialsError, CredentialsProvider, Secret, StaticCredentials};
pub use documents::{DocumentStore, FsDocumentStore};
pub use error::{Error, InvalidSetting, LocalError};
pub use policy::{Access, Policy, Rule, S3Action};
pub use runtime::edge_runtime::EdgeRuntime;
pub use runtime::limits::{Exceeded, Limits};
pub use seekable::{FileSink, FileSource, SeekableSink, SeekableSource};
pub use settings::{Connection, Endpoint};
pub use types::{ObjectRef, UploadRef};

/// The sandbox's internals, for this project's own white-box tests and benchmarks (feature
/// `internals`, which no product build turns on): not a supported API.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::connector::guest_probe;
    pub use crate::runtime::edge_runtime::EDGE_WASM;
    pub use crate::runtime::egress::EgressGuard;
    pub use crate::runtime::instantiation_floor::InstantiationFloor;
    pub use crate::runtime::plugin_runtime::PLUGIN_WASM;
    pub use crate::runtime::store_state::{Shared, StoreState};
}

/// The contract's records and error variant, as the plugin's WIT defines them.
// bindgen derives the same traits for every type and the error variant has no default, so the
// records' `Default` is written out here.
#[allow(clippy::derivable_impls)]
pub mod types {
    pub use crate::runtime::bindings::s3_connector::s3::types::*;

    impl ObjectRef {
        /// The object `key` in `bucket`. Nothing is checked here: the plugin checks both
        /// against S3's rules where a call enters it, before anything is sent.
        pub fn new(bucket: impl AsRef<str>, key: impl AsRef<str>) -> Self {
            Self { bucket: bucket.as_ref().to_owned(), key: key.as_ref().to_owned() }
        }
    }

    /// `s3://bucket/key`, as the CLI and messages write an object.
    impl std::fmt::Display for ObjectRef {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "s3://{}/{}", self.bucket, self.key)
        }
    }

    impl UploadRef {
        /// The object this upload writes.
        pub fn object(&self) -> ObjectRef {
            ObjectRef::new(&self.bucket, &self.key)
        }
    }

    // Empty options mean S3's defaults; `Default` lets callers name only what they set.
    impl Default for Conditions {
        fn default() -> Self {
            Self { if_match: None, if_none_match: None, if_modified_since: None, if_unmodified_since: None }
        }
    }

    impl Default for PutOptions {
        fn default() -> Self {
            Self {
                content_type: None,
                metadata: Vec::new(),
                content_disposition: None,
                cache_control: None,
                content_encoding: None,
                storage_class: None,
                tags: Vec::new(),
                encryption: None,
                conditions: Conditions::default(),
                checksum: None,
                multipart_threshold: None,
                part_size: None,
                parallel_parts: None,
            }
        }
    }

    impl Default for CopyOptions {
        fn default() -> Self {
            Self { source_conditions: Conditions::default(), metadata: None, content_type: None }
        }
    }

    impl Default for GetOptions {
        fn default() -> Self {
            Self {
                range: None,
                version_id: None,
                conditions: Conditions::default(),
                customer_key: None,
                parallel_ranges: None,
                range_size: None,
            }
        }
    }

    impl Default for ListObjectsRequest {
        fn default() -> Self {
            Self {
                prefix: None,
                delimiter: None,
                max_keys: None,
                continuation_token: None,
                start_after: None,
            }
        }
    }
}
