//! IAM Identity Center (SSO) profiles: role credentials from the access portal, with the access
//! token that `aws sso login` left in its cache.
//!
//! Why it exists: most people who sign in to AWS through their company do it with `aws sso
//! login`, and their profiles hold no keys at all, only which login to use and which role of
//! which account to ask for. This provider does what the SDKs do with such a profile:
//!
//! - it reads the token cache `~/.aws/sso/cache/<hex SHA-1>.json`, the SHA-1 of the
//!   `sso_session` name for the `sso-session` form and of `sso_start_url` for the legacy form
//!   (botocore's `SSOTokenLoader`, the Rust SDK's `sso::cache`), at each refresh, since a new
//!   `aws sso login` replaces the file;
//! - it refuses a missing or expired token with "run aws sso login --profile X" (the SDKs can
//!   renew an `sso-session` token with its refresh token through SSO OIDC; this one does not:
//!   signing in again is the user's step);
//! - it asks the portal for the role's credentials (`GetRoleCredentials`: `GET
//!   /federation/credentials?account_id=..&role_name=..`, the token in the header
//!   `x-amz-sso_bearer_token`, unsigned) at `https://portal.sso.{sso_region}.amazonaws.com`, or
//!   at `AWS_ENDPOINT_URL_SSO`.
//!
//! The access token opens every account and role the user may use, so it is kept closer than
//! the credentials it buys: it is read into a [`Secret`], sent only to the portal, never through
//! plain `http` except to loopback, and never quoted by an error (the portal's own error text is
//! scrubbed of it). The general `AWS_ENDPOINT_URL` and a profile's `endpoint_url` are not used
//! for the portal, though the SDKs would: they usually point at an S3-compatible store, which
//! must never receive the token.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Deserialize;

use super::{AwsCredentials, CredentialsError, Secret, time};
use crate::network::{ProxySettings, Trust, http_client};

const NAME: &str = "sso";

/// How long the portal may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The header the portal reads the access token from.
const TOKEN_HEADER: &str = "x-amz-sso_bearer_token";

/// Query values as the SDKs encode them (RFC 3986 unreserved characters stay).
const QUERY: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Which login `aws sso login` made for a profile, and so which cache file holds its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoLogin {
    /// `sso_session = NAME` with a `[sso-session NAME]` section: the cache file is named by the
    /// SHA-1 of the session's name.
    Session {
        /// The session's name.
        name: String,
        /// Its `sso_start_url`.
        start_url: String,
        /// Its `sso_region`: where the portal is.
        region: String,
    },
    /// The legacy form, `sso_start_url` and `sso_region` in the profile: the cache file is named
    /// by the SHA-1 of the start URL.
    Legacy {
        /// `sso_start_url`.
        start_url: String,
        /// `sso_region`.
        region: String,
    },
}

impl SsoLogin {
    /// The region of the portal.
    pub fn region(&self) -> &str {
        match self {
            Self::Session { region, .. } | Self::Legacy { region, .. } => region,
        }
    }

    /// What names the token's cache file: the session's name, or the start URL.
    fn cache_key(&self) -> &str {
        match self {
            Self::Session { name, .. } => name,
            Self::Legacy { start_url, .. } => start_url,
        }
    }

    /// The login as a message may name it.
    fn describe(&self) -> String {
        match self {
            Self::Session { name, start_url, .. } => format!("sso-session `{name}` ({start_url})"),
            Self::Legacy { start_url, .. } => format!("sso_start_url {start_url}"),
        }
    }
}

/// The cache file of a login's token under `home`: `.aws/sso/cache/<hex SHA-1 of key>.json`.
pub fn token_cache_file(home: &Path, login: &SsoLogin) -> PathBuf {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, login.cache_key().as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    home.join(".aws").join("sso").join("cache").join(format!("{hex}.json"))
}

/// Gets a role's credentials from the IAM Identity Center portal with a cached access token.
#[derive(Clone)]
pub struct SsoProvider {
    profile: String,
    login: SsoLogin,
    account_id: String,
    role_name: String,
    token_file: PathBuf,
    endpoint: http::Uri,
    trust: Trust,
    proxies: ProxySettings,
}

fn error(reason: String) -> CredentialsError {
    CredentialsError { provider: NAME, reason }
}

