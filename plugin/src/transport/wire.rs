//! One S3 request over `wasi:http`: headers, a body from bytes or a stream, the response.
//!
//! The request is handed to the host before its body is written (large bodies written first
//! can stall), and the host's verdict (the response or its error code) always takes precedence
//! over a failed body write, so a denial reads as a denial and not as a broken stream.

use crate::bindings::s3_connector::s3::types::{ChecksumAlgorithm, S3Error};
use crate::bindings::wasi::http0_2_12::outgoing_handler;
use crate::bindings::wasi::http0_2_12::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use crate::bindings::wasi::io::poll::Pollable;
use crate::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};
use crate::protocol::aws_chunked::{self, CHUNK_SIZE};
use crate::protocol::checksum::{self, Hasher};
use crate::protocol::endpoint::{self, Target};
use crate::protocol::response_validation::{self, Validation};
use crate::transport::range_source::RangeSource;
use crate::transport::retry::Transport;
use crate::transport::stream_copy::{self, ByteSource, ChunkEnd, CopyEnd};

/// A request body. Cheap to copy: it borrows its bytes or its stream.
#[derive(Clone, Copy)]
pub enum Body<'a> {
    /// No body at all (GET, HEAD, DELETE; PUT of an empty object sends `content-length: 0`).
    Empty,
    /// Bytes in guest memory.
    Bytes(&'a [u8]),
    /// Exactly `length` bytes read from a host stream.
    Stream {
        /// The host's stream.
        source: &'a InputStream,
        /// How many bytes to send (the `Content-Length`).
        length: u64,
    },
    /// Exactly `length` bytes read from a host stream, sent `aws-chunked` with a checksum
    /// trailer computed as the bytes pass (see [`crate::protocol::aws_chunked`]).
    WithTrailer {
        /// The host's stream.
        source: &'a InputStream,
        /// How many bytes the stream gives (`x-amz-decoded-content-length`).
        length: u64,
        /// The checksum sent in the trailer.
        algorithm: ChecksumAlgorithm,
    },
    /// Exactly `length` bytes of a seekable source from `offset`, opened anew for every
    /// attempt (so replayable) and spliced by the host into the request.
    Range {
        /// The source.
        source: &'a dyn RangeSource,
        /// Where the bytes start.
        offset: u64,
        /// How many bytes to send (the `Content-Length`).
        length: u64,
    },
}

impl Body<'_> {
    /// The `Content-Length` to send, when there is a body.
    pub fn length(&self) -> Option<u64> {
        match self {
            Body::Empty => None,
            Body::Bytes(bytes) => Some(bytes.len() as u64),
            Body::Stream { length, .. } | Body::Range { length, .. } => Some(*length),
            Body::WithTrailer { length, algorithm, .. } => {
                Some(aws_chunked::encoded_length(*length, CHUNK_SIZE, *algorithm))
            }
        }
    }

    /// Whether the body can be sent again: bytes in memory and ranges can, a stream already
    /// read cannot.
    pub fn replayable(&self) -> bool {
        !matches!(self, Body::Stream { .. } | Body::WithTrailer { .. })
    }
}

/// A request that got no response: the error to report, and how it failed, for retrying.
#[derive(Debug)]
pub struct Failure {
    /// The contract's error.
    pub error: S3Error,
    /// What went wrong on the way.
    pub transport: Transport,
}

impl From<S3Error> for Failure {
    fn from(error: S3Error) -> Self {
        let transport = match &error {
            S3Error::Timeout => Transport::TimedOut,
            // Writing the body to the connection failed: the connection broke.
            S3Error::Transport(_) => Transport::Broken,
            S3Error::DeniedByHost(_) => Transport::Denied,
            _ => Transport::Other,
        };
        Self { error, transport }
    }
}

/// Bytes read, checksummed and written at once by a verified download.
const VERIFIED_READ: usize = 1024 * 1024;

