//! The edge components (the plugin built for the standard `wasi:http` worlds plus
//! `wasi:config`), compiled once per process and pre-linked for one fresh instance per request:
//! `edge` (WASI 0.2, `wasi:http/incoming-handler@0.2.12`, the default) and `edge-p3` (WASI 0.3,
//! `wasi:http/handler@0.3.0`, `serve --edge p3`). Both send their S3 requests through
//! `wasi:http/outgoing-handler@0.2.12`, so the egress guard and the policy are the same.

use std::sync::OnceLock;

use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi_config::WasiConfig;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use super::compiled_cache;
use super::plugin_runtime::PluginRuntime;
use super::store_state::StoreState;
use crate::error::Error;

/// The edge component, built by `build.rs` with the plugin crate's `edge` feature.
pub static EDGE_WASM: &[u8] = include_bytes!(env!("S3_CONNECTOR_EDGE_WASM_PATH"));

/// The WASI 0.3 edge component, built by `build.rs` with the plugin crate's `p3` feature.
pub static EDGE_P3_WASM: &[u8] = include_bytes!(env!("S3_CONNECTOR_EDGE_P3_WASM_PATH"));

/// Which edge component `serve` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EdgeWorld {
    /// `edge`: `wasi:http/incoming-handler@0.2.12`.
    #[default]
    P2,
    /// `edge-p3`: `wasi:http/handler@0.3.0`, run with wasmtime's component-model async.
    P3,
}

/// A pre-linked edge component of either world.
#[derive(Clone)]
pub enum EdgePre {
    /// The WASI 0.2 component.
    P2(ProxyPre<StoreState>),
    /// The WASI 0.3 component.
    P3(ServicePre<StoreState>),
}

/// A compiled edge component, ready to instantiate. It shares the plugin's engine (and so
/// its pooling allocator and limits).
pub struct EdgeRuntime {
    pub(crate) engine: Engine,
    pub(crate) pre: EdgePre,
}

impl EdgeRuntime {
    /// The process-wide runtime of the WASI 0.2 edge, compiled (or loaded from the cache) on
    /// first use.
    pub fn shared() -> Result<&'static EdgeRuntime, Error> {
        Self::shared_for(EdgeWorld::P2)
    }

    /// The process-wide runtime of `world`'s edge component, compiled (or loaded from the
    /// cache) on first use.
    pub fn shared_for(world: EdgeWorld) -> Result<&'static EdgeRuntime, Error> {
        static P2: OnceLock<Result<EdgeRuntime, String>> = OnceLock::new();
        static P3: OnceLock<Result<EdgeRuntime, String>> = OnceLock::new();
        let cell = match world {
            EdgeWorld::P2 => &P2,
            EdgeWorld::P3 => &P3,
        };
        cell.get_or_init(|| Self::load(world).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| Error::Plugin(e.clone()))
    }

    fn load(world: EdgeWorld) -> wasmtime::Result<Self> {
        let engine = PluginRuntime::shared().map_err(|e| wasmtime::Error::msg(e.to_string()))?.engine.clone();
        let cache = compiled_cache::cache_dir(|name| std::env::var(name).ok());
        let wasm = match world {
            EdgeWorld::P2 => EDGE_WASM,
            EdgeWorld::P3 => EDGE_P3_WASM,
        };
        let component = compiled_cache::load(&engine, wasm, cache.as_deref())?;
        let mut linker = Linker::<StoreState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        super::host_buffer::add_to_linker(&mut linker)?;
        wasmtime_wasi_config::add_to_linker(&mut linker, |state| WasiConfig::from(&state.config))?;
        let pre = match world {
            EdgeWorld::P2 => EdgePre::P2(ProxyPre::new(linker.instantiate_pre(&component)?)?),
            EdgeWorld::P3 => {
                // Only the handler's side is WASI 0.3 (wasi:http/types@0.3.0); its S3 requests
                // go through the 0.2 outgoing handler linked above.
                wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
                EdgePre::P3(ServicePre::new(linker.instantiate_pre(&component)?)?)
            }
        };
        Ok(Self { engine, pre })
    }
}
