//! The report's pictures: latency distributions (plugin vs native, one panel per operation) and
//! grouped throughput bars with min–max whiskers, as SVG next to the Markdown report, since
//! people compare two curves or two bars faster than two rows of numbers.

use crate::stats::{Runs, Samples};
use crate::svg::{Anchor, Svg};

/// The plugin's colour in every chart.
const PLUGIN: &str = "#1f77b4";
/// The native client's colour in every chart.
const NATIVE: &str = "#e6550d";
const AXIS: &str = "#333333";
const GRID: &str = "#dddddd";

/// The percentiles each latency curve passes through: 0 (the fastest call) to 100 (the slowest).
pub const PERCENTILES: std::ops::RangeInclusive<u32> = 0..=100;

/// One operation's latencies, both sides.
pub struct LatencyPanel<'a> {
    pub title: &'a str,
    pub plugin: &'a Samples,
    pub native: &'a Samples,
}

/// One group of bars: the plugin's runs and the native client's runs of one figure.
pub struct BarGroup<'a> {
    pub label: &'a str,
    pub plugin: &'a Runs,
    pub native: &'a Runs,
}

/// The drawing area of one chart, in SVG units.
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

const WIDTH: f64 = 760.0;
const PANEL_HEIGHT: f64 = 300.0;
const HEADER: f64 = 40.0;

