#![no_main]
//! Fuzzes `s3_connector_plugin::fuzzing::json_action`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| s3_connector_plugin::fuzzing::json_action(data));
