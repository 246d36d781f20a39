//! CNT — 信息内容 (content): commercial ads, ad links and slots, off-duty content, improper
//! wording, and the kinds of post an account must publish.

pub mod ad_slot;
pub mod ad_wording;
pub mod commercial_link;
pub mod improper_wording;
pub mod missing_required_kind;
pub mod off_topic;
pub mod scan;

use polars::prelude::*;

use crate::context::{AuditContext, Lang};
use crate::engine::RuleInfo;
use crate::exprs::int_text;
use crate::findings::rule_output;

/// Findings for the scan hits with `tag`: one per post, the first matched term in the message,
/// the term with ±20 characters of context, what decided it and the post link as evidence.
pub(crate) fn hit_findings(
    ctx: &AuditContext,
    info: &RuleInfo,
    tag: &str,
    message_zh: &str,
    message_en: &str,
) -> PolarsResult<LazyFrame> {
    let scan = ctx.post_scan()?;
    let prefix = match ctx.lang {
        Lang::Zh => message_zh,
        Lang::En => message_en,
    };
    let (open, close) = match ctx.lang {
        Lang::Zh => ("「", "」"),
        Lang::En => (" \"", "\""),
    };
    let more = match ctx.lang {
        Lang::Zh => concat_str([lit("等"), int_text(col("hits")), lit("处")], "", true),
        Lang::En => concat_str(
            [
                lit(" and "),
                int_text(col("hits") - lit(1i64)),
                lit(" more"),
            ],
            "",
            true,
        ),
    };
    let message = concat_str(
        [
            lit(prefix),
            lit(open),
            col("term"),
            lit(close),
            when(col("hits").gt(lit(1i64)))
                .then(more)
                .otherwise(lit("")),
        ],
        "",
        true,
    );
    let evidence = concat_str(
        [
            col("field"),
            lit(": "),
            col("context"),
            lit(" ["),
            col("reason"),
            lit("]"),
            when(col("url").is_not_null())
                .then(concat_str([lit(" — "), col("url")], "", true))
                .otherwise(lit("")),
        ],
        "",
        true,
    );
    // One finding per post: the first match is shown, the others counted.
    Ok(scan
        .hits
        .clone()
        .lazy()
        .filter(col("tag").eq(lit(tag)))
        .group_by_stable([col("account_id"), col("post_id")])
        .agg([
            col("url").first(),
            col("occurred_at").first(),
            col("field").first(),
            col("term").first(),
            col("context").first(),
            col("reason").first(),
            len().cast(DataType::Int64).alias("hits"),
        ])
        .select(rule_output(
            info.code,
            info.severity,
            col("post_id"),
            col("occurred_at"),
            message,
            evidence,
        )))
}

#[cfg(test)]
mod tests;