impl SsoProvider {
    /// The role `role_name` of `account_id` for profile `profile` (named in the advice to sign
    /// in again), with the token of `login` from the cache under `home`, at the region's portal.
    pub fn new(
        profile: impl Into<String>,
        login: SsoLogin,
        account_id: impl Into<String>,
        role_name: impl Into<String>,
        home: &Path,
    ) -> Result<Self, CredentialsError> {
        let profile = profile.into();
        let region = login.region();
        // The region becomes a host name: only a DNS label's characters.
        if region.is_empty() || !region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(error(format!(
                "profile `{profile}`: sso_region {region:?} is not a region (for example us-east-1)"
            )));
        }
        let endpoint = format!("https://portal.sso.{region}.amazonaws.com")
            .parse()
            .map_err(|e| error(format!("profile `{profile}`: the portal of region {region} ({e})")))?;
        Ok(Self {
            token_file: token_cache_file(home, &login),
            profile,
            login,
            account_id: account_id.into(),
            role_name: role_name.into(),
            endpoint,
            trust: Trust::system(),
            proxies: ProxySettings::default(),
        })
    }

    /// A portal other than the region's (`AWS_ENDPOINT_URL_SSO`): `https://` anywhere, plain
    /// `http://` only to loopback, since the access token travels with each request.
    pub fn with_endpoint(mut self, url: &str) -> Result<Self, CredentialsError> {
        self.endpoint =
            check_endpoint(url).map_err(|reason| error(format!("AWS_ENDPOINT_URL_SSO: {reason}")))?;
        Ok(self)
    }

    /// Verifies the portal with `trust` (default: the system's trust store and the webpki
    /// roots), the same trust as the S3 connections.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// Reaches the portal through `proxies` (default: none), as the S3 connections do.
    pub fn with_proxies(mut self, proxies: ProxySettings) -> Self {
        self.proxies = proxies;
        self
    }

    /// The portal as it may be printed ([`crate::secrets::redact::uri`]).
    pub fn endpoint(&self) -> String {
        crate::secrets::redact::uri(&self.endpoint)
    }

    /// The cache file the token is read from.
    pub fn token_file(&self) -> &Path {
        &self.token_file
    }

    /// What supplies the credentials, without secrets.
    pub fn description(&self) -> String {
        format!(
            "IAM Identity Center role {} in account {} ({}, profile `{}`)",
            self.role_name,
            self.account_id,
            self.login.describe(),
            self.profile
        )
    }

    fn sign_in_again(&self) -> String {
        format!("run aws sso login --profile {}", self.profile)
    }

    /// The access token from the cache, if it has not expired at `now`.
    async fn token(&self, now: SystemTime) -> Result<Secret, CredentialsError> {
        let file = self.token_file.display();
        let text = match tokio::fs::read(&self.token_file).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(error(format!(
                    "profile `{}` has not signed in to {} (no token in {file}); {}",
                    self.profile,
                    self.login.describe(),
                    self.sign_in_again()
                )));
            }
            Err(e) => return Err(error(format!("cannot read the SSO token cache {file} ({e})"))),
        };
        let cached = parse_cached_token(&text).map_err(|reason| {
            error(format!("the SSO token cache {file}: {reason}; {}", self.sign_in_again()))
        })?;
        if cached.expires_at <= now {
            return Err(error(format!(
                "the SSO login of profile `{}` to {} expired at {}; {}",
                self.profile,
                self.login.describe(),
                time::format_rfc3339(cached.expires_at),
                self.sign_in_again()
            )));
        }
        Ok(cached.access_token)
    }

    async fn fetch(&self) -> Result<AwsCredentials, CredentialsError> {
        let token = self.token(SystemTime::now()).await?;
        let base = self.endpoint.to_string();
        let url = format!(
            "{}/federation/credentials?account_id={}&role_name={}",
            base.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(&self.account_id, QUERY),
            percent_encoding::utf8_percent_encode(&self.role_name, QUERY),
        );
        let header = http::HeaderValue::from_str(token.expose()).map_err(|_| {
            error(format!("the SSO token cache {}: the token is not one line", self.token_file.display()))
        })?;
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .header(TOKEN_HEADER, header)
            .body(Bytes::new())
            .map_err(|e| error(format!("cannot build the request to {}: {e}", self.endpoint())))?;
        let response = http_client::send(request, TIMEOUT, &self.trust, &self.proxies)
            .await
            .map_err(|e| error(format!("{e}; is AWS_ENDPOINT_URL_SSO (or sso_region) right?")))?;
        if !response.status.is_success() {
            // The portal's own text, with the token taken out should it quote it.
            let said = response.excerpt().replace(token.expose(), "<redacted>");
            let status = response.status;
            let role = format!("role `{}` in account {}", self.role_name, self.account_id);
            return Err(error(match status.as_u16() {
                401 => format!(
                    "the portal {} refused the SSO login of profile `{}` ({status}: {said}): it expired or was \
                     revoked; {}",
                    self.endpoint(),
                    self.profile,
                    self.sign_in_again()
                ),
                403 | 404 => format!(
                    "the portal {} refused {role} for profile `{}` ({status}: {said}); check sso_account_id and \
                     sso_role_name, and that your user is assigned that role in IAM Identity Center",
                    self.endpoint(),
                    self.profile
                ),
                _ => format!(
                    "the portal {} answered {status} for {role} (profile `{}`): {said}",
                    self.endpoint(),
                    self.profile
                ),
            }));
        }
        parse_role_credentials(&response.body)
            .map_err(|reason| error(format!("{}: {reason}", self.endpoint())))
    }
}

