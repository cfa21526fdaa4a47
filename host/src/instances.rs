//! The process-wide pool of sandboxes that plugin calls and edge requests share: sized once,
//! before the first connector, and watched by a server's limits and metrics.

use crate::error::Error;
use crate::runtime::plugin_runtime::PluginRuntime;

pub use crate::runtime::plugin_runtime::MAX_INSTANCES;

/// Sizes the pool for `instances` live instances (each reserves address space for its memory,
/// not RAM). Must come before the first connector or server of the process; later it is
/// refused, since the pool exists.
pub fn configure(instances: u32) -> Result<(), Error> {
    PluginRuntime::configure_instances(instances)
}

/// How many instances the pool holds; calls beyond it wait for a free one.
pub fn capacity() -> u32 {
    PluginRuntime::capacity()
}

/// Instances in use and callers waiting for one.
pub fn usage() -> (usize, usize) {
    PluginRuntime::sandbox_usage()
}

/// Hands back to the system the pages that freed instances keep resident for the next one (up
/// to 1 MiB of each memory ever used), once nothing runs: how many bytes, or `None` when an
/// instance is in use or awaited (it holds every slot of the pool while it releases, as wasmtime
/// takes the slots out of its free list meanwhile). A server calls it when idle; the next
/// instance in a released slot takes page faults in its first call.
pub fn release_idle_memory() -> Option<usize> {
    PluginRuntime::release_idle_memory()
}
