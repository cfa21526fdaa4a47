//! The S3 operations: each one a request shape, sent through one path that scopes credentials,
//! signs, sends and maps errors.

use std::cell::Cell;
use std::time::{Duration, SystemTime};

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, RANGE};

use crate::bindings::s3_connector::s3::types::{
    BucketInfo, ByteRange, CopyResult, DeleteFailure, DeleteObjectsResult, GetOptions, ListObjectsRequest,
    ListObjectsResult, ObjectInfo, ObjectSummary, ObjectVersion, PresignMethod, PresignRequest, PutOptions,
    PutResult, S3Error,
};
use crate::bindings::wasi::io::streams::{InputStream, OutputStream};
use crate::checksum_headers;
use crate::endpoint::{self, Endpoint, Target};
use crate::host_imports::{self, Scope};
use crate::in_flight::InFlight;
use crate::object_headers;
use crate::retry::{self, Outcome, Verdict};
use crate::s3_error::{self, Subject, invalid};
use crate::signing::{self, Payload};
use crate::wire::{self, Body, Response};
use crate::{http_date, pause, xml};

/// Bodies up to this size are hashed into the signature; larger ones go `UNSIGNED-PAYLOAD`
/// (SHA-256 runs at a fraction of native speed in the guest).
const MAX_HASHED_BODY: usize = 64 * 1024;
/// XML answers (listings, errors) larger than this are refused rather than buffered.
const MAX_XML_BODY: usize = 16 * 1024 * 1024;

pub use s3_connector_rules::Operation;

/// One request, before it is addressed and signed.
pub struct Call<'a> {
    /// The HTTP method.
    pub method: http::Method,
    /// Bucket and key.
    pub subject: Subject<'a>,
    /// Query parameters (sub-resources with an empty value are sent bare, as `?uploads`).
    pub query: Vec<(&'static str, String)>,
    /// Extra headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The operation, for the credentials scope.
    pub operation: Operation,
    /// S3 may answer 200 with an `<Error>` body (CopyObject, UploadPartCopy,
    /// CompleteMultipartUpload): [`S3::send_for_xml`] then treats it as the failure it is.
    pub error_in_ok: bool,
}

