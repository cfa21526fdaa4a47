//! Paths beneath a download's destination directory, resolved without following a symbolic
//! link. A recursive download (`cp --recursive`, `sync`, `mv --recursive`) writes and deletes
//! paths that the bucket's keys choose, under a directory the user named; a link already in
//! that directory (`dst/link -> ../outside`) would otherwise carry `link/pwned.txt` out of it,
//! and `sync --delete` would delete through it. The aws CLI follows such links.
//!
//! Every path is walked component by component from a descriptor of the destination, each
//! directory opened with `openat(O_DIRECTORY | O_NOFOLLOW)` relative to the one before, and the
//! file itself is created, renamed and removed relative to its directory's descriptor
//! (`openat`, `renameat`, `unlinkat`). So a link is refused wherever it is met, and one swapped
//! in while a download runs cannot redirect it either: the descriptors already point at the
//! directories that were checked. The destination directory itself is opened as the user wrote
//! it, links and all: that is the user's choice, not the bucket's.
//!
//! Links that stay inside the destination would be safe to follow, but telling them apart
//! needs `openat2(RESOLVE_BENEATH)`, absent from older kernels and from some container seccomp
//! profiles, or a resolver of our own; every link beneath the destination is refused instead,
//! with its name, which a user can act on.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

/// Why a path beneath the destination cannot be written or removed.
#[derive(Debug, thiserror::Error)]
pub enum BeneathError {
    /// A component below the destination is a symbolic link.
    #[error(
        "{path} was not touched: {link} is a symbolic link, and a download never writes or deletes through a \
         link inside its destination {root} (remove the link, or download the object by its own name)"
    )]
    Link {
        /// The path that was to be written or removed.
        path: String,
        /// The link met on the way.
        link: String,
        /// The destination directory.
        root: String,
    },
    /// A component below the destination exists and is not a directory.
    #[error("{path} was not touched: {component} is not a directory")]
    NotDirectory {
        /// The path that was to be written or removed.
        path: String,
        /// The component that is a file (or other).
        component: String,
    },
    /// The relative path is not made of plain names (checked before, by the key's rules).
    #[error("{relative} is not a plain relative path beneath {root}")]
    NotPlain {
        /// The relative path.
        relative: String,
        /// The destination directory.
        root: String,
    },
    /// The file system refused.
    #[error("{context}")]
    Io {
        /// What was being done, and where.
        context: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl From<BeneathError> for crate::error::Error {
    /// A refused path is the local side's doing; an I/O failure keeps its cause.
    fn from(refused: BeneathError) -> Self {
        match refused {
            BeneathError::Io { context, source } => crate::error::Error::local_io(context, source),
            other => crate::error::Error::local(other.to_string()),
        }
    }
}

/// The directory that holds a path beneath the destination, opened by descriptor, and the
/// path's last name in it.
#[derive(Debug)]
pub struct Parent {
    /// The directory.
    pub directory: OwnedFd,
    /// The file's name in it.
    pub name: OsString,
}

/// Opens the directory that holds `relative` beneath `root` without following any link below
/// `root`; with `create`, `root` and the directories below it that are missing are made (0777
/// less the umask, as `mkdir -p`).
pub fn open_parent(root: &Path, relative: &Path, create: bool) -> Result<Parent, BeneathError> {
    let full = root.join(relative).display().to_string();
    let not_plain = || BeneathError::NotPlain {
        relative: relative.display().to_string(),
        root: root.display().to_string(),
    };
    let names: Vec<&OsStr> = relative
        .components()
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => Err(not_plain()),
        })
        .collect::<Result<_, _>>()?;
    let (last, directories) = names.split_last().ok_or_else(not_plain)?;
    let io = |context: String| move |source| BeneathError::Io { context, source };
    let mut current = match open_directory(root) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
            std::fs::create_dir_all(root)
                .map_err(io(format!("cannot create the directory {}", root.display())))?;
            open_directory(root)
        }
        opened => opened,
    }
    .map_err(io(format!("cannot open the directory {}", root.display())))?;
    let mut walked = root.to_path_buf();
    for name in directories {
        walked.push(name);
        let c_name = c_name(name).map_err(io(format!("cannot open {}", walked.display())))?;
        let opened = match open_subdirectory(current.as_fd(), &c_name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                match mkdir_at(current.as_fd(), &c_name) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                        return Err(io(format!("cannot create the directory {}", walked.display()))(e));
                    }
                    _ => open_subdirectory(current.as_fd(), &c_name),
                }
            }
            opened => opened,
        };
        current = match opened {
            Ok(directory) => directory,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
                return Err(match is_link_at(current.as_fd(), &c_name) {
                    true => BeneathError::Link {
                        path: full,
                        link: walked.display().to_string(),
                        root: root.display().to_string(),
                    },
                    false => {
                        BeneathError::NotDirectory { path: full, component: walked.display().to_string() }
                    }
                });
            }
            Err(e) => return Err(io(format!("cannot open the directory {}", walked.display()))(e)),
        };
    }
    Ok(Parent { directory: current, name: (*last).to_owned() })
}

