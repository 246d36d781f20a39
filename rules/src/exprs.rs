//! Small column expressions shared by the rules: days and weeks in Beijing time.
//!
//! Instants are UTC milliseconds; a "day" is a day number (days since 1970-01-01) in
//! Asia/Shanghai, which has been a fixed UTC+8 since 1991, so integer arithmetic is exact.

use govmedia_collectors::time::{DAY_MS, SHANGHAI_OFFSET_MS};
use polars::prelude::*;

/// The Beijing day number of an instant column.
pub fn local_day(instant: Expr) -> Expr {
    (instant.cast(DataType::Int64) + lit(SHANGHAI_OFFSET_MS)).floor_div(lit(DAY_MS))
}

/// [`local_day`] of one instant, for the passes over rows in Rust.
pub fn local_day_of(ms: i64) -> i64 {
    (ms + SHANGHAI_OFFSET_MS).div_euclid(DAY_MS)
}

/// The ISO week number (weeks since the Monday 1969-12-29) of a day number: Monday–Sunday.
pub fn iso_week(day: Expr) -> Expr {
    (day + lit(3i64)).floor_div(lit(7i64))
}

/// The day number of the Monday that starts a week number.
pub fn week_monday(week: Expr) -> Expr {
    week * lit(7i64) - lit(3i64)
}

/// A day number as `YYYY-MM-DD` text, as Polars casts a date to text (null where the day is
/// null or beyond chrono's calendar).
///
/// Written here rather than cast: Polars formats each date with chrono's `strftime`, parsing
/// the format again for every value, and the weekly-update findings of a national audit are
/// 1.3 million rows with three dates each.
pub fn day_text(day: Expr) -> Expr {
    day.cast(DataType::Int32).map(
        |c: Column| {
            let days = c.i32()?;
            let mut out = StringChunkedBuilder::new(c.name().clone(), days.len());
            let mut text = [0u8; 10];
            for day in days.iter() {
                match day {
                    Some(day) => match day_text_of(day, &mut text) {
                        Some(t) => out.append_value(t),
                        None => match chrono::NaiveDate::from_num_days_from_ce_opt(
                            day.saturating_add(DAYS_CE_TO_EPOCH),
                        ) {
                            Some(date) => out.append_value(date.format("%Y-%m-%d").to_string()),
                            None => out.append_null(),
                        },
                    },
                    None => out.append_null(),
                }
            }
            Ok(out.finish().into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Days from 0001-01-01 (day 1 of the common era in chrono's count) to 1970-01-01.
const DAYS_CE_TO_EPOCH: i32 = 719_163;

/// A day number as `YYYY-MM-DD` in `text`, for the years 1–9999 (`None` outside them, which
/// chrono writes with a sign): the civil calendar from days (Howard Hinnant's algorithm).
fn day_text_of(day: i32, text: &mut [u8; 10]) -> Option<&str> {
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if !(1..=9999).contains(&y) {
        return None;
    }
    let digits = |n: i64, places: &mut [u8]| {
        let mut n = n;
        for p in places.iter_mut().rev() {
            *p = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    digits(y, &mut text[0..4]);
    text[4] = b'-';
    digits(m, &mut text[5..7]);
    text[7] = b'-';
    digits(d, &mut text[8..10]);
    std::str::from_utf8(text).ok()
}

/// A day number as a calendar date.
pub fn day_date(day: Expr) -> Expr {
    day.cast(DataType::Int32).cast(DataType::Date)
}

/// The instant (UTC epoch milliseconds) of midnight, Beijing time, starting a day number.
pub fn day_start(day: Expr) -> Expr {
    // Widened first: a day number in a 32-bit column times DAY_MS overflows.
    day.cast(DataType::Int64) * lit(DAY_MS) - lit(SHANGHAI_OFFSET_MS)
}

/// Integer column as text (for messages).
pub fn int_text(e: Expr) -> Expr {
    e.cast(DataType::String)
}

/// Whether a text column contains any of `words` (case-insensitive for ASCII), in one
/// Aho-Corasick pass over the column. Null text is false.
pub fn contains_any(text: Expr, words: &[String]) -> Expr {
    let automaton = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(words)
        .ok();
    text.map(
        move |c: Column| {
            let ca = c.str()?;
            let out: BooleanChunked = ca
                .iter()
                .map(|v| Some(matches!((v, &automaton), (Some(t), Some(a)) if a.is_match(t))))
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
    )
}

/// `lf` left-joined with `other` on the columns `on` (same names on both sides).
pub fn left_join_on(lf: LazyFrame, other: LazyFrame, on: &[&str]) -> LazyFrame {
    let keys: Vec<Expr> = on.iter().map(|c| col(*c)).collect();
    lf.join(other, keys.clone(), keys, JoinArgs::new(JoinType::Left))
}

/// Frames of one schema stacked in order, empty ones skipped (`empty()` when none has rows):
/// the slices of a scan, the units of an audit. One chunk per column.
pub fn concat_frames(
    frames: Vec<DataFrame>,
    empty: impl FnOnce() -> PolarsResult<DataFrame>,
) -> PolarsResult<DataFrame> {
    let mut all = stack_frames(frames, empty)?;
    all.rechunk_mut_par();
    Ok(all)
}

/// [`concat_frames`] with the frames' chunks left side by side, not copied into one: for rows
/// that are copied anyway next (taken in another order, stacked with more).
pub fn stack_frames(
    frames: Vec<DataFrame>,
    empty: impl FnOnce() -> PolarsResult<DataFrame>,
) -> PolarsResult<DataFrame> {
    let mut frames = frames.into_iter().filter(|f| f.height() > 0);
    let Some(mut all) = frames.next() else {
        return empty();
    };
    for f in frames {
        all.vstack_mut_owned(f)?;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_text_writes_what_polars_date_cast_writes() {
        // Years -220 to 10183: the four-digit years, the signed ones either side, leap days
        // and century rules; and null.
        let days: Vec<Option<i64>> = (-800_000i64..3_000_000)
            .step_by(7)
            .map(Some)
            .chain([
                Some(0),
                Some(-1),
                Some(11_016),
                Some(-719_162),
                Some(2_932_896),
                None,
            ])
            .collect();
        let df = df!("day" => days).unwrap();
        let texts = df
            .lazy()
            .select([
                day_text(col("day")).alias("ours"),
                col("day")
                    .cast(DataType::Int32)
                    .cast(DataType::Date)
                    .cast(DataType::String)
                    .alias("polars"),
            ])
            .collect()
            .unwrap();
        let ours = texts.column("ours").unwrap().str().unwrap();
        let polars = texts.column("polars").unwrap().str().unwrap();
        assert_eq!(ours.len(), polars.len());
        for (a, b) in ours.iter().zip(polars.iter()) {
            assert_eq!(a, b);
        }
        let tail: Vec<Option<&str>> = ours.iter().skip(ours.len() - 6).collect();
        assert_eq!(
            tail,
            [
                Some("1970-01-01"),
                Some("1969-12-31"),
                Some("2000-02-29"),
                Some("0001-01-01"),
                Some("9999-12-31"),
                None
            ]
        );
    }

    #[test]
    fn day_text_of_days_beyond_the_calendar_is_null_not_a_panic() {
        let df = df!("day" => [i32::MIN, i32::MAX]).unwrap();
        let out = df.lazy().select([day_text(col("day"))]).collect().unwrap();
        assert_eq!(out.column("day").unwrap().null_count(), 2);
    }
}
