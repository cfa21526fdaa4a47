//! IAM Roles Anywhere: temporary role credentials for a workload outside AWS that holds an X.509
//! certificate issued by a trust anchor, from `CreateSession` signed with the certificate's key
//! (SigV4 with the algorithm `AWS4-X509-RSA-SHA256` or `AWS4-X509-ECDSA-SHA256`).
//!
//! The certificate, chain and key files are read at every refresh, so rotated certificates are
//! picked up; wrap the provider in [`super::CachedProvider`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use s3_connector_host::credentials::{CachedProvider, RolesAnywhereProvider};
//!
//! # fn example() -> Result<(), s3_connector_host::CredentialsError> {
//! let provider = RolesAnywhereProvider::new(
//!     "/etc/pki/workload.crt",
//!     "/etc/pki/workload.key",
//!     "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/0b4d6f2c-0000-4000-8000-000000000000",
//!     "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/7a1e0c55-0000-4000-8000-000000000000",
//!     "arn:aws:iam::123456789012:role/uploader",
//! )?;
//! let credentials = CachedProvider::new(Arc::new(provider));
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::role_session::check_role_arn;
use super::role_session::{RoleSession, RoleSessionSettings};
use super::x509::X509Identity;
use super::{AwsCredentials, CredentialsError, time};
use crate::network::http_client;

const NAME: &str = "roles-anywhere";

/// How long one CreateSession exchange may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How long the credentials last unless [`RoleSessionSettings::with_duration`] says otherwise.
const DEFAULT_DURATION: Duration = Duration::from_secs(3600);

/// Exchanges an X.509 certificate for role credentials with IAM Roles Anywhere.
pub struct RolesAnywhereProvider {
    certificate: PathBuf,
    private_key: PathBuf,
    chain: Option<PathBuf>,
    trust_anchor_arn: String,
    profile_arn: String,
    session: RoleSession,
}

fn error(reason: String) -> CredentialsError {
    CredentialsError { provider: NAME, reason }
}

/// Checks `arn:PARTITION:rolesanywhere:REGION:ACCOUNT:KIND/ID` and returns its region.
fn check_rolesanywhere_arn<'a>(arn: &'a str, kind: &str) -> Result<&'a str, CredentialsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "rolesanywhere"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix(kind).and_then(|r| r.strip_prefix('/')).is_some_and(|id| !id.is_empty());
    if ok {
        Ok(parts[3])
    } else {
        Err(error(format!(
            "{arn:?} is not a Roles Anywhere {kind} ARN; expected arn:aws:rolesanywhere:REGION:123456789012:{kind}/ID"
        )))
    }
}

impl RolesAnywhereProvider {
    /// Assumes `role_arn` through the Roles Anywhere `profile_arn`, proving identity with the
    /// PEM `certificate` and its PEM `private_key`, issued under `trust_anchor_arn`. The region
    /// is the trust anchor's; the duration is one hour. The files are read and checked now (and
    /// again at every refresh).
    pub fn new(
        certificate: impl Into<PathBuf>,
        private_key: impl Into<PathBuf>,
        trust_anchor_arn: impl Into<String>,
        profile_arn: impl Into<String>,
        role_arn: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        let trust_anchor_arn = trust_anchor_arn.into();
        let profile_arn = profile_arn.into();
        let role_arn = role_arn.into();
        let region = check_rolesanywhere_arn(&trust_anchor_arn, "trust-anchor")?.to_owned();
        check_rolesanywhere_arn(&profile_arn, "profile")?;
        check_role_arn(NAME, &role_arn)?;
        let provider = Self {
            certificate: certificate.into(),
            private_key: private_key.into(),
            chain: None,
            trust_anchor_arn,
            profile_arn,
            session: RoleSession::new(NAME, role_arn, region),
        };
        provider.identity()?;
        Ok(provider)
    }

    /// A PEM file of intermediate certificates, sent as `X-Amz-X509-Chain`.
    pub fn with_chain(mut self, chain: impl Into<PathBuf>) -> Result<Self, CredentialsError> {
        self.chain = Some(chain.into());
        self.identity()?;
        Ok(self)
    }

