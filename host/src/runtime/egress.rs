//! The egress guard: every request the plugin sends passes here, is parsed by the one S3
//! address parser, checked against the policy, and only then sent. Denied requests never
//! leave the host; the guest sees `HttpRequestDenied` and the host keeps the reason. With an
//! audit sink, every decision is recorded (see [`crate::audit`]). In a traced call (a `serve`
//! request's), every request sent carries the host's `traceparent` and, when spans are
//! exported, ends a client span of its own (see [`crate::telemetry`]).

use std::sync::Arc;
use std::time::Duration;

use crate::audit::{Audit, AuditRecord, CountingBody, Decision, Direction, InFlight, Kind};
use crate::policy::{Grant, S3Request};

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::retry_budget::{self, RetryBudget};
use crate::network::failure::FailureLog;
use crate::network::{NetworkFailure, NetworkSettings};
use crate::policy::{Denial, Policy, s3_address};
use crate::settings::Endpoint;
use crate::telemetry::span::PendingSpan;
use crate::telemetry::trace_context::{self, TraceContext};

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
    audit: Option<Audit>,
    /// Records of requests sent by this instance and maybe not written yet.
    in_flight: Vec<Arc<InFlight>>,
    /// How many requests this instance may send.
    max_requests: u32,
    /// How many it tried so far, allowed or not.
    requests: u32,
    /// The retry budget its connector's calls share, if any.
    retry_budget: Option<Arc<RetryBudget>>,
    /// Retries this instance asked for that the budget refused, each with its reason; the call
    /// reports the first as its own error ([`crate::Error::RetryBudget`]).
    pub retries_refused: Vec<String>,
    /// Trust and timeouts of the connection (the timeouts cap the plugin's own).
    network: NetworkSettings,
    /// The first network failure of this instance's requests, in the host's words.
    failures: FailureLog,
    /// The trace of the call, whose `traceparent` every request sent carries.
    trace: Option<TraceContext>,
}

impl EgressGuard {
    /// A guard for the given endpoint and policy, recording its decisions to `audit` if given.
    pub fn new(endpoint: Endpoint, policy: Arc<Policy>, audit: Option<Audit>) -> Self {
        Self {
            endpoint,
            policy,
            denials: Vec::new(),
            audit,
            in_flight: Vec::new(),
            max_requests: u32::MAX,
            requests: 0,
            retry_budget: None,
            retries_refused: Vec::new(),
            network: NetworkSettings::default(),
            failures: FailureLog::default(),
            trace: None,
        }
    }

    /// Puts `trace`'s `traceparent` on every request sent, in place of any the plugin set.
    pub fn with_trace(mut self, trace: Option<TraceContext>) -> Self {
        self.trace = trace;
        self
    }

    /// Charges the retries of this instance (requests that say they are attempt 2 or later) to
    /// `budget`, and credits its successes.
    pub fn with_retry_budget(mut self, budget: Arc<RetryBudget>) -> Self {
        self.retry_budget = Some(budget);
        self
    }

    /// Sends with `network`'s trust and timeouts instead of the defaults.
    pub fn with_network(mut self, network: NetworkSettings) -> Self {
        self.network = network;
        self
    }

    /// The first network failure of this instance (an untrusted certificate, a timeout), which
    /// the host reports instead of the guest's generic transport error.
    pub fn network_failure(&self) -> Option<NetworkFailure> {
        self.failures.first()
    }

    /// Caps the requests this instance may send; every one past the cap is denied.
    pub fn with_max_requests(mut self, max_requests: u32) -> Self {
        self.max_requests = max_requests;
        self
    }

    /// Parses and checks one request (the white-box tests' view of the guard).
    #[cfg(feature = "internals")]
    pub fn check(&self, request: &http::Request<WasiBody>) -> Result<(), Denial> {
        self.decide(request).1.map(drop)
    }

    /// Parses and checks one request: what the parser read (if it could) and the verdict.
    fn decide(&self, request: &http::Request<WasiBody>) -> (Option<S3Request>, Result<Grant, Denial>) {
        match s3_address::parse(request.method(), request.uri(), request.headers(), &self.endpoint) {
            Ok(parsed) => {
                let verdict = self.policy.decide(&parsed);
                (Some(parsed), verdict)
            }
            Err(e) => {
                let denial = Denial(format!(
                    "{} {}: {e}",
                    request.method(),
                    crate::secrets::redact::uri(request.uri())
                ));
                (None, Err(denial))
            }
        }
    }

    /// Writes the records of every request of this instance not written yet (a response body
    /// the guest never read to its end). Called when the call ends.
    pub fn finish_audit(&mut self) {
        for flight in self.in_flight.drain(..) {
            flight.finish();
        }
    }
}

