//! `s3-connector serve`: the edge component behind an HTTP listener, one fresh instance per
//! request, with the connector's credentials, policy, limits and audit applied as everywhere.
//!
//! Clients authenticate with a bearer token ([`ClientAuth`]). The component gets the endpoint,
//! region and this request's credentials through `wasi:config`; every request it sends still
//! goes through the host's egress guard, which checks it against the policy.

mod auth;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

pub use auth::ClientAuth;

use crate::connector::Connector;
use crate::error::Error;
use crate::runtime::edge_runtime::EdgeRuntime;
use crate::runtime::limits;
use crate::runtime::plugin_runtime::PluginRuntime;
use crate::runtime::store_state::StoreState;

/// How long a shutdown waits for requests in flight before it gives up on them.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound server, not yet accepting.
pub struct Server {
    listener: TcpListener,
    state: Arc<ServerState>,
}

struct ServerState {
    connector: Connector,
    auth: ClientAuth,
    runtime: &'static EdgeRuntime,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// Counts a request in flight until dropped.
struct InFlight(Arc<ServerState>);

impl InFlight {
    fn start(state: &Arc<ServerState>) -> Self {
        state.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Server {
    /// Binds `listen` and loads the edge component.
    pub async fn bind(listen: SocketAddr, connector: Connector, auth: ClientAuth) -> Result<Self, Error> {
        let runtime = EdgeRuntime::shared()?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {listen}: {e}")))?;
        let state = Arc::new(ServerState {
            connector,
            auth,
            runtime,
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
        });
        Ok(Self { listener, state })
    }

    /// The address it listens on (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener.local_addr().map_err(|e| Error::Local(format!("the listener has no address: {e}")))
    }

    /// Serves until `shutdown` completes, then stops accepting and waits (at most
    /// [`DRAIN_TIMEOUT`]) for the requests in flight. Returns how many were still running when
    /// it gave up (0 after a clean drain).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> usize {
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            // A failed accept (a client gone before we got to it) affects only that client.
            let Ok((socket, _)) = accepted else { continue };
            // An answer's head and body go out as separate writes; with Nagle the body waited for
            // the client's delayed ACK (~40 ms per request on a kept-alive connection).
            let _ = socket.set_nodelay(true);
            let state = self.state.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(state, request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
        drop(self.listener);
        let drained = async {
            while self.state.in_flight.load(Ordering::SeqCst) > 0 {
                let idle = self.state.idle.notified();
                if self.state.in_flight.load(Ordering::SeqCst) == 0 {
                    break;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
        self.state.in_flight.load(Ordering::SeqCst)
    }
}

fn json_response(status: u16, code: &str, message: &str) -> hyper::Response<HyperOutgoingBody> {
    let body = json!({"error": {"code": code, "message": message, "retryable": status >= 500, "status": null,
        "requestId": null, "bucket": null, "key": null}})
    .to_string();
    let mut response =
        hyper::Response::new(Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    if status == 401 {
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
    }
    response
}

async fn handle(
    state: Arc<ServerState>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<HyperOutgoingBody> {
    let authorization = request.headers().get(http::header::AUTHORIZATION).map(|v| v.as_bytes());
    if !state.auth.admits(authorization) {
        return json_response(
            401,
            "unauthorized",
            "send Authorization: Bearer TOKEN with the server's token",
        );
    }
    let in_flight = InFlight::start(&state);
    match instantiate_and_call(&state, request, in_flight).await {
        Ok(response) => response,
        Err(error) => json_response(500, error.code(), &error.to_string()),
    }
}

async fn instantiate_and_call(
    state: &Arc<ServerState>,
    request: hyper::Request<Incoming>,
    in_flight: InFlight,
) -> Result<hyper::Response<HyperOutgoingBody>, Error> {
    let connector = &state.connector;
    // Requests beyond the instance pool wait for a slot here rather than fail.
    let sandbox = PluginRuntime::sandbox().await?;
    let shared = connector.shared.clone();
    let credentials = shared.credentials.credentials().await.map_err(|e| Error::Usage(e.to_string()))?;
    let mut store_state = StoreState::new(shared.clone());
    store_state.sandbox = Some(sandbox);
    let connection = &shared.connection;
    store_state
        .config
        .insert("endpoint", connection.endpoint.url())
        .insert("region", connection.region.clone())
        .insert("path_style", connection.path_style.to_string())
        .insert("max_attempts", shared.max_attempts.to_string())
        .insert("access_key_id", credentials.access_key_id.clone())
        .insert("secret_access_key", credentials.secret_access_key.expose().to_owned());
    if let Some(token) = &credentials.session_token {
        store_state.config.insert("session_token", token.expose().to_owned());
    }
    let mut store = Store::new(&state.runtime.engine, store_state);
    limits::apply(&mut store);
    let plugin_error = |e: wasmtime::Error| Error::Plugin(format!("{:#}", e.root_cause()));
    let incoming =
        store.data_mut().http().new_incoming_request(Scheme::Http, request).map_err(plugin_error)?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let out = store.data_mut().http().new_response_outparam(sender).map_err(plugin_error)?;
    let pre = state.runtime.pre.clone();
    let timeout = connector.call_timeout;
    // The instance runs on in its own task while the response body streams to the client; the
    // request counts as in flight until it ends.
    let task = tokio::spawn(async move {
        let _in_flight = in_flight;
        let call = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, out).await
        };
        let outcome = tokio::time::timeout(timeout, call).await;
        store.data_mut().egress.finish_audit();
        match outcome {
            Ok(result) => result.map_err(|trap| crate::connector::trap_error(&store, trap)),
            Err(_) => Err(Error::Plugin(format!("the request took longer than {timeout:?}"))),
        }
    });
    match receiver.await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(code)) => Err(Error::Plugin(format!("the plugin answered with an error: {code:?}"))),
        Err(_) => match task.await {
            Ok(Err(error)) => Err(error),
            _ => Err(Error::Plugin("the plugin ended without answering".to_owned())),
        },
    }
}
