#![no_main]
//! Fuzzes `s3_connector_host::fuzzing::policy_config` (`--allow` rules) and
//! `s3_connector_cli::fuzzing::config_file` (the configuration file) with the same input.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    s3_connector_host::fuzzing::policy_config(data);
    s3_connector_cli::fuzzing::config_file(data);
});
