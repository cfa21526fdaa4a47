//! The Markdown report: the machine, the versions, the command, then one table per figure,
//! and the sections' charts as SVG files in [`CHART_DIR`] next to it, linked from their sections.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::Options;
use crate::stats::{Runs, fmt};

/// One figure: the plugin's runs and, where there is one, the native client's.
pub struct Row {
    label: String,
    unit: String,
    plugin: Runs,
    native: Option<Runs>,
    higher_is_better: bool,
}

impl Row {
    pub fn plugin_only(label: &str, unit: &str, plugin: Runs) -> Self {
        Self { label: label.to_owned(), unit: unit.to_owned(), plugin, native: None, higher_is_better: false }
    }

    pub fn compared(label: &str, unit: &str, plugin: Runs, native: Runs) -> Self {
        Self { native: Some(native), ..Self::plugin_only(label, unit, plugin) }
    }

    pub fn higher_is_better(mut self) -> Self {
        self.higher_is_better = true;
        self
    }
}

/// The directory, beside the report, that holds the charts; the links are relative to the report.
pub const CHART_DIR: &str = "bench-charts";

/// One SVG picture of a section, written to `CHART_DIR/file`.
struct Chart {
    file: String,
    alt: String,
    svg: String,
}

pub struct Section {
    title: String,
    text: String,
    rows: Vec<Row>,
    charts: Vec<Chart>,
}

impl Section {
    pub fn new(title: &str, text: &str, rows: Vec<Row>) -> Self {
        Self { title: title.to_owned(), text: text.to_owned(), rows, charts: Vec::new() }
    }

    /// Adds a picture, shown between the section's text and its table: `file` is its name in
    /// [`CHART_DIR`], `alt` what it shows (the Markdown image's text), `svg` the document.
    pub fn with_chart(mut self, file: &str, alt: &str, svg: String) -> Self {
        self.charts.push(Chart { file: file.to_owned(), alt: alt.to_owned(), svg });
        self
    }
}

pub struct Report {
    header: String,
    pub sections: Vec<Section>,
    started: String,
}

fn command(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn first_line_with(path: &str, prefix: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(prefix))?;
    Some(line.split_once(':').map(|(_, v)| v.trim().to_owned()).unwrap_or_default())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The version of `name` in the bench's Cargo.lock (what this binary was built with).
fn locked_version(name: &str) -> String {
    let lock = include_str!("../Cargo.lock");
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|at| lock[at + needle.len()..].split('"').next())
        .unwrap_or("unknown")
        .to_owned()
}

impl Report {
    pub fn start(options: &Options) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
        let cpu = first_line_with("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".to_owned());
        let ram = first_line_with("/proc/meminfo", "MemTotal")
            .and_then(|v| v.split_whitespace().next().and_then(|kib| kib.parse::<f64>().ok()))
            .map(|kib| format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
            .unwrap_or_else(|| "unknown".to_owned());
        let started = command("date", &["-u", "+%Y-%m-%d %H:%M:%S UTC"]);
        let mut h = String::new();
        writeln!(h, "# Benchmarks\n")?;
        writeln!(
            h,
            "Written by the benchmark suite in `bench/` (its own Cargo workspace: `cargo test --workspace` \
             never builds the native client). Every figure is min / **median** / max over several runs \
             measured in the same process, against ONE s3s-fs server (`LocalS3`, in-process on 127.0.0.1, \
             objects on the local disk), with the native client (aws-sdk-s3, plain HTTP, path-style, static \
             credentials, checksums only when required) measured in the same run. Ratios are plugin / \
             native of the medians. These are local-loopback figures: s3s-fs, the clients and (for serve) \
             the load generator all share the machine's cores, so they measure the connector's overhead, \
             not S3.\n"
        )?;
        writeln!(h, "```sh")?;
        writeln!(h, "cargo build --release -p s3-connector-cli     # the CLI, for the cold-start figures")?;
        let quick = if options.quick { " --quick" } else { "" };
        writeln!(h, "cargo run --release --manifest-path bench/Cargo.toml -- --out BENCHMARKS.md{quick}")?;
        writeln!(h, "```\n")?;
        writeln!(h, "## Machine and versions\n")?;
        writeln!(h, "| | |\n|---|---|")?;
        writeln!(h, "| CPU | {cpu} ({cores} cores) |")?;
        writeln!(h, "| RAM | {ram} |")?;
        writeln!(h, "| kernel | {} |", command("uname", &["-r"]))?;
        writeln!(h, "| rustc | {} |", command("rustc", &["--version"]))?;
        for name in [
            "wasmtime",
            "aws-sdk-s3",
            "aws-sigv4",
            "aws-smithy-http-client",
            "s3s",
            "s3s-fs",
            "hyper",
            "tokio",
        ] {
            writeln!(h, "| {name} | {} |", locked_version(name))?;
        }
        writeln!(
            h,
            "| profile | release (thin LTO, 4 codegen units); plugin: `plugin` profile (opt-level s, LTO) |"
        )?;
        let wasm = s3_connector_host::internals::PLUGIN_WASM.len();
        let edge = s3_connector_host::internals::EDGE_WASM.len();
        writeln!(
            h,
            "| components | plugin {} bytes ({:.2} MiB), edge {} bytes ({:.2} MiB): `target/plugin/wasm32-wasip2/plugin/s3_connector_plugin.wasm` and `target/plugin-edge/...`, as embedded in the host |",
            wasm,
            wasm as f64 / (1 << 20) as f64,
            edge,
            edge as f64 / (1 << 20) as f64
        )?;
        writeln!(h, "| started | {started}, load average {} |", load_average())?;
        Ok(Self { header: h, sections: Vec::new(), started })
    }