/// What one [`Response::move_ready`] did.
pub enum Step {
    /// Moved this many bytes.
    Moved(u64),
    /// Nothing could move: the body had nothing ready, or the sink took nothing; ready again
    /// when this is.
    Waiting(Pollable),
    /// The body ended.
    Ended,
    /// The body failed (a reset, a truncation, a stall).
    SourceFailed(String),
    /// The sink failed.
    SinkFailed(String),
}

/// A response whose body has not been read yet.
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    headers: Vec<(String, Vec<u8>)>,
    // Field order is drop order: the stream is a child of the body and must go first.
    stream: InputStream,
    _body: IncomingBody,
}

impl Response {
    /// The first value of header `name` (lower case), if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// All headers, names as sent.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().filter_map(|(n, v)| Some((n.as_str(), std::str::from_utf8(v).ok()?)))
    }

    /// Reads the whole body as text, refusing bodies over `limit` bytes (XML answers are small).
    pub fn text(self, limit: usize) -> Result<String, S3Error> {
        String::from_utf8(self.bytes(limit)?)
            .map_err(|_| S3Error::Other("the response body is not UTF-8".to_owned()))
    }

    /// Reads the whole body into memory, refusing bodies over `limit` bytes.
    pub fn bytes(self, limit: usize) -> Result<Vec<u8>, S3Error> {
        // One byte more than allowed tells "exactly `limit`" from "over it".
        let (bytes, _) = stream_copy::read_up_to(&self.stream, limit.saturating_add(1))
            .map_err(|e| S3Error::Transport(format!("reading the response failed: {e}")))?;
        if bytes.len() > limit {
            return Err(S3Error::Other(format!(
                "the response body is larger than the {limit} bytes expected"
            )));
        }
        Ok(bytes)
    }

    /// The full-object checksum the response carries, as it came: what `object-info` reports.
    pub fn full_object_checksum(&self) -> Option<(ChecksumAlgorithm, String)> {
        checksum::full_object(|name| self.header(name))
            .map(|(algorithm, value)| (algorithm, value.to_owned()))
    }

    /// The full-object checksum to verify the body against under this call's
    /// `response_checksum_validation`, if any; an error (the server's fault) when the one the
    /// response carries cannot be right ([`response_validation::to_verify`]).
    pub fn checksum_to_verify(&self) -> Result<Option<(ChecksumAlgorithm, String)>, S3Error> {
        response_validation::to_verify(|name| self.header(name), Validation::from_environment())
            .map(|found| found.map(|(algorithm, value)| (algorithm, value.to_owned())))
    }

    /// Streams the body into `sink`, verifying it against the response's full-object checksum
    /// when there is one to verify ([`Response::copy_verified_to`]), else spliced
    /// ([`Response::copy_to`]).
    pub fn copy_checked_to(self, sink: &OutputStream) -> Result<u64, S3Error> {
        match self.checksum_to_verify()? {
            Some((algorithm, expected)) => self.copy_verified_to(sink, algorithm, &expected),
            None => self.copy_to(sink),
        }
    }

    /// Streams the body into `sink` through guest memory, computing `algorithm`'s checksum on
    /// the way; fails unless exactly `Content-Length` bytes arrived and the checksum is
    /// `expected`. The bytes are in `sink` by then: the caller must discard them on failure.
    pub fn copy_verified_to(
        self,
        sink: &OutputStream,
        algorithm: ChecksumAlgorithm,
        expected: &str,
    ) -> Result<u64, S3Error> {
        let length = self.header("content-length").and_then(|v| v.parse::<u64>().ok());
        let mut hasher = Hasher::new(algorithm);
        let mut received = 0u64;
        // Bounded: each pass reads at least one byte or ends the loop.
        loop {
            let (chunk, ended) = stream_copy::read_up_to(&self.stream, VERIFIED_READ)
                .map_err(|e| S3Error::Transport(format!("the download broke after {received} bytes: {e}")))?;
            hasher.update(&chunk);
            stream_copy::write_all(sink, &chunk).map_err(|e| {
                S3Error::Other(format!("writing to the destination failed after {received} bytes: {e}"))
            })?;
            received += chunk.len() as u64;
            if ended || chunk.is_empty() {
                break;
            }
        }
        if let Some(length) = length.filter(|&l| l != received) {
            return Err(S3Error::Transport(format!("the response ended after {received} of {length} bytes")));
        }
        hasher.check_download(expected, received)?;
        Ok(received)
    }

    /// Streams the body into `sink`, feeding `hasher` on the way (through guest memory) or
    /// spliced when there is none, and says how it ended: with every byte of `Content-Length`,
    /// cut short by the source (a reset, a truncation, a stall), or failed by the sink. The
    /// count is what reached `sink`, so that a download can resume from there.
    pub fn copy_into(self, sink: &OutputStream, hasher: Option<&mut Hasher>) -> CopyEnd {
        let length = self.header("content-length").and_then(|v| v.parse::<u64>().ok());
        let end = match hasher {
            None => stream_copy::splice(&self.stream, sink, length.unwrap_or(u64::MAX)),
            Some(hasher) => {
                let mut moved = 0u64;
                // Bounded: each pass moves at least one byte or ends the loop.
                loop {
                    // What arrived before a failure is kept: the copy resumes right after it.
                    let (chunk, end) = stream_copy::read_chunk(&self.stream, VERIFIED_READ);
                    hasher.update(&chunk);
                    if let Err(e) = stream_copy::write_all(sink, &chunk) {
                        break CopyEnd::SinkFailed(moved, e);
                    }
                    moved += chunk.len() as u64;
                    match end {
                        ChunkEnd::Full if !chunk.is_empty() => {}
                        ChunkEnd::Full | ChunkEnd::Ended => break CopyEnd::Done(moved),
                        ChunkEnd::Failed(e) => break CopyEnd::SourceFailed(moved, e),
                    }
                }
            }
        };
        match (end, length) {
            (CopyEnd::Done(n), Some(length)) if n < length => {
                CopyEnd::SourceFailed(n, format!("the response ended after {n} of {length} bytes"))
            }
            (end, _) => end,
        }
    }

    /// Moves what the body has ready now, at most `limit` bytes and what `sink` accepts, into
    /// `sink` through guest memory (feeding `hasher`), without waiting: for a copy that takes
    /// turns with others. Read and written rather than spliced, as jco's preview2-shim fails a
    /// non-blocking splice between streams of different kinds. Flushing is the caller's.
    pub fn move_ready(&self, sink: &OutputStream, hasher: Option<&mut Hasher>, limit: u64) -> Step {
        let permit = match sink.check_write() {
            Ok(0) => return Step::Waiting(sink.subscribe()),
            Ok(permit) => permit,
            Err(e) => return Step::SinkFailed(stream_copy::describe(e)),
        };
        match self.stream.read(permit.min(limit)) {
            Ok(chunk) if chunk.is_empty() => Step::Waiting(self.stream.subscribe()),
            Ok(chunk) => {
                if let Some(hasher) = hasher {
                    hasher.update(&chunk);
                }
                match sink.write(&chunk) {
                    Ok(()) => Step::Moved(chunk.len() as u64),
                    Err(e) => Step::SinkFailed(stream_copy::describe(e)),
                }
            }
            Err(StreamError::Closed) => Step::Ended,
            Err(e) => Step::SourceFailed(stream_copy::describe(e)),
        }
    }

    /// Streams the body into `sink`; fails unless exactly `Content-Length` bytes arrived.
    pub fn copy_to(self, sink: &OutputStream) -> Result<u64, S3Error> {
        let expected = self.header("content-length").and_then(|v| v.parse::<u64>().ok());
        match stream_copy::splice(&self.stream, sink, expected.unwrap_or(u64::MAX)) {
            CopyEnd::Done(n) if expected.is_none_or(|e| e == n) => Ok(n),
            CopyEnd::Done(n) => Err(S3Error::Transport(format!(
                "the response ended after {n} of {} bytes",
                expected.unwrap_or_default()
            ))),
            CopyEnd::SourceFailed(n, e) => {
                Err(S3Error::Transport(format!("the download broke after {n} bytes: {e}")))
            }
            CopyEnd::SinkFailed(n, e) => {
                Err(S3Error::Other(format!("writing to the destination failed after {n} bytes: {e}")))
            }
        }
    }
}

