//! SigV4 signing inside the guest, with the settings S3 needs.

use std::time::SystemTime;

use std::time::Duration;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;

use crate::bindings::s3_connector::s3::types::S3Error;
use crate::transport::host_imports::Credentials;

/// How the payload enters the signature.
pub enum Payload<'a> {
    /// Hash these bytes (small bodies: SHA-256 in the guest is slow on large ones).
    Bytes(&'a [u8]),
    /// `UNSIGNED-PAYLOAD`, for streamed bodies.
    Unsigned,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, for `aws-chunked` bodies with a checksum trailer.
    UnsignedWithTrailer,
}

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
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id,
        credentials.secret_access_key,
        credentials.session_token,
        None,
        "s3-connector-host",
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
        .region(region)
        .name("s3")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| S3Error::Other(format!("cannot set up SigV4 signing: {e}")))?
        .into();
    let mut headers = Vec::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| {
            S3Error::InvalidRequest(format!(
                "header {name} has a value that is not visible ASCII; S3 needs ASCII headers"
            ))
        })?;
        headers.push((name.as_str(), value));
    }
    let body = match payload {
        Payload::Bytes(bytes) => SignableBody::Bytes(bytes),
        Payload::Unsigned => SignableBody::UnsignedPayload,
        Payload::UnsignedWithTrailer => SignableBody::StreamingUnsignedPayloadTrailer,
    };
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(request.method().as_str(), &uri, headers.into_iter(), body)
        .map_err(|e| S3Error::Other(format!("cannot sign the request to {uri}: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| S3Error::Other(format!("cannot sign the request to {uri}: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}
