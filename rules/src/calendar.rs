//! The official calendar of working days: Monday–Friday that is not a public holiday, plus the
//! adjusted working weekends (调休上班日), from `packs/calendar/cn_holidays.toml`, extended with
//! `--calendar FILE` (same format, one `[YEAR]` table per year) when a new year's notice is out.
//! A date outside the calendar's years counts Monday to Friday as working days — no holidays, no
//! 调休 — and the audit says so ([`Calendar::outside_note`]): an audit in January is not refused
//! because the State Council notice for the year has not been added yet.
//!
//! Working time counts every hour of a working day and none of other days, so "3 working days"
//! after a comment posted on Friday 17:00 ends on Wednesday 17:00, and a holiday week adds nothing.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};
use govmedia_collectors::time::{DAY_MS, SHANGHAI_OFFSET_MS, date_to_days, days_to_date};
use polars::prelude::*;
use serde::Deserialize;

use crate::Error;
use crate::exprs::local_day_of;

/// The embedded official calendar.
pub const OFFICIAL_CALENDAR: &str = include_str!("../packs/calendar/cn_holidays.toml");

#[derive(Debug, Clone)]
pub struct Calendar {
    first_year: i32,
    last_year: i32,
    holidays: HashSet<NaiveDate>,
    workdays: HashSet<NaiveDate>,
}

#[derive(Deserialize)]
struct YearEntry {
    holidays: Vec<String>,
    workdays: Vec<String>,
}

fn parse_date(s: &str, source: &str) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::Config(format!("{source}: not a date: {s:?}")))
}

impl Calendar {
    /// The official calendar shipped with the tool.
    pub fn official() -> Calendar {
        Calendar::from_toml(OFFICIAL_CALENDAR, "packs/calendar/cn_holidays.toml")
            .expect("the embedded calendar is valid (tested)")
    }

    pub fn from_toml(text: &str, source: &str) -> Result<Calendar, Error> {
        let years: BTreeMap<String, YearEntry> =
            toml::from_str(text).map_err(|e| Error::Config(format!("{source}: {e}")))?;
        let mut holidays = HashSet::new();
        let mut workdays = HashSet::new();
        let mut year_numbers = Vec::new();
        for (year, entry) in &years {
            let y: i32 = year
                .parse()
                .map_err(|_| Error::Config(format!("{source}: [{year}] is not a year")))?;
            year_numbers.push(y);
            for h in &entry.holidays {
                let (a, b) = match h.split_once("..") {
                    Some((a, b)) => (parse_date(a, source)?, parse_date(b, source)?),
                    None => (parse_date(h, source)?, parse_date(h, source)?),
                };
                if b < a {
                    return Err(Error::Config(format!("{source}: empty range {h:?}")));
                }
                let mut d = a;
                while d <= b {
                    holidays.insert(d);
                    d = d.succ_opt().expect("date in range");
                }
            }
            for w in &entry.workdays {
                workdays.insert(parse_date(w, source)?);
            }
        }
        year_numbers.sort_unstable();
        let (Some(&first_year), Some(&last_year)) = (year_numbers.first(), year_numbers.last())
        else {
            return Err(Error::Config(format!("{source}: no year in the calendar")));
        };
        if year_numbers.windows(2).any(|w| w[1] != w[0] + 1) {
            return Err(Error::Config(format!(
                "{source}: the years must be consecutive"
            )));
        }
        Ok(Calendar {
            first_year,
            last_year,
            holidays,
            workdays,
        })
    }

    pub fn years(&self) -> (i32, i32) {
        (self.first_year, self.last_year)
    }