/// Empirical CDFs, one panel per operation stacked vertically: x is the latency in µs on a
/// logarithmic axis (a slow tail would squash a linear one), y the fraction of calls at most
/// that slow; one curve per side through [`PERCENTILES`].
pub fn latency_cdfs(title: &str, panels: &[LatencyPanel<'_>]) -> String {
    let mut svg = Svg::new(WIDTH, HEADER + PANEL_HEIGHT * panels.len() as f64);
    svg.text((WIDTH / 2.0, 26.0), Anchor::Middle, 16.0, 0.0, title);
    for (i, panel) in panels.iter().enumerate() {
        let top = HEADER + PANEL_HEIGHT * i as f64;
        let plot =
            Plot { left: 80.0, right: WIDTH - 30.0, top: top + 30.0, bottom: top + PANEL_HEIGHT - 60.0 };
        latency_panel(&mut svg, &plot, panel);
    }
    svg.finish()
}

/// The latencies of one side at every percentile, in µs, skipping what is not a number.
fn curve(samples: &Samples) -> Vec<(f64, f64)> {
    PERCENTILES
        .map(|p| (samples.percentile_us(f64::from(p)), f64::from(p) / 100.0))
        .filter(|(us, _)| us.is_finite() && *us > 0.0)
        .collect()
}

fn latency_panel(svg: &mut Svg, plot: &Plot, panel: &LatencyPanel<'_>) {
    svg.text(((plot.left + plot.right) / 2.0, plot.top - 10.0), Anchor::Middle, 14.0, 0.0, panel.title);
    let sides = [("plugin", PLUGIN, curve(panel.plugin)), ("native", NATIVE, curve(panel.native))];
    let all = sides.iter().flat_map(|(_, _, points)| points.iter().map(|(us, _)| *us));
    let (lo, hi) = all.fold((f64::INFINITY, 0.0f64), |(lo, hi), us| (lo.min(us), hi.max(us)));
    if !(lo.is_finite() && hi > 0.0) {
        svg.text(((plot.left + plot.right) / 2.0, plot.bottom), Anchor::Middle, 12.0, 0.0, "no samples");
        return;
    }
    // A little room either side; a flat range is widened so the scale never divides by zero.
    let (lo_log, hi_log) = ((lo * 0.9).log10(), (hi * 1.1).log10());
    let (lo_log, hi_log) =
        if hi_log - lo_log < 0.05 { (lo_log - 0.05, hi_log + 0.05) } else { (lo_log, hi_log) };
    let x = |us: f64| plot.left + (us.log10() - lo_log) / (hi_log - lo_log) * (plot.right - plot.left);
    let y = |fraction: f64| plot.bottom - fraction * (plot.bottom - plot.top);
    // A tick too close to the last one drawn would print over its label.
    let mut last_tick = f64::NEG_INFINITY;
    for tick in log_ticks(10f64.powf(lo_log), 10f64.powf(hi_log)) {
        if x(tick) - last_tick < 32.0 {
            continue;
        }
        last_tick = x(tick);
        svg.line((x(tick), plot.top), (x(tick), plot.bottom), GRID, 1.0, "");
        svg.text((x(tick), plot.bottom + 16.0), Anchor::Middle, 11.0, 0.0, &tick_label(tick));
    }
    for fraction in [0.0, 0.25, 0.5, 0.75, 1.0] {
        svg.line((plot.left, y(fraction)), (plot.right, y(fraction)), GRID, 1.0, "");
        svg.text((plot.left - 6.0, y(fraction) + 4.0), Anchor::End, 11.0, 0.0, &tick_label(fraction));
    }
    axes(svg, plot);
    svg.text(
        ((plot.left + plot.right) / 2.0, plot.bottom + 36.0),
        Anchor::Middle,
        12.0,
        0.0,
        "latency per call (µs, logarithmic)",
    );
    let middle = (plot.top + plot.bottom) / 2.0;
    svg.text((plot.left - 44.0, middle), Anchor::Middle, 12.0, -90.0, "fraction of calls");
    for (i, (side, colour, points)) in sides.iter().enumerate() {
        let scaled: Vec<(f64, f64)> = points.iter().map(|(us, fraction)| (x(*us), y(*fraction))).collect();
        svg.polyline(&scaled, colour, &format!("{side}: {}", panel.title));
        // The legend sits low on the right, where a CDF leaves the plot empty.
        let row = plot.bottom - 40.0 + 18.0 * i as f64;
        svg.line((plot.right - 190.0, row), (plot.right - 165.0, row), colour, 2.0, "");
        let median = points.iter().find(|(_, fraction)| *fraction >= 0.5).map(|(us, _)| *us);
        let label = match median {
            Some(us) => format!("{side} (p50 {} µs)", crate::stats::fmt(us)),
            None => side.to_string(),
        };
        svg.text((plot.right - 160.0, row + 4.0), Anchor::Start, 12.0, 0.0, &label);
    }
}

const BAR_HEIGHT: f64 = 380.0;

/// Grouped bars, plugin beside native, each the median of its runs with a whisker from the
/// slowest to the fastest run; `unit` labels the y axis (which starts at zero).
pub fn grouped_bars(title: &str, unit: &str, groups: &[BarGroup<'_>]) -> String {
    let width = (110.0 + 150.0 * groups.len() as f64).max(440.0);
    let mut svg = Svg::new(width, BAR_HEIGHT);
    svg.text((width / 2.0, 26.0), Anchor::Middle, 16.0, 0.0, title);
    let plot = Plot { left: 80.0, right: width - 30.0, top: 70.0, bottom: BAR_HEIGHT - 60.0 };
    let highest = groups
        .iter()
        .flat_map(|g| [g.plugin.max(), g.native.max()])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let step = nice_step(if highest > 0.0 { highest } else { 1.0 }, 5.0);
    let top_value = (highest / step).ceil().max(1.0) * step;
    let y = |value: f64| plot.bottom - value / top_value * (plot.bottom - plot.top);
    let mut tick = 0.0;
    while tick <= top_value + step / 2.0 {
        svg.line((plot.left, y(tick)), (plot.right, y(tick)), GRID, 1.0, "");
        svg.text((plot.left - 6.0, y(tick) + 4.0), Anchor::End, 11.0, 0.0, &tick_label(tick));
        tick += step;
    }
    axes(&mut svg, &plot);
    let middle = (plot.top + plot.bottom) / 2.0;
    svg.text((plot.left - 54.0, middle), Anchor::Middle, 12.0, -90.0, unit);
    let group_width = (plot.right - plot.left) / groups.len().max(1) as f64;
    let bar_width = (group_width * 0.3).min(50.0);
    for (i, group) in groups.iter().enumerate() {
        let centre = plot.left + group_width * (i as f64 + 0.5);
        let sides = [
            (group.plugin, PLUGIN, centre - bar_width / 2.0 - 2.0),
            (group.native, NATIVE, centre + bar_width / 2.0 + 2.0),
        ];
        for (runs, colour, at) in sides {
            let median = runs.median();
            if !median.is_finite() {
                continue;
            }
            svg.rect(at - bar_width / 2.0, y(median), bar_width, plot.bottom - y(median), colour);
            let (low, high) = (y(runs.min()), y(runs.max()));
            svg.line((at, low), (at, high), AXIS, 1.5, "");
            for end in [low, high] {
                svg.line((at - bar_width / 4.0, end), (at + bar_width / 4.0, end), AXIS, 1.5, "");
            }
            svg.text((at, high - 5.0), Anchor::Middle, 10.0, 0.0, &crate::stats::fmt(median));
        }
        svg.text((centre, plot.bottom + 18.0), Anchor::Middle, 12.0, 0.0, group.label);
    }
    for (i, (side, colour)) in [("plugin", PLUGIN), ("native", NATIVE)].into_iter().enumerate() {
        let x = plot.right - 180.0 + 90.0 * i as f64;
        svg.rect(x, 42.0, 14.0, 14.0, colour);
        svg.text((x + 20.0, 54.0), Anchor::Start, 12.0, 0.0, side);
    }
    svg.text(
        ((plot.left + plot.right) / 2.0, plot.bottom + 40.0),
        Anchor::Middle,
        11.0,
        0.0,
        "bar: median of the runs; whisker: min to max",
    );
    svg.finish()
}

fn axes(svg: &mut Svg, plot: &Plot) {
    svg.line((plot.left, plot.bottom), (plot.right, plot.bottom), AXIS, 1.0, "");
    svg.line((plot.left, plot.top), (plot.left, plot.bottom), AXIS, 1.0, "");
}

/// A round step (1, 2 or 5 × 10^k) that cuts `span` into about `count` parts.
fn nice_step(span: f64, count: f64) -> f64 {
    let raw = span / count;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = match raw / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    };
    step * magnitude
}

/// Round values between `lo` and `hi` for a logarithmic axis: the coarsest of 1 × 10^k,
/// {1, 2, 5} × 10^k and {1..9} × 10^k that gives three ticks, else round linear steps (a range
/// narrower than a decade).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let decades = |mantissas: &[f64]| -> Vec<f64> {
        (first..=last)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    for mantissas in [&[1.0][..], &[1.0, 2.0, 5.0], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]] {
        let ticks = decades(mantissas);
        if ticks.len() >= 3 {
            return ticks;
        }
    }
    let step = nice_step(hi - lo, 6.0);
    let mut ticks = Vec::new();
    let mut tick = (lo / step).ceil() * step;
    while tick <= hi {
        ticks.push(tick);
        tick += step;
    }
    ticks
}

