//! INT006 — 征集调查无结果反馈 (a consultation without published results)
//!
//! # What it does
//!
//! Takes the posts the labeller (`docs/labels.md`) labels 征集调查 — a call that invites the
//! public (有奖征集, 意见征集, 公开征求意见, a 问卷 with a channel to take part; never a 记者调查 or
//! a count of participants) — and reports each one after which the account published no post
//! labelled 结果反馈 (征集结果, 采纳情况, 调查结果公布 …) within the window. The evidence names the
//! post and why it is a call. A notice: the results may be published elsewhere.
//!
//! # Why it matters
//!
//! The CSTC 2020 意见反馈 item (6 points on every platform): "开展意见征集和调查，并公布统计结果
//! 和采纳情况". A consultation whose outcome is never reported teaches citizens not to answer.
//!
//! # Example
//!
//! 【意见征集】关于城市公园开放时间调整的意见征集 on 2025-10-31 with no later results post is a
//! notice linking the consultation post.
//!
//! # How to fix
//!
//! Publish what came in and what was adopted (征集结果 / 采纳情况) on the same account, and link
//! it from the consultation post.
//!
//! # 整改建议
//!
//! 征集调查结束后公布征集结果和意见采纳情况。

use polars::prelude::*;

use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::{Severity, rule_output};

pub struct SurveyWithoutFeedback;

static INFO: RuleInfo = RuleInfo {
    code: "INT006",
    name: "survey-without-feedback",
    severity: Severity::Notice,
    summary: "a consultation/survey post has no results post after it in the window",
    source: include_str!("survey_without_feedback.rs"),
    params: &[],
};

impl Rule for SurveyWithoutFeedback {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::POST_LABELS
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let posts = ctx.post_scan()?.categories.clone().lazy();
        let last_feedback = posts
            .clone()
            .filter(col("category").eq(lit("结果反馈")))
            .group_by([col("account_id")])
            .agg([col("occurred_at").max().alias("last_feedback")]);
        let message = match ctx.lang {
            Lang::Zh => lit("征集调查类信息发布后未公布结果或采纳情况"),
            Lang::En => lit("Consultation or survey without published results"),
        };
        let evidence = concat_str(
            [
                lit("post "),
                col("post_id"),
                lit(" ["),
                col("category"),
                lit(" "),
                col("score").cast(DataType::String),
                lit(": "),
                col("reason"),
                lit("]"),
                when(col("url").is_not_null())
                    .then(concat_str([lit(": "), col("url")], "", true))
                    .otherwise(lit("")),
            ],
            "",
            true,
        );
        Ok(posts
            .filter(col("category").eq(lit("征集调查")))
            .join(
                last_feedback,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .filter(
                col("last_feedback")
                    .is_null()
                    .or(col("last_feedback").lt_eq(col("occurred_at"))),
            )
            .select(rule_output(
                INFO.code,
                INFO.severity,
                col("post_id"),
                col("occurred_at"),
                message,
                evidence,
            )))
    }
}
