//! Progress of long transfers on a terminal: a counting reader, writer, seekable source or sink
//! around the file, and a line on stderr redrawn a few times a second. Nothing is printed when stderr is not a
//! terminal, so scripts and pipes see only the results.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use s3_connector_host::seekable::{RangeReader, RangeWriter, SeekableSink, SeekableSource};

/// Transfers smaller than this finish too fast to need a progress line.
const SHOW_ABOVE: u64 = 16 << 20;

/// Counts the bytes that pass through a reader or writer.
pub struct Counted<T> {
    inner: T,
    done: Arc<AtomicU64>,
}

impl<T> Counted<T> {
    /// The count, shared: it goes on counting as the reader is read.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.done.clone()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.done.fetch_add((buf.filled().len() - before) as u64, Ordering::Relaxed);
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &result {
            self.done.fetch_add(*n as u64, Ordering::Relaxed);
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Counts the bytes read of a seekable source's ranges. A range read more than once (for its
/// checksum, then to send it, or again for a retry) counts once: each range counts up to the
/// most bytes read of it in any one pass, so the total never passes the source's length.
pub struct CountedSource<S> {
    inner: S,
    done: Arc<AtomicU64>,
    counted: Arc<Mutex<HashMap<u64, u64>>>,
}

impl<S: SeekableSource> SeekableSource for CountedSource<S> {
    fn length(&self) -> u64 {
        self.inner.length()
    }

    fn read_range(&self, offset: u64, length: u64) -> std::io::Result<RangeReader> {
        let inner = self.inner.read_range(offset, length)?;
        let (done, counted) = (self.done.clone(), self.counted.clone());
        Ok(Box::new(CountedRange { inner, offset, read: 0, done, counted }))
    }
}

/// One range of a [`CountedSource`], as it is read.
struct CountedRange {
    inner: RangeReader,
    offset: u64,
    read: u64,
    done: Arc<AtomicU64>,
    counted: Arc<Mutex<HashMap<u64, u64>>>,
}

impl AsyncRead for CountedRange {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.read += (buf.filled().len() - before) as u64;
        let mut counted = self.counted.lock().unwrap_or_else(PoisonError::into_inner);
        let best = counted.entry(self.offset).or_insert(0);
        if self.read > *best {
            self.done.fetch_add(self.read - *best, Ordering::Relaxed);
            *best = self.read;
        }
        result
    }
}

/// Counts the bytes written into a seekable sink's ranges (a range resumed after a break goes on
/// from where it stopped, so nothing counts twice).
pub struct CountedSink<S> {
    inner: S,
    done: Arc<AtomicU64>,
}

impl<S: SeekableSink> SeekableSink for CountedSink<S> {
    fn write_range(&self, offset: u64) -> std::io::Result<RangeWriter> {
        Ok(Box::new(Counted { inner: self.inner.write_range(offset)?, done: self.done.clone() }))
    }
}

/// The counter a transfer counts its bytes into: its many-object job's, when that command's
/// line shows (so that the line grows as bytes move), else its own.
fn counter() -> Arc<AtomicU64> {
    super::job_scope::job_counter().unwrap_or_else(|| Arc::new(AtomicU64::new(0)))
}

/// A progress line for one transfer; it stops and clears itself when dropped.
pub struct Progress {
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Whether a progress line can be shown at all (stderr is a terminal): a download asks S3
    /// for the object's size first only then, so that its line has a total and a percentage.
    /// Not within a many-object command whose own line shows (the two would draw over each
    /// other).
    pub fn possible() -> bool {
        // `--quiet` and `--only-show-errors` show no progress, as in the aws CLI.
        std::io::stderr().is_terminal()
            && !super::job_scope::under_many()
            && super::print::level() == super::print::Level::All
    }

    /// Wraps `inner` and, on a terminal and for a large enough `total`, shows its progress.
    pub fn start<T>(inner: T, label: String, total: Option<u64>) -> (Counted<T>, Progress) {
        let done = counter();
        (Counted { inner, done: done.clone() }, Self::show(done, label, total))
    }

    /// Wraps a seekable source and, on a terminal and when it is large enough, shows its
    /// progress.
    pub fn start_source<S: SeekableSource>(inner: S, label: String) -> (CountedSource<S>, Progress) {
        let (done, total) = (counter(), inner.length());
        let counted = Arc::new(Mutex::new(HashMap::new()));
        (CountedSource { inner, done: done.clone(), counted }, Self::show(done, label, Some(total)))
    }

    /// Wraps a seekable sink and, on a terminal and for a large enough `total`, shows its
    /// progress.
    pub fn start_sink<S: SeekableSink>(
        inner: S,
        label: String,
        total: Option<u64>,
    ) -> (CountedSink<S>, Progress) {
        let done = counter();
        (CountedSink { inner, done: done.clone() }, Self::show(done, label, total))
    }

    /// The line of a transfer whose bytes `done` counts.
    fn show(done: Arc<AtomicU64>, label: String, total: Option<u64>) -> Progress {
        let show = Self::possible() && total.is_none_or(|t| t >= SHOW_ABOVE);
        let ticker = show.then(|| {
            let done = done.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let bytes = done.load(Ordering::Relaxed);
                    super::print::error_text(format_args!(
                        "\r\x1b[2K{}",
                        line(&label, bytes, total, started.elapsed())
                    ));
                }
            })
        });
        Progress { ticker }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
            super::print::error_text("\r\x1b[2K");
        }
    }
}

/// `label  12.0 MiB / 64.0 MiB (18%)  40.1 MiB/s`.
fn line(label: &str, bytes: u64, total: Option<u64>, elapsed: Duration) -> String {
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
    let rate = mib(bytes) / elapsed.as_secs_f64().max(0.001);
    match total {
        Some(total) if total > 0 => format!(
            "{label}  {:.1} MiB / {:.1} MiB ({}%)  {rate:.1} MiB/s",
            mib(bytes),
            mib(total),
            bytes * 100 / total
        ),
        _ => format!("{label}  {:.1} MiB  {rate:.1} MiB/s", mib(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn lines_show_amount_share_and_rate() {
        let line = line("upload a.bin", 32 << 20, Some(64 << 20), Duration::from_secs(2));
        assert_eq!(line, "upload a.bin  32.0 MiB / 64.0 MiB (50%)  16.0 MiB/s");
    }

    #[tokio::test]
    async fn counted_streams_count_what_passes() {
        let (mut reader, progress) = Progress::start(&b"hello world"[..], "r".into(), Some(11));
        let mut text = String::new();
        reader.read_to_string(&mut text).await.unwrap();
        assert_eq!(reader.done.load(Ordering::Relaxed), 11);
        drop(progress);
        let (mut writer, _progress) = Progress::start(Vec::new(), "w".into(), None);
        writer.write_all(b"abc").await.unwrap();
        assert_eq!(writer.done.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn a_range_read_twice_counts_once() {
        let (source, _progress) =
            Progress::start_source(bytes::Bytes::from_static(b"0123456789"), "s".into());
        for (offset, length) in [(0, 4), (0, 4), (4, 6), (4, 3)] {
            let mut text = String::new();
            source.read_range(offset, length).unwrap().read_to_string(&mut text).await.unwrap();
        }
        assert_eq!(source.done.load(Ordering::Relaxed), 10);
    }
}
