//! Actions on many objects at once (`deleteObjects`, `copyPrefix`, `syncPrefix`): each object
//! gets its own result, one failing does not stop the others, and the answer counts them
//! (`copied`, `deleted`, `skipped`, `failed`). Every request still goes through the host's
//! egress guard one by one.

use serde_json::{Value, json};

use super::error::ActionError;
use crate::bindings::s3_connector::s3::types::{CopyOptions, ListObjectsRequest, ObjectSummary, S3Error};
use crate::operations as op;
use crate::protocol::checked_names::Bucket;
use crate::transfers::copy::copy_with;
use crate::transport::client::S3;

/// The most objects one action lists; a larger prefix is refused rather than half done.
const MAX_OBJECTS: usize = 10_000;

/// The per-object results and their counts.
#[derive(Default)]
struct Report {
    results: Vec<Value>,
    copied: u64,
    deleted: u64,
    skipped: u64,
    failed: u64,
}

impl Report {
    fn done(&mut self, key: &str, outcome: &'static str) {
        match outcome {
            "copied" => self.copied += 1,
            "deleted" => self.deleted += 1,
            _ => self.skipped += 1,
        }
        self.results.push(json!({"key": key, "outcome": outcome}));
    }

    fn failed(&mut self, key: &str, error: &ActionError) {
        self.failed += 1;
        self.results
            .push(json!({"key": key, "outcome": "failed", "error": error.to_json(None, Some(key))["error"]}));
    }

    fn to_json(&self, dry_run: bool) -> Value {
        json!({
            "results": self.results,
            "summary": {"copied": self.copied, "deleted": self.deleted, "skipped": self.skipped,
                "failed": self.failed},
            "dryRun": dry_run,
        })
    }
}

/// Every object under `prefix`, in key order, at most [`MAX_OBJECTS`].
fn list_all(s3: &S3, bucket: Bucket<'_>, prefix: &str) -> Result<Vec<ObjectSummary>, S3Error> {
    let mut objects = Vec::new();
    let mut token = None;
    // Bounded: every page adds objects or ends the listing, and at most MAX_OBJECTS are kept.
    loop {
        let request = ListObjectsRequest {
            prefix: Some(prefix.to_owned()),
            delimiter: None,
            max_keys: None,
            continuation_token: token.take(),
            start_after: None,
        };
        let page = op::list_objects(s3, bucket, &request)?;
        objects.extend(page.objects);
        if objects.len() > MAX_OBJECTS {
            return Err(S3Error::InvalidRequest(format!(
                "more than {MAX_OBJECTS} objects start with s3://{}/{prefix}; one action handles at most \
                 {MAX_OBJECTS}: narrow the prefix",
                bucket.name()
            )));
        }
        match page.next_continuation_token {
            Some(next) if page.is_truncated => token = Some(next),
            _ => return Ok(objects),
        }
    }
}

/// `deleteObjects`: exactly one of `keys` and `prefix`.
pub fn delete_objects(
    s3: &S3,
    bucket: Bucket<'_>,
    keys: Option<Vec<String>>,
    prefix: Option<String>,
) -> Result<Value, ActionError> {
    let keys = match (keys, prefix) {
        (Some(keys), None) => keys,
        (None, Some(prefix)) => list_all(s3, bucket, &prefix)?.into_iter().map(|o| o.key).collect(),
        _ => {
            return Err(ActionError::InvalidField(
                "deleteObjects: give exactly one of \"keys\" and \"prefix\"".to_owned(),
            ));
        }
    };
    let mut report = Report::default();
    if !keys.is_empty() {
        let result = op::delete_objects(s3, bucket, &keys)?;
        for key in &result.deleted {
            report.done(key, "deleted");
        }
        for failure in &result.failed {
            let error = S3Error::Other(format!("{}: {}", failure.code, failure.message));
            report.failed(&failure.key, &ActionError::S3(error));
        }
    }
    Ok(report.to_json(false))
}

/// `copyPrefix`: every object under the source prefix, copied server-side.
pub fn copy_prefix(
    s3: &S3,
    source: (Bucket<'_>, &str),
    target: (Bucket<'_>, &str),
) -> Result<Value, ActionError> {
    let mut report = Report::default();
    for object in list_all(s3, source.0, source.1)? {
        let key = renamed(&object.key, source.1, target.1);
        match copy_one(s3, (source.0, &object.key), (target.0, &key)) {
            Ok(()) => report.done(&key, "copied"),
            Err(error) => report.failed(&key, &ActionError::S3(error)),
        }
    }
    Ok(report.to_json(false))
}

/// `syncPrefix`: copies what is missing or different, then (with `delete`) deletes what the
/// source lacks; `dry_run` only reports.
pub fn sync_prefix(
    s3: &S3,
    source: (Bucket<'_>, &str),
    target: (Bucket<'_>, &str),
    dry_run: bool,
    delete: bool,
) -> Result<Value, ActionError> {
    let wanted = list_all(s3, source.0, source.1)?;
    let present = list_all(s3, target.0, target.1)?;
    let mut report = Report::default();
    let mut kept = std::collections::BTreeSet::new();
    for object in &wanted {
        let key = renamed(&object.key, source.1, target.1);
        kept.insert(key.clone());
        let same = present.iter().any(|p| p.key == key && p.size == object.size && p.etag == object.etag);
        if same {
            report.done(&key, "skipped");
        } else if dry_run {
            report.done(&key, "copied");
        } else {
            match copy_one(s3, (source.0, &object.key), (target.0, &key)) {
                Ok(()) => report.done(&key, "copied"),
                Err(error) => report.failed(&key, &ActionError::S3(error)),
            }
        }
    }
    // Deletions only after every copy succeeded, as `aws s3 sync --delete` does.
    if delete && report.failed == 0 {
        let extra: Vec<String> = present.into_iter().map(|p| p.key).filter(|k| !kept.contains(k)).collect();
        if dry_run {
            extra.iter().for_each(|key| report.done(key, "deleted"));
        } else if !extra.is_empty() {
            let result = op::delete_objects(s3, target.0, &extra)?;
            result.deleted.iter().for_each(|key| report.done(key, "deleted"));
            for failure in &result.failed {
                let error = S3Error::Other(format!("{}: {}", failure.code, failure.message));
                report.failed(&failure.key, &ActionError::S3(error));
            }
        }
    }
    Ok(report.to_json(dry_run))
}

/// One object of a bulk copy, its keys checked here (a renamed key may break S3's rules).
fn copy_one(s3: &S3, source: (Bucket<'_>, &str), target: (Bucket<'_>, &str)) -> Result<(), S3Error> {
    let (source, target) = (source.0.object(source.1)?, target.0.object(target.1)?);
    copy_with(s3, source, target, &CopyOptions::default()).map(drop)
}

/// `key` (which starts with `from`) with `from` replaced by `to`.
fn renamed(key: &str, from: &str, to: &str) -> String {
    format!("{to}{}", key.strip_prefix(from).unwrap_or(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_move_from_one_prefix_to_the_other() {
        assert_eq!(renamed("in/2026/a.pdf", "in/", "out/"), "out/2026/a.pdf");
        assert_eq!(renamed("in/a", "in/", ""), "a");
        assert_eq!(renamed("a", "", "backup/"), "backup/a");
    }
}
