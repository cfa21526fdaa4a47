//! The limits on one call's instance besides its wall-clock timeout: linear memory, CPU (time
//! spent executing WebAssembly, enforced with epoch deadlines) and, in the egress guard, the
//! number of requests it may send. An instance that breaks one is stopped with a trap, and the
//! call fails with an error that names the limit.
//!
//! A leaf of the runtime: the limits' values, the errors that name them and the meters, with no
//! import from the rest of the runtime, so that every other part may use them.

use std::time::{Duration, Instant};

use wasmtime::{CallHook, Engine, ResourceLimiter, UpdateDeadline};

/// How often the engine's epoch advances: the granularity of the CPU budget, and how often a
/// running instance yields to the async executor so that timeouts and other calls get to run.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// WebAssembly execution time a call may use unless [`crate::ConnectorBuilder::cpu_budget`] says
/// otherwise. The plugin spends most of a transfer waiting on the host's I/O, which is not
/// counted, but an upload from a stream copies every 8 MiB part through its memory: the default
/// leaves room for the largest multipart upload within the default one-hour call timeout.
/// Hosts of untrusted plugins with small calls should set less.
pub const DEFAULT_CPU_BUDGET: Duration = Duration::from_secs(600);
/// Requests a call may send unless [`crate::ConnectorBuilder::max_requests_per_call`] says
/// otherwise: room for a 10,000-part multipart upload with retries.
pub const DEFAULT_MAX_REQUESTS: u32 = 50_000;

/// Linear memory one instance may grow to.
pub const MAX_INSTANCE_MEMORY: usize = 128 << 20;
/// Write calls to an outgoing body's stream that the host buffers before the guest must wait
/// (wasmtime-wasi-http's channel keeps one slot more).
pub const BODY_BUFFER_CHUNKS: usize = 1;
/// The largest single write to an outgoing body's stream.
pub const BODY_CHUNK_BYTES: usize = 1 << 20;
/// What one open body can hold in the host: every slot of its channel full.
pub const BODY_BUFFER_BYTES: usize = (BODY_BUFFER_CHUNKS + 1) * BODY_CHUNK_BYTES;
/// How many bytes a download may have in flight towards a host sink (a caller's writer, or one
/// range's writer of a seekable sink).
pub const SINK_BUDGET_BYTES: usize = 1 << 20;
/// The default cap on what the host holds for one instance: room for 16 bodies being written
/// at once (the plugin writes at most 4 parts at a time) and their headers.
pub const DEFAULT_HOST_BUFFER_BYTES: usize = 64 << 20;
/// Entries an instance's resource table may hold at once; the plugin uses a few dozen.
pub const MAX_RESOURCES: usize = 4096;
/// The largest header map the guest may build (wasmtime-wasi-http's field size limit, set by
/// `StoreState::new`). S3 itself refuses request headers over 8 KiB.
pub const MAX_HEADER_MAP_BYTES: usize = 128 << 10;
/// What the host holds for one instance, as counted from its resource table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Held {
    /// Bytes of header maps: free-standing ones and those of unsent requests and responses.
    pub header_bytes: usize,
    /// Bodies the guest writes or that wait, written, in an unsent request or response.
    pub open_bodies: usize,
}

impl Held {
    /// The bytes counted: headers plus every open body at its buffer's maximum.
    pub fn bytes(&self) -> usize {
        self.header_bytes.saturating_add(self.open_bodies.saturating_mul(BODY_BUFFER_BYTES))
    }
}

/// The limits of every instance of a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes each linear memory of an instance may grow to (at most `MAX_INSTANCE_MEMORY`).
    pub memory_bytes: usize,
    /// WebAssembly execution time per call.
    pub cpu_budget: Duration,
    /// Outgoing requests per call, allowed or not.
    pub max_requests: u32,
    /// Bytes the host may hold for an instance outside its memory (see `super::host_buffer`).
    pub host_buffer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: MAX_INSTANCE_MEMORY,
            cpu_budget: DEFAULT_CPU_BUDGET,
            max_requests: DEFAULT_MAX_REQUESTS,
            host_buffer_bytes: DEFAULT_HOST_BUFFER_BYTES,
        }
    }
}

/// The limit an instance broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// A memory asked to grow past the limit.
    Memory {
        /// The size it asked for, in bytes.
        asked: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The instance ran WebAssembly for longer than its budget.
    Cpu {
        /// The budget.
        budget: Duration,
    },
    /// The instance asked the host to hold more headers and body buffers than its cap.
    HostBuffer {
        /// What the host held for it when it asked.
        held: Held,
        /// What the refused call would have added, in bytes.
        asked: usize,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The instance built a header map larger than the host allows.
    HeaderMap {
        /// The largest header map, in bytes.
        limit: usize,
    },
    /// The instance held more host resources (streams, requests, header maps) than allowed.
    Resources {
        /// The most it may hold at once.
        limit: usize,
    },
}

/// A broken limit is the cause of the call's error ([`crate::Error::Limit`]).
impl std::error::Error for Exceeded {}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exceeded::Memory { asked, limit } => write!(
                f,
                "it exceeded its memory limit of {} MiB (a memory asked to grow to {:.1} MiB); the host \
                 stopped it",
                limit >> 20,
                *asked as f64 / f64::from(1 << 20)
            ),
            Exceeded::Cpu { budget } => write!(
                f,
                "it exceeded its CPU budget of {:.1} s of WebAssembly execution; the host stopped it",
                budget.as_secs_f64()
            ),
            Exceeded::HostBuffer { held, asked, limit } => write!(
                f,
                "it exceeded the host's buffer limit of {}: it asked for {} more while the host held {} \
                 for it ({} open request or response bodies at {} each, {} of headers); the host \
                 stopped it",
                size(*limit),
                size(*asked),
                size(held.bytes()),
                held.open_bodies,
                size(BODY_BUFFER_BYTES),
                size(held.header_bytes)
            ),
            Exceeded::HeaderMap { limit } => write!(
                f,
                "it built a header map larger than the host's limit of {} KiB; the host stopped it",
                limit >> 10
            ),
            Exceeded::Resources { limit } => write!(
                f,
                "it held more than {limit} host resources (streams, requests, header maps) at once, the \
                 host's limit; the host stopped it"
            ),
        }
    }
}

