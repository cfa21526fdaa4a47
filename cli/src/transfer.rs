//! One object's transfer, shared by `cp`, the recursive commands and `sync`: an upload of a
//! file, a download through a temporary file, a server-side copy, and where each lands. Its
//! own file so that the commands that use it do not import each other (commands.rs,
//! recursive.rs and move_check.rs once did, in a circle).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::progress::Progress;
use super::s3_uri::S3Uri;
use s3_connector_host::connector::Connector;
use s3_connector_host::error::Error;
use s3_connector_host::seekable::{FileSink, FileSource, SeekableSource};
use s3_connector_host::types::ObjectRef;
use s3_connector_host::types::{CopyOptions, GetOptions, PutOptions};

/// Where a file upload goes: `to`, or a key ending in `/` (or none) with the file's name added.
pub fn upload_target(path: &Path, mut to: S3Uri) -> Result<S3Uri, Error> {
    if to.key.is_empty() || to.key.ends_with('/') {
        let name = path
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{:?} names no file", path.display().to_string())))?;
        to.key.push_str(&name.to_string_lossy());
    }
    Ok(to)
}

/// Where a server-side copy goes: `to`, or a key ending in `/` (or none) with the source key's
/// last segment added.
pub fn copy_target(from_key: &str, mut to: S3Uri) -> S3Uri {
    if to.key.is_empty() || to.key.ends_with('/') {
        to.key.push_str(from_key.rsplit('/').find(|s| !s.is_empty()).unwrap_or(from_key));
    }
    to
}

/// Uploads one file to exactly `to`; the content type is guessed from its extension if unset.
pub async fn upload_file(
    connector: &Connector,
    path: &Path,
    to: S3Uri,
    mut options: PutOptions,
    json: bool,
) -> Result<(), Error> {
    if options.content_type.is_none() {
        options.content_type = mime_guess::from_path(path).first().map(|m| m.essence_str().to_owned());
    }
    let shown = path.display();
    let opened = |e: std::io::Error| match e.kind() {
        // A path that names nothing is bad input, as for any command-line tool.
        std::io::ErrorKind::NotFound => Error::Usage(format!("{shown}: no such file")),
        _ => Error::local_io(format!("cannot open {shown}"), e),
    };
    let metadata = tokio::fs::metadata(path).await.map_err(opened)?;
    let object = ObjectRef::new(&to.bucket, &to.key);
    let label = format!("upload {shown}");
    // A regular file is read by range, part by part, straight into the requests; anything else
    // (a pipe, a device) is read once as a stream of unknown length.
    let (result, length) = if metadata.is_file() {
        let (source, _progress) = Progress::start_source(FileSource::open(path).map_err(opened)?, label);
        let length = source.length();
        (connector.put_object_from(&object, source, options).await, length)
    } else {
        let file = tokio::fs::File::open(path).await.map_err(opened)?;
        let (file, _progress) = Progress::start(file, label, None);
        let counted = file.counter();
        (
            connector.put_object(&object, file, None, options).await,
            counted.load(std::sync::atomic::Ordering::Relaxed),
        )
    };
    let result = result?;
    if json {
        out!(
            "{}",
            json!({ "operation": "upload", "source": path, "target": to.to_string(), "etag": result.etag, "bytes": length })
        );
    } else {
        out!("upload: {shown} to {to}");
    }
    Ok(())
}

/// Where a download lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalFile {
    /// A path the user named (`cp s3://b/k path`): taken as written, links and all.
    Named(PathBuf),
    /// A path a key chose (`relative`, plain names checked by the key's rules) beneath the
    /// directory `root` the user named, in a recursive download or a sync: no link below `root`
    /// is followed (see [`s3_connector_host::beneath`]).
    Beneath {
        /// The destination directory.
        root: PathBuf,
        /// The file's path under it.
        relative: PathBuf,
    },
}

impl LocalFile {
    /// The file's path, for messages.
    pub fn path(&self) -> PathBuf {
        match self {
            LocalFile::Named(path) => path.clone(),
            LocalFile::Beneath { root, relative } => root.join(relative),
        }
    }
}

