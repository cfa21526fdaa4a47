//! How `ls` shows what it listed, beyond the plain columns: sizes a person reads
//! (`--human-readable`) and the count and total at the end (`--summarize`), both in the aws
//! CLI's words, so that people and scripts moving from `aws s3 ls` find the same output.

/// `ls`'s view flags.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct LsFlags {
    /// Sizes in Bytes, KiB, MiB, GiB, ... as the aws CLI shows them.
    #[arg(long)]
    pub human_readable: bool,
    /// End with the number of objects and their total size.
    #[arg(long)]
    pub summarize: bool,
}

/// A size as the aws CLI's `--human-readable` writes it: `1 Byte`, `512 Bytes`, `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const BASE: f64 = 1024.0;
    if bytes == 1 {
        return "1 Byte".to_owned();
    }
    let value = bytes as f64;
    if value < BASE {
        return format!("{bytes} Bytes");
    }
    let mut unit = BASE;
    for suffix in ["KiB", "MiB", "GiB", "TiB", "PiB"] {
        // The aws CLI's test: a value that rounds to 1024 of this unit takes the next one.
        if (value / unit).round() < BASE {
            return format!("{:.1} {suffix}", value / unit);
        }
        unit *= BASE;
    }
    format!("{:.1} EiB", value / unit)
}

/// The size column's text.
pub fn size_text(bytes: u64, human: bool) -> String {
    if human { human_size(bytes) } else { bytes.to_string() }
}

/// The lines `--summarize` ends with, after an empty one, as `aws s3 ls` prints them.
pub fn summary_lines(objects: u64, bytes: u64, human: bool) -> String {
    format!("\nTotal Objects: {objects}\n   Total Size: {}", size_text(bytes, human))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_the_aws_cli_writes_them() {
        let table = [
            (0, "0 Bytes"),
            (1, "1 Byte"),
            (1023, "1023 Bytes"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (1024 * 1024 - 1, "1.0 MiB"),
            (5 * 1024 * 1024, "5.0 MiB"),
            (3 << 30, "3.0 GiB"),
        ];
        for (bytes, expected) in table {
            assert_eq!(human_size(bytes), expected, "{bytes}");
        }
        assert_eq!(summary_lines(2, 1536, true), "\nTotal Objects: 2\n   Total Size: 1.5 KiB");
    }
}
