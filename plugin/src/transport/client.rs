//! The one path every S3 request takes: credentials scoped to its bucket and access class,
//! addressed, signed, sent through `wasi:http`, retried when transient, and its failure mapped
//! to an error. The operations above only describe requests ([`Call`]).

use std::cell::Cell;
use std::time::{Duration, SystemTime};

use http::header::{CONTENT_LENGTH, HeaderName, HeaderValue};
use s3_connector_rules::sigv4::{self, Payload};

use crate::bindings::s3_connector::s3::types::S3Error;
use crate::protocol::checked_names::{Bucket, Object};
use crate::protocol::endpoint::{self, Endpoint, Target};
use crate::protocol::http_date;
use crate::protocol::s3_error::{self, Subject, invalid};
use crate::protocol::xml;
use crate::transport::host_imports::{self, Scope};
use crate::transport::in_flight::InFlight;
use crate::transport::pause;
use crate::transport::range_source::RangeSource;
use crate::transport::retry::{self, Outcome, Verdict};
use crate::transport::wire::{self, Body, Response};

/// Bodies up to this size are hashed into the signature; larger ones go `UNSIGNED-PAYLOAD`
/// (SHA-256 runs at a fraction of native speed in the guest).
const MAX_HASHED_BODY: usize = 64 * 1024;
/// XML answers (listings, errors) larger than this are refused rather than buffered.
const MAX_XML_BODY: usize = 16 * 1024 * 1024;

pub use s3_connector_rules::{Access, S3Action};

/// One request, before it is addressed and signed.
pub struct Call<'a> {
    /// The S3 action: its HTTP method, and the access class credentials are asked for.
    pub action: S3Action,
    /// Bucket and key, checked: private, so only the constructors below set it.
    subject: Subject<'a>,
    /// Query parameters (sub-resources with an empty value are sent bare, as `?uploads`).
    pub query: Vec<(&'static str, String)>,
    /// Extra headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// S3 may answer 200 with an `<Error>` body (CopyObject, UploadPartCopy,
    /// CompleteMultipartUpload): [`S3::send_for_xml`] then treats it as the failure it is.
    pub error_in_ok: bool,
}

impl<'a> Call<'a> {
    /// A call of `action` on the service itself (ListBuckets), without query or headers.
    pub fn on_service(action: S3Action) -> Self {
        Self::about(action, Subject { bucket: None, key: None })
    }

    /// A call of `action` on a bucket, without query or headers.
    pub fn on_bucket(action: S3Action, bucket: Bucket<'a>) -> Self {
        Self::about(action, Subject { bucket: Some(bucket.name()), key: None })
    }

    /// A call of `action` on an object, without query or headers.
    pub fn on_object(action: S3Action, object: Object<'a>) -> Self {
        Self::about(action, Subject { bucket: Some(object.bucket().name()), key: Some(object.key()) })
    }

    // Private: a subject is only ever made of checked names (the constructors above).
    fn about(action: S3Action, subject: Subject<'a>) -> Self {
        Self { action, subject, query: Vec::new(), headers: Vec::new(), error_in_ok: false }
    }
}

/// A failed attempt: the error it reports if it is the last, and whether another may follow.
struct Failed {
    error: S3Error,
    verdict: Verdict,
    /// The response's `Date`, to learn the server's clock from.
    date: Option<SystemTime>,
}

impl Failed {
    fn stop(error: S3Error) -> Self {
        Self { error, verdict: Verdict::Stop, date: None }
    }
}

/// The connection to S3 for one exported call: settings read once from the host.
pub struct S3 {
    endpoint: Endpoint,
    region: String,
    path_style: bool,
    max_attempts: u32,
    /// Send `x-amz-request-payer: requester` with every request.
    requester_pays: bool,
    /// How far the server's clock is ahead of ours, learned from a `RequestTimeTooSkewed`.
    clock_offset_ms: Cell<i64>,
}

impl S3 {
    /// Reads the host's settings.
    pub fn from_host() -> Result<Self, S3Error> {
        let connection = host_imports::connection();
        let endpoint = Endpoint::parse(&connection.endpoint).map_err(|e| S3Error::Other(e.to_string()))?;
        Ok(Self {
            endpoint,
            region: connection.region,
            path_style: connection.path_style,
            requester_pays: connection.requester_pays,
            max_attempts: match connection.max_attempts {
                0 => retry::DEFAULT_MAX_ATTEMPTS,
                n => n,
            },
            clock_offset_ms: Cell::new(0),
        })
    }

