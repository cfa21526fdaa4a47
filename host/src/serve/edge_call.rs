//! Every route but `/actions`: one fresh instance of the edge component per request, given the
//! endpoint, region and this request's signing key (derived for today: never the secret access
//! key) through `wasi:config`. Every request it sends goes through the egress guard; its error
//! answers are scrubbed of the key and the session token. The WASI 0.2 and 0.3 components
//! differ only in how the request goes in and the response comes out ([`run_p2`], [`run_p3`]).

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};
use tokio::sync::oneshot;

use s3_connector_rules::sigv4;
use s3_connector_rules::{ErrorCode, edge_config};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::body_cap::CappedBody;
use super::json_answer;
use crate::connector::Connector;
use crate::credentials::Secret;
use crate::error::Error;
use crate::runtime::edge_runtime::{EdgePre, EdgeRuntime};
use crate::runtime::sandboxed_call::{SandboxedCall, plugin_error};
use crate::runtime::store_state::StoreState;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode as P2ErrorCode;
use wasmtime_wasi_http::p3::bindings::ServicePre;

/// The largest error answer of the component that is read to be scrubbed; the component's
/// errors are one JSON object, so a larger one is replaced whole.
const MAX_ERROR_ANSWER: usize = 64 * 1024;

/// Whether `request` names its host, which the component's `wasi:http` request needs (an
/// HTTP/1.0 request may have neither a `Host` header nor an absolute URI).
pub(super) fn names_host<B>(request: &hyper::Request<B>) -> bool {
    request.uri().authority().is_some() || request.headers().contains_key(http::header::HOST)
}

/// Runs the component on `request`; its answer streams back while the instance runs on in a
/// task of its own, which holds `in_flight` (the server's and the tenant's counts) until it ends.
pub(super) async fn answer(
    runtime: &EdgeRuntime,
    connector: &Connector,
    request: hyper::Request<CappedBody>,
    in_flight: impl Send + 'static,
) -> Result<hyper::Response<HyperOutgoingBody>, Error> {
    let shared = connector.settings().shared.clone();
    let credentials = shared.credentials.credentials().await?;
    let connection = shared.connection.clone();
    let today = sigv4::signing_date(shared.pinned_time.unwrap_or_else(SystemTime::now))
        .map_err(|e| Error::local(e.to_string()))?;
    let identity = shared.signing_keys.identity(&credentials, &today, &connection.region);
    let signing_key = Secret::new(identity.key.to_hex());
    let handed_out: Vec<Secret> =
        std::iter::once(signing_key.clone()).chain(credentials.session_token.clone()).collect();
    let max_attempts = shared.max_attempts;
    let requester_pays = shared.requester_pays;
    // Requests beyond the instance pool wait for a slot here rather than fail.
    let mut call = SandboxedCall::open(&runtime.engine, shared, |store_state| {
        for secret in &handed_out {
            store_state.hand_out(secret);
        }
        store_state
            .config
            .insert(edge_config::ENDPOINT, connection.endpoint.url())
            .insert(edge_config::REGION, connection.region.clone())
            .insert(edge_config::PATH_STYLE, connection.path_style.to_string())
            .insert(edge_config::MAX_ATTEMPTS, max_attempts.to_string())
            .insert(edge_config::REQUEST_PAYER, if requester_pays { "requester" } else { "" }.to_owned())
            .insert(edge_config::ACCESS_KEY_ID, credentials.access_key_id.clone())
            .insert(edge_config::SIGNING_KEY, signing_key.expose().to_owned())
            .insert(edge_config::SIGNING_DATE, today.clone());
        if let Some(token) = &credentials.session_token {
            store_state.config.insert(edge_config::SESSION_TOKEN, token.expose().to_owned());
        }
    })
    .await?;
    let (sender, receiver) = oneshot::channel();
    let timeout = connector.settings().call_timeout;
    let task = match &runtime.pre {
        EdgePre::P2(pre) => {
            let incoming = call
                .store
                .data_mut()
                .http()
                .new_incoming_request(Scheme::Http, request)
                .map_err(plugin_error)?;
            let out = call.store.data_mut().http().new_response_outparam(sender).map_err(plugin_error)?;
            let pre = pre.clone();
            run_in_task(call, timeout, in_flight, move |store| {
                Box::pin(async move {
                    let proxy = pre.instantiate_async(&mut *store).await?;
                    proxy.wasi_http_incoming_handler().call_handle(store, incoming, out).await
                })
            })
        }
        EdgePre::P3(pre) => {
            let pre = pre.clone();
            run_in_task(call, timeout, in_flight, move |store| {
                Box::pin(async move { run_p3(store, &pre, request, sender).await })
            })
        }
    };
    let response = match receiver.await {
        Ok(Ok(response)) => response,
        Ok(Err(code)) => return Err(Error::Plugin(format!("the plugin answered with an error: {code:?}"))),
        Err(_) => {
            return match task.await {
                Ok((Err(error), _)) => Err(error),
                _ => Err(Error::Plugin("the plugin ended without answering".to_owned())),
            };
        }
    };
    if response.status().is_success() || response.status().is_redirection() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let Some(text) = scrubbed_text(response, &handed_out).await else {
        let message = "the plugin's error answer could not be read whole";
        return Ok(json_answer::error_with_status(status, ErrorCode::Other, message));
    };
    // The component knows only that its request was refused; the host knows the rule it
    // lacked, and says so as the CLI and the actions do. The error answer has been read whole,
    // so the instance is ending.
    // Likewise for the network: the component saw a transport error, the host knows which host
    // and why (an untrusted certificate, which timeout).
    let codes: &[ErrorCode] = match status {
        403 => &[ErrorCode::DeniedByHost],
        502 | 504 => &[ErrorCode::Transport, ErrorCode::Timeout],
        _ => return Ok(json_answer::text(status, text)),
    };
    match task.await {
        Ok((_, Some(Reason::Denied(reason)))) if status == 403 => {
            Ok(with_host_reason(status, &text, codes, ErrorCode::DeniedByHost, &reason))
        }
        Ok((_, Some(Reason::Network(reason)))) if status != 403 => {
            Ok(with_host_reason(status, &text, codes, ErrorCode::Transport, &reason))
        }
        _ => Ok(json_answer::text(status, text)),
    }
}

