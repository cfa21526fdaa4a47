//! The container credentials endpoint (ECS tasks, EKS Pod Identity, local agents): a GET that
//! answers JSON credentials, optionally with an `Authorization` token.
//!
//! From the environment: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (a path on
//! `http://169.254.170.2`) or else `AWS_CONTAINER_CREDENTIALS_FULL_URI`; the token from
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at each refresh) or else
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`. A full URI over plain `http` must point at a loopback
//! address (`127.0.0.0/8`, `::1`, `localhost`) or at the ECS and EKS agents' link-local
//! addresses (`169.254.170.2`, `169.254.170.23`, `fd00:ec2::23`), as in the SDKs, so that the
//! token and the credentials never cross a network in clear text; any host is fine over `https`.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;

use super::{AwsCredentials, CredentialsError, Secret, time};
use crate::network::http_client;
// The SDKs never send it through a proxy: it is on the machine or the node.
use crate::network::{ProxySettings, Trust};

const NAME: &str = "container";

/// Where relative URIs point: the ECS agent.
pub const ECS_AGENT: &str = "http://169.254.170.2";

/// How long the endpoint may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where the authorization token comes from.
#[derive(Clone)]
enum Token {
    Value(Secret),
    File(PathBuf),
}

/// Fetches credentials from a container credentials endpoint.
#[derive(Clone)]
pub struct ContainerProvider {
    uri: http::Uri,
    token: Option<Token>,
    trust: Trust,
}

fn error(reason: String) -> CredentialsError {
    CredentialsError { provider: NAME, reason }
}

impl ContainerProvider {
    /// An endpoint given as a full URI, checked as described in the module's documentation.
    pub fn new(full_uri: &str) -> Result<Self, CredentialsError> {
        let uri = check_full_uri(full_uri).map_err(error)?;
        Ok(Self { uri, token: None, trust: Trust::system() })
    }

    /// Verifies `https` endpoints with `trust` (default: the system's trust store and the
    /// webpki roots), the same trust as the S3 connections.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// Sends this token as `Authorization`.
    pub fn with_token(mut self, token: Secret) -> Self {
        self.token = Some(Token::Value(token));
        self
    }

    /// Reads the `Authorization` token from this file at each refresh.
    pub fn with_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token = Some(Token::File(path.into()));
        self
    }

    /// From the environment, through `lookup`; `None` when neither URI variable is set.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, CredentialsError> {
        Self::from_env_with_agent(lookup, ECS_AGENT)
    }

    /// As [`Self::from_env`], with relative URIs resolved against `agent` instead of
    /// `ECS_AGENT` (for tests and non-standard agents).
    pub fn from_env_with_agent(
        lookup: &dyn Fn(&str) -> Option<String>,
        agent: &str,
    ) -> Result<Option<Self>, CredentialsError> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut provider = if let Some(relative) = nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            if !relative.starts_with('/') {
                return Err(error(format!(
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI {relative:?} must start with /"
                )));
            }
            let uri = format!("{}{relative}", agent.trim_end_matches('/')).parse().map_err(|e| {
                error(format!("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI {relative:?} is not a path ({e})"))
            })?;
            Self { uri, token: None, trust: Trust::system() }
        } else if let Some(full) = nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            Self::new(&full)
                .map_err(|e| error(format!("AWS_CONTAINER_CREDENTIALS_FULL_URI: {}", e.reason)))?
        } else {
            return Ok(None);
        };
        if let Some(file) = nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            provider = provider.with_token_file(file);
        } else if let Some(token) = nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
            provider = provider.with_token(Secret::new(token));
        }
        let trust = Trust::from_lookup(lookup).map_err(|e| error(e.to_string()))?;
        Ok(Some(provider.with_trust(trust)))
    }

    /// The endpoint as it may be printed ([`crate::secrets::redact::uri`]).
    pub fn endpoint(&self) -> String {
        crate::secrets::redact::uri(&self.uri)
    }

    async fn token(&self) -> Result<Option<Secret>, CredentialsError> {
        let token = match &self.token {
            None => return Ok(None),
            Some(Token::Value(token)) => token.clone(),
            Some(Token::File(path)) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    error(format!(
                        "cannot read the authorization token file {} ({e}); check \
                         AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                        path.display()
                    ))
                })?;
                Secret::new(text.trim())
            }
        };
        if token.expose().contains(['\r', '\n']) {
            return Err(error("the authorization token contains a line break; it must be one line".into()));
        }
        Ok(Some(token))
    }

    async fn fetch(&self) -> Result<AwsCredentials, CredentialsError> {
        let mut request = http::Request::get(self.uri.clone())
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new())
            .map_err(|e| error(format!("cannot build the request to {}: {e}", self.endpoint())))?;
        if let Some(token) = self.token().await? {
            let value = http::HeaderValue::from_str(token.expose())
                .map_err(|_| error("the authorization token is not a valid header value".into()))?;
            request.headers_mut().insert(http::header::AUTHORIZATION, value);
        }
        let response =
            http_client::send(request, TIMEOUT, &self.trust, &ProxySettings::default()).await.map_err(
                |e| error(format!("{e}; is the container credentials agent running and the URI right?")),
            )?;
        if !response.status.is_success() {
            return Err(error(format!(
                "{} answered {}: {}; check the authorization token and the task or pod role",
                self.endpoint(),
                response.status,
                response.excerpt()
            )));
        }
        parse_json_credentials(&response.body).map_err(|e| error(format!("{}: {e}", self.endpoint())))
    }
}

/// Checks a full URI: `http` only to loopback and the ECS/EKS agents, `https` anywhere.
pub(crate) fn check_full_uri(url: &str) -> Result<http::Uri, String> {
    let shown = crate::secrets::redact::url(url);
    let uri: http::Uri = url.parse().map_err(|e| format!("{shown:?} is not a URL ({e})"))?;
    let host = uri.host().ok_or_else(|| format!("{shown:?} has no host"))?;
    // The agent authenticates the caller by AWS_CONTAINER_AUTHORIZATION_TOKEN; a password in
    // the URL has no meaning for it, and is refused rather than sent or silently dropped.
    if uri.authority().is_some_and(|a| !crate::secrets::redact::plain_authority(a.as_str())) {
        return Err(format!(
            "{shown} carries a user name or password; the container agent takes none (its token is \
             AWS_CONTAINER_AUTHORIZATION_TOKEN)"
        ));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let allowed = bare.eq_ignore_ascii_case("localhost")
                || bare.parse::<IpAddr>().is_ok_and(|ip| {
                    ip.is_loopback()
                        || ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"]
                            .iter()
                            .any(|agent| agent.parse::<IpAddr>().is_ok_and(|a| a == ip))
                });
            if allowed {
                Ok(uri)
            } else {
                Err(format!(
                    "{} uses plain http to {host}, which is neither loopback nor the ECS/EKS agent; use https \
                     or a loopback address",
                    crate::secrets::redact::uri(&uri)
                ))
            }
        }
        _ => Err(format!("{} must be http:// or https://", crate::secrets::redact::uri(&uri))),
    }
}

// No Debug: it holds the secret parts as plain strings until they are wrapped.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JsonCredentials {
    code: Option<String>,
    message: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
}

/// The JSON credentials the container endpoint and IMDS answer (`AccessKeyId`,
/// `SecretAccessKey`, `Token`, `Expiration`, and for IMDS `Code`). Errors never quote the body.
pub(crate) fn parse_json_credentials(body: &[u8]) -> Result<AwsCredentials, String> {
    let json: JsonCredentials =
        serde_json::from_slice(body).map_err(|_| "the answer is not JSON credentials".to_owned())?;
    if let Some(code) = json.code.as_deref().filter(|c| *c != "Success") {
        return Err(format!("the answer's Code is {code:?}: {}", json.message.unwrap_or_default()));
    }
    let nonempty = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let access_key_id =
        nonempty(json.access_key_id).ok_or_else(|| "the answer has no AccessKeyId".to_owned())?;
    let secret =
        nonempty(json.secret_access_key).ok_or_else(|| "the answer has no SecretAccessKey".to_owned())?;
    let expires_at = match nonempty(json.expiration) {
        Some(text) => Some(
            time::parse_rfc3339(&text)
                .ok_or_else(|| format!("Expiration {text:?} is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    Ok(AwsCredentials {
        access_key_id,
        secret_access_key: Secret::new(secret),
        session_token: nonempty(json.token).map(Secret::new),
        expires_at,
    })
}

impl fmt::Debug for ContainerProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = match &self.token {
            None => "none".to_owned(),
            Some(Token::Value(_)) => "<redacted>".to_owned(),
            Some(Token::File(path)) => format!("from {}", path.display()),
        };
        f.debug_struct("ContainerProvider")
            .field("endpoint", &self.endpoint())
            .field("token", &token)
            .finish()
    }
}

fetching_provider!(ContainerProvider, NAME);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_uris_over_http_must_be_local() {
        let table: &[(&str, bool)] = &[
            ("http://127.0.0.1:8080/creds", true),
            ("http://127.1.2.3/creds", true),
            ("http://[::1]:9/creds", true),
            ("http://localhost/creds", true),
            ("http://169.254.170.2/v2/credentials", true),
            ("http://169.254.170.23/v1/credentials", true),
            ("http://[fd00:ec2::23]/v1/credentials", true),
            ("https://creds.example.com/x", true),
            ("http://creds.example.com/x", false),
            ("http://10.0.0.1/x", false),
            ("http://169.254.169.254/x", false),
            ("ftp://127.0.0.1/x", false),
            ("/relative", false),
        ];
        for (url, ok) in table {
            assert_eq!(check_full_uri(url).is_ok(), *ok, "{url}");
        }
        // A password is refused, and the refusal never quotes it, even when it breaks the URL.
        for url in [
            "http://u:PASS-SENTINEL@127.0.0.1:1/creds",
            "http://u:PA/SS-SENTINEL@127.0.0.1:1/creds",
            "http://u:PASS-SENTINEL@10.0.0.1/creds",
            "ftp://u:PASS-SENTINEL@127.0.0.1/creds",
        ] {
            let error = check_full_uri(url).unwrap_err();
            assert!(!error.contains("SENTINEL") && !error.contains("SS-"), "{error}");
            assert!(error.contains("u:<redacted>@"), "{error}");
        }
    }

    #[test]
    fn the_environment_picks_relative_then_full_uris_and_the_token() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        assert!(ContainerProvider::from_env(&env(&[])).unwrap().is_none());
        let relative = ContainerProvider::from_env(&env(&[
            ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/ignored"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(relative.endpoint(), "http://169.254.170.2/v2/credentials/abc");
        let full = ContainerProvider::from_env(&env(&[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "T0K3N"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(full.endpoint(), "http://127.0.0.1:1/creds");
        assert!(!format!("{full:?}").contains("T0K3N"));
        let remote =
            ContainerProvider::from_env(&env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.1.1/")]));
        let message = remote.unwrap_err().to_string();
        assert!(
            message.starts_with("no credentials from container: AWS_CONTAINER_CREDENTIALS_FULL_URI:"),
            "{message}"
        );
    }

    #[test]
    fn json_credentials_parse() {
        let body = br#"{"Code":"Success","AccessKeyId":"ASIA","SecretAccessKey":"S3CR3T","Token":"T0K3N",
                        "Expiration":"2030-01-01T00:00:00Z","RoleArn":"arn:aws:iam::123456789012:role/r"}"#;
        let c = parse_json_credentials(body).unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.session_token.as_ref().map(Secret::expose)),
            ("ASIA", Some("T0K3N"))
        );
        assert!(c.expires_at.is_some());
        let table: &[(&[u8], &str)] = &[
            (b"S3CR3T", "the answer is not JSON credentials"),
            (br#"{"Code":"Failure","Message":"no role"}"#, "the answer's Code is \"Failure\": no role"),
            (br#"{"SecretAccessKey":"S3CR3T"}"#, "the answer has no AccessKeyId"),
        ];
        for (body, expected) in table {
            assert_eq!(parse_json_credentials(body).err().as_deref(), Some(*expected));
        }
    }
}