    /// Addresses `call`, gets credentials scoped to it and signs it: in headers for a request
    /// sent now, or in the query for a URL presigned for `presign_for`.
    pub fn authorize(
        &self,
        call: &Call<'_>,
        content_length: Option<u64>,
        payload: Payload<'_>,
        presign_for: Option<Duration>,
    ) -> Result<(http::Request<()>, Target), S3Error> {
        let Subject { bucket, key } = call.subject;
        let target = endpoint::target(&self.endpoint, self.path_style, bucket, key, &call.query);
        let now = http_date::shifted(SystemTime::now(), self.clock_offset_ms.get());
        let scope = Scope {
            bucket: bucket.map(str::to_owned),
            access: call.action.access(),
            signing_date: sigv4::signing_date(now)?,
        };
        let identity = host_imports::signing_identity(&scope, &self.region)?;

        let mut request = http::Request::builder()
            .method(call.action.method())
            .uri(target.url())
            .body(())
            .map_err(|e| invalid(format!("cannot build a request for {}: {e}", call.subject)))?;
        let headers = request.headers_mut();
        for (name, value) in &call.headers {
            headers.append(name, value.clone());
        }
        if let Some(length) = content_length {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        } else if presign_for.is_none()
            && matches!(call.action.method(), http::Method::PUT | http::Method::POST)
            && !headers.contains_key(CONTENT_LENGTH)
        {
            // A PUT or POST without a body (CreateBucket, CreateMultipartUpload) says so: a host
            // that sends an unannounced body chunked (Node's http, under jco) would otherwise
            // get 411 MissingContentLength from S3 servers that require a length.
            headers.insert(CONTENT_LENGTH, HeaderValue::from(0));
        }
        if self.requester_pays && presign_for.is_none() {
            headers.insert(
                HeaderName::from_static("x-amz-request-payer"),
                HeaderValue::from_static("requester"),
            );
        }
        match identity {
            Some(identity) => sigv4::sign_request(&mut request, &identity, payload, presign_for, now)?,
            // Anonymous access: sent unsigned, as `--no-sign-request` asked; nothing to presign.
            None if presign_for.is_some() => {
                return Err(S3Error::AccessDenied(
                    "a presigned URL needs credentials; the host sends unsigned requests (--no-sign-request)"
                        .to_owned(),
                ));
            }
            None => {}
        }
        Ok((request, target))
    }

    /// Scopes credentials, signs and sends `call`; a non-success status becomes its error.
    /// Transient failures are retried (see [`S3::exchange`]).
    pub fn send(&self, call: Call<'_>, body: Body<'_>) -> Result<Response, S3Error> {
        self.exchange(&call, body, Ok)
    }

    /// Like [`S3::send`], then reads the XML answer; a 200 whose body is an `<Error>` (for calls
    /// marked [`Call::error_in_ok`]) is a failure, retried like any other.
    pub fn send_for_xml(&self, call: Call<'_>, body: Body<'_>) -> Result<String, S3Error> {
        let subject = call.subject;
        let error_in_ok = call.error_in_ok;
        self.exchange(&call, body, |response| {
            let text = response.text(MAX_XML_BODY).map_err(|error| {
                // The connection broke in the middle of a small answer: ask again.
                let verdict =
                    if matches!(error, S3Error::Transport(_)) { Verdict::Retry } else { Verdict::Stop };
                Failed { error, verdict, date: None }
            })?;
            match xml::error_body(&text).filter(|_| error_in_ok) {
                Some(body) => Err(Failed {
                    verdict: retry::classify(Outcome::Response { status: 200, code: Some(&body.code) }),
                    error: s3_error::from_response(200, None, &text, subject),
                    date: None,
                }),
                None => Ok(text),
            }
        })
    }

    /// Sends `call` until `accept` takes a successful response, at most `max_attempts` times:
    /// each attempt a freshly signed request (so the host checks each one), transient failures
    /// after a backoff with full jitter, a skewed clock corrected from the server's `Date`.
    /// A body that cannot be replayed (a stream) is sent once.
    fn exchange<T>(
        &self,
        call: &Call<'_>,
        body: Body<'_>,
        mut accept: impl FnMut(Response) -> Result<T, Failed>,
    ) -> Result<T, S3Error> {
        let mut attempt = 1;
        loop {
            let failed = match self.attempt(call, body, attempt) {
                Ok(response) => match accept(response) {
                    Ok(value) => return Ok(value),
                    Err(failed) => failed,
                },
                Err(failed) => failed,
            };
            if !retry::may_retry(failed.verdict, attempt, self.max_attempts, body.replayable()) {
                return Err(failed.error);
            }
            match (failed.verdict, failed.date) {
                (Verdict::Skewed, Some(server)) => {
                    self.clock_offset_ms.set(http_date::offset_ms(server, SystemTime::now()));
                }
                // Skewed, but no usable `Date` to correct the clock with.
                (Verdict::Skewed, None) => return Err(failed.error),
                _ => pause::sleep(retry::backoff(attempt + 1, pause::random_unit())),
            }
            attempt += 1;
        }
    }

