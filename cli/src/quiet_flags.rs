//! `--quiet` and `--only-show-errors`, the aws CLI's flags for scripts that want the transfer
//! commands (`cp`, `mv`, `rm`, `sync`) silent, or silent but for what went wrong. Its own file
//! so that the four commands share one definition of the pair and of what each prints.

use super::print::Level;

/// `--quiet`, `--only-show-errors`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct QuietFlags {
    /// Print nothing: no operation lines, progress, warnings or failures (the exit code tells;
    /// a usage error still prints).
    #[arg(long, conflicts_with = "only_show_errors")]
    pub quiet: bool,
    /// Print only errors and warnings; no operation lines and no progress.
    #[arg(long)]
    pub only_show_errors: bool,
}

impl QuietFlags {
    /// What the command prints.
    pub fn level(&self) -> Level {
        match (self.quiet, self.only_show_errors) {
            (true, _) => Level::Nothing,
            (false, true) => Level::ErrorsOnly,
            (false, false) => Level::All,
        }
    }
}
