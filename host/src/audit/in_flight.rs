//! The record of a request in flight: filled in as its response arrives, counted as its bodies
//! stream, and written exactly once: when the response body ends, when it is dropped, or when
//! the call ends, whichever comes first.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use hyper::body::{Body, Frame, SizeHint};
use wasmtime_wasi_http::WasiBody;

use super::{Audit, AuditRecord};

/// One sent request's record, until it is written.
pub struct InFlight {
    audit: Audit,
    record: Mutex<Option<AuditRecord>>,
    started: Instant,
    sent: AtomicU64,
    received: AtomicU64,
}

impl InFlight {
    /// Starts timing `record`, an allowed request about to be sent.
    pub fn start(audit: Audit, record: AuditRecord) -> Arc<Self> {
        Arc::new(Self {
            audit,
            record: Mutex::new(Some(record)),
            started: Instant::now(),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
        })
    }

    fn with_record(&self, update: impl FnOnce(&mut AuditRecord)) {
        if let Some(record) = self.record.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            update(record);
        }
    }

    /// The response head arrived.
    pub fn responded(&self, status: u16, request_id: Option<String>) {
        self.with_record(|record| {
            record.status = Some(status);
            record.request_id = request_id;
        });
    }

    /// The request failed without a response.
    pub fn failed(&self, reason: String) {
        self.with_record(|record| record.reason = Some(reason));
    }

    /// Writes the record with the counts and duration so far; later calls do nothing.
    pub fn finish(&self) {
        let taken = self.record.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(mut record) = taken {
            record.bytes_sent = self.sent.load(Ordering::Relaxed);
            record.bytes_received = self.received.load(Ordering::Relaxed);
            record.duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.audit.write(record);
        }
    }
}

/// Which way a [`CountingBody`] counts.
#[derive(Debug, Clone, Copy)]
pub enum Direction {
    /// A request body: bytes sent.
    Sent,
    /// A response body: bytes received; its end writes the record.
    Received,
}

/// A body that counts its data bytes into an [`InFlight`] record.
pub struct CountingBody {
    inner: WasiBody,
    flight: Arc<InFlight>,
    direction: Direction,
}

impl CountingBody {
    /// Wraps `inner`.
    pub fn new(inner: WasiBody, flight: Arc<InFlight>, direction: Direction) -> Self {
        Self { inner, flight, direction }
    }

    fn counter(&self) -> &AtomicU64 {
        match self.direction {
            Direction::Sent => &self.flight.sent,
            Direction::Received => &self.flight.received,
        }
    }
}

impl Body for CountingBody {
    type Data = <WasiBody as Body>::Data;
    type Error = <WasiBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.counter().fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            }
            Poll::Ready(None) if matches!(self.direction, Direction::Received) => self.flight.finish(),
            _ => {}
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

impl Drop for CountingBody {
    fn drop(&mut self) {
        if matches!(self.direction, Direction::Received) {
            self.flight.finish();
        }
    }
}
