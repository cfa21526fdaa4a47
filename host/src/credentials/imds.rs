//! The EC2 instance metadata service, version 2: a session token first (`PUT
//! /latest/api/token`), then the instance profile's role name and its credentials, each GET
//! carrying the token.
//!
//! The endpoint is `http://169.254.169.254`, or `http://[fd00:ec2::254]` with
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`, or whatever
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` says; `AWS_EC2_METADATA_DISABLED=true` turns the
//! provider off. IMDSv1 (no token) is not used.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use super::container::parse_json_credentials;
use super::{AwsCredentials, CredentialsError, Secret};
use crate::network::http_client;
// The SDKs never send it through a proxy: it is on the machine or the node.
use crate::network::{ProxySettings, Trust};

const NAME: &str = "imds";

/// The IPv4 endpoint.
pub const IMDS_IPV4: &str = "http://169.254.169.254";
/// The IPv6 endpoint.
pub const IMDS_IPV6: &str = "http://[fd00:ec2::254]";

/// Each request's time limit, one attempt each, as the AWS SDKs bound IMDS in their default
/// chain: IMDS answers in milliseconds where it exists, and where it does not, the chain
/// should fail fast.
const TIMEOUT: Duration = Duration::from_secs(1);

/// How long the session token is asked to live.
const TOKEN_TTL_SECONDS: &str = "21600";

const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// Fetches the instance profile's credentials from IMDSv2.
#[derive(Clone)]
pub struct ImdsProvider {
    endpoint: http::Uri,
    profile_name: Option<String>,
    trust: Trust,
}

fn error(reason: String) -> CredentialsError {
    CredentialsError { provider: NAME, reason }
}

impl ImdsProvider {
    /// IMDS at `endpoint` (`http://host[:port]`).
    pub fn new(endpoint: &str) -> Result<Self, CredentialsError> {
        let endpoint: http::Uri = endpoint.trim_end_matches('/').parse().map_err(|e| {
            error(format!(
                "IMDS endpoint {endpoint:?} is not a URL ({e}); check AWS_EC2_METADATA_SERVICE_ENDPOINT"
            ))
        })?;
        if !matches!(endpoint.scheme_str(), Some("http" | "https")) || endpoint.authority().is_none() {
            return Err(error(format!(
                "IMDS endpoint {endpoint} must be http:// or https:// with a host; check \
                 AWS_EC2_METADATA_SERVICE_ENDPOINT"
            )));
        }
        Ok(Self { endpoint, profile_name: None, trust: Trust::system() })
    }

