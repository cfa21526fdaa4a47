//! The counts a many-object command ends with (copied, deleted, skipped, failed): one line a
//! person reads when something failed, one JSON object a script reads with `--json`, and the
//! exit code, 1 when any object failed, so that a partial failure is never a success, and 2
//! when none failed but one was skipped with a warning, as the aws CLI's.

use serde_json::json;

use s3_connector_host::error::Error;

/// What happened to the objects of one command.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Uploaded, downloaded or copied (moved, for `mv`).
    pub copied: u64,
    /// Deleted.
    pub deleted: u64,
    /// Left alone: unchanged (`sync`) or only shown (`--dryrun`).
    pub skipped: u64,
    /// Failed, each reported with its key as it failed.
    pub failed: u64,
    /// Of the skipped, those left out with a warning (a key that cannot be a local path).
    pub warned: u64,
}

impl Tally {
    /// `3 copied, 1 deleted, 0 skipped, 1 failed`.
    pub fn line(&self) -> String {
        format!(
            "{} copied, {} deleted, {} skipped, {} failed",
            self.copied, self.deleted, self.skipped, self.failed
        )
    }

    /// Prints `{"summary": {"copied", "deleted", "skipped", "failed"}}` on stdout.
    pub fn print_json(&self) {
        out!(
            "{}",
            json!({ "summary": {
                "copied": self.copied, "deleted": self.deleted,
                "skipped": self.skipped, "failed": self.failed,
            } })
        );
    }

    /// Prints the JSON summary (with `--json`, the last line on stdout) and turns any failure
    /// into the command's error: exit 1, with the counts in its message. Without failures, the
    /// exit code: 2 when an object was skipped with a warning (aws's `num_tasks_warned`), else 0.
    pub fn finish(self, json: bool) -> Result<i32, Error> {
        if json {
            self.print_json();
        }
        match self.failed {
            0 if self.warned > 0 => Ok(2),
            0 => Ok(0),
            n => Err(Error::local(format!(
                "{n} object{} failed (each named above): {}",
                if n == 1 { "" } else { "s" },
                self.line()
            ))),
        }
    }
}
