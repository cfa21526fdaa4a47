//! What every provider that asks AWS for a role session shares: the role, the session's name
//! and length, the session policy, the region and endpoint, and how the endpoint is reached
//! (trust and proxies). AssumeRole, AssumeRoleWithWebIdentity and Roles Anywhere each hold a
//! [`RoleSession`]; their setters are written once, as the default methods of
//! [`RoleSessionSettings`] and [`SessionPolicySettings`], and the two STS providers build their
//! request and read its answer through [`RoleSession::sts_form`] and [`RoleSession::call_sts`].

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::sts_policy::StsPolicy;
use super::{AwsCredentials, CredentialsError, sts};
use crate::network::{ProxySettings, Trust};

/// The shortest and longest role sessions STS grants.
pub const DURATION_RANGE: std::ops::RangeInclusive<u64> = 900..=43_200;

/// The settings of one provider's role sessions.
#[derive(Clone)]
pub struct RoleSession {
    /// The provider's name, for its errors.
    pub(crate) provider: &'static str,
    /// The role assumed.
    pub(crate) role_arn: String,
    /// The session's name; `None` lets the service choose (Roles Anywhere).
    pub(crate) session_name: Option<String>,
    /// How long the credentials last; `None` is the service's default.
    pub(crate) duration: Option<Duration>,
    /// The session policy sent with STS requests.
    pub(crate) policy: StsPolicy,
    /// The signing region, which also picks the regional endpoint.
    pub(crate) region: String,
    /// An endpoint other than the regional one.
    pub(crate) endpoint: Option<http::Uri>,
    /// How `https` endpoints are verified.
    pub(crate) trust: Trust,
    /// How the endpoint is reached.
    pub(crate) proxies: ProxySettings,
}

impl RoleSession {
    /// A session of `role_arn` for `provider`, in `region`, reaching the regional endpoint
    /// directly and trusting the system's roots.
    pub(crate) fn new(provider: &'static str, role_arn: String, region: String) -> Self {
        Self {
            provider,
            role_arn,
            session_name: None,
            duration: None,
            policy: StsPolicy::None,
            region,
            endpoint: None,
            trust: Trust::system(),
            proxies: ProxySettings::default(),
        }
    }

    /// The session an STS provider starts with: `role_arn` checked, in `us-east-1`, with a
    /// session name `s3-connector-<unix time>`.
    pub(crate) fn for_role(provider: &'static str, role_arn: String) -> Result<Self, CredentialsError> {
        check_role_arn(provider, &role_arn)?;
        let mut session = Self::new(provider, role_arn, crate::settings::DEFAULT_REGION.to_owned());
        session.session_name = Some(default_session_name());
        Ok(session)
    }

    /// This provider's error.
    pub(crate) fn error(&self, reason: String) -> CredentialsError {
        CredentialsError { provider: self.provider, reason }
    }

    /// The STS endpoint: the one set, else the region's.
    pub(crate) fn sts_endpoint(&self) -> Result<http::Uri, CredentialsError> {
        match &self.endpoint {
            Some(uri) => Ok(uri.clone()),
            None => sts::parse_endpoint(&sts::regional_endpoint(&self.region)).map_err(|e| self.error(e)),
        }
    }

    /// The form of an STS role request: `action`, the version, the role, the session's name,
    /// the provider's own parameters (`extra`: an external id, a web identity token), and the
    /// duration and policy when set.
    pub(crate) fn sts_form(
        &self,
        action: &'static str,
        extra: impl IntoIterator<Item = (&'static str, String)>,
    ) -> Result<Vec<(&'static str, String)>, CredentialsError> {
        let mut form = vec![("Action", action.to_owned()), ("Version", "2011-06-15".to_owned())];
        form.push(("RoleArn", self.role_arn.clone()));
        if let Some(name) = &self.session_name {
            form.push(("RoleSessionName", name.clone()));
        }
        form.extend(extra);
        if let Some(duration) = self.duration {
            form.push(("DurationSeconds", duration.as_secs().to_string()));
        }
        if let Some(policy) = self.policy.json(&self.region).map_err(|e| self.error(e))? {
            form.push(("Policy", policy));
        }
        Ok(form)
    }

    /// The POST of `form` to the STS endpoint, signed by `signer` when given, at `now`.
    pub(crate) fn sts_request(
        &self,
        form: &[(&'static str, String)],
        signer: Option<&AwsCredentials>,
        now: SystemTime,
    ) -> Result<http::Request<bytes::Bytes>, CredentialsError> {
        let form: Vec<(&str, &str)> = form.iter().map(|(name, value)| (*name, value.as_str())).collect();
        let signer = signer.map(|credentials| (credentials, self.region.as_str()));
        sts::request(&self.sts_endpoint()?, &form, signer, now).map_err(|e| self.error(e))
    }

    /// Sends `request` (an STS `action`) and reads the credentials from its answer; a failure
    /// is this provider's error, with `context` (what to check) after STS's reason.
    pub(crate) async fn call_sts(
        &self,
        request: http::Request<bytes::Bytes>,
        action: &str,
        context: impl FnOnce() -> String,
    ) -> Result<AwsCredentials, CredentialsError> {
        sts::call(request, action, &self.trust, &self.proxies)
            .await
            .map_err(|e| self.error(format!("{e} ({})", context())))
    }
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

impl fmt::Debug for RoleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleSession")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("policy", &self.policy.describe())
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.as_ref().map(crate::secrets::redact::uri))
            .finish_non_exhaustive()
    }
}

/// The settings every role-session provider offers. Bring the trait into scope to call them:
/// `use s3_connector_host::credentials::RoleSessionSettings;`.
pub trait RoleSessionSettings: Sized {
    /// The provider's session settings.
    fn role_session(&mut self) -> &mut RoleSession;

