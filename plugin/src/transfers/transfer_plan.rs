//! How an upload is cut up: the part size, how many parts are in flight, when a stream of known
//! length goes multipart. Pure functions over the options, with S3's limits; table-tested.

/// Default size of each part but the last.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// Default number of parts uploaded at once.
pub const DEFAULT_PARALLEL_PARTS: u32 = 4;
/// Default size above which a stream of known length goes multipart.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// S3's smallest part (all but the last).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// The largest part this plugin holds in guest memory (S3 allows 5 GiB).
pub const MAX_PART_SIZE: u64 = 256 * 1024 * 1024;
/// The most parts in flight (each holds up to a part in guest memory).
pub const MAX_PARALLEL_PARTS: u32 = 16;
/// S3's part numbers run from 1 to this.
pub const MAX_PARTS: u64 = 10_000;

/// The settings of one upload, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Bytes per part but the last.
    pub part_size: usize,
    /// Parts in flight at most.
    pub parallel: usize,
    /// Streams of known length longer than this go multipart.
    pub threshold: u64,
}

/// Checks the options against S3's limits and the plugin's memory bounds; the error names the
/// option and its range.
pub fn plan(part_size: Option<u64>, parallel: Option<u32>, threshold: Option<u64>) -> Result<Plan, String> {
    let part_size = part_size.unwrap_or(DEFAULT_PART_SIZE);
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part_size) {
        return Err(format!(
            "part size {part_size} is out of range; parts are {MIN_PART_SIZE} (5 MiB, S3's minimum) to {MAX_PART_SIZE} (256 MiB) bytes"
        ));
    }
    let parallel = parallel.unwrap_or(DEFAULT_PARALLEL_PARTS);
    if !(1..=MAX_PARALLEL_PARTS).contains(&parallel) {
        return Err(format!("parallel parts {parallel} is out of range; give 1 to {MAX_PARALLEL_PARTS}"));
    }
    // Both bounds were just checked, so the conversions cannot fail.
    Ok(Plan {
        part_size: usize::try_from(part_size).unwrap_or(usize::MAX),
        parallel: usize::try_from(parallel).unwrap_or(1),
        threshold: threshold.unwrap_or(DEFAULT_MULTIPART_THRESHOLD),
    })
}

impl Plan {
    /// Whether a stream of `length` bytes goes multipart; an error when it would need more than
    /// S3's 10000 parts of this size.
    pub fn multipart_for(&self, length: u64) -> Result<bool, String> {
        let parts = length.div_ceil(self.part_size as u64);
        if parts > MAX_PARTS {
            return Err(format!(
                "{length} bytes need {parts} parts of {} bytes, over S3's {MAX_PARTS}; give a larger part size",
                self.part_size
            ));
        }
        Ok(length > self.threshold)
    }
}

/// Inclusive byte ranges of at most `part` bytes covering `size` bytes, in order.
pub fn ranges(size: u64, part: u64) -> Vec<(u64, u64)> {
    let part = part.max(1);
    (0..size.div_ceil(part)).map(|i| (i * part, ((i + 1) * part).min(size) - 1)).collect()
}

/// Default bytes per range of a parallel download.
pub const DEFAULT_RANGE_SIZE: u64 = 8 * 1024 * 1024;
/// The smallest range of a parallel download.
pub const MIN_RANGE_SIZE: u64 = 1024 * 1024;

/// Checks a parallel download's options: ranges in flight (1 to 16) and bytes per range (1 MiB to
/// 256 MiB). Returns both, with the defaults filled in.
pub fn download_plan(parallel: u32, range_size: Option<u64>) -> Result<(usize, u64), String> {
    if !(1..=MAX_PARALLEL_PARTS).contains(&parallel) {
        return Err(format!("parallel ranges {parallel} is out of range; give 1 to {MAX_PARALLEL_PARTS}"));
    }
    let range_size = range_size.unwrap_or(DEFAULT_RANGE_SIZE);
    if !(MIN_RANGE_SIZE..=MAX_PART_SIZE).contains(&range_size) {
        return Err(format!(
            "range size {range_size} is out of range; ranges are {MIN_RANGE_SIZE} (1 MiB) to {MAX_PART_SIZE} (256 MiB) bytes"
        ));
    }
    // Bounded by 16 just above.
    Ok((parallel as usize, range_size))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;
    const GIB: u64 = 1024 * MIB;

    #[test]
    fn options_are_checked_against_the_limits() {
        let default = Plan { part_size: 8 * MIB as usize, parallel: 4, threshold: 16 * MIB };
        let table: [(Option<u64>, Option<u32>, Option<u64>, Result<Plan, &str>); 7] = [
            (None, None, None, Ok(default)),
            (
                Some(5 * MIB),
                Some(1),
                Some(0),
                Ok(Plan { part_size: 5 * MIB as usize, parallel: 1, threshold: 0 }),
            ),
            (
                Some(256 * MIB),
                Some(16),
                None,
                Ok(Plan { part_size: 256 * MIB as usize, parallel: 16, ..default }),
            ),
            (Some(5 * MIB - 1), None, None, Err("part size 5242879 is out of range")),
            (Some(256 * MIB + 1), None, None, Err("part size 268435457 is out of range")),
            (None, Some(0), None, Err("parallel parts 0 is out of range")),
            (None, Some(17), None, Err("parallel parts 17 is out of range")),
        ];
        for (part_size, parallel, threshold, expected) in table {
            let got = plan(part_size, parallel, threshold);
            match expected {
                Ok(plan) => assert_eq!(got, Ok(plan)),
                Err(start) => assert!(got.as_ref().unwrap_err().starts_with(start), "{got:?}"),
            }
        }
    }

    #[test]
    fn multipart_above_the_threshold_within_ten_thousand_parts() {
        let plan = plan(None, None, None).unwrap();
        assert_eq!(plan.multipart_for(0), Ok(false));
        assert_eq!(plan.multipart_for(16 * MIB), Ok(false));
        assert_eq!(plan.multipart_for(16 * MIB + 1), Ok(true));
        assert_eq!(plan.multipart_for(10_000 * 8 * MIB), Ok(true));
        let error = plan.multipart_for(10_000 * 8 * MIB + 1).unwrap_err();
        assert!(error.contains("10001 parts") && error.contains("larger part size"), "{error}");
    }

    #[test]
    fn ranges_cover_the_object_in_parts_of_at_most_the_limit() {
        let table: [(u64, u64, &[(u64, u64)]); 5] = [
            (0, 10, &[]),
            (1, 10, &[(0, 0)]),
            (10, 10, &[(0, 9)]),
            (11, 10, &[(0, 9), (10, 10)]),
            (6 * GIB + 1, 5 * GIB, &[(0, 5 * GIB - 1), (5 * GIB, 6 * GIB)]),
        ];
        for (size, part, expected) in table {
            assert_eq!(ranges(size, part), expected, "{size} in parts of {part}");
        }
    }

    #[test]
    fn download_options_are_checked() {
        assert_eq!(download_plan(4, None), Ok((4, 8 * MIB)));
        assert_eq!(download_plan(16, Some(MIB)), Ok((16, MIB)));
        assert!(download_plan(0, None).unwrap_err().starts_with("parallel ranges 0 is out of range"));
        assert!(download_plan(17, None).unwrap_err().starts_with("parallel ranges 17 is out of range"));
        assert!(
            download_plan(2, Some(MIB - 1)).unwrap_err().starts_with("range size 1048575 is out of range")
        );
        assert!(download_plan(2, Some(256 * MIB + 1)).unwrap_err().starts_with("range size 268435457"));
    }
}
