//! The s3-connector library: an S3 client that runs in a sandbox it cannot leave.
//!
//! It runs the S3 plugin (a WebAssembly component) on wasmtime, gives it a signing key for the
//! scope it asks (never the secret access key), and checks every request it sends against a
//! [`Policy`] parsed from the request itself: a denied request never leaves. The [`Connector`]
//! is the embedding API: typed calls ([`Connector::put_object_bytes`], [`Connector::get_object`], ...),
//! JSON actions ([`Connector::invoke`]) and presigned URLs, each call in a fresh instance.
//!
//! This crate is what an engine embeds: it compiles no command line, server or metrics code
//! (those are the `s3-connector-cli` and `s3-connector-serve` crates). Its default feature
//! `aws-credentials` adds the AWS credential providers (profiles, SSO, STS, web identity, IMDS,
//! the default chain); without it, static and environment credentials remain.
//!
//! Against a local S3 store (any endpoint, or none for AWS):
//!
//! ```
//! use std::sync::Arc;
//! use s3_connector_host::{Connection, Connector, ObjectRef, Policy, Secret, StaticCredentials};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let store = s3_connector_local_store::LocalS3::start(dir.path(), "AKID", Secret::new("SECRET")).await?;
//! # let endpoint = store.endpoint();
//! let connection = Connection::resolve(Some(&endpoint), None, true, |_| None)?;
//! let policy = Policy::from_allow_flags(&["photos=admin", "photos/in/=read,write,list"])?;
//! let credentials = Arc::new(StaticCredentials::new("AKID", Secret::new("SECRET"), None));
//! let connector = Connector::builder(connection, policy, credentials).tenant("photos").build()?;
//!
//! connector.create_bucket("photos").await?;
//! let hello = ObjectRef::new("photos", "in/hello.txt");
//! connector.put_object_bytes(&hello, b"hello", Default::default()).await?;
//! let (sink, mut received) = tokio::io::duplex(64);
//! let info = connector.get_object(&hello, sink, Default::default()).await?;
//! let mut body = Vec::new();
//! tokio::io::AsyncReadExt::read_to_end(&mut received, &mut body).await?;
//! assert_eq!((info.size, body.as_slice()), (5, b"hello".as_slice()));
//!
//! // Outside the policy: refused by the host, nothing sent.
//! let secret = ObjectRef::new("photos", "private/plan.txt");
//! let refused = connector.put_object_bytes(&secret, b"no", Default::default()).await.unwrap_err();
//! assert_eq!(refused.code(), "denied-by-host");
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
pub mod request_settings;
mod runtime;
pub mod secrets;
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
pub use runtime::edge_runtime::{EdgeRuntime, EdgeWorld};
pub use runtime::limits::{Exceeded, Limits};
pub use seekable::{FileSink, FileSource, SeekableSink, SeekableSource};
pub use settings::{Connection, ConnectionError, Endpoint};
pub use types::{ObjectRef, UploadRef};

/// The sandbox's internals, for this project's own white-box tests and benchmarks (feature
/// `internals`, which no product build turns on): not a supported API.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::connector::guest_probe;
    #[cfg(feature = "aws-credentials")]
    pub use crate::credentials::x509::X509Identity;
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
    s3_connector_rules::option_defaults!();
    s3_connector_rules::checksum_names!();

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
