//! [`ConnectorBuilder`]: every setting of a connector, checked once by
//! [`ConnectorBuilder::build`], so that a built [`Connector`] never changes and never holds a
//! setting that a call would trip over later.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::audit::{Audit, AuditSink, DEFAULT_TENANT};
use crate::checksum_validation::ResponseChecksumValidation;
use crate::credentials::CredentialsProvider;
use crate::documents::DocumentStore;
use crate::error::{Error, InvalidSetting};
use crate::policy::Policy;
use crate::runtime::limits::{self, Limits, MAX_INSTANCE_MEMORY};
use crate::runtime::plugin_runtime::PluginRuntime;
use crate::runtime::retry_budget::RetryBudget;
use crate::runtime::store_state::Shared;
use crate::settings::Connection;

use super::{Connector, Settings};

pub use crate::runtime::presigning_import::MAX_PRESIGN_SECONDS;

/// How long a call may take unless [`ConnectorBuilder::call_timeout`] says otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(3600);

/// How many times the plugin tries a request unless [`ConnectorBuilder::max_attempts`] says
/// otherwise: the AWS SDKs' standard retry mode.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// Inline content (`createDocument: false`) of JSON actions up to this many bytes unless
/// [`ConnectorBuilder::max_inline_bytes`] says otherwise.
pub const DEFAULT_MAX_INLINE_BYTES: u64 = 8 * 1024 * 1024;

/// The most attempts a request may be given: beyond this, retries only add load to a server
/// that is failing.
pub const MAX_ATTEMPTS: u32 = 20;

/// The settings of a [`Connector`] before it is built. Every setter takes and returns the
/// builder; nothing is checked until [`ConnectorBuilder::build`], which names the first
/// setting out of its range.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ConnectorBuilder {
    connection: Connection,
    policy: Policy,
    credentials: Arc<dyn CredentialsProvider>,
    audit: Option<Arc<dyn AuditSink>>,
    tenant: String,
    pinned_time: Option<SystemTime>,
    call_timeout: Duration,
    max_attempts: u32,
    requester_pays: bool,
    response_checksum_validation: ResponseChecksumValidation,
    retry_budget: Arc<RetryBudget>,
    limits: Limits,
    max_presign_seconds: u32,
    documents: Option<Arc<dyn DocumentStore>>,
    max_inline_bytes: u64,
    allow_request_credentials: bool,
}

impl ConnectorBuilder {
    /// A builder with every setting at its default.
    pub(crate) fn new(
        connection: Connection,
        policy: Policy,
        credentials: Arc<dyn CredentialsProvider>,
    ) -> Self {
        Self {
            connection,
            policy,
            credentials,
            audit: None,
            tenant: DEFAULT_TENANT.to_owned(),
            pinned_time: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            requester_pays: false,
            response_checksum_validation: ResponseChecksumValidation::default(),
            retry_budget: Arc::new(RetryBudget::default()),
            limits: Limits::default(),
            max_presign_seconds: MAX_PRESIGN_SECONDS,
            documents: None,
            max_inline_bytes: DEFAULT_MAX_INLINE_BYTES,
            allow_request_credentials: false,
        }
    }

    /// A builder holding what `connector` was built with, sharing its retry budget: for a
    /// variant of it (another tenant's name, fewer attempts) without repeating the rest.
    pub fn from_connector(connector: &Connector) -> Self {
        let settings = connector.settings();
        let shared = &settings.shared;
        Self {
            connection: shared.connection.clone(),
            policy: Policy::clone(&shared.policy),
            credentials: shared.credentials.clone(),
            audit: shared.audit.as_ref().map(|audit| audit.sink.clone()),
            tenant: settings.tenant.clone(),
            pinned_time: shared.pinned_time,
            call_timeout: settings.call_timeout,
            max_attempts: shared.max_attempts,
            requester_pays: shared.requester_pays,
            response_checksum_validation: shared.response_checksum_validation,
            retry_budget: shared.retry_budget.clone(),
            limits: shared.limits,
            max_presign_seconds: shared.max_presign_seconds,
            documents: shared.documents.clone(),
            max_inline_bytes: settings.max_inline_bytes,
            allow_request_credentials: settings.allow_request_credentials,
        }
    }

    /// Records every decision of the host (each request the plugin sends, each presigned URL,
    /// each refused credentials scope) to `sink`, as [`crate::audit::AuditRecord`]s. A closure
    /// `Fn(&AuditRecord)` is a sink; so are [`crate::audit::FileSink`],
    /// [`crate::audit::StderrSink`] and [`crate::audit::MemorySink`].
    pub fn audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// Names the tenant this connector's audit records carry (default `default`): at most 128
    /// characters, none of them a control character, so that it cannot forge a log line.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }

    /// Pins the wall clock the plugin sees, so that signatures and presigned URLs are
    /// reproducible (the CLI's `--at`).
    pub fn pinned_time(mut self, time: SystemTime) -> Self {
        self.pinned_time = Some(time);
        self
    }

