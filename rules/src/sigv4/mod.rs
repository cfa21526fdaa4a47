//! AWS Signature Version 4 for S3, shared by the two sides of the sandbox: the plugin signs the
//! requests it sends with a key the host derived ([`SigningKey`]), and the host signs the URLs it
//! presigns. One implementation, tested byte for byte against `aws-sigv4`.

mod sign;
mod signing_key;

pub use sign::{Payload, sign_request};
pub use signing_key::{MIDNIGHT_SLACK, SERVICE, SigningIdentity, SigningKey, date_is_current, signing_date};

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// The clock reads a time before 1970.
    #[error("the clock is before 1970; cannot sign")]
    ClockBefore1970,
    /// The key signs for another day than the signing time's.
    #[error("the signing key is for {key} but the request is signed on {now}; ask the host for today's key")]
    KeyForAnotherDay {
        /// The key's day.
        key: String,
        /// The signing time's day.
        now: String,
    },
    /// A signing key that is not 32 bytes.
    #[error("a SigV4 signing key is 32 bytes, not {0}")]
    KeyLength(usize),
    /// A signing key that is not 64 hex digits.
    #[error("a SigV4 signing key is written as 64 hex digits")]
    KeyHex,
    /// The URI has no host to sign.
    #[error("cannot sign {0}: it has no host")]
    NoHost(String),
    /// A header value S3 would not take.
    #[error("header {0} has a value that is not visible ASCII; S3 needs ASCII headers")]
    NotAscii(String),
    /// A value the signature adds is not a valid header value.
    #[error("a signing value is not a valid header value")]
    HeaderValue,
    /// The presigned URL does not parse.
    #[error("the presigned URL {url} does not parse: {reason}")]
    UrlDoesNotParse {
        /// The URL before the signature was added.
        url: String,
        /// The parser's reason.
        reason: String,
    },
}

/// Lower-case hexadecimal.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    text
}
