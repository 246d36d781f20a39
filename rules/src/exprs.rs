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

/// A day number as `YYYY-MM-DD` text.
pub fn day_text(day: Expr) -> Expr {
    day.cast(DataType::Int32)
        .cast(DataType::Date)
        .cast(DataType::String)
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
/// the slices of a scan, the units of an audit.
pub fn concat_frames(
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
    all.rechunk_mut_par();
    Ok(all)
}
