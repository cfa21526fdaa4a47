//! The commands: each parses its locations, makes its connector calls and prints the result.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::filters::Filters;
use super::ls_view::{self, LsFlags};
use super::progress::Progress;
use super::s3_uri::S3Uri;
use super::tally::Tally;
use super::transfer::{
    LocalFile, copy_exact, copy_target, download_to, print_action, upload_file, upload_target,
};
use super::{move_check, output, recursive, recursive_run};
use s3_connector_host::connector::Connector;
use s3_connector_host::connector::presign_method_named;
use s3_connector_host::error::Error;
use s3_connector_host::types::{
    ChecksumAlgorithm, CopyOptions, GetOptions, ListObjectsRequest, ObjectRef, PresignRequest, PutOptions,
};

/// How `ls` lists: one level or all, how it shows sizes and totals, which keys it keeps.
pub struct Listing {
    /// Every key under the prefix instead of one level.
    pub recursive: bool,
    /// `--human-readable`, `--summarize`.
    pub view: LsFlags,
    /// `--exclude` and `--include`, on the keys relative to the listed folder.
    pub filters: Filters,
}

/// `ls [s3://BUCKET[/PREFIX]] [--recursive]`: every page, one level unless recursive. Exit 1
/// when a prefix was given and nothing matched it, as `aws s3 ls` (scripts test for it).
pub async fn ls(
    connector: &Connector,
    location: Option<&str>,
    listing: Listing,
    json: bool,
) -> Result<i32, Error> {
    let Listing { recursive, view, filters } = listing;
    let Some(location) = location else {
        let buckets = connector.list_buckets().await?;
        if json {
            // JSON lines, one bucket each, as the objects below.
            buckets.iter().for_each(|b| out!("{}", output::bucket(b)));
        } else {
            buckets.iter().for_each(|b| out!("{}", output::bucket_line(b)));
        }
        return Ok(0);
    };
    let uri = S3Uri::require(location).map_err(Error::Usage)?;
    let mut request = ListObjectsRequest {
        prefix: (!uri.key.is_empty()).then(|| uri.key.clone()),
        delimiter: (!recursive).then(|| "/".to_owned()),
        ..Default::default()
    };
    // When listing one level, a prefix without a trailing slash lists that "directory" as in
    // `aws s3 ls`: the names shown are relative to the last slash of the prefix.
    let shown_from = if recursive { "" } else { uri.key.rfind('/').map_or("", |i| &uri.key[..=i]) };
    let mut matched = 0usize;
    // Filters see the key from the listed folder on (the part after the prefix's last slash).
    let folder = uri.key.rfind('/').map_or("", |i| &uri.key[..=i]);
    let (mut total_objects, mut total_bytes) = (0u64, 0u64);
    loop {
        let mut page = connector.list_objects(&uri.bucket, request.clone()).await?;
        page.objects.retain(|o| filters.admits(o.key.strip_prefix(folder).unwrap_or(&o.key)));
        matched += page.objects.len() + page.common_prefixes.len();
        total_objects += page.objects.len() as u64;
        total_bytes += page.objects.iter().map(|o| o.size).sum::<u64>();
        if json {
            // JSON lines, printed page by page: a listing of millions of keys is never held
            // whole, and `jq`, `head` and line-oriented tools read it as it comes.
            for prefix in &page.common_prefixes {
                out!("{}", json!({ "prefix": prefix }));
            }
            for object in &page.objects {
                out!("{}", output::summary(object));
            }
        } else {
            for prefix in &page.common_prefixes {
                out!("{}", output::prefix_line(prefix.strip_prefix(shown_from).unwrap_or(prefix)));
            }
            for object in &page.objects {
                let size = ls_view::size_text(object.size, view.human_readable);
                out!("{}", output::summary_line(object, shown_from, &size));
            }
        }
        match page.next_continuation_token {
            Some(token) if page.is_truncated => request.continuation_token = Some(token),
            _ => break,
        }
    }
    if json && view.summarize {
        out!("{}", json!({ "summary": { "objects": total_objects, "bytes": total_bytes } }));
    } else if view.summarize {
        out!("{}", ls_view::summary_lines(total_objects, total_bytes, view.human_readable));
    }
    // aws s3 ls: a bucket listed whole exits 0 even when empty; a prefix that matched nothing, 1.
    Ok(if matched == 0 && !uri.key.is_empty() { 1 } else { 0 })
}

