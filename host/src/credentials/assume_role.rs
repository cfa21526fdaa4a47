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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::role_session::{RoleSession, RoleSessionSettings, SessionPolicySettings};
use super::{CredentialsError, CredentialsProvider};

const NAME: &str = "assume-role";

/// The shortest and longest role sessions STS grants.
pub const DURATION_RANGE: std::ops::RangeInclusive<u64> = 900..=43_200;

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
        let role_arn = role_arn.into();
        check_role_arn(NAME, &role_arn)?;
        let mut session = RoleSession::new(NAME, role_arn, crate::settings::DEFAULT_REGION.to_owned());
        session.session_name = Some(default_session_name());
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

/// `s3-connector-<unix seconds>`.
pub(crate) fn default_session_name() -> String {
    format!("s3-connector-{}", SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
}

/// A role ARN looks like `arn:PARTITION:iam::ACCOUNT:role/NAME`.
pub(crate) fn check_role_arn(provider: &'static str, arn: &str) -> Result<(), CredentialsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > 5;
    if ok {
        Ok(())
    } else {
        Err(CredentialsError {
            provider,
            reason: format!("{arn:?} is not a role ARN; expected arn:aws:iam::123456789012:role/NAME"),
        })
    }
}

/// STS session names: 2 to 64 of `[A-Za-z0-9+=,.@_-]`.
pub(crate) fn check_session_name(provider: &'static str, name: &str) -> Result<(), CredentialsError> {
    let ok = (2..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CredentialsError {
            provider,
            reason: format!("session name {name:?} must be 2 to 64 of letters, digits and +=,.@_-"),
        })
    }
}

/// STS accepts 900 s to 43,200 s.
pub(crate) fn check_duration(provider: &'static str, duration: Duration) -> Result<(), CredentialsError> {
    if DURATION_RANGE.contains(&duration.as_secs()) {
        Ok(())
    } else {
        Err(CredentialsError {
            provider,
            reason: format!(
                "session duration {} s is outside STS's 900 to 43200 s; the role's maximum may be lower",
                duration.as_secs()
            ),
        })
    }
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
    use super::*;
    use crate::credentials::{Secret, StaticCredentials};

    #[test]
    fn arns_session_names_and_durations_are_checked() {
        let table: &[(&str, bool)] = &[
            ("arn:aws:iam::123456789012:role/demo", true),
            ("arn:aws-cn:iam::123456789012:role/path/demo", true),
            ("arn:aws:iam::123456789012:user/demo", false),
            ("arn:aws:iam::12345:role/demo", false),
            ("arn:aws:iam::123456789012:role/", false),
            ("demo", false),
        ];
        for (arn, ok) in table {
            assert_eq!(check_role_arn("t", arn).is_ok(), *ok, "{arn}");
        }
        for (name, ok) in [("ab", true), ("a", false), ("nightly-upload@x.y", true), ("has space", false)] {
            assert_eq!(check_session_name("t", name).is_ok(), ok, "{name}");
        }
        for (secs, ok) in [(899, false), (900, true), (43_200, true), (43_201, false)] {
            assert_eq!(check_duration("t", Duration::from_secs(secs)).is_ok(), ok, "{secs}");
        }
        assert!(default_session_name().starts_with("s3-connector-"));
    }

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
