//! Object keys: S3's length rule and their encoding in a request path.
//!
//! Keys are taken literally: S3 does not normalise `..`, `//` or `./`, so neither do we. A key
//! is encoded byte by byte (everything but unreserved characters and `/`), which makes the
//! encoding reversible and the host's decoding exact.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// S3's limit on the UTF-8 length of a key.
pub const MAX_KEY_BYTES: usize = 1024;

/// Why a key breaks S3's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The empty key.
    #[error("the object key is empty; S3 keys are 1 to 1024 bytes of UTF-8")]
    Empty,
    /// Over 1024 bytes.
    #[error("object key {start:?}... is {len} bytes long; S3 keys are at most 1024 bytes of UTF-8")]
    TooLong {
        /// The first characters of the key, to recognise it.
        start: String,
        /// Its length in bytes.
        len: usize,
    },
}

/// Checks `key` against S3's length rules.
pub fn validate_key(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        let start = key.chars().take(40).collect();
        return Err(KeyError::TooLong { start, len: key.len() });
    }
    Ok(())
}

/// Unreserved characters (RFC 3986) stay as they are; everything else is encoded.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// As [`QUERY_COMPONENT`], and `/` separates path segments.
const KEY_PATH: &AsciiSet = &QUERY_COMPONENT.remove(b'/');

/// Encodes a key for the path of a request URI (`a b/c+d` becomes `a%20b/c%2Bd`).
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_PATH).to_string()
}

/// Encodes a query parameter name or value (`/` included, as SigV4 expects).
pub fn encode_query_component(value: &str) -> String {
    utf8_percent_encode(value, QUERY_COMPONENT).to_string()
}

/// Decodes a percent-encoded path or query component; `None` when the bytes are not UTF-8.
/// `+` stays `+`: in a path it is a literal plus, and SigV4 encodes spaces as `%20`.
pub fn decode_path(encoded: &str) -> Option<String> {
    percent_decode_str(encoded).decode_utf8().ok().map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_the_path_encoding() {
        let table: &[(&str, &str)] = &[
            ("plain.txt", "plain.txt"),
            ("dir/file name.txt", "dir/file%20name.txt"),
            ("a+b", "a%2Bb"),
            ("100%", "100%25"),
            ("a//b", "a//b"),
            ("../up", "../up"),
            ("ünï", "%C3%BCn%C3%AF"),
            ("q?x=1&y#z", "q%3Fx%3D1%26y%23z"),
        ];
        for (key, encoded) in table {
            assert_eq!(encode_key(key), *encoded, "{key}");
            assert_eq!(decode_path(encoded).as_deref(), Some(*key), "{encoded}");
        }
    }

    #[test]
    fn query_components_encode_slashes() {
        assert_eq!(encode_query_component("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn key_length_rule() {
        assert_eq!(validate_key(&"k".repeat(1024)), Ok(()));
        assert_eq!(validate_key(""), Err(KeyError::Empty));
        let message = validate_key(&"k".repeat(1025)).unwrap_err().to_string();
        assert!(message.contains("1025 bytes"), "{message}");
        assert!(decode_path("%FF").is_none());
    }
}