/// `bytes` for people: KiB below a MiB, MiB above.
fn size(bytes: usize) -> String {
    let bytes = bytes as f64;
    if bytes < f64::from(1 << 20) {
        format!("{:.1} KiB", bytes / 1024.0)
    } else {
        format!("{:.1} MiB", bytes / f64::from(1 << 20))
    }
}

/// One instance's meters: the memory limiter, the WebAssembly time used so far, and the limit
/// it broke, if any.
#[derive(Debug)]
pub struct InstanceLimits {
    limits: Limits,
    /// WebAssembly time of the segments that ended.
    used: Duration,
    /// When the current segment of WebAssembly execution started.
    running_since: Option<Instant>,
    /// The first limit broken; the call reports it instead of the trap.
    pub exceeded: Option<Exceeded>,
}

impl InstanceLimits {
    /// Fresh meters for `limits`.
    pub fn new(limits: Limits) -> Self {
        Self { limits, used: Duration::ZERO, running_since: None, exceeded: None }
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Starts or stops the clock as execution enters or leaves WebAssembly. Time spent in host
    /// calls (I/O, credentials) is not WebAssembly time.
    pub fn on_call_hook(&mut self, hook: CallHook, now: Instant) {
        match hook {
            CallHook::CallingWasm | CallHook::ReturningFromHost => self.running_since = Some(now),
            CallHook::CallingHost | CallHook::ReturningFromWasm => {
                if let Some(since) = self.running_since.take() {
                    self.used += now.saturating_duration_since(since);
                }
            }
        }
    }

    /// WebAssembly time used up to `now`. A segment that yielded to the executor counts its
    /// wait too: an over-estimate, never an under-estimate.
    pub fn wasm_time(&self, now: Instant) -> Duration {
        self.used + self.running_since.map_or(Duration::ZERO, |since| now.saturating_duration_since(since))
    }

    /// Called at each epoch tick while the instance runs: yield, or stop it over budget.
    pub fn on_epoch(&mut self, now: Instant) -> wasmtime::Result<UpdateDeadline> {
        if self.wasm_time(now) <= self.limits.cpu_budget {
            return Ok(UpdateDeadline::Yield(1));
        }
        let exceeded = Exceeded::Cpu { budget: self.limits.cpu_budget };
        self.exceeded.get_or_insert(exceeded);
        Err(wasmtime::format_err!("{exceeded}"))
    }
}

impl ResourceLimiter for InstanceLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.limits.memory_bytes.min(MAX_INSTANCE_MEMORY);
        if desired <= limit {
            return Ok(true);
        }
        let exceeded = Exceeded::Memory { asked: desired, limit };
        self.exceeded.get_or_insert(exceeded);
        // An error (not `false`) traps the instance: a guest that checks for failed growth
        // could otherwise spin on it.
        Err(wasmtime::format_err!("{exceeded}"))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|maximum| desired <= maximum))
    }
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] on a thread of its own, for as long as the
/// engine lives.
pub fn start_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new().name("s3-connector-epoch".to_owned()).spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(EPOCH_TICK);
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_time_in_webassembly_counts_and_the_budget_stops_it() {
        let limits = Limits { cpu_budget: Duration::from_millis(100), ..Limits::default() };
        let mut meter = InstanceLimits::new(limits);
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        meter.on_call_hook(CallHook::CallingWasm, at(0));
        meter.on_call_hook(CallHook::CallingHost, at(60));
        // Five seconds of I/O in the host.
        meter.on_call_hook(CallHook::ReturningFromHost, at(5060));
        assert_eq!(meter.wasm_time(at(5090)), Duration::from_millis(90));
        assert!(matches!(meter.on_epoch(at(5090)), Ok(UpdateDeadline::Yield(1))));
        let error = meter.on_epoch(at(5101)).map(drop).unwrap_err().to_string();
        assert!(error.contains("CPU budget of 0.1 s"), "{error}");
        assert_eq!(meter.exceeded, Some(Exceeded::Cpu { budget: Duration::from_millis(100) }));
    }

    #[test]
    fn memory_growth_past_the_limit_traps_and_is_recorded() {
        let mut meter = InstanceLimits::new(Limits { memory_bytes: 2 << 20, ..Limits::default() });
        assert!(meter.memory_growing(0, 2 << 20, None).unwrap());
        let error = meter.memory_growing(2 << 20, 3 << 20, None).unwrap_err().to_string();
        assert!(error.contains("memory limit of 2 MiB"), "{error}");
        assert_eq!(meter.exceeded, Some(Exceeded::Memory { asked: 3 << 20, limit: 2 << 20 }));
        // Never above the pooling allocator's slot.
        let mut meter = InstanceLimits::new(Limits { memory_bytes: usize::MAX, ..Limits::default() });
        assert!(meter.memory_growing(0, MAX_INSTANCE_MEMORY + 1, None).is_err());
    }
}
