//! STS AssumeRole: temporary credentials for a role, requested with (and signed by) the
//! credentials of another provider.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use s3_connector_host::credentials::{
//!     AssumeRoleProvider, CachedProvider, RoleSessionSettings, StaticCredentials,
//! };
//! use s3_connector_host::Secret;
//!
//! # fn example() -> Result<(), s3_connector_host::CredentialsError> {
//! let base = Arc::new(StaticCredentials::new("AKID", Secret::new("SECRET"), None));
//! let role = AssumeRoleProvider::new(base, "arn:aws:iam::123456789012:role/uploader")?
//!     .with_region("eu-west-1")
//!     .with_session_name("nightly-upload")?
//!     .with_duration(Duration::from_secs(3600))?
//!     .with_external_id("shared-with-partner");
//! let credentials = CachedProvider::new(Arc::new(role));
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use super::role_session::{RoleSession, RoleSessionSettings, SessionPolicySettings};
use super::{CredentialsError, CredentialsProvider};

const NAME: &str = "assume-role";

/// Assumes a role with STS, signing the request with the source provider's credentials.
pub struct AssumeRoleProvider {
    source: Arc<dyn CredentialsProvider>,
    session: RoleSession,
    external_id: Option<String>,
}

impl AssumeRoleProvider {
    /// Assumes `role_arn` with `source`'s credentials, in `us-east-1` against the regional STS
    /// endpoint, with a session name `s3-connector-<unix time>` and STS's default duration.
    pub fn new(
        source: Arc<dyn CredentialsProvider>,
        role_arn: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        let session = RoleSession::for_role(NAME, role_arn.into())?;
        Ok(Self { source, session, external_id: None })
    }

    /// The external id the role's trust policy asks for.
    pub fn with_external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// The role this provider assumes.
    pub fn role_arn(&self) -> &str {
        &self.session.role_arn
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> Result<http::Uri, CredentialsError> {
        self.session.sts_endpoint()
    }

    /// The signed AssumeRole request for `source` credentials at `now` (for tests and
    /// inspection; [`CredentialsProvider::credentials`] builds and sends it).
    pub fn request(
        &self,
        source: &super::AwsCredentials,
        now: SystemTime,
    ) -> Result<http::Request<bytes::Bytes>, CredentialsError> {
        let external_id = self.external_id.clone().map(|id| ("ExternalId", id));
        let form = self.session.sts_form("AssumeRole", external_id)?;
        self.session.sts_request(&form, Some(source), now)
    }

    async fn fetch(&self) -> Result<super::AwsCredentials, CredentialsError> {
        let source = self.source.credentials().await.map_err(|e| {
            error(format!("the source credentials for assuming {} are missing: {e}", self.session.role_arn))
        })?;
        let request = self.request(&source, SystemTime::now())?;
        self.session
            .call_sts(request, "AssumeRole", || {
                format!(
                    "role {}, session {}, signed by {} credentials {}; check the role's trust policy and the \
                     source credentials",
                    self.session.role_arn,
                    self.session.session_name.as_deref().unwrap_or_default(),
                    self.source.name(),
                    source.access_key_id
                )
            })
            .await
    }
}

impl RoleSessionSettings for AssumeRoleProvider {
    fn role_session(&mut self) -> &mut RoleSession {
        &mut self.session
    }
}

impl SessionPolicySettings for AssumeRoleProvider {}

fn error(reason: String) -> CredentialsError {
    CredentialsError { provider: NAME, reason }
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("source", &self.source)
            .field("session", &self.session)
            .field("external_id", &self.external_id.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fetching_provider!(AssumeRoleProvider, NAME);

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::credentials::{Secret, StaticCredentials};

    #[test]
    fn the_request_is_a_signed_form_post() {
        let base =
            Arc::new(StaticCredentials::new("AKID", Secret::new("SECRET"), Some(Secret::new("TOKEN"))));
        let provider = AssumeRoleProvider::new(base, "arn:aws:iam::123456789012:role/demo")
            .unwrap()
            .with_region("eu-west-1")
            .with_session_name("s1")
            .unwrap()
            .with_duration(Duration::from_secs(900))
            .unwrap()
            .with_external_id("ext")
            .with_policy("{}");
        let source = crate::credentials::AwsCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: Secret::new("SECRET"),
            session_token: Some(Secret::new("TOKEN")),
            expires_at: None,
        };
        let request = provider.request(&source, UNIX_EPOCH + Duration::from_secs(1_700_000_000)).unwrap();
        assert_eq!(request.uri(), "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(
            std::str::from_utf8(request.body()).unwrap(),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo\
             &RoleSessionName=s1&ExternalId=ext&DurationSeconds=900&Policy=%7B%7D"
        );
        let auth = request.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/20231114/eu-west-1/sts/aws4_request"),
            "{auth}"
        );
        assert_eq!(request.headers()["x-amz-security-token"], "TOKEN");
        let debug = format!("{provider:?}");
        assert!(!debug.contains("SECRET") && !debug.contains("TOKEN") && !debug.contains("ext\""), "{debug}");
    }
}