    /// Whether the calendar has the official arrangement of `date`'s year.
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.first_year..=self.last_year).contains(&date.year())
    }

    /// Working day: Monday–Friday that is not a holiday, or an adjusted working weekend; outside
    /// the calendar's years, Monday–Friday.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, Error> {
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        Ok(self.workdays.contains(&date) || (!weekend && !self.holidays.contains(&date)))
    }

    /// The note an audit prints when days from `from` to `to` fall outside the calendar's
    /// years (their working days were counted Monday to Friday), or `None`.
    pub fn outside_note(&self, from: NaiveDate, to: NaiveDate, zh: bool) -> Option<String> {
        let years: Vec<i32> = (from.year()..=to.year())
            .filter(|y| !(self.first_year..=self.last_year).contains(y))
            .collect();
        let list = years
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(if zh { "、" } else { ", " });
        (!years.is_empty()).then(|| {
            if zh {
                format!(
                    "{list} 年不在节假日日历内（{}–{}）：这些日期按周一至周五为工作日计算（无法定节假日、无调休）。国务院办公厅公布当年安排后，请用 --calendar FILE 补充",
                    self.first_year, self.last_year
                )
            } else {
                format!(
                    "{list} outside the holiday calendar ({}–{}): working days there are counted as Monday to Friday (no public holidays, no adjusted weekends); add the year's State Council notice with --calendar FILE",
                    self.first_year, self.last_year
                )
            }
        })
    }

    /// This calendar with the years of another calendar file added (a year in both: the file's
    /// arrangement). The years must stay consecutive.
    pub fn extended(&self, text: &str, source: &str) -> Result<Calendar, Error> {
        let extra = Calendar::from_toml(text, source)?;
        let in_extra = |d: &NaiveDate| (extra.first_year..=extra.last_year).contains(&d.year());
        let mut merged = self.clone();
        merged.holidays.retain(|d| !in_extra(d));
        merged.workdays.retain(|d| !in_extra(d));
        merged.holidays.extend(extra.holidays);
        merged.workdays.extend(extra.workdays);
        merged.first_year = self.first_year.min(extra.first_year);
        merged.last_year = self.last_year.max(extra.last_year);
        if extra.first_year > self.last_year + 1 || extra.last_year + 1 < self.first_year {
            return Err(Error::Config(format!(
                "{source}: the calendar has {}–{}; the years added ({}–{}) must follow on without a gap",
                self.first_year, self.last_year, extra.first_year, extra.last_year
            )));
        }
        Ok(merged)
    }

    /// The working-time clock over the days `from` to `to` (inclusive): deadlines and working
    /// time between instants by table lookup, for many comments at once.
    pub fn clock(&self, from: NaiveDate, to: NaiveDate) -> Result<WorkingClock, Error> {
        let days = self.day_table(from, to)?;
        let column = |name: &str| -> Result<Vec<i64>, Error> {
            Ok(days.column(name)?.i64()?.into_no_null_iter().collect())
        };
        Ok(WorkingClock {
            first_day: date_to_days(from) as i64,
            before: column("working_ms_before")?,
            working: days
                .column("working")?
                .bool()?
                .iter()
                .map(|w| w.unwrap_or(false))
                .collect(),
        })
    }

    /// One row per day from `from` to `to` (inclusive): `day` (days since 1970-01-01),
    /// `working` and `working_ms_before`, the working time from `from` to the day's start. The
    /// working time between two instants is the difference of their positions on this table.
    pub fn day_table(&self, from: NaiveDate, to: NaiveDate) -> Result<DataFrame, Error> {
        let (first, last) = (date_to_days(from) as i64, date_to_days(to) as i64);
        let mut days = Vec::new();
        let mut working = Vec::new();
        let mut before = Vec::new();
        let mut acc = 0i64;
        for d in first..=last {
            let w = self.is_working_day(days_to_date(d as i32))?;
            days.push(d);
            working.push(w);
            before.push(acc);
            if w {
                acc += DAY_MS;
            }
        }
        Ok(DataFrame::new_infer_height(vec![
            Column::new("day".into(), days),
            Column::new("working".into(), working),
            Column::new("working_ms_before".into(), before),
        ])?)
    }
}

/// Working time on a range of days (see [`Calendar::clock`]): every hour of a working day
/// counts, none of a day off.
#[derive(Debug, Clone)]
pub struct WorkingClock {
    first_day: i64,
    /// Working time from the first day's start to each day's start.
    before: Vec<i64>,
    working: Vec<bool>,
}

impl WorkingClock {
    fn index(&self, day: i64) -> Result<usize, Error> {
        let i = day - self.first_day;
        if (0..self.before.len() as i64).contains(&i) {
            Ok(i as usize)
        } else {
            Err(Error::Config(format!(
                "{} is past the days the working-time clock was prepared for ({} to {})",
                days_to_date(day as i32),
                days_to_date(self.first_day as i32),
                days_to_date((self.first_day + self.before.len() as i64 - 1) as i32)
            )))
        }
    }

    /// [`WorkingClock::position`], `None` for an instant outside the prepared days.
    #[inline]
    pub fn position_within(&self, at_ms: i64) -> Option<i64> {
        let day = local_day_of(at_ms);
        let i = usize::try_from(day - self.first_day).ok()?;
        let before = *self.before.get(i)?;
        let into_day = at_ms + SHANGHAI_OFFSET_MS - day * DAY_MS;
        Some(before + if self.working[i] { into_day } else { 0 })
    }

    /// The working time from the first day's start to the end of the last prepared day.
    pub fn end_position(&self) -> i64 {
        match (self.before.last(), self.working.last()) {
            (Some(before), Some(true)) => before + DAY_MS,
            (Some(before), _) => *before,
            (None, _) => 0,
        }
    }

    /// Working time from the first day's start to an instant (UTC milliseconds).
    pub fn position(&self, at_ms: i64) -> Result<i64, Error> {
        match self.position_within(at_ms) {
            Some(position) => Ok(position),
            // Outside the prepared days: the error names the day.
            None => Err(self
                .index(local_day_of(at_ms))
                .expect_err("a day outside the prepared days")),
        }
    }

