//! Every `serve` request's id: the trace id of an incoming W3C `traceparent` when it carries a
//! valid one, so that the client's trace, the server's logs and the audit records share one
//! id; otherwise 16 random bytes in the same 32-hex-digit form. Answered in `x-request-id`.

use rand::RngCore;

/// The answer header that carries the id.
pub const HEADER: &str = "x-request-id";

/// The id of `request`.
pub fn of<B>(request: &hyper::Request<B>) -> String {
    request
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(trace_id)
        .unwrap_or_else(fresh)
}

/// The trace id of a `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`), if it is valid: a
/// version other than `ff`, lower-case hex, and ids that are not all zeros (W3C Trace Context).
fn trace_id(value: &str) -> Option<String> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |text: &str, len: usize| {
        text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = hex(version, 2)
        && version != "ff"
        // Version 00 has exactly four fields; later versions may append more.
        && (version != "00" || parts.next().is_none())
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then(|| trace.to_owned())
}

/// A new id.
fn fresh() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_gives_its_trace_id_and_anything_else_a_fresh_id() {
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
            let request = hyper::Request::builder().header("traceparent", *header).body(()).unwrap();
            let id = of(&request);
            assert_eq!(id == trace, *honoured, "{header}: {id}");
            assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
        let plain = hyper::Request::new(());
        assert_ne!(of(&plain), of(&plain), "fresh ids differ");
    }
}
