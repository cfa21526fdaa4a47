//! `s3://BUCKET[/KEY]` locations on the command line.

/// A parsed `s3://` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    /// The bucket.
    pub bucket: String,
    /// The key or prefix; empty for the bucket itself.
    pub key: String,
}

impl S3Uri {
    /// Parses `s3://BUCKET[/KEY]`; `None` when `text` is not an `s3://` location at all.
    pub fn parse(text: &str) -> Option<Result<Self, String>> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(format!("{text:?} names no bucket; write s3://BUCKET/KEY")));
        }
        Some(Ok(Self { bucket: bucket.to_owned(), key: key.to_owned() }))
    }

    /// Parses a location that must be `s3://`.
    pub fn require(text: &str) -> Result<Self, String> {
        Self::parse(text)
            .unwrap_or_else(|| Err(format!("{text:?} is not an S3 location; write s3://BUCKET/KEY")))
    }

    /// The key, which must be present.
    pub fn require_key(&self) -> Result<&str, String> {
        if self.key.is_empty() {
            return Err(format!("s3://{}/ names no object; write s3://{}/KEY", self.bucket, self.bucket));
        }
        Ok(&self.key)
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_parse() {
        let table: &[(&str, Option<Result<(&str, &str), &str>>)] = &[
            ("s3://b", Some(Ok(("b", "")))),
            ("s3://b/", Some(Ok(("b", "")))),
            ("s3://b/dir/file name.txt", Some(Ok(("b", "dir/file name.txt")))),
            ("s3://b//x", Some(Ok(("b", "/x")))),
            ("s3://", Some(Err("names no bucket"))),
            ("/local/path", None),
            ("-", None),
        ];
        for (text, expected) in table {
            let got = S3Uri::parse(text);
            match (got, expected) {
                (None, None) => {}
                (Some(Ok(uri)), Some(Ok((bucket, key)))) => {
                    assert_eq!((uri.bucket.as_str(), uri.key.as_str()), (*bucket, *key))
                }
                (Some(Err(e)), Some(Err(fragment))) => assert!(e.contains(fragment), "{text}: {e}"),
                (got, _) => panic!("{text}: {got:?}"),
            }
        }
        assert!(S3Uri::require("x").unwrap_err().contains("not an S3 location"));
        assert!(S3Uri::require("s3://b").unwrap().require_key().unwrap_err().contains("names no object"));
    }
}