/// What [`run_in_task`] runs on the store: boxed, so that the task can be spawned (`Send`).
type StoreFuture<'a> = Pin<Box<dyn Future<Output = wasmtime::Result<()>> + Send + 'a>>;

/// Runs `run` in a task of its own under `timeout`, which holds `in_flight` until it ends;
/// the task gives the outcome and the host's reason for a failure, if it has one.
fn run_in_task(
    mut call: SandboxedCall,
    timeout: Duration,
    in_flight: impl Send + 'static,
    run: impl for<'a> FnOnce(&'a mut Store<StoreState>) -> StoreFuture<'a> + Send + 'static,
) -> tokio::task::JoinHandle<(Result<(), Error>, Option<Reason>)> {
    tokio::spawn(async move {
        let _in_flight = in_flight;
        let outcome = call.run(timeout, async move |store| run(store).await).await;
        // The host's own reason for a refusal, or for a network failure (an untrusted
        // certificate, a timeout), to replace the component's in its answer.
        let denial = call.denial().map(|denial| call.scrub(&denial.to_string()));
        let network = call.network_failure().map(|failure| failure.to_string());
        (outcome, denial.map(Reason::Denied).or(network.map(Reason::Network)))
    })
}

/// The WASI 0.3 component on `request`: `wasi:http/handler@0.3.0` under wasmtime's concurrent
/// run loop. The guest writes its response body after returning the response, and only while
/// the loop runs, so the loop runs on until hyper has read the body (or dropped it).
async fn run_p3(
    store: &mut Store<StoreState>,
    pre: &ServicePre<StoreState>,
    request: hyper::Request<CappedBody>,
    sender: oneshot::Sender<Result<hyper::Response<HyperOutgoingBody>, P2ErrorCode>>,
) -> wasmtime::Result<()> {
    let service = pre.instantiate_async(&mut *store).await?;
    let (request, request_io) =
        wasmtime_wasi_http::p3::Request::from_http(store.data_mut().http().hooks, request);
    store
        .run_concurrent(async move |accessor| -> wasmtime::Result<()> {
            let response = match service.handle(accessor, request).await? {
                Ok(response) => response,
                Err(code) => {
                    let _ = sender.send(Err(P2ErrorCode::InternalError(Some(format!("{code:?}")))));
                    return Ok(());
                }
            };
            let response = accessor.with(|mut store| response.into_http(&mut store, request_io))?;
            let (read, body_read) = oneshot::channel();
            let _ = sender
                .send(Ok(response.map(|body| WatchedBody { inner: body, read: Some(read) }.boxed_unsync())));
            let _ = body_read.await;
            Ok(())
        })
        .await?
}

/// A response body that says when it has been read to its end (or failed, or been dropped).
struct WatchedBody {
    inner: HyperOutgoingBody,
    read: Option<oneshot::Sender<()>>,
}

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.read.take().map(|read| read.send(()));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What the host knows better than the component about a failed request.
enum Reason {
    /// The policy's denial.
    Denied(String),
    /// The network failure, in the host's words.
    Network(String),
}

/// An error answer whose message is the host's `reason` when its code is one of `codes` (a
/// `fallback` answer when it is not JSON); other fields (the bucket, the key) stay as the
/// component wrote them.
fn with_host_reason(
    status: u16,
    text: &str,
    codes: &[ErrorCode],
    fallback: ErrorCode,
    reason: &str,
) -> hyper::Response<HyperOutgoingBody> {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) else {
        return json_answer::error_with_status(status, fallback, reason);
    };
    if codes.iter().any(|code| value["error"]["code"] == code.as_str()) {
        value["error"]["message"] = serde_json::Value::String(reason.to_owned());
    }
    json_answer::json(status, &value)
}

/// An error answer's text, read whole (it is one JSON object) with every spelling of the
/// handed-out secrets removed: AWS quotes the canonical request (a session token included) in
/// `SignatureDoesNotMatch`, and the component passes S3's message on. `None` when it is larger
/// than [`MAX_ERROR_ANSWER`] or cannot be read.
async fn scrubbed_text(response: hyper::Response<HyperOutgoingBody>, secrets: &[Secret]) -> Option<String> {
    let body = Limited::new(response.into_body(), MAX_ERROR_ANSWER).collect().await.ok()?;
    Some(crate::scrub::secrets(&String::from_utf8_lossy(&body.to_bytes()), secrets))
}
