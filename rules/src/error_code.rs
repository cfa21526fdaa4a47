//! The stable error codes and the one JSON error object, spoken on both sides of the sandbox
//! wall: the plugin writes them in JSON actions and edge answers, the host in `--json` errors,
//! `invoke` and `serve`, and each code has one exit code and one HTTP status everywhere.

use serde_json::{Value, json};

/// A stable, machine-readable error code (docs/actions.md lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The host's policy refused a request; nothing was sent.
    DeniedByHost,
    /// The bucket does not exist.
    NoSuchBucket,
    /// The key does not exist.
    NoSuchKey,
    /// S3 refused access (credentials, bucket policy, signature).
    AccessDenied,
    /// A condition (`If-Match`, ...) did not hold.
    PreconditionFailed,
    /// The input is not a valid request (bad name, bad range), found before or by S3.
    InvalidRequest,
    /// Any other S3 error; its own code and status travel beside.
    Service,
    /// The connection failed.
    Transport,
    /// The call or a request took too long.
    Timeout,
    /// Anything else.
    Other,
    /// A JSON action that is not JSON, or not an object.
    InvalidJson,
    /// A JSON action naming no action.
    UnknownAction,
    /// A JSON action field missing, unknown or of the wrong type.
    InvalidField,
    /// Inline content or a request body over the cap.
    ContentTooLarge,
    /// The document store failed.
    Document,
    /// The configuration or command line is wrong.
    Usage,
    /// A local file or stream failed.
    Local,
    /// The plugin itself failed (a trap, a limit).
    Plugin,
    /// A `serve` client without the token.
    Unauthorized,
    /// The connector's shared retry budget refused a retry: too many requests failed recently.
    RetryBudgetExhausted,
    /// A `serve` tenant over its requests in flight or its rate; `Retry-After` says when to
    /// come back.
    TooManyRequests,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::DeniedByHost,
        ErrorCode::NoSuchBucket,
        ErrorCode::NoSuchKey,
        ErrorCode::AccessDenied,
        ErrorCode::PreconditionFailed,
        ErrorCode::InvalidRequest,
        ErrorCode::Service,
        ErrorCode::Transport,
        ErrorCode::Timeout,
        ErrorCode::Other,
        ErrorCode::InvalidJson,
        ErrorCode::UnknownAction,
        ErrorCode::InvalidField,
        ErrorCode::ContentTooLarge,
        ErrorCode::Document,
        ErrorCode::Usage,
        ErrorCode::Local,
        ErrorCode::Plugin,
        ErrorCode::Unauthorized,
        ErrorCode::RetryBudgetExhausted,
        ErrorCode::TooManyRequests,
    ];

    /// The code as written in JSON (`no-such-key`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::DeniedByHost => "denied-by-host",
            ErrorCode::NoSuchBucket => "no-such-bucket",
            ErrorCode::NoSuchKey => "no-such-key",
            ErrorCode::AccessDenied => "access-denied",
            ErrorCode::PreconditionFailed => "precondition-failed",
            ErrorCode::InvalidRequest => "invalid-request",
            ErrorCode::Service => "service",
            ErrorCode::Transport => "transport",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Other => "other",
            ErrorCode::InvalidJson => "invalid-json",
            ErrorCode::UnknownAction => "unknown-action",
            ErrorCode::InvalidField => "invalid-field",
            ErrorCode::ContentTooLarge => "content-too-large",
            ErrorCode::Document => "document",
            ErrorCode::Usage => "usage",
            ErrorCode::Local => "local",
            ErrorCode::Plugin => "plugin",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::RetryBudgetExhausted => "retry-budget-exhausted",
            ErrorCode::TooManyRequests => "too-many-requests",
        }
    }

    /// Parses a code as written in JSON.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The CLI's exit code: 3 refused by the policy, 2 bad input or usage, 1 anything else.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::DeniedByHost => 3,
            ErrorCode::InvalidJson
            | ErrorCode::UnknownAction
            | ErrorCode::InvalidField
            | ErrorCode::ContentTooLarge
            | ErrorCode::InvalidRequest
            | ErrorCode::Usage => 2,
            _ => 1,
        }
    }

    /// The HTTP status `serve` answers with; `s3_status` is S3's own, for `service` errors (and
    /// a 304 for `precondition-failed`).
    pub fn http_status(self, s3_status: Option<u16>) -> u16 {
        match self {
            ErrorCode::InvalidJson
            | ErrorCode::UnknownAction
            | ErrorCode::InvalidField
            | ErrorCode::InvalidRequest
            | ErrorCode::Document
            | ErrorCode::Usage => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::DeniedByHost | ErrorCode::AccessDenied => 403,
            ErrorCode::NoSuchBucket | ErrorCode::NoSuchKey => 404,
            ErrorCode::PreconditionFailed => s3_status.filter(|s| *s == 304).unwrap_or(412),
            ErrorCode::ContentTooLarge => 413,
            ErrorCode::Service => s3_status.filter(|s| (400..600).contains(s)).unwrap_or(502),
            ErrorCode::Transport => 502,
            ErrorCode::RetryBudgetExhausted => 503,
            ErrorCode::Timeout => 504,
            ErrorCode::Other | ErrorCode::Local | ErrorCode::Plugin => 500,
        }
    }
}

