//! The commands: each parses its locations, makes its connector calls and prints the result.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::progress::Progress;
use super::s3_uri::S3Uri;
use super::{move_check, output, recursive};
use crate::connector::Connector;
use crate::error::Error;
use crate::types::{GetOptions, ListObjectsRequest, PresignMethod, PresignRequest, PutOptions};

/// `ls [s3://BUCKET[/PREFIX]] [--recursive]`: every page, one level unless recursive.
pub async fn ls(
    connector: &Connector,
    location: Option<&str>,
    recursive: bool,
    json: bool,
) -> Result<(), Error> {
    let Some(location) = location else {
        let buckets = connector.list_buckets().await?;
        if json {
            out!("{}", json!(buckets.iter().map(output::bucket).collect::<Vec<_>>()));
        } else {
            buckets.iter().for_each(|b| out!("{}", output::bucket_line(b)));
        }
        return Ok(());
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
    let (mut objects, mut prefixes) = (Vec::new(), Vec::new());
    loop {
        let page = connector.list_objects(&uri.bucket, request.clone()).await?;
        if json {
            objects.extend(page.objects.iter().map(output::summary));
            prefixes.extend(page.common_prefixes.iter().cloned());
        } else {
            for prefix in &page.common_prefixes {
                out!("{:>32} {}", "PRE", prefix.strip_prefix(shown_from).unwrap_or(prefix));
            }
            page.objects.iter().for_each(|o| out!("{}", output::summary_line(o, shown_from)));
        }
        match page.next_continuation_token {
            Some(token) if page.is_truncated => request.continuation_token = Some(token),
            _ => break,
        }
    }
    if json {
        out!("{}", json!({ "bucket": uri.bucket, "objects": objects, "commonPrefixes": prefixes }));
    }
    Ok(())
}

/// What shapes a `cp`: the new objects' options (uploads, `None` when no flag was given) and the
/// downloads' (ranges side by side).
#[derive(Default)]
pub struct Transfer {
    /// Options of uploaded objects.
    pub upload: Option<PutOptions>,
    /// Options of downloads.
    pub download: GetOptions,
}

/// `cp SRC DST`: upload (path or `-`) or download (to a path or `-`).
pub async fn cp(
    connector: &Connector,
    source: &str,
    destination: &str,
    transfer: Transfer,
    recursive: bool,
    json: bool,
) -> Result<(), Error> {
    let Transfer { upload: options, download: get } = transfer;
    if recursive {
        return match (S3Uri::parse(source), S3Uri::parse(destination)) {
            (None, Some(to)) if source != "-" => {
                let to = to.map_err(Error::Usage)?;
                recursive::upload_tree(connector, Path::new(source), &to, options.unwrap_or_default(), json)
                    .await
            }
            (Some(from), None) if destination != "-" && options.is_none() => {
                recursive::download_tree(
                    connector,
                    &from.map_err(Error::Usage)?,
                    Path::new(destination),
                    &get,
                    json,
                )
                .await
            }
            _ => Err(Error::Usage(
                "cp --recursive copies a directory to s3://BUCKET/PREFIX or back".to_owned(),
            )),
        };
    }
    let is_upload = S3Uri::parse(source).is_none() && S3Uri::parse(destination).is_some();
    if options.is_some() && !is_upload {
        return Err(Error::Usage(
            "--content-type and the other object flags apply to uploads only".to_owned(),
        ));
    }
    match (S3Uri::parse(source), S3Uri::parse(destination)) {
        (None, Some(to)) => {
            upload(connector, source, to.map_err(Error::Usage)?, options.unwrap_or_default(), json).await
        }
        (Some(from), None) => download(connector, from.map_err(Error::Usage)?, destination, &get, json).await,
        (Some(from), Some(to)) => {
            copy(connector, from.map_err(Error::Usage)?, to.map_err(Error::Usage)?, json).await
        }
        (None, None) => Err(Error::Usage(format!(
            "neither {source:?} nor {destination:?} is an s3:// location; one side of cp must be S3"
        ))),
    }
}

/// Where a file upload goes: `to`, or a key ending in `/` (or none) with the file's name added.
pub(super) fn upload_target(path: &Path, mut to: S3Uri) -> Result<S3Uri, Error> {
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
pub(super) fn copy_target(from_key: &str, mut to: S3Uri) -> S3Uri {
    if to.key.is_empty() || to.key.ends_with('/') {
        to.key.push_str(from_key.rsplit('/').find(|s| !s.is_empty()).unwrap_or(from_key));
    }
    to
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
        let to = upload_target(path, to)?;
        return upload_file(connector, path, to, options, json).await;
    }
    to.require_key().map_err(Error::Usage)?;
    let result = connector.put_object(&to.bucket, &to.key, tokio::io::stdin(), None, options).await?;
    if json {
        out!("{}", json!({ "operation": "upload", "bucket": to.bucket, "key": to.key, "etag": result.etag }));
    } else {
        out!("upload: - to {to}");
    }
    Ok(())
}

/// Uploads one file to exactly `to`; the content type is guessed from its extension if unset.
pub(super) async fn upload_file(
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
    let file = tokio::fs::File::open(path).await.map_err(|e| local(format!("cannot open {shown}"), e))?;
    let length = file.metadata().await.map_err(|e| local(format!("cannot read {shown}"), e))?.len();
    let (file, progress) = Progress::start(file, format!("upload {shown}"), Some(length));
    let result = connector.put_object(&to.bucket, &to.key, file, Some(length), options).await;
    drop(progress);
    let result = result?;
    if json {
        out!(
            "{}",
            json!({ "operation": "upload", "bucket": to.bucket, "key": to.key, "etag": result.etag, "bytes": length })
        );
    } else {
        out!("upload: {shown} to {to}");
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
        connector.get_object(&from.bucket, &key, tokio::io::stdout(), get.clone()).await?;
        return Ok(());
    }
    download_to(connector, &from, &local_target(destination, &key), get, json).await
}

/// Downloads `from` to `path` through a temporary file beside it, renamed when complete: a
/// failed download leaves nothing behind.
pub(super) async fn download_to(
    connector: &Connector,
    from: &S3Uri,
    path: &Path,
    get: &GetOptions,
    json: bool,
) -> Result<(), Error> {
    let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let partial = tempfile::Builder::new()
        .prefix(".s3-connector-")
        .tempfile_in(directory)
        .map_err(|e| local(format!("cannot write in {}", directory.display()), e))?;
    let file = tokio::fs::File::from_std(
        partial.reopen().map_err(|e| local("cannot reopen the partial file".into(), e))?,
    );
    let (file, progress) = Progress::start(file, format!("download {from}"), None);
    let info = connector.get_object(&from.bucket, &from.key, file, get.clone()).await;
    drop(progress);
    let info = info?;
    partial.as_file().sync_all().map_err(|e| local(format!("cannot sync {}", path.display()), e))?;
    partial.persist(path).map_err(|e| local(format!("cannot write {}", path.display()), e.error))?;
    if json {
        out!(
            "{}",
            json!({ "operation": "download", "bucket": from.bucket, "key": from.key, "path": path, "bytes": info.size })
        );
    } else {
        out!("download: {from} to {}", path.display());
    }
    Ok(())
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

fn local(what: String, error: std::io::Error) -> Error {
    Error::Local(format!("{what}: {error}"))
}

/// A server-side copy; a destination key ending in `/` takes the source's last segment.
async fn copy(connector: &Connector, from: S3Uri, to: S3Uri, json: bool) -> Result<(), Error> {
    let key = from.require_key().map_err(Error::Usage)?;
    let to = copy_target(key, to);
    if from == to {
        return Err(Error::Usage(format!("{from} would be copied onto itself; choose another destination")));
    }
    // Any size: UploadPartCopy above 5 GiB.
    let source = (from.bucket.as_str(), key);
    let result = connector.copy_object_with(source, &to.bucket, &to.key, Default::default()).await?;
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

/// `mv SRC DST`: copy, then delete the source once the copy succeeded. Every permission the
/// move needs is checked first, so that the policy never stops it half-way.
pub async fn mv(connector: &Connector, source: &str, destination: &str, json: bool) -> Result<(), Error> {
    if source == "-" || destination == "-" {
        return Err(Error::Usage("mv moves files and objects; use cp for stdin and stdout".to_owned()));
    }
    move_check::check(connector.policy(), source, destination)?;
    cp(connector, source, destination, Transfer::default(), false, json).await?;
    match S3Uri::parse(source) {
        Some(from) => {
            let from = from.map_err(Error::Usage)?;
            connector.delete_object(&from.bucket, from.require_key().map_err(Error::Usage)?).await?;
        }
        None => std::fs::remove_file(source)
            .map_err(|e| local(format!("copied, but cannot remove {source}"), e))?,
    }
    report(json, "delete", source);
    Ok(())
}

/// `presign s3://BUCKET/KEY`: prints the URL.
pub async fn presign(
    connector: &Connector,
    location: &str,
    method: &str,
    expires_in: u32,
) -> Result<(), Error> {
    let uri = S3Uri::require(location).map_err(Error::Usage)?;
    let method = match method.to_ascii_uppercase().as_str() {
        "GET" => PresignMethod::Get,
        "PUT" => PresignMethod::Put,
        "DELETE" => PresignMethod::Delete,
        "HEAD" => PresignMethod::Head,
        other => {
            return Err(Error::Usage(format!(
                "method {other:?} cannot be presigned; use GET, PUT, DELETE or HEAD"
            )));
        }
    };
    let key = uri.require_key().map_err(Error::Usage)?.to_owned();
    let request = PresignRequest { method, bucket: uri.bucket, key, expires_in_seconds: expires_in };
    out!("{}", connector.presign(request).await?);
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
pub async fn rm(connector: &Connector, location: &str, scope: RmScope, json: bool) -> Result<(), Error> {
    let uri = S3Uri::require(location).map_err(Error::Usage)?;
    let prefix = match scope {
        RmScope::One => {
            connector.delete_object(&uri.bucket, uri.require_key().map_err(Error::Usage)?).await?;
            report(json, "delete", &uri.to_string());
            return Ok(());
        }
        RmScope::Folder => recursive::folder_prefix(&uri.key),
        RmScope::RawPrefix => uri.key.clone(),
    };
    let keys = all_keys(connector, &uri.bucket, &prefix).await?;
    if keys.is_empty() {
        // Nothing to delete: DeleteObjects refuses an empty list.
        return Ok(());
    }
    let result = connector.delete_objects(&uri.bucket, &keys).await?;
    for key in &result.deleted {
        report(json, "delete", &format!("s3://{}/{key}", uri.bucket));
    }
    for failure in &result.failed {
        output::print_error(
            &Error::Local(format!(
                "cannot delete s3://{}/{}: {} ({})",
                uri.bucket, failure.key, failure.message, failure.code
            )),
            json,
        );
    }
    match result.failed.len() {
        0 => Ok(()),
        n => Err(Error::Local(format!(
            "{n} of {} keys starting with s3://{}/{prefix} were not deleted",
            keys.len(),
            uri.bucket
        ))),
    }
}

/// Every key under `prefix`, through all pages.
async fn all_keys(connector: &Connector, bucket: &str, prefix: &str) -> Result<Vec<String>, Error> {
    let mut request =
        ListObjectsRequest { prefix: (!prefix.is_empty()).then(|| prefix.to_owned()), ..Default::default() };
    let mut keys = Vec::new();
    loop {
        let page = connector.list_objects(bucket, request.clone()).await?;
        keys.extend(page.objects.into_iter().map(|o| o.key));
        match page.next_continuation_token {
            Some(token) if page.is_truncated => request.continuation_token = Some(token),
            _ => return Ok(keys),
        }
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

/// `head s3://BUCKET/KEY`: the metadata as JSON.
pub async fn head(connector: &Connector, location: &str) -> Result<(), Error> {
    let uri = S3Uri::require(location).map_err(Error::Usage)?;
    let info = connector.head_object(&uri.bucket, uri.require_key().map_err(Error::Usage)?).await?;
    out!("{}", serde_json::to_string_pretty(&output::object_info(&info)).unwrap_or_default());
    Ok(())
}

fn bucket_only(location: &str) -> Result<String, Error> {
    let uri = S3Uri::require(location).map_err(Error::Usage)?;
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
