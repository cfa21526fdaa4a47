//! The access classes: what the host grants (`--allow BUCKET/PREFIX=read,write`) and what the
//! plugin asks credentials for. One word, `access`, for these in code, WIT, audit records and
//! docs; the S3 API name of a request (`GetObject`) is its action ([`crate::S3Action`]).

/// An access class: `read`, `write`, `delete`, `list`, `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Get and head objects, read tags, list parts.
    Read,
    /// Put and copy objects, multipart uploads, write tags.
    Write,
    /// Delete objects.
    Delete,
    /// List keys, head and locate buckets, list buckets.
    List,
    /// Create and delete buckets, bucket tagging.
    Admin,
}

impl Access {
    /// Every access class, in the order they are written.
    pub const ALL: [Access; 5] = [Access::Read, Access::Write, Access::Delete, Access::List, Access::Admin];

    /// The name used in `--allow`, config files, credential scopes and audit records.
    pub fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Delete => "delete",
            Access::List => "list",
            Access::Admin => "admin",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|access| access.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for access in Access::ALL {
            assert_eq!(Access::from_name(access.name()), Some(access));
        }
        assert_eq!(Access::from_name("READ"), None);
    }
}
