//! The store's URL of the item each finding names, for the account pages' links: a post
//! finding's post, a comment finding's post (the one the comment is on). Worked out in the audit
//! unit, whose posts and comments are in memory: looking them up afterwards read every unit's
//! posts and comments a second time (a national report's largest wait before its pages).
//!
//! Menu entries (small, one table) and the last update (its URL ends the rule's evidence) are
//! linked by the report itself.

use polars::prelude::*;

use crate::AuditContext;
use crate::registry::{ItemKind, item_kind};

/// The columns of the table: a finding's `account_id`, `code`, `item_id`, and the `url` of the
/// post it names (or is on). Findings whose post has no URL in the store have no row.
pub const FINDING_LINK_COLUMNS: [&str; 4] = ["account_id", "code", "item_id", "url"];

/// One row per (account, code, item) of `findings` naming a post or a comment whose post has a
/// URL, sorted by account, code and item.
///
/// The findings that name an item are a few per account, the unit's posts and comments millions
/// nationally: the items named are put in hash maps by (account id, item id) and each table is
/// passed over once, a row looked up only when its account has an item named (the store keeps an
/// account's rows together, so that is decided once per run of rows). Joining the findings with
/// every comment and every post on the account and item ids took 5.6 s of thread time in a
/// 200,000-account audit. Should the store hold a comment or a post twice, the later row's post or
/// URL is the one taken.
pub fn finding_links(ctx: &AuditContext, findings: &DataFrame) -> PolarsResult<DataFrame> {
    let (ids, codes, items) = (
        findings.column("account_id")?.str()?,
        findings.column("code")?.str()?,
        findings.column("item_id")?.str()?,
    );
    // The findings that name a post or a comment: (account, code, item, kind).
    let named: Vec<Named> = ids
        .iter()
        .zip(codes.iter())
        .zip(items.iter())
        .filter_map(|((id, code), item)| {
            let (id, code, item) = (id?, code?, item?);
            let kind = item_kind(code);
            matches!(kind, ItemKind::Post | ItemKind::Comment).then_some((id, code, item, kind))
        })
        .collect();
    let comments = ctx
        .tables
        .comments
        .clone()
        .select([col("account_id"), col("comment_id"), col("post_id")])
        .collect()?;
    let mut post_of_comment: ItemMap = named
        .iter()
        .filter(|n| n.3 == ItemKind::Comment)
        .map(|&(id, _, item, _)| ((id, item), None))
        .collect();
    fill_items(&comments, "comment_id", "post_id", &mut post_of_comment)?;
    let posts = ctx
        .tables
        .posts
        .clone()
        .select([col("account_id"), col("post_id"), col("url")])
        .collect()?;
    let mut url_of_post: ItemMap = named
        .iter()
        .filter_map(|n| post_named(n, &post_of_comment))
        .map(|key| (key, None))
        .collect();
    fill_items(&posts, "post_id", "url", &mut url_of_post)?;
    let mut rows: Vec<[&str; 4]> = named
        .iter()
        .filter_map(|named| {
            let url = url_of_post
                .get(&post_named(named, &post_of_comment)?)
                .copied()
                .flatten()?;
            Some([named.0, named.1, named.2, url])
        })
        .collect();
    rows.sort_unstable();
    rows.dedup_by(|a, b| a[..3] == b[..3]);
    let columns = FINDING_LINK_COLUMNS
        .iter()
        .enumerate()
        .map(|(c, name)| {
            Column::new(
                (*name).into(),
                rows.iter().map(|r| r[c]).collect::<Vec<&str>>(),
            )
        })
        .collect();
    DataFrame::new_infer_height(columns)
}

/// A finding naming an item: (account id, code, item id, kind).
type Named<'a> = (&'a str, &'a str, &'a str, ItemKind);

/// The (account id, post id) of the post a finding names or its comment is on, once known.
fn post_named<'a>(
    &(id, _, item, kind): &Named<'a>,
    post_of_comment: &ItemMap<'a>,
) -> Option<(&'a str, &'a str)> {
    match kind {
        ItemKind::Comment => post_of_comment
            .get(&(id, item))
            .copied()
            .flatten()
            .map(|p| (id, p)),
        _ => Some((id, item)),
    }
}

/// Items named by (account id, item id), each with what a table says of it (a post id, a URL),
/// once it is found.
type ItemMap<'a> = PlHashMap<(&'a str, &'a str), Option<&'a str>>;

/// Fills `items` from `table`'s rows: the `value` column of each row whose (`account_id`, `item`)
/// is in `items` and whose value is not null. Rows of an account with no item named are passed
/// over without a lookup.
fn fill_items<'a>(
    table: &'a DataFrame,
    item: &str,
    value: &str,
    items: &mut ItemMap<'a>,
) -> PolarsResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let accounts: PlHashSet<&str> = items.keys().map(|(id, _)| *id).collect();
    let (ids, keys, values) = (
        table.column("account_id")?.str()?,
        table.column(item)?.str()?,
        table.column(value)?.str()?,
    );
    // The last account met and whether it has items named.
    let mut last: Option<(&str, bool)> = None;
    for ((id, key), found) in ids.iter().zip(keys.iter()).zip(values.iter()) {
        let (Some(id), Some(key), Some(found)) = (id, key, found) else {
            continue;
        };
        let named = match last {
            Some((account, named)) if account == id => named,
            _ => {
                let named = accounts.contains(id);
                last = Some((id, named));
                named
            }
        };
        if named && let Some(slot) = items.get_mut(&(id, key)) {
            *slot = Some(found);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use govmedia_collectors::schema::{COMMENTS, POSTS};

    use super::*;
    use crate::testing::Fixture;

    /// An account with many items named gets the link of each (and none for an item the store
    /// does not hold).
    #[test]
    fn an_account_with_many_items_named_gets_every_link() {
        let posts: String = (0..40)
            .map(|i| {
                format!(
                    r#"{{"account_id":"wechat:a","post_id":"p{i}","published_at":"2025-11-03T10:00:00+08:00","url":"https://mp.weixin.qq.com/s/{i}"}}"#
                ) + "\n"
            })
            .collect();
        let ctx = Fixture::at("2025-11-30").jsonl(&POSTS, &posts).context();
        for named in [3, 30] {
            // Every third post, and one post the store does not hold.
            let mut items: Vec<String> = (0..named).map(|i| format!("p{}", i * 3 % 40)).collect();
            items.push("missing".into());
            let findings = df!(
                "account_id" => vec!["wechat:a"; items.len()],
                "code" => vec!["CNT001"; items.len()],
                "item_id" => items.clone(),
            )
            .unwrap();
            let links = finding_links(&ctx, &findings).unwrap();
            let mut expected: Vec<(String, String)> = items[..named]
                .iter()
                .map(|p| (p.clone(), format!("https://mp.weixin.qq.com/s/{}", &p[1..])))
                .collect();
            expected.sort();
            expected.dedup();
            let got: Vec<(String, String)> = (0..links.height())
                .map(|i| {
                    let text = |c: &str| {
                        links
                            .column(c)
                            .unwrap()
                            .str()
                            .unwrap()
                            .get(i)
                            .unwrap()
                            .to_string()
                    };
                    (text("item_id"), text("url"))
                })
                .collect();
            assert_eq!(got, expected, "{named} items named");
        }
    }

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