/// The body read a chunk at a time through guest memory, for a sink that is no `wasi:io`
/// stream (the `edge-p3` world's response body, a WASI 0.3 `stream<u8>`).
impl ByteSource for Response {
    fn read_chunk(&self, limit: usize) -> (Vec<u8>, ChunkEnd) {
        stream_copy::read_chunk(&self.stream, limit)
    }

    fn wasi_stream(&self) -> Option<&InputStream> {
        Some(&self.stream)
    }
}

/// Sends a signed request to `target` with `body` and waits for the response head.
pub fn send(request: &http::Request<()>, target: &Target, body: Body<'_>) -> Result<Response, Failure> {
    let outgoing = outgoing_request(request, target)?;
    let url = target.url();
    let mut outgoing_body = match body {
        Body::Empty => None,
        // Invariant: `body` and `write` are called once, on a request that was just created.
        _ => {
            let taken = || S3Error::Other("the request body was already taken".to_owned());
            let outgoing_body = outgoing.body().map_err(|()| taken())?;
            let sink = outgoing_body.write().map_err(|()| taken())?;
            Some((outgoing_body, sink))
        }
    };
    // A small body goes in whole before the request is handed over: the server then gets
    // headers and body together, and an early answer (412, 403) cannot race the body's write.
    // Larger bodies are written after `handle`, since writing them first could stall.
    if let (Body::Bytes(bytes), Some((_, sink))) = (&body, &outgoing_body)
        && sink.check_write().is_ok_and(|permit| permit >= bytes.len() as u64)
    {
        sink.write(bytes).map_err(|e| {
            S3Error::Transport(format!("buffering the request body failed: {}", stream_copy::describe(e)))
        })?;
        if let Some((whole, sink)) = outgoing_body.take() {
            drop(sink);
            OutgoingBody::finish(whole, None)
                .map_err(|code| S3Error::Transport(format!("finishing the request body failed: {code:?}")))?;
        }
    }
    let future = outgoing_handler::handle(outgoing, None).map_err(|code| transport_error(code, &url))?;

    let written = match outgoing_body {
        Some((outgoing_body, sink)) => write_body(outgoing_body, sink, body),
        None => Ok(()),
    };
    let response = match (written, wait(&future, &url)) {
        // The input itself failed (ended early, unreadable): that is the cause, whatever the
        // abandoned request then answered.
        (Err(error @ (S3Error::InvalidRequest(_) | S3Error::Other(_))), _) => return Err(error.into()),
        // Otherwise the host's verdict comes first: a denial reads as a denial.
        (_, Err(failure)) => return Err(failure),
        (Err(error), Ok(_)) => return Err(error.into()),
        (Ok(()), Ok(response)) => response,
    };

    into_response(response)
}

