//! Credentials and settings from a named profile of the shared files.
//!
//! A profile supplies credentials in one of these ways, tried in this order (the SDKs' order):
//! `role_arn` with `source_profile` (itself resolved the same way, static keys winning there so
//! that a profile may sign for its own role) or `credential_source` (`Environment`,
//! `Ec2InstanceMetadata`, `EcsContainer`), or with `web_identity_token_file`; IAM Identity
//! Center (`sso_account_id` and `sso_role_name`, with `sso_session` naming a `[sso-session NAME]`
//! section or the legacy `sso_start_url` and `sso_region`: see [`super::sso`]); static keys
//! (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`); `credential_process`.
//! `mfa_serial` is refused (no prompt here).
//!
//! Role sessions go to STS in the region `AWS_REGION`, `AWS_DEFAULT_REGION`, the selected
//! profile's `region`, else `us-east-1`; at the endpoint `AWS_ENDPOINT_URL_STS`,
//! `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else the regional STS endpoint. The SSO
//! portal is the one of `sso_region`, else `AWS_ENDPOINT_URL_SSO` (only that variable: the SSO
//! access token must not follow a general endpoint to an S3-compatible store).
//!
//! ```no_run
//! use s3_connector_host::credentials::{CachedProvider, ProfileProvider};
//! # fn example() -> Result<(), s3_connector_host::CredentialsError> {
//! let lookup = |name: &str| std::env::var(name).ok();
//! if let Some(provider) = ProfileProvider::load(&lookup, Some("dev"))? {
//!     println!("{}", provider.description());
//!     let cached = CachedProvider::new(std::sync::Arc::new(provider));
//! }
//! # Ok(()) }
//! ```

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::profile_files::{Profile, ProfileSet};
use super::role_session::RoleSessionSettings;
use super::{
    AssumeRoleProvider, CachedProvider, ContainerProvider, CredentialsError, CredentialsFuture,
    CredentialsProvider, ImdsProvider, ProcessProvider, Secret, SsoLogin, SsoProvider, StaticCredentials,
    WebIdentityProvider,
};

const NAME: &str = "profile";

/// How many profiles a `source_profile` chain may pass through.
const MAX_CHAIN: usize = 16;

/// Where the first credentials of a profile's chain come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseCredentials {
    /// Static keys in a profile.
    Static {
        /// The profile holding them.
        profile: String,
        /// The access key id.
        access_key_id: String,
        /// The secret access key.
        secret_access_key: Secret,
        /// The session token, for temporary keys.
        session_token: Option<Secret>,
    },
    /// A `credential_process` command.
    Process {
        /// The profile holding it.
        profile: String,
        /// The command (redacted: it may carry a token).
        command: Secret,
    },
    /// `web_identity_token_file` with the profile's `role_arn`.
    WebIdentity {
        /// The profile holding it.
        profile: String,
        /// The role to assume.
        role_arn: String,
        /// The token file.
        token_file: String,
        /// `role_session_name`.
        session_name: Option<String>,
    },
    /// IAM Identity Center: a role of an account, with the token of `aws sso login`.
    Sso {
        /// The profile holding it.
        profile: String,
        /// Which login, and so which cached token.
        login: SsoLogin,
        /// `sso_account_id`.
        account_id: String,
        /// `sso_role_name`.
        role_name: String,
    },
    /// `credential_source = Environment`.
    Environment,
    /// `credential_source = Ec2InstanceMetadata`.
    Imds,
    /// `credential_source = EcsContainer`.
    Container,
}

/// One `AssumeRole` in a profile's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStep {
    /// The profile naming the role.
    pub profile: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `role_session_name`.
    pub session_name: Option<String>,
    /// `external_id` (redacted in Debug).
    pub external_id: Option<Secret>,
    /// `duration_seconds`.
    pub duration_seconds: Option<u64>,
}

/// A profile's credentials: a base, then roles assumed in order, each signed by the previous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedProfile {
    /// Where the chain starts.
    pub base: BaseCredentials,
    /// The roles, first assumed first.
    pub roles: Vec<RoleStep>,
}

