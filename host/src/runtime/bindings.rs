//! Host bindings of the `s3-connector:s3/plugin` world, generated from `wit/`.
//!
//! WASI interfaces map onto wasmtime-wasi's and wasmtime-wasi-http's own bindings, so that
//! streams and HTTP resources are the same types the WASI implementations hand out.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "s3-connector:s3/plugin",
    // A bad handle to a seekable source is the guest's fault: a trap, not an error value.
    imports: { "s3-connector:s3/seekable": async | trappable, default: async },
    exports: { default: async },
    // Callers compare what calls return (an upload's object, an object's metadata).
    additional_derives: [PartialEq, Eq],
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "s3-connector:s3/seekable.source": super::seekable_handles::SourceHandle,
        "s3-connector:s3/seekable.sink": super::seekable_handles::SinkHandle,
    },
});
