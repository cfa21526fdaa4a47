//! W3C Trace Context: the one parser of the `traceparent` header `serve` receives, and the
//! header the host puts on every request the plugin sends for it. A caller's trace thus goes on
//! through `serve` to S3 and to whatever records traces on the way (a proxy, a gateway, an
//! S3-compatible store), and `serve`'s request id is that trace's id.
//!
//! The header is the host's, set in the egress guard after the guest signed the request: the
//! guest never sees or signs it (SigV4 lets a request carry headers it did not sign), and a
//! `traceparent` the guest set itself is replaced, so a plugin cannot forge another trace.

use std::time::SystemTime;

use rand::RngCore;

use super::span::{PendingSpan, Span, SpanKind, SpanSink};

/// The header's name.
pub const HEADER: &str = "traceparent";

/// The trace a call belongs to, and the span of the hop that made the call (`serve`'s request).
#[derive(Debug, Clone)]
pub struct TraceContext {
    /// 32 lower-case hex digits, never all zeros.
    trace_id: String,
    /// This hop's span: 16 lower-case hex digits, never all zeros.
    span_id: String,
    /// The trace flags (W3C: `01` is "sampled"), as the caller sent them; for a new trace,
    /// `01` when spans are exported and `00` when not.
    flags: String,
    /// The caller's span, when the caller sent a valid `traceparent`.
    caller_span_id: Option<String>,
    /// Where this hop's spans go: set when spans are exported and the trace is sampled (the
    /// caller's flag decides, as OpenTelemetry's default parent-based sampler does).
    recorder: Option<SpanSink>,
}

impl TraceContext {
    /// The trace of a request with `headers`: the caller's, if it sent a valid `traceparent`,
    /// otherwise a new one. Either way this hop gets a span of its own, recorded into
    /// `recorder` (when given) if the trace is sampled.
    pub fn of_headers(headers: &http::HeaderMap, recorder: Option<&SpanSink>) -> Self {
        let caller = headers.get(HEADER).and_then(|value| value.to_str().ok()).and_then(parse);
        match caller {
            Some(Parent { trace_id, span_id, flags }) => {
                let sampled = u8::from_str_radix(&flags, 16).is_ok_and(|bits| bits & 1 == 1);
                let recorder = recorder.filter(|_| sampled).cloned();
                Self { trace_id, span_id: random_hex::<8>(), flags, caller_span_id: Some(span_id), recorder }
            }
            None => Self::new_trace(recorder),
        }
    }

    /// A new trace, started by this hop; sampled when there is a `recorder`.
    pub fn new_trace(recorder: Option<&SpanSink>) -> Self {
        let flags = if recorder.is_some() { "01" } else { "00" };
        Self {
            trace_id: random_hex::<16>(),
            span_id: random_hex::<8>(),
            flags: flags.to_owned(),
            caller_span_id: None,
            recorder: recorder.cloned(),
        }
    }

    /// The trace's id (32 hex digits).
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// This hop's span id (16 hex digits).
    pub fn span_id(&self) -> &str {
        &self.span_id
    }

    /// The caller's span id, when the trace came from the caller.
    pub fn caller_span_id(&self) -> Option<&str> {
        self.caller_span_id.as_deref()
    }

    /// Whether this hop's spans are recorded.
    pub fn is_recorded(&self) -> bool {
        self.recorder.is_some()
    }

    /// The `traceparent` of one request this hop sends, always version `00` (the only one this
    /// host writes), with the trace's flags; and, when spans are recorded, the client span
    /// started for the request, which is the parent the header names. When they are not, the
    /// parent is the caller's span (or this hop's, for a new trace), as with OpenTelemetry's
    /// non-recording spans: the next hop never names a span nobody recorded.
    pub fn outgoing(&self) -> (http::HeaderValue, Option<PendingSpan>) {
        let pending = self.recorder.as_ref().map(|sink| {
            let parent = Some(self.span_id.clone());
            let span = Span::new(
                &self.trace_id,
                random_hex::<8>(),
                parent,
                "S3".to_owned(),
                SpanKind::Client,
                SystemTime::now(),
            );
            PendingSpan::new(span, sink.clone())
        });
        let parent = match (&pending, &self.caller_span_id) {
            (Some(pending), _) => pending.span_id(),
            (None, Some(caller)) => caller,
            (None, None) => &self.span_id,
        };
        let value = format!("00-{}-{}-{}", self.trace_id, parent, self.flags);
        let header =
            http::HeaderValue::from_str(&value).expect("validated hex digits and dashes are header text");
        (header, pending)
    }