    /// Writes the report to `out` and every section's charts to `CHART_DIR` beside it.
    pub fn finish(&self, out: &Path) -> anyhow::Result<()> {
        let mut md = self.header.clone();
        let ended = command("date", &["-u", "+%Y-%m-%d %H:%M:%S UTC"]);
        writeln!(md, "| ended | {ended}, load average {} (started {}) |\n", load_average(), self.started)?;
        let chart_dir = out.parent().unwrap_or(Path::new("")).join(CHART_DIR);
        for section in &self.sections {
            writeln!(md, "## {}\n\n{}\n", section.title, section.text)?;
            for chart in &section.charts {
                std::fs::create_dir_all(&chart_dir)
                    .with_context(|| format!("creating {}", chart_dir.display()))?;
                let path = chart_dir.join(&chart.file);
                std::fs::write(&path, &chart.svg).with_context(|| format!("writing {}", path.display()))?;
                // Brackets would end the image's text early; the file name is ours and plain.
                let alt = chart.alt.replace(['[', ']'], "");
                writeln!(md, "![{alt}]({CHART_DIR}/{})\n", chart.file)?;
            }
            if section.rows.is_empty() {
                continue;
            }
            writeln!(
                md,
                "| figure | unit | plugin (min / **median** / max) | native (min / **median** / max) | plugin / native |"
            )?;
            writeln!(md, "|---|---|---|---|---|")?;
            for row in &section.rows {
                let (native, ratio) = match &row.native {
                    Some(native) => {
                        let ratio = row.plugin.median() / native.median();
                        let note = if row.higher_is_better { " (higher is better)" } else { "" };
                        (native.cell(), format!("{}{note}", fmt(ratio)))
                    }
                    None => ("-".to_owned(), "-".to_owned()),
                };
                writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    row.label,
                    row.unit,
                    row.plugin.cell(),
                    native,
                    ratio
                )?;
            }
            writeln!(md)?;
        }
        std::fs::write(out, md)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_written_beside_the_report_and_linked_in_their_section() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("BENCHMARKS.md");
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n".to_owned();
        let report = Report {
            header: "# Benchmarks\n".to_owned(),
            started: "now".to_owned(),
            sections: vec![
                Section::new("First", "Text one.", Vec::new()),
                Section::new("Second", "Text two.", vec![Row::plugin_only("x", "µs", Runs(vec![1.0]))])
                    .with_chart("latency-1k.svg", "latency [1 KiB]", svg.clone()),
            ],
        };
        report.finish(&out).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("bench-charts/latency-1k.svg")).unwrap(), svg);
        let md = std::fs::read_to_string(&out).unwrap();
        let link = "![latency 1 KiB](bench-charts/latency-1k.svg)";
        let (first, second) = (md.find("## First").unwrap(), md.find("## Second").unwrap());
        let at = md.find(link).expect("the image link");
        assert!(first < second && second < at && at < md.find("| figure |").unwrap(), "{md}");
    }
}
