//! The host's errors: a small, stable set, each with a one-line message, a stable code and an
//! exit code. Where a failure has a cause of its own (an I/O error, a credentials provider's
//! error, a broken limit), the variant carries it as a value and `source()` returns it.

use s3_connector_rules::ErrorCode;

use crate::credentials::CredentialsError;
use crate::network::NetworkFailure;
use crate::policy::{Denial, PolicyConfigError};
use crate::runtime::limits::Exceeded;
use crate::settings::ConnectionError;
use crate::types::{S3Error, ServiceError};

/// Everything a connector call or the CLI can fail with. New variants may come in minor
/// versions: match on [`Error::error_code`] for a stable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The host's policy refused a request; nothing was sent.
    #[error("{0}")]
    Denied(Denial),
    /// S3 (or the way to it) failed, or the plugin refused the input.
    #[error("{}", describe_s3_error(.0))]
    S3(S3Error),
    /// A setting given to [`crate::connector::ConnectorBuilder`] is out of its range.
    #[error(transparent)]
    InvalidSetting(#[from] InvalidSetting),
    /// The credentials provider could not give credentials.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The connection's settings do not resolve (endpoint, region, FIPS or dual-stack).
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// A policy rule does not parse.
    #[error(transparent)]
    PolicyConfig(#[from] PolicyConfigError),
    /// The configuration or the command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// A local file or stream failed.
    #[error(transparent)]
    Local(#[from] LocalError),
    /// A call broke one of the host's limits (memory, CPU, host buffers) and was stopped.
    #[error("the plugin failed: {0}")]
    Limit(#[source] Exceeded),
    /// The plugin itself failed (a trap); its backtrace stays in the host's debug output.
    #[error("the plugin failed: {0}")]
    Plugin(String),
    /// A transient failure was not retried: the connector's shared retry budget is empty
    /// (see `crate::runtime::retry_budget`).
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
            Error::S3(e) => s3_error_code(e),
            Error::InvalidSetting(_)
            | Error::Credentials(_)
            | Error::Connection(_)
            | Error::PolicyConfig(_)
            | Error::Usage(_) => ErrorCode::Usage,
            Error::Local(_) => ErrorCode::Local,
            Error::Limit(_) | Error::Plugin(_) => ErrorCode::Plugin,
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

impl Error {
    /// A local failure with no cause beyond its description.
    pub fn local(context: impl Into<String>) -> Self {
        Error::Local(LocalError { context: context.into(), source: None })
    }

    /// A local failure caused by an I/O error; `context` says what was being done, and where.
    pub fn local_io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Local(LocalError { context: context.into(), source: Some(source) })
    }
}

/// A setting of a connector out of its range: which one, and the range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the connector setting {setting} must be {rule}")]
pub struct InvalidSetting {
    /// The setting, as the builder's method names it.
    pub setting: &'static str,
    /// The range it must be in.
    pub rule: &'static str,
}

/// A local file or stream failed: what was being done, and the I/O error behind it if any.
#[derive(Debug, thiserror::Error)]
#[error("{context}{}", .source.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
pub struct LocalError {
    /// What was being done, and to which file.
    pub context: String,
    /// The I/O error behind it (the message carries its text too, so that one line says all).
    #[source]
    pub source: Option<std::io::Error>,
}

s3_connector_rules::s3_error_mapping!(pub(crate));

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn causes_are_sources_and_the_message_stays_one_line() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let error = Error::local_io("cannot write /tmp/x", io);
        assert_eq!(error.to_string(), "cannot write /tmp/x: permission denied");
        let cause = error.source().expect("the I/O error is the source");
        assert_eq!(
            cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind),
            Some(std::io::ErrorKind::PermissionDenied)
        );
        assert!(Error::local("no cause").source().is_none());

        let limit = Error::Limit(Exceeded::Cpu { budget: std::time::Duration::from_secs(1) });
        assert!(limit.source().and_then(|e| e.downcast_ref::<Exceeded>()).is_some());
        assert_eq!((limit.code(), limit.exit_code()), ("plugin", 1));

        let setting = Error::from(InvalidSetting { setting: "max_attempts", rule: "from 1 to 20" });
        assert_eq!(setting.to_string(), "the connector setting max_attempts must be from 1 to 20");
        assert_eq!(setting.exit_code(), 2);
    }
}