    /// Verifies an `https` endpoint with `trust` (default: the system's trust store and the
    /// webpki roots), the same trust as the S3 connections.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// From the environment through `lookup`; `None` when `AWS_EC2_METADATA_DISABLED` is `true`.
    /// `AWS_EC2_INSTANCE_PROFILE_NAME` skips the role-name lookup.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, CredentialsError> {
        let nonempty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        if nonempty("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let endpoint = match (
            nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
            nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
        ) {
            (Some(endpoint), _) => endpoint,
            (None, Some(mode)) if mode.eq_ignore_ascii_case("ipv6") => IMDS_IPV6.to_owned(),
            (None, Some(mode)) if mode.eq_ignore_ascii_case("ipv4") => IMDS_IPV4.to_owned(),
            (None, Some(mode)) => {
                return Err(error(format!(
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE {mode:?} is neither IPv4 nor IPv6"
                )));
            }
            (None, None) => IMDS_IPV4.to_owned(),
        };
        let mut provider = Self::new(&endpoint)?;
        provider.profile_name = nonempty("AWS_EC2_INSTANCE_PROFILE_NAME");
        let trust = Trust::from_lookup(lookup).map_err(|e| error(e.to_string()))?;
        Ok(Some(provider.with_trust(trust)))
    }

    /// The endpoint.
    pub fn endpoint(&self) -> String {
        self.endpoint.to_string().trim_end_matches('/').to_owned()
    }

    fn uri(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint())
    }

    async fn exchange(&self, request: http::Request<Bytes>, what: &str) -> Result<Bytes, CredentialsError> {
        let response = http_client::send(request, TIMEOUT, &self.trust, &ProxySettings::default())
            .await
            .map_err(|e| {
                error(format!(
                    "{e} while asking for {what}; this is not an EC2 instance, or IMDS is off or blocked"
                ))
            })?;
        match response.status.as_u16() {
            200..=299 => Ok(response.body),
            404 if what == "the role name" => Err(error(
                "IMDS has no IAM role for this instance (404); attach an instance profile to it".to_owned(),
            )),
            401 | 403 => Err(error(format!(
                "IMDS answered {} while asking for {what}; IMDS may be disabled or the token hop limit too low",
                response.status
            ))),
            _ => Err(error(format!(
                "IMDS answered {} while asking for {what}: {}",
                response.status,
                response.excerpt()
            ))),
        }
    }

    async fn fetch(&self) -> Result<AwsCredentials, CredentialsError> {
        let request = http::Request::put(self.uri("/latest/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS)
            .body(Bytes::new())
            .map_err(|e| error(format!("cannot build the token request: {e}")))?;
        let token = self.exchange(request, "a session token").await?;
        let token = Secret::new(String::from_utf8_lossy(&token).trim());
        let header = http::HeaderValue::from_str(token.expose())
            .map_err(|_| error("IMDS answered a session token that is not a header value".to_owned()))?;
        let get = |path: String| {
            http::Request::get(path)
                .header("x-aws-ec2-metadata-token", header.clone())
                .body(Bytes::new())
                .map_err(|e| error(format!("cannot build the request: {e}")))
        };
        let role = match &self.profile_name {
            Some(name) => name.clone(),
            None => {
                let names = self.exchange(get(self.uri(CREDENTIALS_PATH))?, "the role name").await?;
                let names = String::from_utf8_lossy(&names);
                names
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .ok_or_else(|| {
                        error("IMDS lists no IAM role for this instance; attach an instance profile".into())
                    })?
                    .to_owned()
            }
        };
        if role.contains(['/', '?', '#']) {
            return Err(error(format!("IMDS named the role {role:?}, which is not a role name")));
        }
        let body = self
            .exchange(get(self.uri(&format!("{CREDENTIALS_PATH}{role}")))?, "the role's credentials")
            .await?;
        parse_json_credentials(&body).map_err(|e| error(format!("role {role}: {e}")))
    }
}

impl fmt::Debug for ImdsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImdsProvider")
            .field("endpoint", &self.endpoint())
            .field("profile_name", &self.profile_name)
            .finish()
    }
}

fetching_provider!(ImdsProvider, NAME);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_picks_the_endpoint_or_turns_imds_off() {
        let table: &[(&[(&str, &str)], Result<Option<&str>, &str>)] = &[
            (&[], Ok(Some("http://169.254.169.254"))),
            (&[("AWS_EC2_METADATA_DISABLED", "true")], Ok(None)),
            (&[("AWS_EC2_METADATA_DISABLED", "TRUE")], Ok(None)),
            (&[("AWS_EC2_METADATA_DISABLED", "false")], Ok(Some("http://169.254.169.254"))),
            (&[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")], Ok(Some("http://[fd00:ec2::254]"))),
            (&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/")], Ok(Some("http://127.0.0.1:9"))),
            (&[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipx")], Err("neither IPv4 nor IPv6")),
            (&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ftp://x")], Err("must be http:// or https://")),
        ];
        for (pairs, expected) in table {
            let lookup = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
            let got = ImdsProvider::from_env(&lookup);
            match expected {
                Ok(endpoint) => {
                    assert_eq!(got.unwrap().map(|p| p.endpoint()).as_deref(), *endpoint, "{pairs:?}")
                }
                Err(part) => assert!(got.unwrap_err().to_string().contains(part), "{pairs:?}"),
            }
        }
    }
}
