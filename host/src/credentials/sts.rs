//! STS's Query API as the providers use it: a form-encoded POST, optionally signed with SigV4
//! (service `sts`), answered with XML carrying `Credentials` or an `ErrorResponse`.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use serde::Deserialize;

use super::{AwsCredentials, time};
use crate::network::http_client;

/// How long one STS exchange may take.
pub(crate) const STS_TIMEOUT: Duration = Duration::from_secs(30);

/// The regional STS endpoint of `region` (China's regions live under `amazonaws.com.cn`).
pub(crate) fn regional_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://sts.{region}.{suffix}")
}

/// Parses the endpoint URL of a role-session service (STS, Roles Anywhere): `http` or `https`,
/// a host, no query.
/// A user name or password in it is refused: the services authenticate a request by its
/// signature only, and a password would otherwise travel in the signed `Host` header. Errors
/// quote the URL as [`crate::secrets::redact::url`] prints it.
pub(crate) fn parse_endpoint(url: &str) -> Result<http::Uri, String> {
    let shown = crate::secrets::redact::url(url);
    let uri: http::Uri =
        url.parse().map_err(|e| format!("endpoint {shown:?} is not a URL ({e}); use https://HOST"))?;
    if uri.authority().is_some_and(|a| !crate::secrets::redact::plain_authority(a.as_str())) {
        return Err(format!(
            "endpoint {shown:?} carries a user name or password; STS takes none (requests are signed \
             with the credentials instead)"
        ));
    }
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(_)) if uri.query().is_none() => Ok(uri),
        _ => Err(format!("endpoint {shown:?} must be http:// or https:// with a host and no query")),
    }
}

/// Builds the POST of `form` to `endpoint`; with `signer`, signed by `(credentials, region)`
/// at `now`.
pub(crate) fn request(
    endpoint: &http::Uri,
    form: &[(&str, &str)],
    signer: Option<(&AwsCredentials, &str)>,
    now: SystemTime,
) -> Result<http::Request<Bytes>, String> {
    let body = form_body(form);
    let path = if endpoint.path().is_empty() { "/" } else { endpoint.path() };
    let uri = format!(
        "{}://{}{path}",
        endpoint.scheme_str().unwrap_or("https"),
        endpoint.authority().map_or("", |a| a.as_str())
    );
    let host = endpoint.authority().map_or("", |a| a.as_str()).to_owned();
    let mut request = http::Request::post(&uri)
        .header(http::header::HOST, host)
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
        .body(Bytes::from(body))
        .map_err(|e| format!("cannot build the STS request to {uri}: {e}"))?;
    if let Some((credentials, region)) = signer {
        sign_request(&mut request, credentials, region, now)?;
    }
    Ok(request)
}

/// Signs an STS request in place (`x-amz-date`, the session token, `Authorization`).
pub(crate) fn sign_request(
    request: &mut http::Request<Bytes>,
    credentials: &AwsCredentials,
    region: &str,
    now: SystemTime,
) -> Result<(), String> {
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        credentials.session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "s3-connector-host",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot set up SigV4 signing for STS: {e}"))?
        .into();
    let uri = request.uri().to_string();
    let mut headers = Vec::new();
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| format!("header {name} of the STS request is not ASCII"))?;
        headers.push((name.as_str(), value));
    }
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|e| format!("cannot sign the STS request to {uri}: {e}"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| format!("cannot sign the STS request to {uri}: {e}"))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// Sends an STS request and turns the answer into credentials or an error that carries STS's
/// code and message.
pub(crate) async fn call(
    request: http::Request<Bytes>,
    action: &str,
    trust: &crate::network::Trust,
    proxies: &crate::network::ProxySettings,
) -> Result<AwsCredentials, String> {
    let response = http_client::send(request, STS_TIMEOUT, trust, proxies).await?;
    if !response.status.is_success() {
        return Err(match parse_error(&response.body) {
            Some((code, message)) => format!("STS {action} answered {}: {code}: {message}", response.status),
            None => format!("STS {action} answered {}: {}", response.status, response.excerpt()),
        });
    }
    parse_credentials(&response.body).map_err(|e| format!("STS {action}: {e}"))
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "AssumeRoleResult", alias = "AssumeRoleWithWebIdentityResult")]
    result: Option<ResultXml>,
}

#[derive(Deserialize)]
struct ResultXml {
    #[serde(rename = "Credentials")]
    credentials: Option<CredentialsXml>,
}

// No Debug: it holds the secret parts as plain strings until they are wrapped.
#[derive(Deserialize)]
struct CredentialsXml {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: String,
    #[serde(rename = "SessionToken")]
    session_token: Option<String>,
    #[serde(rename = "Expiration")]
    expiration: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    #[serde(rename = "Error")]
    error: ErrorXml,
}

