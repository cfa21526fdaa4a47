//! The benchmark suite: the plugin through the host library (and `serve`, and the CLI) against
//! aws-sdk-s3, on one s3s-fs server ([`LocalS3`], 127.0.0.1 only). Writes a Markdown report.
//!
//! ```sh
//! cargo build --release -p s3-connector-cli           # the CLI, for the cold-start figures
//! cargo run --release --manifest-path bench/Cargo.toml -- --out BENCHMARKS.md
//! ```
//!
//! Every loop is bounded in count and in time; the temporary objects are deleted at the end.

mod charts;
mod native;
mod report;
mod serve_load;
mod stats;
mod svg;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use s3_connector_host::internals::InstantiationFloor;
use s3_connector_host::types::{GetOptions, PresignMethod, PresignRequest, PutOptions};
use s3_connector_host::{Connection, Connector, FileSink, FileSource, Policy, Secret, StaticCredentials};
use s3_connector_local_store::LocalS3;
use s3_connector_serve::{ClientAuth, Server};
use tokio::io::AsyncWriteExt;

use charts::{BarGroup, LatencyPanel};
use native::Native;
use report::{Report, Row, Section};
use s3_connector_host::ObjectRef;
use stats::{Runs, Samples, sample};

/// The floor component, built by build.rs from `floor/`.
static FLOOR_WASM: &[u8] = include_bytes!(env!("S3_CONNECTOR_BENCH_FLOOR_WASM"));

const BUCKET: &str = "bench";
const SMALL_KEY: &str = "small-1k.bin";
const BIG_KEY: &str = "big.bin";
const ACCESS_KEY_ID: &str = "AKBENCHMARK000000001";
const SECRET_ACCESS_KEY: &str = "bench-secret-key-for-the-local-s3s-fs-only";
const SERVE_TOKEN: &str = "bench-serve-token";
/// A ranged download's ranges in flight and their size, the plugin's and the native client's.
const RANGES_IN_FLIGHT: usize = 4;
const RANGE_BYTES: u64 = 8 << 20;

/// The report's sections, in order, as `--only` names them.
// The 1 GiB transfers go last: the gigabytes they leave for the kernel to write back made the
// microsecond figures measured after them (presigning, cold starts) noisy.
const SECTIONS: [&str; 7] = ["instantiation", "signing", "small", "concurrent", "serve", "cold", "big"];

/// What `--profile` loops for 10 s: the plugin's 1 KiB get, the native client's, an
/// instantiation, a presign.
const PROFILED: [&str; 4] = ["get", "native-get", "instantiate", "presign"];

/// What to run, from the command line.
struct Options {
    out: PathBuf,
    cli: Option<PathBuf>,
    runs: usize,
    big_bytes: u64,
    latency_count: usize,
    latency_budget: Duration,
    window: Duration,
    quick: bool,
    /// The sections to run (`--only a,b`), all when empty.
    only: Vec<String>,
    /// `--profile OP`: loop one plugin operation for a profiler instead of writing a report.
    profile: Option<String>,
}

impl Options {
    fn runs_section(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|n| n == name)
    }
}

impl Options {
    fn parse() -> anyhow::Result<Self> {
        let mut options = Options {
            out: PathBuf::from("BENCHMARKS.md"),
            cli: None,
            runs: 5,
            big_bytes: 1 << 30,
            latency_count: 1000,
            latency_budget: Duration::from_secs(5),
            window: Duration::from_secs(5),
            quick: false,
            only: Vec::new(),
            profile: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--out" => options.out = PathBuf::from(value()?),
                "--cli" => options.cli = Some(PathBuf::from(value()?)),
                "--runs" => options.runs = value()?.parse::<usize>()?.clamp(1, 20),
                "--only" => {
                    options.only = value()?.split(',').map(str::to_owned).collect();
                    if let Some(unknown) = options.only.iter().find(|name| !SECTIONS.contains(&name.as_str()))
                    {
                        bail!("--only: no section {unknown:?}; the sections are {}", SECTIONS.join(","));
                    }
                }
                "--profile" => {
                    let op = value()?;
                    if !PROFILED.contains(&op.as_str()) {
                        bail!("--profile: no operation {op:?}; the operations are {}", PROFILED.join(","));
                    }
                    options.profile = Some(op);
                }
                "--big-mib" => options.big_bytes = value()?.parse::<u64>()?.clamp(1, 4096) << 20,
                "--quick" => {
                    options.quick = true;
                    options.runs = 2;
                    options.big_bytes = 64 << 20;
                    options.latency_count = 200;
                    options.latency_budget = Duration::from_secs(1);
                    options.window = Duration::from_secs(1);
                }
                "--help" | "-h" => {
                    println!(
                        "s3-connector-bench [--out FILE] [--cli PATH-TO-s3-connector] [--runs N] [--big-mib N] [--quick] [--only {}] [--profile {}]",
                        SECTIONS.join(","),
                        PROFILED.join(",")
                    );
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (try --help)"),
            }
        }
        if options.cli.is_none() {
            // `cargo build --release -p s3-connector-cli` puts it next to this binary (one
            // target directory for both workspaces, .cargo/config.toml).
            let sibling = std::env::current_exe()?.with_file_name("s3-connector");
            options.cli = sibling.is_file().then_some(sibling);
        }
        Ok(options)
    }
}

