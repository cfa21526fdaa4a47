#![no_main]
//! Fuzzes `s3_connector_host::fuzzing::policy_config`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| s3_connector_host::fuzzing::policy_config(data));
