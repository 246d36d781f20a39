//! UPD — 信息更新 (update cadence): the frames the three UPD rules and the measurements share.

pub mod dormant_account;
pub mod empty_period;
pub mod no_update_in_two_weeks;

use polars::prelude::*;

use crate::context::{AuditContext, ParamValue};
use crate::engine::ParamSpec;
use crate::exprs::{iso_week, week_monday};

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

/// Each account's period length in ISO weeks (over `ctx.accounts`): WeChat service accounts
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

/// Every judged period of every account with its update count: `account_id, period,
/// period_weeks, start_day, end_day, updates, min_required`.
///
/// Periods are counted back from as_of's ISO week (period 0 ends with it); a period is judged
/// only when it lies wholly inside the account's window, so partial weeks at the edges are not.
pub fn judged_periods(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let min_required = min_required(ctx);
    let as_of_week = (ctx.as_of_day + 3).div_euclid(7);
    let max_period = (ctx.as_of_day - ctx.from_day) / 7 + 2;

    let accounts = ctx.accounts.clone().lazy().select([
        col("account_id"),
        col("from_day"),
        col("as_of_day"),
        period_weeks(ctx).alias("period_weeks"),
    ]);
    let period_numbers = DataFrame::new_infer_height(vec![Column::new(
        "period".into(),
        (0..=max_period).collect::<Vec<i64>>(),
    )])?
    .lazy();

    let end_week = lit(as_of_week) - col("period") * col("period_weeks");
    let periods = accounts
        .clone()
        .cross_join(period_numbers, None)
        .with_columns([
            week_monday(end_week.clone() - col("period_weeks") + lit(1i64)).alias("start_day"),
            (week_monday(end_week) + lit(6i64)).alias("end_day"),
        ])
        .filter(
            col("start_day")
                .gt_eq(col("from_day"))
                .and(col("end_day").lt_eq(col("as_of_day"))),
        );

    let counts = ctx
        .updates()?
        .clone()
        .lazy()
        .join(
            accounts,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("day").gt_eq(col("from_day")))
        .with_column(
            (lit(as_of_week) - iso_week(col("day")))
                .floor_div(col("period_weeks"))
                .alias("period"),
        )
        .group_by([col("account_id"), col("period")])
        .agg([len().cast(DataType::Int64).alias("updates")]);

    Ok(periods
        .join(
            counts,
            [col("account_id"), col("period")],
            [col("account_id"), col("period")],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            col("account_id"),
            col("period"),
            col("period_weeks"),
            col("start_day"),
            col("end_day"),
            col("updates").fill_null(lit(0i64)),
            lit(min_required).alias("min_required"),
        ]))
}

/// Per account: the last update up to as_of and the days since it: `account_id, from_day,
/// last_at, last_day, last_url, days_since` (nulls when the account never updated).
pub fn last_updates(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let last = ctx
        .updates()?
        .clone()
        .lazy()
        .group_by([col("account_id")])
        .agg([
            col("published_at").max().alias("last_at"),
            col("day").max().alias("last_day"),
            col("post_id")
                .sort_by([col("published_at")], SortMultipleOptions::default())
                .last()
                .alias("last_post_id"),
        ]);
    // The link of each account's last update, looked up for those posts only (the updates
    // frame does not carry every post's URL).
    let last_url = ctx.tables.posts.clone().select([
        col("account_id"),
        col("post_id"),
        col("url").alias("last_url"),
    ]);
    let last = last.join(
        last_url,
        [col("account_id"), col("last_post_id")],
        [col("account_id"), col("post_id")],
        JoinArgs::new(JoinType::Left),
    );
    Ok(ctx
        .accounts
        .clone()
        .lazy()
        .select([col("account_id"), col("from_day"), col("as_of_day")])
        .join(
            last,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column((col("as_of_day") - col("last_day")).alias("days_since")))
}

#[cfg(test)]
mod tests;