fn static_keys(profile: &Profile) -> Result<Option<BaseCredentials>, String> {
    match (profile.get("aws_access_key_id"), profile.get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok(Some(BaseCredentials::Static {
            profile: profile.name().to_owned(),
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: profile.get("aws_session_token").map(Secret::new),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(format!(
            "profile `{}` has aws_access_key_id but no aws_secret_access_key; add it",
            profile.name()
        )),
        (None, Some(_)) => Err(format!(
            "profile `{}` has aws_secret_access_key but no aws_access_key_id; add it",
            profile.name()
        )),
    }
}

/// The IAM Identity Center settings of `profile`, as botocore reads them: with `sso_session`, the
/// start URL and region from its `[sso-session NAME]` section (the profile may repeat them, but
/// not differ); without, from the profile itself.
fn sso_base(set: &ProfileSet, profile: &Profile) -> Result<BaseCredentials, String> {
    let name = profile.name();
    let mut missing: Vec<String> = Vec::new();
    let mut require = |value: Option<&str>, key: &str| -> String {
        value.map(str::to_owned).unwrap_or_else(|| {
            missing.push(key.to_owned());
            String::new()
        })
    };
    let login = match profile.get("sso_session") {
        Some(session_name) => {
            let Some(session) = set.sso_session(session_name) else {
                return Err(format!(
                    "profile `{name}` names sso_session `{session_name}`, but the config file has no \
                     [sso-session {session_name}] section"
                ));
            };
            for key in ["sso_start_url", "sso_region"] {
                if let (Some(own), Some(theirs)) = (profile.get(key), session.get(key))
                    && own != theirs
                {
                    return Err(format!(
                        "profile `{name}`: {key} is {own:?} here but {theirs:?} in [sso-session {session_name}]; \
                         keep one"
                    ));
                }
            }
            let start_url = require(
                session.get("sso_start_url"),
                &format!("sso_start_url (in [sso-session {session_name}])"),
            );
            let region =
                require(session.get("sso_region"), &format!("sso_region (in [sso-session {session_name}])"));
            SsoLogin::Session { name: session_name.to_owned(), start_url, region }
        }
        None => SsoLogin::Legacy {
            start_url: require(profile.get("sso_start_url"), "sso_start_url (or sso_session)"),
            region: require(profile.get("sso_region"), "sso_region"),
        },
    };
    let account_id = require(profile.get("sso_account_id"), "sso_account_id");
    let role_name = require(profile.get("sso_role_name"), "sso_role_name");
    if !missing.is_empty() {
        return Err(format!(
            "profile `{name}` uses IAM Identity Center (SSO) but lacks {}; add them as `aws configure sso` \
             writes them",
            missing.join(", ")
        ));
    }
    Ok(BaseCredentials::Sso { profile: name.to_owned(), login, account_id, role_name })
}

/// Resolves the credentials of profile `name` in `set`: `Ok(None)` when the profile exists but
/// configures no credentials (it may hold only a region). Errors say which profile and key is
/// wrong.
pub(crate) fn resolve(set: &ProfileSet, name: &str) -> Result<Option<ResolvedProfile>, String> {
    let mut roles: Vec<RoleStep> = Vec::new();
    let mut visited: HashSet<String> = HashSet::new();
    let mut current = name.to_owned();
    let base = loop {
        if visited.len() >= MAX_CHAIN {
            return Err(format!("profile `{name}` chains through more than {MAX_CHAIN} source profiles"));
        }
        let Some(profile) = set.get(&current) else {
            let names: Vec<&str> = set.names().collect();
            return Err(match roles.last() {
                Some(role) => format!(
                    "profile `{}` names source_profile `{current}`, which is not defined (profiles: {})",
                    role.profile,
                    names.join(", ")
                ),
                None => format!("profile `{current}` is not defined (profiles: {})", names.join(", ")),
            });
        };
        let first = visited.is_empty();
        let revisit = !visited.insert(current.clone());
        if !first && let Some(keys) = static_keys(profile)? {
            break keys;
        }
        if revisit {
            return Err(format!(
                "source_profile of profile `{current}` loops back to itself without static keys"
            ));
        }
        if profile.get("mfa_serial").is_some() {
            return Err(format!(
                "profile `{current}` needs an MFA code (mfa_serial), which cannot be prompted here"
            ));
        }
        if let Some(role_arn) = profile.get("role_arn") {
            let step = RoleStep {
                profile: current.clone(),
                role_arn: role_arn.to_owned(),
                session_name: profile.get("role_session_name").map(str::to_owned),
                external_id: profile.get("external_id").map(Secret::new),
                duration_seconds: match profile.get("duration_seconds") {
                    Some(text) => Some(text.parse().map_err(|_| {
                        format!("profile `{current}`: duration_seconds {text:?} is not a number of seconds")
                    })?),
                    None => None,
                },
            };
            match (
                profile.get("source_profile"),
                profile.get("credential_source"),
                profile.get("web_identity_token_file"),
            ) {
                (Some(_), Some(_), _) => {
                    return Err(format!(
                        "profile `{current}` has both source_profile and credential_source; keep one"
                    ));
                }
                (Some(source), None, _) => {
                    roles.push(step);
                    current = source.to_owned();
                    continue;
                }
                (None, Some(source), _) => {
                    roles.push(step);
                    break match source {
                        "Environment" => BaseCredentials::Environment,
                        "Ec2InstanceMetadata" => BaseCredentials::Imds,
                        "EcsContainer" => BaseCredentials::Container,
                        other => {
                            return Err(format!(
                                "profile `{current}`: credential_source {other:?} is not Environment, \
                                 Ec2InstanceMetadata or EcsContainer"
                            ));
                        }
                    };
                }
                (None, None, Some(token_file)) => {
                    break BaseCredentials::WebIdentity {
                        profile: current.clone(),
                        role_arn: step.role_arn,
                        token_file: token_file.to_owned(),
                        session_name: step.session_name,
                    };
                }
                (None, None, None) => {
                    return Err(format!(
                        "profile `{current}` has role_arn but no source_profile, credential_source or \
                         web_identity_token_file to assume it with"
                    ));
                }
            }
        }
        if profile.get("web_identity_token_file").is_some() {
            return Err(format!("profile `{current}` has web_identity_token_file but no role_arn"));
        }
        // The SDKs' order: SSO (a role to ask the portal for) before keys in the profile.
        if profile.get("sso_account_id").is_some() || profile.get("sso_role_name").is_some() {
            break sso_base(set, profile)?;
        }
        if let Some(keys) = static_keys(profile)? {
            break keys;
        }
        if let Some(command) = profile.get("credential_process") {
            break BaseCredentials::Process { profile: current.clone(), command: Secret::new(command) };
        }
        // A profile made only for `aws sso login` (a session, no role) gives no credentials;
        // saying so beats "no credentials" or the next provider's error.
        if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
            return Err(format!(
                "profile `{current}` signs in to IAM Identity Center (SSO) but names no role; add sso_account_id \
                 and sso_role_name"
            ));
        }
        if first {
            return Ok(None);
        }
        return Err(format!(
            "source profile `{current}` has no credentials (static keys, credential_process, role_arn)"
        ));
    };
    roles.reverse();
    Ok(Some(ResolvedProfile { base, roles }))
}

/// Region and endpoint from the selected profile, for the connection settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileSettings {
    /// The selected profile's name.
    pub profile: String,
    /// Its `region`.
    pub region: Option<String>,
    /// Its `endpoint_url`.
    pub endpoint_url: Option<String>,
    /// Its `ca_bundle`: PEM CA certificates to trust besides the system's.
    pub ca_bundle: Option<String>,
    /// Its `use_fips_endpoint`.
    pub use_fips_endpoint: Option<String>,
    /// Its `use_dualstack_endpoint`.
    pub use_dualstack_endpoint: Option<String>,
    /// Its `request_checksum_calculation` (`when_supported` or `when_required`).
    pub request_checksum_calculation: Option<String>,
    /// Its `response_checksum_validation` (`when_supported` or `when_required`).
    pub response_checksum_validation: Option<String>,
}

impl ProfileSettings {
    /// The selected profile's settings (`profile`, else `AWS_PROFILE`, else `default`); empty
    /// when the files or the profile do not exist, an error when a file does not parse or a
    /// named profile is missing.
    pub fn load(
        lookup: &dyn Fn(&str) -> Option<String>,
        profile: Option<&str>,
    ) -> Result<Self, CredentialsError> {
        let set = ProfileSet::load(lookup, profile)?;
        Self::from_set(&set)
    }

    /// The selected profile's settings in an already loaded set.
    pub fn from_set(set: &ProfileSet) -> Result<Self, CredentialsError> {
        let profile = set.selected_profile();
        if profile.is_none() && set.is_explicit() {
            return Err(missing_profile(set));
        }
        Ok(Self {
            profile: set.selected().to_owned(),
            region: profile.and_then(|p| p.get("region")).map(str::to_owned),
            endpoint_url: profile.and_then(|p| p.get("endpoint_url")).map(str::to_owned),
            ca_bundle: profile.and_then(|p| p.get("ca_bundle")).map(str::to_owned),
            use_fips_endpoint: profile.and_then(|p| p.get("use_fips_endpoint")).map(str::to_owned),
            use_dualstack_endpoint: profile.and_then(|p| p.get("use_dualstack_endpoint")).map(str::to_owned),
            request_checksum_calculation: profile
                .and_then(|p| p.get("request_checksum_calculation"))
                .map(str::to_owned),
            response_checksum_validation: profile
                .and_then(|p| p.get("response_checksum_validation"))
                .map(str::to_owned),
        })
    }

    /// `lookup`, falling back to this profile's region for `AWS_REGION`, its endpoint for
    /// `AWS_ENDPOINT_URL` and its `use_fips_endpoint` / `use_dualstack_endpoint` for
    /// `AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT`: the SDKs' precedence (environment
    /// before profile), ready for `Connection::resolve`.
    pub fn env_fallback<'a>(
        &'a self,
        lookup: impl Fn(&str) -> Option<String> + 'a,
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |name: &str| {
            lookup(name).filter(|v| !v.is_empty()).or_else(|| match name {
                // AWS_DEFAULT_REGION, read after AWS_REGION, still beats the profile.
                "AWS_REGION" if lookup("AWS_DEFAULT_REGION").is_none_or(|v| v.is_empty()) => {
                    self.region.clone()
                }
                "AWS_ENDPOINT_URL" => self.endpoint_url.clone(),
                "AWS_USE_FIPS_ENDPOINT" => self.use_fips_endpoint.clone(),
                "AWS_USE_DUALSTACK_ENDPOINT" => self.use_dualstack_endpoint.clone(),
                _ => None,
            })
        }
    }
}

