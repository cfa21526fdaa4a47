//! Which keys may become local files. A key is a name chosen by whoever wrote the bucket, so a
//! download of many keys must never let one of them (`../x`, `/etc/x`, a name longer than the
//! file system takes) write outside the directory the user named; such a key is refused with
//! its name and the rule, and the others go on.

use std::path::{Component, Path, PathBuf};

/// The longest file name Linux file systems take (`NAME_MAX`).
const NAME_MAX: usize = 255;
/// The longest path the kernel takes (`PATH_MAX`, less its terminating zero).
const PATH_MAX: usize = 4095;

/// Why a key cannot be a local path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyPathError {
    /// Nothing is left of the key once the folder is taken off.
    #[error("key {key:?} names no file inside the folder")]
    Empty {
        /// The key.
        key: String,
    },
    /// `..`, `.`, or a leading `/`: the path would not stay a plain name under the directory.
    #[error(
        "key {key:?} is not a plain relative path (it has '..', '.' or a leading '/'); it would land outside {directory}"
    )]
    NotPlain {
        /// The key.
        key: String,
        /// The target directory.
        directory: String,
    },
    /// A segment over 255 bytes or a path over 4095.
    #[error(
        "key {key:?} is too long for a local path (a name over {NAME_MAX} bytes or a path over {PATH_MAX})"
    )]
    TooLong {
        /// The key.
        key: String,
    },
}

impl From<KeyPathError> for s3_connector_host::error::Error {
    /// A key that cannot be a path is bad input from the bucket, not from the command line.
    fn from(refused: KeyPathError) -> Self {
        s3_connector_host::error::Error::local(refused.to_string())
    }
}

/// `directory/relative` for the object `key`, when `relative` (the key less its folder) is made
/// of plain names that the file system can hold.
pub fn local_path(directory: &Path, key: &str, relative: &str) -> Result<PathBuf, KeyPathError> {
    if relative.is_empty() {
        return Err(KeyPathError::Empty { key: key.to_owned() });
    }
    let not_plain =
        || KeyPathError::NotPlain { key: key.to_owned(), directory: directory.display().to_string() };
    // Path::components drops `.` segments in the middle; a key that has one is refused all the
    // same, since a normalising reader would see another name than the one written.
    if relative.split('/').any(|segment| segment == "." || segment == "..") {
        return Err(not_plain());
    }
    let relative_path = Path::new(relative);
    if !relative_path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(not_plain());
    }
    if relative.split('/').any(|segment| segment.len() > NAME_MAX) {
        return Err(KeyPathError::TooLong { key: key.to_owned() });
    }
    let path = directory.join(relative_path);
    if path.as_os_str().len() > PATH_MAX {
        return Err(KeyPathError::TooLong { key: key.to_owned() });
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_under_the_directory() {
        let dir = Path::new("/tmp/out");
        assert_eq!(local_path(dir, "p/a/b.txt", "a/b.txt"), Ok(PathBuf::from("/tmp/out/a/b.txt")));
        for hostile in ["../x", "a/../../x", "/etc/passwd", "./a", "a/./b", "..", "a/.."] {
            assert!(
                matches!(local_path(dir, hostile, hostile), Err(KeyPathError::NotPlain { .. })),
                "{hostile}"
            );
        }
        assert!(matches!(local_path(dir, "p/", ""), Err(KeyPathError::Empty { .. })));
        let long = "n".repeat(256);
        assert!(matches!(local_path(dir, &long, &long), Err(KeyPathError::TooLong { .. })));
        let deep = vec!["d".repeat(200); 25].join("/");
        assert!(matches!(local_path(dir, &deep, &deep), Err(KeyPathError::TooLong { .. })));
        let message = local_path(dir, "../x", "../x").unwrap_err().to_string();
        assert!(message.contains("\"../x\"") && message.contains("/tmp/out"), "{message}");
    }
}
