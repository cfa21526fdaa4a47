#![no_main]
//! Fuzzes `s3_connector_plugin::fuzzing::xml_responses`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| s3_connector_plugin::fuzzing::xml_responses(data));
