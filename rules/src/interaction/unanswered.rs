//! INT002 — 留言未回复 (a message older than the deadline has no reply)
//!
//! # What it does
//!
//! Reports every comment or message in the window that has no reply at as_of although more than
//! `INT.sla_working_days` working days (default 3) have passed since it was posted, counted on
//! the official working-day calendar. Applies to every platform: Weibo timeliness is not scored,
//! but a question left unanswered is.
//!
//! # Why it matters
//!
//! The CSTC 2020 留言回复 item; for websites an unanswered valid message older than 3 months is
//! even a veto (互动回应差, 国办秘函〔2019〕19号), a rule many inspectors reuse for new media.
//!
//! # Example
//!
//! A comment on 2025-11-20 with no reply at as_of 2025-11-30 is a finding with evidence
//! `open for 168.0 working hours at 2025-11-30 (deadline 72)`.
//!
//! # How to fix
//!
//! Answer it now, publicly where the question is of general interest; review open messages
//! every working day.
//!
//! # 整改建议
//!
//! 及时答复积压留言，建立留言办理台账和超时提醒，确保有问必答。

use polars::prelude::*;

use super::{SLA_WORKING_DAYS, hours_text, sla_ms, timed_comments};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::{Severity, rule_output};

pub struct Unanswered;

static INFO: RuleInfo = RuleInfo {
    code: "INT002",
    name: "unanswered",
    severity: Severity::Deduct,
    summary: "a comment older than 3 working days at as_of has no reply",
    source: include_str!("unanswered.rs"),
    params: &[SLA_WORKING_DAYS],
};

impl Rule for Unanswered {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::COMMENTS
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let sla = sla_ms(ctx);
        let sla_hours = lit((sla / 3_600_000).to_string());
        let message = match ctx.lang {
            Lang::Zh => concat_str(
                [lit("留言超过"), sla_hours.clone(), lit("个工作小时未回复")],
                "",
                true,
            ),
            Lang::En => concat_str(
                [
                    lit("Comment unanswered for more than "),
                    sla_hours.clone(),
                    lit(" working hours"),
                ],
                "",
                true,
            ),
        };
        let evidence = concat_str(
            [
                lit("comment "),
                col("comment_id"),
                lit(" on post "),
                col("post_id"),
                lit(": open for "),
                hours_text(col("open_ms")),
                lit(" working hours at "),
                lit(ctx.as_of.to_string()),
                lit(" (deadline "),
                sla_hours,
                lit(")"),
            ],
            "",
            true,
        );
        Ok(timed_comments(ctx)?
            .filter(col("reply_ms").is_null().and(col("open_ms").gt(lit(sla))))
            .select(rule_output(
                INFO.code,
                INFO.severity,
                col("comment_id"),
                col("created_ms"),
                message,
                evidence,
            )))
    }
}
