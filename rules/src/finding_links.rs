//! The store's URL of the item each finding names, for the account pages' links: a post
//! finding's post, a comment finding's post (the one the comment is on). Worked out in the audit
//! unit, whose posts and comments are in memory: looking them up afterwards read every unit's
//! posts and comments a second time (a national report's largest wait before its pages).
//!
//! Menu entries (small, one table) and the last update (its URL ends the rule's evidence) are
//! linked by the report itself.

use polars::prelude::*;

use crate::AuditContext;
use crate::registry::{ItemKind, item_kind, registry};

/// The columns of the table: a finding's `account_id`, `code`, `item_id`, and the `url` of the
/// post it names (or is on). Findings whose post has no URL in the store have no row.
pub const FINDING_LINK_COLUMNS: [&str; 4] = ["account_id", "code", "item_id", "url"];

/// Whether a finding's rule names items of `kind`.
fn names_a(kind: ItemKind) -> Expr {
    registry()
        .iter()
        .map(|r| r.info().code)
        .filter(|code| item_kind(code) == kind)
        .fold(lit(false), |any, code| any.or(col("code").eq(lit(code))))
}

/// One row per (account, code, item) of `findings` naming a post or a comment whose post has a
/// URL, sorted by account, code and item.
pub fn finding_links(ctx: &AuditContext, findings: &DataFrame) -> PolarsResult<DataFrame> {
    let named = findings
        .clone()
        .lazy()
        .select([col("account_id"), col("code"), col("item_id")])
        .filter(col("item_id").is_not_null());
    let on_posts = named
        .clone()
        .filter(names_a(ItemKind::Post))
        .with_column(col("item_id").alias("post_id"));
    let comments = ctx.tables.comments.clone().select([
        col("account_id"),
        col("comment_id").alias("item_id"),
        col("post_id"),
    ]);
    let on_comments = named.filter(names_a(ItemKind::Comment)).join(
        comments,
        [col("account_id"), col("item_id")],
        [col("account_id"), col("item_id")],
        JoinArgs::new(JoinType::Inner),
    );
    let posts = ctx
        .tables
        .posts
        .clone()
        .select([col("account_id"), col("post_id"), col("url")])
        .filter(col("url").is_not_null());
    concat([on_posts, on_comments], UnionArgs::default())?
        .join(
            posts,
            [col("account_id"), col("post_id")],
            [col("account_id"), col("post_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .select(FINDING_LINK_COLUMNS.map(col))
        .unique_stable(
            Some(cols(["account_id", "code", "item_id"])),
            UniqueKeepStrategy::Last,
        )
        .sort(
            ["account_id", "code", "item_id"],
            SortMultipleOptions::default(),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use govmedia_collectors::schema::{COMMENTS, POSTS};

    use super::*;
    use crate::testing::Fixture;

    #[test]
    fn a_finding_links_to_its_post_or_the_post_its_comment_is_on() {
        let ctx = Fixture::at("2025-11-30")
            .jsonl(
                &POSTS,
                r#"
{"account_id":"wechat:a","post_id":"p1","published_at":"2025-11-03T10:00:00+08:00","url":"https://mp.weixin.qq.com/s/1"}
{"account_id":"wechat:a","post_id":"7","published_at":"2025-11-04T10:00:00+08:00","url":"https://mp.weixin.qq.com/s/7"}
{"account_id":"wechat:a","post_id":"no-url","published_at":"2025-11-05T10:00:00+08:00"}
{"account_id":"wechat:b","post_id":"p1","published_at":"2025-11-03T10:00:00+08:00","url":"https://mp.weixin.qq.com/s/b1"}
"#,
            )
            .jsonl(
                &COMMENTS,
                r#"
{"account_id":"wechat:a","post_id":"p1","comment_id":"7","created_at":"2025-11-03T11:00:00+08:00","content":"请问"}
{"account_id":"wechat:a","post_id":"no-url","comment_id":"c2","created_at":"2025-11-05T11:00:00+08:00","content":"请问"}
"#,
            )
            .context();
        let findings = df!(
            "account_id" => ["wechat:a", "wechat:a", "wechat:a", "wechat:a", "wechat:b", "wechat:a", "wechat:a"],
            "code" => ["CNT001", "CNT001", "INT002", "INT002", "CNT002", "UPD001", "CNT003"],
            // Comment "7" is on post p1; post "7" is another post: the kinds keep them apart.
            "item_id" => [Some("7"), Some("p1"), Some("7"), Some("c2"), Some("p1"), Some("period:2025-11-03"), None],
        )
        .unwrap();
        let links = finding_links(&ctx, &findings).unwrap();
        let rows: Vec<String> = (0..links.height())
            .map(|i| {
                FINDING_LINK_COLUMNS
                    .iter()
                    .map(|c| links.column(c).unwrap().str().unwrap().get(i).unwrap())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            rows,
            [
                "wechat:a CNT001 7 https://mp.weixin.qq.com/s/7",
                "wechat:a CNT001 p1 https://mp.weixin.qq.com/s/1",
                "wechat:a INT002 7 https://mp.weixin.qq.com/s/1",
                "wechat:b CNT002 p1 https://mp.weixin.qq.com/s/b1",
            ]
        );
    }
}
