//! `sync SRC DST`: make a destination folder like a source folder, copying only what differs.
//! Local to S3, S3 to local, and S3 to S3 (server-side copies). Both sides are listed first
//! (one listing each, nothing else), the differences are decided from the listings alone (size
//! and time, as the aws CLI decides them), so that a second sync with nothing changed sends
//! only listing requests; `--checksum` adds a HEAD for the files whose size is the same and
//! compares S3's stored full-object checksum with the local file's. Each copy and delete is
//! then its own connector call, several at a time (see [`super::concurrency`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::concurrency::{self, ConcurrencyFlag, Job, Outcome};
use super::filters::{FilterFlags, Filters};
use super::s3_uri::S3Uri;
use super::tally::Tally;
use super::transfer::{LocalFile, copy_exact, download_to, print_action, upload_file};
use super::{key_path, local_checksum, output, recursive};
use s3_connector_host::connector::Connector;
use s3_connector_host::error::Error;
use s3_connector_host::types::ObjectRef;
use s3_connector_host::types::{ChecksumAlgorithm, CopyOptions, GetOptions, ListObjectsRequest, PutOptions};

/// The algorithm `sync --checksum` asks uploads to carry (even under `when_required`), so that
/// the next sync can compare: CRC-64/NVME, the one S3 computes for every new object.
const UPLOAD_CHECKSUM: ChecksumAlgorithm = ChecksumAlgorithm::Crc64nvme;

/// What `sync` is given beyond its locations and flags.
pub struct Given<'a> {
    /// `--exclude` and `--include`.
    pub filters: &'a Filters,
    /// The checksum uploads carry without `--checksum-algorithm` (the calculation setting's).
    pub default_checksum: Option<ChecksumAlgorithm>,
    /// `--json`.
    pub json: bool,
}

/// The largest object one CopyObject copies (5 GiB); larger ones take UploadPartCopy.
const MAX_COPY_OBJECT: u64 = 5 << 30;

/// `sync`'s own flags.
#[derive(clap::Args, Debug, Clone)]
pub struct SyncFlags {
    /// Copy only when the sizes differ (times are not compared).
    #[arg(long, conflicts_with = "checksum")]
    pub size_only: bool,
    /// S3 to local: copy same-sized objects unless their times match exactly (by default only
    /// when the local file is newer), as the aws CLI.
    #[arg(long)]
    pub exact_timestamps: bool,
    /// Copy same-sized files only when S3's stored full-object checksum differs from the local
    /// file's (computed with the same algorithm); objects without one are compared by time.
    #[arg(long)]
    pub checksum: bool,
    /// Delete what the source lacks from the destination, once every copy succeeded (paths
    /// left out by --exclude are kept).
    #[arg(long)]
    pub delete: bool,
    /// Print each action, change nothing.
    #[arg(long)]
    pub dryrun: bool,
    /// Skip symbolic links in a local source (by default they are followed, as the aws CLI).
    #[arg(long)]
    pub no_follow_symlinks: bool,
    /// The checksum uploads carry: CRC32, CRC32C, SHA1, SHA256, CRC64NVME or none (default
    /// CRC64NVME, none under request_checksum_calculation = when_required unless --checksum).
    #[arg(long, value_name = "ALGORITHM", value_parser = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME", "none"], ignore_case = true)]
    pub checksum_algorithm: Option<String>,
    #[command(flatten)]
    pub filters: FilterFlags,
    #[command(flatten)]
    pub concurrency: ConcurrencyFlag,
    #[command(flatten)]
    pub output: super::quiet_flags::QuietFlags,
}

/// How two files of the same name are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    SizeAndTime { exact: bool },
    SizeOnly,
    Checksum { exact: bool },
}

