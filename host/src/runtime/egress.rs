//! The egress guard: every request the plugin sends passes here, is parsed by the one S3
//! address parser, checked against the policy, and only then sent. Denied requests never
//! leave the host; the guest sees `HttpRequestDenied` and the host keeps the reason.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::policy::{Denial, Policy, s3_address};
use crate::settings::Endpoint;

/// Upper bounds on the plugin's own timeouts; a plugin may ask for less, never for more.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(300);
const MAX_BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(120);

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>),
                HttpError,
            >,
        > + Send,
>;

/// The `send_request` hook of one plugin instance.
pub struct EgressGuard {
    endpoint: Endpoint,
    policy: Arc<Policy>,
    /// Every denial of this instance, in order; the host reports these, not the guest's words.
    pub denials: Vec<Denial>,
}

impl EgressGuard {
    /// A guard for the given endpoint and policy.
    pub fn new(endpoint: Endpoint, policy: Arc<Policy>) -> Self {
        Self { endpoint, policy, denials: Vec::new() }
    }

    /// Parses and checks one request.
    pub fn check(&self, request: &http::Request<WasiBody>) -> Result<(), Denial> {
        let parsed = s3_address::parse(request.method(), request.uri(), request.headers(), &self.endpoint)
            .map_err(|e| Denial(format!("{} {}: {e}", request.method(), redact_query(request.uri()))))?;
        self.policy.check(&parsed)
    }
}

/// The URI without its query, which could carry a presigned signature.
fn redact_query(uri: &http::Uri) -> String {
    format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or(""),
        uri.authority().map_or("", |a| a.as_str()),
        uri.path()
    )
}

fn clamp(options: Option<RequestOptions>) -> RequestOptions {
    let options = options.unwrap_or_default();
    let clamp = |asked: Option<Duration>, max: Duration| Some(asked.map_or(max, |d| d.min(max)));
    RequestOptions {
        connect_timeout: clamp(options.connect_timeout, MAX_CONNECT_TIMEOUT),
        first_byte_timeout: clamp(options.first_byte_timeout, MAX_FIRST_BYTE_TIMEOUT),
        between_bytes_timeout: clamp(options.between_bytes_timeout, MAX_BETWEEN_BYTES_TIMEOUT),
    }
}

impl WasiHttpHooks for EgressGuard {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> ResponseFuture {
        if let Err(denial) = self.check(&request) {
            self.denials.push(denial);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let options = clamp(options);
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}