/// The server, the two clients and a scratch directory, shared by every figure.
struct Bench {
    options: Options,
    s3: LocalS3,
    connector: Connector,
    native: Native,
    scratch: tempfile::TempDir,
    _store: tempfile::TempDir,
}

fn progress(what: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    eprintln!("[{:>7.1}s] {what}", START.get_or_init(Instant::now).elapsed().as_secs_f64());
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    progress("starting s3s-fs and loading the plugin");
    let store = tempfile::tempdir()?;
    let s3 = LocalS3::start(store.path(), ACCESS_KEY_ID, Secret::new(SECRET_ACCESS_KEY)).await?;
    let connection = Connection::resolve(Some(&s3.endpoint()), Some("us-east-1"), true, |_| None)
        .map_err(anyhow::Error::msg)?;
    let credentials = Arc::new(StaticCredentials::new(ACCESS_KEY_ID, Secret::new(SECRET_ACCESS_KEY), None));
    let connector = Connector::builder(connection, Policy::allow_all(), credentials).build()?;
    let native = Native::new(&s3.endpoint(), ACCESS_KEY_ID, SECRET_ACCESS_KEY);
    let bench = Bench { options, s3, connector, native, scratch: tempfile::tempdir()?, _store: store };

    bench.connector.create_bucket(BUCKET).await?;
    bench
        .connector
        .put_object_bytes(&ObjectRef::new(BUCKET, SMALL_KEY), &[7u8; 1024], Default::default())
        .await?;
    if let Some(op) = &bench.options.profile {
        return bench.profile(op).await;
    }
    let mut report = Report::start(&bench.options)?;

    for name in SECTIONS.iter().filter(|name| bench.options.runs_section(name)) {
        let section = match *name {
            "instantiation" => bench.instantiation().await?,
            "small" => bench.small_objects().await?,
            "concurrent" => bench.concurrent_gets().await?,
            "serve" => bench.serve().await?,
            "big" => bench.big_objects().await?,
            "signing" => bench.signing().await?,
            // "cold", the last of SECTIONS.
            _ => bench.cold_start().await?,
        };
        report.sections.push(section);
    }

    report.finish(&bench.options.out)?;
    progress(&format!("wrote {}", bench.options.out.display()));
    Ok(())
}

impl Bench {
    /// Loops `op` for 10 s and prints the calls per second: for `perf record` (with
    /// `S3_CONNECTOR_PERF_MAP=1`, the guest's functions by name), not for figures.
    async fn profile(&self, op: &str) -> anyhow::Result<()> {
        let (start, mut calls) = (Instant::now(), 0u64);
        while start.elapsed() < Duration::from_secs(10) {
            match op {
                "get" => drop(
                    self.connector
                        .get_object(&ObjectRef::new(BUCKET, SMALL_KEY), tokio::io::sink(), Default::default())
                        .await?,
                ),
                "native-get" => drop(self.native.get_discard(BUCKET, SMALL_KEY).await?),
                "instantiate" => self.connector.bench_instantiate().await?,
                _ => drop(
                    self.connector
                        .presign(PresignRequest {
                            method: PresignMethod::Get,
                            object: ObjectRef::new(BUCKET, SMALL_KEY),
                            expires_in_seconds: 900,
                        })
                        .await?,
                ),
            }
            calls += 1;
        }
        println!("{op}: {calls} calls in {:.1} s", start.elapsed().as_secs_f64());
        Ok(())
    }

