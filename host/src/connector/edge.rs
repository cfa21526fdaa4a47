//! One HTTP request answered by the edge component: a fresh instance of it, given the endpoint,
//! region and this request's signing key (derived for today: never the secret access key)
//! through `wasi:config`. Every request it sends goes through the egress guard, as a plugin
//! call's do. A server puts its own answers around it (`s3_connector_serve` rewrites the
//! component's refusals with the host's reason). The WASI 0.2 and 0.3 components differ only in
//! how the request goes in and the response comes out (`call_handle` and [`run_p3`]).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use s3_connector_rules::{edge_config, sigv4};
use tokio::sync::oneshot;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use super::Connector;
use crate::credentials::Secret;
use crate::error::Error;
use crate::runtime::edge_runtime::{EdgePre, EdgeRuntime};
use crate::runtime::sandboxed_call::{SandboxedCall, plugin_error};
use crate::runtime::store_state::StoreState;

/// What the host knows better than the component about a failed request: the component knows
/// only that its request was refused or failed, the host knows the rule it lacked, or which
/// host failed and why (an untrusted certificate, which timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostReason {
    /// The policy's denial, scrubbed of the secrets handed out.
    Denied(String),
    /// The network failure, in the host's words.
    Network(String),
}

/// The rest of an edge call once its answer has begun: the instance runs on (streaming the
/// body) in a task of its own.
#[derive(Debug)]
pub struct EdgeCall {
    /// Every secret this instance was given (its signing key, a session token): what must not
    /// appear in anything read from its answers.
    pub handed_out: Vec<Secret>,
    finished: tokio::task::JoinHandle<Finished>,
}

impl EdgeCall {
    /// Waits for the instance to end (its answer read whole), and says why its request failed
    /// when the host knows better than the component.
    pub async fn host_reason(self) -> Option<HostReason> {
        self.finished.await.ok().and_then(|(_, reason)| reason)
    }
}

/// The `wasi:config` values that carry an edge component's credentials for one day: the
/// signing key derived for that day and region, never the secret access key.
pub struct EdgeCredentials {
    /// The access key id (not secret: it names the key in every signature).
    pub access_key_id: String,
    /// The SigV4 signing key of the day, as hex.
    pub signing_key: Secret,
    /// The day it signs for, `YYYYMMDD`.
    pub signing_date: String,
    /// The region it signs for.
    pub region: String,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
}

impl std::fmt::Debug for EdgeCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("signing_key", &self.signing_key)
            .field("signing_date", &self.signing_date)
            .field("region", &self.region)
            .field("session_token", &self.session_token)
            .finish()
    }
}

impl EdgeCredentials {
    /// The values by their `wasi:config` names ([`edge_config`]), the secrets exposed: for a
    /// component's configuration only.
    pub fn config_values(&self) -> Vec<(&'static str, String)> {
        let mut values = vec![
            (edge_config::ACCESS_KEY_ID, self.access_key_id.clone()),
            (edge_config::SIGNING_KEY, self.signing_key.expose().to_owned()),
            (edge_config::SIGNING_DATE, self.signing_date.clone()),
            (edge_config::REGION, self.region.clone()),
        ];
        if let Some(token) = &self.session_token {
            values.push((edge_config::SESSION_TOKEN, token.expose().to_owned()));
        }
        values
    }

    /// The secrets among them, which nothing read from the component's answers may show.
    pub fn secrets(&self) -> Vec<Secret> {
        std::iter::once(self.signing_key.clone()).chain(self.session_token.clone()).collect()
    }
}

impl Connector {
    /// The edge component's credentials for the day of `at`, from this connector's provider
    /// (the derived key is cached per credentials, day and region).
    pub async fn edge_credentials(&self, at: SystemTime) -> Result<EdgeCredentials, Error> {
        let shared = &self.settings.shared;
        let credentials = shared.credentials.credentials().await?;
        let date = sigv4::signing_date(at).map_err(|e| Error::local(e.to_string()))?;
        let region = shared.connection.region.clone();
        let identity = shared.signing_keys.identity(&credentials, &date, &region);
        Ok(EdgeCredentials {
            access_key_id: identity.access_key_id.clone(),
            signing_key: Secret::new(identity.key.to_hex()),
            signing_date: identity.date.clone(),
            region,
            session_token: credentials.session_token.clone(),
        })
    }

