//! STS AssumeRole: temporary credentials for a role, requested with (and signed by) the
//! credentials of another provider.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use s3_connector_host::credentials::{AssumeRoleProvider, CachedProvider, StaticCredentials};
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

use super::sts_policy::StsPolicy;
use super::{CredentialsError, CredentialsFuture, CredentialsProvider, sts};
use crate::network::{ProxySettings, Trust};

const NAME: &str = "assume-role";

/// The shortest and longest role sessions STS grants.
pub const DURATION_RANGE: std::ops::RangeInclusive<u64> = 900..=43_200;

/// Assumes a role with STS, signing the request with the source provider's credentials.
pub struct AssumeRoleProvider {
    source: Arc<dyn CredentialsProvider>,
    role_arn: String,
    session_name: String,
    duration: Option<Duration>,
    external_id: Option<String>,
    policy: StsPolicy,
    region: String,
    endpoint: Option<http::Uri>,
    trust: Trust,
    proxies: ProxySettings,
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
        Ok(Self {
            source,
            role_arn,
            session_name: default_session_name(),
            duration: None,
            external_id: None,
            policy: StsPolicy::None,
            region: super::super::settings::DEFAULT_REGION.to_owned(),
            endpoint: None,
            trust: Trust::system(),
            proxies: ProxySettings::default(),
        })
    }

    /// The role session name (2 to 64 of letters, digits and `+=,.@_-`); it appears in
    /// CloudTrail as the session's identity.
    pub fn with_session_name(mut self, name: impl Into<String>) -> Result<Self, CredentialsError> {
        self.session_name = name.into();
        check_session_name(NAME, &self.session_name)?;
        Ok(self)
    }

    /// How long the credentials last: 900 s to 43,200 s, and at most the role's maximum.
    pub fn with_duration(mut self, duration: Duration) -> Result<Self, CredentialsError> {
        check_duration(NAME, duration)?;
        self.duration = Some(duration);
        Ok(self)
    }

    /// The external id the role's trust policy asks for.
    pub fn with_external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// An inline session policy (JSON): the session gets the intersection of the role's
    /// permissions and this policy. Replaces a [`Self::with_session_policy`].
    pub fn with_policy(mut self, policy_json: impl Into<String>) -> Self {
        self.policy = StsPolicy::Inline(policy_json.into());
        self
    }

    /// Sends the host's `policy` as the session policy
    /// ([`crate::policy::session_policy()`], in the partition of the signing region at request
    /// time), so that AWS itself limits the credentials to the buckets, prefixes and operations
    /// the host allows. Errors when the policy is over STS's 2048 characters. Replaces a
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

    /// The signing region, and the regional endpoint unless [`Self::with_endpoint`] set one.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// An STS endpoint other than the regional one (`http://` or `https://`, no query).
    pub fn with_endpoint(mut self, url: &str) -> Result<Self, CredentialsError> {
        self.endpoint = Some(sts::parse_endpoint(url).map_err(error)?);
        Ok(self)
    }

    /// The role this provider assumes.
    pub fn role_arn(&self) -> &str {
        &self.role_arn
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> http::Uri {
        self.endpoint.clone().unwrap_or_else(|| {
            sts::parse_endpoint(&sts::regional_endpoint(&self.region))
                .unwrap_or_else(|_| http::Uri::from_static("https://sts.amazonaws.com"))
        })
    }

    /// The signed AssumeRole request for `source` credentials at `now` (for tests and
    /// inspection; [`CredentialsProvider::credentials`] builds and sends it).
    pub fn request(
        &self,
        source: &super::AwsCredentials,
        now: SystemTime,
    ) -> Result<http::Request<bytes::Bytes>, CredentialsError> {
        let duration = self.duration.map(|d| d.as_secs().to_string());
        let mut form = vec![
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", self.role_arn.as_str()),
            ("RoleSessionName", self.session_name.as_str()),
        ];
        if let Some(duration) = &duration {
            form.push(("DurationSeconds", duration));
        }
        if let Some(external_id) = &self.external_id {
            form.push(("ExternalId", external_id));
        }
        let policy = self.policy.json(&self.region).map_err(error)?;
        if let Some(policy) = &policy {
            form.push(("Policy", policy));
        }
        sts::request(&self.endpoint(), &form, Some((source, &self.region)), now).map_err(error)
    }

    async fn fetch(&self) -> Result<super::AwsCredentials, CredentialsError> {
        let source = self.source.credentials().await.map_err(|e| {
            error(format!("the source credentials for assuming {} are missing: {e}", self.role_arn))
        })?;
        let request = self.request(&source, SystemTime::now())?;
        sts::call(request, "AssumeRole", &self.trust, &self.proxies).await.map_err(|e| {
            error(format!(
                "{e} (role {}, session {}, signed by {} credentials {}); check the role's trust policy and \
                 the source credentials",
                self.role_arn,
                self.session_name,
                self.source.name(),
                source.access_key_id
            ))
        })
    }
}

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
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("external_id", &self.external_id.as_ref().map(|_| "<redacted>"))
            .field("policy", &self.policy.describe())
            .field("region", &self.region)
            .field("endpoint", &self.endpoint().to_string())
            .finish()
    }
}

impl CredentialsProvider for AssumeRoleProvider {
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
             &RoleSessionName=s1&DurationSeconds=900&ExternalId=ext&Policy=%7B%7D"
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
