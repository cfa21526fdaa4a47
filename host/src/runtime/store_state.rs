//! The state of one plugin instance: its WASI context, its resources, its egress guard, and
//! the host side of the `credentials` and `settings` imports (`presigning` is in
//! `presigning_import.rs`).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use s3_connector_rules::sigv4;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_config::WasiConfigVariables;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::bindings::s3_connector::s3::{credentials, settings, types};
use super::egress::EgressGuard;
use super::limits::{InstanceLimits, Limits};
use super::pinned_clock::PinnedClock;
use crate::audit::{Audit, AuditRecord, Decision, Kind};
use crate::credentials::{CredentialsProvider, Secret, SigningKeys};
use crate::documents::DocumentStore;
use crate::policy::{Access, Denial, Policy};
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
    /// The signing keys derived from those credentials: all the plugin is given to sign with.
    pub signing_keys: Arc<SigningKeys>,
    /// The host's cap on a presigned URL's lifetime, in seconds.
    pub max_presign_seconds: u32,
    /// The time the plugin sees, when pinned.
    pub pinned_time: Option<SystemTime>,
    /// The document store of JSON actions, if the embedder gave one.
    pub documents: Option<Arc<dyn DocumentStore>>,
    /// Where decisions are recorded, if anywhere.
    pub audit: Option<Audit>,
    /// How many times the plugin tries a request in all.
    pub max_attempts: u32,
    /// Whether every request says `x-amz-request-payer: requester`.
    pub requester_pays: bool,
    /// Whether downloads verify the checksums responses carry.
    pub response_checksum_validation: crate::ResponseChecksumValidation,
    /// Memory, CPU and requests per call.
    pub limits: Limits,
    /// The retry budget every call of the connector shares.
    pub retry_budget: Arc<super::retry_budget::RetryBudget>,
    /// The trace the call belongs to (a `serve` request's), put on every request it sends.
    pub trace: Option<crate::telemetry::trace_context::TraceContext>,
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
    /// The secrets handed to the guest in this call, so that the host can scrub them from
    /// anything the guest says back (a hostile plugin could put them in an error message).
    pub handed_out: Vec<Secret>,
    /// The URLs the host presigned in this call: handed out whole (a session token in them
    /// included) when the guest returns them.
    pub issued_urls: Vec<String>,
    /// Documents the guest created in this call, to publish or remove once its outcome is known.
    pub created_documents: Vec<String>,
    /// The `wasi:config` values of the edge world: its settings and this request's credentials.
    pub config: WasiConfigVariables,
    /// The memory limiter and the CPU meter of this instance.
    pub limits: InstanceLimits,
    /// The slot of the instance pool this instance holds, freed with the store.
    pub sandbox: Option<tokio::sync::OwnedSemaphorePermit>,
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
        // The one variable of the guest's environment: the plugin reads the setting there, a
        // channel every host of the `plugin` world already provides (see wit/settings.wit).
        wasi.env(crate::checksum_validation::ENVIRONMENT, shared.response_checksum_validation.as_str());
        let wasi = wasi.build();
        let egress =
            EgressGuard::new(shared.connection.endpoint.clone(), shared.policy.clone(), shared.audit.clone())
                .with_network(shared.connection.network.clone())
                .with_max_requests(shared.limits.max_requests)
                .with_retry_budget(shared.retry_budget.clone())
                .with_trace(shared.trace.clone());
        let mut table = ResourceTable::new();
        table.set_max_capacity(super::limits::MAX_RESOURCES);
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(super::limits::MAX_HEADER_MAP_BYTES);
        Self {
            wasi,
            http,
            table,
            egress,
            scope_denials: Vec::new(),
            handed_out: Vec::new(),
            issued_urls: Vec::new(),
            created_documents: Vec::new(),
            config: WasiConfigVariables::new(),
            limits: InstanceLimits::new(shared.limits),
            sandbox: None,
            shared,
        }
    }

    /// `text` with every spelling of every secret handed out in this call replaced by
    /// `<redacted>` (see [`crate::secrets::scrub`]), except inside the URLs the host presigned.
    pub fn scrub(&self, text: &str) -> String {
        crate::secrets::scrub::secrets_outside(text, &self.handed_out, &self.issued_urls)
    }

    /// What every instance of the connector shares.
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Records a secret handed to the guest, to be scrubbed from whatever it says back.
    pub fn hand_out(&mut self, secret: &Secret) {
        if !self.handed_out.contains(secret) {
            self.handed_out.push(secret.clone());
        }
    }

    /// The document store, checked against the `store_id` a reference names (none: the
    /// default store, for new documents).
    pub fn document_store(&self, store_id: Option<&str>) -> Result<Arc<dyn DocumentStore>, String> {
        let Some(store) = &self.shared.documents else {
            return Err("this host has no document store; start it with --documents DIR, or send the \
                        content inline"
                .to_owned());
        };
        match store_id {
            Some(id) if id != store.store_id() => {
                Err(format!("unknown document store {id:?}; this host's store is {:?}", store.store_id()))
            }
            _ => Ok(store.clone()),
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
            max_attempts: self.shared.max_attempts,
            requester_pays: self.shared.requester_pays,
        }
    }
}