/// One side of a sync.
#[derive(Debug, Clone)]
enum Side {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Side {
    fn parse(text: &str) -> Result<Self, Error> {
        if text == "-" {
            return Err(Error::Usage(
                "sync works on folders and directories, not stdin or stdout".to_owned(),
            ));
        }
        Ok(match S3Uri::parse(text).transpose().map_err(Error::Usage)? {
            Some(uri) => Side::S3 { prefix: recursive::folder_prefix(&uri.key), bucket: uri.bucket },
            None => Side::Local(PathBuf::from(text)),
        })
    }

    /// The object `relative` names on an S3 side.
    fn object(&self, relative: &str) -> Option<S3Uri> {
        match self {
            Side::S3 { bucket, prefix } => {
                Some(S3Uri { bucket: bucket.clone(), key: format!("{prefix}{relative}") })
            }
            Side::Local(_) => None,
        }
    }
}

/// A file or object as a listing shows it.
#[derive(Debug, Clone)]
struct Entry {
    size: u64,
    /// To the second: S3's listings and `Last-Modified` carry no finer time, and a download
    /// sets the file's time from the latter.
    modified: Option<u64>,
    /// The local file (after symbolic links), on a local side.
    path: Option<PathBuf>,
}

/// What sync does with one relative path.
enum Action {
    Copy(String),
    /// Same size under `--checksum`: compare the checksums, then copy if they differ;
    /// `fallback` is the time rule's verdict, for objects S3 keeps no full-object checksum of.
    Compare {
        relative: String,
        fallback: bool,
    },
    /// The relative path.
    Delete(String),
}

/// Everything a job needs, shared by all of them.
struct Context {
    connector: Connector,
    source: Side,
    destination: Side,
    /// The local file of each relative path: a local source's files as listed, or on a download
    /// the path each key was given (and refused) before anything ran.
    targets: BTreeMap<String, PathBuf>,
    /// Each source path's size, as listed.
    sizes: BTreeMap<String, u64>,
    /// The checksum each upload carries.
    upload_checksum: Option<ChecksumAlgorithm>,
    dryrun: bool,
    json: bool,
}

/// `sync SOURCE DESTINATION`.
pub async fn run(
    connector: &Connector,
    source: &str,
    destination: &str,
    flags: &SyncFlags,
    given: Given<'_>,
) -> Result<i32, Error> {
    let Given { filters, default_checksum, json } = given;
    let (from, to) = (Side::parse(source)?, Side::parse(destination)?);
    if let (Side::Local(_), Side::Local(_)) = (&from, &to) {
        return Err(Error::Usage(format!(
            "neither {source:?} nor {destination:?} is an s3:// location; one side of sync must be S3"
        )));
    }
    if let (Side::S3 { bucket: a, prefix: p }, Side::S3 { bucket: b, prefix: q }) = (&from, &to)
        && a == b
        && (p.starts_with(q.as_str()) || q.starts_with(p.as_str()))
    {
        return Err(Error::Usage(format!(
            "{source} and {destination} overlap; sync them to separate folders"
        )));
    }
    let mode = match (flags.size_only, flags.checksum) {
        (true, _) => Mode::SizeOnly,
        (false, true) => Mode::Checksum { exact: flags.exact_timestamps },
        (false, false) => Mode::SizeAndTime { exact: flags.exact_timestamps },
    };
    let default_checksum = match flags.checksum {
        true => Some(UPLOAD_CHECKSUM),
        false => default_checksum,
    };
    let upload_checksum =
        super::upload_checksum::choose(flags.checksum_algorithm.as_deref(), default_checksum)
            .map_err(Error::Usage)?;
    let follow = !flags.no_follow_symlinks;
    let sources = list(connector, &from, follow, true, filters, json).await?;
    let destinations = list(connector, &to, follow, false, filters, json).await?;
    let download = matches!((&from, &to), (Side::S3 { .. }, Side::Local(_)));

    let mut tally = Tally::default();
    let mut targets = BTreeMap::new();
    let mut copies = Vec::new();
    for (relative, entry) in &sources {
        if let Some(path) = &entry.path {
            targets.insert(relative.clone(), path.clone());
        }
        if let Side::Local(directory) = &to {
            // Folder markers are not files; a key that cannot be a path is refused by name.
            if relative.ends_with('/') {
                continue;
            }
            let key = from.object(relative).map(|o| o.key).unwrap_or_default();
            match key_path::local_path(directory, &key, relative) {
                Ok(path) => targets.insert(relative.clone(), path),
                Err(refused) => {
                    tally.failed += 1;
                    let name = DisplaySide(&from, relative).to_string();
                    concurrency::report_failure(&name, &Error::from(refused), json);
                    continue;
                }
            };
        }
        match destinations.get(relative) {
            None => copies.push(Action::Copy(relative.clone())),
            Some(existing) => match decide(mode, download, entry, existing) {
                Decision::Copy => copies.push(Action::Copy(relative.clone())),
                Decision::Skip => tally.skipped += 1,
                Decision::Compare { fallback } => {
                    copies.push(Action::Compare { relative: relative.clone(), fallback })
                }
            },
        }
    }
    let deletes: Vec<Action> = match flags.delete {
        true => destinations
            .iter()
            .filter(|(relative, _)| !sources.contains_key(*relative))
            .map(|(relative, _)| Action::Delete(relative.clone()))
            .collect(),
        false => Vec::new(),
    };

    let context = Arc::new(Context {
        connector: connector.clone(),
        source: from,
        destination: to,
        targets,
        sizes: sources.iter().map(|(relative, entry)| (relative.clone(), entry.size)).collect(),
        upload_checksum,
        dryrun: flags.dryrun,
        json,
    });
    let limit = flags.concurrency.concurrency;
    concurrency::run(copies.into_iter().map(|a| job(&context, a)), limit, json, &mut tally).await;
    if !deletes.is_empty() {
        if tally.failed > 0 {
            // --delete removes what the source lacks only once the destination holds the rest.
            output::print_warning(
                "delete-skipped",
                &format!("{} deletes were not made, as {} copies failed", deletes.len(), tally.failed),
                json,
            );
        } else {
            concurrency::run(deletes.into_iter().map(|a| job(&context, a)), limit, json, &mut tally).await;
        }
    }
    tally.finish(json)
}

/// A relative path shown on its side: `s3://b/prefix/rel` or `dir/rel`.
struct DisplaySide<'a>(&'a Side, &'a str);

impl std::fmt::Display for DisplaySide<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Side::Local(directory) => write!(f, "{}", directory.join(self.1).display()),
            Side::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}{}", self.1),
        }
    }
}

