//! SigV4 signing with the settings S3 needs: the plugin signs the requests it sends, the host
//! the URLs it presigns, with this one code.
//!
//! The canonical request is built here, straight from the request's parts, and signed with a
//! derived key ([`SigningKey`]): one HMAC. `aws-sigv4`'s own `http_request::sign` gave the same
//! bytes, but in the guest it spent most of a presign building an `http::HeaderMap`, parsing
//! header names and formatting through `core::fmt` (BENCHMARKS.md, "Where the time goes"); the
//! hashing was under 1 %. The tests below sign a table of requests both ways and require the
//! same headers and URLs, with `aws-sigv4`'s `sign` (given the secret, where this side gets only
//! the key derived from it) as the reference.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderValue;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use super::signing_key::{SERVICE, SigningIdentity, signing_date};
use super::{SigningError, hex};

/// How the payload enters the signature.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    /// Hash these bytes (small bodies: SHA-256 in the guest is slow on large ones).
    Bytes(&'a [u8]),
    /// `UNSIGNED-PAYLOAD`, for streamed bodies.
    Unsigned,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, for `aws-chunked` bodies with a checksum trailer.
    UnsignedWithTrailer,
}

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Headers never signed, as `aws-sigv4` leaves them out by default: computed by the signing
/// itself, or changed by proxies on the way.
const NEVER_SIGNED: [&str; 4] = ["authorization", "user-agent", "x-amzn-trace-id", "transfer-encoding"];
/// Headers a presigned URL does not sign, as `aws-sigv4` leaves them out.
const NOT_SIGNED_IN_URLS: [&str; 2] = ["x-amz-user-agent", "x-amz-checksum-mode"];
/// What a query key or value keeps unescaped in SigV4: RFC 3986's unreserved characters.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Signs `request` in place. Without `presign_for`, in headers (`x-amz-date`,
/// `x-amz-content-sha256`, the session token, `Authorization`); with it, in the query string, as
/// a presigned URL valid for that long. The URI must be absolute, and `now` on the day the
/// identity's key is for.
pub fn sign_request(
    request: &mut http::Request<()>,
    identity: &SigningIdentity,
    payload: Payload<'_>,
    presign_for: Option<Duration>,
    now: SystemTime,
) -> Result<(), SigningError> {
    let stamp = Stamp::of(now)?;
    if stamp.date() != identity.date {
        return Err(SigningError::KeyForAnotherDay {
            key: identity.date.clone(),
            now: stamp.date().to_owned(),
        });
    }
    let scope = format!("{}/{}/{SERVICE}/aws4_request", stamp.date(), identity.region);
    let payload_hash: Cow<'_, str> = match payload {
        Payload::Bytes(bytes) => Cow::Owned(hex(&Sha256::digest(bytes))),
        Payload::Unsigned => Cow::Borrowed("UNSIGNED-PAYLOAD"),
        Payload::UnsignedWithTrailer => Cow::Borrowed("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    };
    let token = identity.session_token.as_deref();

    // The headers the signature adds replace any the request had of the same name.
    let mut added: Vec<(&str, &str)> = Vec::with_capacity(3);
    if presign_for.is_none() {
        added.push(("x-amz-date", &stamp.date_time));
        if let Some(token) = token {
            added.push(("x-amz-security-token", token));
        }
        added.push(("x-amz-content-sha256", &payload_hash));
    }
    let mut headers = canonical_headers(request, &added)?;
    headers.retain(|(name, _)| {
        !NEVER_SIGNED.contains(name) && (presign_for.is_none() || !NOT_SIGNED_IN_URLS.contains(name))
    });
    let signed_headers = signed_header_names(&headers);

    let mut presign_params: Vec<(&str, Cow<'_, str>)> = Vec::new();
    if let Some(expires_in) = presign_for {
        presign_params = vec![
            ("X-Amz-Algorithm", Cow::Borrowed(ALGORITHM)),
            ("X-Amz-Credential", Cow::Owned(format!("{}/{scope}", identity.access_key_id))),
            ("X-Amz-Date", Cow::Borrowed(&stamp.date_time)),
            ("X-Amz-Expires", Cow::Owned(expires_in.as_secs().to_string())),
            ("X-Amz-SignedHeaders", Cow::Borrowed(&signed_headers)),
        ];
        if let Some(token) = token {
            presign_params.push(("X-Amz-Security-Token", Cow::Borrowed(token)));
        }
    }

    let uri = request.uri();
    let mut canonical = String::with_capacity(512);
    canonical.push_str(request.method().as_str());
    canonical.push('\n');
    canonical.push_str(uri.path());
    canonical.push('\n');
    canonical.push_str(&canonical_query(uri.query().unwrap_or_default(), &presign_params));
    canonical.push('\n');
    for (index, (name, value)) in headers.iter().enumerate() {
        let continues = index > 0 && headers[index - 1].0 == *name;
        if continues {
            canonical.push(',');
        } else {
            if index > 0 {
                canonical.push('\n');
            }
            canonical.push_str(name);
            canonical.push(':');
        }
        canonical.push_str(value);
    }
    if !headers.is_empty() {
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push('\n');
    canonical.push_str(&payload_hash);

    let string_to_sign =
        format!("{ALGORITHM}\n{}\n{scope}\n{}", stamp.date_time, hex(&Sha256::digest(canonical.as_bytes())));
    let signature = identity.key.sign(string_to_sign.as_bytes());

    if presign_for.is_some() {
        let mut url = uri.to_string();
        let mut separator = match uri.query() {
            None => Some('?'),
            Some("") => None,
            Some(_) => Some('&'),
        };
        let signature_param = ("X-Amz-Signature", Cow::Borrowed(signature.as_str()));
        // aws-sigv4's order: the signature goes after the signed headers, before the token.
        let (before, token_param) = presign_params.split_at(5);
        for (name, value) in before.iter().chain([&signature_param]).chain(token_param) {
            if let Some(separator) = separator {
                url.push(separator);
            }
            separator = Some('&');
            url.extend(utf8_percent_encode(name, QUERY_COMPONENT));
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY_COMPONENT));
        }
        *request.uri_mut() = url
            .parse::<http::Uri>()
            .map_err(|e| SigningError::UrlDoesNotParse { url: uri.to_string(), reason: e.to_string() })?;
    } else {
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            identity.access_key_id
        );
        let target = request.headers_mut();
        target.insert("x-amz-date", header_value(&stamp.date_time)?);
        target.insert(http::header::AUTHORIZATION, header_value(&authorization)?);
        target.insert("x-amz-content-sha256", header_value(&payload_hash)?);
        if let Some(token) = token {
            let mut value = header_value(token)?;
            value.set_sensitive(true);
            target.insert("x-amz-security-token", value);
        }
    }
    Ok(())
}