/// A response head and its body stream, not read yet.
pub(crate) fn into_response(
    response: crate::bindings::wasi::http0_2_12::types::IncomingResponse,
) -> Result<Response, Failure> {
    let status = response.status();
    let headers = response.headers().entries();
    let body =
        response.consume().map_err(|()| S3Error::Other("the response body was already taken".to_owned()))?;
    let stream =
        body.stream().map_err(|()| S3Error::Other("the response stream was already taken".to_owned()))?;
    Ok(Response { status, headers, stream, _body: body })
}

/// The `wasi:http` request for a signed request to `target`, without its body.
pub(crate) fn outgoing_request(
    request: &http::Request<()>,
    target: &Target,
) -> Result<OutgoingRequest, S3Error> {
    let fields = Fields::new();
    for (name, value) in request.headers() {
        fields
            .append(name.as_str(), value.as_bytes())
            .map_err(|e| S3Error::InvalidRequest(format!("header {name} cannot be sent: {e:?}")))?;
    }
    let outgoing = OutgoingRequest::new(fields);
    let method = match *request.method() {
        http::Method::GET => Method::Get,
        http::Method::HEAD => Method::Head,
        http::Method::PUT => Method::Put,
        http::Method::POST => Method::Post,
        http::Method::DELETE => Method::Delete,
        ref other => Method::Other(other.to_string()),
    };
    let scheme = match target.scheme {
        endpoint::Scheme::Http => Scheme::Http,
        endpoint::Scheme::Https => Scheme::Https,
    };
    let url = target.url();
    let set = outgoing
        .set_method(&method)
        .and(outgoing.set_scheme(Some(&scheme)))
        .and(outgoing.set_authority(Some(&target.authority)))
        .and(outgoing.set_path_with_query(Some(&target.path_and_query)));
    set.map_err(|()| S3Error::InvalidRequest(format!("the request URL {url} is not valid HTTP")))?;
    Ok(outgoing)
}

