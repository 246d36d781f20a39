//! UPD002 — 监测时间点前2周内无更新 (no update in the two weeks before as_of) — veto
//!
//! # What it does
//!
//! Reports an account with no update in the `days` days (default 14) before the monitoring time
//! point, as_of included: the last update was `days` or more days before as_of, or there is none
//! on record. An update is a published post that is not deleted.
//!
//! # Why it matters
//!
//! 国办秘函〔2019〕19号, 政务新媒体检查指标, 单项否决: "监测时间点前2周内无更新" makes the account
//! 不合格 whatever its score. The 2022 national rectification notice lists "发布类账号2周内无更新"
//! again.
//!
//! # Example
//!
//! as_of is 2025-11-30 and the last post was on 2025-11-16 (14 days earlier): the finding's
//! evidence is `last update 2025-11-16, 14 days before 2025-11-30`. A last post on 2025-11-17
//! (13 days) is not a finding.
//!
//! # How to fix
//!
//! Publish now, then keep a weekly rhythm (see UPD001). An account that can no longer be
//! maintained should be closed or merged formally (关停整合) rather than left silent.
//!
//! # 整改建议
//!
//! 立即发布信息，并保持每周更新节奏；确实无力维护的账号应按程序关停或整合，不得长期“睡眠”。

use polars::prelude::*;

use super::last_updates;
use crate::context::{AuditContext, Lang, ParamValue};
use crate::engine::{ParamSpec, Reads, Rule, RuleInfo};
use crate::exprs::{day_text, int_text};
use crate::findings::{Severity, rule_output};

pub struct NoUpdateInTwoWeeks;

pub const DAYS: ParamSpec = ParamSpec {
    key: "UPD002.days",
    default: ParamValue::Int(14),
    range: (1, 365),
    help: "days before as_of (inclusive) that must contain an update",
};

static INFO: RuleInfo = RuleInfo {
    code: "UPD002",
    name: "no-update-in-two-weeks",
    severity: Severity::Veto,
    summary: "no update in the 14 days before the monitoring time point (veto)",
    source: include_str!("no_update_in_two_weeks.rs"),
    params: &[DAYS, super::COUNT_REPOSTS],
};

impl Rule for NoUpdateInTwoWeeks {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let days = ctx.int_param(&DAYS);
        Ok(silent_accounts(ctx, days)?.select(silence_output(ctx, INFO.code, INFO.severity, days)))
    }
}

/// Accounts whose last update is `days` or more days before as_of, or that never updated.
pub(super) fn silent_accounts(ctx: &AuditContext, days: i64) -> PolarsResult<LazyFrame> {
    Ok(last_updates(ctx)?.filter(
        col("days_since")
            .is_null()
            .or(col("days_since").gt_eq(lit(days))),
    ))
}

/// The finding columns shared by UPD002 and UPD003.
pub(super) fn silence_output(
    ctx: &AuditContext,
    code: &str,
    severity: Severity,
    days: i64,
) -> Vec<Expr> {
    let as_of = lit(ctx.as_of.to_string());
    let last = day_text(col("last_day"));
    let since = int_text(col("days_since"));
    let window = lit(days.to_string());
    let message = match ctx.lang {
        Lang::Zh => when(col("last_day").is_null())
            .then(concat_str(
                [
                    lit("监测时间点（"),
                    as_of.clone(),
                    lit("）前"),
                    window.clone(),
                    lit("天内无更新，未发现任何更新记录"),
                ],
                "",
                true,
            ))
            .otherwise(concat_str(
                [
                    lit("监测时间点（"),
                    as_of.clone(),
                    lit("）前"),
                    window.clone(),
                    lit("天内无更新，最后一次更新为"),
                    last.clone(),
                    lit("，已"),
                    since.clone(),
                    lit("天未更新"),
                ],
                "",
                true,
            )),
        Lang::En => when(col("last_day").is_null())
            .then(concat_str(
                [
                    lit("No update in the "),
                    window.clone(),
                    lit(" days before "),
                    as_of.clone(),
                    lit("; no update on record"),
                ],
                "",
                true,
            ))
            .otherwise(concat_str(
                [
                    lit("No update in the "),
                    window.clone(),
                    lit(" days before "),
                    as_of.clone(),
                    lit("; last update "),
                    last.clone(),
                    lit(", "),
                    since.clone(),
                    lit(" days earlier"),
                ],
                "",
                true,
            )),
    };
    let evidence = when(col("last_day").is_null())
        .then(concat_str(
            [lit("no update on record since "), day_text(col("from_day"))],
            "",
            true,
        ))
        .otherwise(concat_str(
            [
                lit("last update "),
                last,
                lit(", "),
                since,
                lit(" days before "),
                as_of,
                when(col("last_url").is_not_null())
                    .then(concat_str([lit(": "), col("last_url")], "", true))
                    .otherwise(lit("")),
            ],
            "",
            true,
        ));
    rule_output(
        code,
        severity,
        lit(NULL).cast(DataType::String),
        col("last_at"),
        message,
        evidence,
    )
}
