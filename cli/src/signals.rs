//! SIGINT and SIGTERM end a command by dropping it, not by killing the process. A download
//! writes a hidden temporary file that is removed when it is dropped, as on an error; the
//! signals' default action ends the process without running any drop and left those files
//! behind. Here the running command is dropped (its temporaries go with it) and the CLI exits as
//! a shell expects of a process ended by a signal: 128 plus the signal's number.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

/// The signal that ended a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted {
    /// The signal's name, for the message.
    pub name: &'static str,
    /// The exit code: 130 for SIGINT, 143 for SIGTERM.
    pub exit_code: i32,
}

/// Runs `work` to its end, or until SIGINT or SIGTERM, when `work` is dropped unfinished.
pub async fn until_interrupted<F: Future>(work: F) -> Result<F::Output, Interrupted> {
    // Without a handler (cannot happen on Unix unless the runtime lacks signal support), the
    // work runs as before: a signal then ends the process the default way.
    let (Ok(mut interrupt), Ok(mut terminate)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return Ok(work.await);
    };
    tokio::select! {
        output = work => Ok(output),
        _ = interrupt.recv() => Err(Interrupted { name: "SIGINT", exit_code: 130 }),
        _ = terminate.recv() => Err(Interrupted { name: "SIGTERM", exit_code: 143 }),
    }
}
