//! INT003 — 回复不规范 (a perfunctory or improper public reply)
//!
//! # What it does
//!
//! Reports a reply that is only boilerplate (a phrase of the `perfunctory` lexicon such as 已收到,
//! 感谢关注, 请咨询相关部门, once punctuation is removed), a reply containing improper wording
//! (`improper` lexicon), and a reply text the account reused for `INT003.max_same_reply` (3) or
//! more different comments. One finding per reply.
//!
//! # Why it matters
//!
//! The CSTC 2020 留言回复 item: "公开答复内容不存在不当". A copy-pasted "感谢关注" answers nothing;
//! provincial inspections list such replies as 敷衍回复.
//!
//! # Example
//!
//! Three questions all answered "感谢关注" give three findings with evidence
//! `reply to comment 7: 感谢关注 (boilerplate)`.
//!
//! # How to fix
//!
//! Answer the question asked: what, where, when, whom to contact. If a department must answer,
//! say which one and by when, then post the answer.
//!
//! # 整改建议
//!
//! 针对留言内容逐条具体答复，避免“感谢关注”等套话和雷同回复，回复前审核措辞。

use polars::prelude::*;

use super::{normalise_reply, timed_comments};
use crate::context::{AuditContext, Lang, ParamValue};
use crate::engine::{ParamSpec, Rule, RuleInfo};
use crate::findings::{Severity, rule_output};

pub struct ImproperReply;

const MAX_SAME_REPLY: ParamSpec = ParamSpec {
    key: "INT003.max_same_reply",
    default: ParamValue::Int(3),
    range: (2, 1000),
    help: "the same reply text used for this many comments or more is a copy-paste reply",
};

static INFO: RuleInfo = RuleInfo {
    code: "INT003",
    name: "improper-reply",
    severity: Severity::Deduct,
    summary: "a reply is boilerplate only, reused for many comments, or contains improper wording",
    source: include_str!("improper_reply.rs"),
    params: &[MAX_SAME_REPLY],
};

impl Rule for ImproperReply {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let max_same = ctx.int_param(&MAX_SAME_REPLY);
        let (zh, en) = (ctx.lang == Lang::Zh, ctx.lang == Lang::En);
        let pick = |z: &str, e: &str| {
            if zh || !en {
                z.to_string()
            } else {
                e.to_string()
            }
        };
        // Boilerplate and improper wording from the comment scan; one row per reply.
        let scanned = ctx
            .comment_scan()?
            .clone()
            .lazy()
            .filter(col("field").eq(lit("reply")))
            .group_by_stable([col("account_id"), col("comment_id")])
            .agg([
                col("post_id").first(),
                col("created_ms").first(),
                col("tag").first(),
                col("term").first(),
            ])
            .with_column(
                when(col("tag").eq(lit("perfunctory")))
                    .then(lit(pick("回复内容敷衍：", "Boilerplate reply: ")))
                    .otherwise(lit(pick(
                        "回复疑似含不当用语：",
                        "Reply may contain improper wording: ",
                    )))
                    .alias("reason"),
            )
            .select([
                col("account_id"),
                col("post_id"),
                col("comment_id"),
                col("created_ms"),
                col("reason"),
                col("term").alias("detail"),
            ]);
        // The same reply text (punctuation aside) used for many comments.
        let normalised = timed_comments(ctx)?
            .filter(col("reply_ms").is_not_null())
            .with_column(
                col("reply_content")
                    .map(
                        |c: Column| {
                            let ca = c.str()?;
                            let out: StringChunked = ca.apply_values(|t| normalise_reply(t).into());
                            Ok(out.into_column())
                        },
                        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
                    )
                    .alias("norm"),
            );
        let reused = normalised
            .clone()
            .group_by([col("account_id"), col("norm")])
            .agg([col("comment_id")
                .n_unique()
                .cast(DataType::Int64)
                .alias("uses")])
            .filter(col("uses").gt_eq(lit(max_same)));
        let reused_rows = normalised
            .join(
                reused,
                [col("account_id"), col("norm")],
                [col("account_id"), col("norm")],
                JoinArgs::new(JoinType::Inner),
            )
            .select([
                col("account_id"),
                col("post_id"),
                col("comment_id"),
                col("created_ms"),
                concat_str(
                    [
                        lit(pick("同一回复用于", "The same reply was used for ")),
                        col("uses").cast(DataType::String),
                        lit(pick("条留言：", " comments: ")),
                    ],
                    "",
                    true,
                )
                .alias("reason"),
                col("reply_content").alias("detail"),
            ]);
        let all = concat([scanned, reused_rows], UnionArgs::default())?.unique_stable(
            Some(cols(["account_id", "comment_id"])),
            UniqueKeepStrategy::First,
        );
        Ok(all.select(rule_output(
            INFO.code,
            INFO.severity,
            col("comment_id"),
            col("created_ms"),
            concat_str([col("reason"), col("detail")], "", true),
            concat_str(
                [
                    lit("reply to comment "),
                    col("comment_id"),
                    lit(" on post "),
                    col("post_id"),
                    lit(": "),
                    col("detail"),
                ],
                "",
                true,
            ),
        )))
    }
}