/// The audit record of a request, before it is sent or denied.
pub fn request_record(
    tenant: &str,
    method: &http::Method,
    parsed: Option<&S3Request>,
    verdict: &Result<Grant, Denial>,
) -> AuditRecord {
    let decision = if verdict.is_ok() { Decision::Allowed } else { Decision::Denied };
    let mut record = AuditRecord::new(tenant, Kind::Request, decision);
    record.method = Some(method.to_string());
    if let Some(parsed) = parsed {
        record.access = Some(parsed.access.name().to_owned());
        record.action = Some(parsed.action.name().to_owned());
        record.bucket = parsed.bucket.clone();
        record.key = parsed.key.clone().or_else(|| parsed.list_prefix.clone().filter(|p| !p.is_empty()));
        record.copy_source = parsed.copy_source.as_ref().map(|(bucket, key)| format!("{bucket}/{key}"));
    }
    match verdict {
        Ok(grant) => record.rule = Some(grant.to_string()),
        Err(denial) => record.reason = Some(denial.0.clone()),
    }
    record
}

/// The client span of one request to S3: named by its operation, with OpenTelemetry's
/// attributes for AWS calls and HTTP, and the bucket (never the key, which may be personal).
fn client_span(
    span: PendingSpan,
    request: &http::Request<WasiBody>,
    parsed: Option<&S3Request>,
    attempt: u32,
) -> PendingSpan {
    let action = parsed.map_or("request", |parsed| parsed.action.name());
    let mut span = span
        .named(format!("S3.{action}"))
        .text("rpc.system", "aws-api")
        .text("rpc.service", "S3")
        .text("rpc.method", action)
        .text("http.request.method", request.method().as_str())
        .text("server.address", request.uri().host().unwrap_or_default())
        .text("s3_connector.attempt", attempt.to_string());
    if let Some(bucket) = parsed.and_then(|parsed| parsed.bucket.as_deref()) {
        span = span.text("aws.s3.bucket", bucket);
    }
    span
}

/// Ends the client span of a request with its answer's status or its failure, in the host's
/// words when it has them.
fn end_span<T>(
    span: Option<PendingSpan>,
    sent: &Result<(http::Response<T>, super::connection_pool::Worker), HttpError>,
    failures: &FailureLog,
) {
    let Some(span) = span else { return };
    span.end(match sent {
        Ok((response, _)) => Ok(response.status().as_u16()),
        Err(error) => {
            Err(failures.first().map_or_else(|| format!("the request failed: {error:?}"), |f| f.to_string()))
        }
    });
}

/// The plugin's own timeouts, capped by the connection's: a plugin may ask for less, never
/// for more.
fn clamp(options: Option<RequestOptions>, network: &NetworkSettings) -> RequestOptions {
    let options = options.unwrap_or_default();
    let clamp = |asked: Option<Duration>, max: Duration| Some(asked.map_or(max, |d| d.min(max)));
    RequestOptions {
        connect_timeout: clamp(options.connect_timeout, network.connect_timeout),
        first_byte_timeout: clamp(options.first_byte_timeout, network.read_timeout),
        between_bytes_timeout: clamp(options.between_bytes_timeout, network.read_timeout),
    }
}

