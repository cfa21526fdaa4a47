//! The compiled plugin: one Engine, one Component and one InstancePre per process, with the
//! pooling allocator, so that every call gets a fresh instance in microseconds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Callers waiting for a slot of the pool (the pool itself is process-wide, so is this count).
static SANDBOXES_WAITING: AtomicUsize = AtomicUsize::new(0);

use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::exports::s3_connector::s3::actions;
use super::bindings::s3_connector::s3::{credentials, documents, presigning, seekable, settings, types};
use super::client_exports::ClientIndices;
use super::compiled_cache;
use super::limits::{self, MAX_INSTANCE_MEMORY};
use super::store_state::StoreState;
use crate::error::Error;

/// The component, built from `plugin/` by `build.rs`.
pub static PLUGIN_WASM: &[u8] = include_bytes!(env!("S3_CONNECTOR_PLUGIN_WASM_PATH"));

/// How many instances may be alive at once in this process, unless
/// `PluginRuntime::configure_instances` says otherwise.
pub const MAX_INSTANCES: u32 = 256;

/// The pool size asked for before the runtime was first used.
static CONFIGURED_INSTANCES: OnceLock<u32> = OnceLock::new();
/// The process-wide runtime, loaded on first use (or the reason it could not be).
static RUNTIME: OnceLock<Result<PluginRuntime, String>> = OnceLock::new();
/// Bytes of each memory and table a freed slot keeps mapped for the next instance: what a small
/// call dirties (1, 2 and 4 MiB measured the same per-call times), and at most this much RSS per
/// slot ever used.
const KEEP_RESIDENT: usize = 1 << 20;

/// The engine, the pre-linked plugin and where its exports are.
pub struct PluginRuntime {
    pub(crate) engine: Engine,
    pub(crate) pre: InstancePre<StoreState>,
    /// The `client` interface's functions among the component's exports, found once. A call
    /// looks up (and type-checks) only the function it runs: the generated `PluginPre` loaded
    /// every export of the world at every instantiation, its `GuestIndices` every function of
    /// the interface.
    pub(crate) client: ClientIndices,
    /// The `actions` interface's, likewise.
    pub(crate) actions: actions::GuestIndices,
}