/// Writes the body, then finishes it. On a short source the body is dropped unfinished, which
/// aborts the request instead of sending a truncated object.
fn write_body(outgoing_body: OutgoingBody, sink: OutputStream, body: Body<'_>) -> Result<(), S3Error> {
    let result = match body {
        Body::Empty => Ok(()),
        Body::Bytes(bytes) => stream_copy::write_all(&sink, bytes)
            .map_err(|e| S3Error::Transport(format!("sending the request body failed: {e}"))),
        Body::Stream { source, length } => splice_exactly(source, &sink, length),
        Body::Range { source, offset, length } => match source.open(offset, length) {
            Ok(stream) => splice_exactly(&stream, &sink, length),
            Err(e) => Err(S3Error::Other(format!(
                "the host cannot read the {length} bytes from offset {offset} of the source: {e}; nothing was stored"
            ))),
        },
        Body::WithTrailer { source, length, algorithm } => write_chunked(source, &sink, length, algorithm),
    };
    drop(sink);
    match result {
        Ok(()) => OutgoingBody::finish(outgoing_body, None)
            .map_err(|code| S3Error::Transport(format!("finishing the request body failed: {code:?}"))),
        Err(e) => Err(e),
    }
}

/// Splices exactly `length` bytes of `source` into `sink`; a source that ends early or fails is
/// the input's error, not the connection's.
fn splice_exactly(source: &InputStream, sink: &OutputStream, length: u64) -> Result<(), S3Error> {
    match stream_copy::splice(source, sink, length) {
        CopyEnd::Done(n) if n == length => Ok(()),
        CopyEnd::Done(n) => Err(S3Error::InvalidRequest(format!(
            "the input ended after {n} of the {length} bytes announced; nothing was stored"
        ))),
        CopyEnd::SourceFailed(n, e) => {
            Err(S3Error::Other(format!("reading the input failed after {n} bytes: {e}; nothing was stored")))
        }
        CopyEnd::SinkFailed(n, e) => {
            Err(S3Error::Transport(format!("sending the request body failed after {n} bytes: {e}")))
        }
    }
}

/// Chunks read, framed and written at once (1 MiB of data): fewer, larger writes and flushes.
const CHUNKS_PER_WRITE: u64 = 16;

