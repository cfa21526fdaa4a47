//! The JSON answers `serve` writes itself: the one error shape of the actions, and action
//! results.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use s3_connector_rules::{ErrorBody, ErrorCode};
use serde_json::Value;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A JSON answer with `status`.
pub(super) fn json(status: u16, value: &Value) -> hyper::Response<HyperOutgoingBody> {
    text(status, value.to_string())
}

/// The JSON error object with `code` and `message`, with the code's HTTP status.
pub(super) fn error(code: ErrorCode, message: &str) -> hyper::Response<HyperOutgoingBody> {
    error_with_status(code.http_status(None), code, message)
}

/// The JSON error object with `code` and `message`, with `status`.
pub(super) fn error_with_status(
    status: u16,
    code: ErrorCode,
    message: &str,
) -> hyper::Response<HyperOutgoingBody> {
    let mut response = json(status, &ErrorBody::new(code, message).to_json());
    if status == 401 {
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
    }
    response
}

/// `body` (JSON text) as an answer with `status`.
pub(super) fn text(status: u16, body: String) -> hyper::Response<HyperOutgoingBody> {
    let mut response =
        hyper::Response::new(Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}