/// The request's headers with `added` in place of any of the same name, and `host` from the URI
/// unless the request has one: each value trimmed of spaces, sorted by name (a name's values
/// keep their order).
fn canonical_headers<'a>(
    request: &'a http::Request<()>,
    added: &[(&'a str, &'a str)],
) -> Result<Vec<(&'a str, Cow<'a, str>)>, SigningError> {
    let mut headers = Vec::with_capacity(request.headers().len() + added.len() + 1);
    for (name, value) in request.headers() {
        if added.iter().any(|(added, _)| *added == name.as_str()) {
            continue;
        }
        let value = value.to_str().map_err(|_| SigningError::NotAscii(name.to_string()))?;
        headers.push((name.as_str(), collapse_spaces(value)));
    }
    if !request.headers().contains_key(http::header::HOST) {
        headers.push(("host", Cow::Borrowed(host(request.uri())?)));
    }
    headers.extend(added.iter().map(|(name, value)| (*name, Cow::Borrowed(*value))));
    headers.sort_by(|a, b| a.0.cmp(b.0));
    Ok(headers)
}

/// The `host` header an HTTP client sends for `uri`: its authority, without the scheme's
/// default port.
fn host(uri: &http::Uri) -> Result<&str, SigningError> {
    let authority = uri.authority().ok_or_else(|| SigningError::NoHost(uri.to_string()))?;
    let default_port = matches!(
        (uri.scheme_str(), authority.port_u16()),
        (Some("http"), Some(80)) | (Some("https"), Some(443))
    );
    Ok(if default_port { authority.host() } else { authority.as_str() })
}

