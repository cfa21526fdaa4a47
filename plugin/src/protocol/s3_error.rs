//! From an S3 error response to the contract's error variant.

use s3_connector_rules::sigv4::SigningError;

use crate::bindings::s3_connector::s3::types::{S3Error, ServiceError};
use crate::protocol::xml;

/// What a request was about, so that errors name it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The bucket, if any.
    pub bucket: Option<&'a str>,
    /// The key, if any.
    pub key: Option<&'a str>,
}

impl std::fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.bucket, self.key) {
            (Some(b), Some(k)) => write!(f, "s3://{b}/{k}"),
            (Some(b), None) => write!(f, "s3://{b}"),
            _ => write!(f, "the S3 service"),
        }
    }
}

impl From<SigningError> for S3Error {
    /// A header S3 would not take is the caller's bad input; the rest are the plugin's or its
    /// host's faults.
    fn from(error: SigningError) -> Self {
        match error {
            SigningError::NotAscii(_) | SigningError::HeaderValue => {
                S3Error::InvalidRequest(error.to_string())
            }
            _ => S3Error::Other(error.to_string()),
        }
    }
}

/// Maps a non-success response to an error. `body` may be empty (HEAD has none).
pub fn from_response(status: u16, request_id: Option<String>, body: &str, subject: Subject<'_>) -> S3Error {
    let parsed = xml::error_body(body);
    let (code, message) = match &parsed {
        Some(e) => (e.code.as_str(), e.message.as_str()),
        None => (code_for_status(status, subject), ""),
    };
    let request_id = parsed.as_ref().and_then(|e| e.request_id.clone()).or(request_id);
    let detail = if message.is_empty() { String::new() } else { format!(": {message}") };
    match code {
        "NoSuchBucket" => {
            S3Error::NoSuchBucket(format!("bucket {:?} does not exist", subject.bucket.unwrap_or("")))
        }
        "NoSuchKey" => S3Error::NoSuchKey(format!("{subject} does not exist")),
        "AccessDenied"
        | "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "InvalidToken"
        | "ExpiredToken"
        | "AllAccessDisabled" => S3Error::AccessDenied(format!(
            "S3 refused access to {subject} ({code}{detail}); check the credentials and the bucket's permissions"
        )),
        "PreconditionFailed" | "NotModified" => {
            S3Error::PreconditionFailed(format!("{subject}: {code}{detail}"))
        }
        "InvalidArgument" | "InvalidRange" | "InvalidBucketName" | "KeyTooLongError" | "MalformedXML"
        | "InvalidRequest" | "InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" | "EntityTooLarge"
        | "MetadataTooLarge" | "InvalidDigest" | "BadDigest" | "IncompleteBody" => {
            S3Error::InvalidRequest(format!("S3 rejected the request for {subject} ({code}{detail})"))
        }
        _ => S3Error::Service(ServiceError {
            status,
            code: code.to_owned(),
            message: if message.is_empty() {
                format!("{subject}: HTTP {status}")
            } else {
                format!("{subject}: {message}")
            },
            request_id,
        }),
    }
}

/// The code to assume when a response has no body to tell (HEAD, or a proxy's HTML).
fn code_for_status(status: u16, subject: Subject<'_>) -> &'static str {
    match status {
        404 if subject.key.is_some() => "NoSuchKey",
        404 => "NoSuchBucket",
        403 => "AccessDenied",
        412 => "PreconditionFailed",
        304 => "NotModified",
        416 => "InvalidRange",
        400 => "BadRequest",
        _ => "UnknownError",
    }
}

// `s3_error_code` and `describe_s3_error`, as the host reads the same variant.
s3_connector_rules::s3_error_mapping!(pub);

/// An input refused before anything was sent.
pub fn invalid(message: impl std::fmt::Display) -> S3Error {
    S3Error::InvalidRequest(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject<'static> {
        Subject { bucket: Some("b"), key: Some("k") }
    }

    #[test]
    fn s3_codes_map_to_the_variant() {
        let xml = |code: &str| {
            format!("<Error><Code>{code}</Code><Message>m</Message><RequestId>r</RequestId></Error>")
        };
        let table: &[(u16, &str, &str)] = &[
            (404, "NoSuchKey", "no-such-key"),
            (404, "NoSuchBucket", "no-such-bucket"),
            (403, "SignatureDoesNotMatch", "access-denied"),
            (403, "InvalidAccessKeyId", "access-denied"),
            (412, "PreconditionFailed", "precondition-failed"),
            (416, "InvalidRange", "invalid-request"),
            (409, "BucketNotEmpty", "service"),
            (503, "SlowDown", "service"),
        ];
        for (status, code, case) in table {
            let got = from_response(*status, None, &xml(code), subject());
            assert_eq!(case_name(&got), *case, "{code}: {got:?}");
        }
        match from_response(409, None, &xml("BucketNotEmpty"), subject()) {
            S3Error::Service(e) => assert_eq!(
                (e.status, e.code.as_str(), e.request_id.as_deref()),
                (409, "BucketNotEmpty", Some("r"))
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bodiless_responses_map_by_status() {
        let table: &[(u16, Subject<'static>, &str)] = &[
            (404, subject(), "no-such-key"),
            (404, Subject { bucket: Some("b"), key: None }, "no-such-bucket"),
            (403, subject(), "access-denied"),
            (412, subject(), "precondition-failed"),
            (500, subject(), "service"),
        ];
        for (status, subject, case) in table {
            assert_eq!(case_name(&from_response(*status, None, "", *subject)), *case, "{status}");
        }
        match from_response(404, None, "", subject()) {
            S3Error::NoSuchKey(message) => assert_eq!(message, "s3://b/k does not exist"),
            other => panic!("{other:?}"),
        }
    }

    fn case_name(e: &S3Error) -> &'static str {
        s3_error_code(e).as_str()
    }
}
