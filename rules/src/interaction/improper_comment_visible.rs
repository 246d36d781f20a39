//! INT004 — 不当留言未处理 (an improper comment is left visible)
//!
//! # What it does
//!
//! Looks for improper wording (`improper`) and spam, fraud or vulgar patterns (`comment_spam`:
//! 刷单, 兼职日赚, 加微信领取 …) in comments that the public can see: on WeChat an elected comment
//! (精选), elsewhere any comment not hidden. One finding per comment, known by its post and its
//! id (WeChat numbers each article's comments from 1).
//!
//! # Why it matters
//!
//! The CSTC 2020 留言审查 item (10 points on WeChat): "不存在未处理的不当留言". A visible fraud
//! comment under a government post lends it the government's credibility.
//!
//! # Example
//!
//! An elected comment "加微信领取兼职刷单日赚500元，私聊" is a finding with the term 加微信领取.
//!
//! # How to fix
//!
//! Remove or un-elect the comment; on WeChat elect comments only after review, and keep a
//! keyword filter switched on.
//!
//! # 整改建议
//!
//! 及时隐藏或删除广告、引流及不当留言，开启留言精选或人工审核。

use polars::prelude::*;

use super::timed_comments;
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::{Severity, rule_output};

pub struct ImproperCommentVisible;

static INFO: RuleInfo = RuleInfo {
    code: "INT004",
    name: "improper-comment-visible",
    severity: Severity::Deduct,
    summary: "an improper or spam comment is left visible to the public",
    source: include_str!("improper_comment_visible.rs"),
    params: &[],
};

impl Rule for ImproperCommentVisible {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::COMMENTS
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        // The comments with a hit, each once (a comment is its post's: WeChat numbers each
        // article's comments from 1), known by their row among the timed comments.
        let hits = ctx
            .comment_scan()?
            .clone()
            .lazy()
            .filter(col("field").eq(lit("content")))
            .group_by_stable([col("row")])
            .agg([
                col("account_id").first(),
                col("post_id").first(),
                col("comment_id").first(),
                col("created_ms").first(),
                col("term").first(),
                col("context").first(),
            ])
            .collect()?;
        // Whether each is shown, looked up by its row: a join on the account, post and comment
        // ids hashed every comment of the unit to find the few with a hit.
        let rows = hits.column("row")?.idx()?;
        let shown = timed_comments(ctx)?
            .select([col("platform"), col("is_elected"), col("is_visible")])
            .collect()?
            .take(rows)?;
        let hits = hits.hstack(shown.columns())?;
        // Shown to the public: WeChat shows elected comments only.
        let displayed = col("is_visible").fill_null(lit(true)).and(
            col("platform")
                .neq(lit("wechat"))
                .or(col("is_elected").fill_null(lit(true))),
        );
        let message = match ctx.lang {
            Lang::Zh => concat_str(
                [lit("不当留言仍公开显示：「"), col("term"), lit("」")],
                "",
                true,
            ),
            Lang::En => concat_str(
                [
                    lit("Improper comment left visible: \""),
                    col("term"),
                    lit("\""),
                ],
                "",
                true,
            ),
        };
        Ok(hits.lazy().filter(displayed).select(rule_output(
            INFO.code,
            INFO.severity,
            col("comment_id"),
            col("created_ms"),
            message,
            concat_str(
                [
                    lit("comment "),
                    col("comment_id"),
                    lit(" on post "),
                    col("post_id"),
                    lit(": "),
                    col("context"),
                ],
                "",
                true,
            ),
        )))
    }
}
