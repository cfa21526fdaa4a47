//! The one small HTTP client of the host's own requests (the credential providers', the span
//! export's): one request, one connection, plain `http` or `https` with the same [`Trust`] as
//! the S3 connections (the system's trust
//! store, the webpki roots, a private CA bundle), bounded in time and in response size. A TLS
//! failure reads as the S3 path's does: the host, and `--ca-bundle` to try.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;

use super::{NetworkFailure, ProxySettings, Trust};
use crate::secrets::redact;

/// The most a credentials endpoint may answer; real answers are a few KiB.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// A response: status and the whole body.
pub struct Response {
    /// The HTTP status.
    pub status: http::StatusCode,
    /// The body, at most `MAX_RESPONSE_BYTES`. Read by the credentials providers only: the
    /// OTLP exporter, the one other caller, logs a refusal by its status alone.
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

/// `uri` without userinfo: a password belongs in a header (`Authorization`), never in the
/// `Host` header or the request line, where a server or proxy logs it.
fn without_userinfo(uri: &http::Uri) -> http::Uri {
    let Some(authority) = uri.authority().filter(|a| a.as_str().contains('@')) else {
        return uri.clone();
    };
    let host_port = authority.as_str().rsplit_once('@').map_or(authority.as_str(), |(_, host)| host);
    let mut parts = uri.clone().into_parts();
    parts.authority = host_port.parse().ok();
    http::Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// Sends `request` (absolute URI) and reads the whole answer within `timeout`, verifying an
/// `https` server with `trust`, through the proxy `proxies` choose for it (`CONNECT` for
/// `https`, the absolute form for `http`). The `Host` header is set from the URI's host and
/// port; a userinfo in the URI is never sent (a caller that means it sends it as a header of
/// its own). Errors name the method and the URI as [`redact::uri`] prints it.
pub async fn send(
    mut request: http::Request<Bytes>,
    timeout: Duration,
    trust: &Trust,
    proxies: &ProxySettings,
) -> Result<Response, String> {
    let target = format!("{} {}", request.method(), redact::uri(request.uri()));
    let uri = without_userinfo(request.uri());
    *request.uri_mut() = uri.clone();
    let authority = uri.authority().ok_or_else(|| format!("{target}: the URL has no host"))?.clone();
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("{target}: the URL must be http:// or https://")),
    };
    let host = http::HeaderValue::from_str(authority.as_str())
        .map_err(|_| format!("{target}: the host is not valid"))?;
    request.headers_mut().insert(http::header::HOST, host);
    let length = request.body().len();
    request.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(length));
    let host_name = authority.host().trim_start_matches('[').trim_end_matches(']');
    let proxy = proxies.for_target(tls, host_name);
    match (proxy, tls) {
        // Plain HTTP through a proxy: the request line keeps the absolute URI.
        (Some(proxy), false) => {
            if let Some(value) = proxy.authorization() {
                request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, value);
            }
        }
        // On the wire, the request line carries only the path and query.
        _ => {
            *request.uri_mut() = uri
                .path_and_query()
                .and_then(|p| http::Uri::try_from(p.as_str()).ok())
                .unwrap_or_else(|| http::Uri::from_static("/"));
        }
    }
    let request = request.map(Full::new);
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let address = format!("{}:{port}", authority.host());
    let exchange = async {
        let dial = proxy.map_or(address.as_str(), |proxy| proxy.authority.as_str());
        let stream = tokio::net::TcpStream::connect(dial).await.map_err(|e| {
            let failure = match proxy {
                Some(proxy) => NetworkFailure::ProxyConnect {
                    proxy: proxy.display(),
                    detail: NetworkFailure::from_connect(dial, &e).to_string(),
                },
                None => NetworkFailure::from_connect(&address, &e),
            };
            format!("{target}: {failure}")
        })?;
        let stream = match (proxy, tls) {
            (Some(proxy), true) => super::proxy::tunnel(stream, &address, proxy)
                .await
                .map_err(|failure| format!("{target}: {failure}"))?,
            _ => stream,
        };
        let response = if tls {
            let name = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
            let name = rustls::pki_types::ServerName::try_from(name)
                .map_err(|_| format!("{target}: the host is not a valid TLS name"))?;
            let stream = tokio_rustls::TlsConnector::from(trust.client_config())
                .connect(name, stream)
                .await
                .map_err(|e| format!("{target}: {}", NetworkFailure::from_tls(&address, &e)))?;
            exchange_on(TokioIo::new(stream), request, &target).await?
        } else {
            exchange_on(TokioIo::new(stream), request, &target).await?
        };
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|e| format!("{target}: reading the answer failed: {e}"))?;
        Ok(Response { status, body })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("{target}: no complete answer within {} s", timeout.as_secs_f32()))?
}

/// One HTTP/1.1 exchange on an open connection; the connection's driver runs beside it.
async fn exchange_on<S>(
    io: TokioIo<S>,
    request: http::Request<Full<Bytes>>,
    target: &str,
) -> Result<http::Response<hyper::body::Incoming>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(io).await.map_err(|e| format!("{target}: {e}"))?;
    tokio::spawn(connection);
    sender.send_request(request).await.map_err(|e| format!("{target}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_never_reaches_the_host_or_the_request_line() {
        let uri: http::Uri = "http://u:SENTINEL@127.0.0.1:9/creds?token=abc".parse().unwrap();
        assert_eq!(without_userinfo(&uri), "http://127.0.0.1:9/creds?token=abc");
        let plain: http::Uri = "https://h:1/x".parse().unwrap();
        assert_eq!(without_userinfo(&plain), plain);
    }
}