    /// The first instant at which `position` of working time has passed.
    fn instant_at(&self, position: i64) -> Result<i64, Error> {
        // Working time at each day's end never decreases: the first day whose end reaches the
        // position holds it (a position on a day boundary is the end of the working day).
        let end_of = |i: usize| self.before[i] + if self.working[i] { DAY_MS } else { 0 };
        let (mut i, mut hi) = (0, self.before.len());
        while i < hi {
            let mid = (i + hi) / 2;
            if end_of(mid) < position {
                i = mid + 1;
            } else {
                hi = mid;
            }
        }
        if i == self.before.len() {
            // Past the prepared days: name the first day that would be needed.
            self.index(self.first_day + i as i64)?;
        }
        let day = self.first_day + i as i64;
        Ok(day * DAY_MS - SHANGHAI_OFFSET_MS + (position - self.before[i]).max(0))
    }

    /// The instant `working_ms` of working time after `start_ms`: a reply deadline. Time on
    /// days off does not count, so a deadline falls on a working day or at the very start of
    /// the day after one.
    pub fn deadline(&self, start_ms: i64, working_ms: i64) -> Result<i64, Error> {
        self.instant_at(self.position(start_ms)? + working_ms.max(0))
    }

    /// Working time from `from_ms` to `to_ms`, negative when `to_ms` comes first.
    pub fn between(&self, from_ms: i64, to_ms: i64) -> Result<i64, Error> {
        Ok(self.position(to_ms)? - self.position(from_ms)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn national_day_2024_with_its_adjusted_weekends() {
        let c = Calendar::official();
        for off in ["2024-10-01", "2024-10-04", "2024-10-07"] {
            assert!(!c.is_working_day(d(off)).unwrap(), "{off}");
        }
        assert!(
            c.is_working_day(d("2024-09-29")).unwrap(),
            "Sun 29 Sep is a working day"
        );
        assert!(
            c.is_working_day(d("2024-10-12")).unwrap(),
            "Sat 12 Oct is a working day"
        );
        assert!(c.is_working_day(d("2024-10-08")).unwrap());
        assert!(
            !c.is_working_day(d("2024-10-13")).unwrap(),
            "an ordinary Sunday"
        );
    }

    #[test]
    fn spring_festival_2025_with_its_adjusted_weekends() {
        let c = Calendar::official();
        for off in ["2025-01-28", "2025-01-31", "2025-02-04"] {
            assert!(!c.is_working_day(d(off)).unwrap(), "{off}");
        }
        assert!(
            c.is_working_day(d("2025-01-26")).unwrap(),
            "Sun 26 Jan is a working day"
        );
        assert!(
            c.is_working_day(d("2025-02-08")).unwrap(),
            "Sat 8 Feb is a working day"
        );
    }

    #[test]
    fn dates_outside_the_calendar_count_monday_to_friday_with_a_note() {
        let c = Calendar::official();
        // 2027-01-01 is a Friday: a public holiday every year, but the calendar does not know
        // 2027, so it counts as a working day, and the audit says so.
        assert!(c.is_working_day(d("2027-01-01")).unwrap());
        assert!(!c.is_working_day(d("2027-01-02")).unwrap(), "a Saturday");
        assert!(c.is_working_day(d("2018-12-31")).unwrap(), "a Monday");
        assert!(!c.covers(d("2027-01-01")));
        assert_eq!(c.outside_note(d("2026-03-01"), d("2026-12-31"), true), None);
        let note = c
            .outside_note(d("2026-03-01"), d("2027-03-01"), false)
            .unwrap();
        assert!(
            note.starts_with("2027 outside the holiday calendar (2019–2026)"),
            "{note}"
        );
        assert!(note.contains("--calendar FILE"), "{note}");
    }

    #[test]
    fn a_calendar_file_adds_a_year_and_must_follow_on() {
        let c = Calendar::official()
            .extended(
                "[2027]\nholidays = [\"2027-01-01..2027-01-03\"]\nworkdays = [\"2027-01-09\"]\n",
                "cal-2027.toml",
            )
            .unwrap();
        assert!(c.covers(d("2027-06-01")));
        assert!(!c.is_working_day(d("2027-01-01")).unwrap());
        assert!(
            c.is_working_day(d("2027-01-09")).unwrap(),
            "an adjusted Saturday"
        );
        // The official years are kept.
        assert!(!c.is_working_day(d("2026-10-01")).unwrap());
        assert_eq!(c.outside_note(d("2026-03-01"), d("2027-03-01"), true), None);
        let err = Calendar::official()
            .extended("[2029]\nholidays = []\nworkdays = []\n", "cal-2029.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cal-2029.toml") && err.contains("without a gap"),
            "{err}"
        );
    }

    /// Beijing wall time as UTC milliseconds.
    fn bj(s: &str) -> i64 {
        govmedia_collectors::time::shanghai_naive_to_ms(
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn deadlines_skip_weekends_holidays_and_count_adjusted_sundays() {
        let c = Calendar::official()
            .clock(d("2025-09-01"), d("2025-12-31"))
            .unwrap();
        let three_days = 3 * DAY_MS;
        // Friday 17:00 → Wednesday 17:00 over an ordinary weekend.
        assert_eq!(
            c.deadline(bj("2025-11-14 17:00"), three_days).unwrap(),
            bj("2025-11-19 17:00")
        );
        // Tuesday 30 Sep 2025 10:00: 1–8 October are holidays, Sat 11 Oct is a working day.
        // 30 Sep gives 14 h, 9 Oct 24 h, 10 Oct 24 h, 11 Oct the last 10 h.
        assert_eq!(
            c.deadline(bj("2025-09-30 10:00"), three_days).unwrap(),
            bj("2025-10-11 10:00")
        );
        // Friday 26 Sep 2025 12:00: Sun 28 Sep (调休) is a working day, Sat 27 is not.
        assert_eq!(
            c.deadline(bj("2025-09-26 12:00"), three_days).unwrap(),
            bj("2025-09-30 12:00")
        );
        // A comment on a day off starts its clock at the next working day's midnight.
        assert_eq!(
            c.deadline(bj("2025-11-15 09:00"), DAY_MS).unwrap(),
            bj("2025-11-18 00:00")
        );
    }

    #[test]
    fn positions_outside_the_prepared_days_are_none_and_the_end_counts_the_last_day() {
        // Thu 25 Sep 2025 to Sat 27 Sep (a day off).
        let c = Calendar::official()
            .clock(d("2025-09-25"), d("2025-09-27"))
            .unwrap();
        assert_eq!(c.position_within(bj("2025-09-25 00:00")), Some(0));
        assert_eq!(
            c.position_within(bj("2025-09-26 06:00")),
            Some(DAY_MS + 6 * 3_600_000)
        );
        assert_eq!(c.position_within(bj("2025-09-27 18:00")), Some(2 * DAY_MS));
        assert_eq!(c.position_within(bj("2025-09-24 23:59")), None);
        assert_eq!(c.position_within(bj("2025-09-28 00:00")), None);
        assert_eq!(c.end_position(), 2 * DAY_MS);
        // Ending on a working day: all of it counts.
        let c = Calendar::official()
            .clock(d("2025-09-25"), d("2025-09-26"))
            .unwrap();
        assert_eq!(c.end_position(), 2 * DAY_MS);
        assert_eq!(
            c.position_within(bj("2025-09-26 12:00")),
            c.position(bj("2025-09-26 12:00")).ok()
        );
    }

    #[test]
    fn working_time_between_instants_is_signed_and_matches_deadlines() {
        let c = Calendar::official()
            .clock(d("2025-09-01"), d("2026-12-31"))
            .unwrap();
        let (a, b) = (bj("2025-09-26 12:00"), bj("2025-09-30 12:00"));
        assert_eq!(c.between(a, b).unwrap(), 3 * DAY_MS);
        assert_eq!(c.between(b, a).unwrap(), -3 * DAY_MS);
        // Saturday to Sunday-adjusted-working: only Sunday counts.
        assert_eq!(
            c.between(bj("2025-09-27 08:00"), bj("2025-09-28 06:00"))
                .unwrap(),
            6 * 3_600_000
        );
        let err = c
            .deadline(bj("2026-12-30 10:00"), 3 * DAY_MS)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "past the days the working-time clock was prepared for (2025-09-01 to 2026-12-31)"
            ),
            "{err}"
        );
    }

    #[test]
    fn every_year_has_about_250_working_days() {
        let c = Calendar::official();
        for year in 2019..=2026 {
            let mut day = d(&format!("{year}-01-01"));
            let mut n = 0;
            while day.year() == year {
                n += usize::from(c.is_working_day(day).unwrap());
                day = day.succ_opt().unwrap();
            }
            assert!((244..=252).contains(&n), "{year}: {n} working days");
        }
    }

    #[test]
    fn day_table_accumulates_working_time() {
        let c = Calendar::official();
        // Thu 2024-09-26 .. Mon 2024-09-30: Thu, Fri working, Sat off, Sun 29 working (调休).
        let t = c.day_table(d("2024-09-26"), d("2024-09-30")).unwrap();
        let before: Vec<i64> = t
            .column("working_ms_before")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(before, [0, DAY_MS, 2 * DAY_MS, 2 * DAY_MS, 3 * DAY_MS]);
    }
}