/// What shapes a `cp`: the new objects' options (uploads, `None` when no flag was given), the
/// downloads' (ranges side by side, the SSE-C key) and the server-side copies' (metadata).
#[derive(Default)]
pub struct Transfer {
    /// Options of uploaded objects.
    pub upload: Option<PutOptions>,
    /// Options of downloads.
    pub download: GetOptions,
    /// Options of server-side copies.
    pub copy: CopyOptions,
    /// `--dryrun`: print what would be done, do nothing.
    pub dryrun: bool,
}

/// What a recursive command is given beyond its locations.
pub struct Many {
    /// `--exclude` and `--include`.
    pub filters: Filters,
    /// Objects in flight at once.
    pub concurrency: u16,
}

/// `cp SRC DST`: upload (path or `-`), download (to a path or `-`) or server-side copy; with
/// `recursive`, every object of a folder, each its own call, several at a time. The exit code:
/// 2 when a recursive download skipped a key with a warning, else 0.
pub async fn cp(
    connector: &Connector,
    source: &str,
    destination: &str,
    transfer: Transfer,
    recursive: Option<Many>,
    json: bool,
) -> Result<i32, Error> {
    let Transfer { upload: options, download: get, copy: copy_options, dryrun } = transfer;
    if let Some(many) = recursive {
        let upload = options.unwrap_or_default();
        let options = recursive::Options { upload, download: get, copy: copy_options, dryrun, moving: false };
        let plan = recursive::plan(connector, source, destination, &many.filters, json).await?;
        return recursive_run::run(connector, plan, options, many.concurrency, json).await;
    }
    if dryrun {
        let (operation, from, to) = dry_sides(source, destination, copy_options.metadata.is_some())?;
        print_action(json, operation, Some(&from), &to, true);
        return Ok(0);
    }
    cp_one(connector, source, destination, options, get, copy_options, json).await.map(|()| 0)
}

/// One `cp` without `--recursive` or `--dryrun`.
async fn cp_one(
    connector: &Connector,
    source: &str,
    destination: &str,
    options: Option<PutOptions>,
    get: GetOptions,
    copy_options: CopyOptions,
    json: bool,
) -> Result<(), Error> {
    match (S3Uri::parse(source), S3Uri::parse(destination)) {
        (None, Some(to)) => {
            upload(connector, source, to.map_err(Error::Usage)?, options.unwrap_or_default(), json).await
        }
        (Some(from), None) => download(connector, from.map_err(Error::Usage)?, destination, &get, json).await,
        (Some(from), Some(to)) => {
            copy(connector, from.map_err(Error::Usage)?, to.map_err(Error::Usage)?, copy_options, json).await
        }
        (None, None) => Err(Error::Usage(format!(
            "neither {source:?} nor {destination:?} is an s3:// location; one side of cp must be S3"
        ))),
    }
}

async fn upload(
    connector: &Connector,
    source: &str,
    to: S3Uri,
    options: PutOptions,
    json: bool,
) -> Result<(), Error> {
    if source != "-" {
        let path = Path::new(source);
        if path.is_dir() {
            return Err(Error::Usage(format!(
                "{source} is a directory; add --recursive to copy every file in it"
            )));
        }
        let to = upload_target(path, to)?;
        return upload_file(connector, path, to, options, json).await;
    }
    to.require_key().map_err(Error::Usage)?;
    // No total for stdin: the line shows the bytes sent and the rate.
    let (stdin, progress) = Progress::start(tokio::io::stdin(), "upload -".to_owned(), None);
    let result = connector.put_object(&ObjectRef::new(&to.bucket, &to.key), stdin, None, options).await;
    drop(progress);
    let result = result?;
    if json {
        out!(
            "{}",
            json!({ "operation": "upload", "source": "-", "target": to.to_string(), "etag": result.etag })
        );
    } else {
        out!("upload: - to {to}");
    }
    Ok(())
}

