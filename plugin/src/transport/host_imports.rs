//! What the guest asks of its host, whichever world it is built for.
//!
//! The `plugin` world imports the connector's own `settings`, `credentials` (signing keys
//! scoped to a bucket and access class: the host checks each scope against its policy),
//! `presigning` (the host signs presigned URLs) and `documents`. The `edge` world (feature
//! `edge`) imports only `wasi:config/store`, so that any wasi:http host can run it; there the
//! settings and credentials are configuration values, the plugin presigns itself and there is
//! no document store. The S3 code uses this module only, so it is the same in both worlds.

use s3_connector_rules::Access;
use s3_connector_rules::sigv4::SigningIdentity;

use crate::bindings::s3_connector::s3::types::{PresignRequest, S3Error};

/// Where and how to reach S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Scheme, host and optional port.
    pub endpoint: String,
    /// The signing region.
    pub region: String,
    /// Path-style addressing.
    pub path_style: bool,
    /// Attempts per request including retries; 0 means the default.
    pub max_attempts: u32,
    /// Send `x-amz-request-payer: requester` with every request.
    pub requester_pays: bool,
}

/// What credentials are asked for: the host checks it against its policy (plugin world).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The bucket, or none for service-level calls.
    pub bucket: Option<String>,
    /// The access class of the request about to be signed.
    pub access: Access,
    /// The day the request is signed on, `YYYYMMDD`: the signing key is for that day.
    pub signing_date: String,
}

#[cfg(not(feature = "edge"))]
mod world {
    use s3_connector_rules::sigv4::{SigningIdentity, SigningKey};

    use super::{Access, Connection, Scope};
    use crate::bindings::s3_connector::s3::types::{self, PresignRequest, S3Error};
    use crate::bindings::s3_connector::s3::{credentials, presigning, settings};

    pub use crate::bindings::s3_connector::s3::documents::{DocumentMetadata, create, open};

    /// The connection settings of this call.
    pub fn connection() -> Connection {
        let c = settings::connection();
        Connection {
            endpoint: c.endpoint,
            region: c.region,
            path_style: c.path_style,
            max_attempts: c.max_attempts,
            requester_pays: c.requester_pays,
        }
    }

    /// The host's signing key for `scope` in `region`, if its policy allows the scope; none
    /// when the host sends unsigned requests.
    pub fn signing_identity(scope: &Scope, region: &str) -> Result<Option<SigningIdentity>, S3Error> {
        // The rules' access class, written as the contract's enum.
        let access = match scope.access {
            Access::Read => types::Access::Read,
            Access::Write => types::Access::Write,
            Access::Delete => types::Access::Delete,
            Access::List => types::Access::List,
            Access::Admin => types::Access::Admin,
        };
        let scope = credentials::Scope {
            bucket: scope.bucket.clone(),
            access,
            signing_date: scope.signing_date.clone(),
        };
        let Some(c) = credentials::get(&scope)? else { return Ok(None) };
        Ok(Some(SigningIdentity {
            access_key_id: c.access_key_id,
            key: SigningKey::from_bytes(&c.signing_key)?,
            date: c.signing_date,
            region: region.to_owned(),
            session_token: c.session_token,
        }))
    }

    /// The host signs presigned URLs: it checks the request against its policy and cap first.
    pub fn presigned_by_host(request: &PresignRequest) -> Option<Result<String, S3Error>> {
        Some(presigning::presign(request))
    }
}

#[cfg(feature = "edge")]
mod world {
    use s3_connector_rules::edge_config;
    use s3_connector_rules::sigv4::{SERVICE, SigningIdentity, SigningKey};

    use super::{Connection, Scope};
    use crate::bindings::s3_connector::s3::types::{PresignRequest, S3Error};
    // wit/ holds two versions of wasi:config, so wit-bindgen names each module by version.
    #[cfg(feature = "spin")]
    use crate::bindings::wasi::config0_2_0_draft_2024_09_27::store;
    #[cfg(not(feature = "spin"))]
    use crate::bindings::wasi::config0_2_0_rc_1::store;
    use crate::bindings::wasi::io::streams::{InputStream, OutputStream};

    /// A value of the edge world's configuration (see `wit/edge.wit`; the keys are
    /// [`edge_config`]'s).
    fn value(key: &str) -> Result<Option<String>, S3Error> {
        match store::get(key) {
            Ok(value) => Ok(value.filter(|v| !v.is_empty())),
            Err(store::Error::Upstream(e) | store::Error::Io(e)) => {
                Err(S3Error::Other(format!("the host's configuration store failed reading {key:?}: {e}")))
            }
        }
    }