fn missing_profile(set: &ProfileSet) -> CredentialsError {
    let files: Vec<String> = set.files().iter().map(|f| f.display().to_string()).collect();
    let names: Vec<&str> = set.names().collect();
    CredentialsError {
        provider: NAME,
        reason: format!(
            "profile `{}` is not defined in {} (profiles: {}); check --profile / AWS_PROFILE, AWS_CONFIG_FILE \
             and AWS_SHARED_CREDENTIALS_FILE",
            set.selected(),
            if files.is_empty() { "any file (none found)".to_owned() } else { files.join(", ") },
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        ),
    }
}

/// Credentials from a profile: static keys, `credential_process`, web identity, or roles
/// assumed with STS on top of any of them.
pub struct ProfileProvider {
    profile: String,
    description: String,
    inner: Arc<dyn CredentialsProvider>,
}

impl ProfileProvider {
    /// Loads the files and builds the selected profile's provider (see `ProfileSet::load`).
    /// `None` when the profile does not exist (and was not named) or configures no credentials.
    pub fn load(
        lookup: &dyn Fn(&str) -> Option<String>,
        profile: Option<&str>,
    ) -> Result<Option<Self>, CredentialsError> {
        let set = ProfileSet::load(lookup, profile)?;
        Self::from_set(&set, lookup)
    }

