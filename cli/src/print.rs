//! Printing that never panics. `println!` panics when stdout is a closed pipe (`ls | head -1`),
//! which killed commands half-way through their work and showed panic text to the user. Here a
//! closed stdout only stops the printing: the work goes on and the exit code reflects it. Any
//! other failure to write the output (a full disk) is remembered and turns a success into
//! exit 1, since the user asked for that output.

use std::fmt::Display;
use std::io::{ErrorKind, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Set once stdout failed: nothing more is written to it.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
/// The first failure to write stdout that was not a closed pipe.
static STDOUT_ERROR: OnceLock<String> = OnceLock::new();

/// How much a transfer command prints, as the aws CLI's `--quiet` and `--only-show-errors`
/// choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Everything: operation lines, progress, warnings and errors.
    All,
    /// `--only-show-errors`: warnings and errors only (no operation lines, no progress).
    ErrorsOnly,
    /// `--quiet`: nothing of the transfers (a usage error still prints: it is no transfer's).
    Nothing,
}

/// The [`Level`] in force, as its index; every command but the transfers leaves it at `All`.
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Sets what the command prints; once, before it starts.
pub fn set_level(level: Level) {
    let index = match level {
        Level::All => 0,
        Level::ErrorsOnly => 1,
        Level::Nothing => 2,
    };
    LEVEL.store(index, Ordering::Relaxed);
}

/// What the command prints.
pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Level::All,
        1 => Level::ErrorsOnly,
        _ => Level::Nothing,
    }
}

/// Whether warnings and per-object failures are printed (not under `--quiet`).
pub fn shows_problems() -> bool {
    level() != Level::Nothing
}

/// Prints one line on stdout, unless stdout failed before or `--quiet` or `--only-show-errors`
/// keep the output to problems (stdout only ever carries results).
pub fn line(text: impl Display) {
    if STDOUT_GONE.load(Ordering::Relaxed) || level() != Level::All {
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
        $crate::print::line(format_args!($($arg)*))
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