/// The verdict on a path both sides have.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Copy,
    Skip,
    Compare { fallback: bool },
}

/// The aws CLI's rules: a different size is always copied; otherwise uploads and S3-to-S3
/// copies when the source is newer, downloads when the local file is newer than the object
/// (or, with `--exact-timestamps`, when the times differ at all).
fn decide(mode: Mode, download: bool, source: &Entry, destination: &Entry) -> Decision {
    if source.size != destination.size {
        return Decision::Copy;
    }
    let by_time = |exact: bool| match (source.modified, destination.modified) {
        (Some(s), Some(d)) if download && exact => s != d,
        (Some(s), Some(d)) if download => d > s,
        (Some(s), Some(d)) => s > d,
        // A side without a time cannot be shown unchanged.
        _ => true,
    };
    match mode {
        Mode::SizeOnly => Decision::Skip,
        Mode::SizeAndTime { exact } => match by_time(exact) {
            true => Decision::Copy,
            false => Decision::Skip,
        },
        Mode::Checksum { exact } => Decision::Compare { fallback: by_time(exact) },
    }
}

/// One action as a job.
fn job(context: &Arc<Context>, action: Action) -> Job {
    let context = Arc::clone(context);
    let (name, bytes) = match &action {
        Action::Copy(relative) | Action::Compare { relative, .. } => (
            DisplaySide(&context.source, relative).to_string(),
            context.sizes.get(relative).copied().unwrap_or(0),
        ),
        Action::Delete(relative) => (DisplaySide(&context.destination, relative).to_string(), 0),
    };
    let job = Job::new(name, async move {
        match action {
            Action::Copy(relative) => copy(&context, &relative).await,
            Action::Compare { relative, fallback } => match differs(&context, &relative).await? {
                Some(false) => Ok(Outcome::Skipped),
                Some(true) => copy(&context, &relative).await,
                None if fallback => copy(&context, &relative).await,
                None => Ok(Outcome::Skipped),
            },
            Action::Delete(relative) => delete(&context, &relative).await,
        }
    });
    job.of_size(bytes)
}

