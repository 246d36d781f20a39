//! The update cadence of each account from its update days ([`super::posts`]): the judged
//! periods with their counts (UPD001, the measurements), the last update (UPD002, UPD003), the
//! window's updates and longest gap, and the weekly counts of the charts — per account, in
//! account order, without grouping or joining posts.

use polars::prelude::*;

use super::AccountKeys;
use super::posts::PostFacts;

/// The cadence parameters of an audit.
#[derive(Debug, Clone, Copy)]
pub struct CadenceSettings {
    /// Updates each period requires (`UPD001.min_per_period`).
    pub min_required: i64,
    /// Period length in ISO weeks, and for WeChat service accounts.
    pub period_weeks: i64,
    pub service_period_weeks: i64,
    /// The audit's window before clipping (`from_day`) and as_of, Beijing day numbers.
    pub from_day: i64,
    pub as_of_day: i64,
}

impl CadenceSettings {
    /// The period length of an account.
    pub fn weeks_of(&self, keys: &AccountKeys, key: u32) -> i64 {
        if keys.is_service(key) {
            self.service_period_weeks
        } else {
            self.period_weeks
        }
    }

    fn as_of_week(&self) -> i64 {
        iso_week(self.as_of_day)
    }
}

/// The ISO week number (weeks since the Monday 1969-12-29) of a day number.
fn iso_week(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// The day number of the Monday that starts a week number.
fn week_monday(week: i64) -> i64 {
    week * 7 - 3
}

/// A judged period of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// 0 ends with as_of's ISO week, counting back.
    pub number: i64,
    pub start_day: i64,
    pub end_day: i64,
    pub updates: i64,
}

/// The periods of an account wholly inside its window, with the updates in each: periods are
/// counted back from as_of's ISO week, `weeks` long.
pub fn judged_periods_of(
    settings: &CadenceSettings,
    weeks: i64,
    from_day: i64,
    as_of_day: i64,
    update_days: &[i64],
) -> Vec<Period> {
    let weeks = weeks.max(1);
    let as_of_week = settings.as_of_week();
    let max_period = (settings.as_of_day - settings.from_day) / 7 + 2;
    let mut periods: Vec<Period> = (0..=max_period)
        .filter_map(|number| {
            let end_week = as_of_week - number * weeks;
            let start_day = week_monday(end_week - weeks + 1);
            let end_day = week_monday(end_week) + 6;
            (start_day >= from_day && end_day <= as_of_day).then_some(Period {
                number,
                start_day,
                end_day,
                updates: 0,
            })
        })
        .collect();
    if let (Some(first), Some(last)) = (periods.first(), periods.last()) {
        let (low, high) = (first.number, last.number);
        for &day in update_days.iter().filter(|&&d| d >= from_day) {
            let number = (as_of_week - iso_week(day)).div_euclid(weeks);
            if (low..=high).contains(&number) {
                // Judged periods are consecutive numbers from `low`.
                periods[(number - low) as usize].updates += 1;
            }
        }
    }
    periods
}

