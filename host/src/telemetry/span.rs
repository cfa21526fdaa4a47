//! One finished span as a plain record, and the sink spans are recorded into: a bounded queue
//! that never blocks a request (a full queue drops the span and counts it), drained by the
//! exporter (`s3_connector_serve::otlp_exporter`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use tokio::sync::mpsc;

/// What a span stands for, as OTLP numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// A request `serve` answered.
    Server = 2,
    /// A request the host sent to S3 for it.
    Client = 3,
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// A span, once it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// The parent's span id, when the span has one.
    pub parent_span_id: Option<String>,
    /// What it did (`GET objects`, `S3.GetObject`).
    pub name: String,
    /// Server or client.
    pub kind: SpanKind,
    /// When it started.
    pub start: SystemTime,
    /// When it ended.
    pub end: SystemTime,
    /// Its attributes, by OpenTelemetry's semantic conventions where they have a name.
    pub attributes: Vec<(&'static str, AttributeValue)>,
    /// Why it failed, when it did (OTLP status `ERROR` with this message).
    pub error: Option<String>,
}

impl Span {
    /// A span of `trace_id` that starts at `start`, with no attributes yet; its end is set when
    /// it is recorded.
    pub fn new(
        trace_id: &str,
        span_id: String,
        parent_span_id: Option<String>,
        name: String,
        kind: SpanKind,
        start: SystemTime,
    ) -> Self {
        Self {
            trace_id: trace_id.to_owned(),
            span_id,
            parent_span_id,
            name,
            kind,
            start,
            end: start,
            attributes: Vec::new(),
            error: None,
        }
    }

    /// Adds a text attribute.
    pub fn text(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push((key, AttributeValue::Text(value.into())));
        self
    }

    /// Adds an integer attribute.
    pub fn int(mut self, key: &'static str, value: i64) -> Self {
        self.attributes.push((key, AttributeValue::Int(value)));
        self
    }
}

/// How many spans may wait for the exporter; past that, new spans are dropped (and counted)
/// rather than slow a request or grow without bound when the collector is down.
pub const QUEUE_SPANS: usize = 8192;

/// Where finished spans go: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct SpanSink {
    sender: mpsc::Sender<Span>,
    dropped: Arc<AtomicU64>,
}

impl SpanSink {
    /// A sink and the receiving end its exporter drains.
    pub fn channel() -> (Self, mpsc::Receiver<Span>) {
        let (sender, receiver) = mpsc::channel(QUEUE_SPANS);
        (Self { sender, dropped: Arc::default() }, receiver)
    }

    /// Queues `span` for export, or drops it when the queue is full or the exporter stopped.
    pub fn record(&self, span: Span) {
        if self.sender.try_send(span).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Spans dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// A client span started for one request sent to S3, recorded when it ends.
#[derive(Debug)]
pub struct PendingSpan {
    span: Span,
    sink: SpanSink,
}

impl PendingSpan {
    /// A span that starts now, to be recorded into `sink`.
    pub(crate) fn new(span: Span, sink: SpanSink) -> Self {
        Self { span, sink }
    }

    /// Its span id.
    pub fn span_id(&self) -> &str {
        &self.span.span_id
    }

    /// Adds a text attribute.
    pub fn text(self, key: &'static str, value: impl Into<String>) -> Self {
        Self { span: self.span.text(key, value), ..self }
    }

    /// Renames it.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.span.name = name.into();
        self
    }

    /// Ends it with the answer's status (a 5xx is an error) or with the failure that left no
    /// answer, and records it.
    pub fn end(self, outcome: Result<u16, String>) {
        let mut span = self.span;
        span.end = SystemTime::now();
        match outcome {
            Ok(status) => {
                span = span.int("http.response.status_code", i64::from(status));
                if status >= 500 {
                    span.error = Some(format!("S3 answered {status}"));
                }
            }
            Err(reason) => span.error = Some(reason),
        }
        self.sink.record(span);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(name: &str) -> Span {
        Span {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            span_id: "00f067aa0ba902b7".into(),
            parent_span_id: None,
            name: name.into(),
            kind: SpanKind::Client,
            start: SystemTime::UNIX_EPOCH,
            end: SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn a_pending_span_ends_with_the_status_and_a_5xx_is_an_error() {
        let (sink, mut receiver) = SpanSink::channel();
        PendingSpan::new(span("a"), sink.clone()).named("S3.GetObject").end(Ok(200));
        PendingSpan::new(span("b"), sink.clone()).end(Ok(503));
        PendingSpan::new(span("c"), sink).end(Err("connection refused".into()));
        let ok = receiver.try_recv().unwrap();
        assert_eq!(ok.name, "S3.GetObject");
        assert_eq!(ok.attributes, vec![("http.response.status_code", AttributeValue::Int(200))]);
        assert!(ok.error.is_none() && ok.end > ok.start);
        assert_eq!(receiver.try_recv().unwrap().error.as_deref(), Some("S3 answered 503"));
        let failed = receiver.try_recv().unwrap();
        assert_eq!((failed.error.as_deref(), failed.attributes.len()), (Some("connection refused"), 0));
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let (sink, receiver) = SpanSink::channel();
        for _ in 0..QUEUE_SPANS + 3 {
            sink.record(span("x"));
        }
        assert_eq!(sink.dropped(), 3);
        drop(receiver);
        sink.record(span("after the exporter stopped"));
        assert_eq!(sink.dropped(), 4);
    }
}
