//! Traces of `serve`: the W3C trace context every request carries on to S3
//! ([`trace_context`]), the spans of `serve`'s requests and of the S3 requests sent for them
//! ([`span`]). The server exports them to an OpenTelemetry collector (`s3_connector_serve`'s
//! OTLP exporter); here they are plain records behind the [`span::SpanSink`] trait.
//!
//! Nothing here needs an OpenTelemetry SDK: the spans are plain records, encoded by hand as the
//! OTLP specification's JSON mapping says, and sent by the host's own small HTTP client.

pub mod span;
pub mod trace_context;
