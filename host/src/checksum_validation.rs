//! The AWS SDKs' `response_checksum_validation`: whether downloads verify the checksum a
//! response carries. S3-compatible stores do not all keep checksums that can be right (moto
//! without `awscrt` sends a CRC-32 under the name CRC64NVME), and the SDKs let their users
//! turn the check off for them; this is the same setting, read from the same places
//! (`AWS_RESPONSE_CHECKSUM_VALIDATION`, then the profile's `response_checksum_validation`).
//!
//! The plugin does the verifying; the host hands it the setting as that environment variable
//! in the plugin's WASI environment (see `wit/settings.wit`), which holds nothing else.

/// The environment variable the SDKs read (before the profile's key), and the one the plugin
/// reads from its WASI environment.
pub const ENVIRONMENT: &str = "AWS_RESPONSE_CHECKSUM_VALIDATION";

/// The profile's key.
pub const PROFILE_KEY: &str = "response_checksum_validation";

/// Whether downloads verify the checksums responses carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseChecksumValidation {
    /// Every download whose response carries a full-object checksum is verified, and one that
    /// cannot be right (wrong length, unknown type) fails as the server's fault (the default).
    #[default]
    WhenSupported,
    /// Only downloads that require a checksum are verified: none of the connector's do, so
    /// none is. The checksum is still asked for and reported (`object-info.checksum`).
    WhenRequired,
}

/// A response checksum validation setting that is neither value: where it came from and what
/// it said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin} is {value:?}; use when_supported or when_required")]
pub struct InvalidChecksumValidation {
    /// The variable or the profile's key it came from.
    pub origin: String,
    /// The value as given.
    pub value: String,
}

impl ResponseChecksumValidation {
    /// The setting from the environment variable, else the profile's key (`profile_value`),
    /// else `when_supported`; any case, as the SDKs read it. Another value is refused, naming
    /// where it came from and the two that are understood.
    pub fn read(
        environment: Option<&str>,
        profile_value: Option<&str>,
    ) -> Result<Self, InvalidChecksumValidation> {
        let (value, source) = match (environment.filter(|v| !v.is_empty()), profile_value) {
            (Some(value), _) => (value, ENVIRONMENT.to_owned()),
            (None, Some(value)) => (value, format!("the profile's {PROFILE_KEY}")),
            (None, None) => return Ok(Self::WhenSupported),
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "when_supported" => Ok(Self::WhenSupported),
            "when_required" => Ok(Self::WhenRequired),
            _ => Err(InvalidChecksumValidation { origin: source, value: value.to_owned() }),
        }
    }

    /// The value as the SDKs and the plugin spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhenSupported => "when_supported",
            Self::WhenRequired => "when_required",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ResponseChecksumValidation::{self, WhenRequired, WhenSupported};
    use super::*;

    #[test]
    fn the_environment_wins_over_the_profile_and_the_default_is_when_supported() {
        let table: &[(Option<&str>, Option<&str>, ResponseChecksumValidation)] = &[
            (None, None, WhenSupported),
            (Some("when_required"), None, WhenRequired),
            (Some("WHEN_REQUIRED"), Some("when_supported"), WhenRequired),
            (Some("when_supported"), Some("when_required"), WhenSupported),
            (None, Some("when_required"), WhenRequired),
            (Some(""), Some("When_Required"), WhenRequired),
        ];
        for &(environment, profile, expected) in table {
            assert_eq!(
                ResponseChecksumValidation::read(environment, profile),
                Ok(expected),
                "{environment:?} {profile:?}"
            );
        }
        assert_eq!(ResponseChecksumValidation::default(), WhenSupported);
        assert_eq!((WhenSupported.as_str(), WhenRequired.as_str()), ("when_supported", "when_required"));
    }

    #[test]
    fn a_value_neither_sdk_knows_is_refused_with_its_source() {
        let error = ResponseChecksumValidation::read(Some("never"), None).unwrap_err().to_string();
        assert!(
            error.contains(ENVIRONMENT) && error.contains("\"never\"") && error.contains("when_required")
        );
        let error = ResponseChecksumValidation::read(None, Some("always")).unwrap_err().to_string();
        assert!(error.contains(PROFILE_KEY) && error.contains("\"always\""), "{error}");
    }
}
