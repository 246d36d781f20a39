//! UPD — 信息更新 (update cadence): the frames the three UPD rules and the measurements share.

pub mod dormant_account;
pub mod empty_period;
pub mod no_update_in_two_weeks;

use polars::prelude::*;

use crate::context::{AuditContext, ParamValue};
use crate::engine::ParamSpec;

pub const MIN_PER_PERIOD: ParamSpec = ParamSpec {
    key: "UPD001.min_per_period",
    default: ParamValue::Int(1),
    range: (1, 100),
    help: "updates required in each period",
};
pub const PERIOD_WEEKS: ParamSpec = ParamSpec {
    key: "UPD001.period_weeks",
    default: ParamValue::Int(1),
    range: (1, 52),
    help: "period length in ISO weeks",
};
pub const SERVICE_PERIOD_WEEKS: ParamSpec = ParamSpec {
    key: "UPD001.service_period_weeks",
    default: ParamValue::Int(2),
    range: (1, 52),
    help: "period length in ISO weeks for WeChat service accounts (服务号)",
};
pub const COUNT_REPOSTS: ParamSpec = ParamSpec {
    key: "UPD.count_reposts",
    default: ParamValue::Bool(true),
    range: (0, 1),
    help: "whether a plain Weibo repost counts as an update",
};

/// The updates each period requires.
pub fn min_required(ctx: &AuditContext) -> i64 {
    ctx.int_param(&MIN_PER_PERIOD)
}

/// Each account's period length in ISO weeks (over `ctx.accounts()`): WeChat service accounts
/// (服务号) may mass-send only four times a month, so they have their own, longer period.
pub fn period_weeks(ctx: &AuditContext) -> Expr {
    let weeks = ctx.int_param(&PERIOD_WEEKS).max(1);
    let service_weeks = ctx.int_param(&SERVICE_PERIOD_WEEKS).max(1);
    when(
        col("platform")
            .eq(lit("wechat"))
            .and(col("account_kind").eq(lit("service"))),
    )
    .then(lit(service_weeks))
    .otherwise(lit(weeks))
}

/// Every judged period of every account with fewer updates than required: `account_id, period,
/// period_weeks, start_day, end_day, updates, min_required`.
///
/// Periods are counted back from as_of's ISO week (period 0 ends with it); a period is judged
/// only when it lies wholly inside the account's window, so partial weeks at the edges are not.
/// Computed from the unit's post facts (`facts::updates`).
pub fn short_periods(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let facts = ctx.post_facts()?;
    Ok(
        crate::facts::updates::short_periods(&facts.keys, &facts.posts, &ctx.cadence_settings())?
            .lazy(),
    )
}

/// Per account: the last update up to as_of and the days since it: `account_id, from_day,
/// as_of_day, last_at (epoch ms), last_day, last_url, days_since` (nulls when the account never
/// updated).
pub fn last_updates(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let facts = ctx.post_facts()?;
    Ok(crate::facts::updates::last_updates(&facts.keys, &facts.posts)?.lazy())
}

#[cfg(test)]
mod tests;
