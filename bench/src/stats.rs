//! Percentiles of one run, and min/median/max over runs.

use std::time::{Duration, Instant};

/// Latencies of one run, sorted.
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self(samples)
    }

    /// The samples of several runs as one distribution (for the charts: every call counts once).
    pub fn merged(runs: impl IntoIterator<Item = Samples>) -> Self {
        Self::new(runs.into_iter().flat_map(|run| run.0).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The nearest-rank percentile, in microseconds.
    pub fn percentile_us(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.0.len()) - 1;
        self.0[index].as_secs_f64() * 1e6
    }
}

/// Calls `f` after `warmup` unmeasured calls, at most `count` times and for at most `budget`.
pub async fn sample(
    count: usize,
    budget: Duration,
    warmup: usize,
    mut f: impl AsyncFnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Samples> {
    for _ in 0..warmup {
        f().await?;
    }
    let start = Instant::now();
    let mut samples = Vec::with_capacity(count);
    while samples.len() < count && start.elapsed() < budget {
        let t = Instant::now();
        f().await?;
        samples.push(t.elapsed());
    }
    Ok(Samples::new(samples))
}

/// One figure measured in several runs.
#[derive(Clone, Debug, Default)]
pub struct Runs(pub Vec<f64>);

impl Runs {
    pub fn push(&mut self, value: f64) {
        self.0.push(value);
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    pub fn median(&self) -> f64 {
        let v = self.sorted();
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    /// `min / median / max`, or a dash when nothing was measured.
    pub fn cell(&self) -> String {
        if self.0.is_empty() {
            return "-".to_owned();
        }
        format!("{} / **{}** / {}", fmt(self.min()), fmt(self.median()), fmt(self.max()))
    }
}

/// Three significant digits, without exponent.
pub fn fmt(value: f64) -> String {
    if !value.is_finite() {
        return "-".to_owned();
    }
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        format!("{value:.0}")
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_samples_are_one_sorted_distribution() {
        let run = |us: &[u64]| Samples::new(us.iter().map(|&u| Duration::from_micros(u)).collect());
        let merged = Samples::merged([run(&[30, 10]), run(&[20, 40])]);
        assert_eq!(merged.len(), 4);
        assert_eq!(merged.percentile_us(0.0), 10.0);
        assert_eq!(merged.percentile_us(50.0), 20.0);
        assert_eq!(merged.percentile_us(100.0), 40.0);
    }
}
