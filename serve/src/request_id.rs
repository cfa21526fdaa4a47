//! Every `serve` request's id is the id of its trace ([`s3_connector_host::telemetry::trace_context`]): the trace id of
//! an incoming W3C `traceparent` when it carries a valid one, so that the client's trace, the
//! server's logs, the audit records and the requests sent to S3 share one id; otherwise a new
//! trace's 32-hex-digit id. It is answered in `x-request-id`.

/// The answer header that carries the id.
pub const HEADER: &str = "x-request-id";
