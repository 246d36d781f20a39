//! Parsing and formatting of instants and dates in the canonical format.
//!
//! Instants are stored as UTC milliseconds. Inputs may be RFC 3339 with an offset, unix seconds,
//! or naive local times, which are read as Asia/Shanghai (the timezone every platform shows).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// Asia/Shanghai has been UTC+8 without daylight saving since 1991; every date this tool judges
/// is later, so day arithmetic in the query engine uses this fixed offset.
pub const SHANGHAI_OFFSET_MS: i64 = 8 * 3_600_000;

/// Naive formats accepted for instants, read as Asia/Shanghai wall-clock time.
const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// Parses an instant from text: RFC 3339, unix seconds, or a naive Asia/Shanghai time.
pub fn parse_instant_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Ok(dt.timestamp_millis());
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .ok()
            .and_then(unix_seconds_to_ms)
            .ok_or_else(|| format!("unix seconds out of range: {text:?}"));
    }
    for fmt in NAIVE_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, fmt) {
            return shanghai_naive_to_ms(naive)
                .ok_or_else(|| format!("{text:?} does not exist in Asia/Shanghai"));
        }
    }
    // Fractional seconds in naive form (e.g. 2024-03-01 09:30:00.123).
    if let Ok(naive) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f") {
        return shanghai_naive_to_ms(naive)
            .ok_or_else(|| format!("{text:?} does not exist in Asia/Shanghai"));
    }
    Err(format!(
        "not a time: {text:?} (expected RFC 3339 like 2024-03-01T09:30:00+08:00, unix seconds, \
         or YYYY-MM-DD HH:MM:SS in Beijing time)"
    ))
}

/// Converts unix seconds to milliseconds, refusing values outside the years 1970–9999.
pub fn unix_seconds_to_ms(seconds: i64) -> Option<i64> {
    const MAX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    (0..=MAX_SECONDS).contains(&seconds).then(|| seconds * 1000)
}

pub fn shanghai_naive_to_ms(naive: NaiveDateTime) -> Option<i64> {
    Shanghai
        .from_local_datetime(&naive)
        .earliest()
        .map(|dt| dt.timestamp_millis())
}

/// Parses a calendar date `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date_days(text: &str) -> Result<i32, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(date_to_days)
        .map_err(|_| format!("not a date: {text:?} (expected YYYY-MM-DD)"))
}

pub fn date_to_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

pub fn days_to_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(days as i64)
}

/// Midnight at the start of `date` in Asia/Shanghai, as UTC milliseconds.
pub fn shanghai_midnight_ms(date: NaiveDate) -> i64 {
    shanghai_naive_to_ms(date.and_hms_opt(0, 0, 0).expect("midnight")).expect("midnight exists")
}

/// The calendar day of an instant in Asia/Shanghai.
pub fn shanghai_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Shanghai).date_naive()
}

/// Formats UTC milliseconds as RFC 3339 in Beijing time (`2024-03-01T09:30:00+08:00`).
pub fn format_shanghai(ms: i64) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|dt| dt.with_timezone(&offset).to_rfc3339())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_offset() {
        assert_eq!(
            parse_instant_ms("2024-03-01T09:30:00+08:00").unwrap(),
            parse_instant_ms("2024-03-01T01:30:00Z").unwrap()
        );
    }

    #[test]
    fn naive_time_is_beijing_time() {
        assert_eq!(
            parse_instant_ms("2024-03-01 09:30:00").unwrap(),
            parse_instant_ms("2024-03-01T09:30:00+08:00").unwrap()
        );
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(parse_instant_ms("1709256600").unwrap(), 1_709_256_600_000);
    }

    #[test]
    fn bad_times_are_errors_naming_the_value() {
        let err = parse_instant_ms("yesterday").unwrap_err();
        assert!(err.contains("yesterday"), "{err}");
        assert!(parse_instant_ms("2024-02-30 10:00:00").is_err());
    }

    #[test]
    fn dates_round_trip() {
        let d = parse_date_days("2024-03-01").unwrap();
        assert_eq!(days_to_date(d).to_string(), "2024-03-01");
        assert!(parse_date_days("2024/03/01").is_err());
    }

    #[test]
    fn format_in_beijing_time() {
        assert_eq!(
            format_shanghai(1_709_256_600_000),
            "2024-03-01T09:30:00+08:00"
        );
    }
}
