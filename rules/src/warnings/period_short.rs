//! UPD001 ahead of time: the current week (WeChat service accounts: the current two-week
//! period) still has fewer updates than required and ends within `days` days.
//!
//! Periods are those of the rule: ISO weeks (Monday 00:00 to Sunday 24:00, Beijing), pairs of
//! weeks for service accounts counted back from the time point's week. The period ends at
//! Sunday 24:00, so on Sunday one day is left (critical). A period that started before the
//! account's window is not judged by the rule, so it is not warned about either.

use std::collections::HashMap;

use polars::prelude::*;

use super::{Facts, Warning, WatchOptions, day_level, day_start_ms, day_text};
use crate::Error;
use crate::context::{AuditContext, Lang};
use crate::update::{min_required, period_weeks};

pub(super) fn warnings(
    ctx: &AuditContext,
    opts: &WatchOptions,
    facts: &Facts,
) -> Result<Vec<Warning>, Error> {
    let today = opts.today();
    let week = (today + 3).div_euclid(7);
    let monday = |w: i64| w * 7 - 3;
    let end_day = monday(week) + 6;
    let days_left = end_day + 1 - today;
    if days_left > opts.days {
        return Ok(Vec::new());
    }
    let min = min_required(ctx);
    let weeks = ctx
        .accounts()?
        .clone()
        .lazy()
        .select([
            col("account_id"),
            period_weeks(ctx)
                .cast(DataType::Int64)
                .alias("period_weeks"),
        ])
        .collect()?;
    let weeks: HashMap<&str, i64> = weeks
        .column("account_id")?
        .str()?
        .iter()
        .zip(weeks.column("period_weeks")?.i64()?.iter())
        .filter_map(|(a, w)| Some((a?, w?)))
        .collect();
    let updates = ctx.updates()?;
    let (ids, days, at) = (
        updates.column("account_id")?.str()?,
        updates.column("day")?.cast(&DataType::Int64)?,
        updates.column("published_at")?.cast(&DataType::Int64)?,
    );
    let (days, at) = (days.i64()?, at.i64()?);
    // Updates since the Monday of the earliest period start that can matter.
    let longest = weeks.values().copied().max().unwrap_or(1).max(1);
    let earliest = monday(week - longest + 1);
    let mut counts: HashMap<&str, Vec<i64>> = HashMap::new();
    for i in 0..updates.height() {
        if let (Some(id), Some(day), Some(t)) = (ids.get(i), days.get(i), at.get(i))
            && day >= earliest
            && t < opts.at_ms
        {
            counts.entry(id).or_default().push(day);
        }
    }
    let mut out = Vec::new();
    for account in &facts.accounts {
        let period_weeks = weeks
            .get(account.account_id.as_str())
            .copied()
            .unwrap_or(1)
            .max(1);
        let start_day = monday(week - period_weeks + 1);
        if start_day < account.from_day {
            continue;
        }
        let updates = counts
            .get(account.account_id.as_str())
            .map_or(0, |d| d.iter().filter(|&&d| d >= start_day).count() as i64);
        if updates >= min {
            continue;
        }
        let period = format!("{}~{}", day_text(start_day), day_text(end_day));
        let message = match (ctx.lang, period_weeks) {
            (Lang::Zh, 1) => format!(
                "本周（{period}）已更新{updates}条，少于要求的{min}条，{}结束前须再发布{}条",
                day_text(end_day),
                min - updates
            ),
            (Lang::Zh, n) => format!(
                "本期（{n}周，{period}）已更新{updates}条，少于要求的{min}条，{}结束前须再发布{}条",
                day_text(end_day),
                min - updates
            ),
            (Lang::En, n) => format!(
                "The current {}period {period} has {updates} update(s), fewer than the {min} required; publish {} more by the end of {}",
                if n == 1 {
                    "week ".to_string()
                } else {
                    format!("{n}-week ")
                },
                min - updates,
                day_text(end_day)
            ),
        };
        out.push(Warning {
            code: "UPD001",
            level: day_level(days_left),
            account_id: account.account_id.clone(),
            // The rule's item for the same period.
            item_id: Some(format!("period:{}", day_text(start_day))),
            deadline_ms: Some(day_start_ms(end_day + 1)),
            message,
            evidence: format!("{period}: {updates} updates so far (min {min})"),
        });
    }
    Ok(out)
}