impl WasiHttpHooks for EgressGuard {
    // What one body can buffer in the host, stated here so that the host buffer meter's
    // `BODY_BUFFER_BYTES` holds whatever wasmtime-wasi-http's defaults become.
    fn p2_outgoing_body_buffer_chunks(&mut self) -> usize {
        super::limits::BODY_BUFFER_CHUNKS
    }

    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        super::limits::BODY_CHUNK_BYTES
    }

    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> ResponseFuture {
        let (parsed, mut verdict) = self.decide(&request);
        self.requests = self.requests.saturating_add(1);
        if self.requests > self.max_requests && verdict.is_ok() {
            verdict = Err(Denial(format!(
                "the plugin tried more than {} requests in one call, the host's cap; {} {} was not sent",
                self.max_requests,
                request.method(),
                crate::secrets::redact::uri(request.uri())
            )));
        }
        let attempt = retry_budget::attempt_of(request.headers());
        let budget = self.retry_budget.clone();
        if verdict.is_ok()
            && attempt > 1
            && let Some(budget) = &budget
            && !budget.take_retry()
        {
            let refusal = format!(
                "{} {} failed and was not retried: the connector's retry budget is empty ({} retries refused \
                 so far), as too many requests failed recently; try again later",
                request.method(),
                crate::secrets::redact::uri(request.uri()),
                budget.refused()
            );
            if let Some(audit) = &self.audit {
                let refused = Err(Denial(refusal.clone()));
                audit.write(request_record(&audit.tenant, request.method(), parsed.as_ref(), &refused));
            }
            self.retries_refused.push(refusal);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let record = self.audit.as_ref().map(|audit| {
            let mut record = request_record(&audit.tenant, request.method(), parsed.as_ref(), &verdict);
            record.attempt = Some(attempt);
            (audit, record)
        });
        if let Err(denial) = verdict {
            if let Some((audit, record)) = record {
                audit.write(record);
            }
            self.denials.push(denial);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        // A success gives the budget back a little (a first attempt) or the retry's cost.
        let credit = move |status: http::StatusCode| {
            if let Some(budget) = &budget
                && status.is_success()
            {
                budget.succeeded(attempt);
            }
        };
        let span = self.trace.as_ref().and_then(|trace| {
            let (traceparent, span) = trace.outgoing();
            request.headers_mut().insert(trace_context::HEADER, traceparent);
            span.map(|span| client_span(span, &request, parsed.as_ref(), attempt))
        });
        let options = clamp(options, &self.network);
        let (trust, failures) = (self.network.trust.clone(), self.failures.clone());
        let (proxies, resolve) = (self.network.proxy.clone(), self.network.resolve.clone());
        let Some((audit, record)) = record else {
            return Box::new(async move {
                let sent =
                    super::connection_pool::send(request, options, &trust, &proxies, &resolve, &failures)
                        .await;
                end_span(span, &sent, &failures);
                let (response, io) = sent?;
                credit(response.status());
                Ok((response.map(BodyExt::boxed_unsync), io))
            });
        };
        let flight = InFlight::start(audit.clone(), record);
        self.in_flight.push(flight.clone());
        let request =
            request.map(|body| CountingBody::new(body, flight.clone(), Direction::Sent).boxed_unsync());
        Box::new(async move {
            let sent =
                super::connection_pool::send(request, options, &trust, &proxies, &resolve, &failures).await;
            end_span(span, &sent, &failures);
            match sent {
                Ok((response, io)) => {
                    credit(response.status());
                    let request_id = response
                        .headers()
                        .get("x-amz-request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    flight.responded(response.status().as_u16(), request_id);
                    let response = response.map(|body| {
                        CountingBody::new(body.boxed_unsync(), flight, Direction::Received).boxed_unsync()
                    });
                    Ok((response, io))
                }
                Err(error) => {
                    let reason = match failures.first() {
                        Some(failure) => failure.to_string(),
                        None => format!("the request failed: {error:?}"),
                    };
                    flight.failed(reason);
                    flight.finish();
                    Err(error)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Access, S3Action};

    fn get(uri: &str) -> http::Request<WasiBody> {
        let body = http_body_util::Empty::new().map_err(|never: std::convert::Infallible| match never {});
        http::Request::get(uri).body(body.boxed_unsync()).unwrap()
    }

    #[tokio::test]
    async fn requests_past_the_cap_are_denied_with_their_own_reason() {
        let endpoint = Endpoint::parse("http://127.0.0.1:9").unwrap();
        let policy = Arc::new(Policy::from_allow_flags(&["bkt=read"]).unwrap());
        let mut guard = EgressGuard::new(endpoint, policy, None).with_max_requests(0);
        for uri in ["http://127.0.0.1:9/bkt/k", "http://127.0.0.1:9/other/k"] {
            let sent = guard.send_request(get(uri), None, Box::new(async { Ok(()) }));
            assert!(matches!(Box::into_pin(sent).await, Err(HttpError::HttpRequestDenied)), "{uri}");
        }
        let reasons: Vec<String> = guard.denials.iter().map(|d| d.0.clone()).collect();
        assert_eq!(
            reasons[0],
            "the plugin tried more than 0 requests in one call, the host's cap; GET http://127.0.0.1:9/bkt/k \
             was not sent"
        );
        // A request the policy denies anyway keeps the policy's reason.
        assert!(reasons[1].contains("s3://other/k needs 'read'"), "{}", reasons[1]);
    }

    #[test]
    fn request_records_name_the_action_the_rule_or_the_reason() {
        let policy = Policy::from_allow_flags(&["dst=write", "src/pub/=read", "logs=list"]).unwrap();
        let copy = S3Request {
            action: S3Action::CopyObject,
            access: Access::Write,
            bucket: Some("dst".into()),
            key: Some("k".into()),
            list_prefix: None,
            copy_source: Some(("src".into(), "pub/x".into())),
        };
        let record = request_record("t", &http::Method::PUT, Some(&copy), &policy.decide(&copy));
        assert_eq!((record.action.as_deref(), record.access.as_deref()), (Some("CopyObject"), Some("write")));
        assert_eq!(record.copy_source.as_deref(), Some("src/pub/x"));
        assert_eq!(record.rule.as_deref(), Some("dst=write (copy source: src/pub/=read)"));
        assert_eq!((record.decision, record.reason.as_deref()), (Decision::Allowed, None));

        let listing = S3Request {
            action: S3Action::ListObjectsV2,
            access: Access::List,
            bucket: Some("logs".into()),
            key: None,
            list_prefix: Some("2026/".into()),
            copy_source: None,
        };
        let record = request_record("t", &http::Method::GET, Some(&listing), &policy.decide(&listing));
        assert_eq!((record.key.as_deref(), record.access.as_deref()), (Some("2026/"), Some("list")));

        // Unparseable: no action, the parser's reason.
        let denial = Err(Denial("GET http://h/b/k: not an S3 operation".into()));
        let record = request_record("t", &http::Method::GET, None, &denial);
        assert_eq!((record.decision, record.action.as_deref()), (Decision::Denied, None));
        assert_eq!(record.reason.as_deref(), Some("GET http://h/b/k: not an S3 operation"));
    }
}
