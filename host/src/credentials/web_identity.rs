//! Web identity: an OIDC token from a file (Kubernetes service accounts, GitHub Actions, ...)
//! exchanged with STS AssumeRoleWithWebIdentity for role credentials. The request is not
//! signed: the token is the proof.
//!
//! From the environment: `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, optionally
//! `AWS_ROLE_SESSION_NAME`; the region from `AWS_REGION` / `AWS_DEFAULT_REGION`; the endpoint from
//! `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`, else the regional STS endpoint.

use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use super::role_session::{RoleSession, RoleSessionSettings, SessionPolicySettings};
use super::{AwsCredentials, CredentialsError, Secret};
use crate::network::{ProxySettings, Trust};

const NAME: &str = "web-identity";

/// Exchanges the token in a file for role credentials.
pub struct WebIdentityProvider {
    token_file: PathBuf,
    session: RoleSession,
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
        let session = RoleSession::for_role(NAME, role_arn.into())?;
        Ok(Self { token_file: token_file.into(), session })
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

    /// The role this provider assumes.
    pub fn role_arn(&self) -> &str {
        &self.session.role_arn
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
        let token = [("WebIdentityToken", token.expose().to_owned())];
        let form = self.session.sts_form("AssumeRoleWithWebIdentity", token)?;
        let request = self.session.sts_request(&form, None, SystemTime::now())?;
        self.session
            .call_sts(request, "AssumeRoleWithWebIdentity", || {
                format!(
                    "role {}, token from {}; check the role's trust policy for this identity provider",
                    self.session.role_arn,
                    self.token_file.display()
                )
            })
            .await
    }
}

impl RoleSessionSettings for WebIdentityProvider {
    fn role_session(&mut self) -> &mut RoleSession {
        &mut self.session
    }
}

impl SessionPolicySettings for WebIdentityProvider {}

impl fmt::Debug for WebIdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityProvider")
            .field("token_file", &self.token_file)
            .field("session", &self.session)
            .finish()
    }
}

fetching_provider!(WebIdentityProvider, NAME);

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
        assert_eq!(full.session.session_name.as_deref(), Some("pod-1"));
        assert_eq!(full.session.sts_endpoint().unwrap(), "https://sts.eu-west-1.amazonaws.com");
        let bad = WebIdentityProvider::from_env(&env(&[
            ("AWS_ROLE_ARN", "not-an-arn"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ]));
        assert!(bad.unwrap_err().to_string().contains("is not a role ARN"));
    }
}
