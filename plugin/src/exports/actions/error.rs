//! The one error shape of JSON actions and its stable codes.
//!
//! `{"error": {"code", "message", "retryable", "status", "requestId", "bucket", "key"}}`: the
//! codes are those of the host's `--json` errors (`no-such-key`, `denied-by-host`, ...) plus the
//! ones only actions have (`invalid-json`, `unknown-action`, `invalid-field`,
//! `content-too-large`, `document`).

use s3_connector_rules::{ErrorBody, ErrorCode};
use serde_json::Value;

use crate::bindings::s3_connector::s3::types::{S3Error, ServiceError};
use crate::protocol::s3_error::{describe_s3_error, s3_error_code};

/// Why an action failed.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The request is not JSON, or not an object.
    #[error("{0}")]
    InvalidJson(String),
    /// The `action` names no action.
    #[error("{0}")]
    UnknownAction(String),
    /// A field is missing, unknown, or of the wrong type or value.
    #[error("{0}")]
    InvalidField(String),
    /// Inline content over the host's cap.
    #[error("{0}")]
    ContentTooLarge(String),
    /// The document store failed (no such document, disk full).
    #[error("{0}")]
    Document(String),
    /// The S3 call failed, or the plugin refused its input.
    #[error("{}", describe_s3_error(.0))]
    S3(S3Error),
}

impl From<S3Error> for ActionError {
    fn from(error: S3Error) -> Self {
        ActionError::S3(error)
    }
}

impl ActionError {
    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ActionError::InvalidJson(_) => ErrorCode::InvalidJson,
            ActionError::UnknownAction(_) => ErrorCode::UnknownAction,
            ActionError::InvalidField(_) => ErrorCode::InvalidField,
            ActionError::ContentTooLarge(_) => ErrorCode::ContentTooLarge,
            ActionError::Document(_) => ErrorCode::Document,
            ActionError::S3(e) => s3_error_code(e),
        }
    }

    /// Whether the same request may succeed later: network trouble, or an S3 answer that is
    /// transient by the one rule of the retries ([`s3_connector_rules::is_transient`]).
    pub fn retryable(&self) -> bool {
        match self {
            ActionError::S3(S3Error::Transport(_) | S3Error::Timeout) => true,
            ActionError::S3(S3Error::Service(ServiceError { status, code, .. })) => {
                s3_connector_rules::is_transient(*status, Some(code))
            }
            _ => false,
        }
    }

    /// The HTTP status S3 answered with, where there was one.
    fn status(&self) -> Option<u16> {
        match self {
            ActionError::S3(S3Error::Service(e)) => Some(e.status),
            ActionError::S3(S3Error::NoSuchBucket(_) | S3Error::NoSuchKey(_)) => Some(404),
            ActionError::S3(S3Error::AccessDenied(_)) => Some(403),
            ActionError::S3(S3Error::PreconditionFailed(_)) => Some(412),
            _ => None,
        }
    }

    /// The error object for `bucket` and `key`.
    pub fn to_json(&self, bucket: Option<&str>, key: Option<&str>) -> Value {
        let request_id = match self {
            ActionError::S3(S3Error::Service(e)) => e.request_id.as_deref(),
            _ => None,
        };
        let message = self.to_string();
        ErrorBody {
            code: self.code(),
            message: &message,
            retryable: self.retryable(),
            status: self.status(),
            request_id,
            bucket,
            key,
        }
        .to_json()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errors_become_the_one_shape() {
        let throttled = ActionError::S3(S3Error::Service(ServiceError {
            status: 503,
            code: "SlowDown".into(),
            message: "s3://b/k: slow down".into(),
            request_id: Some("R1".into()),
        }));
        assert_eq!(
            throttled.to_json(Some("b"), Some("k")),
            json!({"error": {"code": "service", "message": "S3 error SlowDown (HTTP 503, request id R1): s3://b/k: slow down",
                "retryable": true, "status": 503, "requestId": "R1", "bucket": "b", "key": "k"}})
        );
        let table: &[(ActionError, &str, bool, Option<u16>)] = &[
            (ActionError::InvalidJson("x".into()), "invalid-json", false, None),
            (ActionError::S3(S3Error::NoSuchKey("x".into())), "no-such-key", false, Some(404)),
            (ActionError::S3(S3Error::Timeout), "timeout", true, None),
            (ActionError::S3(S3Error::Transport("reset".into())), "transport", true, None),
            (
                ActionError::S3(S3Error::PreconditionFailed("x".into())),
                "precondition-failed",
                false,
                Some(412),
            ),
            (ActionError::ContentTooLarge("x".into()), "content-too-large", false, None),
        ];
        for (error, code, retryable, status) in table {
            let json = error.to_json(None, None);
            assert_eq!(json["error"]["code"], *code);
            assert_eq!(json["error"]["retryable"], *retryable, "{code}");
            assert_eq!(json["error"]["status"], json!(status), "{code}");
        }
    }
}
