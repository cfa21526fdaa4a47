//! The host's integration tests as one test binary.
//!
//! Each file beside this one is a module of it rather than a binary of its own: every test
//! binary links wasmtime, Cranelift and s3s, so twenty-odd binaries took gigabytes of disk and
//! minutes of linking on CI's two cores (a CI run once failed with "No space left on device").
//! Filter as before by file: `cargo test --workspace --test integration cli::`. The one
//! exception is `instance_pool.rs`, a binary of its own because the pool is sized once a process.

mod common;

mod address_properties;
mod audit;
mod batch_delete;
mod bucket_tagging;
mod checksums;
mod claims;
mod cli;
mod cli_endpoint_switches;
mod cli_https;
mod cli_resolve;
mod copy;
mod credentials_https;
mod credentials_providers;
mod credentials_sso;
mod download_links;
mod everyday_flags;
mod fuzz_seeds;
mod integrity;
mod limits;
mod many_objects;
mod multipart;
mod object_options;
mod parallel_download;
mod parallel_upload;
mod policy_bypass;
mod presign;
mod serve_fairness;
mod serve_logs;
mod store_compat;
mod unsigned_and_requester_pays;
mod url_passwords;
