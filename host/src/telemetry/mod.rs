//! Traces of `serve`: the W3C trace context every request carries on to S3
//! ([`trace_context`]), the spans of `serve`'s requests and of the S3 requests sent for them
//! ([`span`]), and their export to an OpenTelemetry collector over OTLP/HTTP with JSON
//! ([`otlp_json`], [`otlp_exporter`]), configured by the standard `OTEL_*` variables.
//!
//! Nothing here needs an OpenTelemetry SDK: the spans are plain records, encoded by hand as the
//! OTLP specification's JSON mapping says, and sent by the host's own small HTTP client.

pub mod otlp_exporter;
pub mod otlp_json;
pub mod span;
pub mod trace_context;
