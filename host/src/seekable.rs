//! Sources the host can read from any offset, any number of times: what
//! [`Connector::put_object_from`](crate::Connector::put_object_from) uploads; and sinks it can
//! write at any offset: what [`Connector::get_object_into`](crate::Connector::get_object_into)
//! downloads into.
//!
//! A stream can be read once, so an upload from one must copy each part into guest memory to be
//! able to send it again. A seekable source needs no copy: the plugin asks the host for each
//! part's range as a fresh stream, the host splices it into that part's request, and a part that
//! fails is simply read again. Guest memory stays flat whatever the object's size. Likewise a
//! stream must be written in order, so ranges downloaded side by side wait for the ones before
//! them; a seekable sink takes each range at its offset as soon as it arrives.

use std::ffi::{CString, OsStr};
use std::io::{self, Seek, SeekFrom};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::beneath::{self, BeneathError};

/// A reader of one range of a source.
pub type RangeReader = Box<dyn AsyncRead + Send + Unpin>;

/// Bytes of a fixed length that can be read from any offset, any number of times.
pub trait SeekableSource: Send + Sync {
    /// The length in bytes, fixed for the source's life.
    fn length(&self) -> u64;

    /// A reader of the `length` bytes from `offset`. Fails when the range ends beyond the
    /// source, or when the source can no longer give the bytes it had (a file changed).
    fn read_range(&self, offset: u64, length: u64) -> io::Result<RangeReader>;
}

/// The error of a range that ends beyond the source.
fn beyond_the_end(offset: u64, length: u64, total: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("the range of {length} bytes from offset {offset} ends beyond the source's {total} bytes"),
    )
}

/// Whether `offset..offset + length` lies within `total` bytes.
fn within(offset: u64, length: u64, total: u64) -> bool {
    offset.checked_add(length).is_some_and(|end| end <= total)
}

/// A regular file, read range by range. Each range opens the file anew, so ranges read side
/// by side do not share a cursor; a file whose length or modification time changed since
/// [`FileSource::open`] is refused rather than uploaded as a mix of two versions.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    length: u64,
    modified: Option<SystemTime>,
}

impl FileSource {
    /// Takes the file's length and modification time now; fails unless `path` is a regular file.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_owned();
        let metadata = std::fs::metadata(&path)?;
        if !metadata.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", path.display()),
            ));
        }
        Ok(Self { path, length: metadata.len(), modified: metadata.modified().ok() })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl SeekableSource for FileSource {
    fn length(&self) -> u64 {
        self.length
    }

    fn read_range(&self, offset: u64, length: u64) -> io::Result<RangeReader> {
        if !within(offset, length, self.length) {
            return Err(beyond_the_end(offset, length, self.length));
        }
        let mut file = std::fs::File::open(&self.path)?;
        let metadata = file.metadata()?;
        if metadata.len() != self.length || metadata.modified().ok() != self.modified {
            return Err(io::Error::other(format!(
                "{} changed while it was being uploaded (it was {} bytes); upload it again",
                self.path.display(),
                self.length
            )));
        }
        file.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(tokio::fs::File::from_std(file).take(length)))
    }
}

/// Bytes in memory, shared without a copy by every range.
impl SeekableSource for bytes::Bytes {
    fn length(&self) -> u64 {
        self.len() as u64
    }

    fn read_range(&self, offset: u64, length: u64) -> io::Result<RangeReader> {
        if !within(offset, length, self.length()) {
            return Err(beyond_the_end(offset, length, self.length()));
        }
        // Both fit in usize: they lie within the slice's length.
        let (start, end) = (offset as usize, (offset + length) as usize);
        Ok(Box::new(io::Cursor::new(self.slice(start..end))))
    }
}

/// A writer of a sink from one offset on.
pub type RangeWriter = Box<dyn AsyncWrite + Send + Unpin>;

/// Bytes written at any offset, by any number of writers side by side.
pub trait SeekableSink: Send + Sync {
    /// A writer from `offset` on, with a position of its own: writers side by side do not move
    /// each other's.
    fn write_range(&self, offset: u64) -> io::Result<RangeWriter>;
}

/// A download into a file, through a temporary file beside it (`.s3-connector-*` in the same
/// directory) that [`FileSink::persist`] renames over the destination once the download is
/// complete. Until then the destination is untouched, and a sink dropped without `persist` (a
/// failed or cancelled download) removes its temporary file: nothing half-written is left. Its
/// clones share the one temporary file, so that one can be handed to the connector and another
/// kept to persist.
///
/// The directory is held by descriptor and the temporary file is created, reopened, renamed
/// and removed relative to it (never following a link in its place), so that a download placed
/// with [`FileSink::create_beneath`] cannot be redirected out of its destination.
#[derive(Debug, Clone)]
pub struct FileSink {
    path: PathBuf,
    directory: Arc<OwnedFd>,
    name: CString,
    partial: Arc<Mutex<Option<Partial>>>,
}

/// The temporary file, removed when dropped unless renamed into place.
#[derive(Debug)]
struct Partial {
    directory: Arc<OwnedFd>,
    name: CString,
    renamed: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = beneath::unlink_at(self.directory.as_fd(), &self.name);
        }
    }
}

