//! The flags of a download: ranges fetched side by side.

use clap::Args;

use s3_connector_host::types::GetOptions;

const MIB: u64 = 1024 * 1024;

/// Flags that shape a download. None given: one GET.
#[derive(Args, Debug, Default, Clone)]
#[command(next_help_heading = "Download options")]
pub struct DownloadFlags {
    /// Download in ranges, this many (2 to 16) at once, each written at its offset as it
    /// arrives (in order for an object with a SHA checksum, which does not combine).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=16))]
    parallel_ranges: Option<u32>,
    /// With --parallel-ranges: MiB per range, 1 to 256 (default 8).
    #[arg(long, value_name = "MIB", requires = "parallel_ranges", value_parser = clap::value_parser!(u64).range(1..=256))]
    range_size_mib: Option<u64>,
}

impl DownloadFlags {
    /// The options these flags ask for.
    pub fn to_options(&self) -> GetOptions {
        GetOptions {
            parallel_ranges: self.parallel_ranges,
            range_size: self.range_size_mib.map(|n| n.saturating_mul(MIB)),
            ..Default::default()
        }
    }

    /// Whether any flag was given.
    pub fn given(&self) -> bool {
        self.parallel_ranges.is_some() || self.range_size_mib.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_options() {
        let none = DownloadFlags::default();
        assert!(!none.given());
        assert_eq!((none.to_options().parallel_ranges, none.to_options().range_size), (None, None));
        let flags = DownloadFlags { parallel_ranges: Some(4), range_size_mib: Some(16) };
        assert!(flags.given());
        let options = flags.to_options();
        assert_eq!((options.parallel_ranges, options.range_size), (Some(4), Some(16 * MIB)));
    }
}