/// A tick's value without trailing zeros: 200, 0.25, 1.5.
fn tick_label(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::svg::check_well_formed;

    fn samples(from_us: u64, step_us: u64, count: u64) -> Samples {
        Samples::new((0..count).map(|i| Duration::from_micros(from_us + step_us * i)).collect())
    }

    /// The `points` attribute of every polyline, each as its list of points.
    fn polylines(document: &str) -> Vec<Vec<&str>> {
        document
            .split("<polyline")
            .skip(1)
            .map(|element| {
                let start = element.find("points=\"").expect("a points attribute") + "points=\"".len();
                let end = start + element[start..].find('"').expect("a closed attribute");
                element[start..end].split_whitespace().collect()
            })
            .collect()
    }

    #[test]
    fn latency_chart_has_both_series_labelled_and_a_point_per_percentile() {
        let (put_plugin, put_native) = (samples(200, 1, 1000), samples(150, 2, 1000));
        let (get_plugin, get_native) = (samples(300, 3, 500), samples(250, 1, 700));
        let document = latency_cdfs(
            "1 KiB objects",
            &[
                LatencyPanel { title: "put", plugin: &put_plugin, native: &put_native },
                LatencyPanel { title: "get <1 KiB> & more", plugin: &get_plugin, native: &get_native },
            ],
        );
        check_well_formed(&document).unwrap();
        let lines = polylines(&document);
        assert_eq!(lines.len(), 4, "two series per panel");
        for points in &lines {
            assert_eq!(points.len(), 101, "a point per percentile, 0 to 100");
        }
        for label in
            ["<title>plugin: put</title>", "<title>native: put</title>", ">plugin (p50 ", ">native (p50 "]
        {
            assert!(document.contains(label), "no {label:?}");
        }
        assert!(document.contains("get &lt;1 KiB&gt; &amp; more"));
        assert!(document.contains("latency per call (µs, logarithmic)"));
        assert!(document.contains(">fraction of calls<"));
    }

    #[test]
    fn latency_curves_rise_left_to_right() {
        let (plugin, native) = (samples(100, 10, 300), samples(90, 5, 300));
        let document = latency_cdfs("t", &[LatencyPanel { title: "head", plugin: &plugin, native: &native }]);
        for points in polylines(&document) {
            let xy: Vec<(f64, f64)> = points
                .iter()
                .map(|p| {
                    let (x, y) = p.split_once(',').expect("x,y");
                    (x.parse().expect("a number"), y.parse().expect("a number"))
                })
                .collect();
            // Up the page (smaller y) and never to the left.
            assert!(xy.windows(2).all(|w| w[1].0 >= w[0].0 && w[1].1 <= w[0].1), "{xy:?}");
        }
    }

    #[test]
    fn an_empty_side_draws_no_curve_and_still_a_document() {
        let (plugin, native) = (samples(100, 1, 100), Samples::new(Vec::new()));
        let document = latency_cdfs("t", &[LatencyPanel { title: "put", plugin: &plugin, native: &native }]);
        check_well_formed(&document).unwrap();
        let lines = polylines(&document);
        assert_eq!(lines.iter().filter(|points| !points.is_empty()).count(), 1);
        let none = Samples::new(Vec::new());
        let document = latency_cdfs("t", &[LatencyPanel { title: "put", plugin: &none, native: &none }]);
        check_well_formed(&document).unwrap();
        assert!(document.contains(">no samples<"));
    }

    #[test]
    fn throughput_bars_have_a_bar_and_a_whisker_per_side_and_group() {
        let (single, native_single) = (Runs(vec![100.0, 120.0, 110.0]), Runs(vec![200.0, 210.0, 190.0]));
        let (file, native_multipart) = (Runs(vec![300.0, 280.0, 310.0]), Runs(vec![250.0, 260.0, 255.0]));
        let document = grouped_bars(
            "64 MiB objects",
            "MB/s",
            &[
                BarGroup { label: "put, 1 request", plugin: &single, native: &native_single },
                BarGroup { label: "multipart, file", plugin: &file, native: &native_multipart },
            ],
        );
        check_well_formed(&document).unwrap();
        // The background, two bars per group, two legend swatches.
        assert_eq!(document.matches("<rect").count(), 1 + 2 * 2 + 2);
        for text in
            [">plugin<", ">native<", ">MB/s<", ">put, 1 request<", ">multipart, file<", ">110.0<", ">255.0<"]
        {
            assert!(document.contains(text), "no {text:?}");
        }
        // Each whisker is three lines (the stem and two caps), all in the axis colour.
        let whiskers = document.matches(&format!("stroke=\"{AXIS}\" stroke-width=\"1.5\"")).count();
        assert_eq!(whiskers, 3 * 2 * 2);
    }

    #[test]
    fn throughput_bar_heights_follow_the_medians() {
        let (low, high) = (Runs(vec![50.0]), Runs(vec![100.0]));
        let document = grouped_bars("t", "ops/s", &[BarGroup { label: "gets", plugin: &low, native: &high }]);
        let heights: Vec<f64> = document
            .split("<rect")
            .skip(2)
            .take(2)
            .map(|r| {
                let start = r.find("height=\"").expect("a height") + "height=\"".len();
                r[start..].split('"').next().expect("a value").parse().expect("a number")
            })
            .collect();
        assert!((heights[1] / heights[0] - 2.0).abs() < 0.01, "{heights:?}");
    }

    #[test]
    fn axis_ticks_are_round_and_inside_the_range() {
        assert_eq!(log_ticks(80.0, 12_000.0), vec![100.0, 1000.0, 10_000.0]);
        assert_eq!(log_ticks(90.0, 600.0), vec![100.0, 200.0, 500.0]);
        assert_eq!(log_ticks(150.0, 420.0), vec![200.0, 300.0, 400.0]);
        let narrow = log_ticks(201.0, 229.0);
        assert!(narrow.len() >= 3 && narrow.iter().all(|t| (201.0..=229.0).contains(t)), "{narrow:?}");
        assert_eq!(nice_step(730.0, 5.0), 200.0);
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(200.0), "200");
    }
}
