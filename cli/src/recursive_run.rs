//! Runs the steps of `cp --recursive` and `mv --recursive` several at a time. Each step stays
//! its own call (its own sandbox and policy checks, as a single `cp`); a step that fails is
//! reported with its name and the others go on, and the command ends with exit 1 and the
//! counts when any failed. A move deletes each source only once its own copy succeeded.

use std::sync::Arc;

use serde_json::json;

use super::concurrency::{self, Job, Outcome};
use super::recursive::{Options, Plan, Step};
use super::tally::Tally;
use s3_connector_host::connector::Connector;
use s3_connector_host::error::Error;
use s3_connector_host::types::ObjectRef;

/// Runs the plan's steps, `limit` at a time; with `options.moving`, each source is removed
/// after its copy. The exit code: 2 when the plan skipped a key with a warning and nothing
/// failed, else 0; a failure is the error.
pub async fn run(
    connector: &Connector,
    plan: Plan,
    options: Options,
    limit: u16,
    json: bool,
) -> Result<i32, Error> {
    let Plan { steps, warned, sizes } = plan;
    let moving = options.moving;
    let options = Arc::new(options);
    let jobs = steps.into_iter().map(|step| {
        let (connector, options) = (connector.clone(), Arc::clone(&options));
        // Every size is known before the transfer, for the progress line's total: a file's
        // from the file system, an object's from the listing.
        let size = match &step {
            Step::Upload(path, _) => std::fs::metadata(path).ok().map(|m| m.len()),
            Step::Download(from, _) | Step::Copy(from, _) => sizes.get(&from.key).copied(),
        };
        let job = Job::new(step.sides().0, async move {
            let outcome = step.run(&connector, &options, json).await?;
            if moving && outcome == Outcome::Copied {
                remove_source(&connector, &step, json).await?;
            }
            Ok(outcome)
        });
        match size {
            Some(bytes) => job.of_size(bytes),
            None => job,
        }
    });
    // A skipped key counts as skipped in the summary, and as a warning in the exit code.
    let mut tally = Tally { skipped: warned, warned, ..Tally::default() };
    concurrency::run(jobs, limit, json, &mut tally).await;
    tally.finish(json)
}

/// The second half of one move: the local file's removal or the source object's delete.
async fn remove_source(connector: &Connector, step: &Step, json: bool) -> Result<(), Error> {
    let shown = match step {
        // The file by its path, which its display form may not spell (a non-UTF-8 name).
        Step::Upload(path, _) => {
            std::fs::remove_file(path)
                .map_err(|e| Error::local_io(format!("copied, but cannot remove {}", path.display()), e))?;
            path.display().to_string()
        }
        Step::Download(from, _) | Step::Copy(from, _) => {
            connector.delete_object(&ObjectRef::new(&from.bucket, &from.key)).await?;
            from.to_string()
        }
    };
    if json {
        out!("{}", json!({ "operation": "delete", "target": shown }));
    } else {
        out!("delete: {shown}");
    }
    Ok(())
}