/// Removes `relative` beneath `root` (a link there is removed itself, never what it points
/// to), without following any link below `root`.
pub fn remove_file(root: &Path, relative: &Path) -> Result<(), BeneathError> {
    let parent = open_parent(root, relative, false)?;
    let context = || format!("cannot remove {}", root.join(relative).display());
    let name = c_name(&parent.name).map_err(|source| BeneathError::Io { context: context(), source })?;
    unlink_at(parent.directory.as_fd(), &name)
        .map_err(|source| BeneathError::Io { context: context(), source })
}

/// `path` opened as a directory, following links (the user named it).
pub(crate) fn open_directory(path: &Path) -> io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::File::options().read(true).custom_flags(libc::O_DIRECTORY).open(path)?;
    Ok(file.into())
}

/// A name as the C string the system calls take.
pub(crate) fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a name holds a NUL byte"))
}

/// The directory `name` in `directory`, refused if it is a link (`ELOOP`) or not a directory.
fn open_subdirectory(directory: BorrowedFd<'_>, name: &CString) -> io::Result<OwnedFd> {
    open_at(directory, name, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW, 0)
}

/// `openat(2)` with `O_CLOEXEC`.
pub(crate) fn open_at(
    directory: BorrowedFd<'_>,
    name: &CString,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a NUL-terminated string that outlives the call; the descriptor is
    // borrowed, so it stays open during it.
    let fd = unsafe {
        libc::openat(directory.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC, libc::c_uint::from(mode))
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `openat` returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `mkdirat(2)`, 0777 less the umask.
fn mkdir_at(directory: BorrowedFd<'_>, name: &CString) -> io::Result<()> {
    // SAFETY: as in `open_at`.
    let result = unsafe { libc::mkdirat(directory.as_raw_fd(), name.as_ptr(), 0o777) };
    if result < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// `renameat(2)` within one directory.
pub(crate) fn rename_at(directory: BorrowedFd<'_>, from: &CString, to: &CString) -> io::Result<()> {
    let fd = directory.as_raw_fd();
    // SAFETY: as in `open_at`.
    let result = unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) };
    if result < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// `unlinkat(2)` of a file (a link is removed itself).
pub(crate) fn unlink_at(directory: BorrowedFd<'_>, name: &CString) -> io::Result<()> {
    // SAFETY: as in `open_at`.
    let result = unsafe { libc::unlinkat(directory.as_raw_fd(), name.as_ptr(), 0) };
    if result < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Whether `name` in `directory` is a symbolic link (`fstatat` without following it).
fn is_link_at(directory: BorrowedFd<'_>, name: &CString) -> bool {
    let mut status = std::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: as in `open_at`; `status` is a buffer of the size `fstatat` writes.
    let result = unsafe {
        libc::fstatat(directory.as_raw_fd(), name.as_ptr(), status.as_mut_ptr(), libc::AT_SYMLINK_NOFOLLOW)
    };
    // SAFETY: `fstatat` filled `status` when it returned 0.
    result == 0 && (unsafe { status.assume_init() }.st_mode & libc::S_IFMT) == libc::S_IFLNK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_beneath_the_root_are_refused_and_directories_are_made() {
        let base = tempfile::tempdir().unwrap();
        let (root, outside) = (base.path().join("dst"), base.path().join("outside"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink("../outside", root.join("link")).unwrap();
        std::fs::write(outside.join("keep.txt"), b"keep").unwrap();
        std::fs::write(root.join("file"), b"f").unwrap();

        let made = open_parent(&root, Path::new("a/b/c.txt"), true).unwrap();
        assert_eq!(made.name, "c.txt");
        assert!(root.join("a/b").is_dir());
        for through in ["link/x.txt", "link/deeper/x.txt"] {
            let error = open_parent(&root, Path::new(through), true).unwrap_err();
            assert!(matches!(error, BeneathError::Link { .. }), "{error}");
            let message = error.to_string();
            assert!(message.contains(&root.join("link").display().to_string()), "{message}");
            assert!(message.contains("symbolic link"), "{message}");
        }
        assert!(!outside.join("deeper").exists(), "a directory was made through the link");
        let error = remove_file(&root, Path::new("link/keep.txt")).unwrap_err();
        assert!(matches!(error, BeneathError::Link { .. }), "{error}");
        assert!(outside.join("keep.txt").exists());
        let error = open_parent(&root, Path::new("file/x"), true).unwrap_err();
        assert!(matches!(error, BeneathError::NotDirectory { .. }), "{error}");
        assert!(matches!(open_parent(&root, Path::new("../x"), true), Err(BeneathError::NotPlain { .. })));
        // The link itself may be removed: that touches nothing outside.
        remove_file(&root, Path::new("link")).unwrap();
        assert!(outside.join("keep.txt").exists());
        assert!(std::fs::symlink_metadata(root.join("link")).is_err());
    }
}
