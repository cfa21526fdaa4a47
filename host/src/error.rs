//! The host's errors: a small, stable set, each with a one-line message and an exit code.

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
}

impl Error {
    /// The CLI's exit code: 1 the operation failed, 2 usage or bad input, 3 refused by policy.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Denied(_) => 3,
            Error::Usage(_) | Error::S3(S3Error::InvalidRequest(_)) => 2,
            Error::S3(_) | Error::Local(_) | Error::Plugin(_) => 1,
        }
    }

    /// A stable machine-readable code, as in `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Denied(_) => "denied-by-host",
            Error::S3(e) => match e {
                S3Error::DeniedByHost(_) => "denied-by-host",
                S3Error::NoSuchBucket(_) => "no-such-bucket",
                S3Error::NoSuchKey(_) => "no-such-key",
                S3Error::AccessDenied(_) => "access-denied",
                S3Error::PreconditionFailed(_) => "precondition-failed",
                S3Error::InvalidRequest(_) => "invalid-request",
                S3Error::Service(_) => "service",
                S3Error::Transport(_) => "transport",
                S3Error::Timeout => "timeout",
                S3Error::Other(_) => "other",
            },
            Error::Usage(_) => "usage",
            Error::Local(_) => "local",
            Error::Plugin(_) => "plugin",
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
