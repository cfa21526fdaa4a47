//! Every route but `/actions`: one fresh instance of the edge component per request
//! ([`Connector::answer_with_edge`]); its error answers are scrubbed of the key and the session
//! token, and a refusal or network failure says the host's reason.

use http_body_util::{BodyExt, Limited};

use s3_connector_rules::ErrorCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::body_cap::CappedBody;
use super::json_answer;
use s3_connector_host::EdgeRuntime;
use s3_connector_host::connector::{Connector, HostReason};
use s3_connector_host::credentials::Secret;
use s3_connector_host::error::Error;

/// The largest error answer of the component that is read to be scrubbed; the component's
/// errors are one JSON object, so a larger one is replaced whole.
const MAX_ERROR_ANSWER: usize = 64 * 1024;

/// Whether `request` names its host, which the component's `wasi:http` request needs (an
/// HTTP/1.0 request may have neither a `Host` header nor an absolute URI).
pub(super) fn names_host<B>(request: &hyper::Request<B>) -> bool {
    request.uri().authority().is_some() || request.headers().contains_key(http::header::HOST)
}

/// Runs the component on `request`; its answer streams back while the instance runs on in a
/// task of its own, which holds `in_flight` (the server's and the tenant's counts) until it ends.
/// A refusal or network failure gets the host's reason in its JSON answer.
pub(super) async fn answer(
    runtime: &EdgeRuntime,
    connector: &Connector,
    request: hyper::Request<CappedBody>,
    in_flight: impl Send + 'static,
) -> Result<hyper::Response<HyperOutgoingBody>, Error> {
    let (response, call) = connector.answer_with_edge(runtime, request, in_flight).await?;
    if response.status().is_success() || response.status().is_redirection() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let Some(text) = scrubbed_text(response, &call.handed_out).await else {
        let message = "the plugin's error answer could not be read whole";
        return Ok(json_answer::error_with_status(status, ErrorCode::Other, message));
    };
    // The component knows only that its request was refused; the host knows the rule it
    // lacked, and says so as the CLI and the actions do. The error answer has been read whole,
    // so the instance is ending.
    // Likewise for the network: the component saw a transport error, the host knows which host
    // and why (an untrusted certificate, which timeout).
    let codes: &[ErrorCode] = match status {
        403 => &[ErrorCode::DeniedByHost],
        502 | 504 => &[ErrorCode::Transport, ErrorCode::Timeout],
        _ => return Ok(json_answer::text(status, text)),
    };
    match call.host_reason().await {
        Some(HostReason::Denied(reason)) if status == 403 => {
            Ok(with_host_reason(status, &text, codes, ErrorCode::DeniedByHost, &reason))
        }
        Some(HostReason::Network(reason)) if status != 403 => {
            Ok(with_host_reason(status, &text, codes, ErrorCode::Transport, &reason))
        }
        _ => Ok(json_answer::text(status, text)),
    }
}

/// An error answer whose message is the host's `reason` when its code is one of `codes` (a
/// `fallback` answer when it is not JSON); other fields (the bucket, the key) stay as the
/// component wrote them.
fn with_host_reason(
    status: u16,
    text: &str,
    codes: &[ErrorCode],
    fallback: ErrorCode,
    reason: &str,
) -> hyper::Response<HyperOutgoingBody> {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) else {
        return json_answer::error_with_status(status, fallback, reason);
    };
    if codes.iter().any(|code| value["error"]["code"] == code.as_str()) {
        value["error"]["message"] = serde_json::Value::String(reason.to_owned());
    }
    json_answer::json(status, &value)
}

/// An error answer's text, read whole (it is one JSON object) with every spelling of the
/// handed-out secrets removed: AWS quotes the canonical request (a session token included) in
/// `SignatureDoesNotMatch`, and the component passes S3's message on. `None` when it is larger
/// than [`MAX_ERROR_ANSWER`] or cannot be read.
async fn scrubbed_text(response: hyper::Response<HyperOutgoingBody>, secrets: &[Secret]) -> Option<String> {
    let body = Limited::new(response.into_body(), MAX_ERROR_ANSWER).collect().await.ok()?;
    Some(s3_connector_host::secrets::scrub::secrets(&String::from_utf8_lossy(&body.to_bytes()), secrets))
}
