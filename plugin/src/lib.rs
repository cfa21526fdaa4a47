//! The s3-connector guest: a WebAssembly component that speaks S3.
//!
//! Every exported call builds an S3 request, asks the host for credentials scoped to the bucket
//! and operation, signs the request with SigV4 and sends it through `wasi:http`. The host sees
//! (and checks) every request; the guest never sees the host's long-lived secrets.
//!
//! The modules split the pure parts (addressing, XML, error mapping), which are unit-tested on
//! the native target, from the thin glue to `wasi:http` and `wasi:io`.

// The edge world serves a subset of the operations; the rest is compiled but unused there.
#![cfg_attr(feature = "edge", allow(dead_code))]

#[allow(missing_docs, clippy::all)]
mod bindings {
    #[cfg(not(feature = "edge"))]
    wit_bindgen::generate!({
        path: "../wit",
        world: "s3-connector:s3/plugin",
        generate_all,
    });
    #[cfg(feature = "edge")]
    wit_bindgen::generate!({
        path: "../wit",
        world: "s3-connector:s3/edge",
        generate_all,
    });
}

mod actions;
mod aws_chunked;
mod bucket_tagging;
mod checksum;
mod checksum_headers;
#[cfg(not(feature = "edge"))]
mod client_export;
mod copy;
mod edge;
mod endpoint;
#[doc(hidden)]
pub mod fuzzing;
mod host_imports;
mod http_date;
mod in_flight;
mod multipart;
mod object_headers;
mod operations;
mod option_defaults;
mod parallel_parts;
mod parallel_ranges;
mod pause;
mod retry;
mod s3_error;
mod signing;
mod stream_copy;
mod transfer_plan;
mod wire;
mod xml;

// The exports exist only in the component; the native build of this crate is for unit tests of
// its pure modules, and has no host to import from.
#[cfg(all(target_arch = "wasm32", not(feature = "edge")))]
use client_export::Plugin;
#[cfg(all(target_arch = "wasm32", not(feature = "edge")))]
bindings::export!(Plugin with_types_in bindings);
#[cfg(all(target_arch = "wasm32", feature = "edge"))]
use edge::handler::Edge;
#[cfg(all(target_arch = "wasm32", feature = "edge"))]
bindings::export!(Edge with_types_in bindings);
