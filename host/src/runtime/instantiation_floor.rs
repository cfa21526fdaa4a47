//! The instantiation floor of the benchmarks: any component (the bench's do-nothing
//! wasm32-wasip2 program) compiled by the plugin's engine, linked with WASI and instantiated in
//! a sandboxed call exactly as the plugin is, so that the plugin's instantiation is compared
//! with the least a component costs on the same machine in the same run. For `bench/` only.

use wasmtime::component::{Component, InstancePre, Linker};

use super::plugin_runtime::PluginRuntime;
use super::store_state::StoreState;
use crate::error::Error;

/// A component ready to instantiate the way the plugin is.
#[doc(hidden)]
pub struct InstantiationFloor {
    pub(crate) pre: InstancePre<StoreState>,
}

impl InstantiationFloor {
    /// Compiles `component` with the plugin's engine and links it with WASI.
    pub fn new(component: &[u8]) -> Result<Self, Error> {
        let runtime = PluginRuntime::shared()?;
        let plugin_error = |e: wasmtime::Error| Error::Plugin(format!("the floor component: {e:#}"));
        let component = Component::new(&runtime.engine, component).map_err(plugin_error)?;
        let mut linker = Linker::<StoreState>::new(&runtime.engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(plugin_error)?;
        let pre = linker.instantiate_pre(&component).map_err(plugin_error)?;
        Ok(Self { pre })
    }
}
