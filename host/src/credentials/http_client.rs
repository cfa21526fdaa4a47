//! The one small HTTP client the credential providers share: one request, one connection,
//! plain `http` or `https` (rustls with the webpki roots) through the same code path
//! (`wasmtime_wasi_http::default_send_request`), bounded in time and in response size.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};

/// The most a credentials endpoint may answer; real answers are a few KiB.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// A response: status and the whole body.
pub(crate) struct Response {
    /// The HTTP status.
    pub status: http::StatusCode,
    /// The body, at most [`MAX_RESPONSE_BYTES`].
    pub body: Bytes,
}

impl Response {
    /// The body as text for error messages: the first 300 characters, lossy. Only call it for
    /// error answers, which carry no credentials.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(300) {
            Some((cut, _)) => format!("{}...", &text[..cut]),
            None => text.to_owned(),
        }
    }
}

/// The URI without its query, for messages.
pub(crate) fn redacted_uri(uri: &http::Uri) -> String {
    format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or("http"),
        uri.authority().map_or("", |a| a.as_str()),
        uri.path()
    )
}

/// Sends `request` (absolute URI) and reads the whole answer within `timeout`. The `Host` header
/// is set from the URI. Errors name the method and the URI without its query.
pub(crate) async fn send(mut request: http::Request<Bytes>, timeout: Duration) -> Result<Response, String> {
    let target = format!("{} {}", request.method(), redacted_uri(request.uri()));
    let authority = request
        .uri()
        .authority()
        .ok_or_else(|| format!("{target}: the URL has no host"))?
        .as_str()
        .to_owned();
    let host =
        http::HeaderValue::from_str(&authority).map_err(|_| format!("{target}: the host is not valid"))?;
    request.headers_mut().insert(http::header::HOST, host);
    let length = request.body().len();
    request.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(length));
    let request = request.map(|body| Full::new(body).map_err(|never| match never {}));
    let options = wasmtime_wasi_http::RequestOptions {
        connect_timeout: Some(timeout),
        first_byte_timeout: Some(timeout),
        between_bytes_timeout: Some(timeout),
    };
    let exchange = async {
        let (response, connection) = wasmtime_wasi_http::default_send_request(request, Some(options))
            .await
            .map_err(|e| format!("{target}: {e}"))?;
        let status = response.status();
        let read = async {
            Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map(|body| body.to_bytes())
                .map_err(|e| format!("{target}: reading the answer failed: {e}"))
        };
        let (body, _connection) = tokio::join!(read, connection);
        Ok(Response { status, body: body? })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("{target}: no complete answer within {} s", timeout.as_secs_f32()))?
}

/// `application/x-www-form-urlencoded` of `pairs` (the STS Query API's body).
pub(crate) fn form_body(pairs: &[(&str, &str)]) -> String {
    const FORM: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, FORM),
                percent_encoding::utf8_percent_encode(v, FORM)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_are_percent_encoded() {
        assert_eq!(
            form_body(&[
                ("Action", "AssumeRole"),
                ("RoleArn", "arn:aws:iam::1:role/a b"),
                ("Policy", "{\"a\":1}")
            ]),
            "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&Policy=%7B%22a%22%3A1%7D"
        );
    }

    #[test]
    fn uris_lose_their_query_in_messages() {
        let uri: http::Uri = "http://127.0.0.1:9/creds?token=abc".parse().unwrap();
        assert_eq!(redacted_uri(&uri), "http://127.0.0.1:9/creds");
    }
}
