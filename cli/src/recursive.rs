//! `cp --recursive` and `mv --recursive`: a directory tree to a folder, a folder to a
//! directory tree, or a folder to another folder. Each is first made into a list of one-object
//! steps, so that `mv` can check every step against the policy before the first is taken, and
//! each step is then its own call (its own sandbox, its own policy checks), as a single `cp`.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::concurrency::Outcome;
use super::filters::Filters;
use super::s3_uri::S3Uri;
use super::transfer::{LocalFile, copy_exact, download_to, print_action, upload_file};
use super::{key_path, output};
use s3_connector_host::connector::Connector;
use s3_connector_host::error::Error;
use s3_connector_host::types::{CopyOptions, GetOptions, ListObjectsRequest, PutOptions};

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

    /// Takes the step: one upload, download or server-side copy; with `--dryrun`, only its
    /// line (`(dryrun) upload: A to B`, `(dryrun) move: A to B` for `mv`).
    pub async fn run(&self, connector: &Connector, options: &Options, json: bool) -> Result<Outcome, Error> {
        if options.dryrun {
            let operation = match (self, options.moving) {
                (_, true) => "move",
                (Step::Upload(..), false) => "upload",
                (Step::Download(..), false) => "download",
                (Step::Copy(..), false) => "copy",
            };
            let (from, to) = self.sides();
            print_action(json, operation, Some(&from), &to, true);
            return Ok(Outcome::Skipped);
        }
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
        }?;
        Ok(Outcome::Copied)
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
    /// `--dryrun`: print each step, take none.
    pub dryrun: bool,
    /// `mv`: each step is a move (its dry-run line says `move`).
    pub moving: bool,
}

/// The steps of a recursive command, and how many objects were left out with a warning.
#[derive(Debug, Default)]
pub struct Plan {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Keys skipped with a warning (they cannot be a path beneath the destination).
    pub warned: u64,
    /// Each source object's size as listed, by key: the progress line's total.
    pub sizes: HashMap<String, u64>,
}

/// The steps of `cp --recursive source destination`, in order. Folder markers (keys ending in
/// `/`, made by consoles) are not files and are skipped by downloads, as the aws CLI skips them;
/// keys that cannot be a plain path beneath the directory (`..`, `.`, a leading `/`, too long)
/// are skipped with a warning, as the aws CLI skips a key that references a parent directory,
/// and the others go on (the command then exits 2). Paths the `filters` leave out (relative to
/// the source's root) are not steps. `json` words the warnings.
pub async fn plan(
    connector: &Connector,
    source: &str,
    destination: &str,
    filters: &Filters,
    json: bool,
) -> Result<Plan, Error> {
    let parse = |text: &str| S3Uri::parse(text).transpose().map_err(Error::Usage);
    match (parse(source)?, parse(destination)?) {
        (None, Some(to)) if source != "-" => {
            let directory = Path::new(source);
            let mut files = Vec::new();
            collect_files(directory, &mut files)?;
            files.sort();
            let prefix = folder_prefix(&to.key);
            let steps = files
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
                .collect();
            Ok(Plan { steps, ..Plan::default() })
        }
        (Some(from), None) if destination != "-" => {
            let directory = Path::new(destination);
            let prefix = folder_prefix(&from.key);
            let mut plan = Plan::default();
            for (key, size) in folder_objects(connector, &from.bucket, &prefix).await? {
                plan.sizes.insert(key.clone(), size);
                if key.ends_with('/') {
                    continue;
                }
                let relative = key.strip_prefix(&prefix).unwrap_or(&key);
                if !filters.admits(relative) {
                    continue;
                }
                let Some(file) = local_file(directory, &key, relative) else {
                    // One hostile or odd key costs the download that object, not the others.
                    let why = match escapes(relative) {
                        true => "File references a parent directory.".to_owned(),
                        false => match key_path::local_path(directory, &key, relative) {
                            Err(refused) => format!("{refused}."),
                            Ok(_) => "It is not a plain relative path.".to_owned(),
                        },
                    };
                    let object = format!("s3://{}/{key}", from.bucket);
                    output::print_skip(&object, &format!("Skipping file {relative}. {why}"), json);
                    plan.warned += 1;
                    continue;
                };
                plan.steps.push(Step::Download(S3Uri { bucket: from.bucket.clone(), key }, file));
            }
            Ok(plan)
        }
        (Some(from), Some(to)) => {
            let (prefix, target) = (folder_prefix(&from.key), folder_prefix(&to.key));
            if from.bucket == to.bucket && (target.starts_with(&prefix) || prefix.starts_with(&target)) {
                return Err(Error::Usage(format!(
                    "{from} and {to} overlap; a recursive copy into itself would never end"
                )));
            }
            let objects = folder_objects(connector, &from.bucket, &prefix).await?;
            let keys: Vec<String> = objects.iter().map(|(key, _)| key.clone()).collect();
            let steps = keys
                .into_iter()
                .filter(|key| filters.admits(key.strip_prefix(&prefix).unwrap_or(key)))
                .map(|key| {
                    let relative = key.strip_prefix(&prefix).unwrap_or(&key);
                    let copy = S3Uri { bucket: to.bucket.clone(), key: format!("{target}{relative}") };
                    Step::Copy(S3Uri { bucket: from.bucket.clone(), key }, copy)
                })
                .collect();
            Ok(Plan { steps, warned: 0, sizes: objects.into_iter().collect() })
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
    Ok(folder_objects(connector, bucket, prefix).await?.into_iter().map(|(key, _)| key).collect())
}

/// Every key in the folder with its size, through all pages.
async fn folder_objects(
    connector: &Connector,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<(String, u64)>, Error> {
    let mut request =
        ListObjectsRequest { prefix: (!prefix.is_empty()).then(|| prefix.to_owned()), ..Default::default() };
    let mut keys = Vec::new();
    loop {
        let page = connector.list_objects(bucket, request.clone()).await?;
        keys.extend(page.objects.into_iter().map(|o| (o.key, o.size)));
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

/// `relative` beneath `directory`, when `relative` is made of plain names only that the file
/// system can hold ([`key_path::local_path`]'s rules, shared with `sync`).
fn local_file(directory: &Path, key: &str, relative: &str) -> Option<LocalFile> {
    key_path::local_path(directory, key, relative).ok()?;
    let relative = Path::new(relative);
    let plain = relative.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && !relative.as_os_str().is_empty())
        .then(|| LocalFile::Beneath { root: directory.to_owned(), relative: relative.to_owned() })
}

/// Whether `relative` climbs above the directory once normalised, as the aws CLI tests it
/// (`normpath(compare_key).startswith('../')`): the keys it warns "references a parent
/// directory" about.
fn escapes(relative: &str) -> bool {
    let mut depth = 0usize;
    for segment in relative.split('/') {
        match segment {
            "" | "." => {}
            ".." if depth == 0 => return true,
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_destination() {
        let dir = Path::new("/tmp/out");
        assert_eq!(
            local_file(dir, "a/b.txt", "a/b.txt").map(|f| f.path()),
            Some(PathBuf::from("/tmp/out/a/b.txt"))
        );
        for escaping in ["../x", "a/../../x", "/etc/passwd", "", "./a"] {
            assert_eq!(local_file(dir, escaping, escaping), None, "{escaping}");
        }
        for (relative, climbs) in [("../x", true), ("a/../../x", true), ("a/../x", false), ("./a", false)] {
            assert_eq!(escapes(relative), climbs, "{relative}");
        }
        assert_eq!(folder_prefix("photos"), "photos/");
        assert_eq!(folder_prefix(""), "");
    }
}