    /// Bounds every call in wall-clock time (default one hour, for large transfers); a call that
    /// takes longer is stopped with its instance and fails with `timeout`. Must not be zero.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// How many times the plugin tries each request in all (default 3; 1 never retries; at
    /// most `MAX_ATTEMPTS`). Transient failures (429, 500, 502, 503, 504, SlowDown,
    /// InternalError, a reset or timed-out connection, a 200 with an error body) are retried
    /// after a backoff with full jitter (100 ms doubling, at most 20 s); each retry is signed
    /// afresh and checked by the policy again. Single PUTs up to 16 MiB and multipart parts are
    /// resent with the same bytes, and a download cut off mid-body resumes from its last byte;
    /// only a single PUT streamed above 16 MiB is sent once. `RequestTimeTooSkewed` is retried
    /// with the clock corrected from the server's `Date`.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sends `x-amz-request-payer: requester` with every request (`--request-payer
    /// requester`): the caller agrees to pay for requests to requester-pays buckets. JSON
    /// actions can ask for it per call (`"requestPayer": "requester"`).
    pub fn requester_pays(mut self, pays: bool) -> Self {
        self.requester_pays = pays;
        self
    }

    /// Whether downloads verify the full-object checksum a response carries (the SDKs'
    /// `response_checksum_validation`; default
    /// [`ResponseChecksumValidation::WhenSupported`]: verified, and one that cannot be right,
    /// such as 4 bytes under CRC64NVME, fails the download as the server's fault).
    /// [`ResponseChecksumValidation::WhenRequired`] verifies none, for stores that keep wrong
    /// checksums.
    pub fn response_checksum_validation(mut self, validation: ResponseChecksumValidation) -> Self {
        self.response_checksum_validation = validation;
        self
    }

    /// Sizes the retry budget this connector's calls (and `serve`'s requests) share: `tokens`
    /// in all (default `crate::runtime::retry_budget::DEFAULT_RETRY_TOKENS`), a retry costs
    /// `crate::runtime::retry_budget::RETRY_COST`, a success gives some back. When it is
    /// empty a transient failure is not retried and the call fails with [`Error::RetryBudget`].
    pub fn retry_budget(mut self, tokens: u32) -> Self {
        self.retry_budget = Arc::new(RetryBudget::new(tokens));
        self
    }

    /// Bounds the WebAssembly execution time of every call (default
    /// `limits::DEFAULT_CPU_BUDGET`); time the plugin waits for the host's I/O does not count.
    /// A call over budget fails with [`Error::Limit`] naming the budget. Must not be zero.
    pub fn cpu_budget(mut self, budget: Duration) -> Self {
        self.limits.cpu_budget = budget;
        self
    }