    /// Records this hop's own span, the server span of the request it answered, when spans are
    /// recorded: `name`, from `start` to now, with `attributes`, failed with `error` if given.
    pub fn record_server_span(
        &self,
        name: String,
        start: SystemTime,
        attributes: impl FnOnce(Span) -> Span,
        error: Option<String>,
    ) {
        let Some(sink) = &self.recorder else { return };
        let parent = self.caller_span_id.clone();
        let mut span = attributes(Span::new(
            &self.trace_id,
            self.span_id.clone(),
            parent,
            name,
            SpanKind::Server,
            start,
        ));
        span.end = SystemTime::now();
        span.error = error;
        sink.record(span);
    }
}

/// What a valid `traceparent` says.
struct Parent {
    trace_id: String,
    span_id: String,
    flags: String,
}

/// A `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`), if it is valid: a version other than
/// `ff`, lower-case hex, and ids that are not all zeros (W3C Trace Context, level 1). A later
/// version may append fields; version `00` may not.
fn parse(value: &str) -> Option<Parent> {
    let mut parts = value.trim().split('-');
    let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |text: &str, len: usize| {
        text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && (version != "00" || parts.next().is_none())
        && hex(trace, 32)
        && hex(span, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && span.bytes().any(|b| b != b'0');
    valid.then(|| Parent { trace_id: trace.to_owned(), span_id: span.to_owned(), flags: flags.to_owned() })
}

/// `N` random bytes as lower-case hex; never all zeros (a zero id is invalid in W3C).
fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    while bytes.iter().all(|b| *b == 0) {
        rand::rng().fill_bytes(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(traceparent: &str) -> TraceContext {
        let mut headers = http::HeaderMap::new();
        headers.insert(HEADER, http::HeaderValue::from_str(traceparent).unwrap());
        TraceContext::of_headers(&headers, None)
    }

    fn is_hex(text: &str, len: usize) -> bool {
        text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    #[test]
    fn a_valid_traceparent_is_continued_and_anything_else_starts_a_trace() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let table: &[(&str, bool)] = &[
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true),
            ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", true),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", false),
            ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false),
            ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false),
            ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", false),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false),
            ("00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01", false),
            ("garbage", false),
        ];
        for (header, honoured) in table {
            let context = of(header);
            assert_eq!(context.trace_id() == trace, *honoured, "{header}: {context:?}");
            assert_eq!(context.caller_span_id() == Some("00f067aa0ba902b7"), *honoured, "{header}");
            assert!(is_hex(context.trace_id(), 32) && is_hex(context.span_id(), 16), "{context:?}");
            assert_ne!(context.caller_span_id(), Some(context.span_id()), "this hop has a span of its own");
        }
        let plain = TraceContext::of_headers(&http::HeaderMap::new(), None);
        assert_ne!(plain.trace_id(), TraceContext::new_trace(None).trace_id(), "new traces differ");
    }

    fn header(context: &TraceContext) -> String {
        context.outgoing().0.to_str().unwrap().to_owned()
    }

    #[test]
    fn without_recording_the_outgoing_parent_is_the_callers_span() {
        let context = of("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra");
        assert!(context.outgoing().1.is_none());
        assert_eq!(header(&context), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let fresh = TraceContext::new_trace(None);
        assert_eq!(header(&fresh), format!("00-{}-{}-00", fresh.trace_id(), fresh.span_id()));
    }

    #[test]
    fn recorded_traces_send_a_client_span_of_this_hops_span_and_record_both() {
        let (sink, mut spans) = SpanSink::channel();
        let mut headers = http::HeaderMap::new();
        headers.insert(
            HEADER,
            http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let context = TraceContext::of_headers(&headers, Some(&sink));
        assert!(context.is_recorded());
        let (sent, pending) = context.outgoing();
        let pending = pending.expect("a client span");
        assert_eq!(
            sent.to_str().unwrap(),
            format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", pending.span_id())
        );
        pending.named("S3.GetObject").end(Ok(200));
        context.record_server_span("GET objects".into(), SystemTime::now(), |span| span.int("x", 1), None);
        let client = spans.try_recv().unwrap();
        let server = spans.try_recv().unwrap();
        assert_eq!((client.kind, client.name.as_str()), (SpanKind::Client, "S3.GetObject"));
        assert_eq!(client.parent_span_id.as_deref(), Some(context.span_id()));
        assert_eq!((server.kind, server.span_id.as_str()), (SpanKind::Server, context.span_id()));
        assert_eq!(server.parent_span_id.as_deref(), Some("00f067aa0ba902b7"));

        // A caller that did not sample: nothing recorded, its flags go on.
        headers.insert(
            HEADER,
            http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
        );
        let unsampled = TraceContext::of_headers(&headers, Some(&sink));
        assert!(!unsampled.is_recorded() && unsampled.outgoing().1.is_none());
        // A new trace with a recorder is sampled.
        let fresh = TraceContext::of_headers(&http::HeaderMap::new(), Some(&sink));
        assert!(fresh.is_recorded() && header(&fresh).ends_with("-01"));
    }
}