    /// The CreateSession URL: `https://rolesanywhere.REGION.amazonaws.com/sessions` unless
    /// [`RoleSessionSettings::with_endpoint`] set another.
    pub fn url(&self) -> String {
        match &self.session.endpoint {
            Some(uri) => format!(
                "{}://{}{}/sessions",
                uri.scheme_str().unwrap_or("https"),
                uri.authority().map_or("", |a| a.as_str()),
                uri.path().trim_end_matches('/')
            ),
            None => {
                let suffix =
                    if self.session.region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
                format!("https://rolesanywhere.{}.{suffix}/sessions", self.session.region)
            }
        }
    }

    fn identity(&self) -> Result<X509Identity, CredentialsError> {
        X509Identity::load(&self.certificate, &self.private_key, self.chain.as_deref()).map_err(error)
    }

    /// The signed CreateSession request at `now` (for tests and inspection;
    /// `CredentialsProvider::credentials` builds and sends it).
    pub fn request(&self, now: SystemTime) -> Result<http::Request<Bytes>, CredentialsError> {
        let identity = self.identity()?;
        let body = CreateSession {
            duration_seconds: self.session.duration.unwrap_or(DEFAULT_DURATION).as_secs(),
            profile_arn: &self.profile_arn,
            role_arn: &self.session.role_arn,
            trust_anchor_arn: &self.trust_anchor_arn,
            role_session_name: self.session.session_name.as_deref(),
        };
        // Serializing strings and a number cannot fail.
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let url = self.url();
        let uri: http::Uri =
            url.parse().map_err(|e| error(format!("CreateSession URL {url:?} is not valid: {e}")))?;
        let host = uri.authority().map_or("", |a| a.as_str()).to_owned();
        let mut request = http::Request::post(uri)
            .header(http::header::HOST, host)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Bytes::from(body))
            .map_err(|e| error(format!("cannot build the CreateSession request to {url}: {e}")))?;
        super::x509_signing::sign(&mut request, &identity, &self.session.region, now).map_err(|e| {
            error(format!("cannot sign CreateSession with the key {}: {e}", self.private_key.display()))
        })?;
        Ok(request)
    }

    async fn fetch(&self) -> Result<AwsCredentials, CredentialsError> {
        let request = self.request(SystemTime::now())?;
        let context = || {
            format!(
                "role {}, profile {}, trust anchor {}, certificate {}",
                self.session.role_arn,
                self.profile_arn,
                self.trust_anchor_arn,
                self.certificate.display()
            )
        };
        let response = http_client::send(request, TIMEOUT, &self.session.trust, &self.session.proxies)
            .await
            .map_err(|e| error(format!("{e} ({})", context())))?;
        if !response.status.is_success() {
            let detail = serde_json::from_slice::<ErrorBody>(&response.body)
                .ok()
                .and_then(|b| b.message)
                .unwrap_or_else(|| response.excerpt());
            return Err(error(format!(
                "CreateSession answered {}: {detail} ({}); check that the trust anchor issued the certificate, \
                 the profile lists the role, and the role trusts rolesanywhere.amazonaws.com",
                response.status,
                context()
            )));
        }
        parse_credentials(&response.body).map_err(|e| error(format!("CreateSession: {e} ({})", context())))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateSession<'a> {
    duration_seconds: u64,
    profile_arn: &'a str,
    role_arn: &'a str,
    trust_anchor_arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_session_name: Option<&'a str>,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAnswer {
    credential_set: Vec<CredentialSetEntry>,
}

#[derive(Deserialize)]
struct CredentialSetEntry {
    credentials: Option<CredentialsJson>,
}

// No Debug: it holds the secret parts as plain strings until they are wrapped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialsJson {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    expiration: Option<String>,
}

