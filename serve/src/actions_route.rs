//! `POST /actions` runs in the host's plugin world through [`Connector::invoke`], not in the
//! edge component.
//!
//! The edge component holds unscoped credentials (from `wasi:config`), and presigning sends no
//! request, so a `presign` action run there produced URLs the egress guard never saw. Through
//! `invoke` the plugin asks for credentials per scope (checked against the policy), and every
//! answer that carries a presigned URL passes the host's one check (policy, expiry cap,
//! dot-segment rule) and is audited, exactly as for library and CLI callers.

use http_body_util::{BodyExt, Limited};
use s3_connector_rules::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::body_cap::CappedBody;
use super::json_answer;
use s3_connector_host::connector::Connector;

/// The largest action read; actions carry references and small inline content, not payloads.
pub const MAX_ACTION_BYTES: usize = 1024 * 1024;

/// Whether `request` is for this route.
pub(super) fn matches<B>(request: &hyper::Request<B>) -> bool {
    request.uri().path() == "/actions"
}

/// Reads the action (at most [`MAX_ACTION_BYTES`], and at most the tenant's body limit, which
/// [`CappedBody`] enforces) and answers it.
pub(super) async fn answer(
    connector: &Connector,
    request: hyper::Request<CappedBody>,
) -> hyper::Response<HyperOutgoingBody> {
    if request.method() != http::Method::POST {
        let message = format!("{} /actions is not served (POST it)", request.method());
        return json_answer::error_with_status(405, ErrorCode::InvalidRequest, &message);
    }
    let body = match Limited::new(request.into_body(), MAX_ACTION_BYTES).collect().await {
        Ok(body) => body.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            let message =
                format!("the action is over {MAX_ACTION_BYTES} bytes; send large content as a document");
            return json_answer::error(ErrorCode::ContentTooLarge, &message);
        }
        Err(error) => {
            return json_answer::error(
                ErrorCode::InvalidRequest,
                &format!("the action could not be read: {error}"),
            );
        }
    };
    let Ok(action) = std::str::from_utf8(&body) else {
        return json_answer::error(ErrorCode::InvalidJson, "the action is not UTF-8 text");
    };
    match connector.invoke(action).await {
        Ok(answer) => json_answer::json(200, &answer),
        Err(failure) => json_answer::json(failure.http_status(), failure.json()),
    }
}
