#![no_main]
//! Fuzzes `s3_connector_host::fuzzing::s3_address`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| s3_connector_host::fuzzing::s3_address(data));
