//! Printing that never panics. `println!` panics when stdout is a closed pipe (`ls | head -1`),
//! which killed commands half-way through their work and showed panic text to the user. Here a
//! closed stdout only stops the printing: the work goes on and the exit code reflects it. Any
//! other failure to write the output (a full disk) is remembered and turns a success into
//! exit 1, since the user asked for that output.

use std::fmt::Display;
use std::io::{ErrorKind, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout failed: nothing more is written to it.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
/// The first failure to write stdout that was not a closed pipe.
static STDOUT_ERROR: OnceLock<String> = OnceLock::new();

/// Prints one line on stdout, unless stdout failed before.
pub fn line(text: impl Display) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if error.kind() != ErrorKind::BrokenPipe {
            let _ = STDOUT_ERROR.set(error.to_string());
        }
    }
}

/// Prints one line on stderr; a closed stderr is ignored, as there is nowhere left to say so.
pub fn error_line(text: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Prints on stderr without a newline (progress redraws); failures are ignored.
pub fn error_text(text: impl Display) {
    let _ = write!(std::io::stderr().lock(), "{text}");
}

/// Why stdout could not take the output, when it failed other than by being closed.
pub fn stdout_failure() -> Option<&'static str> {
    STDOUT_ERROR.get().map(String::as_str)
}

/// `println!` that never panics: see [`line`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::print::line(format_args!($($arg)*))
    };
}

/// Replaces Rust's panic report (`thread 'main' panicked at ...`, a backtrace hint) with one
/// line in the CLI's error format: a panic is a bug, and the user still gets a plain message.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_owned());
        let place = info.location().map(|l| format!(" ({}:{})", l.file(), l.line())).unwrap_or_default();
        error_line(format_args!("s3-connector: internal error, please report it: {message}{place}"));
    }));
}