/// The sorted header names, without repeats, joined by `;`.
fn signed_header_names(headers: &[(&str, Cow<'_, str>)]) -> String {
    let mut names = String::with_capacity(headers.len() * 16);
    for (index, (name, _)) in headers.iter().enumerate() {
        if index > 0 && headers[index - 1].0 == *name {
            continue;
        }
        if !names.is_empty() {
            names.push(';');
        }
        names.push_str(name);
    }
    names
}

/// A header value without leading and trailing spaces and with runs of spaces made one, as SigV4
/// canonicalizes it (only spaces: S3 keeps other whitespace).
fn collapse_spaces(value: &str) -> Cow<'_, str> {
    let value = value.trim_matches(' ');
    if !value.contains("  ") {
        return Cow::Borrowed(value);
    }
    let mut collapsed = String::with_capacity(value.len());
    for c in value.chars() {
        if !(c == ' ' && collapsed.ends_with(' ')) {
            collapsed.push(c);
        }
    }
    Cow::Owned(collapsed)
}

/// The canonical query: the URI's parameters (decoded as a form, as `aws-sigv4` reads them) and
/// `extra`, each key and value escaped, sorted by key then value, joined by `&`.
fn canonical_query(query: &str, extra: &[(&str, Cow<'_, str>)]) -> String {
    let encode = |text: &str| utf8_percent_encode(text, QUERY_COMPONENT).to_string();
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (encode(&key), encode(&value)))
        .chain(extra.iter().map(|(key, value)| (encode(key), encode(value))))
        .collect();
    pairs.sort();
    let mut canonical = String::with_capacity(query.len() + 256);
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            canonical.push('&');
        }
        canonical.push_str(key);
        canonical.push('=');
        canonical.push_str(value);
    }
    canonical
}

fn header_value(value: &str) -> Result<HeaderValue, SigningError> {
    HeaderValue::from_str(value).map_err(|_| SigningError::HeaderValue)
}

/// The signing time as SigV4 writes it: `20261202T134552Z` (UTC, whole seconds).
struct Stamp {
    date_time: String,
}

impl Stamp {
    fn of(time: SystemTime) -> Result<Stamp, SigningError> {
        let seconds = time.duration_since(UNIX_EPOCH).map_err(|_| SigningError::ClockBefore1970)?.as_secs();
        let of_day = seconds % 86_400;
        let date_time =
            format!("{}T{:02}{:02}{:02}Z", signing_date(time)?, of_day / 3600, of_day / 60 % 60, of_day % 60);
        Ok(Stamp { date_time })
    }

