//! Which many-object job the current task belongs to: a task-local that the transfers of a
//! `cp`/`mv --recursive` or `sync` carry while its progress line shows. A transfer's own line
//! (`progress.rs`) stays quiet under it and counts its bytes into the job's counter, which the
//! many-object line (`many_progress.rs`) shows. Apart from both, so that neither imports the
//! other.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

tokio::task_local! {
    /// Set in the tasks of a many-object command whose own line is showing: the job's bytes.
    static UNDER_MANY: Arc<AtomicU64>;
}

/// Whether the current task belongs to a many-object command that shows its own line.
pub fn under_many() -> bool {
    UNDER_MANY.try_with(|_| ()).is_ok()
}

/// The byte counter of the current task's job, when a many-object line shows.
pub fn job_counter() -> Option<Arc<AtomicU64>> {
    UNDER_MANY.try_with(Arc::clone).ok()
}

/// Runs `work` as part of a many-object command showing its line (per-transfer lines off),
/// its transfers counting their bytes into `counter`.
pub async fn quietly<F: Future>(counter: Arc<AtomicU64>, work: F) -> F::Output {
    UNDER_MANY.scope(counter, work).await
}
