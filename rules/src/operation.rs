//! The kinds of access the host grants and the plugin asks credentials for.

/// An operation class: `read`, `write`, `delete`, `list`, `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Get and head objects, read tags, list parts.
    Read,
    /// Put and copy objects, multipart uploads, write tags.
    Write,
    /// Delete objects.
    Delete,
    /// List keys, head and locate buckets, list buckets.
    List,
    /// Create and delete buckets.
    Admin,
}

impl Operation {
    /// Every operation, in the order they are written.
    pub const ALL: [Operation; 5] =
        [Operation::Read, Operation::Write, Operation::Delete, Operation::List, Operation::Admin];

    /// The name used in `--allow`, config files and credential scopes.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Delete => "delete",
            Operation::List => "list",
            Operation::Admin => "admin",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
        }
        assert_eq!(Operation::from_name("READ"), None);
    }
}