/// Copies one path from the source to the destination (or says it would, with `--dryrun`).
async fn copy(context: &Context, relative: &str) -> Result<Outcome, Error> {
    let connector = &context.connector;
    let json = context.json;
    match (&context.source, &context.destination) {
        (Side::Local(_), Side::S3 { .. }) => {
            let path = context.targets.get(relative).ok_or_else(unreachable_side)?;
            let to = context.destination.object(relative).ok_or_else(unreachable_side)?;
            if context.dryrun {
                return dry(json, "upload", &path.display().to_string(), &to.to_string());
            }
            let options = PutOptions { checksum: context.upload_checksum, ..Default::default() };
            upload_file(connector, path, to, options, json).await?;
        }
        (Side::S3 { .. }, Side::Local(directory)) => {
            let from = context.source.object(relative).ok_or_else(unreachable_side)?;
            let path = context.targets.get(relative).ok_or_else(unreachable_side)?;
            if context.dryrun {
                return dry(json, "download", &from.to_string(), &path.display().to_string());
            }
            // Beneath the destination, no link is followed: a path through one fails by name
            // and the others go on (exit 1 at the end, and --delete deletes nothing then).
            let file = LocalFile::Beneath { root: directory.clone(), relative: PathBuf::from(relative) };
            download_to(connector, &from, &file, &GetOptions::default(), json).await?;
        }
        (Side::S3 { .. }, Side::S3 { .. }) => {
            let from = context.source.object(relative).ok_or_else(unreachable_side)?;
            let to = context.destination.object(relative).ok_or_else(unreachable_side)?;
            if context.dryrun {
                return dry(json, "copy", &from.to_string(), &to.to_string());
            }
            match context.sizes.get(relative) {
                // The listing gave the size: one CopyObject, without the HEAD a copy of unknown
                // size makes first to choose between CopyObject and UploadPartCopy.
                Some(size) if *size <= MAX_COPY_OBJECT => {
                    connector
                        .copy_object(
                            &ObjectRef::new(&from.bucket, &from.key),
                            &ObjectRef::new(&to.bucket, &to.key),
                        )
                        .await?;
                    print_action(json, "copy", Some(&from.to_string()), &to.to_string(), false);
                }
                _ => copy_exact(connector, &from, &to, CopyOptions::default(), json).await?,
            }
        }
        (Side::Local(_), Side::Local(_)) => return Err(unreachable_side()),
    }
    Ok(Outcome::Copied)
}

/// Deletes one path of the destination that the source lacks; a local one without following
/// any link beneath the destination directory (see [`s3_connector_host::beneath`]).
async fn delete(context: &Context, relative: &str) -> Result<Outcome, Error> {
    let shown = DisplaySide(&context.destination, relative).to_string();
    if context.dryrun {
        print_action(context.json, "delete", None, &shown, true);
        return Ok(Outcome::Skipped);
    }
    match &context.destination {
        Side::Local(directory) => s3_connector_host::beneath::remove_file(directory, Path::new(relative))?,
        Side::S3 { bucket, prefix } => {
            context.connector.delete_object(&ObjectRef::new(bucket, format!("{prefix}{relative}"))).await?;
        }
    }
    print_action(context.json, "delete", None, &shown, false);
    Ok(Outcome::Deleted)
}

