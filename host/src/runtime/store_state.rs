//! The state of one plugin instance: its WASI context, its resources, its egress guard, and
//! the host side of the `credentials` and `settings` imports.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::bindings::s3_connector::s3::{credentials, settings, types};
use super::egress::EgressGuard;
use super::pinned_clock::PinnedClock;
use crate::credentials::CredentialsProvider;
use crate::policy::{Denial, Operation, Policy};
use crate::settings::Connection;

/// What every instance of one connector shares.
#[derive(Debug, Clone)]
pub struct Shared {
    /// Where requests go.
    pub connection: Connection,
    /// What they may do.
    pub policy: Arc<Policy>,
    /// Whose credentials sign them.
    pub credentials: Arc<dyn CredentialsProvider>,
    /// The time the plugin sees, when pinned.
    pub pinned_time: Option<SystemTime>,
}

/// The `T` of `Store<T>`: fresh for every call.
pub struct StoreState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    /// Resources handed to the guest (streams, HTTP handles).
    pub table: ResourceTable,
    /// The egress guard, with the denials of this call.
    pub egress: EgressGuard,
    /// Denials of credential scopes.
    pub scope_denials: Vec<Denial>,
    shared: Shared,
}

impl StoreState {
    /// A fresh state: no environment, no files, no sockets; HTTP only through the guard.
    pub fn new(shared: Shared) -> Self {
        let mut wasi = WasiCtx::builder();
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        if let Some(time) = shared.pinned_time {
            wasi.wall_clock(PinnedClock::new(time));
        }
        let wasi = wasi.build();
        let egress = EgressGuard::new(shared.connection.endpoint.clone(), shared.policy.clone());
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            egress,
            scope_denials: Vec::new(),
            shared,
        }
    }

    /// The first denial of this call, if any: the host's reason, whatever the guest said.
    pub fn first_denial(&self) -> Option<&Denial> {
        self.scope_denials.first().or(self.egress.denials.first())
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.egress }
    }
}

impl types::Host for StoreState {}

impl settings::Host for StoreState {
    async fn connection(&mut self) -> settings::ConnectionSettings {
        let connection = &self.shared.connection;
        settings::ConnectionSettings {
            endpoint: connection.endpoint.url(),
            region: connection.region.clone(),
            path_style: connection.path_style,
        }
    }
}

impl credentials::Host for StoreState {
    async fn get(&mut self, scope: credentials::Scope) -> Result<credentials::Credentials, types::S3Error> {
        let denied = |state: &mut Self, denial: Denial| {
            let message = denial.to_string();
            state.scope_denials.push(denial);
            Err(types::S3Error::DeniedByHost(message))
        };
        let Some(operation) = Operation::from_name(&scope.operation) else {
            let denial =
                Denial(format!("the plugin asked credentials for unknown operation {:?}", scope.operation));
            return denied(self, denial);
        };
        if let Err(denial) = self.shared.policy.check_scope(scope.bucket.as_deref(), operation) {
            return denied(self, denial);
        }
        let provider = self.shared.credentials.clone();
        match provider.credentials().await {
            Ok(c) => Ok(credentials::Credentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key.expose().to_owned(),
                session_token: c.session_token.map(|t| t.expose().to_owned()),
                expires_at: c.expires_at.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs()),
            }),
            Err(e) => Err(types::S3Error::AccessDenied(e.to_string())),
        }
    }
}
