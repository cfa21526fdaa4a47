//! Integrity by default: which checksum the CLI's uploads carry. The AWS SDKs and CLI now send
//! a checksum with every upload unless `request_checksum_calculation` (profile) or
//! `AWS_REQUEST_CHECKSUM_CALCULATION` (environment) says `when_required`; an Object Lock bucket
//! refuses a write that carries none. This file reads that setting and the
//! `--checksum-algorithm` flag (`none` turns checksums off) into the algorithm of an upload.
//!
//! The default algorithm is CRC-64/NVME, where the SDKs' is CRC-32: it is the one S3 itself
//! computes for every new object that comes without one, it is always a full-object checksum
//! (also for multipart uploads, so downloads and `sync --checksum` can check any object the
//! CLI uploaded), and AWS's own transfer manager for Rust defaults to it.

use s3_connector_host::types::ChecksumAlgorithm;

/// The algorithm uploads carry when nothing else is asked for.
pub const DEFAULT_ALGORITHM: ChecksumAlgorithm = ChecksumAlgorithm::Crc64nvme;

/// The environment variable the SDKs read (before the profile's key).
pub const ENVIRONMENT: &str = "AWS_REQUEST_CHECKSUM_CALCULATION";

/// The SDKs' `request_checksum_calculation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calculation {
    /// Every upload carries a checksum (the default).
    WhenSupported,
    /// Only operations that require one (none of the CLI's uploads do), or an explicit
    /// `--checksum-algorithm`.
    WhenRequired,
}

impl Calculation {
    /// The setting from the environment variable, else the profile's key (`profile_value`),
    /// else `when_supported`; any case, as the SDKs read it. Another value is refused, naming
    /// where it came from and the two that are understood.
    pub fn read(environment: Option<&str>, profile_value: Option<&str>) -> Result<Self, String> {
        let (value, source) = match (environment.filter(|v| !v.is_empty()), profile_value) {
            (Some(value), _) => (value, ENVIRONMENT),
            (None, Some(value)) => (value, "the profile's request_checksum_calculation"),
            (None, None) => return Ok(Calculation::WhenSupported),
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "when_supported" => Ok(Calculation::WhenSupported),
            "when_required" => Ok(Calculation::WhenRequired),
            _ => Err(format!("{source} is {value:?}; use when_supported or when_required")),
        }
    }

    /// The algorithm an upload carries when no `--checksum-algorithm` is given.
    pub fn default_algorithm(self) -> Option<ChecksumAlgorithm> {
        match self {
            Calculation::WhenSupported => Some(DEFAULT_ALGORITHM),
            Calculation::WhenRequired => None,
        }
    }
}

/// The algorithm named by `--checksum-algorithm` (any case).
pub fn checksum_algorithm(name: &str) -> Result<ChecksumAlgorithm, String> {
    match name.to_ascii_uppercase().as_str() {
        "CRC32" => Ok(ChecksumAlgorithm::Crc32),
        "CRC32C" => Ok(ChecksumAlgorithm::Crc32c),
        "SHA1" => Ok(ChecksumAlgorithm::Sha1),
        "SHA256" => Ok(ChecksumAlgorithm::Sha256),
        "CRC64NVME" => Ok(ChecksumAlgorithm::Crc64nvme),
        _ => Err(format!(
            "--checksum-algorithm {name:?} is not one S3 knows; use CRC32, CRC32C, SHA1, SHA256, CRC64NVME or none"
        )),
    }
}

/// The algorithm of an upload: the flag's (`none`, any case, for none), else `default`.
pub fn choose(
    flag: Option<&str>,
    default: Option<ChecksumAlgorithm>,
) -> Result<Option<ChecksumAlgorithm>, String> {
    match flag {
        None => Ok(default),
        Some(name) if name.eq_ignore_ascii_case("none") => Ok(None),
        Some(name) => checksum_algorithm(name).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_names_map_or_are_refused() {
        let table = [
            ("CRC32", Ok(ChecksumAlgorithm::Crc32)),
            ("crc32c", Ok(ChecksumAlgorithm::Crc32c)),
            ("Sha1", Ok(ChecksumAlgorithm::Sha1)),
            ("SHA256", Ok(ChecksumAlgorithm::Sha256)),
            ("CRC64NVME", Ok(ChecksumAlgorithm::Crc64nvme)),
            ("MD5", Err(())),
        ];
        for (name, expected) in table {
            let got = checksum_algorithm(name);
            assert_eq!(got.as_ref().ok(), expected.as_ref().ok(), "{name}");
            if let Err(message) = got {
                assert!(message.contains("\"MD5\"") && message.contains("CRC64NVME"), "{message}");
            }
        }
    }

    #[test]
    fn the_environment_wins_over_the_profile_and_the_default_is_when_supported() {
        use Calculation::{WhenRequired, WhenSupported};
        let table: &[(Option<&str>, Option<&str>, Calculation)] = &[
            (None, None, WhenSupported),
            (Some("when_required"), None, WhenRequired),
            (Some("WHEN_REQUIRED"), Some("when_supported"), WhenRequired),
            (Some("when_supported"), Some("when_required"), WhenSupported),
            (None, Some("when_required"), WhenRequired),
            (Some(""), Some("when_required"), WhenRequired),
        ];
        for &(environment, profile, expected) in table {
            assert_eq!(Calculation::read(environment, profile), Ok(expected), "{environment:?} {profile:?}");
        }
        assert_eq!(WhenSupported.default_algorithm(), Some(ChecksumAlgorithm::Crc64nvme));
        assert_eq!(WhenRequired.default_algorithm(), None);
    }

    #[test]
    fn a_value_neither_sdk_knows_is_refused_with_its_source() {
        let error = Calculation::read(Some("always"), None).unwrap_err();
        assert!(
            error.contains(ENVIRONMENT) && error.contains("\"always\"") && error.contains("when_required")
        );
        let error = Calculation::read(None, Some("never")).unwrap_err();
        assert!(error.contains("request_checksum_calculation") && error.contains("\"never\""), "{error}");
    }

    #[test]
    fn the_flag_wins_and_none_turns_checksums_off() {
        let default = Some(ChecksumAlgorithm::Crc64nvme);
        assert_eq!(choose(None, default), Ok(default));
        assert_eq!(choose(None, None), Ok(None));
        assert_eq!(choose(Some("none"), default), Ok(None));
        assert_eq!(choose(Some("NONE"), default), Ok(None));
        assert_eq!(choose(Some("crc32"), None), Ok(Some(ChecksumAlgorithm::Crc32)));
        assert!(choose(Some("md5"), default).unwrap_err().contains("\"md5\""));
    }
}
