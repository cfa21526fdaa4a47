//! The library's layering, which Cargo cannot see inside one crate (see ARCHITECTURE.md): what
//! decides (the policy), what it decides about (credentials, settings, the network, audit
//! records) and the secrets' handling sit below the sandbox. None of them names the sandbox
//! (`runtime`) or the calls that run in it (`connector`, `actions`, `instances`), so that the
//! host's decision never depends on what runs inside. This reads the sources and fails on any
//! such `crate::` path outside comments. (The server and the CLI are crates of their own: Cargo
//! already keeps the library from naming them.)

use std::path::{Path, PathBuf};

/// The modules below the sandbox: a directory or a file of `src/`.
const BELOW_THE_SANDBOX: &[&str] = &[
    "policy",
    "credentials",
    "network",
    "settings.rs",
    "audit",
    "secrets",
    "telemetry",
    "checksum_validation.rs",
    "beneath.rs",
    "seekable.rs",
];

/// The sandbox and what runs in it.
const SANDBOX: &[&str] = &["runtime", "connector", "actions", "instances"];

/// Every `.rs` file at or below `path`.
fn sources(path: &Path, found: &mut Vec<PathBuf>) {
    if path.is_file() {
        found.push(path.to_owned());
        return;
    }
    for entry in std::fs::read_dir(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
        sources(&entry.expect("an entry").path(), found);
    }
}

#[test]
fn nothing_below_the_sandbox_names_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for module in BELOW_THE_SANDBOX {
        sources(&src.join(module), &mut files);
    }
    assert!(files.len() > 40, "only {} files were read", files.len());
    let mut violations = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable source");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for upper in SANDBOX {
                if code.contains(&format!("crate::{upper}")) {
                    violations.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "below the sandbox, names of it:\n{}", violations.join("\n"));
}
