//! The wasmtime side: bindings, the compiled plugin, per-instance state and the egress guard.

pub(crate) mod bindings;
pub(crate) mod client_exports;
pub mod compiled_cache;
pub mod connection_pool;
mod documents_import;
pub mod edge_runtime;
pub mod egress;
pub mod host_buffer;
pub(crate) mod inline_write_stream;
#[doc(hidden)]
#[cfg(feature = "internals")]
pub mod instantiation_floor;
pub mod limits;
pub mod pinned_clock;
pub mod plugin_runtime;
pub(crate) mod presigning_import;
pub mod retry_budget;
pub mod sandboxed_call;
pub(crate) mod seekable_handles;
mod seekable_import;
pub mod store_state;
