//! SigV4 signing inside the guest, with the settings S3 needs.
//!
//! The canonical request is built here, straight from the request's parts; the signing key and
//! the signature are `aws-sigv4`'s (`sign::v4`). `aws-sigv4`'s own `http_request::sign` gave the
//! same bytes, but in the guest it spent most of a presign building an `http::HeaderMap`, parsing
//! header names and formatting through `core::fmt` (BENCHMARKS.md, "Where the time goes"); the
//! hashing was under 1 %. The tests below sign a table of requests both ways and require the
//! same headers and URLs, with `aws-sigv4`'s `sign` (and the settings this file used to give it)
//! as the reference.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::sign::v4;
use http::HeaderValue;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::bindings::s3_connector::s3::types::S3Error;
use crate::transport::host_imports::Credentials;

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
const SERVICE: &str = "s3";
/// Headers never signed, as `aws-sigv4` leaves them out by default: computed by the signing
/// itself, or changed by proxies on the way.
const NEVER_SIGNED: [&str; 4] = ["authorization", "user-agent", "x-amzn-trace-id", "transfer-encoding"];
/// Headers a presigned URL does not sign, as `aws-sigv4` leaves them out.
const NOT_SIGNED_IN_URLS: [&str; 2] = ["x-amz-user-agent", "x-amz-checksum-mode"];
/// What a query key or value keeps unescaped in SigV4: RFC 3986's unreserved characters.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Signs `request` in place. Without `presign_for`, in headers (`x-amz-date`,
/// `x-amz-content-sha256`, the session token, `Authorization`); with it, in the query string, as
/// a presigned URL valid for that long. The URI must be absolute.
pub fn sign_request(
    request: &mut http::Request<()>,
    credentials: Credentials,
    region: &str,
    payload: Payload<'_>,
    presign_for: Option<Duration>,
    now: SystemTime,
) -> Result<(), S3Error> {
    let stamp = Stamp::of(now)?;
    let scope = format!("{}/{region}/{SERVICE}/aws4_request", stamp.date());
    let payload_hash: Cow<'_, str> = match payload {
        Payload::Bytes(bytes) => Cow::Owned(hex(&Sha256::digest(bytes))),
        Payload::Unsigned => Cow::Borrowed("UNSIGNED-PAYLOAD"),
        Payload::UnsignedWithTrailer => Cow::Borrowed("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    };
    let token = credentials.session_token.as_deref();

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
            ("X-Amz-Credential", Cow::Owned(format!("{}/{scope}", credentials.access_key_id))),
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
    let key = v4::generate_signing_key(&credentials.secret_access_key, now, region, SERVICE);
    let signature = v4::calculate_signature(key, string_to_sign.as_bytes());

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
            .parse()
            .map_err(|e| S3Error::Other(format!("the presigned URL {uri} does not parse: {e}")))?;
    } else {
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
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
) -> Result<Vec<(&'a str, Cow<'a, str>)>, S3Error> {
    let mut headers = Vec::with_capacity(request.headers().len() + added.len() + 1);
    for (name, value) in request.headers() {
        if added.iter().any(|(added, _)| *added == name.as_str()) {
            continue;
        }
        let value = value.to_str().map_err(|_| {
            S3Error::InvalidRequest(format!(
                "header {name} has a value that is not visible ASCII; S3 needs ASCII headers"
            ))
        })?;
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
fn host(uri: &http::Uri) -> Result<&str, S3Error> {
    let authority =
        uri.authority().ok_or_else(|| S3Error::Other(format!("cannot sign {uri}: it has no host")))?;
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

fn header_value(value: &str) -> Result<HeaderValue, S3Error> {
    HeaderValue::from_str(value)
        .map_err(|_| S3Error::InvalidRequest("a signing value is not a valid header value".to_owned()))
}

/// Lower-case hexadecimal.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    text
}

/// The signing time as SigV4 writes it: `20261202T134552Z` (UTC, whole seconds).
struct Stamp {
    date_time: String,
}

impl Stamp {
    fn of(time: SystemTime) -> Result<Stamp, S3Error> {
        let seconds = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| S3Error::Other("the clock is before 1970; cannot sign".to_owned()))?
            .as_secs();
        let (year, month, day) = civil_date(seconds / 86_400);
        let of_day = seconds % 86_400;
        let date_time = format!(
            "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
            of_day / 3600,
            of_day / 60 % 60,
            of_day % 60
        );
        Ok(Stamp { date_time })
    }

    /// `20261202`: the date of the credential scope.
    fn date(&self) -> &str {
        &self.date_time[..8]
    }
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
        SigningSettings, UriPathNormalizationMode, sign,
    };

    /// The reference: `aws-sigv4`'s `http_request::sign` with the settings S3 needs (single
    /// percent-encoding, no path normalization, `x-amz-content-sha256` in header signatures).
    fn sign_with_aws_sigv4(
        request: &mut http::Request<()>,
        credentials: &Credentials,
        payload: &Payload<'_>,
        presign_for: Option<Duration>,
        now: SystemTime,
    ) {
        let identity = aws_credential_types::Credentials::new(
            &credentials.access_key_id,
            &credentials.secret_access_key,
            credentials.session_token.clone(),
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

    fn example_credentials(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: token.map(str::to_owned),
        }
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
                    let credentials = example_credentials(token);
                    let body = b"hello, signing";
                    let payloads = [Payload::Bytes(body), Payload::Unsigned, Payload::UnsignedWithTrailer];
                    for payload in &payloads {
                        for presign_for in [None, Some(Duration::from_secs(900))] {
                            let method = if presign_for.is_some() { "GET" } else { "PUT" };
                            let mut ours = request(method, uri, headers);
                            let mut reference = ours.clone();
                            sign_request(
                                &mut ours,
                                example_credentials(token),
                                "eu-west-3",
                                *payload,
                                presign_for,
                                *time,
                            )
                            .unwrap();
                            sign_with_aws_sigv4(&mut reference, &credentials, payload, presign_for, *time);
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
        let credentials = example_credentials(Some("secret-token"));
        sign_request(&mut signed, credentials, "us-east-1", Payload::Unsigned, None, SystemTime::now())
            .unwrap();
        assert!(signed.headers()["x-amz-security-token"].is_sensitive());
    }

    #[test]
    fn civil_dates_match_known_days() {
        for (days, date) in
            [(0, (1970, 1, 1)), (11_016, (2000, 2, 29)), (20_789, (2026, 12, 2)), (47_540, (2100, 2, 28))]
        {
            assert_eq!(civil_date(days), date, "day {days}");
        }
    }

    #[test]
    fn a_clock_before_1970_is_an_error_not_a_panic() {
        let mut signed = request("GET", "http://127.0.0.1:9000/b/k", &[]);
        let before = UNIX_EPOCH - Duration::from_secs(1);
        let error = sign_request(
            &mut signed,
            example_credentials(None),
            "us-east-1",
            Payload::Unsigned,
            None,
            before,
        );
        assert!(matches!(error, Err(S3Error::Other(message)) if message.contains("1970")));
    }
}