    async fn instantiation(&self) -> anyhow::Result<Section> {
        progress("instantiation");
        let floor = InstantiationFloor::new(FLOOR_WASM)?;
        let (mut p50, mut p99) = (Runs::default(), Runs::default());
        let (mut floor_p50, mut floor_p99, mut ratio) = (Runs::default(), Runs::default(), Runs::default());
        let mut bare_p50 = Runs::default();
        let mut count = 0;
        for _ in 0..self.options.runs {
            let c = &self.connector;
            let samples = sample(2000, self.options.latency_budget, 50, async || {
                c.bench_instantiate().await?;
                Ok(())
            })
            .await?;
            let floor_samples = sample(2000, self.options.latency_budget, 50, async || {
                c.bench_instantiate_floor(&floor).await?;
                Ok(())
            })
            .await?;
            let bare_samples = sample(2000, self.options.latency_budget, 50, async || {
                c.bench_instantiate_bare().await?;
                Ok(())
            })
            .await?;
            bare_p50.push(bare_samples.percentile_us(50.0));
            count = samples.len();
            p50.push(samples.percentile_us(50.0));
            p99.push(samples.percentile_us(99.0));
            floor_p50.push(floor_samples.percentile_us(50.0));
            floor_p99.push(floor_samples.percentile_us(99.0));
            ratio.push(samples.percentile_us(50.0) / floor_samples.percentile_us(50.0));
        }
        let verdict = if ratio.median() <= 1.5 { "met" } else { "missed" };
        Ok(Section::new(
            "Instantiation",
            &format!(
                "A fresh instance of the plugin from the process-wide `InstancePre` with the pooling \
                 allocator, dropped at once (`Connector::bench_instantiate`, `#[doc(hidden)]`: a slot of \
                 the pool, `Store::new` with the call's state and limits, `instantiate_async`, and the \
                 function a typed call runs (`head-object`) looked up and type-checked, as a typed call \
                 does; the row \"without looking up the function\" leaves that out). The floor: \
                 `bench/floor/`, a wasm32-wasip2 program that does nothing ({floor_bytes} bytes), compiled by \
                 the same engine, linked with WASI and instantiated the same way in the same run \
                 (`Connector::bench_instantiate_floor`). Up to {count} instantiations a run; {runs} runs. \
                 \n\n**Target plugin/floor p50 ≤ 1.5, this run:** {ratio:.2} ({verdict}).",
                floor_bytes = FLOOR_WASM.len(),
                runs = self.options.runs,
                ratio = ratio.median(),
            ),
            vec![
                Row::plugin_only("instantiate p50", "µs", p50),
                Row::plugin_only("instantiate p99", "µs", p99),
                Row::plugin_only("instantiate without looking up the function p50", "µs", bare_p50),
                Row::plugin_only("floor: do-nothing component p50", "µs", floor_p50),
                Row::plugin_only("floor: do-nothing component p99", "µs", floor_p99),
                Row::plugin_only("plugin p50 / floor p50", "x", ratio),
            ],
        ))
    }

    async fn small_objects(&self) -> anyhow::Result<Section> {
        progress("1 KiB put, get, head");
        let body = [42u8; 1024];
        let mut rows = Vec::new();
        let mut verdicts = Vec::new();
        // Every run's samples, per operation and side, merged for the chart.
        let mut distributions = Vec::new();
        for op in ["put", "get", "head"] {
            let (mut pp50, mut pp99, mut np50, mut np99) =
                (Runs::default(), Runs::default(), Runs::default(), Runs::default());
            let (mut plugin_runs, mut native_runs) = (Vec::new(), Vec::new());
            for _ in 0..self.options.runs {
                let (count, budget) = (self.options.latency_count, self.options.latency_budget);
                let c = &self.connector;
                let plugin = sample(count, budget, 20, async || {
                    match op {
                        "put" => drop(
                            c.put_object_bytes(
                                &ObjectRef::new(BUCKET, "put-1k.bin"),
                                &body,
                                Default::default(),
                            )
                            .await?,
                        ),
                        "get" => drop(
                            c.get_object(
                                &ObjectRef::new(BUCKET, SMALL_KEY),
                                tokio::io::sink(),
                                Default::default(),
                            )
                            .await?,
                        ),
                        _ => drop(c.head_object(&ObjectRef::new(BUCKET, SMALL_KEY)).await?),
                    }
                    Ok(())
                })
                .await?;
                let n = &self.native;
                let native = sample(count, budget, 20, async || {
                    match op {
                        "put" => n.put_bytes(BUCKET, "put-1k-native.bin", &body).await?,
                        "get" => drop(n.get_discard(BUCKET, SMALL_KEY).await?),
                        _ => n.head(BUCKET, SMALL_KEY).await?,
                    }
                    Ok(())
                })
                .await?;
                pp50.push(plugin.percentile_us(50.0));
                pp99.push(plugin.percentile_us(99.0));
                np50.push(native.percentile_us(50.0));
                np99.push(native.percentile_us(99.0));
                plugin_runs.push(plugin);
                native_runs.push(native);
            }
            distributions.push((op, Samples::merged(plugin_runs), Samples::merged(native_runs)));
            let ratio = pp50.median() / np50.median();
            let verdict = if ratio <= 1.10 { "met" } else { "missed" };
            verdicts.push(format!("{op} {} ({verdict})", stats::fmt(ratio)));
            rows.push(Row::compared(&format!("{op} p50"), "µs", pp50, np50));
            rows.push(Row::compared(&format!("{op} p99"), "µs", pp99, np99));
        }
        // What a fresh instance pays that a pooled client does not: a new TCP connection per request.
        let address = self.s3.endpoint().trim_start_matches("http://").to_owned();
        let mut connect = Runs::default();
        for _ in 0..self.options.runs {
            let samples = sample(self.options.latency_count, self.options.latency_budget, 20, async || {
                drop(tokio::net::TcpStream::connect(address.as_str()).await?);
                Ok(())
            })
            .await?;
            connect.push(samples.percentile_us(50.0));
        }
        rows.push(Row::plugin_only("reference: TCP connect to s3s-fs p50 (no request)", "µs", connect));
        let panels: Vec<LatencyPanel<'_>> = distributions
            .iter()
            .map(|(op, plugin, native)| LatencyPanel { title: op, plugin, native })
            .collect();
        let chart = charts::latency_cdfs("1 KiB objects: latency per call, plugin vs native", &panels);
        Ok(Section::new(
            "1 KiB objects: latency",
            &format!(
                "One call at a time: the plugin through the host library (`Connector::put_object_bytes`, \
                 `get_object` into `tokio::io::sink()`, `head_object`; each call a fresh instance) against \
                 aws-sdk-s3 (`put_object`, `get_object` with the body read, `head_object`). Per run up to {} \
                 calls or {:?}, after 20 unmeasured; plugin and native alternate run by run; {} runs. \
                 Target: plugin/native p50 ≤ 1.10. Both keep connections alive (the plugin's instances \
                 share the host's connection pool). The last row times a bare loopback connect. \
                 The chart: per operation, the distribution of every measured call of all {} runs \
                 merged (up to {} calls a side), as the fraction of calls at most that slow, at each \
                 percentile from 0 to 100; its legend's p50 is the merged calls' median, so it can \
                 differ from the table's, the median of the runs' p50s.\n\n\
                 **Target plugin/native p50 ≤ 1.10, this run:** {}.",
                self.options.latency_count,
                self.options.latency_budget,
                self.options.runs,
                self.options.runs,
                self.options.runs * self.options.latency_count,
                verdicts.join(", ")
            ),
            rows,
        )
        .with_chart(
            "latency-1k.svg",
            "1 KiB put, get and head: latency distributions, plugin vs native",
            chart,
        ))
    }