/// Downloads `from` to `target` through a temporary file beside it, renamed when complete: a
/// failed download leaves nothing behind.
pub async fn download_to(
    connector: &Connector,
    from: &S3Uri,
    target: &LocalFile,
    get: &GetOptions,
    json: bool,
) -> Result<(), Error> {
    let path = &target.path();
    // The file appears only once complete (renamed from a temporary file beside it), created
    // 0666 less the umask as any new file (and the aws CLI's downloads). A destination folder
    // that does not exist yet is made, as the aws CLI makes it.
    let sink = match target {
        LocalFile::Named(path) => {
            let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::create_dir_all(directory).map_err(|e| {
                Error::local_io(format!("cannot create the directory {}", directory.display()), e)
            })?;
            FileSink::create(path)
                .map_err(|e| Error::local_io(format!("cannot write in {}", directory.display()), e))?
        }
        LocalFile::Beneath { root, relative } => FileSink::create_beneath(root, relative)?,
    };
    // The size, for the line's total and percentage, costs a HEAD (the same `read`), asked only
    // when a line can be shown; if it fails, the GET says why.
    let total = match Progress::possible() {
        true => {
            let head = GetOptions { customer_key: get.customer_key.clone(), ..Default::default() };
            connector
                .head_object_with(&ObjectRef::new(&from.bucket, &from.key), head)
                .await
                .ok()
                .map(|info| info.size)
        }
        false => None,
    };
    let (counted, progress) = Progress::start_sink(sink.clone(), format!("download {from}"), total);
    // Into the file at any offset: with parallel ranges, each is written as it arrives.
    let info =
        connector.get_object_into(&ObjectRef::new(&from.bucket, &from.key), counted, get.clone()).await;
    drop(progress);
    let info = info?;
    // The file's time is the object's, as the aws CLI sets it, so that tools comparing times
    // (make, rsync, sync scripts) see when the object changed, not when it was fetched.
    if let Some(modified) = info.last_modified.as_deref().and_then(super::times::parse) {
        sink.set_modified(modified)
            .map_err(|e| Error::local_io(format!("cannot set the time of {}", path.display()), e))?;
    }
    sink.persist().map_err(|e| Error::local_io(format!("cannot write {}", path.display()), e))?;
    if json {
        out!(
            "{}",
            json!({ "operation": "download", "source": from.to_string(), "target": path, "bytes": info.size })
        );
    } else {
        out!("download: {from} to {}", path.display());
    }
    Ok(())
}

/// A server-side copy of `from` to exactly `to`, of any size (UploadPartCopy above 5 GiB).
pub async fn copy_exact(
    connector: &Connector,
    from: &S3Uri,
    to: &S3Uri,
    options: CopyOptions,
    json: bool,
) -> Result<(), Error> {
    if from == to && options.metadata.is_none() {
        return Err(Error::Usage(format!("{from} would be copied onto itself; choose another destination")));
    }
    let source = ObjectRef::new(&from.bucket, &from.key);
    let result = connector.copy_object_with(&source, &ObjectRef::new(&to.bucket, &to.key), options).await?;
    if json {
        out!(
            "{}",
            json!({ "operation": "copy", "source": from.to_string(), "target": to.to_string(), "etag": result.etag })
        );
    } else {
        out!("copy: {from} to {to}");
    }
    Ok(())
}

/// One operation's line: `upload: A to B`, `delete: B`, with `(dryrun) ` before it when it was
/// only shown, as the aws CLI prints them (`results.py`: `DRY_RUN_FORMAT`); with `--json`,
/// `{"operation", "source", "target"}` and `"dryrun": true`.
pub fn print_action(json: bool, operation: &str, source: Option<&str>, target: &str, dryrun: bool) {
    if json {
        let mut line = json!({ "operation": operation, "target": target });
        if let Some(source) = source {
            line["source"] = json!(source);
        }
        if dryrun {
            line["dryrun"] = json!(true);
        }
        out!("{line}");
        return;
    }
    let prefix = if dryrun { "(dryrun) " } else { "" };
    match source {
        Some(source) => out!("{prefix}{operation}: {source} to {target}"),
        None => out!("{prefix}{operation}: {target}"),
    }
}
