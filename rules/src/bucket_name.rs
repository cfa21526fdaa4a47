//! S3's general-purpose bucket naming rules
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>).

/// Why a bucket name breaks S3's naming rules. Each message names the input and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BucketNameError {
    /// Not 3 to 63 characters.
    #[error("bucket name {name:?} is {len} characters long; S3 bucket names are 3 to 63 characters")]
    Length {
        /// The offending name.
        name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A character outside `a-z 0-9 . -`.
    #[error(
        "bucket name {name:?} contains {ch:?}; S3 bucket names use only lower-case letters, digits, dots and hyphens"
    )]
    Character {
        /// The offending name.
        name: String,
        /// The first character that is not allowed.
        ch: char,
    },
    /// Does not begin and end with a letter or digit.
    #[error("bucket name {0:?} must begin and end with a lower-case letter or a digit")]
    Edge(String),
    /// Two dots in a row.
    #[error("bucket name {0:?} has two adjacent dots, which S3 does not allow")]
    AdjacentDots(String),
    /// Shaped like an IPv4 address.
    #[error("bucket name {0:?} is formatted as an IP address, which S3 does not allow")]
    IpAddress(String),
    /// Uses a prefix or suffix S3 reserves.
    #[error("bucket name {name:?} uses {affix:?}, which S3 reserves")]
    Reserved {
        /// The offending name.
        name: String,
        /// The reserved prefix or suffix.
        affix: &'static str,
    },
}

const RESERVED_PREFIXES: [&str; 4] = ["xn--", "sthree-", "amzn-s3-demo-", "sthree-configurator"];
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Checks `name` against S3's rules for general-purpose bucket names.
pub fn validate_bucket_name(name: &str) -> Result<(), BucketNameError> {
    let len = name.len();
    if !(3..=63).contains(&len) {
        return Err(BucketNameError::Length { name: name.to_owned(), len });
    }
    if let Some(ch) =
        name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(BucketNameError::Character { name: name.to_owned(), ch });
    }
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    if !is_alnum(bytes[0]) || !is_alnum(bytes[len - 1]) {
        return Err(BucketNameError::Edge(name.to_owned()));
    }
    if name.contains("..") {
        return Err(BucketNameError::AdjacentDots(name.to_owned()));
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(BucketNameError::IpAddress(name.to_owned()));
    }
    let reserved = RESERVED_PREFIXES
        .iter()
        .find(|p| name.starts_with(*p))
        .or_else(|| RESERVED_SUFFIXES.iter().find(|s| name.ends_with(*s)));
    if let Some(affix) = reserved {
        return Err(BucketNameError::Reserved { name: name.to_owned(), affix });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        let table: &[(&str, Option<&str>)] = &[
            ("abc", None),
            ("my-bucket.2024", None),
            ("a".repeat(63).leak(), None),
            ("ab", Some("3 to 63")),
            ("a".repeat(64).leak(), Some("3 to 63")),
            ("MyBucket", Some("'M'")),
            ("my_bucket", Some("'_'")),
            ("-abc", Some("begin and end")),
            ("abc.", Some("begin and end")),
            ("a..b", Some("adjacent dots")),
            ("192.168.5.4", Some("IP address")),
            ("xn--abc", Some("S3 reserves")),
            ("data-s3alias", Some("S3 reserves")),
            ("bucket--x-s3", Some("S3 reserves")),
            ("bücket", Some("'ü'")),
        ];
        for (name, expected) in table {
            let got = validate_bucket_name(name);
            match expected {
                None => assert_eq!(got, Ok(()), "{name}"),
                Some(fragment) => {
                    let message = got.expect_err(name).to_string();
                    assert!(message.contains(fragment), "{name}: {message}");
                    assert!(message.contains(&format!("{name:?}")), "names the input: {message}");
                }
            }
        }
    }
}
