//! The contract's `s3-error` variant (wit/types.wit) read the same way on both sides of the
//! wall: its stable [`crate::ErrorCode`] and its one-line message. Each side has its own
//! generated type (wit-bindgen in the plugin, wasmtime's bindgen in the host), so the mapping
//! is written once here as a macro and applied to both, instead of two matches kept in step by
//! hand.

/// Defines, in the calling module, `fn s3_error_code(&S3Error) -> ErrorCode` and
/// `fn describe_s3_error(&S3Error) -> String` for that side's generated `S3Error` and
/// `ServiceError` (both names must be in scope).
#[macro_export]
macro_rules! s3_error_mapping {
    ($vis:vis) => {
        /// The stable code of an S3 error, as every output writes it.
        $vis fn s3_error_code(error: &S3Error) -> $crate::ErrorCode {
            match error {
                S3Error::DeniedByHost(_) => $crate::ErrorCode::DeniedByHost,
                S3Error::NoSuchBucket(_) => $crate::ErrorCode::NoSuchBucket,
                S3Error::NoSuchKey(_) => $crate::ErrorCode::NoSuchKey,
                S3Error::AccessDenied(_) => $crate::ErrorCode::AccessDenied,
                S3Error::PreconditionFailed(_) => $crate::ErrorCode::PreconditionFailed,
                S3Error::InvalidRequest(_) => $crate::ErrorCode::InvalidRequest,
                S3Error::Service(_) => $crate::ErrorCode::Service,
                S3Error::Transport(_) => $crate::ErrorCode::Transport,
                S3Error::Timeout => $crate::ErrorCode::Timeout,
                S3Error::Other(_) => $crate::ErrorCode::Other,
            }
        }

        /// One readable line for an S3 error.
        $vis fn describe_s3_error(error: &S3Error) -> String {
            match error {
                S3Error::DeniedByHost(m) => format!("denied by the host: {m}"),
                S3Error::NoSuchBucket(m) | S3Error::NoSuchKey(m) | S3Error::AccessDenied(m) | S3Error::Other(m) => {
                    m.clone()
                }
                S3Error::PreconditionFailed(m) => format!("precondition failed: {m}"),
                S3Error::InvalidRequest(m) => format!("invalid request: {m}"),
                S3Error::Service(ServiceError { status, code, message, request_id }) => {
                    let id = request_id.as_deref().map(|id| format!(", request id {id}")).unwrap_or_default();
                    format!("S3 error {code} (HTTP {status}{id}): {message}")
                }
                S3Error::Transport(m) => format!("transport error: {m}"),
                S3Error::Timeout => "the request timed out".to_owned(),
            }
        }
    };
}