impl<'a> Call<'a> {
    /// A call without query or headers.
    pub fn new(
        method: http::Method,
        bucket: Option<&'a str>,
        key: Option<&'a str>,
        operation: Operation,
    ) -> Self {
        Self {
            method,
            subject: Subject { bucket, key },
            query: Vec::new(),
            headers: Vec::new(),
            operation,
            error_in_ok: false,
        }
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
    /// How far the server's clock is ahead of ours, learned from a `RequestTimeTooSkewed`.
    clock_offset_ms: Cell<i64>,
}

impl S3 {
    /// Reads the host's settings.
    pub fn from_host() -> Result<Self, S3Error> {
        let connection = host_imports::connection();
        let endpoint = Endpoint::parse(&connection.endpoint).map_err(S3Error::Other)?;
        Ok(Self {
            endpoint,
            region: connection.region,
            path_style: connection.path_style,
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
        let scope = Scope { bucket: bucket.map(str::to_owned), operation: call.operation.name().to_owned() };
        let credentials = host_imports::credentials(&scope)?;

        let mut request = http::Request::builder()
            .method(call.method.clone())
            .uri(target.url())
            .body(())
            .map_err(|e| invalid(format!("cannot build a request for {}: {e}", call.subject)))?;
        let headers = request.headers_mut();
        for (name, value) in &call.headers {
            headers.append(name, value.clone());
        }
        if let Some(length) = content_length {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        let now = http_date::shifted(SystemTime::now(), self.clock_offset_ms.get());
        signing::sign_request(&mut request, credentials, &self.region, payload, presign_for, now)?;
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
            let failed = match self.attempt(call, body) {
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

    /// One attempt: sign, send, and read a failure's status, code and date.
    fn attempt(&self, call: &Call<'_>, body: Body<'_>) -> Result<Response, Failed> {
        let payload = match &body {
            Body::Empty => Payload::Bytes(&[]),
            Body::Bytes(bytes) if bytes.len() <= MAX_HASHED_BODY => Payload::Bytes(bytes),
            Body::WithTrailer { .. } => Payload::UnsignedWithTrailer,
            _ => Payload::Unsigned,
        };
        let (request, target) = self.authorize(call, body.length(), payload, None).map_err(Failed::stop)?;
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
    /// The configured region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The object's URL for the configured endpoint and addressing style (unsigned).
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        endpoint::target(&self.endpoint, self.path_style, Some(bucket), Some(key), &[]).url()
    }
}

/// Checks a bucket name before anything is sent.
pub fn check_bucket(bucket: &str) -> Result<(), S3Error> {
    s3_connector_rules::validate_bucket_name(bucket).map_err(invalid)
}

/// Checks a bucket name and a key before anything is sent.
pub fn check_object(bucket: &str, key: &str) -> Result<(), S3Error> {
    check_bucket(bucket)?;
    s3_connector_rules::validate_key(key).map_err(invalid)
}

/// CreateBucket.
pub fn create_bucket(s3: &S3, bucket: &str) -> Result<(), S3Error> {
    check_bucket(bucket)?;
    let call = Call::new(http::Method::PUT, Some(bucket), None, Operation::Admin);
    // us-east-1 is the default location and AWS rejects it as an explicit constraint.
    let configuration = (s3.region() != "us-east-1").then(|| xml::create_bucket_body(s3.region()));
    let body = configuration.as_deref().map_or(Body::Empty, |xml| Body::Bytes(xml.as_bytes()));
    s3.send(call, body).map(drop)
}

/// DeleteBucket.
pub fn delete_bucket(s3: &S3, bucket: &str) -> Result<(), S3Error> {
    check_bucket(bucket)?;
    s3.send(Call::new(http::Method::DELETE, Some(bucket), None, Operation::Admin), Body::Empty).map(drop)
}

/// HeadBucket.
pub fn head_bucket(s3: &S3, bucket: &str) -> Result<(), S3Error> {
    check_bucket(bucket)?;
    s3.send(Call::new(http::Method::HEAD, Some(bucket), None, Operation::List), Body::Empty).map(drop)
}

/// ListBuckets.
pub fn list_buckets(s3: &S3) -> Result<Vec<BucketInfo>, S3Error> {
    let text = s3.send_for_xml(Call::new(http::Method::GET, None, None, Operation::List), Body::Empty)?;
    let parsed = xml::list_buckets(&text).map_err(|e| S3Error::Other(e.to_string()))?;
    Ok(parsed
        .buckets
        .bucket
        .into_iter()
        .map(|b| BucketInfo { name: b.name, creation_date: b.creation_date })
        .collect())
}

/// PutObject with a body of known length (a stream or bytes).
pub fn put_object(
    s3: &S3,
    bucket: &str,
    key: &str,
    body: Body<'_>,
    options: &PutOptions,
) -> Result<PutResult, S3Error> {
    check_object(bucket, key)?;
    let mut call = Call::new(http::Method::PUT, Some(bucket), Some(key), Operation::Write);
    call.headers = object_headers::put_headers(options)?;
    if matches!(body, Body::Empty) {
        call.headers.push((CONTENT_LENGTH, HeaderValue::from(0)));
    }
    let body = match (options.checksum, body) {
        (None, body) => body,
        // A stream is read once: its checksum goes in a trailer, computed as it is sent.
        (Some(algorithm), Body::Stream { source, length })
        | (Some(algorithm), Body::WithTrailer { source, length, .. }) => {
            checksum_headers::for_trailer(&mut call.headers, algorithm, length);
            Body::WithTrailer { source, length, algorithm }
        }
        (Some(algorithm), Body::Bytes(bytes)) => {
            call.headers.extend(checksum_headers::for_bytes(algorithm, bytes));
            body
        }
        (Some(algorithm), Body::Empty) => {
            call.headers.extend(checksum_headers::for_bytes(algorithm, &[]));
            body
        }
    };
    let response = s3.send(call, body)?;
    Ok(PutResult {
        etag: response.header("etag").map(str::to_owned),
        version_id: response.header("x-amz-version-id").map(str::to_owned),
    })
}

/// PutObject from a stream of known length.
pub fn put_stream(
    s3: &S3,
    bucket: &str,
    key: &str,
    source: &InputStream,
    length: u64,
    options: &PutOptions,
) -> Result<PutResult, S3Error> {
    let body = if length == 0 { Body::Empty } else { Body::Stream { source, length } };
    put_object(s3, bucket, key, body, options)
}

/// GetObject into `sink`.
pub fn get_object(
    s3: &S3,
    bucket: &str,
    key: &str,
    sink: &OutputStream,
    options: &GetOptions,
) -> Result<ObjectInfo, S3Error> {
    match (options.range, options.parallel_ranges) {
        (None, Some(parallel)) if parallel != 1 => {
            let (parallel, range_size) =
                crate::transfer_plan::download_plan(parallel, options.range_size).map_err(invalid)?;
            return crate::parallel_ranges::download(s3, bucket, key, sink, options, parallel, range_size);
        }
        _ => {}
    }
    let (info, response) = get_object_response(s3, bucket, key, options)?;
    response.copy_checked_to(sink)?;
    Ok(info)
}

/// GetObject up to the response head: the object's metadata, and the body still to read.
pub fn get_object_response(
    s3: &S3,
    bucket: &str,
    key: &str,
    options: &GetOptions,
) -> Result<(ObjectInfo, Response), S3Error> {
    check_object(bucket, key)?;
    let mut call = Call::new(http::Method::GET, Some(bucket), Some(key), Operation::Read);
    call.headers = object_headers::get_headers(options)?;
    match options.range {
        Some(range) => {
            let value = range_header(range)?;
            call.headers.push((RANGE, HeaderValue::from_str(&value).map_err(invalid)?));
        }
        // A whole object comes with its checksum, verified as the body streams.
        None => call.headers.push(checksum_headers::checksum_mode()),
    }
    if let Some(version) = &options.version_id {
        call.query.push(("versionId", version.clone()));
    }
    let response = s3.send(call, Body::Empty)?;
    Ok((object_info(key, &response), response))
}

/// The `Range` header value of a byte range.
pub fn range_header(range: ByteRange) -> Result<String, S3Error> {
    match range {
        ByteRange::Closed((first, last)) if first <= last => Ok(format!("bytes={first}-{last}")),
        ByteRange::Closed((first, last)) => {
            Err(invalid(format!("byte range {first}-{last} ends before it starts; give first <= last")))
        }
        ByteRange::StartingAt(first) => Ok(format!("bytes={first}-")),
        ByteRange::Suffix(0) => Err(invalid("a suffix range of 0 bytes selects nothing; ask for at least 1")),
        ByteRange::Suffix(n) => Ok(format!("bytes=-{n}")),
    }
}

/// HeadObject.
pub fn head_object(s3: &S3, bucket: &str, key: &str, options: &GetOptions) -> Result<ObjectInfo, S3Error> {
    check_object(bucket, key)?;
    let mut call = Call::new(http::Method::HEAD, Some(bucket), Some(key), Operation::Read);
    call.headers = object_headers::get_headers(options)?;
    call.headers.push(checksum_headers::checksum_mode());
    if let Some(version) = &options.version_id {
        call.query.push(("versionId", version.clone()));
    }
    Ok(object_info(key, &s3.send(call, Body::Empty)?))
}

/// DeleteObject.
pub fn delete_object(s3: &S3, bucket: &str, key: &str, version_id: Option<&str>) -> Result<(), S3Error> {
    check_object(bucket, key)?;
    let mut call = Call::new(http::Method::DELETE, Some(bucket), Some(key), Operation::Delete);
    if let Some(version) = version_id {
        call.query.push(("versionId", version.to_owned()));
    }
    s3.send(call, Body::Empty).map(drop)
}

/// ListObjectsV2, one page.
pub fn list_objects(
    s3: &S3,
    bucket: &str,
    request: &ListObjectsRequest,
) -> Result<ListObjectsResult, S3Error> {
    check_bucket(bucket)?;
    let mut call = Call::new(http::Method::GET, Some(bucket), None, Operation::List);
    call.query.push(("list-type", "2".to_owned()));
    let optional = [
        ("prefix", request.prefix.clone()),
        ("delimiter", request.delimiter.clone()),
        ("max-keys", request.max_keys.map(|n| n.to_string())),
        ("continuation-token", request.continuation_token.clone()),
        ("start-after", request.start_after.clone()),
    ];
    call.query.extend(optional.into_iter().filter_map(|(name, value)| Some((name, value?))));
    let text = s3.send_for_xml(call, Body::Empty)?;
    let parsed = xml::list_objects_v2(&text).map_err(|e| S3Error::Other(e.to_string()))?;
    Ok(ListObjectsResult {
        objects: parsed
            .contents
            .into_iter()
            .map(|c| ObjectSummary {
                key: c.key,
                size: c.size,
                etag: c.etag,
                last_modified: c.last_modified,
                storage_class: c.storage_class,
            })
            .collect(),
        common_prefixes: parsed.common_prefixes.into_iter().map(|p| p.prefix).collect(),
        is_truncated: parsed.is_truncated,
        next_continuation_token: parsed.next_continuation_token,
    })
}

/// CopyObject within or across buckets, in one request.
pub fn copy_object(
    s3: &S3,
    source_bucket: &str,
    source_key: &str,
    bucket: &str,
    key: &str,
) -> Result<CopyResult, S3Error> {
    crate::copy::single(s3, (source_bucket, source_key), bucket, key, Vec::new())
}

/// S3's limit on keys per DeleteObjects request.
const MAX_KEYS_PER_DELETE: usize = 1000;

/// DeleteObjects, 1000 keys per request; every key is reported as deleted or failed.
pub fn delete_objects(s3: &S3, bucket: &str, keys: &[String]) -> Result<DeleteObjectsResult, S3Error> {
    check_bucket(bucket)?;
    for key in keys {
        s3_connector_rules::validate_key(key).map_err(invalid)?;
    }
    let mut result = DeleteObjectsResult { deleted: Vec::new(), failed: Vec::new() };
    for chunk in keys.chunks(MAX_KEYS_PER_DELETE) {
        let body = xml::delete_objects_body(chunk.iter().map(String::as_str));
        let mut call = Call::new(http::Method::POST, Some(bucket), None, Operation::Delete);
        call.query.push(("delete", String::new()));
        // S3 requires an integrity check on DeleteObjects.
        call.headers.push(object_headers::content_md5(body.as_bytes()));
        call.headers.push((CONTENT_TYPE, HeaderValue::from_static("application/xml")));
        let text = s3.send_for_xml(call, Body::Bytes(body.as_bytes()))?;
        let parsed = xml::delete_result(&text).map_err(|e| S3Error::Other(e.to_string()))?;
        result.deleted.extend(parsed.deleted.into_iter().map(|d| d.key));
        result.failed.extend(parsed.error.into_iter().map(|e| DeleteFailure {
            key: e.key,
            code: e.code,
            message: e.message,
        }));
    }
    Ok(result)
}

/// GetObjectTagging.
pub fn get_object_tags(s3: &S3, bucket: &str, key: &str) -> Result<Vec<(String, String)>, S3Error> {
    check_object(bucket, key)?;
    let mut call = Call::new(http::Method::GET, Some(bucket), Some(key), Operation::Read);
    call.query.push(("tagging", String::new()));
    let text = s3.send_for_xml(call, Body::Empty)?;
    xml::tagging(&text).map_err(|e| S3Error::Other(e.to_string()))
}

/// S3's limit on tags per object.
const MAX_TAGS: usize = 10;

/// PutObjectTagging.
pub fn put_object_tags(s3: &S3, bucket: &str, key: &str, tags: &[(String, String)]) -> Result<(), S3Error> {
    check_object(bucket, key)?;
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!("{} tags given; S3 allows at most {MAX_TAGS} per object", tags.len())));
    }
    let mut call = Call::new(http::Method::PUT, Some(bucket), Some(key), Operation::Write);
    call.query.push(("tagging", String::new()));
    let body = xml::tagging_body(tags);
    call.headers.push(object_headers::content_md5(body.as_bytes()));
    s3.send(call, Body::Bytes(body.as_bytes())).map(drop)
}

/// DeleteObjectTagging.
pub fn delete_object_tags(s3: &S3, bucket: &str, key: &str) -> Result<(), S3Error> {
    check_object(bucket, key)?;
    let mut call = Call::new(http::Method::DELETE, Some(bucket), Some(key), Operation::Write);
    call.query.push(("tagging", String::new()));
    s3.send(call, Body::Empty).map(drop)
}

/// GetBucketLocation; S3's empty answer means us-east-1.
pub fn get_bucket_location(s3: &S3, bucket: &str) -> Result<String, S3Error> {
    check_bucket(bucket)?;
    let mut call = Call::new(http::Method::GET, Some(bucket), None, Operation::List);
    call.query.push(("location", String::new()));
    let region = xml::bucket_location(&s3.send_for_xml(call, Body::Empty)?)
        .map_err(|e| S3Error::Other(e.to_string()))?;
    Ok(if region.is_empty() { "us-east-1".to_owned() } else { region })
}

/// ListObjectVersions, every page.
pub fn list_object_versions(
    s3: &S3,
    bucket: &str,
    prefix: Option<&str>,
) -> Result<Vec<ObjectVersion>, S3Error> {
    check_bucket(bucket)?;
    let mut versions = Vec::new();
    let mut markers: Option<(String, String)> = None;
    loop {
        let mut call = Call::new(http::Method::GET, Some(bucket), None, Operation::List);
        call.query.push(("versions", String::new()));
        if let Some(prefix) = prefix {
            call.query.push(("prefix", prefix.to_owned()));
        }
        if let Some((key, version)) = markers.take() {
            call.query.push(("key-marker", key));
            call.query.push(("version-id-marker", version));
        }
        let page = xml::list_versions(&s3.send_for_xml(call, Body::Empty)?)
            .map_err(|e| S3Error::Other(e.to_string()))?;
        let (mut truncated, mut next_key, mut next_version) = (false, None, None);
        for entry in page.entries {
            let (item, is_delete_marker) = match entry {
                xml::VersionEntry::Version(item) => (item, false),
                xml::VersionEntry::DeleteMarker(item) => (item, true),
                xml::VersionEntry::IsTruncated(value) => {
                    truncated = value;
                    continue;
                }
                xml::VersionEntry::NextKeyMarker(key) => {
                    next_key = Some(key);
                    continue;
                }
                xml::VersionEntry::NextVersionIdMarker(version) => {
                    next_version = Some(version);
                    continue;
                }
                xml::VersionEntry::Other => continue,
            };
            versions.push(ObjectVersion {
                key: item.key,
                version_id: item.version_id,
                is_latest: item.is_latest,
                is_delete_marker,
                size: item.size,
                etag: item.etag,
                last_modified: item.last_modified,
            });
        }
        match (truncated, next_key, next_version) {
            (true, Some(key), Some(version)) => markers = Some((key, version)),
            _ => return Ok(versions),
        }
    }
}

/// S3's limit on a presigned URL's lifetime.
pub const MAX_PRESIGN_SECONDS: u32 = 7 * 24 * 3600;

/// A presigned URL for one method on one object.
pub fn presign(s3: &S3, request: &PresignRequest) -> Result<String, S3Error> {
    check_object(&request.bucket, &request.key)?;
    if request.expires_in_seconds == 0 || request.expires_in_seconds > MAX_PRESIGN_SECONDS {
        return Err(invalid(format!(
            "expiry of {} seconds is out of range; presigned URLs last 1 to {MAX_PRESIGN_SECONDS} seconds (7 days)",
            request.expires_in_seconds
        )));
    }
    let (method, operation) = match request.method {
        PresignMethod::Get => (http::Method::GET, Operation::Read),
        PresignMethod::Head => (http::Method::HEAD, Operation::Read),
        PresignMethod::Put => (http::Method::PUT, Operation::Write),
        PresignMethod::Delete => (http::Method::DELETE, Operation::Delete),
    };
    let call = Call::new(method, Some(&request.bucket), Some(&request.key), operation);
    let expires_in = Duration::from_secs(u64::from(request.expires_in_seconds));
    let (signed, _) = s3.authorize(&call, None, Payload::Unsigned, Some(expires_in))?;
    Ok(signed.uri().to_string())
}

/// Object metadata from the headers of a GET or HEAD response.
pub fn object_info(key: &str, response: &Response) -> ObjectInfo {
    let header = |name: &str| response.header(name).map(str::to_owned);
    let content_range = header("content-range");
    // For a range, the whole object's size is after the slash of `bytes a-b/size`.
    let size = content_range
        .as_deref()
        .and_then(|r| r.rsplit_once('/'))
        .and_then(|(_, total)| total.parse().ok())
        .or_else(|| response.header("content-length").and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    let metadata = response
        .headers()
        .filter_map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            name.strip_prefix("x-amz-meta-").map(|n| (n.to_owned(), value.to_owned()))
        })
        .collect();
    ObjectInfo {
        key: key.to_owned(),
        size,
        etag: header("etag").unwrap_or_default(),
        last_modified: header("last-modified"),
        content_type: header("content-type"),
        metadata,
        storage_class: header("x-amz-storage-class"),
        version_id: header("x-amz-version-id"),
        content_range,
        checksum: response.full_object_checksum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_headers_or_errors() {
        assert_eq!(range_header(ByteRange::Closed((0, 9))).unwrap(), "bytes=0-9");
        assert_eq!(range_header(ByteRange::StartingAt(5)).unwrap(), "bytes=5-");
        assert_eq!(range_header(ByteRange::Suffix(3)).unwrap(), "bytes=-3");
        assert!(
            matches!(range_header(ByteRange::Closed((9, 0))), Err(S3Error::InvalidRequest(m)) if m.contains("9-0"))
        );
        assert!(matches!(range_header(ByteRange::Suffix(0)), Err(S3Error::InvalidRequest(_))));
    }
}
