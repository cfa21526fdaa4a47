//! One progress line for a command that moves many objects (`cp`/`mv --recursive`, `sync`):
//! objects done of all, bytes done of all where the sizes are known, and the rate, redrawn on
//! stderr a few times a second, as the aws CLI's `Completed ... with N file(s) remaining` line.
//! Only on a terminal: pipes, scripts and tests see nothing of it. While it shows, the
//! per-transfer lines of large files are kept quiet (they would draw over it), through the
//! job's scope (`job_scope.rs`) that the transfers' tasks carry: the job's own byte counter,
//! which the transfer counts into as its bytes move, so that the line grows while objects are
//! still in flight (a recursive download once showed "0 B" until it ended).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[cfg(test)]
use super::job_scope::{quietly, under_many};
use super::progress::Progress;

/// The counts the line shows, updated as bytes move and objects finish.
#[derive(Default)]
pub struct Counts {
    done: AtomicU64,
    /// The bytes of the finished objects.
    bytes: AtomicU64,
    /// The byte counters of the objects in flight.
    running: Mutex<Vec<Arc<AtomicU64>>>,
}

impl Counts {
    /// A counter for one object starting, counted in the line until it finishes.
    pub fn start_job(&self) -> Arc<AtomicU64> {
        let counter = Arc::new(AtomicU64::new(0));
        if let Ok(mut running) = self.running.lock() {
            running.push(counter.clone());
        }
        counter
    }

    /// One object finished (copied, skipped, deleted or failed): `bytes` of it moved (its
    /// size, when it succeeded), or what its counter counted if more.
    pub fn finished(&self, counter: &Arc<AtomicU64>, bytes: u64) {
        if let Ok(mut running) = self.running.lock() {
            running.retain(|other| !Arc::ptr_eq(other, counter));
        }
        self.done.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The bytes moved so far: the finished objects' and those in flight.
    fn bytes(&self) -> u64 {
        let running = self.running.lock().map(|r| r.iter().map(|c| c.load(Ordering::Relaxed)).sum());
        self.bytes.load(Ordering::Relaxed) + running.unwrap_or(0)
    }
}

/// The line of a running many-object command; it stops and clears itself when dropped.
pub struct ManyProgress {
    /// The counts to update.
    pub counts: Arc<Counts>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl ManyProgress {
    /// Starts the line for `objects` objects of `total_bytes` in all (when every size is known),
    /// if stderr is a terminal and there is more than one object.
    pub fn start(objects: u64, total_bytes: Option<u64>) -> Self {
        let counts = Arc::new(Counts::default());
        let ticker = (Progress::possible() && objects > 1).then(|| {
            let counts = counts.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let (done, bytes) = (counts.done.load(Ordering::Relaxed), counts.bytes());
                    let text = line(done, objects, bytes, total_bytes, started.elapsed());
                    super::print::error_text(format_args!("\r\x1b[2K{text}"));
                }
            })
        });
        Self { counts, ticker }
    }

    /// Whether the line is showing (then the transfers keep their own lines quiet).
    pub fn showing(&self) -> bool {
        self.ticker.is_some()
    }
}

impl Drop for ManyProgress {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
            super::print::error_text("\r\x1b[2K");
        }
    }
}

/// `Completed 12 of 40 objects, 3.0 MiB of 10.0 MiB (1.5 MiB/s)`; without a known total,
/// `Completed 12 of 40 objects, 3.0 MiB (1.5 MiB/s)`.
pub fn line(done: u64, objects: u64, bytes: u64, total_bytes: Option<u64>, elapsed: Duration) -> String {
    let rate = bytes as f64 / elapsed.as_secs_f64().max(0.001);
    let amount = match total_bytes {
        Some(total) => format!("{} of {}", size(bytes as f64), size(total as f64)),
        None => size(bytes as f64),
    };
    format!("Completed {done} of {objects} objects, {amount} ({}/s)", size(rate))
}

/// Bytes in the largest binary unit that keeps the number under 1024, one decimal.
fn size(bytes: f64) -> String {
    let mut value = bytes;
    for unit in ["B", "KiB", "MiB", "GiB", "TiB"] {
        if value < 1024.0 || unit == "TiB" {
            return match unit {
                "B" => format!("{value:.0} B"),
                _ => format!("{value:.1} {unit}"),
            };
        }
        value /= 1024.0;
    }
    format!("{value:.1} TiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_objects_bytes_and_rate() {
        let table = [
            (
                (12, 40, 3 << 20, Some(10 << 20), 2),
                "Completed 12 of 40 objects, 3.0 MiB of 10.0 MiB (1.5 MiB/s)",
            ),
            ((0, 1000, 0, Some(4_096_000), 1), "Completed 0 of 1000 objects, 0 B of 3.9 MiB (0 B/s)"),
            ((5, 9, 512, None, 1), "Completed 5 of 9 objects, 512 B (512 B/s)"),
            ((2, 2, 3 << 30, Some(3 << 30), 3), "Completed 2 of 2 objects, 3.0 GiB of 3.0 GiB (1.0 GiB/s)"),
        ];
        for ((done, objects, bytes, total, seconds), expected) in table {
            assert_eq!(line(done, objects, bytes, total, Duration::from_secs(seconds)), expected);
        }
    }

    #[tokio::test]
    async fn transfers_know_when_a_many_object_line_shows() {
        assert!(!under_many());
        let counter = Arc::new(AtomicU64::new(0));
        assert!(quietly(counter.clone(), async { under_many() }).await);
        let counts = Counts::default();
        let job = counts.start_job();
        job.fetch_add(5, Ordering::Relaxed);
        assert_eq!(counts.bytes(), 5, "bytes in flight count");
        counts.finished(&job, 7);
        assert_eq!(counts.bytes(), 7, "then the object's size, once");
        // Off a terminal (as under `cargo test`) the line never starts.
        assert!(!ManyProgress::start(10, None).showing());
    }
}
