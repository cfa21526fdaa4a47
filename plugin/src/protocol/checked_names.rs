//! Bucket names and object keys checked against S3's rules once, where a call enters the
//! plugin, and carried from there as types that cannot hold anything else.
//!
//! Every request is built from a [`Bucket`] or an [`Object`] ([`crate::transport::client::Call`]
//! has no constructor that takes plain strings), so an operation or a transfer deep in a call
//! never checks a name again, and none can forget to. The rules themselves are the shared
//! crate's, which the host applies on its side of the wall too.

use std::fmt;

use crate::bindings::s3_connector::s3::types::{ObjectRef, S3Error, UploadRef};
use crate::protocol::s3_error::invalid;

/// A bucket name that follows S3's naming rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket<'a>(&'a str);

impl<'a> Bucket<'a> {
    /// Checks `name`; the error names it and the rule it breaks.
    pub fn checked(name: &'a str) -> Result<Self, S3Error> {
        s3_connector_rules::validate_bucket_name(name).map_err(invalid)?;
        Ok(Self(name))
    }

    /// The name as given.
    pub fn name(self) -> &'a str {
        self.0
    }

    /// An object of this bucket, once `key` is checked.
    pub fn object(self, key: &'a str) -> Result<Object<'a>, S3Error> {
        s3_connector_rules::validate_key(key).map_err(invalid)?;
        Ok(Object { bucket: self, key })
    }
}

/// A bucket name and a key that follow S3's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object<'a> {
    bucket: Bucket<'a>,
    key: &'a str,
}

impl<'a> Object<'a> {
    /// Checks a bucket name and a key.
    pub fn checked(bucket: &'a str, key: &'a str) -> Result<Self, S3Error> {
        Bucket::checked(bucket)?.object(key)
    }

    /// Checks the contract's object reference.
    pub fn of(object: &'a ObjectRef) -> Result<Self, S3Error> {
        Self::checked(&object.bucket, &object.key)
    }

    /// Checks the object of the contract's multipart upload reference.
    pub fn of_upload(upload: &'a UploadRef) -> Result<Self, S3Error> {
        Self::checked(&upload.bucket, &upload.key)
    }

    /// The object's bucket.
    pub fn bucket(self) -> Bucket<'a> {
        self.bucket
    }

    /// The object's key, as given (keys are taken literally).
    pub fn key(self) -> &'a str {
        self.key
    }
}

/// `s3://bucket/key`, as errors and messages name an object.
impl fmt::Display for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket.0, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_once_by_the_shared_rules() {
        let cases: &[(&str, &str, bool)] = &[
            ("bucket", "a/b.txt", true),
            ("bucket", "../..//x", true),
            ("Bucket", "k", false),
            ("b", "k", false),
            ("bucket", "", false),
            ("bucket", &"k".repeat(1025), false),
            ("bucket", &"k".repeat(1024), true),
        ];
        for (bucket, key, ok) in cases {
            let checked = Object::checked(bucket, key);
            assert_eq!(checked.is_ok(), *ok, "{bucket:?} {key:?}: {checked:?}");
            if let Ok(object) = checked {
                assert_eq!((object.bucket().name(), object.key()), (*bucket, *key));
            } else {
                assert!(matches!(checked, Err(S3Error::InvalidRequest(_))));
            }
        }
    }

    #[test]
    fn an_object_names_itself_as_a_uri() {
        assert_eq!(Object::checked("bucket", "a b/c").unwrap().to_string(), "s3://bucket/a b/c");
    }
}
