//! Credentials: the host owns them; the plugin gets only a signing key derived from them, per call, for the scope it asks.
//!
//! Providers sit behind one trait: static keys and the environment (here), the shared
//! `~/.aws/config` and `~/.aws/credentials` files (`profile`), `credential_process`
//! (`process`), STS AssumeRole (`assume_role`), web identity (`web_identity`), the
//! container credentials endpoint (`container`), the EC2 instance metadata service (`imds`),
//! IAM Identity Center (SSO) profiles with the token of `aws sso login` (`sso`),
//! IAM Roles Anywhere with an X.509 certificate (`roles_anywhere`, `x509`) and the SDKs'
//! default chain of them (`chain`). [`CachedProvider`] caches any of them and
//! refreshes before expiry, one refresh at a time.
//!
//! Every provider beyond static keys and the environment is behind the feature
//! `aws-credentials` (on by default, and with `cli`): an engine that brings its own
//! [`CredentialsProvider`] turns it off and compiles no STS, SigV4 or XML client.

/// [`CredentialsProvider`] for a provider whose credentials come from its own
/// `async fn fetch(&self)`, under the name `$name`: written once for the providers that fetch.
#[cfg(feature = "aws-credentials")]
macro_rules! fetching_provider {
    ($provider:ty, $name:expr) => {
        impl $crate::credentials::CredentialsProvider for $provider {
            fn name(&self) -> &'static str {
                $name
            }

            fn credentials(&self) -> $crate::credentials::CredentialsFuture<'_> {
                Box::pin(self.fetch())
            }
        }
    };
}

mod anonymous;
#[cfg(feature = "aws-credentials")]
mod assume_role;
mod cached;
#[cfg(feature = "aws-credentials")]
mod chain;
#[cfg(feature = "aws-credentials")]
mod container;
#[cfg(feature = "aws-credentials")]
mod der;
#[cfg(feature = "aws-credentials")]
mod imds;
#[cfg(feature = "aws-credentials")]
mod process;
#[cfg(feature = "aws-credentials")]
mod profile;
#[cfg(feature = "aws-credentials")]
mod profile_files;
#[cfg(feature = "aws-credentials")]
mod role_session;
#[cfg(feature = "aws-credentials")]
mod roles_anywhere;
mod signing_keys;
#[cfg(feature = "aws-credentials")]
mod sso;
#[cfg(feature = "aws-credentials")]
mod sts;
#[cfg(feature = "aws-credentials")]
mod sts_policy;
pub mod time;
#[cfg(feature = "aws-credentials")]
mod web_identity;
#[cfg(feature = "aws-credentials")]
pub(crate) mod x509;
#[cfg(feature = "aws-credentials")]
mod x509_signing;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

#[cfg(feature = "aws-credentials")]
pub use self::{
    assume_role::AssumeRoleProvider,
    chain::{ChainProvider, default_chain},
    container::ContainerProvider,
    imds::ImdsProvider,
    process::ProcessProvider,
    profile::{ProfileProvider, ProfileSettings},
    role_session::{RoleSession, RoleSessionSettings, SessionPolicySettings},
    roles_anywhere::RolesAnywhereProvider,
    sso::{SsoLogin, SsoProvider, token_cache_file},
    web_identity::WebIdentityProvider,
};
pub use crate::secrets::Secret;
pub use anonymous::Anonymous;
pub use cached::{CachedProvider, DEFAULT_REFRESH_MARGIN};
pub use signing_keys::SigningKeys;

/// AWS credentials. Debug never shows the secret parts.
#[derive(Clone, Debug)]
pub struct AwsCredentials {
    /// The access key id (not secret: it names the key, as in audit logs).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
    /// When temporary credentials expire.
    pub expires_at: Option<SystemTime>,
}

impl AwsCredentials {
    /// Credentials as a service answered them (STS, Roles Anywhere): the keys trimmed, an empty
    /// session token taken for none.
    // Its callers, STS and Roles Anywhere, are of the `aws-credentials` feature.
    #[cfg(feature = "aws-credentials")]
    pub(crate) fn from_answer(
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<String>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        AwsCredentials {
            access_key_id: access_key_id.trim().to_owned(),
            secret_access_key: Secret::new(secret_access_key.trim()),
            session_token: session_token.map(|t| Secret::new(t.trim())).filter(|t| !t.expose().is_empty()),
            expires_at,
        }
    }
}

/// Why no credentials could be had. The message names the provider and what supplies it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no credentials from {provider}: {reason}")]
pub struct CredentialsError {
    /// The provider's name.
    pub provider: &'static str,
    /// What is missing and how to supply it.
    pub reason: String,
}

/// A boxed future, so that the trait stays object-safe.
pub type CredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AwsCredentials, CredentialsError>> + Send + 'a>>;

/// A source of credentials.
pub trait CredentialsProvider: Send + Sync + fmt::Debug {
    /// A short name for messages and logs, for example `static` or `environment`.
    fn name(&self) -> &'static str;

    /// Current credentials (providers of temporary credentials refresh them here).
    fn credentials(&self) -> CredentialsFuture<'_>;

    /// Whether requests are signed with these credentials: false only for [`Anonymous`]
    /// access, whose requests go unsigned (`--no-sign-request`).
    fn signs(&self) -> bool {
        true
    }
}

/// Fixed credentials: from flags, a config file, or read once from the environment.
#[derive(Clone, Debug)]
pub struct StaticCredentials {
    name: &'static str,
    credentials: AwsCredentials,
}

impl StaticCredentials {
    /// Static keys with an optional session token.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    ) -> Self {
        let credentials = AwsCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key,
            session_token,
            expires_at: None,
        };
        Self { name: "static", credentials }
    }

    /// Keys that came in a JSON action's `authentication` (Camunda's `credentials` type), named
    /// `request` wherever the provider is named.
    pub fn from_request(access_key_id: impl Into<String>, secret_access_key: Secret) -> Self {
        Self { name: "request", ..Self::new(access_key_id, secret_access_key, None) }
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`, read
    /// through `lookup` (normally `std::env::var`). `None` when neither key variable is set.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, CredentialsError> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        match (nonempty("AWS_ACCESS_KEY_ID"), nonempty("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => {
                let mut provider =
                    Self::new(id, Secret::new(secret), nonempty("AWS_SESSION_TOKEN").map(Secret::new));
                provider.name = "environment";
                Ok(Some(provider))
            }
            (None, None) => Ok(None),
            (Some(_), None) => Err(CredentialsError {
                provider: "environment",
                reason: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both".to_owned(),
            }),
            (None, Some(_)) => Err(CredentialsError {
                provider: "environment",
                reason: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both".to_owned(),
            }),
        }
    }
}

impl CredentialsProvider for StaticCredentials {
    fn name(&self) -> &'static str {
        self.name
    }

    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(std::future::ready(Ok(self.credentials.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_credentials_need_both_keys() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let both = StaticCredentials::from_env(env(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("AWS_SESSION_TOKEN", "TOKEN"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(both.name(), "environment");
        assert_eq!(both.credentials.session_token.as_ref().map(Secret::expose), Some("TOKEN"));
        assert!(StaticCredentials::from_env(env(&[])).unwrap().is_none());
        let half =
            StaticCredentials::from_env(env(&[("AWS_ACCESS_KEY_ID", "AKID")])).unwrap_err().to_string();
        assert!(half.contains("AWS_SECRET_ACCESS_KEY"), "{half}");
        let debug = format!("{both:?}");
        assert!(!debug.contains("SECRET") && !debug.contains("TOKEN"), "{debug}");
    }
}
