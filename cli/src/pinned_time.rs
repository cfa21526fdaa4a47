//! `--at TIME`: `YYYYMMDDTHHMMSSZ` (as in `x-amz-date`) or RFC 3339, to pin the plugin's clock.

use s3_connector_rules::civil_date::days_from_civil;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses `20130524T000000Z`, `2013-05-24T00:00:00Z` or `2013-05-24T02:00:00+02:00`
/// (fractions of a second are allowed and dropped).
pub fn parse(text: &str) -> Result<SystemTime, String> {
    let bad = || {
        format!("time {text:?} is not YYYYMMDDTHHMMSSZ (20130524T000000Z) or RFC 3339 (2013-05-24T00:00:00Z)")
    };
    let digits = |s: &str| -> Result<i64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (date, time, offset) = if text.len() == 16 && text.as_bytes()[8] == b'T' && text.ends_with('Z') {
        let (d, t) = (&text[..8], &text[9..15]);
        (
            [digits(&d[..4])?, digits(&d[4..6])?, digits(&d[6..8])?],
            [digits(&t[..2])?, digits(&t[2..4])?, digits(&t[4..6])?],
            0,
        )
    } else {
        let (d, rest) = text.split_once(['T', 't', ' ']).ok_or_else(bad)?;
        let d: Vec<&str> = d.split('-').collect();
        let (clock, offset) = match rest.strip_suffix(['Z', 'z']) {
            Some(clock) => (clock, 0),
            None => {
                let at = rest.rfind(['+', '-']).ok_or_else(bad)?;
                let (clock, zone) = rest.split_at(at);
                let (hours, minutes) = zone[1..].split_once(':').ok_or_else(bad)?;
                let minutes = digits(hours)? * 60 + digits(minutes)?;
                (clock, if zone.starts_with('-') { -minutes } else { minutes })
            }
        };
        let clock = clock.split('.').next().unwrap_or(clock);
        let t: Vec<&str> = clock.split(':').collect();
        if d.len() != 3 || t.len() != 3 {
            return Err(bad());
        }
        ([digits(d[0])?, digits(d[1])?, digits(d[2])?], [digits(t[0])?, digits(t[1])?, digits(t[2])?], offset)
    };
    let [year, month, day] = date;
    let [hour, minute, second] = time;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset * 60;
    let seconds = u64::try_from(seconds).map_err(|_| format!("time {text:?} is before 1970"))?;
    Ok(UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_parse_to_the_same_instant() {
        let expected = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        for text in [
            "20130524T000000Z",
            "2013-05-24T00:00:00Z",
            "2013-05-24T00:00:00.250Z",
            "2013-05-24T02:00:00+02:00",
            "2013-05-23T22:00:00-02:00",
        ] {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
        assert_eq!(parse("19700101T000000Z"), Ok(UNIX_EPOCH));
        assert_eq!(parse("2000-03-01T00:00:00Z"), Ok(UNIX_EPOCH + Duration::from_secs(951_868_800)));
        for bad in [
            "yesterday",
            "2013-13-01T00:00:00Z",
            "20130524",
            "2013-05-24",
            "2013-05-24T25:00:00Z",
            "19690101T000000Z",
        ] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains(bad), "{bad}: {error}");
        }
    }
}
