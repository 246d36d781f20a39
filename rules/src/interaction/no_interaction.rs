//! INT005 — 未提供有效互动功能 (no effective interaction function) — veto
//!
//! # What it does
//!
//! Reports an account that offers citizens no way to write to it: its `comments_enabled` is
//! false, or (WeChat, Weibo) every post in the window whose comment setting is known had comments
//! closed, or (apps) the setting is unknown and the service menu has no message entry (留言,
//! 咨询, 互动, 信箱, 12345).
//!
//! # Why it matters
//!
//! 国办秘函〔2019〕19号, 单项否决: "互动回应差: 未提供有效互动功能" makes the account 不合格
//! whatever its score.
//!
//! # Example
//!
//! A WeChat account whose 120 posts in the window all have comments switched off is a veto
//! finding with evidence `comments closed on 120 of 120 posts`.
//!
//! # How to fix
//!
//! Switch comments (留言) on for posts, or offer a message entry in the menu that leads to a
//! working channel (留言板, 12345 hotline form), and answer what comes in.
//!
//! # 整改建议
//!
//! 开启留言、评论或留言板等有效互动渠道，并安排专人办理。

use polars::prelude::*;

use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::exprs::{contains_any, day_start, int_text};
use crate::findings::{Severity, rule_output};

pub struct NoInteraction;

static INFO: RuleInfo = RuleInfo {
    code: "INT005",
    name: "no-interaction",
    severity: Severity::Veto,
    summary: "no effective interaction function (comments closed everywhere, no message channel) — veto",
    source: include_str!("no_interaction.rs"),
    params: &[],
};

/// Menu words that denote a message channel.
const MESSAGE_WORDS: [&str; 5] = ["留言", "咨询", "互动", "信箱", "12345"];

impl Rule for NoInteraction {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        // Comment settings of the posts of each account's window, from the post facts.
        let facts = ctx.post_facts()?;
        let settings = facts.posts.accounts.iter().map(|f| f.comments);
        let keys: Vec<u32> = (0..facts.keys.len() as u32).collect();
        let posts = DataFrame::new_infer_height(vec![
            facts.keys.id_column("account_id", &keys),
            Column::new(
                "known".into(),
                settings.clone().map(|s| s.known).collect::<Vec<i64>>(),
            ),
            Column::new(
                "open".into(),
                settings.map(|s| s.open).collect::<Vec<i64>>(),
            ),
        ])?
        .lazy();
        let words: Vec<String> = MESSAGE_WORDS.iter().map(|w| w.to_string()).collect();
        let message_entry = contains_any(
            concat_str(
                [
                    col("path"),
                    col("name").fill_null(lit("")),
                    col("target").fill_null(lit("")),
                ],
                " ",
                true,
            ),
            &words,
        );
        let menus = ctx
            .tables
            .menus
            .clone()
            .group_by([col("account_id")])
            .agg([message_entry
                .sum()
                .cast(DataType::Int64)
                .alias("message_entries")]);
        let enabled = ctx
            .tables
            .accounts
            .clone()
            .select([col("account_id"), col("comments_enabled")]);
        let message = match ctx.lang {
            Lang::Zh => lit("未提供有效互动功能（留言关闭或无留言渠道）"),
            Lang::En => {
                lit("No effective interaction function (comments closed, no message channel)")
            }
        };
        let evidence = when(col("comments_enabled").eq(lit(false)))
            .then(lit("comments/messages disabled for the account"))
            .when(col("platform").eq(lit("app")))
            .then(lit("no message entry in the app's service menu"))
            .otherwise(concat_str(
                [
                    lit("comments closed on "),
                    int_text(col("known")),
                    lit(" of "),
                    int_text(col("known")),
                    lit(" posts with a known setting"),
                ],
                "",
                true,
            ));
        let closed_everywhere = col("known")
            .fill_null(lit(0i64))
            .gt(lit(0i64))
            .and(col("open").fill_null(lit(0i64)).eq(lit(0i64)));
        let app_without_channel = col("platform")
            .eq(lit("app"))
            .and(col("comments_enabled").is_null())
            .and(col("message_entries").fill_null(lit(0i64)).eq(lit(0i64)));
        Ok(ctx
            .accounts()?
            .clone()
            .lazy()
            .select([col("account_id"), col("platform"), col("as_of_day")])
            .join(
                enabled,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                posts,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                menus,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .filter(
                col("comments_enabled")
                    .eq(lit(false))
                    .fill_null(lit(false))
                    .or(col("platform").neq(lit("app")).and(closed_everywhere))
                    .or(app_without_channel),
            )
            .select(rule_output(
                INFO.code,
                INFO.severity,
                lit(NULL).cast(DataType::String),
                day_start(col("as_of_day")),
                message,
                evidence,
            )))
    }
}
