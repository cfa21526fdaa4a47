//! Spans as an OTLP `ExportTraceServiceRequest` in the OTLP/HTTP JSON encoding: the protobuf
//! messages' JSON mapping with the OTLP specification's exceptions (trace and span ids as hex,
//! not base64; enums as integers; 64-bit integers as decimal strings). Pure: spans in, text out.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use s3_connector_host::telemetry::span::{AttributeValue, Span};

/// OTLP's status codes.
const STATUS_ERROR: u8 = 2;

/// The request body that exports `spans` of the service `service_name`.
pub fn encode(service_name: &str, spans: &[Span]) -> String {
    let spans: Vec<Value> = spans.iter().map(span).collect();
    json!({
        "resourceSpans": [{
            "resource": { "attributes": [attribute("service.name", &AttributeValue::Text(service_name.to_owned()))] },
            "scopeSpans": [{
                "scope": { "name": "s3-connector", "version": env!("CARGO_PKG_VERSION") },
                "spans": spans,
            }],
        }],
    })
    .to_string()
}

fn span(span: &Span) -> Value {
    let mut value = json!({
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": span.kind as u8,
        "startTimeUnixNano": nanos(span.start),
        "endTimeUnixNano": nanos(span.end),
        "attributes": span.attributes.iter().map(|(key, value)| attribute(key, value)).collect::<Vec<_>>(),
    });
    if let Some(parent) = &span.parent_span_id {
        value["parentSpanId"] = json!(parent);
    }
    if let Some(message) = &span.error {
        value["status"] = json!({ "code": STATUS_ERROR, "message": message });
    }
    value
}

fn attribute(key: &str, value: &AttributeValue) -> Value {
    let value = match value {
        AttributeValue::Text(text) => json!({ "stringValue": text }),
        AttributeValue::Int(int) => json!({ "intValue": int.to_string() }),
    };
    json!({ "key": key, "value": value })
}

/// Nanoseconds since the Unix epoch, as a decimal string (a 64-bit integer in JSON).
fn nanos(time: SystemTime) -> String {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use s3_connector_host::telemetry::span::SpanKind;

    #[test]
    fn spans_encode_as_the_otlp_json_mapping_says() {
        let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let server = Span {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            span_id: "00f067aa0ba902b7".into(),
            parent_span_id: Some("b7ad6b7169203331".into()),
            name: "GET objects".into(),
            kind: SpanKind::Server,
            start,
            end: start + Duration::from_micros(450),
            attributes: Vec::new(),
            error: None,
        }
        .text("http.request.method", "GET")
        .int("http.response.status_code", 200);
        let client = Span {
            span_id: "53995c3f42cd8ad8".into(),
            parent_span_id: None,
            name: "S3.GetObject".into(),
            kind: SpanKind::Client,
            error: Some("S3 answered 503".into()),
            attributes: Vec::new(),
            ..server.clone()
        };
        let body: Value = serde_json::from_str(&encode("edge-gateway", &[server, client])).unwrap();
        let resource = &body["resourceSpans"][0];
        assert_eq!(
            resource["resource"]["attributes"][0],
            json!({"key": "service.name", "value": {"stringValue": "edge-gateway"}})
        );
        let spans = &resource["scopeSpans"][0]["spans"];
        assert_eq!(
            spans[0],
            json!({
                "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
                "spanId": "00f067aa0ba902b7",
                "parentSpanId": "b7ad6b7169203331",
                "name": "GET objects",
                "kind": 2,
                "startTimeUnixNano": "1700000000123456789",
                "endTimeUnixNano": "1700000000123906789",
                "attributes": [
                    {"key": "http.request.method", "value": {"stringValue": "GET"}},
                    {"key": "http.response.status_code", "value": {"intValue": "200"}},
                ],
            })
        );
        assert_eq!(spans[1]["kind"], 3);
        assert_eq!(spans[1]["status"], json!({"code": 2, "message": "S3 answered 503"}));
        assert!(spans[1].get("parentSpanId").is_none(), "a root span has no parent field");
    }
}
