//! Web identity: an OIDC token from a file (Kubernetes service accounts, GitHub Actions, ...)
//! exchanged with STS AssumeRoleWithWebIdentity for role credentials. The request is not
//! signed: the token is the proof.
//!
//! From the environment: `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, optionally
//! `AWS_ROLE_SESSION_NAME`; the region from `AWS_REGION` / `AWS_DEFAULT_REGION`; the endpoint from
//! `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`, else the regional STS endpoint.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::assume_role::{check_duration, check_role_arn, check_session_name, default_session_name};
use super::sts_policy::StsPolicy;
use super::{AwsCredentials, CredentialsError, CredentialsFuture, CredentialsProvider, Secret, sts};
use crate::network::{ProxySettings, Trust};

const NAME: &str = "web-identity";

/// Exchanges the token in a file for role credentials.
pub struct WebIdentityProvider {
    token_file: PathBuf,
    role_arn: String,
    session_name: String,
    duration: Option<Duration>,
    policy: StsPolicy,
    region: String,
    endpoint: Option<http::Uri>,
    trust: Trust,
    proxies: ProxySettings,
}

fn error(reason: String) -> CredentialsError {
    CredentialsError { provider: NAME, reason }
}

impl WebIdentityProvider {
    /// Assumes `role_arn` with the token read from `token_file` at each refresh (tokens rotate).
    pub fn new(
        token_file: impl Into<PathBuf>,
        role_arn: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        let role_arn = role_arn.into();
        check_role_arn(NAME, &role_arn)?;
        Ok(Self {
            token_file: token_file.into(),
            role_arn,
            session_name: default_session_name(),
            duration: None,
            policy: StsPolicy::None,
            region: crate::settings::DEFAULT_REGION.to_owned(),
            endpoint: None,
            trust: Trust::system(),
            proxies: ProxySettings::default(),
        })
    }

