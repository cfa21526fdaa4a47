//! The embedding API: a [`Connector`] runs each S3 call in a fresh plugin instance, with the
//! connection, policy and credentials it was built with.
//!
//! [`ConnectorBuilder`] (`builder.rs`) checks the settings once and yields the connector; the
//! typed calls are grouped by what they act on: `buckets.rs`, `objects.rs`, `multipart.rs`,
//! `presign.rs` (and `crate::actions` for JSON actions). This file holds what they share: the
//! connector's settings and the way one call reaches the plugin.

mod buckets;
mod builder;
mod edge;
#[cfg(feature = "internals")]
pub mod guest_probe;
mod multipart;
mod objects;
mod presign;
mod server_hooks;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncRead;
use wasmtime::Store;
use wasmtime::component::{Instance, Resource};
use wasmtime_wasi::p2::DynInputStream;
use wasmtime_wasi::p2::pipe::AsyncReadStream;

use crate::error::Error;
use crate::policy::Policy;
use crate::runtime::client_exports::Client;
use crate::runtime::plugin_runtime::PluginRuntime;
use crate::runtime::retry_budget::RetryBudget;
use crate::runtime::sandboxed_call::SandboxedCall;
use crate::runtime::store_state::{Shared, StoreState};
use crate::settings::Connection;
use crate::types::S3Error;

pub(crate) use crate::runtime::presigning_import::presign_action;
pub use builder::{
    ConnectorBuilder, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_INLINE_BYTES,
    MAX_PRESIGN_SECONDS,
};
pub use edge::{EdgeCall, HostReason};
pub use presign::presign_method_named;

/// An S3 connector: the sandboxed plugin, bound to one endpoint, policy and credentials.
///
/// Built once by [`Connector::builder`], immutable after, and cheap to clone (one reference
/// count); every call instantiates the plugin afresh from the process-wide `PluginRuntime`,
/// so calls are independent and may run concurrently.
#[derive(Clone)]
pub struct Connector {
    settings: Arc<Settings>,
}

/// What a connector was built with; read by every call, changed by none.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) runtime: &'static PluginRuntime,
    /// What every instance of this connector is given.
    pub(crate) shared: Shared,
    pub(crate) call_timeout: Duration,
    pub(crate) max_inline_bytes: u64,
    pub(crate) tenant: String,
    pub(crate) allow_request_credentials: bool,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("tenant", &self.settings.tenant)
            .field("shared", &self.settings.shared)
            .finish_non_exhaustive()
    }
}

/// What a connector can tell about itself.
impl Connector {
    /// Starts a connector. The policy is required: a library user states what the plugin may
    /// touch ([`Policy::allow_all`] says so explicitly). Every other setting has a default.
    pub fn builder(
        connection: Connection,
        policy: Policy,
        credentials: Arc<dyn crate::credentials::CredentialsProvider>,
    ) -> ConnectorBuilder {
        ConnectorBuilder::new(connection, policy, credentials)
    }

    /// The tenant named in audit records.
    pub fn tenant(&self) -> &str {
        &self.settings.tenant
    }

    /// The connection settings.
    pub fn connection(&self) -> &Connection {
        &self.settings.shared.connection
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.settings.shared.policy
    }

    /// The name of the credentials provider.
    pub fn credentials_provider(&self) -> &'static str {
        self.settings.shared.credentials.name()
    }

    /// The retry budget, for metrics: tokens left and retries refused so far.
    pub fn retry_budget(&self) -> &RetryBudget {
        &self.settings.shared.retry_budget
    }
}

/// How a call reaches the plugin.
impl Connector {
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// This connector with its settings changed for one call (a JSON action's call id or its
    /// request-scoped credentials, `serve`'s request id or its metrics sink); the connector
    /// itself stays as built.
    pub(crate) fn for_one_call(&self, change: impl FnOnce(&mut Settings)) -> Connector {
        let mut settings = Settings::clone(&self.settings);
        change(&mut settings);
        Connector { settings: Arc::new(settings) }
    }

    /// A fresh sandbox for one call of this connector, once a slot of the instance pool is free.
    pub(crate) async fn sandbox(&self) -> Result<SandboxedCall, Error> {
        SandboxedCall::open(&self.settings.runtime.engine, self.settings.shared.clone(), |_| {}).await
    }

