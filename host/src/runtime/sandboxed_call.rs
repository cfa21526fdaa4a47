//! One call in a fresh sandbox, the only place that runs guest code: a slot of the instance
//! pool, a fresh store with its limits, the call under its wall-clock timeout, the audit
//! finished, and the outcome read as the host sees it (the host's denial wins over the guest's
//! text, secrets it was handed are scrubbed, a trap becomes the limit it broke).
//!
//! The connector's typed calls, presigning, JSON actions, `serve` and the hostile-guest runner
//! only choose what to instantiate and which export to call; every one of them gets the same
//! timeout and the same error for it.

use std::time::{Duration, Instant};

use wasmtime::{Engine, Store};

use super::bindings::s3_connector::s3::types::S3Error;
use super::host_buffer;
use super::plugin_runtime::PluginRuntime;
use super::store_state::{Shared, StoreState};
use crate::error::Error;

/// A fresh store holding a slot of the instance pool, freed when it is dropped.
pub struct SandboxedCall {
    /// The store the guest runs in; its state keeps the call's denials and handed-out secrets.
    pub store: Store<StoreState>,
}

impl SandboxedCall {
    /// Waits for a slot of the instance pool, then builds a store for `shared` with its limits.
    /// `prepare` sets up the state first (the edge world's `wasi:config` values).
    pub async fn open(
        engine: &Engine,
        shared: Shared,
        prepare: impl FnOnce(&mut StoreState),
    ) -> Result<Self, Error> {
        let mut state = StoreState::new(shared);
        state.sandbox = Some(PluginRuntime::sandbox().await?);
        prepare(&mut state);
        let mut store = Store::new(engine, state);
        apply_limits(&mut store);
        Ok(Self { store })
    }

    /// Runs `call` (instantiation and the export) under `timeout`, then finishes the audit.
    /// Dropping the call on timeout drops its instance: nothing of it runs on.
    pub async fn run<T>(
        &mut self,
        timeout: Duration,
        call: impl AsyncFnOnce(&mut Store<StoreState>) -> wasmtime::Result<T>,
    ) -> Result<T, Error> {
        let outcome = tokio::time::timeout(timeout, call(&mut self.store)).await;
        self.store.data_mut().egress.finish_audit();
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(trap)) => Err(self.trap(trap)),
            Err(_) => Err(Error::S3(S3Error::Timeout)),
        }
    }

    /// The guest's own result as the host reports it: a host denial wins over whatever the
    /// guest said, a network failure the host saw replaces the guest's transport error, and
    /// its error text is scrubbed of the secrets it was handed.
    pub fn verdict<T>(&self, result: Result<T, S3Error>) -> Result<T, Error> {
        match result {
            Ok(value) => Ok(value),
            Err(error) => Err(self.denial().unwrap_or_else(|| match (&error, self.network_failure()) {
                (S3Error::Transport(_) | S3Error::Timeout, Some(failure)) => Error::Network(failure),
                _ => Error::S3(self.scrub_error(error)),
            })),
        }
    }

    /// The first network failure the host saw in this call, if any.
    pub fn network_failure(&self) -> Option<crate::network::NetworkFailure> {
        self.store.data().egress.network_failure()
    }

    /// The host's first refusal in this call, if any: a policy denial, else a retry the
    /// connector's retry budget refused.
    pub fn denial(&self) -> Option<Error> {
        let state = self.store.data();
        state.first_denial().map(|denial| Error::Denied(denial.clone())).or_else(|| {
            state.egress.retries_refused.first().map(|refusal| Error::RetryBudget(refusal.clone()))
        })
    }

    /// `text` from the guest with the secrets it was handed scrubbed.
    pub fn scrub(&self, text: &str) -> String {
        self.store.data().scrub(text)
    }

    /// A trap as the caller sees it: the limit the instance broke, if it broke one, else the
    /// trap's root cause without the wasm backtrace.
    fn trap(&self, trap: wasmtime::Error) -> Error {
        match self.store.data().limits.exceeded.or_else(|| host_buffer::limit_in(&trap)) {
            Some(exceeded) => Error::Limit(exceeded),
            None => plugin_error(trap),
        }
    }

    /// The guest's error with any secret it was handed scrubbed from its text.
    fn scrub_error(&self, error: S3Error) -> S3Error {
        let scrub = |m: String| self.scrub(&m);
        match error {
            S3Error::DeniedByHost(m) => S3Error::DeniedByHost(scrub(m)),
            S3Error::NoSuchBucket(m) => S3Error::NoSuchBucket(scrub(m)),
            S3Error::NoSuchKey(m) => S3Error::NoSuchKey(scrub(m)),
            S3Error::AccessDenied(m) => S3Error::AccessDenied(scrub(m)),
            S3Error::PreconditionFailed(m) => S3Error::PreconditionFailed(scrub(m)),
            S3Error::InvalidRequest(m) => S3Error::InvalidRequest(scrub(m)),
            S3Error::Service(mut e) => {
                e.code = self.scrub(&e.code);
                e.message = self.scrub(&e.message);
                S3Error::Service(e)
            }
            S3Error::Transport(m) => S3Error::Transport(scrub(m)),
            S3Error::Timeout => S3Error::Timeout,
            S3Error::Other(m) => S3Error::Other(scrub(m)),
        }
    }
}

/// Puts the limits on a fresh store: every store of the plugin's engine must go through here,
/// as the engine interrupts instances at each epoch deadline.
fn apply_limits(store: &mut Store<StoreState>) {
    store.limiter(|state| &mut state.limits);
    store.call_hook(|mut store, hook| {
        store.data_mut().limits.on_call_hook(hook, Instant::now());
        Ok(())
    });
    store.epoch_deadline_callback(|mut store| store.data_mut().limits.on_epoch(Instant::now()));
    store.set_epoch_deadline(1);
}

/// A wasmtime failure outside a guest's run (compiling, linking) as the host reports it: the
/// root cause's first line; the backtrace is for developers (`RUST_LOG`), not users.
pub fn plugin_error(error: impl Into<wasmtime::Error>) -> Error {
    let error = error.into();
    Error::Plugin(error.root_cause().to_string().lines().next().unwrap_or("unknown failure").to_owned())
}