/// Whether the two sides' checksums differ; `None` when S3 keeps no full-object checksum to
/// compare (a multipart upload's composite one, or none at all).
async fn differs(context: &Context, relative: &str) -> Result<Option<bool>, Error> {
    let stored = async |side: &Side| -> Result<Option<(ChecksumAlgorithm, String)>, Error> {
        let Some(object) = side.object(relative) else { return Ok(None) };
        Ok(context.connector.head_object(&ObjectRef::new(&object.bucket, &object.key)).await?.checksum)
    };
    let local = async |side: &Side, algorithm| -> Result<String, Error> {
        let path = match side {
            Side::Local(directory) => {
                context.targets.get(relative).cloned().unwrap_or_else(|| directory.join(relative))
            }
            Side::S3 { .. } => return Err(unreachable_side()),
        };
        local_checksum::of_file(&path, algorithm)
            .await
            .map_err(|e| Error::local_io(format!("cannot read {} for its checksum", path.display()), e))
    };
    let (source, destination) = (&context.source, &context.destination);
    Ok(match (source, destination) {
        (Side::Local(_), Side::S3 { .. }) => match stored(destination).await? {
            Some((algorithm, value)) => Some(local(source, algorithm).await? != value),
            None => None,
        },
        (Side::S3 { .. }, Side::Local(_)) => match stored(source).await? {
            Some((algorithm, value)) => Some(local(destination, algorithm).await? != value),
            None => None,
        },
        _ => match (stored(source).await?, stored(destination).await?) {
            (Some(a), Some(b)) if a.0 == b.0 => Some(a.1 != b.1),
            _ => None,
        },
    })
}

/// `(dryrun) upload: A to B`, as the aws CLI prints it; the path counts as skipped.
fn dry(json: bool, operation: &str, source: &str, target: &str) -> Result<Outcome, Error> {
    print_action(json, operation, Some(source), target, true);
    Ok(Outcome::Skipped)
}

/// A side that `run` ruled out reached a copy: a bug, reported as an error, never a panic.
fn unreachable_side() -> Error {
    Error::local("internal error: sync reached a pair of locations it does not handle")
}

/// Every file or object of a side, by its path relative to the side's root, filtered. A local
/// destination that does not exist yet is empty; a local source must exist.
async fn list(
    connector: &Connector,
    side: &Side,
    follow: bool,
    is_source: bool,
    filters: &Filters,
    json: bool,
) -> Result<BTreeMap<String, Entry>, Error> {
    let mut entries = BTreeMap::new();
    match side {
        Side::Local(directory) => {
            if !directory.exists() {
                if is_source {
                    return Err(Error::Usage(format!("{}: no such directory", directory.display())));
                }
                return Ok(entries);
            }
            if !directory.is_dir() {
                return Err(Error::Usage(format!(
                    "{} is not a directory; sync works on directories (use cp for one file)",
                    directory.display()
                )));
            }
            let mut seen = HashSet::new();
            // A destination's links are never followed: what lies beneath one is outside what
            // sync may compare, write or delete (see s3_connector_host::beneath).
            let links = match (is_source, follow) {
                (true, true) => Links::Follow,
                (true, false) => Links::Skip,
                (false, _) => Links::SkipAndWarn,
            };
            walk(directory, directory, links, json, &mut seen, &mut entries)?;
        }
        Side::S3 { bucket, prefix } => {
            let mut request = ListObjectsRequest {
                prefix: (!prefix.is_empty()).then(|| prefix.clone()),
                ..Default::default()
            };
            loop {
                let page = connector.list_objects(bucket, request.clone()).await?;
                for object in page.objects {
                    let relative = object.key.strip_prefix(prefix.as_str()).unwrap_or(&object.key).to_owned();
                    let modified = object.last_modified.as_deref().and_then(super::times::parse).map(seconds);
                    entries.insert(relative, Entry { size: object.size, modified, path: None });
                }
                match page.next_continuation_token {
                    Some(token) if page.is_truncated => request.continuation_token = Some(token),
                    _ => break,
                }
            }
        }
    }
    if !filters.is_empty() {
        entries.retain(|relative, _| filters.admits(relative));
    }
    Ok(entries)
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// What a walk does with a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Links {
    /// Follows it (a source's default, as the aws CLI).
    Follow,
    /// Skips it (`--no-follow-symlinks`).
    Skip,
    /// Skips it and says so (a destination's).
    SkipAndWarn,
}