    /// Bounds the linear memory of every call's instance (default and maximum
    /// `MAX_INSTANCE_MEMORY`). A call over the limit fails with [`Error::Limit`] naming it.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.limits.memory_bytes = bytes;
        self
    }

    /// Caps what the host holds for one call outside the plugin's memory: header maps and the
    /// buffers of bodies being written (default `limits::DEFAULT_HOST_BUFFER_BYTES`, at
    /// least `limits::MAX_HEADER_MAP_BYTES`). A call over the cap fails with [`Error::Limit`].
    pub fn host_buffer_limit(mut self, bytes: usize) -> Self {
        self.limits.host_buffer_bytes = bytes;
        self
    }

    /// Caps the requests one call may try (default `limits::DEFAULT_MAX_REQUESTS`, at least
    /// 1); past the cap every request is denied with a reason naming it.
    pub fn max_requests_per_call(mut self, requests: u32) -> Self {
        self.limits.max_requests = requests;
        self
    }

    /// Caps the lifetime of presigned URLs (default and maximum S3's 7 days, at least 1 second).
    pub fn presign_cap(mut self, seconds: u32) -> Self {
        self.max_presign_seconds = seconds;
        self
    }

    /// The document store JSON actions read uploads from and write downloads to.
    pub fn documents(mut self, store: Arc<dyn DocumentStore>) -> Self {
        self.documents = Some(store);
        self
    }

    /// Caps the content JSON actions return inline (`createDocument: false`); larger objects
    /// are refused with `content-too-large` and a hint to ask for a document.
    pub fn max_inline_bytes(mut self, bytes: u64) -> Self {
        self.max_inline_bytes = bytes;
        self
    }

    /// Lets JSON actions carry their own keys (Camunda's `authentication.type: credentials`):
    /// they sign that one call instead of the host's credentials, still under the policy and
    /// scoped like any credentials (provider `request`). Off by default: such a request is
    /// refused, naming this setting (see [`crate::request_settings`]).
    pub fn request_credentials(mut self, allow: bool) -> Self {
        self.allow_request_credentials = allow;
        self
    }

    /// Checks every setting and builds the connector, loading the plugin on first use in the
    /// process. Fails with [`Error::InvalidSetting`] naming the first setting out of range, or
    /// when the plugin cannot be loaded.
    pub fn build(self) -> Result<Connector, Error> {
        self.check()?;
        let runtime = PluginRuntime::shared()?;
        let audit = self.audit.map(|sink| Audit {
            sink,
            tenant: self.tenant.clone(),
            call_id: None,
            serve_request_id: None,
        });
        let shared = Shared {
            connection: self.connection,
            policy: Arc::new(self.policy),
            credentials: self.credentials,
            signing_keys: Arc::default(),
            max_presign_seconds: self.max_presign_seconds,
            pinned_time: self.pinned_time,
            audit,
            documents: self.documents,
            max_attempts: self.max_attempts,
            requester_pays: self.requester_pays,
            response_checksum_validation: self.response_checksum_validation,
            limits: self.limits,
            retry_budget: self.retry_budget,
            trace: None,
        };
        let settings = Settings {
            runtime,
            shared,
            call_timeout: self.call_timeout,
            max_inline_bytes: self.max_inline_bytes,
            tenant: self.tenant,
            allow_request_credentials: self.allow_request_credentials,
        };
        Ok(Connector { settings: Arc::new(settings) })
    }

    /// The first setting out of its range, if any.
    fn check(&self) -> Result<(), InvalidSetting> {
        let invalid = |setting: &'static str, rule: &'static str| Err(InvalidSetting { setting, rule });
        if self.tenant.is_empty()
            || self.tenant.chars().count() > 128
            || self.tenant.chars().any(char::is_control)
        {
            return invalid("tenant", "1 to 128 characters, no control characters");
        }
        if self.call_timeout.is_zero() {
            return invalid("call_timeout", "more than zero");
        }
        if !(1..=MAX_ATTEMPTS).contains(&self.max_attempts) {
            return invalid("max_attempts", "from 1 to 20");
        }
        if self.limits.cpu_budget.is_zero() {
            return invalid("cpu_budget", "more than zero");
        }
        if self.limits.memory_bytes == 0 || self.limits.memory_bytes > MAX_INSTANCE_MEMORY {
            return invalid("memory_limit", "more than zero and at most 128 MiB");
        }
        if self.limits.host_buffer_bytes < limits::MAX_HEADER_MAP_BYTES {
            return invalid("host_buffer_limit", "at least 128 KiB, room for the largest header map");
        }
        if self.limits.max_requests == 0 {
            return invalid("max_requests_per_call", "at least 1");
        }
        if !(1..=MAX_PRESIGN_SECONDS).contains(&self.max_presign_seconds) {
            return invalid("presign_cap", "from 1 second to 7 days (604800 seconds)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{Secret, StaticCredentials};

    fn builder() -> ConnectorBuilder {
        let connection =
            Connection::resolve(Some("http://127.0.0.1:9000"), None, true, |_| None).expect("endpoint");
        let credentials = Arc::new(StaticCredentials::new("AKID", Secret::new("SECRET"), None));
        ConnectorBuilder::new(connection, Policy::allow_all(), credentials)
    }

    #[test]
    fn every_setting_out_of_range_is_named() {
        type Change = fn(ConnectorBuilder) -> ConnectorBuilder;
        let cases: &[(Change, &str)] = &[
            (|b| b.tenant(""), "tenant"),
            (|b| b.tenant("a\nforged line"), "tenant"),
            (|b| b.tenant("x".repeat(129)), "tenant"),
            (|b| b.call_timeout(Duration::ZERO), "call_timeout"),
            (|b| b.max_attempts(0), "max_attempts"),
            (|b| b.max_attempts(21), "max_attempts"),
            (|b| b.cpu_budget(Duration::ZERO), "cpu_budget"),
            (|b| b.memory_limit(0), "memory_limit"),
            (|b| b.memory_limit(MAX_INSTANCE_MEMORY + 1), "memory_limit"),
            (|b| b.host_buffer_limit(1024), "host_buffer_limit"),
            (|b| b.max_requests_per_call(0), "max_requests_per_call"),
            (|b| b.presign_cap(0), "presign_cap"),
            (|b| b.presign_cap(MAX_PRESIGN_SECONDS + 1), "presign_cap"),
        ];
        for (change, setting) in cases {
            let refused = change(builder()).check().expect_err(setting);
            assert_eq!(refused.setting, *setting);
            assert!(refused.to_string().contains(setting), "{refused}");
        }
    }

    #[test]
    fn the_defaults_and_the_edges_of_each_range_are_accepted() {
        builder().check().expect("defaults");
        let edges = builder()
            .tenant("t".repeat(128))
            .max_attempts(MAX_ATTEMPTS)
            .max_attempts(1)
            .memory_limit(MAX_INSTANCE_MEMORY)
            .host_buffer_limit(limits::MAX_HEADER_MAP_BYTES)
            .max_requests_per_call(1)
            .presign_cap(MAX_PRESIGN_SECONDS)
            .presign_cap(1);
        edges.check().expect("edges");
    }
}
