//! Progress of long transfers on a terminal: a counting reader or writer around the file, and
//! a line on stderr redrawn a few times a second. Nothing is printed when stderr is not a
//! terminal, so scripts and pipes see only the results.

use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Transfers smaller than this finish too fast to need a progress line.
const SHOW_ABOVE: u64 = 16 << 20;

/// Counts the bytes that pass through a reader or writer.
pub struct Counted<T> {
    inner: T,
    done: Arc<AtomicU64>,
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
        std::io::stderr().is_terminal() && !super::many_progress::under_many()
    }

    /// Wraps `inner` and, on a terminal and for a large enough `total`, shows its progress.
    pub fn start<T>(inner: T, label: String, total: Option<u64>) -> (Counted<T>, Progress) {
        let done = Arc::new(AtomicU64::new(0));
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
        (Counted { inner, done }, Progress { ticker })
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
}
