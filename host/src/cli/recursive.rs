//! `cp --recursive`: a directory tree to a prefix, or a prefix to a directory tree.

use std::path::{Component, Path, PathBuf};

use super::commands::{download_to, upload_file};
use super::s3_uri::S3Uri;
use crate::connector::Connector;
use crate::error::Error;
use crate::types::{GetOptions, ListObjectsRequest, PutOptions};

/// Uploads every file under `directory` to `to`'s prefix, keys relative to the directory.
pub async fn upload_tree(
    connector: &Connector,
    directory: &Path,
    to: &S3Uri,
    options: PutOptions,
    json: bool,
) -> Result<(), Error> {
    let mut files = Vec::new();
    collect_files(directory, &mut files)?;
    files.sort();
    let prefix = folder_prefix(&to.key);
    for file in files {
        let relative = file.strip_prefix(directory).unwrap_or(&file);
        let parts: Vec<String> =
            relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let target = S3Uri { bucket: to.bucket.clone(), key: format!("{prefix}{}", parts.join("/")) };
        upload_file(connector, &file, target, options.clone(), json).await?;
    }
    Ok(())
}

fn collect_files(directory: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(directory)
        .map_err(|e| Error::Local(format!("cannot read directory {}: {e}", directory.display())))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| Error::Local(format!("cannot read directory {}: {e}", directory.display())))?;
        let kind = entry
            .file_type()
            .map_err(|e| Error::Local(format!("cannot stat {}: {e}", entry.path().display())))?;
        if kind.is_dir() {
            collect_files(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// Downloads every key in `from`'s folder into `directory`, paths relative to the folder.
/// Folder markers are skipped; keys that would land outside the directory (`..`, absolute) are
/// refused, not written.
pub async fn download_tree(
    connector: &Connector,
    from: &S3Uri,
    directory: &Path,
    get: &GetOptions,
    json: bool,
) -> Result<(), Error> {
    let prefix = folder_prefix(&from.key);
    let mut request =
        ListObjectsRequest { prefix: (!prefix.is_empty()).then(|| prefix.clone()), ..Default::default() };
    loop {
        let page = connector.list_objects(&from.bucket, request.clone()).await?;
        // Folder markers (zero-byte keys ending in `/`, made by consoles) are not files: the aws
        // CLI skips them, and their path would be the directory itself.
        for object in page.objects.iter().filter(|o| !o.key.ends_with('/')) {
            let relative = object.key.strip_prefix(&prefix).unwrap_or(&object.key);
            let path = local_path(directory, relative).ok_or_else(|| {
                Error::Local(format!(
                    "key s3://{}/{} would be written outside {}; download it by name instead",
                    from.bucket,
                    object.key,
                    directory.display()
                ))
            })?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::Local(format!("cannot create {}: {e}", parent.display())))?;
            }
            let source = S3Uri { bucket: from.bucket.clone(), key: object.key.clone() };
            download_to(connector, &source, &path, get, json).await?;
        }
        match page.next_continuation_token {
            Some(token) if page.is_truncated => request.continuation_token = Some(token),
            _ => return Ok(()),
        }
    }
}

/// The folder a recursive location names: `dir` without a trailing slash becomes `dir/`, as
/// the aws CLI reads it; the empty prefix (the whole bucket) stays empty.
pub(super) fn folder_prefix(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') { key.to_owned() } else { format!("{key}/") }
}

/// `directory/relative`, when `relative` is made of plain names only.
fn local_path(directory: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    let plain = relative.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && !relative.as_os_str().is_empty()).then(|| directory.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_destination() {
        let dir = Path::new("/tmp/out");
        assert_eq!(local_path(dir, "a/b.txt"), Some(PathBuf::from("/tmp/out/a/b.txt")));
        for escaping in ["../x", "a/../../x", "/etc/passwd", "", "./a"] {
            assert_eq!(local_path(dir, escaping), None, "{escaping}");
        }
        assert_eq!(folder_prefix("photos"), "photos/");
        assert_eq!(folder_prefix(""), "");
    }
}