    /// Answers `request` with a fresh instance of the edge component of `runtime`, under this
    /// connector's credentials, policy and limits; `in_flight` is held until the instance ends
    /// (a server's counts of requests in flight).
    pub async fn answer_with_edge<B>(
        &self,
        runtime: &EdgeRuntime,
        request: hyper::Request<B>,
        in_flight: impl Send + 'static,
    ) -> Result<(hyper::Response<HyperOutgoingBody>, EdgeCall), Error>
    where
        B: http_body::Body<Data = Bytes, Error = ErrorCode> + Send + 'static,
    {
        let shared = self.settings.shared.clone();
        let edge_credentials =
            self.edge_credentials(shared.pinned_time.unwrap_or_else(SystemTime::now)).await?;
        let handed_out = edge_credentials.secrets();
        let connection = shared.connection.clone();
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
                .insert(edge_config::PATH_STYLE, connection.path_style.to_string())
                .insert(edge_config::MAX_ATTEMPTS, max_attempts.to_string())
                .insert(edge_config::REQUEST_PAYER, if requester_pays { "requester" } else { "" }.to_owned());
            for (name, value) in edge_credentials.config_values() {
                store_state.config.insert(name, value);
            }
        })
        .await?;
        let (sender, receiver) = oneshot::channel();
        let timeout = self.settings.call_timeout;
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
            Ok(Err(code)) => {
                return Err(Error::Plugin(format!("the plugin answered with an error: {code:?}")));
            }
            Err(_) => {
                return match task.await {
                    Ok((Err(error), _)) => Err(error),
                    _ => Err(Error::Plugin("the plugin ended without answering".to_owned())),
                };
            }
        };
        Ok((response, EdgeCall { handed_out, finished: task }))
    }
}

/// What [`run_in_task`] runs on the store: boxed, so that the task can be spawned (`Send`).
type StoreFuture<'a> = Pin<Box<dyn Future<Output = wasmtime::Result<()>> + Send + 'a>>;

/// What the task of an edge call ends with: its outcome and the host's reason for a failure.
type Finished = (Result<(), Error>, Option<HostReason>);

/// Runs `run` in a task of its own under `timeout`, which holds `in_flight` until it ends.
fn run_in_task(
    mut call: SandboxedCall,
    timeout: Duration,
    in_flight: impl Send + 'static,
    run: impl for<'a> FnOnce(&'a mut Store<StoreState>) -> StoreFuture<'a> + Send + 'static,
) -> tokio::task::JoinHandle<Finished> {
    tokio::spawn(async move {
        let _in_flight = in_flight;
        let outcome = call.run(timeout, async move |store| run(store).await).await;
        // The host's own reason for a refusal, or for a network failure (an untrusted
        // certificate, a timeout), to replace the component's in its answer.
        let denial = call.denial().map(|denial| call.scrub(&denial.to_string()));
        let network = call.network_failure().map(|failure| failure.to_string());
        (outcome, denial.map(HostReason::Denied).or(network.map(HostReason::Network)))
    })
}

/// The WASI 0.3 component on `request`: `wasi:http/handler@0.3.0` under wasmtime's concurrent
/// run loop. The guest writes its response body after returning the response, and only while
/// the loop runs, so the loop runs on until hyper has read the body (or dropped it).
async fn run_p3<B>(
    store: &mut Store<StoreState>,
    pre: &ServicePre<StoreState>,
    request: hyper::Request<B>,
    sender: oneshot::Sender<Result<hyper::Response<HyperOutgoingBody>, ErrorCode>>,
) -> wasmtime::Result<()>
where
    B: http_body::Body<Data = Bytes, Error = ErrorCode> + Send + 'static,
{
    let service = pre.instantiate_async(&mut *store).await?;
    let (request, request_io) =
        wasmtime_wasi_http::p3::Request::from_http(store.data_mut().http().hooks, request);
    store
        .run_concurrent(async move |accessor| -> wasmtime::Result<()> {
            let response = match service.handle(accessor, request).await? {
                Ok(response) => response,
                Err(code) => {
                    let _ = sender.send(Err(ErrorCode::InternalError(Some(format!("{code:?}")))));
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