impl PluginRuntime {
    /// The process-wide runtime, compiled on first use.
    pub fn shared() -> Result<&'static PluginRuntime, Error> {
        RUNTIME
            .get_or_init(|| Self::load().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| Error::Plugin(e.clone()))
    }

    /// Sizes the pooling allocator for `instances` live instances (plugin and edge together;
    /// each reserves address space for its memory, not RAM). Must come before the first
    /// connector or server of the process; later it is refused, since the pool exists.
    pub fn configure_instances(instances: u32) -> Result<(), Error> {
        if !(1..=10_000).contains(&instances) {
            return Err(Error::Usage(format!("{instances} instances is out of range; give 1 to 10000")));
        }
        CONFIGURED_INSTANCES.set(instances).map_err(|_| {
            Error::Usage(
                "the instance pool is already sized; configure it before the first connector".to_owned(),
            )
        })
    }

    /// How many instances the pool holds. Seals the setting: a later `configure_instances`
    /// fails instead of being ignored, so the pool and the semaphore of [`Self::sandbox`] have
    /// one size.
    fn pool_size() -> u32 {
        *CONFIGURED_INSTANCES.get_or_init(|| MAX_INSTANCES)
    }

    /// Waits for a free instance of the pool, which plugin calls and `serve` of this process
    /// share: calls beyond the pool wait their turn instead of failing in the allocator. The
    /// store of the instance keeps the permit, so the slot frees when the store is dropped.
    pub async fn sandbox() -> Result<OwnedSemaphorePermit, Error> {
        /// Counts a caller waiting for a slot until it has one (or gives up).
        struct Waiting;
        impl Drop for Waiting {
            fn drop(&mut self) {
                SANDBOXES_WAITING.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let sandboxes = Self::sandboxes();
        if let Ok(permit) = sandboxes.clone().try_acquire_owned() {
            return Ok(permit);
        }
        SANDBOXES_WAITING.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting;
        sandboxes
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Plugin("the instance pool is closed".to_owned()))
    }

    /// How many sandboxes the pool holds (plugin and edge calls together), for `serve`'s
    /// per-tenant share of them.
    pub fn capacity() -> u32 {
        Self::pool_size()
    }

    /// Sandboxes in use and callers waiting for one, for `serve`'s metrics.
    pub fn sandbox_usage() -> (usize, usize) {
        let in_use = (Self::pool_size() as usize).saturating_sub(Self::sandboxes().available_permits());
        (in_use, SANDBOXES_WAITING.load(Ordering::SeqCst))
    }

    /// Hands back to the system the pages that freed slots of the pool keep resident for the
    /// next instance (up to [`KEEP_RESIDENT`] of each memory ever used: after a burst of calls,
    /// that much per slot of the burst, however long the process then idles). Returns how many
    /// bytes it released, or `None` when a sandbox is in use or awaited, or the runtime was
    /// never loaded. The next instance in a released slot takes page faults its first call.
    ///
    /// It holds every slot of the pool while it releases: wasmtime takes the warm slots out of
    /// its free list meanwhile, and an instantiation then could find the pool exhausted and
    /// fail; with the slots held, a caller waits for them instead, for as long as the release
    /// takes.
    pub fn release_idle_memory() -> Option<usize> {
        let Some(Ok(runtime)) = RUNTIME.get() else { return None };
        let _every_slot = Self::sandboxes().clone().try_acquire_many_owned(Self::pool_size()).ok()?;
        Some(runtime.engine.release_idle_pool_memory())
    }

    /// The semaphore of the pool's slots, sized once with the pool.
    fn sandboxes() -> &'static Arc<Semaphore> {
        static SANDBOXES: OnceLock<Arc<Semaphore>> = OnceLock::new();
        SANDBOXES.get_or_init(|| Arc::new(Semaphore::new(Self::pool_size() as usize)))
    }

    fn load() -> wasmtime::Result<Self> {
        let instances = Self::pool_size();
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(instances)
            .total_core_instances(instances * 4)
            .total_memories(instances * 2)
            .total_tables(instances * 4)
            .max_memory_size(MAX_INSTANCE_MEMORY)
            // A freed slot's pages stay mapped: Linux's PAGEMAP_SCAN (6.7+) finds the ones the
            // call dirtied and they are reset with memset, so the next call in the slot takes
            // no page faults. Without the ioctl, wasmtime falls back to madvise.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(Enabled::Auto);
        let mut config = Config::new();
        config.wasm_component_model(true).allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        // The WASI 0.3 edge component (`serve --edge p3`) exports an async function with
        // stream<u8> bodies: the component model's async ABI. The other components use none of it.
        config.wasm_component_model_async(true);
        // CPU budgets: every store sets a deadline (`SandboxedCall::open`), the ticker advances it.
        config.epoch_interruption(true);
        // `S3_CONNECTOR_PERF_MAP=1` names the guest's compiled functions for `perf`
        // (/tmp/perf-PID.map), so that a profile shows the guest's share by function
        // (BENCHMARKS.md). Off by default: writing the map is work at every load.
        if std::env::var("S3_CONNECTOR_PERF_MAP").is_ok_and(|v| v == "1") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)?;
        limits::start_epoch_ticker(&engine)?;
        let cache = compiled_cache::cache_dir(|name| std::env::var(name).ok());
        let component = compiled_cache::load(&engine, PLUGIN_WASM, cache.as_deref())?;
        let mut linker = Linker::<StoreState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        super::host_buffer::add_to_linker(&mut linker)?;
        // The world's own imports; WASI comes from the two crates above.
        credentials::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        presigning::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        settings::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        types::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        documents::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        seekable::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        let pre = linker.instantiate_pre(&component)?;
        let (client, actions) = (ClientIndices::new(&pre)?, actions::GuestIndices::new(&pre)?);
        Ok(Self { engine, pre, client, actions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_sizes_out_of_range_are_refused_without_sealing_the_setting() {
        for bad in [0, 10_001] {
            let error = PluginRuntime::configure_instances(bad).unwrap_err();
            assert!(error.to_string().contains("1 to 10000"), "{error}");
        }
        // Unset, or the default if another test of this process has loaded the runtime since:
        // never a refused size.
        assert!(
            matches!(CONFIGURED_INSTANCES.get(), None | Some(&MAX_INSTANCES)),
            "{:?}",
            CONFIGURED_INSTANCES.get()
        );
    }
}