    /// `20261202`: the date of the credential scope.
    fn date(&self) -> &str {
        &self.date_time[..8]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
        SigningSettings, UriPathNormalizationMode, sign,
    };
    use aws_sigv4::sign::v4;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// The reference: `aws-sigv4`'s `http_request::sign` with the settings S3 needs (single
    /// percent-encoding, no path normalization, `x-amz-content-sha256` in header signatures).
    fn sign_with_aws_sigv4(
        request: &mut http::Request<()>,
        token: Option<&str>,
        payload: &Payload<'_>,
        presign_for: Option<Duration>,
        now: SystemTime,
    ) {
        let identity = aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            SECRET,
            token.map(str::to_owned),
            None,
            "test",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        match presign_for {
            None => settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256,
            Some(expires_in) => {
                settings.signature_location = SignatureLocation::QueryParams;
                settings.expires_in = Some(expires_in);
            }
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-3")
            .name("s3")
            .time(now)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let headers: Vec<(&str, &str)> =
            request.headers().iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap())).collect();
        let body = match payload {
            Payload::Bytes(bytes) => SignableBody::Bytes(bytes),
            Payload::Unsigned => SignableBody::UnsignedPayload,
            Payload::UnsignedWithTrailer => SignableBody::StreamingUnsignedPayloadTrailer,
        };
        let uri = request.uri().to_string();
        let signable =
            SignableRequest::new(request.method().as_str(), &uri, headers.into_iter(), body).unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(request);
    }

    /// The example identity, its key derived for the day of `now` in `region`.
    fn example_identity(token: Option<&str>, region: &str, now: SystemTime) -> SigningIdentity {
        let date = signing_date(now).unwrap();
        SigningIdentity::derive("AKIDEXAMPLE", SECRET, token, &date, region)
    }

    fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::Request<()> {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    fn sorted_headers(request: &http::Request<()>) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        headers
    }

    #[test]
    fn signatures_and_presigned_urls_equal_aws_sigv4s() {
        let uris = [
            "http://127.0.0.1:9000/bucket/key.txt",
            "https://bucket.s3.eu-west-3.amazonaws.com/a%20b/c%2Bd/%C3%A9t%C3%A9",
            "http://localhost:80/bucket?list-type=2&prefix=a%20b&delimiter=%2F",
            "https://[::1]:443/bucket/key?uploads",
            "https://[::1]:8443/bucket/key?partNumber=3&uploadId=x%2By+z",
            "http://127.0.0.1:9000/bucket?delete=&versionId=a~b.c_d-e",
            "http://127.0.0.1:9000/bucket/key?",
            "http://127.0.0.1:9000/",
            "http://127.0.0.1:9000/bucket/k?response-content-disposition=attachment%3B%20filename%3D%22r%C3%A9sum%C3%A9.pdf%22",
            "http://127.0.0.1:9000/bucket/k?b=2&a=2&a=1&A=3",
        ];
        let header_sets: [&[(&str, &str)]; 5] = [
            &[],
            &[("content-length", "1024"), ("content-type", "text/plain")],
            &[
                ("x-amz-meta-note", "  two  spaces   inside  "),
                ("x-amz-meta-note", "second"),
                ("range", "bytes=0-99"),
            ],
            &[
                ("user-agent", "s3-connector"),
                ("x-amz-checksum-mode", "ENABLED"),
                ("transfer-encoding", "chunked"),
            ],
            &[("host", "example.com:9000"), ("x-amz-user-agent", "x"), ("x-amzn-trace-id", "Root=1")],
        ];
        let times = [
            UNIX_EPOCH + Duration::from_secs(1_796_219_152),
            UNIX_EPOCH + Duration::from_secs(951_782_400), // 2000-02-29, a leap day
            UNIX_EPOCH + Duration::from_secs(4_107_542_399), // 2100-02-28T23:59:59
        ];
        let mut compared = 0;
        for uri in uris {
            for headers in header_sets {
                for (case, time) in times.iter().enumerate() {
                    let token = (case == 1).then_some("IQoJb3JpZ2luX2VjEJr//////////token+/=");
                    let body = b"hello, signing";
                    let payloads = [Payload::Bytes(body), Payload::Unsigned, Payload::UnsignedWithTrailer];
                    for payload in &payloads {
                        for presign_for in [None, Some(Duration::from_secs(900))] {
                            let method = if presign_for.is_some() { "GET" } else { "PUT" };
                            let mut ours = request(method, uri, headers);
                            let mut reference = ours.clone();
                            let identity = example_identity(token, "eu-west-3", *time);
                            sign_request(&mut ours, &identity, *payload, presign_for, *time).unwrap();
                            sign_with_aws_sigv4(&mut reference, token, payload, presign_for, *time);
                            assert_eq!(ours.uri(), reference.uri(), "{uri} {headers:?} {presign_for:?}");
                            assert_eq!(
                                sorted_headers(&ours),
                                sorted_headers(&reference),
                                "{uri} {headers:?} {presign_for:?}"
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 10 * 5 * 3 * 3 * 2);
    }

    #[test]
    fn the_session_token_header_is_marked_sensitive() {
        let mut signed = request("GET", "http://127.0.0.1:9000/b/k", &[]);
        let now = SystemTime::now();
        let identity = example_identity(Some("secret-token"), "us-east-1", now);
        sign_request(&mut signed, &identity, Payload::Unsigned, None, now).unwrap();
        assert!(signed.headers()["x-amz-security-token"].is_sensitive());
    }

    #[test]
    fn a_clock_before_1970_is_an_error_not_a_panic() {
        let mut signed = request("GET", "http://127.0.0.1:9000/b/k", &[]);
        let before = UNIX_EPOCH - Duration::from_secs(1);
        let identity = example_identity(None, "us-east-1", UNIX_EPOCH);
        let error = sign_request(&mut signed, &identity, Payload::Unsigned, None, before);
        assert_eq!(error, Err(SigningError::ClockBefore1970));
    }

    #[test]
    fn a_key_signs_only_on_its_day() {
        let mut signed = request("GET", "http://127.0.0.1:9000/b/k", &[]);
        let monday = UNIX_EPOCH + Duration::from_secs(1_796_644_800);
        let identity = example_identity(None, "us-east-1", monday);
        let tuesday = monday + Duration::from_secs(86_400);
        let error = sign_request(&mut signed, &identity, Payload::Unsigned, None, tuesday);
        assert_eq!(
            error,
            Err(SigningError::KeyForAnotherDay { key: "20261207".to_owned(), now: "20261208".to_owned() })
        );
    }
}