    /// The selected profile's provider in an already loaded set; `lookup` gives the
    /// environment for region, endpoint and `credential_source`.
    pub fn from_set(
        set: &ProfileSet,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, CredentialsError> {
        let error = |reason: String| CredentialsError { provider: NAME, reason };
        if set.selected_profile().is_none() {
            return if set.is_explicit() { Err(missing_profile(set)) } else { Ok(None) };
        }
        let Some(resolved) = resolve(set, set.selected()).map_err(error)? else {
            return Ok(None);
        };
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let settings = ProfileSettings::from_set(set)?;
        let region = nonempty("AWS_REGION")
            .or_else(|| nonempty("AWS_DEFAULT_REGION"))
            .or(settings.region)
            .unwrap_or_else(|| crate::settings::DEFAULT_REGION.to_owned());
        let endpoint = nonempty("AWS_ENDPOINT_URL_STS")
            .or_else(|| nonempty("AWS_ENDPOINT_URL"))
            .or(settings.endpoint_url);
        let in_profile = |e: CredentialsError| error(format!("profile `{}`: {e}", set.selected()));
        // STS is reached with the same trust as S3: AWS_CA_BUNDLE, else the profile's ca_bundle.
        let bundle =
            crate::network::CaBundle::resolve(None, None, lookup, settings.ca_bundle.clone().map(Into::into));
        let trust = match bundle {
            Some(bundle) => crate::network::Trust::with_ca_bundle(bundle),
            None => Ok(crate::network::Trust::system()),
        }
        .map_err(|e| error(format!("profile `{}`: {e}", set.selected())))?;
        let proxies = crate::network::ProxySettings::resolve(None, lookup)
            .map_err(|e| error(format!("profile `{}`: {e}", set.selected())))?;

        let (mut inner, mut description): (Arc<dyn CredentialsProvider>, String) = match resolved.base {
            BaseCredentials::Static { profile, access_key_id, secret_access_key, session_token } => {
                let kind = if session_token.is_some() { "session keys" } else { "static keys" };
                let description = format!("{kind} {} of profile `{profile}`", abbreviate(&access_key_id));
                (
                    Arc::new(StaticCredentials::new(access_key_id, secret_access_key, session_token)),
                    description,
                )
            }
            BaseCredentials::Process { profile, command } => {
                let provider = ProcessProvider::new(command.expose(), profile.clone());
                let description =
                    format!("credential_process `{}` of profile `{profile}`", provider.program());
                (Arc::new(CachedProvider::new(Arc::new(provider))), description)
            }
            BaseCredentials::WebIdentity { profile, role_arn, token_file, session_name } => {
                let mut provider = WebIdentityProvider::new(&token_file, &role_arn).map_err(in_profile)?;
                if let Some(name) = session_name {
                    provider = provider.with_session_name(name).map_err(in_profile)?;
                }
                provider =
                    provider.with_region(&region).with_trust(trust.clone()).with_proxies(proxies.clone());
                if let Some(url) = &endpoint {
                    provider = provider.with_endpoint(url).map_err(in_profile)?;
                }
                let description =
                    format!("web identity from {token_file} for {role_arn} (profile `{profile}`)");
                (Arc::new(CachedProvider::new(Arc::new(provider))), description)
            }
            BaseCredentials::Sso { profile, login, account_id, role_name } => {
                // The token cache is where `aws sso login` writes it: under the home directory,
                // found as the shared files are.
                let home = nonempty("HOME").or_else(|| nonempty("USERPROFILE")).ok_or_else(|| {
                    error(format!(
                        "profile `{profile}` uses IAM Identity Center, whose token is cached under \
                         ~/.aws/sso/cache, but neither HOME nor USERPROFILE is set"
                    ))
                })?;
                let mut provider =
                    SsoProvider::new(&profile, login, account_id, role_name, std::path::Path::new(&home))
                        .map_err(in_profile)?
                        .with_trust(trust.clone())
                        .with_proxies(proxies.clone());
                if let Some(url) = nonempty("AWS_ENDPOINT_URL_SSO") {
                    provider = provider.with_endpoint(&url).map_err(in_profile)?;
                }
                let description = provider.description();
                (Arc::new(CachedProvider::new(Arc::new(provider))), description)
            }
            BaseCredentials::Environment => {
                let provider = StaticCredentials::from_env(lookup).map_err(in_profile)?.ok_or_else(|| {
                    error(format!(
                        "profile `{}`: credential_source = Environment, but AWS_ACCESS_KEY_ID and \
                         AWS_SECRET_ACCESS_KEY are not set",
                        set.selected()
                    ))
                })?;
                (Arc::new(provider), "the environment (credential_source)".to_owned())
            }
            BaseCredentials::Imds => {
                let provider = ImdsProvider::from_env(lookup).map_err(in_profile)?.ok_or_else(|| {
                    error(format!(
                        "profile `{}`: credential_source = Ec2InstanceMetadata, but AWS_EC2_METADATA_DISABLED is true",
                        set.selected()
                    ))
                })?;
                let description = format!("IMDS at {} (credential_source)", provider.endpoint());
                (Arc::new(CachedProvider::new(Arc::new(provider))), description)
            }
            BaseCredentials::Container => {
                let provider = ContainerProvider::from_env(lookup).map_err(in_profile)?.ok_or_else(|| {
                    error(format!(
                        "profile `{}`: credential_source = EcsContainer, but neither \
                         AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
                        set.selected()
                    ))
                })?;
                let description =
                    format!("the container endpoint {} (credential_source)", provider.endpoint());
                (Arc::new(CachedProvider::new(Arc::new(provider))), description)
            }
        };
        let count = resolved.roles.len();
        for (index, step) in resolved.roles.into_iter().enumerate() {
            let mut role = AssumeRoleProvider::new(inner, &step.role_arn)
                .map_err(in_profile)?
                .with_region(&region)
                .with_trust(trust.clone())
                .with_proxies(proxies.clone());
            if let Some(name) = &step.session_name {
                role = role.with_session_name(name).map_err(in_profile)?;
            }
            if let Some(external_id) = &step.external_id {
                role = role.with_external_id(external_id.expose());
            }
            if let Some(seconds) = step.duration_seconds {
                role = role.with_duration(Duration::from_secs(seconds)).map_err(in_profile)?;
            }
            if let Some(url) = &endpoint {
                role = role.with_endpoint(url).map_err(in_profile)?;
            }
            description = format!("role {} (profile `{}`) via {description}", step.role_arn, step.profile);
            // Intermediate roles are cached; the last one is cached by whoever wraps this provider.
            inner = if index + 1 < count {
                Arc::new(CachedProvider::new(Arc::new(role)))
            } else {
                Arc::new(role)
            };
        }
        Ok(Some(Self { profile: set.selected().to_owned(), description, inner }))
    }

    /// What supplies the credentials, without secrets: for example `role
    /// arn:aws:iam::123456789012:role/r (profile `dev`) via static keys AKIA...MPLE of profile `base``.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The selected profile's name.
    pub fn profile(&self) -> &str {
        &self.profile
    }
}

/// An access key id shortened to its first and last four characters.
pub(crate) fn abbreviate(access_key_id: &str) -> String {
    if access_key_id.len() > 8 && access_key_id.is_ascii() {
        format!("{}...{}", &access_key_id[..4], &access_key_id[access_key_id.len() - 4..])
    } else {
        "<short key id>".to_owned()
    }
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileProvider")
            .field("profile", &self.profile)
            .field("description", &self.description)
            .field("inner", &self.inner)
            .finish()
    }
}

