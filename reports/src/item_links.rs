//! The link of each finding on an account page: the URL of the item it names, from the store
//! (the post, the post a comment is on, the menu entry's target), never a URL found in the
//! evidence text, which quotes post bodies and could carry anyone's link.

use std::collections::{HashMap, HashSet};

use govmedia_rules::AuditContext;
use govmedia_rules::context::Tables;
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

/// `(account_id, key) → value` for the `keys` found in a partitioned table (`table` picks it from a
/// unit's tables), read one audit unit at a time: a national store's post ids and URLs are
/// gigabytes, and reading them whole for a join was the largest memory of a report with pages.
fn lookup_by_unit(
    ctx: &AuditContext,
    keys: &HashSet<Key>,
    (key, value): (&str, &str),
    table: fn(&Tables) -> LazyFrame,
) -> PolarsResult<HashMap<Key, String>> {
    let matched = |tables: &Tables, keys: &HashSet<Key>| -> PolarsResult<HashMap<Key, String>> {
        let df = table(tables)
            .select([col("account_id"), col(key), col(value)])
            .join(
                keys_frame(keys, key)?,
                [col("account_id"), col(key)],
                [col("account_id"), col(key)],
                JoinArgs::new(JoinType::Inner),
            )
            .collect()?;
        lookup(&df, key, value)
    };
    let units = ctx.units();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    if units.is_empty() {
        return matched(&ctx.tables, keys);
    }
    let mut per_unit: Vec<HashSet<Key>> = vec![HashSet::new(); units.len()];
    for k in keys {
        let u = ctx.unit_of(&k.0).unwrap_or_default();
        per_unit[u].insert(k.clone());
    }
    let mut found = HashMap::new();
    for (u, keys) in per_unit.iter().enumerate().filter(|(_, k)| !k.is_empty()) {
        found.extend(matched(&units[u], keys)?);
    }
    Ok(found)
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
    let on_post = lookup_by_unit(ctx, &comments, ("comment_id", "post_id"), |t| {
        t.comments.clone()
    })?;
    posts.extend(
        on_post
            .iter()
            .map(|((account, _), post)| (account.clone(), post.clone())),
    );
    let post_url = lookup_by_unit(ctx, &posts, ("post_id", "url"), |t| t.posts.clone())?;
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