/// Every judged period of every account with fewer updates than required: `account_id, period,
/// period_weeks, start_day, end_day, updates, min_required` (see `update::short_periods`). Only
/// those rows: a frame of every judged period (ten million at 200,000 accounts, their ids
/// gathered) filtered by the plan afterwards was most of UPD001's time.
pub fn short_periods(
    keys: &AccountKeys,
    facts: &PostFacts,
    settings: &CadenceSettings,
) -> PolarsResult<DataFrame> {
    let mut account = Vec::new();
    let (mut number, mut weeks, mut start, mut end, mut updates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (key, f) in facts.accounts.iter().enumerate() {
        let key = key as u32;
        let w = settings.weeks_of(keys, key);
        for p in judged_periods_of(
            settings,
            w,
            keys.from_day(key),
            keys.as_of_day(key),
            &f.update_days,
        )
        .into_iter()
        .filter(|p| p.updates < settings.min_required)
        {
            account.push(key);
            number.push(p.number);
            weeks.push(w.max(1));
            start.push(p.start_day);
            end.push(p.end_day);
            updates.push(p.updates);
        }
    }
    let rows = account.len();
    DataFrame::new_infer_height(vec![
        keys.id_column("account_id", &account),
        Column::new("period".into(), number),
        Column::new("period_weeks".into(), weeks),
        Column::new("start_day".into(), start),
        Column::new("end_day".into(), end),
        Column::new("updates".into(), updates),
        Column::new("min_required".into(), vec![settings.min_required; rows]),
    ])
}

/// Per account: `account_id, from_day, as_of_day, last_at (epoch ms), last_day, last_url,
/// days_since` (nulls when the account never updated).
pub fn last_updates(keys: &AccountKeys, facts: &PostFacts) -> PolarsResult<DataFrame> {
    let all: Vec<u32> = (0..keys.len() as u32).collect();
    let last = |k: u32| facts.accounts[k as usize].last.as_ref();
    DataFrame::new_infer_height(vec![
        keys.id_column("account_id", &all),
        Column::new(
            "from_day".into(),
            all.iter().map(|&k| keys.from_day(k)).collect::<Vec<_>>(),
        ),
        Column::new(
            "as_of_day".into(),
            all.iter().map(|&k| keys.as_of_day(k)).collect::<Vec<_>>(),
        ),
        Column::new(
            "last_at".into(),
            all.iter()
                .map(|&k| last(k).map(|l| l.at))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "last_day".into(),
            all.iter()
                .map(|&k| last(k).map(|l| l.day))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "last_url".into(),
            all.iter()
                .map(|&k| last(k).and_then(|l| l.url.as_deref()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "days_since".into(),
            all.iter()
                .map(|&k| last(k).map(|l| keys.as_of_day(k) - l.day))
                .collect::<Vec<_>>(),
        ),
    ])
}

/// The cadence counts per account: `account_id, updates` (in the window), `periods_judged,
/// periods_compliant, max_gap` (the longest stretch between the window's start and update days,
/// null without an update in the window), `last_day, days_since` (over every update up to
/// as_of).
pub fn cadence_counts(
    keys: &AccountKeys,
    facts: &PostFacts,
    settings: &CadenceSettings,
) -> PolarsResult<DataFrame> {
    let n = keys.len();
    let (mut updates, mut judged, mut compliant, mut max_gap) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut days: Vec<i64> = Vec::new();
    for (key, f) in facts.accounts.iter().enumerate() {
        let key = key as u32;
        let from_day = keys.from_day(key);
        let periods = judged_periods_of(
            settings,
            settings.weeks_of(keys, key),
            from_day,
            keys.as_of_day(key),
            &f.update_days,
        );
        judged.push(periods.len() as i64);
        compliant.push(
            periods
                .iter()
                .filter(|p| p.updates >= settings.min_required)
                .count() as i64,
        );
        days.clear();
        days.extend(f.window_update_days(from_day));
        updates.push(days.len() as i64);
        days.sort_unstable();
        days.dedup();
        // Gaps between consecutive update days, and from the window's start to the first one.
        let mut previous = from_day;
        let gap = days
            .iter()
            .map(|&d| {
                let gap = d - previous;
                previous = d;
                gap
            })
            .max();
        max_gap.push(gap);
    }
    let last = last_updates(keys, facts)?;
    DataFrame::new_infer_height(vec![
        last.column("account_id")?.clone(),
        Column::new("updates".into(), updates),
        Column::new("periods_judged".into(), judged),
        Column::new("periods_compliant".into(), compliant),
        Column::new("max_gap".into(), max_gap),
        last.column("last_day")?.clone(),
        last.column("days_since")?.clone(),
    ])
}

/// Updates per account and ISO week over each account's window: `account_id, week_start (day
/// number), updates, judged, min_per_week` (see `measurements::weekly_updates`).
pub fn weekly(
    keys: &AccountKeys,
    facts: &PostFacts,
    settings: &CadenceSettings,
) -> PolarsResult<DataFrame> {
    let first_week = iso_week(settings.from_day);
    let last_week = iso_week(settings.as_of_day);
    let (mut account, mut monday, mut updates, mut judged, mut threshold) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut counts: Vec<i64> = Vec::new();
    for (key, f) in facts.accounts.iter().enumerate() {
        let key = key as u32;
        let (from_day, as_of_day) = (keys.from_day(key), keys.as_of_day(key));
        counts.clear();
        counts.resize((last_week - first_week + 1).max(0) as usize, 0);
        for &day in &f.update_days {
            let week = iso_week(day);
            if (first_week..=last_week).contains(&week) {
                counts[(week - first_week) as usize] += 1;
            }
        }
        let per_week = settings.min_required as f64 / settings.weeks_of(keys, key).max(1) as f64;
        for week in first_week..=last_week {
            let start = week_monday(week);
            // Weeks that overlap the account's window.
            if start + 6 < from_day || start > as_of_day {
                continue;
            }
            account.push(key);
            monday.push(start as i32);
            updates.push(counts[(week - first_week) as usize]);
            judged.push(start >= from_day && start + 6 <= as_of_day);
            threshold.push(per_week);
        }
    }
    DataFrame::new_infer_height(vec![
        keys.id_column("account_id", &account),
        Column::new("week_start".into(), monday).cast(&DataType::Date)?,
        Column::new("updates".into(), updates),
        Column::new("judged".into(), judged),
        Column::new("min_per_week".into(), threshold),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CadenceSettings {
        // as_of 2025-11-30 (a Sunday), window from 2024-11-30.
        let as_of_day = govmedia_collectors::time::date_to_days(
            chrono::NaiveDate::from_ymd_opt(2025, 11, 30).unwrap(),
        ) as i64;
        CadenceSettings {
            min_required: 1,
            period_weeks: 1,
            service_period_weeks: 2,
            from_day: as_of_day - 365,
            as_of_day,
        }
    }

    #[test]
    fn periods_count_back_from_as_of_week_and_only_whole_ones_inside_the_window_are_judged() {
        let s = settings();
        // A window of 20 days ending on a Sunday: two whole weeks, a partial one is not judged.
        let from = s.as_of_day - 19;
        let periods = judged_periods_of(&s, 1, from, s.as_of_day, &[s.as_of_day - 1, from]);
        assert_eq!(periods.len(), 2);
        assert_eq!(periods[0].number, 0);
        assert_eq!(periods[0].end_day, s.as_of_day);
        assert_eq!(periods[0].start_day, s.as_of_day - 6);
        assert_eq!(periods[0].updates, 1);
        // The update on the window's first day is in the partial week: counted nowhere.
        assert_eq!(periods[1].updates, 0);
        // Two-week periods: one whole period fits.
        let two = judged_periods_of(&s, 2, from, s.as_of_day, &[s.as_of_day - 10]);
        assert_eq!(two.len(), 1);
        assert_eq!((two[0].start_day, two[0].updates), (s.as_of_day - 13, 1));
    }
}