impl CredentialsProvider for ProfileProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move {
            self.inner.credentials().await.map_err(|e| CredentialsError {
                provider: NAME,
                reason: format!("profile `{}`: {e}", self.profile),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(config: &str, credentials: &str, selected: &str) -> ProfileSet {
        ProfileSet::parse(Some(config), Some(credentials), Some(selected)).unwrap()
    }

    fn static_base(profile: &str, id: &str, secret: &str) -> BaseCredentials {
        BaseCredentials::Static {
            profile: profile.into(),
            access_key_id: id.into(),
            secret_access_key: Secret::new(secret),
            session_token: None,
        }
    }

    fn sso_session_base(profile: &str) -> BaseCredentials {
        BaseCredentials::Sso {
            profile: profile.into(),
            login: SsoLogin::Session {
                name: "corp".into(),
                start_url: "https://corp.awsapps.com/start".into(),
                region: "eu-central-1".into(),
            },
            account_id: "123456789012".into(),
            role_name: "Reader".into(),
        }
    }

    fn role(profile: &str, arn: &str) -> RoleStep {
        RoleStep {
            profile: profile.into(),
            role_arn: arn.into(),
            session_name: None,
            external_id: None,
            duration_seconds: None,
        }
    }

    #[test]
    fn profiles_resolve_to_a_base_and_roles() {
        let config = "\
[profile keys]
region = eu-west-1
[profile token]
aws_access_key_id = ASIA1
aws_secret_access_key = S2
aws_session_token = T2
[profile process]
credential_process = /bin/creds --json
[profile role]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = keys
role_session_name = sess
external_id = ext
duration_seconds = 3600
[profile two-hops]
role_arn = arn:aws:iam::123456789012:role/b
source_profile = role
[profile self]
role_arn = arn:aws:iam::123456789012:role/self
source_profile = self
aws_access_key_id = AKSELF
aws_secret_access_key = SSELF
[profile env]
role_arn = arn:aws:iam::123456789012:role/e
credential_source = Environment
[profile ec2]
role_arn = arn:aws:iam::123456789012:role/e
credential_source = Ec2InstanceMetadata
[profile web]
role_arn = arn:aws:iam::123456789012:role/w
web_identity_token_file = /var/token
[profile region-only]
region = us-west-2
[profile loop-a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = loop-b
[profile loop-b]
role_arn = arn:aws:iam::123456789012:role/b
source_profile = loop-a
[profile dangling]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = nowhere
[profile no-source]
role_arn = arn:aws:iam::123456789012:role/a
[profile both]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = keys
credential_source = Environment
[profile bad-source]
role_arn = arn:aws:iam::123456789012:role/a
credential_source = Laptop
[profile half]
aws_access_key_id = AKHALF
[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Reader
region = eu-west-1
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1
sso_registration_scopes = sso:account:access
[profile sso-legacy]
sso_start_url = https://d-abc123.awsapps.com/start
sso_region = us-east-1
sso_account_id = 210987654321
sso_role_name = Admin
[profile sso-ghost]
sso_session = ghost
sso_account_id = 123456789012
sso_role_name = Reader
[profile sso-half]
sso_start_url = https://d-abc123.awsapps.com/start
sso_account_id = 123456789012
[profile sso-differs]
sso_session = corp
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = Reader
[profile sso-login-only]
sso_session = corp
[profile sso-role]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = sso
[profile mfa]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = keys
mfa_serial = arn:aws:iam::123456789012:mfa/me
[profile empty-source]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = region-only
[profile bad-duration]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = keys
duration_seconds = an hour
";
        let credentials = "[keys]\naws_access_key_id = AKID\naws_secret_access_key = S1\n";
        let a = "arn:aws:iam::123456789012:role/a";
        let table: Vec<(&str, Result<Option<ResolvedProfile>, &str>)> = vec![
            ("keys", Ok(Some(ResolvedProfile { base: static_base("keys", "AKID", "S1"), roles: vec![] }))),
            (
                "token",
                Ok(Some(ResolvedProfile {
                    base: BaseCredentials::Static {
                        profile: "token".into(),
                        access_key_id: "ASIA1".into(),
                        secret_access_key: Secret::new("S2"),
                        session_token: Some(Secret::new("T2")),
                    },
                    roles: vec![],
                })),
            ),
            (
                "process",
                Ok(Some(ResolvedProfile {
                    base: BaseCredentials::Process {
                        profile: "process".into(),
                        command: Secret::new("/bin/creds --json"),
                    },
                    roles: vec![],
                })),
            ),
            (
                "role",
                Ok(Some(ResolvedProfile {
                    base: static_base("keys", "AKID", "S1"),
                    roles: vec![RoleStep {
                        session_name: Some("sess".into()),
                        external_id: Some(Secret::new("ext")),
                        duration_seconds: Some(3600),
                        ..role("role", a)
                    }],
                })),
            ),
            (
                "two-hops",
                Ok(Some(ResolvedProfile {
                    base: static_base("keys", "AKID", "S1"),
                    roles: vec![
                        RoleStep {
                            session_name: Some("sess".into()),
                            external_id: Some(Secret::new("ext")),
                            duration_seconds: Some(3600),
                            ..role("role", a)
                        },
                        role("two-hops", "arn:aws:iam::123456789012:role/b"),
                    ],
                })),
            ),
            (
                "self",
                Ok(Some(ResolvedProfile {
                    base: static_base("self", "AKSELF", "SSELF"),
                    roles: vec![role("self", "arn:aws:iam::123456789012:role/self")],
                })),
            ),
            (
                "env",
                Ok(Some(ResolvedProfile {
                    base: BaseCredentials::Environment,
                    roles: vec![role("env", "arn:aws:iam::123456789012:role/e")],
                })),
            ),
            (
                "ec2",
                Ok(Some(ResolvedProfile {
                    base: BaseCredentials::Imds,
                    roles: vec![role("ec2", "arn:aws:iam::123456789012:role/e")],
                })),
            ),
            (
                "web",
                Ok(Some(ResolvedProfile {
                    base: BaseCredentials::WebIdentity {
                        profile: "web".into(),
                        role_arn: "arn:aws:iam::123456789012:role/w".into(),
                        token_file: "/var/token".into(),
                        session_name: None,
                    },
                    roles: vec![],
                })),
            ),
            ("region-only", Ok(None)),
            ("loop-a", Err("source_profile of profile `loop-a` loops back")),
            ("dangling", Err("profile `dangling` names source_profile `nowhere`, which is not defined")),
            ("no-source", Err("profile `no-source` has role_arn but no source_profile")),
            ("both", Err("profile `both` has both source_profile and credential_source")),
            ("bad-source", Err("profile `bad-source`: credential_source \"Laptop\" is not")),
            ("half", Err("profile `half` has aws_access_key_id but no aws_secret_access_key")),
            ("sso", Ok(Some(ResolvedProfile { base: sso_session_base("sso"), roles: vec![] }))),
            (
                "sso-legacy",
                Ok(Some(ResolvedProfile {
                    base: BaseCredentials::Sso {
                        profile: "sso-legacy".into(),
                        login: SsoLogin::Legacy {
                            start_url: "https://d-abc123.awsapps.com/start".into(),
                            region: "us-east-1".into(),
                        },
                        account_id: "210987654321".into(),
                        role_name: "Admin".into(),
                    },
                    roles: vec![],
                })),
            ),
            (
                "sso-role",
                Ok(Some(ResolvedProfile { base: sso_session_base("sso"), roles: vec![role("sso-role", a)] })),
            ),
            (
                "sso-ghost",
                Err(
                    "profile `sso-ghost` names sso_session `ghost`, but the config file has no [sso-session ghost]",
                ),
            ),
            (
                "sso-half",
                Err(
                    "profile `sso-half` uses IAM Identity Center (SSO) but lacks sso_region, sso_role_name; add",
                ),
            ),
            (
                "sso-differs",
                Err(
                    "profile `sso-differs`: sso_region is \"us-east-1\" here but \"eu-central-1\" in [sso-session corp]",
                ),
            ),
            (
                "sso-login-only",
                Err("profile `sso-login-only` signs in to IAM Identity Center (SSO) but names no role"),
            ),
            ("mfa", Err("profile `mfa` needs an MFA code")),
            ("empty-source", Err("source profile `region-only` has no credentials")),
            ("bad-duration", Err("profile `bad-duration`: duration_seconds \"an hour\" is not a number")),
            ("missing", Err("profile `missing` is not defined (profiles: ")),
        ];
        for (name, expected) in table {
            let got = resolve(&set(config, credentials, name), name);
            match expected {
                Ok(resolved) => assert_eq!(got, Ok(resolved), "{name}"),
                Err(prefix) => {
                    let error = got.unwrap_err();
                    assert!(error.starts_with(prefix), "{name}: {error}");
                }
            }
        }
    }

    #[test]
    fn settings_come_after_the_environment() {
        let set = set("[profile p]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9000\n", "", "p");
        let settings = ProfileSettings::from_set(&set).unwrap();
        assert_eq!(settings.region.as_deref(), Some("eu-west-3"));
        let empty = |_: &str| None;
        let lookup = settings.env_fallback(empty);
        assert_eq!(lookup("AWS_REGION").as_deref(), Some("eu-west-3"));
        assert_eq!(lookup("AWS_ENDPOINT_URL").as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(lookup("AWS_DEFAULT_REGION"), None);
        let env = |name: &str| (name == "AWS_REGION").then(|| "ap-south-1".to_owned());
        assert_eq!(settings.env_fallback(env)("AWS_REGION").as_deref(), Some("ap-south-1"));
        // The endpoint switches: the profile's keys under the environment's names, and a
        // profile that sets them gives AWS's FIPS dual-stack host.
        let set2 =
            self::set("[profile p]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n", "", "p");
        let switches = ProfileSettings::from_set(&set2).unwrap();
        let connection =
            crate::Connection::resolve(None, Some("us-west-2"), false, switches.env_fallback(empty)).unwrap();
        assert_eq!(connection.endpoint.url(), "https://s3-fips.dualstack.us-west-2.amazonaws.com");
        let off = |name: &str| (name == "AWS_USE_FIPS_ENDPOINT").then(|| "false".to_owned());
        let connection =
            crate::Connection::resolve(None, Some("us-west-2"), false, switches.env_fallback(off)).unwrap();
        assert_eq!(
            connection.endpoint.url(),
            "https://s3.dualstack.us-west-2.amazonaws.com",
            "the environment wins"
        );
        let missing = ProfileSet::parse(None, None, Some("nope")).unwrap();
        assert!(
            ProfileSettings::from_set(&missing)
                .unwrap_err()
                .to_string()
                .contains("profile `nope` is not defined")
        );
        let default = ProfileSet::parse(None, None, None).unwrap();
        assert_eq!(ProfileSettings::from_set(&default).unwrap().region, None);
    }

    #[test]
    fn providers_describe_their_source_without_secrets() {
        let set = set(
            "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = keys\n",
            "[keys]\naws_access_key_id = AKIAEXAMPLEKEY1\naws_secret_access_key = S3CR3T\n",
            "role",
        );
        let provider = ProfileProvider::from_set(&set, &|_| None).unwrap().unwrap();
        assert_eq!(
            provider.description(),
            "role arn:aws:iam::123456789012:role/a (profile `role`) via static keys AKIA...KEY1 of profile `keys`"
        );
        assert_eq!(provider.name(), "profile");
        assert!(!format!("{provider:?}").contains("S3CR3T"));
        assert!(
            ProfileProvider::from_set(&ProfileSet::parse(None, None, None).unwrap(), &|_| None)
                .unwrap()
                .is_none()
        );
        let error = ProfileProvider::from_set(&ProfileSet::parse(None, None, Some("x")).unwrap(), &|_| None);
        assert!(
            error.unwrap_err().to_string().contains("profile `x` is not defined in any file (none found)")
        );
    }
}