/// The S3 error codes that mean "try again later".
pub const TRANSIENT_S3_CODES: &[&str] = &[
    "SlowDown",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "RequestLimitExceeded",
    "TooManyRequests",
];

/// The HTTP statuses that mean "try again later", whatever the body says.
pub const TRANSIENT_STATUSES: &[u16] = &[429, 500, 502, 503, 504];

/// Whether an S3 answer with `status` and error `code` is worth trying again (the AWS SDKs'
/// standard retry mode); the plugin's retries and every `retryable` flag use this one rule.
pub fn is_transient(status: u16, code: Option<&str>) -> bool {
    code.is_some_and(|code| TRANSIENT_S3_CODES.contains(&code)) || TRANSIENT_STATUSES.contains(&status)
}

/// The one JSON error object:
/// `{"error": {"code", "message", "retryable", "status", "requestId", "bucket", "key"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody<'a> {
    /// The stable code.
    pub code: ErrorCode,
    /// One line for people.
    pub message: &'a str,
    /// Whether the same request may succeed later.
    pub retryable: bool,
    /// The HTTP status S3 answered with, where there was one.
    pub status: Option<u16>,
    /// S3's request id, where there was one.
    pub request_id: Option<&'a str>,
    /// The bucket the error is about.
    pub bucket: Option<&'a str>,
    /// The key the error is about.
    pub key: Option<&'a str>,
}

impl<'a> ErrorBody<'a> {
    /// An error with `code` and `message` and nothing else known; retryable when the code is
    /// (transport failures, timeouts, an empty retry budget, a tenant over its limits).
    pub fn new(code: ErrorCode, message: &'a str) -> Self {
        let retryable = matches!(
            code,
            ErrorCode::Transport
                | ErrorCode::Timeout
                | ErrorCode::RetryBudgetExhausted
                | ErrorCode::TooManyRequests
        );
        Self { code, message, retryable, status: None, request_id: None, bucket: None, key: None }
    }

    /// The error object as JSON.
    pub fn to_json(&self) -> Value {
        json!({ "error": {
            "code": self.code.as_str(),
            "message": self.message,
            "retryable": self.retryable,
            "status": self.status,
            "requestId": self.request_id,
            "bucket": self.bucket,
            "key": self.key,
        }})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_map_to_one_exit_code_and_status() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        let table: &[(&str, Option<u16>, i32, u16)] = &[
            ("denied-by-host", None, 3, 403),
            ("access-denied", Some(403), 1, 403),
            ("no-such-key", Some(404), 1, 404),
            ("no-such-bucket", None, 1, 404),
            ("precondition-failed", Some(412), 1, 412),
            ("precondition-failed", Some(304), 1, 304),
            ("invalid-request", None, 2, 400),
            ("invalid-json", None, 2, 400),
            ("unknown-action", None, 2, 400),
            ("invalid-field", None, 2, 400),
            ("content-too-large", None, 2, 413),
            ("document", None, 1, 400),
            ("usage", None, 2, 400),
            ("service", Some(503), 1, 503),
            ("service", Some(200), 1, 502),
            ("service", None, 1, 502),
            ("transport", None, 1, 502),
            ("timeout", None, 1, 504),
            ("unauthorized", None, 1, 401),
            ("retry-budget-exhausted", None, 1, 503),
            ("too-many-requests", None, 1, 429),
            ("plugin", None, 1, 500),
            ("local", None, 1, 500),
            ("other", None, 1, 500),
        ];
        for (name, s3_status, exit, status) in table {
            let code = ErrorCode::parse(name).unwrap();
            assert_eq!((code.exit_code(), code.http_status(*s3_status)), (*exit, *status), "{name}");
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }

    #[test]
    fn transient_answers_are_throttling_and_server_trouble() {
        let table: &[(u16, Option<&str>, bool)] = &[
            (503, Some("SlowDown"), true),
            (400, Some("RequestTimeout"), true),
            (200, Some("InternalError"), true),
            (429, None, true),
            (500, None, true),
            (504, None, true),
            (501, Some("NotImplemented"), false),
            (403, Some("AccessDenied"), false),
            (404, None, false),
        ];
        for (status, code, transient) in table {
            assert_eq!(is_transient(*status, *code), *transient, "{status} {code:?}");
        }
    }

    #[test]
    fn the_error_body_has_one_shape() {
        let mut body = ErrorBody::new(ErrorCode::Timeout, "too slow");
        assert_eq!(
            body.to_json(),
            json!({"error": {"code": "timeout", "message": "too slow", "retryable": true, "status": null,
                "requestId": null, "bucket": null, "key": null}})
        );
        body.bucket = Some("b");
        body.status = Some(504);
        assert_eq!(body.to_json()["error"]["bucket"], "b");
        assert!(!ErrorBody::new(ErrorCode::Usage, "x").retryable);
    }
}