    async fn concurrent_gets(&self) -> anyhow::Result<Section> {
        progress("16 concurrent 1 KiB gets");
        const TASKS: usize = 16;
        let window = self.options.window;
        let (mut plugin_rate, mut native_rate) = (Runs::default(), Runs::default());
        let runs = self.options.runs.min(3);
        for _ in 0..runs {
            for side in ["plugin", "native"] {
                let done = Arc::new(AtomicU64::new(0));
                let deadline = Instant::now() + window;
                let start = Instant::now();
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..TASKS {
                    let done = done.clone();
                    let connector = self.connector.clone();
                    let client = self.native.client.clone();
                    tasks.spawn(async move {
                        // Bounded by the window, and by a count no 5-second window reaches.
                        for _ in 0..1_000_000 {
                            if Instant::now() >= deadline {
                                break;
                            }
                            if side == "plugin" {
                                connector
                                    .get_object(
                                        &ObjectRef::new(BUCKET, SMALL_KEY),
                                        tokio::io::sink(),
                                        Default::default(),
                                    )
                                    .await?;
                            } else {
                                let answer = client.get_object().bucket(BUCKET).key(SMALL_KEY).send().await?;
                                answer.body.collect().await?;
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        anyhow::Ok(())
                    });
                }
                while let Some(result) = tasks.join_next().await {
                    result??;
                }
                let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
                if side == "plugin" { plugin_rate.push(rate) } else { native_rate.push(rate) }
            }
        }
        let chart = charts::grouped_bars(
            "16 concurrent 1 KiB gets",
            "ops/s",
            &[BarGroup { label: "16 tasks, 1 KiB get", plugin: &plugin_rate, native: &native_rate }],
        );
        Ok(Section::new(
            "16 concurrent 1 KiB gets",
            &format!(
                "16 tasks on the same Tokio runtime (2 worker threads) each GET the same 1 KiB object in a \
                 loop for {window:?}; operations per second over the window. {runs} runs each."
            ),
            vec![Row::compared("ops/s", "ops/s", plugin_rate, native_rate).higher_is_better()],
        )
        .with_chart(
            "concurrent-gets.svg",
            "16 concurrent 1 KiB gets: ops/s, plugin vs native",
            chart,
        ))
    }

    async fn serve(&self) -> anyhow::Result<Section> {
        progress("serve mode");
        let auth = ClientAuth::Bearer(Secret::new(SERVE_TOKEN));
        let server = Server::bind("127.0.0.1:0".parse()?, self.connector.clone(), auth).await?;
        let address = server.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        let path = format!("/{BUCKET}/{SMALL_KEY}");
        // Warm up: the edge component is compiled (or loaded from the cache) on first use.
        serve_load::run(address, &path, SERVE_TOKEN, 1, Duration::from_millis(500)).await?;
        let runs = self.options.runs.min(3);
        let mut rows = Vec::new();
        let mut one_connection_p50 = Runs::default();
        for connections in [1usize, 16, 64] {
            let (mut rate, mut p50, mut p99) = (Runs::default(), Runs::default(), Runs::default());
            for _ in 0..runs {
                let load =
                    serve_load::run(address, &path, SERVE_TOKEN, connections, self.options.window).await?;
                rate.push(load.rate);
                p50.push(load.samples.percentile_us(50.0));
                p99.push(load.samples.percentile_us(99.0));
            }
            if connections == 1 {
                one_connection_p50 = p50.clone();
            }
            rows.push(Row::plugin_only(&format!("{connections} conn: requests/s"), "req/s", rate));
            rows.push(Row::plugin_only(&format!("{connections} conn: p50"), "µs", p50));
            rows.push(Row::plugin_only(&format!("{connections} conn: p99"), "µs", p99));
        }
        let _ = stop.send(());
        let left = running.await?;
        if left != 0 {
            bail!("serve did not drain: {left} requests left");
        }
        // The same GET through the library, measured now, for the overhead of serve.
        let mut library_p50 = Runs::default();
        for _ in 0..runs {
            let c = &self.connector;
            let samples = sample(self.options.latency_count, self.options.latency_budget, 20, async || {
                c.get_object(&ObjectRef::new(BUCKET, SMALL_KEY), tokio::io::sink(), Default::default())
                    .await?;
                Ok(())
            })
            .await?;
            library_p50.push(samples.percentile_us(50.0));
        }
        let overhead = Runs(
            one_connection_p50.0.iter().zip(&library_p50.0).map(|(serve, library)| serve - library).collect(),
        );
        rows.push(Row::plugin_only("library get_object p50 (same run)", "µs", library_p50));
        rows.push(Row::plugin_only("serve overhead: 1 conn p50 − library p50", "µs", overhead));
        Ok(Section::new(
            "serve mode: 1 KiB GET",
            &format!(
                "`s3_connector_serve::Server` on 127.0.0.1 with a bearer token, one fresh edge instance \
                 per request, in front of the same s3s-fs. Load: the bench's own bounded loop \
                 (hyper HTTP/1.1 client, keep-alive, one request at a time per connection, {window:?} per \
                 run; `oha` was not tried: installing it is a release build of its own, which did not \
                 fit this session's time on 2 shared cores). \
                 The load generator, `serve` and s3s-fs share one process and the machine's 2 cores. \
                 {runs} runs per level.",
                window = self.options.window
            ),
            rows,
        ))
    }

    async fn big_objects(&self) -> anyhow::Result<Section> {
        let size = self.options.big_bytes;
        let mib = size >> 20;
        progress(&format!("{mib} MiB objects: writing the source file"));
        let source = self.scratch.path().join("source.bin");
        write_source(&source, size).await?;
        let runs = self.options.runs.min(3);
        let mb_per_s = |elapsed: Duration| size as f64 / 1e6 / elapsed.as_secs_f64();
        let mut rows = Vec::new();
        // Two ways to put, each compared with the native client doing the same: one request,
        // and multipart with the plugin's defaults (8 MiB parts, 4 in flight).
        const PART: u64 = 8 << 20;
        // "file" is `put_object_from`: the host reads each part's range of the file into that
        // part's request body, so no part is copied whole into guest memory.
        let sides = ["single", "native-single", "known", "unknown", "file", "native-multipart"];
        let mut put_rate: [Runs; 6] = Default::default();
        let mut put_rss: [Runs; 6] = Default::default();
        let mut put_peak: [Runs; 6] = Default::default();
        let (mut get_plugin, mut get_native) = (Runs::default(), Runs::default());
        let (mut rss_get_plugin, mut rss_get_native) = (Runs::default(), Runs::default());
        let (mut peak_get_plugin, mut peak_get_native) = (Runs::default(), Runs::default());
        let (mut ranges_plugin, mut ranges_native) = (Runs::default(), Runs::default());
        let (mut rss_ranges_plugin, mut rss_ranges_native) = (Runs::default(), Runs::default());
        let (mut peak_ranges_plugin, mut peak_ranges_native) = (Runs::default(), Runs::default());
        let mut hwm_reset = true;
        for run in 0..runs {
            progress(&format!("{mib} MiB objects: run {}", run + 1));
            for (i, side) in sides.iter().enumerate() {
                let baseline = memory::reset_peak(&mut hwm_reset);
                let start = Instant::now();
                match *side {
                    "native-single" => self.native.put_file(BUCKET, BIG_KEY, &source).await?,
                    "native-multipart" => {
                        self.native.put_file_multipart(BUCKET, BIG_KEY, &source, PART, 4).await?
                    }
                    "file" => {
                        let file = FileSource::open(&source)?;
                        self.connector
                            .put_object_from(&ObjectRef::new(BUCKET, BIG_KEY), file, Default::default())
                            .await?;
                    }
                    _ => {
                        let file = tokio::fs::File::open(&source).await?;
                        let length = (*side != "unknown").then_some(size);
                        // At the threshold the plugin still sends one request.
                        let options = PutOptions {
                            multipart_threshold: (*side == "single").then_some(size),
                            ..Default::default()
                        };
                        self.connector
                            .put_object(&ObjectRef::new(BUCKET, BIG_KEY), file, length, options)
                            .await?;
                    }
                }
                let elapsed = start.elapsed();
                let (growth, peak) = memory::since(baseline);
                put_rate[i].push(mb_per_s(elapsed));
                put_rss[i].push(growth);
                put_peak[i].push(peak);
                // Check the object arrived whole before counting the figure as a put.
                let info = self.connector.head_object(&ObjectRef::new(BUCKET, BIG_KEY)).await?;
                if info.size != size {
                    bail!("the {side} put stored {} bytes, not {size}", info.size);
                }
            }
            // "ranges" is `get_object_into` a `FileSink`, 4 ranges of 8 MiB in flight, each
            // written at its offset as it arrives; "native-ranges" the same with aws-sdk-s3.
            let copy = self.scratch.path().join("copy.bin");
            for side in ["plugin", "native", "ranges", "native-ranges"] {
                let baseline = memory::reset_peak(&mut hwm_reset);
                let start = Instant::now();
                let got = match side {
                    "plugin" => {
                        let counter = CountingSink::default();
                        let count = counter.0.clone();
                        self.connector
                            .get_object(&ObjectRef::new(BUCKET, BIG_KEY), counter, Default::default())
                            .await?;
                        count.load(Ordering::Relaxed)
                    }
                    "native" => self.native.get_discard(BUCKET, BIG_KEY).await?,
                    "ranges" => {
                        let sink = FileSink::create(&copy)?;
                        let options = GetOptions {
                            parallel_ranges: Some(RANGES_IN_FLIGHT as u32),
                            range_size: Some(RANGE_BYTES),
                            ..Default::default()
                        };
                        let info = self
                            .connector
                            .get_object_into(&ObjectRef::new(BUCKET, BIG_KEY), sink.clone(), options)
                            .await?;
                        sink.persist()?;
                        info.size
                    }
                    _ => {
                        self.native
                            .get_ranges_into_file(BUCKET, BIG_KEY, &copy, RANGE_BYTES, RANGES_IN_FLIGHT)
                            .await?
                    }
                };
                let elapsed = start.elapsed();
                if got != size || (side.ends_with("ranges") && std::fs::metadata(&copy)?.len() != size) {
                    bail!("the {side} get read {got} bytes, not {size}");
                }
                std::fs::remove_file(&copy).ok();
                let (growth, peak) = memory::since(baseline);
                let (rate, rss, highest) = match side {
                    "plugin" => (&mut get_plugin, &mut rss_get_plugin, &mut peak_get_plugin),
                    "native" => (&mut get_native, &mut rss_get_native, &mut peak_get_native),
                    "ranges" => (&mut ranges_plugin, &mut rss_ranges_plugin, &mut peak_ranges_plugin),
                    _ => (&mut ranges_native, &mut rss_ranges_native, &mut peak_ranges_native),
                };
                rate.push(mb_per_s(elapsed));
                rss.push(growth);
                highest.push(peak);
            }
        }
        self.connector.delete_object(&ObjectRef::new(BUCKET, BIG_KEY)).await?;
        std::fs::remove_file(&source)?;
        let [single, native_single, known, unknown, file, native_multipart] = put_rate;
        // The unknown-length and file puts are compared with the same native multipart put.
        let chart = charts::grouped_bars(
            &format!("{mib} MiB objects: throughput"),
            "MB/s",
            &[
                BarGroup { label: "put, 1 request", plugin: &single, native: &native_single },
                BarGroup { label: "multipart, known", plugin: &known, native: &native_multipart },
                BarGroup { label: "multipart, unknown", plugin: &unknown, native: &native_multipart },
                BarGroup { label: "multipart, file", plugin: &file, native: &native_multipart },
                BarGroup { label: "get", plugin: &get_plugin, native: &get_native },
                BarGroup { label: "get, 4 ranges to file", plugin: &ranges_plugin, native: &ranges_native },
            ],
        );
        rows.push(Row::compared("put, one request", "MB/s", single, native_single).higher_is_better());
        rows.push(
            Row::compared("put, multipart, known length", "MB/s", known, native_multipart.clone())
                .higher_is_better(),
        );
        rows.push(
            Row::compared("put, multipart, unknown length", "MB/s", unknown, native_multipart.clone())
                .higher_is_better(),
        );
        rows.push(
            Row::compared("put, multipart, from a file (put_object_from)", "MB/s", file, native_multipart)
                .higher_is_better(),
        );
        rows.push(
            Row::compared("get into a discarding sink", "MB/s", get_plugin, get_native).higher_is_better(),
        );
        rows.push(
            Row::compared(
                "get, 4 ranges into a file (get_object_into)",
                "MB/s",
                ranges_plugin,
                ranges_native,
            )
            .higher_is_better(),
        );
        let [single, native_single, known, unknown, file, native_multipart] = put_rss;
        rows.push(Row::compared("peak RSS growth: put, one request", "MiB", single, native_single));
        rows.push(Row::compared(
            "peak RSS growth: put, multipart, known length",
            "MiB",
            known,
            native_multipart.clone(),
        ));
        rows.push(Row::compared(
            "peak RSS growth: put, multipart, unknown length",
            "MiB",
            unknown,
            native_multipart.clone(),
        ));
        rows.push(Row::compared(
            "peak RSS growth: put, multipart, from a file (put_object_from)",
            "MiB",
            file,
            native_multipart,
        ));
        rows.push(Row::compared("peak RSS growth: get", "MiB", rss_get_plugin, rss_get_native));
        rows.push(Row::compared(
            "peak RSS growth: get, 4 ranges into a file (get_object_into)",
            "MiB",
            rss_ranges_plugin,
            rss_ranges_native,
        ));
        let [_, _, known, _, file, native_multipart] = put_peak;
        rows.push(Row::compared(
            "peak RSS of the process: put, multipart, known length",
            "MiB",
            known,
            native_multipart.clone(),
        ));
        rows.push(Row::compared(
            "peak RSS of the process: put, multipart, from a file (put_object_from)",
            "MiB",
            file,
            native_multipart,
        ));
        rows.push(Row::compared("peak RSS of the process: get", "MiB", peak_get_plugin, peak_get_native));
        rows.push(Row::compared(
            "peak RSS of the process: get, 4 ranges into a file (get_object_into)",
            "MiB",
            peak_ranges_plugin,
            peak_ranges_native,
        ));
        let memory_note = if hwm_reset {
            "Peak RSS growth: `VmHWM` after the transfer minus `VmRSS` before it, the peak reset \
             before each transfer (`echo 5 > /proc/self/clear_refs`); it is the whole process's, so it \
             includes s3s-fs's buffers (the same server for both clients), and memory the allocator \
             kept from an earlier transfer is reused without growth, so the absolute peak is given too."
        } else {
            "Peak RSS growth: the kernel refused to reset `VmHWM` (`/proc/self/clear_refs`), so the \
             figures are the growth of the process's all-time peak and only an upper bound."
        };
        Ok(Section::new(
            &format!("{mib} MiB objects: throughput and memory"),
            &format!(
                "One {mib} MiB object (MB = 10^6 bytes), read from a file in the scratch directory (in the \
                 page cache after the first run). Plugin: `Connector::put_object` of a `tokio::fs::File`: in one request \
                 (the length given, `multipart_threshold` at the size), and multipart with the defaults (8 MiB \
                 parts, 4 in flight) with `Some(len)` and with `None`; `Connector::put_object_from` of a \
                 `FileSource` (multipart, the defaults; the host reads each part's range into its request); `Connector::get_object` into a sink \
                 that counts and discards; `Connector::get_object_into` a `FileSink` in the scratch directory, \
                 4 ranges of 8 MiB in flight, each written at its offset as it arrives, then renamed into place. \
                 Native: aws-sdk-s3 `put_object` with `ByteStream::from_path` and \
                 the length for one request; for multipart `create_multipart_upload`, `upload_part` of 8 MiB \
                 ranges of the file (`ByteStream::read_from`), 4 in flight, and `complete_multipart_upload` \
                 (the SDK has no unknown-length put: that row compares with the same native multipart); \
                 `get_object` with the body read chunk by chunk and discarded; for the file, a HEAD then 4 ranged \
                 `get_object`s of 8 MiB in flight, each body written chunk by chunk at its offset \
                 (`write_all_at`). s3s-fs writes every object to disk (the same \
                 filesystem) and hashes it. {runs} runs. {memory_note} The chart: the MB/s rows, \
                 plugin beside native (the three multipart puts beside the same native multipart)."
            ),
            rows,
        )
        .with_chart("throughput.svg", &format!("{mib} MiB objects: MB/s, plugin vs native"), chart))
    }

    async fn signing(&self) -> anyhow::Result<Section> {
        progress("SigV4 presigning");
        let runs = self.options.runs;
        let (mut presign, mut instantiate, mut guest, mut native) =
            (Runs::default(), Runs::default(), Runs::default(), Runs::default());
        let url = format!("{}/{BUCKET}/{SMALL_KEY}", self.s3.endpoint());
        for _ in 0..runs {
            let (count, budget) = (self.options.latency_count, self.options.latency_budget);
            let c = &self.connector;
            let p = sample(count, budget, 20, async || {
                let request = PresignRequest {
                    method: PresignMethod::Get,
                    object: ObjectRef::new(BUCKET, SMALL_KEY),
                    expires_in_seconds: 900,
                };
                c.presign(request).await?;
                Ok(())
            })
            .await?;
            let i = sample(count, budget, 20, async || Ok(c.bench_instantiate().await?)).await?;
            let n = &self.native;
            let s = sample(count * 10, budget, 20, async || {
                n.presign(&url, Duration::from_secs(900))?;
                Ok(())
            })
            .await?;
            presign.push(p.percentile_us(50.0));
            instantiate.push(i.percentile_us(50.0));
            guest.push(p.percentile_us(50.0) - i.percentile_us(50.0));
            native.push(s.percentile_us(50.0));
        }
        Ok(Section::new(
            "SigV4 presigning",
            &format!(
                "`Connector::presign` of a GET URL (fresh instance + SigV4 inside the guest + the host's \
                 parse of the URL and policy check) and, in the same run, instantiation alone; their \
                 difference is the guest's signing plus the host's check. Native: `aws_sigv4` presigning \
                 the same URL (query-string signature, 900 s). p50 of each run; {runs} runs."
            ),
            vec![
                Row::plugin_only("Connector::presign p50", "µs", presign),
                Row::plugin_only("instantiation p50 (same run)", "µs", instantiate),
                Row::compared("signing: presign − instantiation vs aws-sigv4", "µs", guest, native),
            ],
        ))
    }

    async fn cold_start(&self) -> anyhow::Result<Section> {
        progress("cold start of the CLI");
        let Some(cli) = &self.options.cli else {
            return Ok(Section::new(
                "Cold start of `s3-connector head`",
                "Not measured: no `s3-connector` binary next to the bench and no `--cli PATH`. Build it \
                 first with `cargo build --release -p s3-connector-cli`.",
                Vec::new(),
            ));
        };
        let runs = self.options.runs;
        let cache = self.scratch.path().join("cache");
        let (mut off, mut warm) = (Runs::default(), Runs::default());
        // One unmeasured run fills the cache.
        self.head_process(cli, cache.to_str().context("a UTF-8 scratch path")?).await?;
        for _ in 0..runs {
            off.push(self.head_process(cli, "off").await?);
            warm.push(self.head_process(cli, cache.to_str().context("a UTF-8 scratch path")?).await?);
        }
        let size = std::fs::metadata(cli).map(|m| m.len() as f64 / (1 << 20) as f64).unwrap_or(f64::NAN);
        Ok(Section::new(
            "Cold start of `s3-connector head`",
            &format!(
                "A whole process: `{} --endpoint URL head s3://{BUCKET}/{SMALL_KEY}` (release build, {} MiB), \
                 credentials from the environment, wall time from spawn to exit. Without the compiled \
                 cache (`S3_CONNECTOR_CACHE_DIR=off`: Cranelift compiles the plugin in the process) and with \
                 a warm cache in a temporary directory (filled by one unmeasured run). {runs} runs each, \
                 alternating. No native figure: aws-sdk-s3 has no CLI here.",
                cli.display(),
                stats::fmt(size)
            ),
            vec![Row::plugin_only("cache off", "ms", off), Row::plugin_only("warm cache", "ms", warm)],
        ))
    }

    /// Runs `s3-connector head` once; milliseconds from spawn to exit.
    async fn head_process(&self, cli: &std::path::Path, cache: &str) -> anyhow::Result<f64> {
        let start = Instant::now();
        let mut child = tokio::process::Command::new(cli)
            .args(["--endpoint", &self.s3.endpoint(), "head", &format!("s3://{BUCKET}/{SMALL_KEY}")])
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("S3_CONNECTOR_CACHE_DIR", cache)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await??;
        let elapsed = start.elapsed();
        if !status.success() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use tokio::io::AsyncReadExt;
                pipe.read_to_string(&mut stderr).await?;
            }
            bail!("{} head failed ({status}): {stderr}", cli.display());
        }
        Ok(elapsed.as_secs_f64() * 1e3)
    }
}

