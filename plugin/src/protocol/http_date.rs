//! The HTTP `Date` header (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), read to learn the
//! server's clock when S3 answers `RequestTimeTooSkewed`, and to answer `Last-Modified` (an
//! HTTP date in a HEAD's headers) in ISO 8601 as S3's listings give it.

use s3_connector_rules::civil_date::{civil_from_days, days_from_civil};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Parses an IMF-fixdate; `None` for anything else.
pub fn parse(value: &str) -> Option<SystemTime> {
    let mut parts = value.split_ascii_whitespace();
    let (_weekday, day, month, year, time, zone) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || zone != "GMT" {
        return None;
    }
    let day: i64 = day.parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let year: i64 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let mut clock = time.split(':').map(|n| n.parse::<i64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if clock.next().is_some() || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).ok()?))
}

/// An IMF-fixdate as ISO 8601 in UTC with milliseconds (`2026-12-01T02:49:44.000Z`), the form
/// of S3's XML answers (ListObjectsV2, CopyObject); `None` for anything but an IMF-fixdate.
pub fn iso(value: &str) -> Option<String> {
    let seconds = parse(value)?.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let seconds = i64::try_from(seconds).ok()?;
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let time = seconds.rem_euclid(86_400);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        time / 3600,
        time % 3600 / 60,
        time % 60
    ))
}

/// How far the server's clock is ahead of `local` (negative when behind), in milliseconds.
pub fn offset_ms(server: SystemTime, local: SystemTime) -> i64 {
    match server.duration_since(local) {
        Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
        Err(behind) => -i64::try_from(behind.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// `local` moved by `offset_ms`.
pub fn shifted(local: SystemTime, offset_ms: i64) -> SystemTime {
    let by = Duration::from_millis(offset_ms.unsigned_abs());
    let moved = if offset_ms >= 0 { local.checked_add(by) } else { local.checked_sub(by) };
    moved.unwrap_or(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imf_fixdates_parse_and_anything_else_does_not() {
        let at = |secs: u64| Some(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT"), at(784_111_777));
        assert_eq!(parse("Fri, 24 May 2013 00:00:00 GMT"), at(1_369_353_600));
        assert_eq!(parse("Thu, 29 Feb 2024 23:59:59 GMT"), at(1_709_251_199));
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 99999999999999 08:49:37 GMT",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn http_dates_become_iso_8601() {
        assert_eq!(iso("Sun, 06 Nov 1994 08:49:37 GMT").as_deref(), Some("1994-11-06T08:49:37.000Z"));
        assert_eq!(iso("Thu, 29 Feb 2024 23:59:59 GMT").as_deref(), Some("2024-02-29T23:59:59.000Z"));
        assert_eq!(iso("2024-02-29T23:59:59.000Z"), None);
    }

    #[test]
    fn offsets_shift_the_local_clock_to_the_servers() {
        let local = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let server = local + Duration::from_secs(3600);
        assert_eq!(offset_ms(server, local), 3_600_000);
        assert_eq!(offset_ms(local, server), -3_600_000);
        assert_eq!(shifted(local, offset_ms(server, local)), server);
        assert_eq!(shifted(server, offset_ms(local, server)), local);
    }
}
