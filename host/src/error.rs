//! The host's errors: a small, stable set, each with a one-line message and an exit code.

use s3_connector_rules::ErrorCode;

use crate::network::NetworkFailure;
use crate::policy::Denial;
use crate::types::{S3Error, ServiceError};

/// Everything a connector call or the CLI can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The host's policy refused a request; nothing was sent.
    #[error("{0}")]
    Denied(Denial),
    /// S3 (or the way to it) failed, or the plugin refused the input.
    #[error("{}", describe(.0))]
    S3(S3Error),
    /// The configuration or the command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// A local file or stream failed.
    #[error("{0}")]
    Local(String),
    /// The plugin itself failed (a trap); its backtrace stays in the host's debug output.
    #[error("the plugin failed: {0}")]
    Plugin(String),
    /// A transient failure was not retried: the connector's shared retry budget is empty
    /// (see [`crate::runtime::retry_budget`]).
    #[error("{0}")]
    RetryBudget(String),
    /// The network failed in a way the host can name (an untrusted certificate, a timeout):
    /// reported instead of the plugin's generic transport error.
    #[error("{0}")]
    Network(NetworkFailure),
}

impl Error {
    /// The CLI's exit code: 1 the operation failed, 2 usage or bad input, 3 refused by policy.
    pub fn exit_code(&self) -> i32 {
        self.error_code().exit_code()
    }

    /// A stable machine-readable code, as in `--json` output.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The stable code, with its exit code and HTTP status.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Error::Denied(_) => ErrorCode::DeniedByHost,
            Error::S3(e) => match e {
                S3Error::DeniedByHost(_) => ErrorCode::DeniedByHost,
                S3Error::NoSuchBucket(_) => ErrorCode::NoSuchBucket,
                S3Error::NoSuchKey(_) => ErrorCode::NoSuchKey,
                S3Error::AccessDenied(_) => ErrorCode::AccessDenied,
                S3Error::PreconditionFailed(_) => ErrorCode::PreconditionFailed,
                S3Error::InvalidRequest(_) => ErrorCode::InvalidRequest,
                S3Error::Service(_) => ErrorCode::Service,
                S3Error::Transport(_) => ErrorCode::Transport,
                S3Error::Timeout => ErrorCode::Timeout,
                S3Error::Other(_) => ErrorCode::Other,
            },
            Error::Usage(_) => ErrorCode::Usage,
            Error::Local(_) => ErrorCode::Local,
            Error::Plugin(_) => ErrorCode::Plugin,
            Error::RetryBudget(_) => ErrorCode::RetryBudgetExhausted,
            Error::Network(failure) if failure.is_timeout() => ErrorCode::Timeout,
            Error::Network(_) => ErrorCode::Transport,
        }
    }

    /// Whether the same call may succeed later (the one rule of [`s3_connector_rules::is_transient`]).
    pub fn retryable(&self) -> bool {
        match self {
            Error::S3(S3Error::Timeout | S3Error::Transport(_))
            | Error::RetryBudget(_)
            | Error::Network(_) => true,
            Error::S3(S3Error::Service(e)) => s3_connector_rules::is_transient(e.status, Some(&e.code)),
            _ => false,
        }
    }
}

/// One readable line for an S3 error.
pub fn describe(error: &S3Error) -> String {
    match error {
        S3Error::DeniedByHost(m) => format!("denied by the host: {m}"),
        S3Error::NoSuchBucket(m) | S3Error::NoSuchKey(m) | S3Error::AccessDenied(m) => m.clone(),
        S3Error::PreconditionFailed(m) => format!("precondition failed: {m}"),
        S3Error::InvalidRequest(m) => format!("invalid request: {m}"),
        S3Error::Service(ServiceError { status, code, message, request_id }) => {
            let id = request_id.as_deref().map(|id| format!(", request id {id}")).unwrap_or_default();
            format!("S3 error {code} (HTTP {status}{id}): {message}")
        }
        S3Error::Transport(m) => format!("transport error: {m}"),
        S3Error::Timeout => "the request timed out".to_owned(),
        S3Error::Other(m) => m.clone(),
    }
}