    /// The connection settings, from `endpoint`, `region`, `path_style` and `max_attempts`.
    pub fn connection() -> Connection {
        let text = |key: &str| value(key).ok().flatten();
        let region = text(edge_config::REGION).unwrap_or_else(|| "us-east-1".to_owned());
        Connection {
            endpoint: text(edge_config::ENDPOINT)
                .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com")),
            region,
            path_style: text(edge_config::PATH_STYLE).is_some_and(|v| v.eq_ignore_ascii_case("true")),
            max_attempts: text(edge_config::MAX_ATTEMPTS).and_then(|v| v.parse().ok()).unwrap_or(0),
            requester_pays: text(edge_config::REQUEST_PAYER)
                .is_some_and(|v| v.eq_ignore_ascii_case("requester")),
        }
    }

    /// The signing identity from `access_key_id`, `session_token` and either `signing_key` with
    /// `signing_date` (a key the operator derived, which expires with its day) or
    /// `secret_access_key` (the key derived here). The scope is not checked here: a standard
    /// host has no policy to check it against (the reference host's `serve` still checks every
    /// request).
    pub fn signing_identity(scope: &Scope, region: &str) -> Result<Option<SigningIdentity>, S3Error> {
        let no_credentials = || {
            S3Error::AccessDenied(
                "no credentials: the host's wasi:config has no access_key_id with a signing_key or a \
                 secret_access_key"
                    .to_owned(),
            )
        };
        let access_key_id = value(edge_config::ACCESS_KEY_ID)?.ok_or_else(no_credentials)?;
        let session_token = value(edge_config::SESSION_TOKEN)?;
        if let Some(key) = value(edge_config::SIGNING_KEY)? {
            let date = value(edge_config::SIGNING_DATE)?.unwrap_or_default();
            if date != scope.signing_date {
                return Err(S3Error::AccessDenied(format!(
                    "the configured signing_key is for signing_date {date:?}, but today is {}: give the \
                     host today's key (`s3-connector signing-key` prints one)",
                    scope.signing_date
                )));
            }
            let key =
                SigningKey::from_hex(&key).map_err(|e| S3Error::AccessDenied(format!("signing_key: {e}")))?;
            return Ok(Some(SigningIdentity {
                access_key_id,
                key,
                date,
                region: region.to_owned(),
                session_token,
            }));
        }
        let secret = value(edge_config::SECRET_ACCESS_KEY)?.ok_or_else(no_credentials)?;
        Ok(Some(SigningIdentity {
            access_key_id,
            key: SigningKey::derive(&secret, &scope.signing_date, region, SERVICE),
            date: scope.signing_date.clone(),
            region: region.to_owned(),
            session_token,
        }))
    }

    /// A standard host has no presigner: the plugin signs presigned URLs itself.
    pub fn presigned_by_host(_request: &PresignRequest) -> Option<Result<String, S3Error>> {
        None
    }

    /// A document's metadata (no document store in the edge world).
    pub struct DocumentMetadata {
        /// The media type.
        pub content_type: Option<String>,
        /// The size in bytes.
        pub size: Option<u64>,
        /// The file name.
        pub file_name: Option<String>,
    }

    /// A document reference (no document store in the edge world).
    pub struct DocumentReference {
        /// The store.
        pub store_id: String,
        /// The document.
        pub document_id: String,
        /// Its metadata.
        pub metadata: DocumentMetadata,
    }

    const NO_DOCUMENTS: &str = "the edge world has no document store; send the content inline";

    /// Always fails: no document store.
    pub fn open(_store_id: &str, _document_id: &str) -> Result<(DocumentMetadata, InputStream), String> {
        Err(NO_DOCUMENTS.to_owned())
    }

    /// Always fails: no document store.
    pub fn create(_metadata: &DocumentMetadata) -> Result<(DocumentReference, OutputStream), String> {
        Err(NO_DOCUMENTS.to_owned())
    }
}

pub use world::{DocumentMetadata, connection, create as create_document, open as open_document};

/// The signing identity for `scope` in `region`: the host's derived key in the `plugin` world
/// (none: the host sends unsigned requests), the configured credentials in the `edge` world.
pub fn signing_identity(scope: &Scope, region: &str) -> Result<Option<SigningIdentity>, S3Error> {
    world::signing_identity(scope, region)
}

/// The URL the host presigned for `request`, or `None` where the host does not presign (the
/// `edge` world's standard hosts) and the plugin signs it.
pub fn presigned_by_host(request: &PresignRequest) -> Option<Result<String, S3Error>> {
    world::presigned_by_host(request)
}
