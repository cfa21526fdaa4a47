//! `cp --recursive` and `mv --recursive`: a directory tree to a folder, a folder to a
//! directory tree, or a folder to another folder. Each is first made into a list of one-object
//! steps, so that `mv` can check every step against the policy before the first is taken, and
//! each step is then its own call (its own sandbox, its own policy checks), as a single `cp`.

use std::path::{Component, Path, PathBuf};

use super::filters::Filters;
use super::s3_uri::S3Uri;
use super::transfer::{LocalFile, copy_exact, download_to, upload_file};
use crate::connector::Connector;
use crate::error::Error;
use crate::types::{CopyOptions, GetOptions, ListObjectsRequest, PutOptions};

/// One object of a recursive copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A local file to exactly this key.
    Upload(PathBuf, S3Uri),
    /// A key to exactly this local file, beneath the destination directory.
    Download(S3Uri, LocalFile),
    /// A key to exactly this other key.
    Copy(S3Uri, S3Uri),
}

impl Step {
    /// The source and the destination as `mv` names them, for its policy check.
    pub fn sides(&self) -> (String, String) {
        match self {
            Step::Upload(path, to) => (path.display().to_string(), to.to_string()),
            Step::Download(from, file) => (from.to_string(), file.path().display().to_string()),
            Step::Copy(from, to) => (from.to_string(), to.to_string()),
        }
    }

    /// Takes the step: one upload, download or server-side copy.
    pub async fn run(&self, connector: &Connector, options: &Options, json: bool) -> Result<(), Error> {
        match self {
            Step::Upload(path, to) => {
                upload_file(connector, path, to.clone(), options.upload.clone(), json).await
            }
            // A link beneath the destination fails this one step, named with the rule; the
            // others go on and the command ends with exit 1 and the count (recursive_run.rs):
            // one stray link should not cost a large download the rest of its objects, and a
            // script still sees that the copy is incomplete.
            Step::Download(from, file) => download_to(connector, from, file, &options.download, json).await,
            Step::Copy(from, to) => copy_exact(connector, from, to, options.copy.clone(), json).await,
        }
    }
}

/// The options each step takes, by its kind.
#[derive(Default, Clone)]
pub struct Options {
    /// Of uploads.
    pub upload: PutOptions,
    /// Of downloads.
    pub download: GetOptions,
    /// Of server-side copies.
    pub copy: CopyOptions,
}

/// The steps of `cp --recursive source destination`, in order. Folder markers (keys ending in
/// `/`, made by consoles) are not files and are skipped by downloads, as the aws CLI skips them;
/// keys that would land outside the directory (`..`, absolute) are refused, not written. Paths
/// the `filters` leave out (relative to the source's root) are not steps.
pub async fn plan(
    connector: &Connector,
    source: &str,
    destination: &str,
    filters: &Filters,
) -> Result<Vec<Step>, Error> {
    let parse = |text: &str| S3Uri::parse(text).transpose().map_err(Error::Usage);
    match (parse(source)?, parse(destination)?) {
        (None, Some(to)) if source != "-" => {
            let directory = Path::new(source);
            let mut files = Vec::new();
            collect_files(directory, &mut files)?;
            files.sort();
            let prefix = folder_prefix(&to.key);
            Ok(files
                .into_iter()
                .filter_map(|file| {
                    let relative = file.strip_prefix(directory).unwrap_or(&file);
                    let parts: Vec<String> =
                        relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                    let relative = parts.join("/");
                    let key = format!("{prefix}{relative}");
                    filters
                        .admits(&relative)
                        .then(|| Step::Upload(file, S3Uri { bucket: to.bucket.clone(), key }))
                })
                .collect())
        }
        (Some(from), None) if destination != "-" => {
            let directory = Path::new(destination);
            let prefix = folder_prefix(&from.key);
            let mut steps = Vec::new();
            for key in folder_keys(connector, &from.bucket, &prefix).await? {
                if key.ends_with('/') {
                    continue;
                }
                let relative = key.strip_prefix(&prefix).unwrap_or(&key);
                if !filters.admits(relative) {
                    continue;
                }
                let file = local_file(directory, relative).ok_or_else(|| {
                    Error::local(format!(
                        "key s3://{}/{key} would be written outside {}; download it by name instead",
                        from.bucket,
                        directory.display()
                    ))
                })?;
                steps.push(Step::Download(S3Uri { bucket: from.bucket.clone(), key }, file));
            }
            Ok(steps)
        }
        (Some(from), Some(to)) => {
            let (prefix, target) = (folder_prefix(&from.key), folder_prefix(&to.key));
            if from.bucket == to.bucket && (target.starts_with(&prefix) || prefix.starts_with(&target)) {
                return Err(Error::Usage(format!(
                    "{from} and {to} overlap; a recursive copy into itself would never end"
                )));
            }
            let keys = folder_keys(connector, &from.bucket, &prefix).await?;
            Ok(keys
                .into_iter()
                .filter(|key| filters.admits(key.strip_prefix(&prefix).unwrap_or(key)))
                .map(|key| {
                    let relative = key.strip_prefix(&prefix).unwrap_or(&key);
                    let copy = S3Uri { bucket: to.bucket.clone(), key: format!("{target}{relative}") };
                    Step::Copy(S3Uri { bucket: from.bucket.clone(), key }, copy)
                })
                .collect())
        }
        _ => Err(Error::Usage(
            "--recursive copies a directory to s3://BUCKET/FOLDER, a folder to a directory, or a \
             folder to another folder; not stdin or stdout"
                .to_owned(),
        )),
    }
}

/// Every key in the folder, through all pages.
pub(super) async fn folder_keys(
    connector: &Connector,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, Error> {
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

fn collect_files(directory: &Path, files: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(directory).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Usage(format!("{}: no such directory", directory.display())),
        _ => Error::local_io(format!("cannot read directory {}", directory.display()), e),
    })?;
    for entry in entries {
        let entry = entry
            .map_err(|e| Error::local_io(format!("cannot read directory {}", directory.display()), e))?;
        let kind = entry
            .file_type()
            .map_err(|e| Error::local_io(format!("cannot stat {}", entry.path().display()), e))?;
        if kind.is_dir() {
            collect_files(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// The folder a recursive location names: `dir` without a trailing slash becomes `dir/`, as
/// the aws CLI reads it; the empty prefix (the whole bucket) stays empty.
pub(super) fn folder_prefix(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') { key.to_owned() } else { format!("{key}/") }
}

/// `relative` beneath `directory`, when `relative` is made of plain names only.
fn local_file(directory: &Path, relative: &str) -> Option<LocalFile> {
    let relative = Path::new(relative);
    let plain = relative.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && !relative.as_os_str().is_empty())
        .then(|| LocalFile::Beneath { root: directory.to_owned(), relative: relative.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_destination() {
        let dir = Path::new("/tmp/out");
        assert_eq!(local_file(dir, "a/b.txt").map(|f| f.path()), Some(PathBuf::from("/tmp/out/a/b.txt")));
        for escaping in ["../x", "a/../../x", "/etc/passwd", "", "./a"] {
            assert_eq!(local_file(dir, escaping), None, "{escaping}");
        }
        assert_eq!(folder_prefix("photos"), "photos/");
        assert_eq!(folder_prefix(""), "");
    }
}
