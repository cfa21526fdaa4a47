//! The end-to-end tests as one test binary.
//!
//! Each file beside this one is a module of it rather than a binary of its own: every test
//! binary links wasmtime, Cranelift and s3s, so one binary per file took gigabytes of disk and
//! minutes of linking on CI's two cores (a CI run once failed with "No space left on device").
//! Filter as before by file: `cargo test --workspace --test end_to_end e2e_https::`.

mod actions_readme;
mod camunda_contract;
mod component_links;
mod e2e_actions;
mod e2e_bulk_actions;
mod e2e_https;
mod e2e_large_objects;
mod e2e_operations;
mod e2e_parallel_retries;
mod e2e_policy_and_keys;
mod e2e_proxy;
mod e2e_retries;
mod e2e_serve;
mod e2e_serve_openapi;
mod e2e_serve_security;
mod e2e_serve_tenants;
mod e2e_serve_tls;
mod e2e_serve_trace;
mod e2e_transfer_faults;
mod e2e_virtual_hosted;
mod element_template;
mod soak;
