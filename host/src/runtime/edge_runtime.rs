//! The `edge` component (the plugin built for the standard `wasi:http` proxy world plus
//! `wasi:config`), compiled once per process and pre-linked for one fresh instance per request.

use std::sync::OnceLock;

use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi_config::WasiConfig;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use super::compiled_cache;
use super::plugin_runtime::PluginRuntime;
use super::store_state::StoreState;
use crate::error::Error;

/// The edge component, built by `build.rs` with the plugin crate's `edge` feature.
pub static EDGE_WASM: &[u8] = include_bytes!(env!("S3_CONNECTOR_EDGE_WASM_PATH"));

/// The compiled edge component, ready to instantiate. It shares the plugin's engine (and so
/// its pooling allocator and limits).
pub struct EdgeRuntime {
    pub(crate) engine: Engine,
    pub(crate) pre: ProxyPre<StoreState>,
}

impl EdgeRuntime {
    /// The process-wide edge runtime, compiled (or loaded from the cache) on first use.
    pub fn shared() -> Result<&'static EdgeRuntime, Error> {
        static RUNTIME: OnceLock<Result<EdgeRuntime, String>> = OnceLock::new();
        RUNTIME
            .get_or_init(|| Self::load().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| Error::Plugin(e.clone()))
    }

    fn load() -> wasmtime::Result<Self> {
        let engine = PluginRuntime::shared().map_err(|e| wasmtime::Error::msg(e.to_string()))?.engine.clone();
        let cache = compiled_cache::cache_dir(|name| std::env::var(name).ok());
        let component = compiled_cache::load(&engine, EDGE_WASM, cache.as_deref())?;
        let mut linker = Linker::<StoreState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        super::host_buffer::add_to_linker(&mut linker)?;
        wasmtime_wasi_config::add_to_linker(&mut linker, |state| WasiConfig::from(&state.config))?;
        let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Self { engine, pre })
    }
}