impl FileSink {
    /// Creates the temporary file in `path`'s directory, which must exist, with the
    /// permissions of any new file (0666 less the umask). The path is taken as written, links
    /// and all: for a file the user named.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_owned();
        let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display()))
        })?;
        let name = beneath::c_name(name)?;
        Self::in_directory(beneath::open_directory(directory)?, name, path)
    }

    /// Creates the temporary file for `relative` beneath the directory `root` of a recursive
    /// download, making the directories it needs, without following any link below `root`
    /// (see [`crate::beneath`]).
    pub fn create_beneath(root: &Path, relative: &Path) -> Result<Self, BeneathError> {
        let path = root.join(relative);
        let parent = beneath::open_parent(root, relative, true)?;
        let io = |source| BeneathError::Io { context: format!("cannot write {}", path.display()), source };
        let name = beneath::c_name(&parent.name).map_err(io)?;
        Self::in_directory(parent.directory, name, path.clone()).map_err(io)
    }

    /// A new temporary file in `directory` for the destination `name`.
    fn in_directory(directory: OwnedFd, name: CString, path: PathBuf) -> io::Result<Self> {
        let directory = Arc::new(directory);
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
        let mut attempts = 0;
        let partial = loop {
            let candidate =
                beneath::c_name(OsStr::new(&format!(".s3-connector-{:016x}", rand::random::<u64>())))?;
            match beneath::open_at(directory.as_fd(), &candidate, flags, 0o666) {
                Ok(_) => {
                    break Partial { directory: Arc::clone(&directory), name: candidate, renamed: false };
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => attempts += 1,
                Err(e) => return Err(e),
            }
        };
        Ok(Self { path, directory, name, partial: Arc::new(Mutex::new(Some(partial))) })
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets the modification time the file will have (the object's, as the aws CLI sets it).
    pub fn set_modified(&self, time: SystemTime) -> io::Result<()> {
        self.open_partial()?.set_modified(time)
    }

    /// Syncs the temporary file to disk and renames it over the destination.
    pub fn persist(&self) -> io::Result<()> {
        let mut partial = self.partial.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = partial.as_ref().ok_or_else(already_persisted)?;
        let file = std::fs::File::from(beneath::open_at(
            self.directory.as_fd(),
            &taken.name,
            libc::O_RDONLY | libc::O_NOFOLLOW,
            0,
        )?);
        file.sync_all()?;
        beneath::rename_at(self.directory.as_fd(), &taken.name, &self.name)?;
        // Renamed: nothing is left to remove.
        if let Some(mut renamed) = partial.take() {
            renamed.renamed = true;
        }
        Ok(())
    }

    /// The temporary file, opened anew for writing (a position of its own).
    fn open_partial(&self) -> io::Result<std::fs::File> {
        let partial = self.partial.lock().unwrap_or_else(PoisonError::into_inner);
        let partial = partial.as_ref().ok_or_else(already_persisted)?;
        let flags = libc::O_WRONLY | libc::O_NOFOLLOW;
        Ok(std::fs::File::from(beneath::open_at(self.directory.as_fd(), &partial.name, flags, 0)?))
    }
}

/// The error of a sink written or persisted after it was persisted.
fn already_persisted() -> io::Error {
    io::Error::other("the download was already renamed into place")
}

impl SeekableSink for FileSink {
    fn write_range(&self, offset: u64) -> io::Result<RangeWriter> {
        let mut file = self.open_partial()?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(tokio::fs::File::from_std(file)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(mut reader: RangeReader) -> Vec<u8> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.unwrap();
        bytes
    }

    #[tokio::test]
    async fn ranges_of_a_file_and_of_bytes_are_the_same_bytes() {
        let content: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &content).unwrap();
        let from_file = FileSource::open(file.path()).unwrap();
        let in_memory = bytes::Bytes::from(content.clone());
        for (offset, length) in [(0, 10_000), (0, 0), (9_999, 1), (4_096, 1_000), (10_000, 0)] {
            let want = &content[offset as usize..(offset + length) as usize];
            assert_eq!(read_all(from_file.read_range(offset, length).unwrap()).await, want);
            assert_eq!(read_all(in_memory.read_range(offset, length).unwrap()).await, want);
        }
        for (offset, length) in [(9_999, 2), (10_001, 0), (u64::MAX, 2)] {
            for source in [&from_file as &dyn SeekableSource, &in_memory] {
                let error = source.read_range(offset, length).err().unwrap();
                assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{offset} {length}");
                assert!(error.to_string().contains("beyond the source's 10000 bytes"), "{error}");
            }
        }
    }

    #[tokio::test]
    async fn a_file_that_changed_is_refused_and_a_directory_is_no_source() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"first version").unwrap();
        let source = FileSource::open(file.path()).unwrap();
        std::fs::write(file.path(), b"second, longer version").unwrap();
        let error = source.read_range(0, 5).err().unwrap();
        assert!(error.to_string().contains("changed while it was being uploaded"), "{error}");
        let directory = tempfile::tempdir().unwrap();
        let error = FileSource::open(directory.path()).unwrap_err();
        assert!(error.to_string().contains("is not a regular file"), "{error}");
    }

    #[tokio::test]
    async fn a_file_sink_takes_ranges_in_any_order_and_appears_only_when_persisted() {
        use tokio::io::AsyncWriteExt;
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("object.bin");
        let sink = FileSink::create(&path).unwrap();
        let mut second = sink.write_range(5).unwrap();
        let mut first = sink.write_range(0).unwrap();
        second.write_all(b"world").await.unwrap();
        first.write_all(b"hello").await.unwrap();
        first.flush().await.unwrap();
        second.flush().await.unwrap();
        assert!(!path.exists(), "the destination appeared before persist");
        sink.persist().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"helloworld");
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1, "a temporary file was left");
        assert!(sink.write_range(0).err().unwrap().to_string().contains("already renamed"));
    }

    #[test]
    fn a_file_sink_dropped_without_persist_leaves_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let sink = FileSink::create(directory.path().join("object.bin")).unwrap();
        drop(sink.write_range(3).unwrap());
        drop(sink);
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 0);
    }
}
