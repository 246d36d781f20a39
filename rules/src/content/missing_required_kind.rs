//! CNT006 — 缺少政策类信息 (no post of a required kind in the window)
//!
//! # What it does
//!
//! Labels every post in the window with a category — 政策文件, 政策解读, 回应关切, 征集调查,
//! 结果反馈, otherwise 动态 — from the weighted title and body patterns of the label pack
//! (`packs/labels/post_labels.toml`: 印发《…办法》, 通告如下, 一图读懂, 符合条件的…可申领, 辟谣,
//! 回应…关切 …, with counter-evidence such as a meeting that 审议《…》; `docs/labels.md`). Reports
//! an account that published no post labelled 政策文件, 政策解读 or 回应关切 in the window. The
//! labels are written to `post_categories.csv` with the reason for each (posts not listed there
//! are 动态) so the classification can be checked.
//!
//! # Why it matters
//!
//! The CSTC 2020 信息内容 item asks accounts to publish 动态、政策文件、政策解读、回应关切, not
//! news alone. A pattern classifier is approximate (on real posts it finds about nine in ten of
//! these kinds), so this is a notice.
//!
//! # Example
//!
//! An account whose year of posts are all 【工作动态】 reports gets the notice
//! `0 of 57 posts are 政策文件 / 政策解读 / 回应关切`.
//!
//! # How to fix
//!
//! Publish the agency's policy documents with a plain-language interpretation (一图读懂, 解读),
//! and answer public concerns (回应关切) on the account, not only on the website.
//!
//! # 整改建议
//!
//! 围绕中心工作发布政策文件、政策解读和回应关切类信息，做到发布与解读同步。

use polars::prelude::*;

use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::exprs::int_text;
use crate::findings::{Severity, rule_output};

pub struct MissingRequiredKind;

static INFO: RuleInfo = RuleInfo {
    code: "CNT006",
    name: "missing-required-kind",
    severity: Severity::Notice,
    summary: "no post of a required kind (政策文件 / 政策解读 / 回应关切) in the window",
    source: include_str!("missing_required_kind.rs"),
    params: &[],
};

impl Rule for MissingRequiredKind {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::POST_LABELS
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let scan = ctx.post_scan()?;
        let per_account = scan.category_counts.clone().lazy().select([
            col("account_id"),
            col("posts_in_window").alias("posts"),
            (col("posts_policy_document") + col("posts_interpretation") + col("posts_response"))
                .alias("required"),
        ]);
        let message = match ctx.lang {
            Lang::Zh => lit("监测区间内未发布政策文件、政策解读或回应关切类信息"),
            Lang::En => lit(
                "No policy document, policy interpretation or response to public concerns in the window",
            ),
        };
        let evidence = concat_str(
            [
                lit("0 of "),
                int_text(col("posts")),
                lit(" posts are 政策文件 / 政策解读 / 回应关切"),
            ],
            "",
            true,
        );
        Ok(ctx
            .accounts()?
            .clone()
            .lazy()
            .select([col("account_id"), col("as_of_day")])
            .join(
                per_account,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .with_column(col("posts").fill_null(lit(0i64)))
            .filter(col("required").fill_null(lit(0i64)).eq(lit(0i64)))
            .select(rule_output(
                INFO.code,
                INFO.severity,
                lit(NULL).cast(DataType::String),
                crate::exprs::day_start(col("as_of_day")),
                message,
                evidence,
            )))
    }
}