/// The first credentials of a CreateSession answer. Errors never quote the body.
pub(crate) fn parse_credentials(body: &[u8]) -> Result<AwsCredentials, String> {
    let answer: SessionAnswer = serde_json::from_slice(body)
        .map_err(|_| "the answer is not a CreateSession response (no credentialSet)".to_owned())?;
    let credentials = answer
        .credential_set
        .into_iter()
        .find_map(|entry| entry.credentials)
        .ok_or_else(|| "the answer's credentialSet has no credentials".to_owned())?;
    if credentials.access_key_id.trim().is_empty() || credentials.secret_access_key.trim().is_empty() {
        return Err("the answer's accessKeyId or secretAccessKey is empty".to_owned());
    }
    let expires_at = match credentials.expiration {
        Some(text) => Some(
            time::parse_rfc3339(&text)
                .ok_or_else(|| format!("expiration {text:?} is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    Ok(AwsCredentials::from_answer(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token,
        expires_at,
    ))
}

impl fmt::Debug for RolesAnywhereProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RolesAnywhereProvider")
            .field("certificate", &self.certificate)
            .field("private_key", &self.private_key)
            .field("chain", &self.chain)
            .field("trust_anchor_arn", &self.trust_anchor_arn)
            .field("profile_arn", &self.profile_arn)
            .field("session", &self.session)
            .field("url", &self.url())
            .finish()
    }
}

impl RoleSessionSettings for RolesAnywhereProvider {
    fn role_session(&mut self) -> &mut RoleSession {
        &mut self.session
    }
}

fetching_provider!(RolesAnywhereProvider, NAME);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_checked_and_give_the_region() {
        let table: &[(&str, &str, Result<&str, &str>)] = &[
            (
                "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/abc",
                "trust-anchor",
                Ok("eu-west-1"),
            ),
            ("arn:aws-cn:rolesanywhere:cn-north-1:123456789012:profile/abc", "profile", Ok("cn-north-1")),
            (
                "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/abc",
                "trust-anchor",
                Err("trust-anchor ARN"),
            ),
            (
                "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/",
                "trust-anchor",
                Err("trust-anchor ARN"),
            ),
            ("arn:aws:iam::123456789012:role/r", "profile", Err("profile ARN")),
        ];
        for (arn, kind, expected) in table {
            match (check_rolesanywhere_arn(arn, kind), expected) {
                (Ok(region), Ok(want)) => assert_eq!(region, *want, "{arn}"),
                (Err(e), Err(fragment)) => {
                    let message = e.to_string();
                    assert!(message.contains(fragment) && message.contains(arn), "{message}");
                }
                (got, _) => panic!("{arn}: {:?}", got.map_err(|e| e.to_string())),
            }
        }
    }

    #[test]
    fn answers_parse_and_errors_do_not_quote_them() {
        let body = br#"{"credentialSet":[{"assumedRoleUser":{"arn":"x","assumedRoleId":"y"},
            "credentials":{"accessKeyId":"ASIARA","secretAccessKey":"ra-secret","sessionToken":"ra-token",
            "expiration":"2030-01-01T00:00:00Z"},"packedPolicySize":0,"roleArn":"r","sourceIdentity":"s"}],
            "subjectArn":"arn:aws:rolesanywhere:eu-west-1:123456789012:subject/s"}"#;
        let c = parse_credentials(body).unwrap();
        assert_eq!(c.access_key_id, "ASIARA");
        assert_eq!(c.secret_access_key.expose(), "ra-secret");
        assert_eq!(c.session_token.as_ref().map(super::super::Secret::expose), Some("ra-token"));
        assert_eq!(c.expires_at.map(time::format_rfc3339).as_deref(), Some("2030-01-01T00:00:00Z"));
        let table: &[(&[u8], &str)] = &[
            (b"{}", "the answer is not a CreateSession response (no credentialSet)"),
            (br#"{"credentialSet":[]}"#, "the answer's credentialSet has no credentials"),
            (
                br#"{"credentialSet":[{"credentials":{"accessKeyId":"A","secretAccessKey":"leaked-VALUE","expiration":"soon"}}]}"#,
                "expiration \"soon\" is not an RFC 3339 time",
            ),
        ];
        for (body, message) in table {
            assert_eq!(parse_credentials(body).err().as_deref(), Some(*message));
        }
    }
}
