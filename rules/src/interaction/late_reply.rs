//! INT001 — 回复不及时 (a reply later than the deadline)
//!
//! # What it does
//!
//! For every comment or message in the window that was answered, counts the working time from the
//! comment to the reply on the official calendar (working days are Monday–Friday that are not
//! public holidays, plus the adjusted working weekends 调休上班日; every hour of a working day
//! counts, none of other days) and reports replies later than `INT.sla_working_days` working days
//! (default 3). Not applied to Weibo: the CSTC 2020 rubric does not assess Weibo timeliness.
//!
//! # Why it matters
//!
//! The CSTC 2020 留言回复 item (12 points on WeChat) asks for timely replies. No national figure
//! exists; many cities' 12345 rules give 3 working days for consultations, so that is the
//! default, configurable per pack.
//!
//! # Example
//!
//! A comment on Friday 2024-09-27 10:00 answered on Tuesday 2024-10-08 11:00 took 73 working
//! hours: 14 on Friday, 24 on Sunday 29 September (an adjusted working day), 24 on Monday and 11
//! on Tuesday; Saturday and 1–7 October (National Day) count nothing. Later than 72, so a
//! finding with evidence `73.0 working hours (deadline 72)`. Answered at 10:00 it is on time.
//!
//! # How to fix
//!
//! Name an editor who checks messages every working day and a deputy for leave; forward questions
//! to the responsible department with a deadline, and reply that the question was received.
//!
//! # 整改建议
//!
//! 在3个工作日内答复留言；简单问题当天答复，复杂问题先告知办理进度。

use polars::prelude::*;

use super::{SLA_WORKING_DAYS, hours_text, sla_ms, timed_comments};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::{Severity, rule_output};

pub struct LateReply;

static INFO: RuleInfo = RuleInfo {
    code: "INT001",
    name: "late-reply",
    severity: Severity::Deduct,
    summary: "a comment was answered later than 3 working days (not for Weibo)",
    source: include_str!("late_reply.rs"),
    params: &[SLA_WORKING_DAYS],
};

impl Rule for LateReply {
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
                [
                    lit("留言回复用时"),
                    hours_text(col("latency_ms")),
                    lit("个工作小时，超过"),
                    sla_hours.clone(),
                    lit("个工作小时的时限"),
                ],
                "",
                true,
            ),
            Lang::En => concat_str(
                [
                    lit("Reply took "),
                    hours_text(col("latency_ms")),
                    lit(" working hours, over the "),
                    sla_hours.clone(),
                    lit("-hour deadline"),
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
                lit(": "),
                hours_text(col("latency_ms")),
                lit(" working hours (deadline "),
                sla_hours,
                lit(")"),
            ],
            "",
            true,
        );
        Ok(timed_comments(ctx)?
            .filter(
                col("platform")
                    .neq(lit("weibo"))
                    .and(col("reply_ms").is_not_null())
                    .and(col("latency_ms").gt(lit(sla))),
            )
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