#[derive(Deserialize)]
struct ErrorXml {
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
}

/// The credentials of an `AssumeRoleResponse` or `AssumeRoleWithWebIdentityResponse`.
/// Errors never quote the body (it carries the secret).
pub(crate) fn parse_credentials(body: &[u8]) -> Result<AwsCredentials, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8 text".to_owned())?;
    let envelope: Envelope =
        quick_xml::de::from_str(text).map_err(|_| "the answer is not an AssumeRole response".to_owned())?;
    let credentials = envelope
        .result
        .and_then(|r| r.credentials)
        .ok_or_else(|| "the answer has no Credentials element".to_owned())?;
    let expires_at = match credentials.expiration {
        Some(text) => Some(
            time::parse_rfc3339(&text)
                .ok_or_else(|| format!("Expiration {text:?} is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    if credentials.access_key_id.trim().is_empty() || credentials.secret_access_key.trim().is_empty() {
        return Err("the answer's AccessKeyId or SecretAccessKey is empty".to_owned());
    }
    Ok(AwsCredentials::from_answer(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token,
        expires_at,
    ))
}

/// The `Code` and `Message` of an STS `ErrorResponse`.
pub(crate) fn parse_error(body: &[u8]) -> Option<(String, String)> {
    let envelope: ErrorEnvelope = quick_xml::de::from_str(std::str::from_utf8(body).ok()?).ok()?;
    Some((envelope.error.code.unwrap_or_default(), envelope.error.message.unwrap_or_default()))
}

/// `application/x-www-form-urlencoded` of `pairs` (the STS Query API's body).
fn form_body(pairs: &[(&str, &str)]) -> String {
    const FORM: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, FORM),
                percent_encoding::utf8_percent_encode(v, FORM)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_are_percent_encoded() {
        assert_eq!(
            form_body(&[
                ("Action", "AssumeRole"),
                ("RoleArn", "arn:aws:iam::1:role/a b"),
                ("Policy", "{\"a\":1}")
            ]),
            "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&Policy=%7B%22a%22%3A1%7D"
        );
    }

    const ASSUME_ROLE: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>IQoJb3JpZ2luX2VjEOr</SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;

    #[test]
    fn sts_answers_parse() {
        let c = parse_credentials(ASSUME_ROLE.as_bytes()).unwrap();
        assert_eq!(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(c.secret_access_key.expose(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        assert_eq!(c.session_token.as_ref().map(super::super::Secret::expose), Some("IQoJb3JpZ2luX2VjEOr"));
        assert_eq!(c.expires_at.map(time::format_rfc3339).as_deref(), Some("2019-11-09T13:34:41Z"));

        let web = ASSUME_ROLE.replace("AssumeRoleResult", "AssumeRoleWithWebIdentityResult");
        assert_eq!(parse_credentials(web.as_bytes()).unwrap().access_key_id, "ASIAIOSFODNN7EXAMPLE");

        let table: &[(&str, &str)] = &[
            (
                "<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>",
                "the answer has no Credentials element",
            ),
            ("not xml at all", "the answer is not an AssumeRole response"),
            (
                "<R><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>\
                 <Expiration>soon</Expiration></Credentials></AssumeRoleResult></R>",
                "Expiration \"soon\" is not an RFC 3339 time",
            ),
        ];
        for (body, expected) in table {
            assert_eq!(parse_credentials(body.as_bytes()).err().as_deref(), Some(*expected), "{body}");
        }

        let error = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to assume</Message></Error>
  <RequestId>x</RequestId></ErrorResponse>"#;
        assert_eq!(
            parse_error(error.as_bytes()),
            Some(("AccessDenied".to_owned(), "not authorized to assume".to_owned()))
        );
        assert_eq!(parse_error(b"<html/>"), None);
    }

    #[test]
    fn endpoints_are_regional_and_checked() {
        assert_eq!(regional_endpoint("eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(regional_endpoint("cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
        assert!(parse_endpoint("http://127.0.0.1:9").is_ok());
        assert!(parse_endpoint("ftp://127.0.0.1:9").is_err());
        assert!(parse_endpoint("http://127.0.0.1:9/?x=1").is_err());
        assert!(parse_endpoint("not a url").is_err());
        for with_password in
            ["http://u:SENTINEL@127.0.0.1:9", "http://u:SENT/INEL@127.0.0.1:9", "ftp://u:SENTINEL@h"]
        {
            let error = parse_endpoint(with_password).unwrap_err();
            assert!(!error.contains("SENT"), "{error}");
        }
    }
}