/// Files under `directory`, following symbolic links as `links` says (a link to a directory
/// already walked is skipped, so that a loop ends); a broken link is skipped.
fn walk(
    root: &Path,
    directory: &Path,
    links: Links,
    json: bool,
    seen: &mut HashSet<PathBuf>,
    entries: &mut BTreeMap<String, Entry>,
) -> Result<(), Error> {
    let cannot =
        |path: &Path, e: std::io::Error| Error::local_io(format!("cannot read {}", path.display()), e);
    if let Ok(real) = std::fs::canonicalize(directory)
        && !seen.insert(real)
    {
        return Ok(());
    }
    for entry in std::fs::read_dir(directory).map_err(|e| cannot(directory, e))? {
        let entry = entry.map_err(|e| cannot(directory, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| cannot(&path, e))?;
        let metadata = match (kind.is_symlink(), links) {
            (true, Links::Skip) => continue,
            (true, Links::SkipAndWarn) => {
                output::print_warning(
                    "destination-symlink",
                    &format!(
                        "{} is a symbolic link; sync never follows a link inside its destination, so nothing \
                         beneath it is compared, written or deleted",
                        path.display()
                    ),
                    json,
                );
                continue;
            }
            (true, Links::Follow) => match std::fs::metadata(&path) {
                Ok(metadata) => metadata,
                Err(_) => {
                    output::print_warning(
                        "broken-symlink",
                        &format!("{} is a broken symbolic link; skipped", path.display()),
                        json,
                    );
                    continue;
                }
            },
            (false, _) => entry.metadata().map_err(|e| cannot(&path, e))?,
        };
        if metadata.is_dir() {
            walk(root, &path, links, json, seen, entries)?;
        } else if metadata.is_file() {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let parts: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let modified = metadata.modified().ok().map(seconds);
            entries.insert(parts.join("/"), Entry { size: metadata.len(), modified, path: Some(path) });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u64, modified: u64) -> Entry {
        Entry { size, modified: Some(modified), path: None }
    }

    #[test]
    fn the_aws_cli_rules() {
        let time = Mode::SizeAndTime { exact: false };
        let exact = Mode::SizeAndTime { exact: true };
        let table = [
            // (mode, download, source, destination, decision)
            (time, false, entry(1, 10), entry(2, 20), Decision::Copy),
            (time, false, entry(1, 20), entry(1, 10), Decision::Copy),
            (time, false, entry(1, 10), entry(1, 20), Decision::Skip),
            (time, false, entry(1, 10), entry(1, 10), Decision::Skip),
            (time, true, entry(1, 20), entry(1, 10), Decision::Skip),
            (time, true, entry(1, 10), entry(1, 20), Decision::Copy),
            (exact, true, entry(1, 20), entry(1, 10), Decision::Copy),
            (exact, true, entry(1, 10), entry(1, 10), Decision::Skip),
            (Mode::SizeOnly, false, entry(1, 20), entry(1, 10), Decision::Skip),
            (Mode::SizeOnly, true, entry(1, 20), entry(2, 10), Decision::Copy),
            (
                Mode::Checksum { exact: false },
                false,
                entry(1, 20),
                entry(1, 10),
                Decision::Compare { fallback: true },
            ),
            (Mode::Checksum { exact: false }, false, entry(1, 20), entry(2, 10), Decision::Copy),
        ];
        for (mode, download, source, destination, expected) in table {
            assert_eq!(
                decide(mode, download, &source, &destination),
                expected,
                "{mode:?} {download} {source:?}"
            );
        }
    }
}
