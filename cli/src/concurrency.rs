//! Several objects in flight at once. `cp --recursive`, `mv --recursive` and `sync` made one
//! call after another, so that a thousand small files waited on a thousand round trips in a
//! row. Here each object is still its own connector call (its own sandbox, its own policy
//! checks), but up to `--concurrency` of them run side by side, and a failure of one is
//! reported with its name while the others carry on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use tokio::task::JoinSet;

use super::job_scope;
use super::many_progress::{Counts, ManyProgress};
use super::tally::Tally;
use s3_connector_host::error::Error;

/// The aws CLI's default (`max_concurrent_requests`).
pub const DEFAULT: u16 = 10;

/// `--concurrency N`.
#[derive(clap::Args, Debug, Clone)]
pub struct ConcurrencyFlag {
    /// Objects in flight at once (1 to 256), each its own call in its own sandbox.
    #[arg(long, value_name = "N", default_value_t = DEFAULT, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

/// What one object's work came to, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Uploaded, downloaded, copied or moved.
    Copied,
    /// Deleted.
    Deleted,
    /// Left alone.
    Skipped,
}

/// The work of one object, named for its failure report.
pub struct Job {
    /// The object (or file) as the user knows it: `s3://b/k` or a path.
    pub name: String,
    /// Its size when known before it runs, for the progress line.
    pub bytes: Option<u64>,
    /// The work.
    pub work: Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>,
}

impl Job {
    /// A job named `name` doing `work`.
    pub fn new(name: String, work: impl Future<Output = Result<Outcome, Error>> + Send + 'static) -> Self {
        Self { name, bytes: None, work: Box::pin(work) }
    }

    /// The same job, of `bytes` bytes.
    pub fn of_size(mut self, bytes: u64) -> Self {
        self.bytes = Some(bytes);
        self
    }
}

/// Runs `jobs` at most `limit` at a time and counts their outcomes into `tally`; each failure
/// is printed on stderr with its name as it happens. On a terminal, one line shows the
/// objects and bytes done and the rate ([`super::many_progress`]).
pub async fn run(jobs: impl IntoIterator<Item = Job>, limit: u16, json: bool, tally: &mut Tally) {
    let jobs: Vec<Job> = jobs.into_iter().collect();
    let total_bytes = jobs.iter().map(|job| job.bytes).sum::<Option<u64>>();
    let progress = ManyProgress::start(jobs.len() as u64, total_bytes);
    let quiet = progress.showing();
    let limit = usize::from(limit.max(1));
    let mut running: JoinSet<Finished> = JoinSet::new();
    for job in jobs {
        while running.len() >= limit {
            settle(running.join_next().await, json, tally, &progress.counts);
        }
        let Job { name, bytes, work } = job;
        let counter = progress.counts.start_job();
        running.spawn(async move {
            let result = match quiet {
                true => job_scope::quietly(counter.clone(), work).await,
                false => work.await,
            };
            (name, bytes, counter, result)
        });
    }
    while let Some(done) = running.join_next().await {
        settle(Some(done), json, tally, &progress.counts);
    }
}

/// A finished job: its name, its size if known, its byte counter, and what it came to.
type Finished = (String, Option<u64>, Arc<AtomicU64>, Result<Outcome, Error>);

/// Counts one finished job.
fn settle(
    done: Option<Result<Finished, tokio::task::JoinError>>,
    json: bool,
    tally: &mut Tally,
    counts: &Counts,
) {
    match &done {
        // A copy moved its size (a server-side copy's bytes never pass through here).
        Some(Ok((_, bytes, counter, Ok(Outcome::Copied)))) => {
            counts.finished(counter, bytes.unwrap_or(0).max(counter.load(Ordering::Relaxed)))
        }
        Some(Ok((_, _, counter, _))) => counts.finished(counter, 0),
        // A panicked task's counter stays in the line's sum; the command ends soon after.
        Some(Err(_)) | None => {}
    }
    match done {
        None => {}
        Some(Ok((_, _, _, Ok(Outcome::Copied)))) => tally.copied += 1,
        Some(Ok((_, _, _, Ok(Outcome::Deleted)))) => tally.deleted += 1,
        Some(Ok((_, _, _, Ok(Outcome::Skipped)))) => tally.skipped += 1,
        Some(Ok((name, _, _, Err(error)))) => {
            tally.failed += 1;
            report_failure(&name, &error, json);
        }
        // A panic was already reported in one line by the panic hook; the task is one failure.
        Some(Err(_)) => tally.failed += 1,
    }
}

/// One object's failure on stderr: `s3-connector: failed: NAME: WHY`, or with `--json`
/// `{"error": {"code", "message", "object"}}`.
pub fn report_failure(name: &str, error: &Error, json: bool) {
    if !super::print::shows_problems() {
        return;
    }
    if json {
        super::print::error_line(json!({ "error": {
            "code": error.code(), "message": error.to_string(), "object": name,
        } }));
    } else {
        super::print::error_line(format_args!("s3-connector: failed: {name}: {error}"));
    }
}