    /// Runs `export` on a fresh instance of the plugin in `call`, under the call timeout, with
    /// the interface `load` takes from the instance (only that one is type-checked).
    pub(crate) async fn run_plugin<G, T>(
        &self,
        call: &mut SandboxedCall,
        load: impl FnOnce(&'static PluginRuntime, &mut Store<StoreState>, &Instance) -> wasmtime::Result<G>,
        export: impl AsyncFnOnce(&G, &mut Store<StoreState>) -> wasmtime::Result<T>,
    ) -> Result<T, Error> {
        let runtime = self.settings.runtime;
        call.run(self.settings.call_timeout, async |store| {
            let instance = runtime.pre.instantiate_async(&mut *store).await?;
            let interface = load(runtime, store, &instance)?;
            export(&interface, store).await
        })
        .await
    }

    /// Instantiates the plugin once, looks up and type-checks one function of its `client`
    /// interface as a typed call does, and drops the instance: what every typed call pays
    /// before the plugin runs. For the benchmarks
    /// (`bench/`, feature `internals`) only.
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub async fn bench_instantiate(&self) -> Result<(), Error> {
        let mut call = self.sandbox().await?;
        self.run_plugin(&mut call, load_client, async |client, store| client.look_up_one(store)).await
    }

    /// Instantiates the plugin once without loading any export: [`Connector::bench_instantiate`]
    /// less the lookup of the function a call runs. For the benchmarks (`bench/`, feature `internals`) only.
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub async fn bench_instantiate_bare(&self) -> Result<(), Error> {
        let mut call = self.sandbox().await?;
        self.run_plugin(&mut call, |_, _, _| Ok(()), async |_, _| Ok(())).await
    }

    /// Instantiates `floor` once in a sandboxed call as the plugin is and drops it: the least
    /// any component costs, to compare [`Connector::bench_instantiate`] with. For the benchmarks
    /// (`bench/`, feature `internals`) only.
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub async fn bench_instantiate_floor(
        &self,
        floor: &crate::runtime::instantiation_floor::InstantiationFloor,
    ) -> Result<(), Error> {
        let mut call = self.sandbox().await?;
        call.run(self.settings.call_timeout, async |store| floor.pre.instantiate_async(store).await.map(drop))
            .await
    }

    /// Runs one export of the client interface in a fresh instance and reads its outcome as
    /// the host sees it.
    async fn call<T>(
        &self,
        export: impl AsyncFnOnce(&Client, &mut Store<StoreState>) -> wasmtime::Result<Result<T, S3Error>>,
    ) -> Result<T, Error> {
        let mut call = self.sandbox().await?;
        let result = self.run_plugin(&mut call, load_client, export);
        let result = result.await?;
        call.verdict(result)
    }
}

/// The `client` interface of `instance`; each call looks up and type-checks its own function.
fn load_client(
    runtime: &'static PluginRuntime,
    _: &mut Store<StoreState>,
    instance: &Instance,
) -> wasmtime::Result<Client> {
    Ok(runtime.client.load(instance))
}

/// Hands `reader` to the instance as a `wasi:io` input stream, borrowed by the call.
fn input_stream(
    store: &mut Store<StoreState>,
    reader: impl AsyncRead + Send + 'static,
) -> wasmtime::Result<Resource<DynInputStream>> {
    let stream: DynInputStream = Box::new(AsyncReadStream::new(reader));
    let owned = store.data_mut().table.push(stream)?;
    Ok(Resource::new_borrow(owned.rep()))
}

#[cfg(test)]
mod tests {
    /// Engines run calls on multi-threaded runtimes: every call's future must be `Send`, and
    /// the connector itself `Send + Sync` to be shared.
    use crate::types::ObjectRef;

    /// The typed calls of `runtime/client_exports.rs` are the plugin's `client` interface:
    /// every function found by its name and its Rust signature accepted by wasmtime's type
    /// check against the built component.
    #[tokio::test]
    async fn every_client_function_is_listed_with_the_plugin_s_signature() {
        let connection =
            crate::settings::Connection::resolve(Some("http://127.0.0.1:9"), None, true, |_| None)
                .expect("endpoint");
        let credentials = std::sync::Arc::new(crate::credentials::StaticCredentials::new(
            "AKID",
            crate::credentials::Secret::new("SECRET"),
            None,
        ));
        let connector =
            super::Connector::builder(connection, crate::policy::Policy::allow_all(), credentials)
                .build()
                .expect("connector");
        let mut call = connector.sandbox().await.expect("sandbox");
        let checked = connector.run_plugin(
            &mut call,
            |runtime, store, instance| runtime.client.check_every_function(store, instance),
            async |_, _| Ok(()),
        );
        checked.await.expect("every function of the list type-checks");
    }

    #[allow(dead_code)]
    fn calls_are_send(c: &super::Connector) {
        fn send<T: Send>(_: T) {}
        fn shared<T: Send + Sync>(_: &T) {}
        shared(c);
        let object = ObjectRef::new("b", "k");
        send(c.head_object(&object));
        send(c.put_object(&object, tokio::io::empty(), None, Default::default()));
        send(c.get_object(&object, tokio::io::sink(), Default::default()));
        send(c.presign(crate::types::PresignRequest {
            method: crate::types::PresignMethod::Get,
            object: object.clone(),
            expires_in_seconds: 60,
        }));
    }
}
