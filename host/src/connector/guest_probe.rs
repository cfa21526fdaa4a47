//! Runs a guest of any shape under the plugin's sandbox, for tests of the sandbox itself with
//! hostile guests (a loop without end, unbounded allocation): the same engine, the same store
//! state with its egress guard, the same limits and the same error mapping as a plugin call.
//! Not part of the supported API.

use wasmtime::component::{Component, Linker};

use super::Connector;
use crate::error::Error;
use crate::runtime::sandboxed_call::{SandboxedCall, plugin_error};
use crate::runtime::store_state::StoreState;

/// Instantiates `component` (a binary component) on the plugin's engine with WASI and `wasi:http`
/// through the egress guard, and calls its export `export`, a `func()`, under `connector`'s
/// limits and call timeout. A guest that returns after the host refused one of its requests
/// gets [`Error::Denied`] with the host's first reason.
#[doc(hidden)]
pub async fn run_export(connector: &Connector, component: &[u8], export: &str) -> Result<(), Error> {
    let engine = &connector.settings().runtime.engine;
    let component = Component::new(engine, component).map_err(plugin_error)?;
    let mut linker = Linker::<StoreState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(plugin_error)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(plugin_error)?;
    crate::runtime::host_buffer::add_to_linker(&mut linker).map_err(plugin_error)?;
    let mut call = SandboxedCall::open(engine, connector.settings().shared.clone(), |_| {}).await?;
    let missing = |e: wasmtime::Error| format!("the guest has no export {export:?} of type func(): {e}");
    let ran = call
        .run(connector.settings().call_timeout, async |store| {
            let instance = linker.instantiate_async(&mut *store, &component).await?;
            match instance.get_typed_func::<(), ()>(&mut *store, export) {
                Ok(func) => func.call_async(store, ()).await.map(|()| Ok(())),
                Err(e) => Ok(Err(missing(e))),
            }
        })
        .await?;
    ran.map_err(Error::Plugin)?;
    // As for the plugin: whatever the guest made of a refusal, the host reports it.
    call.denial().map_or(Ok(()), Err)
}