    /// One attempt: sign, send, and read a failure's status, code and date. The request says
    /// which attempt it is in `amz-sdk-request`, as the AWS SDKs' requests do, so that the host
    /// can charge retries to its retry budget from the request itself.
    fn attempt(&self, call: &Call<'_>, body: Body<'_>, attempt: u32) -> Result<Response, Failed> {
        let payload = match &body {
            Body::Empty => Payload::Bytes(&[]),
            Body::Bytes(bytes) if bytes.len() <= MAX_HASHED_BODY => Payload::Bytes(bytes),
            Body::WithTrailer { .. } => Payload::UnsignedWithTrailer,
            _ => Payload::Unsigned,
        };
        let (mut request, target) =
            self.authorize(call, body.length(), payload, None).map_err(Failed::stop)?;
        let counted = HeaderValue::from_str(&format!("attempt={attempt}; max={}", self.max_attempts))
            .map_err(|e| Failed::stop(S3Error::Other(e.to_string())))?;
        request.headers_mut().insert(HeaderName::from_static("amz-sdk-request"), counted);
        judge(call, wire::send(&request, &target, body))
    }

    /// Signs `call` with `bytes` as its body and hands it to the host without waiting for it,
    /// for requests that run side by side. One attempt: on failure the error says whether
    /// another attempt may help.
    pub fn start(&self, call: &Call<'_>, bytes: &[u8]) -> Result<InFlight, AttemptError> {
        let payload = if bytes.len() <= MAX_HASHED_BODY { Payload::Bytes(bytes) } else { Payload::Unsigned };
        let (request, target) = self
            .authorize(call, Some(bytes.len() as u64), payload, None)
            .map_err(|error| AttemptError { error, retryable: false })?;
        InFlight::start(&request, &target, true).map_err(|failure| Failed::from_transport(failure).into())
    }

    /// Signs `call` with the `length` bytes of `source` from `offset` as its body and hands it
    /// to the host without waiting for it; the range streams into the request as the
    /// connection takes it. One
    /// attempt, as [`S3::start`].
    pub fn start_range(
        &self,
        call: &Call<'_>,
        source: &dyn RangeSource,
        offset: u64,
        length: u64,
    ) -> Result<InFlight, AttemptError> {
        let (request, target) = self
            .authorize(call, Some(length), Payload::Unsigned, None)
            .map_err(|error| AttemptError { error, retryable: false })?;
        let stream = source.open(offset, length).map_err(|e| AttemptError {
            error: S3Error::Other(format!(
                "the host cannot read the {length} bytes from offset {offset} of the source: {e}"
            )),
            retryable: false,
        })?;
        InFlight::start_streaming(&request, &target, stream)
            .map_err(|failure| Failed::from_transport(failure).into())
    }

    /// Signs a bodiless `call` (GET) and hands it to the host without waiting for it.
    pub fn start_bodiless(&self, call: &Call<'_>) -> Result<InFlight, AttemptError> {
        let (request, target) = self
            .authorize(call, None, Payload::Bytes(&[]), None)
            .map_err(|error| AttemptError { error, retryable: false })?;
        InFlight::start(&request, &target, false).map_err(|failure| Failed::from_transport(failure).into())
    }

    /// The outcome of a request started with [`S3::start`]: the response if it succeeded.
    pub fn settle(
        &self,
        call: &Call<'_>,
        result: Result<Response, wire::Failure>,
    ) -> Result<Response, AttemptError> {
        judge(call, result).map_err(AttemptError::from)
    }
}

/// A failed attempt of a request sent side by side with others.
#[derive(Debug)]
pub struct AttemptError {
    /// The error to report.
    pub error: S3Error,
    /// Whether another attempt may succeed (a transient failure, a skewed clock).
    pub retryable: bool,
}

impl From<Failed> for AttemptError {
    fn from(failed: Failed) -> Self {
        Self { error: failed.error, retryable: failed.verdict != Verdict::Stop }
    }
}

impl Failed {
    fn from_transport(failure: wire::Failure) -> Self {
        Failed {
            verdict: retry::classify(Outcome::Transport(failure.transport)),
            error: failure.error,
            date: None,
        }
    }
}

/// Reads a response into the attempt's result: a success, or the failure's error, verdict and
/// server date.
fn judge(call: &Call<'_>, result: Result<Response, wire::Failure>) -> Result<Response, Failed> {
    let response = result.map_err(Failed::from_transport)?;
    if (200..300).contains(&response.status) {
        return Ok(response);
    }
    let status = response.status;
    let request_id = response.header("x-amz-request-id").map(str::to_owned);
    let date = response.header("date").and_then(http_date::parse);
    // An unreadable error body still leaves the status to map.
    let text = response.text(MAX_XML_BODY).unwrap_or_default();
    let code = xml::error_body(&text).map(|body| body.code);
    Err(Failed {
        verdict: retry::classify(Outcome::Response { status, code: code.as_deref() }),
        error: s3_error::from_response(status, request_id, &text, call.subject),
        date,
    })
}

impl S3 {
    /// This client, sending `x-amz-request-payer: requester` with every request (a JSON
    /// action's `requestPayer`).
    pub fn with_requester_pays(mut self) -> Self {
        self.requester_pays = true;
        self
    }

    /// The configured region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// How many times a request is tried in all (downloads also resume at most this often).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The object's URL for the configured endpoint and addressing style (unsigned).
    pub fn object_url(&self, object: Object<'_>) -> String {
        let (bucket, key) = (object.bucket().name(), object.key());
        endpoint::target(&self.endpoint, self.path_style, Some(bucket), Some(key), &[]).url()
    }
}
