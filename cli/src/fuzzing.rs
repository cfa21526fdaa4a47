//! The CLI's fuzz target body (not a supported API): the configuration file, untrusted text
//! parsed into rules. It lives here so that the normal test suite runs the committed corpus
//! through it on stable (`tests/fuzz_seeds.rs`); `fuzz/`'s `policy_config` target calls it
//! beside the library's `--allow` parser.

/// A whole configuration file: whatever parses yields its rules without a panic.
pub fn config_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = crate::config_file::ConfigFile::parse(&text) {
        let _ = config.rules();
    }
}