    /// From `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (both or neither) through `lookup`.
    /// `None` when neither is set.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, CredentialsError> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let (file, arn) = match (nonempty("AWS_WEB_IDENTITY_TOKEN_FILE"), nonempty("AWS_ROLE_ARN")) {
            (Some(file), Some(arn)) => (file, arn),
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(error(
                    "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not; set both".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(error(
                    "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not; set both".into(),
                ));
            }
        };
        let mut provider = Self::new(file, arn)?;
        if let Some(name) = nonempty("AWS_ROLE_SESSION_NAME") {
            provider = provider.with_session_name(name)?;
        }
        if let Some(region) = nonempty("AWS_REGION").or_else(|| nonempty("AWS_DEFAULT_REGION")) {
            provider = provider.with_region(region);
        }
        if let Some(url) = nonempty("AWS_ENDPOINT_URL_STS").or_else(|| nonempty("AWS_ENDPOINT_URL")) {
            provider = provider.with_endpoint(&url)?;
        }
        let trust = Trust::from_lookup(lookup).map_err(|e| error(e.to_string()))?;
        let proxies = ProxySettings::resolve(None, lookup).map_err(|e| error(e.to_string()))?;
        Ok(Some(provider.with_trust(trust).with_proxies(proxies)))
    }

    /// The role session name (2 to 64 of letters, digits and `+=,.@_-`).
    pub fn with_session_name(mut self, name: impl Into<String>) -> Result<Self, CredentialsError> {
        self.session_name = name.into();
        check_session_name(NAME, &self.session_name)?;
        Ok(self)
    }

    /// How long the credentials last (900 s to 43,200 s).
    pub fn with_duration(mut self, duration: Duration) -> Result<Self, CredentialsError> {
        check_duration(NAME, duration)?;
        self.duration = Some(duration);
        Ok(self)
    }

    /// An inline session policy (JSON). Replaces a [`Self::with_session_policy`].
    pub fn with_policy(mut self, policy_json: impl Into<String>) -> Self {
        self.policy = StsPolicy::Inline(policy_json.into());
        self
    }

    /// Sends the host's `policy` as the session policy ([`crate::policy::session_policy()`], in
    /// the partition of the region at request time), so that AWS itself limits the credentials
    /// to what the host allows. Errors when it is over STS's 2048 characters. Replaces a
    /// [`Self::with_policy`].
    pub fn with_session_policy(mut self, policy: &crate::policy::Policy) -> Result<Self, CredentialsError> {
        self.policy = StsPolicy::host(policy, &self.region).map_err(error)?;
        Ok(self)
    }

    /// Reaches its endpoint through `proxies` (default: none), as the S3 connections do.
    pub fn with_proxies(mut self, proxies: ProxySettings) -> Self {
        self.proxies = proxies;
        self
    }

    /// Verifies `https` endpoints with `trust` (default: the system's trust store and the
    /// webpki roots), the same trust as the S3 connections.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// The region, which picks the regional STS endpoint.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// An STS endpoint other than the regional one.
    pub fn with_endpoint(mut self, url: &str) -> Result<Self, CredentialsError> {
        self.endpoint = Some(sts::parse_endpoint(url).map_err(error)?);
        Ok(self)
    }

    /// The role this provider assumes.
    pub fn role_arn(&self) -> &str {
        &self.role_arn
    }

    fn endpoint(&self) -> Result<http::Uri, CredentialsError> {
        match &self.endpoint {
            Some(uri) => Ok(uri.clone()),
            None => sts::parse_endpoint(&sts::regional_endpoint(&self.region)).map_err(error),
        }
    }

    async fn fetch(&self) -> Result<AwsCredentials, CredentialsError> {
        let token = tokio::fs::read_to_string(&self.token_file).await.map_err(|e| {
            error(format!(
                "cannot read the web identity token file {} ({e}); check AWS_WEB_IDENTITY_TOKEN_FILE",
                self.token_file.display()
            ))
        })?;
        let token = Secret::new(token.trim());
        if token.expose().is_empty() {
            return Err(error(format!("the web identity token file {} is empty", self.token_file.display())));
        }
        let duration = self.duration.map(|d| d.as_secs().to_string());
        let mut form = vec![
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", self.role_arn.as_str()),
            ("RoleSessionName", self.session_name.as_str()),
            ("WebIdentityToken", token.expose()),
        ];
        if let Some(duration) = &duration {
            form.push(("DurationSeconds", duration));
        }
        let policy = self.policy.json(&self.region).map_err(error)?;
        if let Some(policy) = &policy {
            form.push(("Policy", policy));
        }
        let request = sts::request(&self.endpoint()?, &form, None, SystemTime::now()).map_err(error)?;
        sts::call(request, "AssumeRoleWithWebIdentity", &self.trust, &self.proxies).await.map_err(|e| {
            error(format!(
                "{e} (role {}, token from {}); check the role's trust policy for this identity provider",
                self.role_arn,
                self.token_file.display()
            ))
        })
    }
}

impl fmt::Debug for WebIdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityProvider")
            .field("token_file", &self.token_file)
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("policy", &self.policy.describe())
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl CredentialsProvider for WebIdentityProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_needs_both_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        assert!(WebIdentityProvider::from_env(&env(&[])).unwrap().is_none());
        let half =
            WebIdentityProvider::from_env(&env(&[("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r")]));
        assert!(half.unwrap_err().to_string().contains("AWS_WEB_IDENTITY_TOKEN_FILE is not"));
        let full = WebIdentityProvider::from_env(&env(&[
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
            ("AWS_ROLE_SESSION_NAME", "pod-1"),
            ("AWS_REGION", "eu-west-1"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(full.session_name, "pod-1");
        assert_eq!(full.endpoint().unwrap(), "https://sts.eu-west-1.amazonaws.com");
        let bad = WebIdentityProvider::from_env(&env(&[
            ("AWS_ROLE_ARN", "not-an-arn"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ]));
        assert!(bad.unwrap_err().to_string().contains("is not a role ARN"));
    }
}
