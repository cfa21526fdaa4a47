//! The SDKs' default credentials chain: environment, shared profile, web identity, container
//! endpoint, instance metadata (IMDSv2), first configured wins.
//!
//! "Configured" is decided once, when the chain is built, from the environment and the shared
//! files (as the SDKs do: a provider whose variables or profile are absent is skipped; one that
//! is present but broken is an error, not a silent fall-through). IMDS comes last and counts as
//! configured unless `AWS_EC2_METADATA_DISABLED=true`. SSO profiles are not supported (the
//! profile step says so). The chosen provider is wrapped in a [`CachedProvider`].
//!
//! ```no_run
//! use s3_connector_host::credentials::default_chain;
//! # fn example() -> Result<(), s3_connector_host::CredentialsError> {
//! let chain = default_chain(|name| std::env::var(name).ok(), None)?;
//! eprintln!("credentials from {}", chain.description());
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use super::profile_files::ProfileSet;
use super::{
    CachedProvider, ContainerProvider, CredentialsError, CredentialsFuture, CredentialsProvider,
    ImdsProvider, ProfileProvider, StaticCredentials, WebIdentityProvider,
};

/// The chain's choice: the provider that supplies the credentials, cached.
pub struct ChainProvider {
    source: &'static str,
    description: String,
    provider: CachedProvider,
}

impl ChainProvider {
    /// The name of the provider the chain chose: `environment`, `profile`, `web-identity`,
    /// `container` or `imds` (the same as [`CredentialsProvider::name`]).
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// A one-line description of the source without secrets, for logs and `testConnection`.
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// Builds the default chain from `lookup` (normally `|name| std::env::var(name).ok()`) and an
/// explicit profile name (a `--profile` flag; `None` reads `AWS_PROFILE`, else `default`).
///
/// Errors when a configured provider is broken (half-set variables, an unparsable file, a named
/// profile that does not exist, a bad role ARN) or when nothing is configured and IMDS is
/// disabled; the message lists what was looked at.
pub fn default_chain(
    lookup: impl Fn(&str) -> Option<String>,
    profile: Option<&str>,
) -> Result<ChainProvider, CredentialsError> {
    let lookup: &dyn Fn(&str) -> Option<String> = &lookup;
    let chosen = |source: &'static str, description: String, provider: Arc<dyn CredentialsProvider>| {
        Ok(ChainProvider { source, description, provider: CachedProvider::new(provider) })
    };

    if let Some(env) = StaticCredentials::from_env(lookup)? {
        let id = lookup("AWS_ACCESS_KEY_ID").unwrap_or_default();
        let description = format!("environment (AWS_ACCESS_KEY_ID {})", super::profile::abbreviate(&id));
        return chosen("environment", description, Arc::new(env));
    }
    let set = ProfileSet::load(lookup, profile)?;
    if let Some(provider) = ProfileProvider::from_set(&set, lookup)? {
        let description = format!("profile `{}`: {}", provider.profile(), provider.description());
        return chosen("profile", description, Arc::new(provider));
    }
    if let Some(provider) = WebIdentityProvider::from_env(lookup)? {
        let description =
            format!("web identity (AWS_WEB_IDENTITY_TOKEN_FILE) for role {}", provider.role_arn());
        return chosen("web-identity", description, Arc::new(provider));
    }
    if let Some(provider) = ContainerProvider::from_env(lookup)? {
        let description = format!("container credentials endpoint {}", provider.endpoint());
        return chosen("container", description, Arc::new(provider));
    }
    if let Some(provider) = ImdsProvider::from_env(lookup)? {
        let description = format!("EC2 instance metadata (IMDSv2) at {}", provider.endpoint());
        return chosen("imds", description, Arc::new(provider));
    }
    Err(CredentialsError {
        provider: "chain",
        reason: format!(
            "nothing supplies credentials: no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; profile `{}` has no \
             credentials in {}; no AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN; no \
             AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI; IMDS is disabled (AWS_EC2_METADATA_DISABLED). \
             Set one of these or pass keys explicitly",
            set.selected(),
            if set.files().is_empty() {
                "the shared files (none found)".to_owned()
            } else {
                set.files().iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            }
        ),
    })
}

impl fmt::Debug for ChainProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainProvider")
            .field("source", &self.source)
            .field("description", &self.description)
            .field("provider", &self.provider)
            .finish()
    }
}

impl CredentialsProvider for ChainProvider {
    fn name(&self) -> &'static str {
        self.source
    }

    fn credentials(&self) -> CredentialsFuture<'_> {
        self.provider.credentials()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_configured_provider_wins_in_the_sdk_order() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[default]\naws_access_key_id = AKIDPROFILE1\naws_secret_access_key = S\n")
            .unwrap();
        let config = config.display().to_string();
        let nowhere = dir.path().join("none").display().to_string();
        let env: [(&str, &str); 2] =
            [("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT"), ("AWS_SECRET_ACCESS_KEY", "S")];
        let profile: [(&str, &str); 1] = [("AWS_CONFIG_FILE", config.as_str())];
        let web: [(&str, &str); 2] =
            [("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"), ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/w")];
        let container: [(&str, &str); 1] = [("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c")];
        let imds: [(&str, &str); 1] = [("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:2")];
        // Every run points both files somewhere empty unless the profile layer is on.
        let base: [(&str, &str); 3] = [
            ("AWS_CONFIG_FILE", nowhere.as_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", nowhere.as_str()),
            ("HOME", nowhere.as_str()),
        ];
        let layers: [&[(&str, &str)]; 5] = [&env, &profile, &web, &container, &imds];
        let expected = ["environment", "profile", "web-identity", "container", "imds"];
        for first in 0..layers.len() {
            let mut pairs: Vec<(&str, &str)> =
                layers[first..].iter().flat_map(|l| l.iter().copied()).collect();
            pairs.extend(
                base.iter()
                    .filter(|(name, _)| !pairs.iter().any(|(n, _)| n == name))
                    .copied()
                    .collect::<Vec<_>>(),
            );
            let lookup = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
            let chain = default_chain(lookup, None).unwrap();
            assert_eq!(chain.source(), expected[first], "{pairs:?}");
            assert_eq!(chain.name(), expected[first]);
        }
        let off = [
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", nowhere.as_str()),
            ("HOME", nowhere.as_str()),
        ];
        let lookup = |name: &str| off.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        let error = default_chain(lookup, None).unwrap_err().to_string();
        assert!(error.starts_with("no credentials from chain: nothing supplies credentials"), "{error}");
        let error = default_chain(lookup, Some("ghost")).unwrap_err().to_string();
        assert!(error.contains("profile `ghost` is not defined"), "{error}");
        let half = [("AWS_ACCESS_KEY_ID", "AKID")];
        let lookup = |name: &str| half.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        let error = default_chain(lookup, None).unwrap_err().to_string();
        assert!(error.contains("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"), "{error}");
    }
}