impl credentials::Host for StoreState {
    async fn get(
        &mut self,
        scope: credentials::Scope,
    ) -> Result<Option<credentials::Credentials>, types::S3Error> {
        // The WIT enum, read into the vocabulary the policy speaks.
        let access = match scope.access {
            types::Access::Read => Access::Read,
            types::Access::Write => Access::Write,
            types::Access::Delete => Access::Delete,
            types::Access::List => Access::List,
            types::Access::Admin => Access::Admin,
        };
        let denied = |state: &mut Self, denial: Denial| {
            let message = denial.to_string();
            if let Some(audit) = &state.shared.audit {
                let mut record = AuditRecord::new(&audit.tenant, Kind::Credentials, Decision::Denied);
                record.access = Some(access.name().to_owned());
                record.bucket = scope.bucket.clone();
                record.reason = Some(denial.0.clone());
                audit.write(record);
            }
            state.scope_denials.push(denial);
            Err(types::S3Error::DeniedByHost(message))
        };
        if let Err(denial) = self.shared.policy.check_scope(scope.bucket.as_deref(), access) {
            return denied(self, denial);
        }
        let now = SystemTime::now();
        if !key_day_is_current(&scope.signing_date, now, self.shared.pinned_time) {
            let today = sigv4::signing_date(self.shared.pinned_time.unwrap_or(now)).unwrap_or_default();
            let denial = Denial(format!(
                "a signing key for {:?} was asked for; the host gives out today's ({today}) only",
                scope.signing_date
            ));
            return denied(self, denial);
        }
        let provider = self.shared.credentials.clone();
        if !provider.signs() {
            // Anonymous access: the plugin sends the request unsigned; the guard still checks it.
            return Ok(None);
        }
        match provider.credentials().await {
            Ok(c) => {
                let identity = self.shared.signing_keys.identity(
                    &c,
                    &scope.signing_date,
                    &self.shared.connection.region,
                );
                // Recorded before they leave, to be scrubbed from whatever the guest says back.
                self.hand_out(&Secret::new(identity.key.to_hex()));
                if let Some(token) = &c.session_token {
                    self.hand_out(token);
                }
                Ok(Some(credentials::Credentials {
                    access_key_id: identity.access_key_id,
                    signing_key: identity.key.as_bytes().to_vec(),
                    signing_date: identity.date,
                    session_token: identity.session_token,
                    expires_at: c
                        .expires_at
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map(|d| d.as_secs()),
                }))
            }
            Err(e) => Err(types::S3Error::AccessDenied(e.to_string())),
        }
    }
}

/// Whether the host gives out a signing key for `date`: the day of its clock (`now`), or the
/// neighbouring day's around midnight; with a pinned clock (`--at`), the pinned day's as well.
/// Both, because the plugin signs by the pinned clock until a server's `Date` corrects it
/// (`RequestTimeTooSkewed`), which moves it to the real day, possibly across midnight.
fn key_day_is_current(date: &str, now: SystemTime, pinned: Option<SystemTime>) -> bool {
    sigv4::date_is_current(date, now) || pinned.is_some_and(|pinned| sigv4::date_is_current(date, pinned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_given_for_the_real_day_and_the_pinned_one() {
        use std::time::{Duration, UNIX_EPOCH};
        // 2026-12-08T00:07:00Z, and a clock pinned an hour behind (2026-12-07T23:07:00Z).
        let now = UNIX_EPOCH + Duration::from_secs(1_796_688_420);
        let pinned = now - Duration::from_secs(3600);
        assert!(key_day_is_current("20261208", now, Some(pinned)), "the real day, after a skew correction");
        assert!(key_day_is_current("20261207", now, Some(pinned)), "the pinned day");
        assert!(key_day_is_current("20261207", now, None), "yesterday, seven minutes after midnight");
        assert!(!key_day_is_current("20261209", now, Some(pinned)), "tomorrow");
        assert!(!key_day_is_current("20261206", now, Some(pinned)), "the day before the pinned one");
        let noon = now + Duration::from_secs(12 * 3600);
        assert!(!key_day_is_current("20261207", noon, None), "yesterday at noon");
    }
    use crate::credentials::StaticCredentials;

    #[test]
    fn secrets_handed_out_are_scrubbed_from_guest_text() {
        let shared = Shared {
            connection: Connection::aws("us-east-1"),
            policy: Arc::new(Policy::allow_all()),
            credentials: Arc::new(StaticCredentials::new("AKID", Secret::new("s3cr3t"), None)),
            signing_keys: Arc::default(),
            max_presign_seconds: 3600,
            pinned_time: None,
            documents: None,
            audit: None,
            max_attempts: 3,
            requester_pays: false,
            response_checksum_validation: crate::ResponseChecksumValidation::default(),
            limits: Limits::default(),
            retry_budget: Arc::default(),
            trace: None,
        };
        let mut state = StoreState::new(shared);
        assert_eq!(state.scrub("nothing handed out: s3cr3t"), "nothing handed out: s3cr3t");
        state.handed_out.push(Secret::new("s3cr3t"));
        state.handed_out.push(Secret::new("t0ken"));
        assert_eq!(state.scrub("leak s3cr3t and t0ken"), "leak <redacted> and <redacted>");
        // A URL the host presigned keeps its token; the same token elsewhere does not.
        let url = "http://127.0.0.1:9000/b/k?X-Amz-Security-Token=t0ken&X-Amz-Signature=00";
        state.issued_urls.push(url.to_owned());
        assert_eq!(
            state.scrub(&format!(r#"{{"url":"{url}","note":"t0ken"}}"#)),
            format!(r#"{{"url":"{url}","note":"<redacted>"}}"#)
        );
    }
}
