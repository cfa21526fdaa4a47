//! Which response checksums a download verifies, as the AWS SDKs' `response_checksum_validation`
//! decides it, and what counts as a stored checksum that cannot be right.
//!
//! Some S3-compatible stores send a checksum that does not fit its algorithm (moto without
//! `awscrt` keeps a 4-byte CRC-32 under the name CRC64NVME). Compared with the bytes it would
//! call every download corrupt, so it is refused before the body is read as the server's fault,
//! naming the setting that skips the check. The host passes the setting in the plugin's WASI
//! environment (`AWS_RESPONSE_CHECKSUM_VALIDATION`, the SDKs' own name), the one channel a
//! `plugin` host already provides; absent, downloads are verified as before.

use base64::Engine as _;

use crate::bindings::s3_connector::s3::types::{ChecksumAlgorithm, S3Error};
use crate::protocol::checksum::{self, header_name};

/// The environment variable of the plugin's WASI environment that holds the setting.
pub const ENVIRONMENT: &str = "AWS_RESPONSE_CHECKSUM_VALIDATION";

/// The SDKs' `response_checksum_validation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Every response that carries a full-object checksum is verified (the default).
    WhenSupported,
    /// Only responses to calls that require a checksum are verified: none of this plugin's
    /// downloads do, so none is; the checksum is still asked for and reported.
    WhenRequired,
}

impl Validation {
    /// The setting of this call: `when_required` (any case) in the environment, else
    /// `when_supported`. The host refuses other values before any call, so anything else here
    /// keeps the safe default.
    pub fn from_environment() -> Self {
        Self::parse(std::env::var(ENVIRONMENT).ok().as_deref())
    }

    /// The setting a value of [`ENVIRONMENT`] names.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some(value) if value.trim().eq_ignore_ascii_case("when_required") => Validation::WhenRequired,
            _ => Validation::WhenSupported,
        }
    }
}

/// The full-object checksum to verify a response's body against, under `validation`: none when
/// the setting skips verification or the response carries no full-object checksum (see
/// [`checksum::full_object`]); an error, before any byte of the body is read, when the one it
/// carries cannot be right: not base64, the wrong length for its algorithm, or an
/// `x-amz-checksum-type` that S3 does not have.
pub fn to_verify<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
    validation: Validation,
) -> Result<Option<(ChecksumAlgorithm, &'a str)>, S3Error> {
    if validation == Validation::WhenRequired {
        return Ok(None);
    }
    let Some((algorithm, value)) = checksum::full_object(&header) else {
        return Ok(None);
    };
    if let Some(kind) = header("x-amz-checksum-type").map(str::trim)
        && !kind.eq_ignore_ascii_case("FULL_OBJECT")
    {
        return Err(server_fault(format!(
            "the server sent {} with x-amz-checksum-type {kind:?}, a type S3 does not have \
             (FULL_OBJECT or COMPOSITE)",
            header_name(algorithm)
        )));
    }
    let expected = digest_len(algorithm);
    match base64::engine::general_purpose::STANDARD.decode(value) {
        Ok(digest) if digest.len() == expected => Ok(Some((algorithm, value))),
        Ok(digest) => Err(server_fault(format!(
            "the server sent {} {value:?}, {} bytes where a {} is {expected}",
            header_name(algorithm),
            digest.len(),
            algorithm.s3_name()
        ))),
        Err(_) => Err(server_fault(format!(
            "the server sent {} {value:?}, which is not base64",
            header_name(algorithm)
        ))),
    }
}

/// The digest's length in bytes.
fn digest_len(algorithm: ChecksumAlgorithm) -> usize {
    match algorithm {
        ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
        ChecksumAlgorithm::Crc64nvme => 8,
        ChecksumAlgorithm::Sha1 => 20,
        ChecksumAlgorithm::Sha256 => 32,
    }
}

fn server_fault(what: String) -> S3Error {
    S3Error::Other(format!(
        "{what}: the stored checksum cannot be right, a fault of the server (the bytes were not \
         compared); nothing was downloaded. To download from this store without checking \
         response checksums, set {ENVIRONMENT}=when_required (or response_checksum_validation = \
         when_required in the profile)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use ChecksumAlgorithm::{Crc32, Crc64nvme, Sha256};
    use Validation::{WhenRequired, WhenSupported};

    fn verdict(
        headers: &[(&'static str, &'static str)],
        validation: Validation,
    ) -> Result<Option<(ChecksumAlgorithm, &'static str)>, String> {
        to_verify(|name| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v), validation).map_err(|e| {
            match e {
                S3Error::Other(text) => text,
                other => format!("{other:?}"),
            }
        })
    }

    #[test]
    fn checksums_that_fit_their_algorithm_are_verified_under_when_supported_only() {
        let table: &[(&[(&str, &str)], Option<(ChecksumAlgorithm, &str)>)] = &[
            (&[], None),
            (&[("x-amz-checksum-crc32", "y/Q5Jg==")], Some((Crc32, "y/Q5Jg=="))),
            (
                &[("x-amz-checksum-crc64nvme", "rosUhgp5mIg="), ("x-amz-checksum-type", "FULL_OBJECT")],
                Some((Crc64nvme, "rosUhgp5mIg=")),
            ),
            (
                &[("x-amz-checksum-sha256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=")],
                Some((Sha256, "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=")),
            ),
            // Composite checksums are skipped, as before.
            (&[("x-amz-checksum-crc32", "y/Q5Jg=="), ("x-amz-checksum-type", "COMPOSITE")], None),
            (&[("x-amz-checksum-crc32", "y/Q5Jg==-3")], None),
        ];
        for &(headers, expected) in table {
            assert_eq!(verdict(headers, WhenSupported), Ok(expected), "{headers:?}");
            assert_eq!(verdict(headers, WhenRequired), Ok(None), "{headers:?}");
        }
    }

    #[test]
    fn a_checksum_that_cannot_be_right_is_the_servers_fault_and_names_the_setting() {
        let table: &[(&[(&str, &str)], &str)] = &[
            // moto without awscrt: a CRC-32 under the name CRC64NVME.
            (&[("x-amz-checksum-crc64nvme", "y/Q5Jg==")], "4 bytes where a CRC64NVME is 8"),
            (&[("x-amz-checksum-crc32", "rosUhgp5mIg=")], "8 bytes where a CRC32 is 4"),
            (&[("x-amz-checksum-sha256", "y/Q5Jg==")], "4 bytes where a SHA256 is 32"),
            (&[("x-amz-checksum-crc32", "not base64!")], "not base64"),
            (
                &[("x-amz-checksum-crc32", "y/Q5Jg=="), ("x-amz-checksum-type", "PARTIAL")],
                "type S3 does not have",
            ),
        ];
        for &(headers, what) in table {
            let error = verdict(headers, WhenSupported).unwrap_err();
            for needle in [what, "fault of the server", "AWS_RESPONSE_CHECKSUM_VALIDATION=when_required"] {
                assert!(error.contains(needle), "{headers:?}: {needle:?} not in {error}");
            }
            assert!(!error.contains("corrupt"), "{error}");
            assert_eq!(verdict(headers, WhenRequired), Ok(None), "{headers:?}");
        }
    }

    #[test]
    fn the_setting_is_when_required_only_when_it_says_so() {
        let table = [
            (None, WhenSupported),
            (Some("when_supported"), WhenSupported),
            (Some("WHEN_REQUIRED"), WhenRequired),
            (Some(" when_required "), WhenRequired),
            (Some("always"), WhenSupported),
        ];
        for (value, expected) in table {
            assert_eq!(Validation::parse(value), expected, "{value:?}");
        }
    }
}
