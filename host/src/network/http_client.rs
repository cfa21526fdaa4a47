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

/// Why one of the host's own requests failed: the request, as [`redact::uri`] prints it, and
/// what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("{target}: {failure}")]
pub struct RequestFailed {
    /// The method and the URI, without secrets.
    pub target: String,
    /// What went wrong.
    pub failure: RequestFailure,
}

/// What went wrong with one of the host's own requests.
#[derive(Debug, thiserror::Error)]
pub enum RequestFailure {
    /// The URI names no host.
    #[error("the URL has no host")]
    NoHost,
    /// The URI is neither `http` nor `https`.
    #[error("the URL must be http:// or https://")]
    Scheme,
    /// The host cannot be a `Host` header.
    #[error("the host is not valid")]
    InvalidHost,
    /// The host cannot be a TLS server name.
    #[error("the host is not a valid TLS name")]
    InvalidTlsName,
    /// The connection, the proxy or TLS failed, in the words the S3 path uses.
    #[error("{0}")]
    Network(NetworkFailure),
    /// The HTTP exchange failed.
    #[error("{0}")]
    Http(#[from] hyper::Error),
    /// The answer could not be read whole (or was over the limit).
    #[error("reading the answer failed: {0}")]
    Read(Box<dyn std::error::Error + Send + Sync>),
    /// No complete answer within the time limit.
    #[error("no complete answer within {} s", .0.as_secs_f32())]
    Timeout(Duration),
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
) -> Result<Response, RequestFailed> {
    let target = format!("{} {}", request.method(), redact::uri(request.uri()));
    let fail = |failure| RequestFailed { target: target.clone(), failure };
    let uri = without_userinfo(request.uri());
    *request.uri_mut() = uri.clone();
    let authority = uri.authority().ok_or_else(|| fail(RequestFailure::NoHost))?.clone();
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(fail(RequestFailure::Scheme)),
    };
    let host =
        http::HeaderValue::from_str(authority.as_str()).map_err(|_| fail(RequestFailure::InvalidHost))?;
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
            fail(RequestFailure::Network(failure))
        })?;
        let stream = match (proxy, tls) {
            (Some(proxy), true) => super::proxy::tunnel(stream, &address, proxy)
                .await
                .map_err(|failure| fail(RequestFailure::Network(failure)))?,
            _ => stream,
        };
        let response = if tls {
            let name = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
            let name = rustls::pki_types::ServerName::try_from(name)
                .map_err(|_| fail(RequestFailure::InvalidTlsName))?;
            let stream = tokio_rustls::TlsConnector::from(trust.client_config())
                .connect(name, stream)
                .await
                .map_err(|e| fail(RequestFailure::Network(NetworkFailure::from_tls(&address, &e))))?;
            exchange_on(TokioIo::new(stream), request).await.map_err(|e| fail(e.into()))?
        } else {
            exchange_on(TokioIo::new(stream), request).await.map_err(|e| fail(e.into()))?
        };
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|e| fail(RequestFailure::Read(e)))?;
        Ok(Response { status, body })
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| fail(RequestFailure::Timeout(timeout)))?
}

/// One HTTP/1.1 exchange on an open connection; the connection's driver runs beside it.
async fn exchange_on<S>(
    io: TokioIo<S>,
    request: http::Request<Full<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, hyper::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(connection);
    sender.send_request(request).await
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