async fn download(
    connector: &Connector,
    from: S3Uri,
    destination: &str,
    get: &GetOptions,
    json: bool,
) -> Result<(), Error> {
    let key = from.require_key().map_err(Error::Usage)?.to_owned();
    if destination == "-" {
        connector.get_object(&ObjectRef::new(&from.bucket, &key), tokio::io::stdout(), get.clone()).await?;
        return Ok(());
    }
    download_to(connector, &from, &LocalFile::Named(local_target(destination, &key)), get, json).await
}

/// What a `cp` or `mv` of one object would do, for `--dryrun`: the operation and both sides as
/// its line would name them, after the checks the real one makes first (the local file exists
/// and is no directory, a key is given, no copy onto itself unless `new_metadata`).
fn dry_sides(
    source: &str,
    destination: &str,
    new_metadata: bool,
) -> Result<(&'static str, String, String), Error> {
    match (S3Uri::parse(source), S3Uri::parse(destination)) {
        (None, Some(to)) => {
            let to = to.map_err(Error::Usage)?;
            if source == "-" {
                to.require_key().map_err(Error::Usage)?;
                return Ok(("upload", "-".to_owned(), to.to_string()));
            }
            let path = Path::new(source);
            if path.is_dir() {
                return Err(Error::Usage(format!(
                    "{source} is a directory; add --recursive to copy every file in it"
                )));
            }
            if !path.exists() {
                return Err(Error::Usage(format!("{source}: no such file")));
            }
            Ok(("upload", path.display().to_string(), upload_target(path, to)?.to_string()))
        }
        (Some(from), None) => {
            let from = from.map_err(Error::Usage)?;
            let key = from.require_key().map_err(Error::Usage)?;
            let target = match destination {
                "-" => "-".to_owned(),
                _ => local_target(destination, key).display().to_string(),
            };
            Ok(("download", from.to_string(), target))
        }
        (Some(from), Some(to)) => {
            let from = from.map_err(Error::Usage)?;
            let to = copy_target(from.require_key().map_err(Error::Usage)?, to.map_err(Error::Usage)?);
            if from == to && !new_metadata {
                return Err(Error::Usage(format!(
                    "{from} would be copied onto itself; choose another destination"
                )));
            }
            Ok(("copy", from.to_string(), to.to_string()))
        }
        (None, None) => Err(Error::Usage(format!(
            "neither {source:?} nor {destination:?} is an s3:// location; one side of cp must be S3"
        ))),
    }
}

/// The file a download writes: the destination, or the key's last segment inside it when the
/// destination is a directory.
fn local_target(destination: &str, key: &str) -> PathBuf {
    let path = PathBuf::from(destination);
    if destination.ends_with('/') || path.is_dir() {
        let name = key.rsplit('/').find(|s| !s.is_empty()).unwrap_or("download");
        path.join(name)
    } else {
        path
    }
}

/// A server-side copy; a destination key ending in `/` takes the source's last segment.
async fn copy(
    connector: &Connector,
    from: S3Uri,
    to: S3Uri,
    options: CopyOptions,
    json: bool,
) -> Result<(), Error> {
    let key = from.require_key().map_err(Error::Usage)?;
    let to = copy_target(key, to);
    copy_exact(connector, &from, &to, options, json).await
}