/// Checks a portal override: a URL with a host, no userinfo, no query; plain `http` only to
/// loopback.
fn check_endpoint(url: &str) -> Result<http::Uri, String> {
    let shown = crate::secrets::redact::url(url);
    let uri: http::Uri = url.parse().map_err(|e| format!("{shown:?} is not a URL ({e})"))?;
    if uri.authority().is_some_and(|a| !crate::secrets::redact::plain_authority(a.as_str())) {
        return Err(format!("{shown} carries a user name or password; the portal takes none"));
    }
    let Some(host) = uri.host() else { return Err(format!("{shown:?} has no host")) };
    if uri.query().is_some() {
        return Err(format!("{} must not carry a query", crate::secrets::redact::uri(&uri)));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if bare.eq_ignore_ascii_case("localhost")
                || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
            {
                Ok(uri)
            } else {
                Err(format!(
                    "{} uses plain http to {host}, which is not loopback: the SSO access token would cross the \
                     network in clear text; use https",
                    crate::secrets::redact::uri(&uri)
                ))
            }
        }
        _ => Err(format!("{} must be http:// or https://", crate::secrets::redact::uri(&uri))),
    }
}

// No Debug: it holds the token as a plain string until it is wrapped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheFile {
    access_token: Option<String>,
    expires_at: Option<String>,
}

/// A token read from the cache.
struct CachedToken {
    access_token: Secret,
    expires_at: SystemTime,
}

/// `expiresAt` as the aws CLI writes it: RFC 3339 (`2024-01-01T00:00:00Z`), or with the `UTC`
/// suffix older versions of the CLI v2 wrote (`2024-01-01T00:00:00UTC`).
fn parse_expiry(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    match text.strip_suffix("UTC") {
        Some(rest) => time::parse_rfc3339(&format!("{rest}Z")),
        None => time::parse_rfc3339(text),
    }
}

/// The cache file's `accessToken` and `expiresAt`. Errors never quote the file.
fn parse_cached_token(text: &[u8]) -> Result<CachedToken, String> {
    let file: CacheFile =
        serde_json::from_slice(text).map_err(|_| "it is not the JSON `aws sso login` writes".to_owned())?;
    let access_token = file
        .access_token
        .map(|t| Secret::new(t.trim()))
        .filter(|t| !t.expose().is_empty())
        .ok_or_else(|| "it has no accessToken".to_owned())?;
    let expires_at = file.expires_at.ok_or_else(|| "it has no expiresAt".to_owned())?;
    let expires_at = parse_expiry(&expires_at)
        .ok_or_else(|| format!("its expiresAt {expires_at:?} is not an RFC 3339 time"))?;
    Ok(CachedToken { access_token, expires_at })
}

// No Debug: it holds the secret parts as plain strings until they are wrapped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PortalAnswer {
    role_credentials: Option<RoleCredentials>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    /// Milliseconds since the epoch.
    expiration: Option<u64>,
}

/// The portal's `GetRoleCredentials` answer. Errors never quote the body.
fn parse_role_credentials(body: &[u8]) -> Result<AwsCredentials, String> {
    let answer: PortalAnswer =
        serde_json::from_slice(body).map_err(|_| "the answer is not GetRoleCredentials JSON".to_owned())?;
    let credentials =
        answer.role_credentials.ok_or_else(|| "the answer has no roleCredentials".to_owned())?;
    let nonempty = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let access_key_id =
        nonempty(credentials.access_key_id).ok_or_else(|| "the answer has no accessKeyId".to_owned())?;
    let secret = nonempty(credentials.secret_access_key)
        .ok_or_else(|| "the answer has no secretAccessKey".to_owned())?;
    let expiration = credentials.expiration.ok_or_else(|| "the answer has no expiration".to_owned())?;
    Ok(AwsCredentials {
        access_key_id,
        secret_access_key: Secret::new(secret),
        session_token: nonempty(credentials.session_token).map(Secret::new),
        expires_at: Some(UNIX_EPOCH + Duration::from_millis(expiration)),
    })
}

impl fmt::Debug for SsoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoProvider")
            .field("profile", &self.profile)
            .field("login", &self.login)
            .field("account_id", &self.account_id)
            .field("role_name", &self.role_name)
            .field("token_file", &self.token_file)
            .field("endpoint", &self.endpoint())
            .finish()
    }
}

