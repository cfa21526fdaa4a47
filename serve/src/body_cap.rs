//! A tenant's largest request body. A declared `Content-Length` over the limit is refused
//! before any byte of the body is read; a body without one (chunked) is read through
//! [`CappedBody`], which fails at the limit, so that the limit holds whatever the client
//! declares. The body's bytes are counted on the way for the metrics.
//!
//! A body that stalls fails too: no byte for the body read timeout (`--body-read-timeout`) and
//! reading it fails, so that the sandbox reading it ends and the client is answered 408. A PUT
//! whose body stalled once held its sandbox until the call's timeout (an hour).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;

/// What a capped body saw: bytes read, and whether it stopped at the limit or stalled.
#[derive(Debug, Default)]
pub struct BodyTally {
    bytes: AtomicU64,
    over: AtomicBool,
    stalled: AtomicBool,
}

impl BodyTally {
    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }

    /// Whether the body went over the limit (and reading it failed there).
    pub fn over(&self) -> bool {
        self.over.load(Ordering::SeqCst)
    }

    /// Whether no byte came for the body read timeout (and reading it failed then).
    pub fn stalled(&self) -> bool {
        self.stalled.load(Ordering::SeqCst)
    }
}

/// Whether a declared `Content-Length` is over `max` (the body is then not read at all).
pub fn declared_over(request: &hyper::Request<Incoming>, max: Option<u64>) -> bool {
    let Some(max) = max else { return false };
    request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .is_some_and(|length| length > max)
}

/// A request body that fails past `max` bytes or after `read_timeout` without a byte,
/// counting what it passes.
pub struct CappedBody {
    inner: Incoming,
    max: Option<u64>,
    tally: Arc<BodyTally>,
    read_timeout: Duration,
    /// When reading fails unless a frame arrives first; reset at every frame.
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl CappedBody {
    /// `inner`, capped at `max` (none: only counted), failing when no frame comes for
    /// `read_timeout`, and its tally. Must be called within the tokio runtime.
    pub fn new(inner: Incoming, max: Option<u64>, read_timeout: Duration) -> (Self, Arc<BodyTally>) {
        let tally = Arc::new(BodyTally::default());
        let deadline = Box::pin(tokio::time::sleep(read_timeout));
        (Self { inner, max, tally: tally.clone(), read_timeout, deadline }, tally)
    }
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = ErrorCode;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ErrorCode>>> {
        let this = &mut *self;
        if this.tally.stalled() {
            return Poll::Ready(Some(Err(ErrorCode::ConnectionReadTimeout)));
        }
        if this.tally.over() {
            return Poll::Ready(Some(Err(ErrorCode::HttpRequestBodySize(Some(this.tally.bytes())))));
        }
        let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(ErrorCode::from(error)))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.tally.stalled.store(true, Ordering::SeqCst);
                    return Poll::Ready(Some(Err(ErrorCode::ConnectionReadTimeout)));
                }
                return Poll::Pending;
            }
        };
        let next = tokio::time::Instant::now() + this.read_timeout;
        this.deadline.as_mut().reset(next);
        if let Some(data) = frame.data_ref() {
            let total = this.tally.bytes.fetch_add(data.len() as u64, Ordering::SeqCst) + data.len() as u64;
            if this.max.is_some_and(|max| total > max) {
                this.tally.over.store(true, Ordering::SeqCst);
                return Poll::Ready(Some(Err(ErrorCode::HttpRequestBodySize(Some(total)))));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
