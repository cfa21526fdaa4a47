//! A `wasi:io` output stream that writes into the host's `AsyncWrite` on the guest's own task.
//!
//! wasmtime-wasi's `AsyncWriteStream` spawns a worker task per stream and hands every write and
//! flush to it: on a small GET into a sink, that is a task spawned per call and a wake-up of
//! another task for each write, each a context switch on the call's path. This stream keeps
//! the guest's writes in a buffer of at most its budget and writes them out when the guest
//! waits on the stream (its pollable), or at once when the writer takes them without waiting.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// An output stream over `W`, with at most `budget` bytes written and not yet taken by `W`.
pub(crate) struct InlineWriteStream<W> {
    writer: Pin<Box<W>>,
    /// Written by the guest, not yet taken by the writer, oldest first.
    buffered: VecDeque<Bytes>,
    buffered_bytes: usize,
    budget: usize,
    /// The guest asked for a flush that has not yet completed.
    flush_pending: bool,
    /// The writer's failure, reported to the guest at its next operation.
    error: Option<io::Error>,
    /// The failure was reported: the stream is closed from then on.
    closed: bool,
}

impl<W: AsyncWrite + Send + 'static> InlineWriteStream<W> {
    /// A stream over `writer` that buffers at most `budget` bytes.
    pub(crate) fn new(budget: usize, writer: W) -> Self {
        Self {
            writer: Box::pin(writer),
            buffered: VecDeque::new(),
            buffered_bytes: 0,
            budget,
            flush_pending: false,
            error: None,
            closed: false,
        }
    }

    /// Hands buffered bytes to the writer, then the flush if one is pending, until done or the
    /// writer has to wait (it then wakes `cx`). A failure is kept for the guest.
    fn poll_progress(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while let Some(front) = self.buffered.front_mut() {
            match self.writer.as_mut().poll_write(cx, front) {
                Poll::Ready(Ok(0)) => return self.fail(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.buffered_bytes -= n;
                    if n == front.len() {
                        self.buffered.pop_front();
                    } else {
                        let _ = front.split_to(n);
                    }
                }
                Poll::Ready(Err(error)) => return self.fail(error),
                Poll::Pending => return Poll::Pending,
            }
        }
        if self.flush_pending {
            match self.writer.as_mut().poll_flush(cx) {
                Poll::Ready(Ok(())) => self.flush_pending = false,
                Poll::Ready(Err(error)) => return self.fail(error),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(())
    }

    /// Progress without waiting: what the writer takes at once.
    fn progress_now(&mut self) {
        let _ = self.poll_progress(&mut Context::from_waker(Waker::noop()));
    }

    fn fail(&mut self, error: io::Error) -> Poll<()> {
        self.error = Some(error);
        self.buffered.clear();
        self.buffered_bytes = 0;
        self.flush_pending = false;
        Poll::Ready(())
    }

    /// The writer's failure once, then `Closed`.
    fn check_error(&mut self) -> StreamResult<()> {
        if let Some(error) = self.error.take() {
            self.closed = true;
            return Err(StreamError::LastOperationFailed(error.into()));
        }
        if self.closed {
            return Err(StreamError::Closed);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl<W: AsyncWrite + Send + 'static> OutputStream for InlineWriteStream<W> {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.check_error()?;
        if self.flush_pending {
            return Err(StreamError::trap("write not permitted while flush pending"));
        }
        if bytes.len() > self.budget - self.buffered_bytes {
            return Err(StreamError::trap("write exceeded budget"));
        }
        if !bytes.is_empty() {
            self.buffered_bytes += bytes.len();
            self.buffered.push_back(bytes);
        }
        self.progress_now();
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.check_error()?;
        self.flush_pending = true;
        self.progress_now();
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.check_error()?;
        if self.flush_pending {
            return Ok(0);
        }
        Ok(self.budget - self.buffered_bytes)
    }
}

#[async_trait::async_trait]
impl<W: AsyncWrite + Send + 'static> Pollable for InlineWriteStream<W> {
    async fn ready(&mut self) {
        // Ready when there is room to write or a failure to report, as wasmtime-wasi's streams.
        poll_fn(|cx| match self.poll_progress(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending if self.buffered_bytes < self.budget && !self.flush_pending => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `per_poll` bytes a poll and is pending every other poll.
    struct Slow {
        taken: Vec<u8>,
        flushed: usize,
        per_poll: usize,
        pending_next: bool,
        fail: bool,
    }

    impl AsyncWrite for Slow {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            if self.fail {
                return Poll::Ready(Err(io::Error::other("disk full")));
            }
            self.pending_next = !self.pending_next;
            if !self.pending_next {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let n = buf.len().min(self.per_poll);
            self.taken.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushed = self.taken.len();
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn slow(fail: bool) -> InlineWriteStream<Slow> {
        InlineWriteStream::new(
            8,
            Slow { taken: Vec::new(), flushed: 0, per_poll: 3, pending_next: false, fail },
        )
    }

    #[tokio::test]
    async fn every_byte_arrives_in_order_and_the_flush_completes() {
        let mut stream = slow(false);
        let data: Vec<u8> = (0..100).collect();
        for chunk in data.chunks(5) {
            let room = stream.write_ready().await.expect("room");
            assert!((1..=8).contains(&room), "{room}");
            let mut chunk = Bytes::copy_from_slice(chunk);
            while !chunk.is_empty() {
                let room = stream.write_ready().await.expect("room");
                stream.write(chunk.split_to(room.min(chunk.len()))).expect("write");
            }
        }
        stream.flush().expect("flush");
        stream.write_ready().await.expect("flushed");
        let writer = stream.writer.as_ref().get_ref();
        assert_eq!(writer.taken, data);
        assert_eq!(writer.flushed, 100);
    }

    #[tokio::test]
    async fn more_than_the_budget_traps_and_a_write_during_a_flush_traps() {
        let mut stream = slow(false);
        assert!(matches!(stream.write(Bytes::from(vec![0; 9])), Err(StreamError::Trap(_))));
        stream.write(Bytes::from(vec![0; 8])).expect("within the budget");
        stream.flush().expect("flush");
        assert_eq!(stream.check_write().expect("no error"), 0, "no room while a flush is pending");
        assert!(matches!(stream.write(Bytes::from_static(b"x")), Err(StreamError::Trap(_))));
    }

    #[tokio::test]
    async fn a_failing_writer_fails_the_next_operation_once_then_the_stream_is_closed() {
        let mut stream = slow(true);
        stream.write(Bytes::from_static(b"abc")).expect("buffered");
        stream.ready().await;
        match stream.check_write() {
            Err(StreamError::LastOperationFailed(error)) => {
                assert!(error.to_string().contains("disk full"), "{error}")
            }
            other => panic!("expected the writer's failure, got {other:?}"),
        }
        assert!(matches!(stream.check_write(), Err(StreamError::Closed)));
    }
}
