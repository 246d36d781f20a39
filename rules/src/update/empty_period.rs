//! UPD001 — 更新不足 (a period without enough updates)
//!
//! # What it does
//!
//! Counts the account's updates in every full ISO week (Monday 00:00 to Sunday 24:00, Beijing
//! time) of the audit window and reports each week with fewer than `min_per_period` updates
//! (default 1). For WeChat service accounts (服务号), which may mass-send only four times a
//! month, the period is two weeks: consecutive ISO-week pairs counted back from as_of's week.
//! An update is a published post that is not deleted; a WeChat mass-send with several articles
//! counts once. Partial weeks at the window's edges (the window starts a year before as_of, or at
//! the account's first sighting) are not judged.
//!
//! # Why it matters
//!
//! 信息更新 is the first item of the CSTC 2020 new-media rubric (16 points on WeChat, 20 on
//! Weibo, 12 for apps): "至少每周更新一次（微信服务号每两周）". Local rules tighten it (甘肃 weekly,
//! 贵州 every working day for 市州), so the period and minimum are parameters.
//!
//! # Example
//!
//! An account posts on 2025-10-31 and next on 2025-11-12: the week 2025-11-03 to 2025-11-09 has
//! no update, so one finding with the evidence `2025-11-03~2025-11-09: 0 updates (min 1)`.
//! A WeChat service account posting every other Wednesday has no finding.
//!
//! # How to fix
//!
//! Plan at least one post a week (a service account: one every two weeks) with a content
//! calendar and a named editor and deputy; schedule posts ahead of holidays (定时群发) so that the
//! Spring Festival or National Day week is not empty.
//!
//! # 整改建议
//!
//! 每周至少发布1条信息（服务号每两周），指定专人负责内容排期；节假日前通过定时群发提前安排，避免春节、国庆等假期出现空白周。

use polars::prelude::*;

use super::{COUNT_REPOSTS, MIN_PER_PERIOD, PERIOD_WEEKS, SERVICE_PERIOD_WEEKS, short_periods};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::exprs::{day_start, day_text, int_text};
use crate::findings::{Severity, rule_output};

pub struct EmptyPeriod;

static INFO: RuleInfo = RuleInfo {
    code: "UPD001",
    name: "empty-period",
    severity: Severity::Deduct,
    summary: "a full week (service account: two weeks) with fewer updates than required",
    source: include_str!("empty_period.rs"),
    params: &[
        MIN_PER_PERIOD,
        PERIOD_WEEKS,
        SERVICE_PERIOD_WEEKS,
        COUNT_REPOSTS,
    ],
};

impl Rule for EmptyPeriod {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        // Each text made once per row, then read by the item id, the message and the evidence
        // (a column function is not shared between expressions by Polars).
        let start = col("start_text");
        let end = col("end_text");
        let n = col("updates_text");
        let min = col("min_text");
        let per_zh = when(col("period_weeks").eq(lit(1i64)))
            .then(lit("每周"))
            .when(col("period_weeks").eq(lit(2i64)))
            .then(lit("每两周"))
            .otherwise(concat_str(
                [lit("每"), int_text(col("period_weeks")), lit("周")],
                "",
                true,
            ));
        let per_en = when(col("period_weeks").eq(lit(1i64)))
            .then(lit("per week"))
            .otherwise(concat_str(
                [lit("per "), int_text(col("period_weeks")), lit(" weeks")],
                "",
                true,
            ));
        let none = col("updates").eq(lit(0i64));
        let message = match ctx.lang {
            Lang::Zh => concat_str(
                [
                    start.clone(),
                    lit("至"),
                    end.clone(),
                    when(none.clone()).then(lit("无更新")).otherwise(concat_str(
                        [lit("仅更新"), n.clone(), lit("次")],
                        "",
                        true,
                    )),
                    lit("（要求"),
                    per_zh,
                    lit("至少"),
                    min.clone(),
                    lit("次）"),
                ],
                "",
                true,
            ),
            Lang::En => concat_str(
                [
                    when(none).then(lit("No update")).otherwise(concat_str(
                        [lit("Only "), n.clone(), lit(" update(s)")],
                        "",
                        true,
                    )),
                    lit(" from "),
                    start.clone(),
                    lit(" to "),
                    end.clone(),
                    lit(" (at least "),
                    min.clone(),
                    lit(" required "),
                    per_en,
                    lit(")"),
                ],
                "",
                true,
            ),
        };
        let evidence = concat_str(
            [
                start.clone(),
                lit("~"),
                end,
                lit(": "),
                n,
                lit(" updates (min "),
                min,
                lit(")"),
            ],
            "",
            true,
        );
        Ok(short_periods(ctx)?
            .with_columns([
                day_text(col("start_day")).alias("start_text"),
                day_text(col("end_day")).alias("end_text"),
                int_text(col("updates")).alias("updates_text"),
                int_text(col("min_required")).alias("min_text"),
            ])
            .select(rule_output(
                INFO.code,
                INFO.severity,
                concat_str([lit("period:"), start], "", true),
                day_start(col("start_day")),
                message,
                evidence,
            )))
    }
}
