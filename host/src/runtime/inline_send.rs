//! The guest's requests without a body (GET, HEAD, DELETE, the lists) sent on the guest's own
//! task.
//!
//! wasmtime-wasi-http's `outgoing-handler.handle` (WASI 0.2) spawns a task for every request to
//! drive the send, and the guest then blocks on that task's result: the response crosses tasks,
//! often threads, before the guest sees it, a wake-up and a context switch on every small call
//! (BENCHMARKS.md, "Where the time goes"). This shadows `handle`: a request with no body goes
//! through the same hook, [`EgressGuard`]'s `send_request` (the policy decides from the request
//! itself, the audit records it, the connection pool sends it), awaited inside the call, so the
//! guest finds its response ready. A request with a body keeps wasmtime-wasi-http's own
//! `handle`: the guest writes a body after `handle` returns, so awaiting the response first
//! would wait forever. So does a ranged GET: the plugin starts a download's ranges side by side
//! before it waits on any, and a slow range's head would hold back the ones after it. Which
//! path a request takes is scheduling only: both end in the same hook.
//!
//! [`EgressGuard`]: super::egress::EgressGuard

use http_body_util::{BodyExt, Empty};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler::Host as _;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Method, Scheme};
use wasmtime_wasi_http::p2::http_request_error;
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{RequestOptions, WasiHttpHooks, WasiHttpView};

use super::store_state::StoreState;

/// The interface shadowed: the version the plugin imports (and wasmtime-wasi-http provides). A
/// different version would add an instance beside it rather than replace `handle`; the test
/// below checks that the plugin's requests come through here.
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// What the guest's `handle` returns: its future response, or the error it is refused with.
type Handled = Result<Resource<HostFutureIncomingResponse>, ErrorCode>;

/// Shadows `wasi:http/outgoing-handler.handle`. Call after
/// `wasmtime_wasi_http::p2::add_only_http_to_linker_async`.
pub fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.instance(OUTGOING_HANDLER)?.func_wrap_async(
        "handle",
        |mut store: StoreContextMut<'_, StoreState>,
         (request, options): (Resource<HostOutgoingRequest>, Option<Resource<RequestOptions>>)| {
            Box::new(async move { Ok((handle(store.data_mut(), request, options).await?,)) })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Sends a bodiless `request` that is not ranged and waits for its response head; hands any
/// other request to wasmtime-wasi-http's `handle`.
async fn handle(
    state: &mut StoreState,
    request: Resource<HostOutgoingRequest>,
    options: Option<Resource<RequestOptions>>,
) -> wasmtime::Result<Handled> {
    let outgoing = state.table.get(&request)?;
    if outgoing.body.is_some() || outgoing.headers.contains_key(http::header::RANGE) {
        return match state.http().handle(request, options) {
            Ok(future) => Ok(Ok(future)),
            Err(error) => Ok(Err(error.downcast()?)),
        };
    }
    let options = options.and_then(|options| state.table.get(&options).ok()).cloned();
    let outgoing = state.table.delete(request)?;
    state.inline_sends = state.inline_sends.saturating_add(1);
    let request = match bodiless_request(outgoing, &mut state.egress) {
        Ok(request) => request,
        Err(code) => return Ok(Err(code)),
    };
    let sent = Box::into_pin(state.egress.send_request(request, options, Box::new(async { Ok(()) }))).await;
    // The future's type holds a worker task beside the response. The pool's worker is
    // `async { Ok(()) }` (its connections run on tasks of their own); wasmtime-wasi-http drops a
    // worker's error as well.
    let ready = sent.map(|(response, io)| {
        (response, wasmtime_wasi::runtime::spawn(async move { drop(Box::into_pin(io).await) }))
    });
    Ok(Ok(state.table.push(HostFutureIncomingResponse::Ready(ready))?))
}

/// The request `outgoing` describes, as wasmtime-wasi-http's `handle` builds it (version 50,
/// `src/p2/http_impl.rs`), for a request that has no body: the method, the scheme (checked by
/// the hooks, their default when the guest gives none), the authority and path, the `Host`
/// header when the hooks ask for it, then the guest's headers.
fn bodiless_request(
    outgoing: HostOutgoingRequest,
    hooks: &mut impl WasiHttpHooks,
) -> Result<http::Request<wasmtime_wasi_http::WasiBody>, ErrorCode> {
    // Checked here as there: a declared body length other than 0 with no body never leaves.
    if let Some(length) = outgoing.headers.get(http::header::CONTENT_LENGTH) {
        let length: u64 = length
            .to_str()
            .ok()
            .and_then(|length| length.parse().ok())
            .ok_or_else(|| ErrorCode::InternalError(Some("invalid content-length header".to_owned())))?;
        if length != 0 {
            return Err(ErrorCode::HttpRequestBodySize(Some(0)));
        }
    }
    let method = match outgoing.method {
        Method::Get => http::Method::GET,
        Method::Head => http::Method::HEAD,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
        Method::Connect => http::Method::CONNECT,
        Method::Options => http::Method::OPTIONS,
        Method::Trace => http::Method::TRACE,
        Method::Patch => http::Method::PATCH,
        Method::Other(method) => {
            http::Method::from_bytes(method.as_bytes()).map_err(|_| ErrorCode::HttpRequestMethodInvalid)?
        }
    };
    let scheme = match outgoing.scheme {
        Some(scheme) => {
            let scheme = match scheme {
                Scheme::Http => http::uri::Scheme::HTTP,
                Scheme::Https => http::uri::Scheme::HTTPS,
                Scheme::Other(scheme) => {
                    http::uri::Scheme::try_from(scheme.as_str()).map_err(|_| ErrorCode::HttpProtocolError)?
                }
            };
            if !hooks.is_supported_scheme(&scheme) {
                return Err(ErrorCode::HttpProtocolError);
            }
            scheme
        }
        None => hooks.default_scheme().ok_or(ErrorCode::HttpProtocolError)?,
    };
    let authority = outgoing.authority.unwrap_or_default();
    let mut uri = http::Uri::builder().scheme(scheme).authority(authority.as_str());
    if let Some(path) = outgoing.path_with_query {
        uri = uri.path_and_query(path);
    }
    let mut builder = http::Request::builder().method(method).uri(uri.build().map_err(http_request_error)?);
    if hooks.set_host_header() {
        builder = builder.header(http::header::HOST, authority.as_str());
    }
    for (name, value) in outgoing.headers.iter() {
        builder = builder.header(name, value);
    }
    let body = Empty::new().map_err(|never| match never {}).boxed_unsync();
    builder.body(body).map_err(|error| ErrorCode::InternalError(Some(error.to_string())))
}
