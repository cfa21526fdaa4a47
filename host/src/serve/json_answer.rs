//! The JSON answers `serve` writes itself: the one error shape of the actions, and action
//! results.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A JSON answer with `status`.
pub(super) fn json(status: u16, value: &Value) -> hyper::Response<HyperOutgoingBody> {
    text(status, value.to_string())
}

/// The JSON error object with `code` and `message`, as the actions write it.
pub(super) fn error(status: u16, code: &str, message: &str) -> hyper::Response<HyperOutgoingBody> {
    let body = json!({"error": {"code": code, "message": message, "retryable": status >= 500, "status": null,
        "requestId": null, "bucket": null, "key": null}});
    let mut response = json(status, &body);
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
