//! Times as the CLI shows them. S3 gives `Last-Modified` as an HTTP date on GET and HEAD and as
//! ISO 8601 in listings; `--json` gives ISO 8601 everywhere (one format for scripts), and `ls`
//! gives the local time, as `aws s3 ls` does. Downloads set a file's modification time from it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use s3_connector_rules::civil_date::civil_from_days;

use super::pinned_time;

/// Reads S3's times: ISO 8601 (`2026-12-01T02:49:44.000Z`) or an HTTP date
/// (`Tue, 01 Dec 2026 02:49:44 GMT`). `None` for anything else.
pub fn parse(text: &str) -> Option<SystemTime> {
    if let Ok(time) = pinned_time::parse(text) {
        return Some(time);
    }
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, clock, "GMT"] = parts.as_slice() else { return None };
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    pinned_time::parse(&format!("{year}-{month:02}-{day:0>2}T{clock}Z")).ok()
}

/// A time as ISO 8601 in UTC, to the second: `2026-12-01T02:49:44Z`.
pub fn iso(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs() as i64;
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", of_day / 3600, of_day / 60 % 60, of_day % 60)
}

/// S3's time text as ISO 8601 (unchanged when it cannot be read).
pub fn iso_text(text: &str) -> String {
    parse(text).map(iso).unwrap_or_else(|| text.to_owned())
}

/// A time in the local time zone, `2026-12-01 03:49:44`, as `aws s3 ls` shows it.
pub fn local(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs() as i64;
    let shifted = seconds + utc_offset(seconds);
    let (year, month, day) = civil_from_days(shifted.div_euclid(86_400));
    let of_day = shifted.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", of_day / 3600, of_day / 60 % 60, of_day % 60)
}

/// The local time zone's offset from UTC at `seconds`, from the C library (which reads `TZ` and
/// `/etc/localtime`); 0 when it cannot say.
fn utc_offset(seconds: i64) -> i64 {
    let time = seconds as libc::time_t;
    let mut broken_down = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: localtime_r reads `time` and writes only the `tm` it is given; both outlive the call.
    let filled = unsafe { libc::localtime_r(&time, broken_down.as_mut_ptr()) };
    if filled.is_null() {
        return 0;
    }
    // SAFETY: localtime_r returned non-null, so it filled the whole `tm`.
    unsafe { broken_down.assume_init() }.tm_gmtoff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_and_iso_times_read_the_same() {
        let http = parse("Tue, 01 Dec 2026 02:49:44 GMT").unwrap();
        assert_eq!(Some(http), parse("2026-12-01T02:49:44.000Z"));
        assert_eq!(iso(http), "2026-12-01T02:49:44Z");
        assert_eq!(iso(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(iso_text("Thu, 29 Feb 2024 23:59:59 GMT"), "2024-02-29T23:59:59Z");
        assert_eq!(parse("yesterday"), None);
    }
}
