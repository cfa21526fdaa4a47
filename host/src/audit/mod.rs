//! The audit log: one record per decision the host takes on the plugin's behalf (every outgoing
//! request, every presigned URL, every refused credentials scope), written as one JSON line.
//!
//! A record names the tenant, the S3 action and its access class as the host's parser read them
//! from the request, the
//! bucket and key, the decision and its rule or reason, and for sent requests the status, the
//! bytes each way, the duration and S3's request id. It never holds a header, a query string or
//! a secret: only fields the host fills in itself (reasons go through [`crate::secrets::redact`]).

mod in_flight;
mod sinks;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

pub(crate) use in_flight::{CountingBody, Direction, InFlight};
pub use sinks::{FileSink, MemorySink, StderrSink};

use crate::credentials::time::format_rfc3339;

/// The tenant a connector reports when none is named.
pub const DEFAULT_TENANT: &str = "default";

/// What the host decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The policy allowed it (a request was then sent, or a URL handed out).
    Allowed,
    /// The policy refused it; nothing was sent.
    Denied,
}

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An HTTP request the plugin sent through `wasi:http`.
    Request,
    /// A presigned URL the plugin returned.
    Presign,
    /// Credentials the plugin asked for, refused before any request existed.
    Credentials,
    /// A `serve` request refused by its tenant's limits (requests in flight, rate, body size)
    /// before anything ran.
    Limit,
}

/// One audit record. Serialized as one JSON object per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// When the decision was taken, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The connector's tenant ([`crate::ConnectorBuilder::tenant`]).
    pub tenant: String,
    /// A request, a presigned URL, or a credentials scope.
    pub kind: Kind,
    /// The access class (`read`, `write`, `delete`, `list`, `admin`), when known.
    pub access: Option<String>,
    /// The S3 action as the host's address parser read it (`GetObject`), when it could.
    pub action: Option<String>,
    /// The HTTP method.
    pub method: Option<String>,
    /// The bucket, if any.
    pub bucket: Option<String>,
    /// The key, if any; for listings, the prefix listed (when not empty).
    pub key: Option<String>,
    /// For copies: `bucket/key` of the source.
    pub copy_source: Option<String>,
    /// Allowed or denied.
    pub decision: Decision,
    /// The rule that allowed it, in `--allow` syntax.
    pub rule: Option<String>,
    /// Why it was denied, or why a sent request failed without a response.
    pub reason: Option<String>,
    /// The HTTP status of the response, for requests that got one.
    pub status: Option<u16>,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Response body bytes received.
    pub bytes_received: u64,
    /// From the decision to the end of the response body (or of the call).
    pub duration_ms: u64,
    /// S3's `x-amz-request-id`, to quote to the S3 operator.
    pub request_id: Option<String>,
    /// Which try of the request this was (1 the first; 2 and up retries), as the request says
    /// (`amz-sdk-request: attempt=N`).
    pub attempt: Option<u32>,
    /// The id of the connector call the decision belongs to: a JSON action's `auditId`.
    pub call_id: Option<String>,
    /// The id `serve` gave the client's request (its `x-request-id` answer header; the trace id
    /// of an incoming W3C `traceparent`).
    pub serve_request_id: Option<String>,
}

impl AuditRecord {
    /// A record of `kind` taken now, with nothing else filled in yet.
    pub fn new(tenant: &str, kind: Kind, decision: Decision) -> Self {
        Self {
            time: format_time(SystemTime::now()),
            tenant: tenant.to_owned(),
            kind,
            access: None,
            action: None,
            method: None,
            bucket: None,
            key: None,
            copy_source: None,
            decision,
            rule: None,
            reason: None,
            status: None,
            bytes_sent: 0,
            bytes_received: 0,
            duration_ms: 0,
            request_id: None,
            attempt: None,
            call_id: None,
            serve_request_id: None,
        }
    }

    /// The record as one line of JSON, without the newline.
    pub fn to_json_line(&self) -> String {
        // Invariant: every field is a string, a number, an enum of unit variants or an option of
        // those, which serde_json always serializes.
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"error\":\"unserializable record: {e}\"}}"))
    }
}

/// `2026-11-28T22:23:22.123Z`.
pub fn format_time(time: SystemTime) -> String {
    let millis = time.duration_since(UNIX_EPOCH).map(|d| d.subsec_millis()).unwrap_or(0);
    let seconds = format_rfc3339(time);
    match seconds.strip_suffix('Z') {
        Some(whole) => format!("{whole}.{millis:03}Z"),
        None => seconds,
    }
}

/// Where audit records go. Implementations must be quick and must not fail the request: a
/// record is written from the host's I/O path.
pub trait AuditSink: Send + Sync {
    /// Takes one record.
    fn record(&self, record: &AuditRecord);
}

/// Any `Fn(&AuditRecord)` is a sink: an embedder's callback.
impl<F: Fn(&AuditRecord) + Send + Sync> AuditSink for F {
    fn record(&self, record: &AuditRecord) {
        self(record)
    }
}

/// A connector's audit settings: the sink and the tenant its records name.
#[derive(Clone)]
pub struct Audit {
    /// Where records go.
    pub sink: Arc<dyn AuditSink>,
    /// The tenant.
    pub tenant: String,
    /// The call these settings are for, when it has an id (JSON actions).
    pub call_id: Option<String>,
    /// The `serve` request these settings are for, when the call runs for one.
    pub serve_request_id: Option<String>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

impl Audit {
    /// Writes `record`, with its reason redacted of any presigned signature.
    pub fn write(&self, mut record: AuditRecord) {
        record.reason = record.reason.map(|r| crate::secrets::redact::query_values(&r));
        record.call_id = record.call_id.or_else(|| self.call_id.clone());
        record.serve_request_id = record.serve_request_id.or_else(|| self.serve_request_id.clone());
        self.sink.record(&record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_one_json_line_with_every_field() {
        let mut record = AuditRecord::new("team-a", Kind::Request, Decision::Denied);
        record.reason = Some("GET with query \"X-Amz-Signature=SIG\"".into());
        let memory = Arc::new(MemorySink::default());
        let audit =
            Audit { sink: memory.clone(), tenant: "team-a".into(), call_id: None, serve_request_id: None };
        audit.write(record);
        let line = memory.records()[0].to_json_line();
        assert!(!line.contains('\n') && !line.contains("SIG\""), "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        for field in [
            "time",
            "tenant",
            "kind",
            "access",
            "action",
            "method",
            "bucket",
            "key",
            "copy_source",
            "decision",
            "rule",
            "reason",
            "status",
            "bytes_sent",
            "bytes_received",
            "duration_ms",
            "request_id",
            "call_id",
            "serve_request_id",
        ] {
            assert!(value.get(field).is_some(), "{field} missing in {line}");
        }
        assert_eq!(value["decision"], "denied");
        assert_eq!(value["kind"], "request");
        assert_eq!(value["tenant"], "team-a");
    }

    #[test]
    fn times_are_rfc3339_with_milliseconds() {
        let time = UNIX_EPOCH + std::time::Duration::from_millis(1_369_353_600_042);
        assert_eq!(format_time(time), "2013-05-24T00:00:00.042Z");
    }
}
