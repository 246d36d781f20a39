//! The link of each finding on an account page: the URL of the item it names, from the store
//! (the post, the post a comment is on, the menu entry's target), never a URL found in the
//! evidence text, which quotes post bodies and could carry anyone's link.

use std::collections::{HashMap, HashSet};

use govmedia_rules::AuditContext;
use govmedia_rules::registry::{ItemKind, item_kind};
use govmedia_rules::service::latest_menus;
use polars::prelude::*;

use crate::Error;
use crate::account_page::{FindingRow, safe_link, strings};

type Key = (String, String);

/// `(account_id, second)` pairs as a two-column frame for a join.
fn keys_frame(keys: &HashSet<Key>, second: &str) -> PolarsResult<LazyFrame> {
    let (a, b): (Vec<&str>, Vec<&str>) = keys.iter().map(|(a, b)| (a.as_str(), b.as_str())).unzip();
    Ok(DataFrame::new_infer_height(vec![
        Column::new("account_id".into(), a),
        Column::new(second.into(), b),
    ])?
    .lazy())
}

/// `(account_id, key) → value` from a frame's three string columns.
fn lookup(df: &DataFrame, key: &str, value: &str) -> PolarsResult<HashMap<Key, String>> {
    let (a, k, v) = (
        strings(df, "account_id")?,
        strings(df, key)?,
        strings(df, value)?,
    );
    Ok(a.into_iter()
        .zip(k)
        .zip(v)
        .filter_map(|((a, k), v)| Some(((a?, k?), v?)))
        .collect())
}

/// Sets `link` on the findings of the paged accounts.
pub fn link_findings(
    ctx: &AuditContext,
    findings: &mut HashMap<String, Vec<FindingRow>>,
    paged: &HashSet<String>,
) -> Result<(), Error> {
    let (mut posts, mut comments, mut menus) = (HashSet::new(), HashSet::new(), HashSet::new());
    for (account, rows) in findings.iter().filter(|(a, _)| paged.contains(*a)) {
        for f in rows {
            let Some(item) = &f.item_id else { continue };
            let key = (account.clone(), item.clone());
            match item_kind(&f.code) {
                ItemKind::Post => {
                    posts.insert(key);
                }
                ItemKind::Comment => {
                    comments.insert(key);
                }
                ItemKind::MenuEntry => {
                    menus.insert(key);
                }
                ItemKind::LastUpdate | ItemKind::None => {}
            }
        }
    }
    let on_post = if comments.is_empty() {
        HashMap::new()
    } else {
        let df = ctx
            .tables
            .comments
            .clone()
            .select([col("account_id"), col("comment_id"), col("post_id")])
            .join(
                keys_frame(&comments, "comment_id")?,
                [col("account_id"), col("comment_id")],
                [col("account_id"), col("comment_id")],
                JoinArgs::new(JoinType::Inner),
            )
            .collect()?;
        lookup(&df, "comment_id", "post_id")?
    };
    posts.extend(
        on_post
            .iter()
            .map(|((account, _), post)| (account.clone(), post.clone())),
    );
    let post_url = if posts.is_empty() {
        HashMap::new()
    } else {
        let df = ctx
            .tables
            .posts
            .clone()
            .select([col("account_id"), col("post_id"), col("url")])
            .join(
                keys_frame(&posts, "post_id")?,
                [col("account_id"), col("post_id")],
                [col("account_id"), col("post_id")],
                JoinArgs::new(JoinType::Inner),
            )
            .collect()?;
        lookup(&df, "post_id", "url")?
    };
    let menu_target = if menus.is_empty() {
        HashMap::new()
    } else {
        let df = latest_menus(ctx)?
            .select([col("account_id"), col("path"), col("target")])
            .join(
                keys_frame(&menus, "path")?,
                [col("account_id"), col("path")],
                [col("account_id"), col("path")],
                JoinArgs::new(JoinType::Inner),
            )
            .collect()?;
        lookup(&df, "path", "target")?
    };
    for (account, rows) in findings.iter_mut().filter(|(a, _)| paged.contains(*a)) {
        for f in rows {
            let key = |item: &String| (account.clone(), item.clone());
            let url = match (item_kind(&f.code), &f.item_id) {
                (ItemKind::Post, Some(item)) => post_url.get(&key(item)).cloned(),
                (ItemKind::Comment, Some(item)) => on_post
                    .get(&key(item))
                    .and_then(|post| post_url.get(&(account.clone(), post.clone())))
                    .cloned(),
                (ItemKind::MenuEntry, Some(item)) => menu_target.get(&key(item)).cloned(),
                // The rule ends its evidence with the last update's URL from the store.
                (ItemKind::LastUpdate, _) => f
                    .evidence
                    .rsplit_once(": ")
                    .map(|(_, tail)| tail.trim().to_string()),
                _ => None,
            };
            f.link = url.as_deref().and_then(safe_link);
        }
    }
    Ok(())
}