    /// The role session name (2 to 64 of letters, digits and `+=,.@_-`); it appears in
    /// CloudTrail as the session's identity.
    fn with_session_name(mut self, name: impl Into<String>) -> Result<Self, CredentialsError> {
        let session = self.role_session();
        let name = name.into();
        check_session_name(session.provider, &name)?;
        session.session_name = Some(name);
        Ok(self)
    }

    /// How long the credentials last: 900 s to 43,200 s, and at most the role's (or the
    /// profile's) maximum.
    fn with_duration(mut self, duration: Duration) -> Result<Self, CredentialsError> {
        let session = self.role_session();
        check_duration(session.provider, duration)?;
        session.duration = Some(duration);
        Ok(self)
    }

    /// The signing region, and the regional endpoint unless [`Self::with_endpoint`] set one.
    fn with_region(mut self, region: impl Into<String>) -> Self {
        self.role_session().region = region.into();
        self
    }

    /// An endpoint other than the regional one (`http://` or `https://`, a host, no query), for
    /// private endpoints and tests.
    fn with_endpoint(mut self, url: &str) -> Result<Self, CredentialsError> {
        let session = self.role_session();
        session.endpoint = Some(sts::parse_endpoint(url).map_err(|e| session.error(e))?);
        Ok(self)
    }

    /// Verifies `https` endpoints with `trust` (default: the system's trust store and the
    /// webpki roots), the same trust as the S3 connections.
    fn with_trust(mut self, trust: Trust) -> Self {
        self.role_session().trust = trust;
        self
    }

    /// Reaches the endpoint through `proxies` (default: none), as the S3 connections do.
    fn with_proxies(mut self, proxies: ProxySettings) -> Self {
        self.role_session().proxies = proxies;
        self
    }

    /// Reaches STS as `connection` reaches S3 (its region, trust and proxies), at the endpoint
    /// `AWS_ENDPOINT_URL_STS` in `lookup` names, if it names one, as the AWS SDKs do: what the
    /// CLI's `--role-arn` and a `serve` tenant's `assume_role` both build.
    fn for_connection(
        self,
        connection: &crate::settings::Connection,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CredentialsError> {
        let network = &connection.network;
        let session = self
            .with_region(&connection.region)
            .with_trust(network.trust.clone())
            .with_proxies(network.proxy.clone());
        match lookup("AWS_ENDPOINT_URL_STS").filter(|url| !url.is_empty()) {
            Some(url) => session.with_endpoint(&url),
            None => Ok(session),
        }
    }
}

/// The session policy of the STS providers (AssumeRole, AssumeRoleWithWebIdentity): the
/// session gets the intersection of the role's permissions and this policy.
pub trait SessionPolicySettings: RoleSessionSettings {
    /// An inline session policy (JSON). Replaces a [`Self::with_session_policy`].
    fn with_policy(mut self, policy_json: impl Into<String>) -> Self {
        self.role_session().policy = StsPolicy::Inline(policy_json.into());
        self
    }

    /// Sends the host's `policy` as the session policy ([`crate::policy::session_policy()`],
    /// in the partition of the signing region at request time), so that AWS itself limits the
    /// credentials to the buckets, prefixes and access classes the host allows. Errors when the
    /// policy is over STS's 2048 characters. Replaces a [`Self::with_policy`].
    fn with_session_policy(mut self, policy: &crate::policy::Policy) -> Result<Self, CredentialsError> {
        let session = self.role_session();
        session.policy = StsPolicy::host(policy, &session.region).map_err(|e| session.error(e))?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
