//! The s3-connector guest: a WebAssembly component that speaks S3.
//!
//! Every exported call builds an S3 request, asks the host for credentials scoped to the bucket
//! and operation, signs the request with SigV4 and sends it through `wasi:http`. The host sees
//! (and checks) every request; the guest never sees the host's long-lived secrets.
//!
//! The modules are layers, from the bottom: `protocol` (S3's formats, pure, unit-tested on the
//! native target), `transport` (signing, `wasi:http`, retries, the client every request goes
//! through), `operations` (one request each), `transfers` (many requests: multipart, parallel
//! ranges, copies of any size) and `exports` (the client interface, JSON actions, the edge
//! handler). ARCHITECTURE.md says how the layering is checked.

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
    #[cfg(all(feature = "edge", not(feature = "spin"), not(feature = "p3")))]
    wit_bindgen::generate!({
        path: "../wit",
        world: "s3-connector:s3/edge",
        generate_all,
    });
    #[cfg(all(feature = "spin", not(feature = "p3")))]
    wit_bindgen::generate!({
        path: "../wit",
        world: "s3-connector:s3/edge-spin",
        generate_all,
    });
    #[cfg(all(feature = "p3", not(feature = "spin")))]
    wit_bindgen::generate!({
        path: "../wit",
        world: "s3-connector:s3/edge-p3",
        generate_all,
    });
    #[cfg(all(feature = "p3", feature = "spin"))]
    wit_bindgen::generate!({
        path: "../wit",
        world: "s3-connector:s3/edge-p3-spin",
        generate_all,
    });
}

// The layers, from the bottom: each imports only from those below it.
mod exports;
mod operations;
mod protocol;
mod transfers;
mod transport;

#[doc(hidden)]
pub mod fuzzing;

// The exports exist only in the component; the native build of this crate is for unit tests of
// its pure modules, and has no host to import from.
#[cfg(all(target_arch = "wasm32", not(feature = "edge")))]
use exports::client::Plugin;
#[cfg(all(target_arch = "wasm32", not(feature = "edge")))]
bindings::export!(Plugin with_types_in bindings);
#[cfg(all(target_arch = "wasm32", feature = "edge", not(feature = "p3")))]
use exports::edge::handler::Edge;
#[cfg(all(target_arch = "wasm32", feature = "edge", not(feature = "p3")))]
bindings::export!(Edge with_types_in bindings);
#[cfg(all(target_arch = "wasm32", feature = "p3"))]
use exports::edge::handler_p3::EdgeP3;
#[cfg(all(target_arch = "wasm32", feature = "p3"))]
bindings::export!(EdgeP3 with_types_in bindings);