/// Writes `size` bytes of a cheap pseudo-random pattern (not all zeros, not compressible).
async fn write_source(path: &std::path::Path, size: u64) -> anyhow::Result<()> {
    let mut file = tokio::io::BufWriter::new(tokio::fs::File::create(path).await?);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut block = vec![0u8; 1 << 20];
    let mut written = 0;
    while written < size {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let n = (size - written).min(block.len() as u64) as usize;
        file.write_all(&block[..n]).await?;
        written += n as u64;
    }
    file.flush().await?;
    Ok(())
}

/// A sink that counts what it is given and keeps nothing.
#[derive(Default)]
struct CountingSink(Arc<AtomicU64>);

impl tokio::io::AsyncWrite for CountingSink {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// The process's resident memory, from /proc/self/status.
mod memory {
    fn status_kib(field: &str) -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Resets the peak (VmHWM) to the current RSS; returns the current RSS in KiB.
    pub fn reset_peak(reset_works: &mut bool) -> u64 {
        if std::fs::write("/proc/self/clear_refs", "5").is_err() {
            *reset_works = false;
        }
        status_kib("VmRSS:").unwrap_or(0)
    }

    /// The peak since the reset minus `baseline_kib`, and the peak itself, in MiB.
    pub fn since(baseline_kib: u64) -> (f64, f64) {
        let peak = status_kib("VmHWM:").unwrap_or(0);
        (peak.saturating_sub(baseline_kib) as f64 / 1024.0, peak as f64 / 1024.0)
    }
}