/// Writes `length` bytes of `source` as `aws-chunked` chunks of [`CHUNK_SIZE`], then the
/// checksum trailer. Each byte is read once, checksummed and sent.
fn write_chunked(
    source: &InputStream,
    sink: &OutputStream,
    length: u64,
    algorithm: ChecksumAlgorithm,
) -> Result<(), S3Error> {
    let send = |bytes: &[u8]| {
        stream_copy::write_all(sink, bytes)
            .map_err(|e| S3Error::Transport(format!("sending the request body failed: {e}")))
    };
    let mut hasher = Hasher::new(algorithm);
    let mut sent = 0u64;
    // Bounded: every pass sends a full batch (or the rest) or fails, and `sent` grows to
    // `length`. A batch is a whole number of chunks, so every chunk but the last is full.
    while sent < length {
        let want = (length - sent).min(CHUNK_SIZE * CHUNKS_PER_WRITE) as usize;
        let (batch, _) = stream_copy::read_up_to(source, want).map_err(|e| {
            S3Error::Other(format!("reading the input failed after {sent} bytes: {e}; nothing was stored"))
        })?;
        if batch.len() < want {
            return Err(S3Error::InvalidRequest(format!(
                "the input ended after {} of the {length} bytes announced; nothing was stored",
                sent + batch.len() as u64
            )));
        }
        hasher.update(&batch);
        let mut framed = Vec::with_capacity(batch.len() + 16 * CHUNKS_PER_WRITE as usize);
        for chunk in batch.chunks(CHUNK_SIZE as usize) {
            framed.extend_from_slice(aws_chunked::chunk_header(chunk.len() as u64).as_bytes());
            framed.extend_from_slice(chunk);
            framed.extend_from_slice(b"\r\n");
        }
        send(&framed)?;
        sent += batch.len() as u64;
    }
    send(aws_chunked::trailer(algorithm, &hasher.finish()).as_bytes())
}

fn wait(
    future: &FutureIncomingResponse,
    url: &str,
) -> Result<crate::bindings::wasi::http0_2_12::types::IncomingResponse, Failure> {
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => Ok(response),
        Some(Ok(Err(code))) => Err(transport_error(code, url)),
        Some(Err(())) => Err(S3Error::Other("the response was already taken".to_owned()).into()),
        None => Err(S3Error::Other("the response was not ready after waiting for it".to_owned()).into()),
    }
}

/// What kind of failure a `wasi:http` error code is, for retrying.
fn transport_kind(code: &ErrorCode) -> Transport {
    match code {
        ErrorCode::HttpRequestDenied => Transport::Denied,
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => Transport::TimedOut,
        ErrorCode::ConnectionRefused
        | ErrorCode::DnsError(_)
        | ErrorCode::DnsTimeout
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::DestinationIpProhibited => Transport::Unreachable,
        ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::HttpProtocolError
        | ErrorCode::HttpResponseIncomplete
        | ErrorCode::HttpResponseHeaderSectionSize(_)
        | ErrorCode::HttpResponseHeaderSize(_)
        | ErrorCode::TlsAlertReceived(_)
        | ErrorCode::InternalError(_) => Transport::Broken,
        _ => Transport::Other,
    }
}

/// Maps a `wasi:http` error code to the contract's error, naming the URL.
pub(crate) fn transport_error(code: ErrorCode, url: &str) -> Failure {
    let transport = transport_kind(&code);
    Failure { error: describe_transport(code, url), transport }
}

fn describe_transport(code: ErrorCode, url: &str) -> S3Error {
    match code {
        // The host fills in the rule that refused it; this text is only a fallback.
        ErrorCode::HttpRequestDenied => {
            S3Error::DeniedByHost(format!("the host refused the request to {url}"))
        }
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => S3Error::Timeout,
        ErrorCode::ConnectionRefused => S3Error::Transport(format!(
            "connection refused by {url}: check that the S3 endpoint is running and reachable"
        )),
        ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => {
            S3Error::Transport(format!("cannot resolve the host of {url}: check the endpoint"))
        }
        other => S3Error::Transport(format!("the request to {url} failed: {other:?}")),
    }
}