/// `mv SRC DST`: copy, then delete the source once the copy succeeded. Every permission the
/// move needs is checked first, so that the policy never stops it half-way; with `recursive`,
/// every object of the folder is listed and every move checked before the first is made.
/// With `dryrun`, each move is checked and printed (`(dryrun) move: A to B`, as the aws CLI),
/// and none is made.
pub async fn mv(
    connector: &Connector,
    source: &str,
    destination: &str,
    recursive: Option<Many>,
    checksum: Option<ChecksumAlgorithm>,
    dryrun: bool,
    json: bool,
) -> Result<i32, Error> {
    // An upload's checksum, by the calculation setting (mv takes no --checksum-algorithm).
    let upload = PutOptions { checksum, ..Default::default() };
    if source == "-" || destination == "-" {
        return Err(Error::Usage("mv moves files and objects; use cp for stdin and stdout".to_owned()));
    }
    let Some(many) = recursive else {
        move_check::check(connector.policy(), source, destination)?;
        if dryrun {
            let (_, from, to) = dry_sides(source, destination, false)?;
            print_action(json, "move", Some(&from), &to, true);
            return Ok(0);
        }
        let transfer = Transfer { upload: Some(upload), ..Default::default() };
        cp(connector, source, destination, transfer, None, json).await?;
        return remove_source(connector, source, json).await.map(|()| 0);
    };
    let plan = recursive::plan(connector, source, destination, &many.filters, json).await?;
    for step in &plan.steps {
        let (from, to) = step.sides();
        move_check::check(connector.policy(), &from, &to)?;
    }
    let options = recursive::Options { upload, dryrun, moving: true, ..Default::default() };
    recursive_run::run(connector, plan, options, many.concurrency, json).await
}

/// The second half of a move: the source object's delete, or the local file's removal.
async fn remove_source(connector: &Connector, source: &str, json: bool) -> Result<(), Error> {
    match S3Uri::parse(source) {
        Some(from) => {
            let from = from.map_err(Error::Usage)?;
            connector
                .delete_object(&ObjectRef::new(&from.bucket, from.require_key().map_err(Error::Usage)?))
                .await?;
        }
        None => std::fs::remove_file(source)
            .map_err(|e| Error::local_io(format!("copied, but cannot remove {source}"), e))?,
    }
    report(json, "delete", source);
    Ok(())
}

/// `presign s3://BUCKET/KEY`: prints the URL, or with `--json` `{"url", "expires"}` (when it
/// stops working, ISO 8601, counted from `signed_at`: the pinned time or now).
pub async fn presign(
    connector: &Connector,
    location: &str,
    method: &str,
    expires_in: u32,
    signed_at: std::time::SystemTime,
    json: bool,
) -> Result<(), Error> {
    let uri = S3Uri::require(location).map_err(Error::Usage)?;
    let method = presign_method_named(method).ok_or_else(|| {
        Error::Usage(format!("method {method:?} cannot be presigned; use GET, PUT, DELETE or HEAD"))
    })?;
    let key = uri.require_key().map_err(Error::Usage)?.to_owned();
    let object = ObjectRef { bucket: uri.bucket, key };
    let request = PresignRequest { method, object, expires_in_seconds: expires_in };
    let url = connector.presign(request).await?;
    if json {
        let expires = super::times::iso(signed_at + std::time::Duration::from_secs(expires_in.into()));
        out!("{}", json!({ "url": url, "expires": expires }));
    } else {
        out!("{url}");
    }
    Ok(())
}

/// What `rm` deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RmScope {
    /// The one object named.
    One,
    /// `--recursive`: the keys in the folder the location names (`s3://b/d` is `d/`), as
    /// `aws s3 rm --recursive` and `cp --recursive` read it.
    Folder,
    /// `--recursive --raw-prefix`: every key starting with the location as written (`dx` too).
    RawPrefix,
}