fetching_provider!(SsoProvider, NAME);

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SsoLogin {
        SsoLogin::Session {
            name: "admin".into(),
            start_url: "https://d-92671207e4.awsapps.com/start".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn the_cache_file_is_named_by_the_session_or_the_start_url() {
        // The SDKs' own test vectors: the session `admin`, the start URL of the legacy form.
        let home = Path::new("/home/u");
        assert_eq!(
            token_cache_file(home, &session()),
            Path::new("/home/u/.aws/sso/cache/d033e22ae348aeb5660fc2140aec35850c4da997.json")
        );
        let legacy = SsoLogin::Legacy {
            start_url: "https://d-abc123.awsapps.com/start".into(),
            region: "us-east-1".into(),
        };
        assert_eq!(
            token_cache_file(home, &legacy),
            Path::new("/home/u/.aws/sso/cache/40a89917e3175433e361b710a9d43528d7f1890a.json")
        );
    }

    #[test]
    fn cached_tokens_parse_without_quoting_the_file() {
        let token = parse_cached_token(
            br#"{"startUrl":"https://x.awsapps.com/start","region":"us-east-1","accessToken":"TOKEN-SENTINEL",
                 "expiresAt":"2021-12-25T21:30:00Z","refreshToken":"R","clientId":"c","clientSecret":"s"}"#,
        )
        .unwrap();
        assert_eq!(token.access_token.expose(), "TOKEN-SENTINEL");
        assert_eq!(token.expires_at, UNIX_EPOCH + Duration::from_secs(1_640_467_800));
        let legacy_suffix =
            parse_cached_token(br#"{"accessToken":"t","expiresAt":"2021-12-25T21:30:00UTC"}"#);
        assert_eq!(legacy_suffix.unwrap().expires_at, UNIX_EPOCH + Duration::from_secs(1_640_467_800));
        let table: &[(&[u8], &str)] = &[
            (b"TOKEN-SENTINEL", "it is not the JSON `aws sso login` writes"),
            (br#"{"expiresAt":"2021-12-25T21:30:00Z"}"#, "it has no accessToken"),
            (br#"{"accessToken":"TOKEN-SENTINEL"}"#, "it has no expiresAt"),
            (
                br#"{"accessToken":"TOKEN-SENTINEL","expiresAt":"soon"}"#,
                "its expiresAt \"soon\" is not an RFC 3339 time",
            ),
        ];
        for (text, expected) in table {
            assert_eq!(parse_cached_token(text).err().as_deref(), Some(*expected));
        }
    }

    #[test]
    fn role_credentials_parse() {
        let body = br#"{"roleCredentials":{"accessKeyId":"ASIA","secretAccessKey":"S3CR3T",
                        "sessionToken":"T0K3N","expiration":1893456000000}}"#;
        let c = parse_role_credentials(body).unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.session_token.as_ref().map(Secret::expose)),
            ("ASIA", Some("T0K3N"))
        );
        assert_eq!(c.expires_at, Some(UNIX_EPOCH + Duration::from_secs(1_893_456_000)));
        let table: &[(&[u8], &str)] = &[
            (b"S3CR3T", "the answer is not GetRoleCredentials JSON"),
            (br#"{}"#, "the answer has no roleCredentials"),
            (
                br#"{"roleCredentials":{"secretAccessKey":"S3CR3T","expiration":1}}"#,
                "the answer has no accessKeyId",
            ),
            (
                br#"{"roleCredentials":{"accessKeyId":"A","secretAccessKey":"S3CR3T"}}"#,
                "the answer has no expiration",
            ),
        ];
        for (body, expected) in table {
            assert_eq!(parse_role_credentials(body).err().as_deref(), Some(*expected));
        }
    }

    #[test]
    fn portal_overrides_keep_the_token_off_the_network_in_clear() {
        let table: &[(&str, bool)] = &[
            ("https://portal.example.com", true),
            ("http://127.0.0.1:8080", true),
            ("http://[::1]:9", true),
            ("http://localhost:9", true),
            ("http://portal.example.com", false),
            ("http://10.0.0.1", false),
            ("https://portal.example.com/?x=1", false),
            ("ftp://127.0.0.1", false),
            ("/relative", false),
        ];
        for (url, ok) in table {
            assert_eq!(check_endpoint(url).is_ok(), *ok, "{url}");
        }
        let error = check_endpoint("http://u:PASS-SENTINEL@127.0.0.1:1").unwrap_err();
        assert!(!error.contains("SENTINEL") && error.contains("u:<redacted>@"), "{error}");
        let bad_region = SsoProvider::new(
            "p",
            SsoLogin::Legacy { start_url: "https://x".into(), region: "evil.com/".into() },
            "123456789012",
            "r",
            Path::new("/h"),
        );
        assert!(bad_region.unwrap_err().to_string().contains("sso_region \"evil.com/\" is not a region"));
        let provider = SsoProvider::new("p", session(), "123456789012", "r", Path::new("/h")).unwrap();
        assert_eq!(provider.endpoint(), "https://portal.sso.us-east-1.amazonaws.com/");
    }
}
