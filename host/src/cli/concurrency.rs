//! Several objects in flight at once. `cp --recursive`, `mv --recursive` and `sync` made one
//! call after another, so that a thousand small files waited on a thousand round trips in a
//! row. Here each object is still its own connector call (its own sandbox, its own policy
//! checks), but up to `--concurrency` of them run side by side, and a failure of one is
//! reported with its name while the others carry on.

use std::future::Future;
use std::pin::Pin;

use serde_json::json;
use tokio::task::JoinSet;

use super::tally::Tally;
use crate::error::Error;

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
    /// The work.
    pub work: Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>,
}

impl Job {
    /// A job named `name` doing `work`.
    pub fn new(name: String, work: impl Future<Output = Result<Outcome, Error>> + Send + 'static) -> Self {
        Self { name, work: Box::pin(work) }
    }
}

/// Runs `jobs` at most `limit` at a time and counts their outcomes into `tally`; each failure
/// is printed on stderr with its name as it happens.
pub async fn run(jobs: impl IntoIterator<Item = Job>, limit: u16, json: bool, tally: &mut Tally) {
    let limit = usize::from(limit.max(1));
    let mut running: JoinSet<(String, Result<Outcome, Error>)> = JoinSet::new();
    for job in jobs {
        while running.len() >= limit {
            settle(running.join_next().await, json, tally);
        }
        let Job { name, work } = job;
        running.spawn(async move { (name, work.await) });
    }
    while let Some(done) = running.join_next().await {
        settle(Some(done), json, tally);
    }
}

/// Counts one finished job.
fn settle(
    done: Option<Result<(String, Result<Outcome, Error>), tokio::task::JoinError>>,
    json: bool,
    tally: &mut Tally,
) {
    match done {
        None => {}
        Some(Ok((_, Ok(Outcome::Copied)))) => tally.copied += 1,
        Some(Ok((_, Ok(Outcome::Deleted)))) => tally.deleted += 1,
        Some(Ok((_, Ok(Outcome::Skipped)))) => tally.skipped += 1,
        Some(Ok((name, Err(error)))) => {
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
    if json {
        super::print::error_line(json!({ "error": {
            "code": error.code(), "message": error.to_string(), "object": name,
        } }));
    } else {
        super::print::error_line(format_args!("s3-connector: failed: {name}: {error}"));
    }
}
