//! SigV4 with an X.509 certificate (IAM Roles Anywhere's signing process): SigV4's canonical
//! request and string to sign, with the algorithm `AWS4-X509-RSA-SHA256` or
//! `AWS4-X509-ECDSA-SHA256`, the certificate's decimal serial number in place of an access key
//! id, and an RSA or ECDSA signature over the string to sign instead of an HMAC.

use std::time::SystemTime;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::time;
use super::x509::X509Identity;

/// The signing name of IAM Roles Anywhere.
pub(crate) const SERVICE: &str = "rolesanywhere";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSZ`.
pub(crate) fn amz_date(now: SystemTime) -> String {
    let text = time::format_rfc3339(now);
    // `YYYY-MM-DDTHH:MM:SSZ` -> `YYYYMMDDTHHMMSSZ`.
    text.chars().filter(|c| *c != '-' && *c != ':').collect()
}

/// The canonical request of a request without a query string: method, path, empty query, the
/// `signed` headers (lower-case names, sorted, values trimmed), their names, the body's hash.
pub(crate) fn canonical_request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (String, String) {
    let mut sorted: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    sorted.sort();
    let canonical_headers: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed: Vec<&str> = sorted.iter().map(|(n, _)| n.as_str()).collect();
    let signed = signed.join(";");
    let request =
        format!("{method}\n{path}\n\n{canonical_headers}\n{signed}\n{}", hex(&Sha256::digest(body)));
    (request, signed)
}

/// The string to sign: algorithm, date-time, scope, hash of the canonical request.
pub(crate) fn string_to_sign(
    algorithm: &str,
    amz_date: &str,
    scope: &str,
    canonical_request: &str,
) -> String {
    format!("{algorithm}\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())))
}

/// Adds `X-Amz-Date`, `X-Amz-X509`, `X-Amz-X509-Chain` (when there is a chain) and the
/// `Authorization` header to `request`, which must carry `Host` and `Content-Type`.
pub(crate) fn sign(
    request: &mut http::Request<Bytes>,
    identity: &X509Identity,
    region: &str,
    now: SystemTime,
) -> Result<(), String> {
    use base64::Engine;
    let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    let date_time = amz_date(now);
    let header = |value: String| {
        http::HeaderValue::from_str(&value).map_err(|_| "a signing header is not valid".to_owned())
    };
    let headers = request.headers_mut();
    headers.insert("x-amz-date", header(date_time.clone())?);
    headers.insert("x-amz-x509", header(b64(identity.certificate.der()))?);
    if !identity.chain.is_empty() {
        let chain: Vec<String> = identity.chain.iter().map(|c| b64(c.der())).collect();
        headers.insert("x-amz-x509-chain", header(chain.join(","))?);
    }
    let mut signed = Vec::new();
    for name in ["content-type", "host", "x-amz-date", "x-amz-x509", "x-amz-x509-chain"] {
        if let Some(value) = request.headers().get(name) {
            let value = value.to_str().map_err(|_| format!("header {name} is not ASCII"))?;
            signed.push((name, value));
        }
    }
    let path = if request.uri().path().is_empty() { "/" } else { request.uri().path() };
    let (canonical, signed_headers) =
        canonical_request(request.method().as_str(), path, &signed, request.body());
    let algorithm = identity.certificate.algorithm().signing_algorithm();
    let scope = format!("{}/{region}/{SERVICE}/aws4_request", &date_time[..8]);
    let to_sign = string_to_sign(algorithm, &date_time, &scope, &canonical);
    let signature = hex(&identity.key.sign(to_sign.as_bytes())?);
    let authorization = format!(
        "{algorithm} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        identity.certificate.serial_number()
    );
    request.headers_mut().insert(http::header::AUTHORIZATION, header(authorization)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn canonical_requests_follow_sigv4() {
        let (request, signed) = canonical_request(
            "POST",
            "/sessions",
            &[
                ("Host", "rolesanywhere.eu-west-1.amazonaws.com"),
                ("Content-Type", " application/json "),
                ("X-Amz-Date", "20231114T221320Z"),
            ],
            b"{}",
        );
        assert_eq!(signed, "content-type;host;x-amz-date");
        assert_eq!(
            request,
            "POST\n/sessions\n\ncontent-type:application/json\nhost:rolesanywhere.eu-west-1.amazonaws.com\n\
             x-amz-date:20231114T221320Z\n\ncontent-type;host;x-amz-date\n\
             44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let to_sign = string_to_sign(
            "AWS4-X509-RSA-SHA256",
            "20231114T221320Z",
            "20231114/eu-west-1/rolesanywhere/aws4_request",
            "x",
        );
        assert_eq!(
            to_sign,
            "AWS4-X509-RSA-SHA256\n20231114T221320Z\n20231114/eu-west-1/rolesanywhere/aws4_request\n\
             2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
        );
        assert_eq!(amz_date(UNIX_EPOCH + Duration::from_secs(1_700_000_000)), "20231114T221320Z");
    }
}
