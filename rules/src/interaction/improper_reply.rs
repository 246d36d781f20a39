//! INT003 — 回复不规范 (a perfunctory or improper public reply)
//!
//! # What it does
//!
//! Reports a reply that is only boilerplate (a phrase of the `perfunctory` lexicon such as 已收到,
//! 感谢关注, 请咨询相关部门, once punctuation is removed), a reply containing improper wording
//! (`improper` lexicon), and a reply text the account reused for `INT003.max_same_reply` (3) or
//! more different comments. One finding per reply. A comment is known by its post and its id
//! (WeChat numbers each article's comments from 1).
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

use std::hash::BuildHasher;

use polars::prelude::*;

use super::{normalise_reply_into, timed_comment_texts};
use crate::context::{AuditContext, Lang, ParamValue};
use crate::engine::{ParamSpec, Reads, Rule, RuleInfo};
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

    fn reads(&self) -> Reads {
        Reads::COMMENTS
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
            // A comment is its post's: WeChat numbers each article's comments from 1.
            .group_by_stable([col("account_id"), col("post_id"), col("comment_id")])
            .agg([
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
        let reused_rows = reused_replies(ctx, max_same)?.lazy().select([
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
            Some(cols(["account_id", "post_id", "comment_id"])),
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

/// The answered comments whose reply text (punctuation aside, [`super::normalise_reply`]) the
/// account used for `max_same` or more different comments: `account_id, post_id, comment_id,
/// created_ms, reply_content` and `uses` (how many different comments), in the timed comments'
/// order. Counted in Rust one account at a time (the store keeps an account's comments together;
/// rows are put in account order first when they are not), each reply normalised once into one
/// buffer: a group-by and a join on the account and normalised text over every reply were most of
/// the rule's time on a national store, and then a table of every account's texts was.
fn reused_replies(ctx: &AuditContext, max_same: i64) -> PolarsResult<DataFrame> {
    let df = timed_comment_texts(ctx)?;
    let account = df.column("account_id")?.str()?;
    let post = df.column("post_id")?.str()?;
    let comment = df.column("comment_id")?.str()?;
    let reply_ms = df.column("reply_ms")?.i64()?;
    let reply = df.column("reply_content")?.str()?;
    let max_same = usize::try_from(max_same).unwrap_or(usize::MAX);
    // The answered rows with their account and reply text (unanswered at as_of, or a reply
    // without text: nothing to compare), then grouped by account.
    let mut rows: Vec<(&str, &str, IdxSize)> = Vec::new();
    for (i, ((account, reply_ms), reply)) in account
        .iter()
        .zip(reply_ms.iter())
        .zip(reply.iter())
        .enumerate()
    {
        if let (Some(account), Some(_), Some(reply)) = (account, reply_ms, reply) {
            rows.push((account, reply, i as IdxSize));
        }
    }
    if !rows.windows(2).all(|w| w[0].0 <= w[1].0) {
        rows.sort_by(|a, b| a.0.cmp(b.0));
    }
    let mut reused: Vec<(IdxSize, i64)> = Vec::new();
    // One account's normalised replies: the texts end to end, each row's end offset.
    let (mut texts, mut ends) = (String::new(), Vec::<usize>::new());
    let mut norm = String::new();
    // The account's replies grouped by normalised text.
    let hasher = PlRandomState::default();
    let mut groups = EqualTexts::default();
    for run in rows.chunk_by(|a, b| a.0 == b.0) {
        // Fewer replies than the limit cannot be that many different comments.
        if run.len() < max_same {
            continue;
        }
        texts.clear();
        ends.clear();
        for &(_, text, _) in run {
            normalise_reply_into(text, &mut norm);
            texts.push_str(&norm);
            ends.push(texts.len());
        }
        let text_of = |k: usize| &texts[if k == 0 { 0 } else { ends[k - 1] }..ends[k]];
        let hash_of = |text: &str| hasher.hash_one(text);
        groups.each(run.len(), text_of, hash_of, max_same, |members| {
            let uses = members
                .iter()
                .map(|&k| {
                    let row = run[k].2 as usize;
                    (post.get(row), comment.get(row))
                })
                .collect::<PlHashSet<_>>()
                .len();
            if uses >= max_same {
                reused.extend(members.iter().map(|&k| (run[k].2, uses as i64)));
            }
        });
    }
    reused.sort_unstable();
    let rows: IdxCa = reused.iter().map(|&(i, _)| i).collect_ca("rows".into());
    let mut out = df
        .select([
            "account_id",
            "post_id",
            "comment_id",
            "created_ms",
            "reply_content",
        ])?
        .take(&rows)?;
    out.with_column(Column::new(
        "uses".into(),
        reused.iter().map(|&(_, uses)| uses).collect::<Vec<i64>>(),
    ))?;
    Ok(out)
}

/// Groups of equal texts among `count` texts, found by sorting their hashes (integers compared,
/// where sorting the texts themselves was a third of INT003's time); a run of one hash is then
/// checked for one text, and split by text when two texts share a hash. The buffers are kept
/// from one account to the next.
#[derive(Default)]
struct EqualTexts {
    by_hash: Vec<(u64, usize)>,
    one_text: Vec<usize>,
}

impl EqualTexts {
    /// Calls `group` with the indices of each group of at least `min` equal texts.
    fn each<'t>(
        &mut self,
        count: usize,
        text_of: impl Fn(usize) -> &'t str,
        hash_of: impl Fn(&str) -> u64,
        min: usize,
        mut group: impl FnMut(&[usize]),
    ) {
        let (by_hash, one_text) = (&mut self.by_hash, &mut self.one_text);
        by_hash.clear();
        by_hash.extend((0..count).map(|k| (hash_of(text_of(k)), k)));
        by_hash.sort_unstable();
        for same_hash in by_hash.chunk_by(|a, b| a.0 == b.0) {
            if same_hash.len() < min {
                continue;
            }
            one_text.clear();
            one_text.extend(same_hash.iter().map(|&(_, k)| k));
            let first = text_of(one_text[0]);
            if !one_text.iter().all(|&k| text_of(k) == first) {
                one_text.sort_by(|&a, &b| text_of(a).cmp(text_of(b)));
            }
            for members in one_text.chunk_by(|&a, &b| text_of(a) == text_of(b)) {
                if members.len() >= min {
                    group(members);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The groups as sets of indices, in a canonical order.
    fn groups_of(texts: &[&str], hash_of: impl Fn(&str) -> u64, min: usize) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        EqualTexts::default().each(
            texts.len(),
            |k| texts[k],
            hash_of,
            min,
            |m| {
                let mut m = m.to_vec();
                m.sort_unstable();
                out.push(m);
            },
        );
        out.sort();
        out
    }

    #[test]
    fn equal_texts_are_grouped_whatever_their_hashes_collide_with() {
        let texts = [
            "谢谢", "收到", "谢谢", "已转", "收到", "谢谢", "已转", "收到", "谢",
        ];
        let expected = vec![vec![0, 2, 5], vec![1, 4, 7]];
        let hasher = PlRandomState::default();
        assert_eq!(groups_of(&texts, |t| hasher.hash_one(t), 3), expected);
        // Every text of one hash: the run is split by text.
        assert_eq!(groups_of(&texts, |_| 7, 3), expected);
        // Two hashes, each shared by texts that differ.
        assert_eq!(groups_of(&texts, |t| t.len() as u64 % 2, 3), expected);
        assert_eq!(
            groups_of(&texts, |_| 0, 2),
            vec![vec![0, 2, 5], vec![1, 4, 7], vec![3, 6]]
        );
    }
}