/// `rm s3://BUCKET/KEY`, or `rm --recursive s3://BUCKET/FOLDER` (`--raw-prefix`: any prefix).
/// With `dryrun`, the keys are listed and each printed as `(dryrun) delete: s3://B/K`, as the
/// aws CLI prints them, and nothing is deleted.
pub async fn rm(
    connector: &Connector,
    location: &str,
    scope: RmScope,
    filters: &Filters,
    dryrun: bool,
    json: bool,
) -> Result<(), Error> {
    let uri = S3Uri::require(location).map_err(Error::Usage)?;
    let prefix = match scope {
        RmScope::One => {
            let object = ObjectRef::new(&uri.bucket, uri.require_key().map_err(Error::Usage)?);
            if dryrun {
                print_action(json, "delete", None, &uri.to_string(), true);
                return Ok(());
            }
            connector.delete_object(&object).await?;
            report(json, "delete", &uri.to_string());
            return Ok(());
        }
        RmScope::Folder => recursive::folder_prefix(&uri.key),
        RmScope::RawPrefix => uri.key.clone(),
    };
    let mut keys = recursive::folder_keys(connector, &uri.bucket, &prefix).await?;
    // Filters see the key from the folder on; a raw prefix's keys, from its last slash.
    let root = match scope {
        RmScope::RawPrefix => prefix.rfind('/').map_or("", |i| &prefix[..=i]),
        _ => prefix.as_str(),
    };
    keys.retain(|key| filters.admits(key.strip_prefix(root).unwrap_or(key)));
    if keys.is_empty() || dryrun {
        // Nothing to delete (DeleteObjects refuses an empty list), or only to show.
        for key in keys.iter().filter(|_| dryrun) {
            print_action(json, "delete", None, &format!("s3://{}/{key}", uri.bucket), true);
        }
        if json {
            Tally { skipped: keys.len() as u64, ..Tally::default() }.print_json();
        }
        return Ok(());
    }
    let result = connector.delete_objects(&uri.bucket, &keys).await?;
    for key in &result.deleted {
        report(json, "delete", &format!("s3://{}/{key}", uri.bucket));
    }
    for failure in result.failed.iter().filter(|_| super::print::shows_problems()) {
        output::print_error(
            &Error::local(format!(
                "cannot delete s3://{}/{}: {} ({})",
                uri.bucket, failure.key, failure.message, failure.code
            )),
            json,
        );
    }
    if json {
        // The same last line as the other many-object commands.
        let (deleted, failed) = (result.deleted.len() as u64, result.failed.len() as u64);
        Tally { deleted, failed, ..Default::default() }.print_json();
    }
    match result.failed.len() {
        0 => Ok(()),
        n => Err(Error::local(format!(
            "{n} of {} keys starting with s3://{}/{prefix} were not deleted",
            keys.len(),
            uri.bucket
        ))),
    }
}

/// `mb s3://BUCKET`.
pub async fn mb(connector: &Connector, location: &str, json: bool) -> Result<(), Error> {
    let bucket = bucket_only(location)?;
    connector.create_bucket(&bucket).await?;
    report(json, "make_bucket", &bucket);
    Ok(())
}

/// `rb s3://BUCKET`.
pub async fn rb(connector: &Connector, location: &str, json: bool) -> Result<(), Error> {
    let bucket = bucket_only(location)?;
    connector.delete_bucket(&bucket).await?;
    report(json, "remove_bucket", &bucket);
    Ok(())
}

/// `head s3://BUCKET/KEY`: the metadata as JSON (one line with `--json`). An SSE-C object
/// needs its key to be read, HEAD included.
pub async fn head(
    connector: &Connector,
    location: &str,
    customer_key: Option<Vec<u8>>,
    json: bool,
) -> Result<(), Error> {
    let uri = S3Uri::require(location).map_err(Error::Usage)?;
    let options = GetOptions { customer_key, ..Default::default() };
    let info = connector
        .head_object_with(&ObjectRef::new(&uri.bucket, uri.require_key().map_err(Error::Usage)?), options)
        .await?;
    let info = output::object_info(&info);
    match json {
        true => out!("{info}"),
        false => out!("{}", serde_json::to_string_pretty(&info).unwrap_or_default()),
    }
    Ok(())
}

fn bucket_only(location: &str) -> Result<String, Error> {
    // mb and rb take a bucket, so their hint names s3://BUCKET, not s3://BUCKET/KEY.
    let uri = S3Uri::parse(location)
        .and_then(Result::ok)
        .ok_or_else(|| Error::Usage(format!("{location:?} is not a bucket; write s3://BUCKET")))?;
    if !uri.key.is_empty() {
        return Err(Error::Usage(format!("{location:?} has a key; buckets are written s3://BUCKET")));
    }
    Ok(uri.bucket)
}

fn report(json: bool, operation: &str, target: &str) {
    if json {
        out!("{}", json!({ "operation": operation, "target": target }));
    } else {
        out!("{operation}: {target}");
    }
}
