//! The link of each finding on an account page: the URL of the item it names, from the store
//! (the post, the post a comment is on, the menu entry's target), never a URL found in the
//! evidence text, which quotes post bodies and could carry anyone's link. The audit units work
//! out the posts' and comments' links from the posts in memory (`finding_links`).

use std::collections::HashSet;

use polars::prelude::PlHashMap as HashMap;

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

/// `(account_id, code, item_id) → url` from the audit's finding links (`finding_links`),
/// borrowed from the table: a national report looks up three quarters of a million findings,
/// and a key of owned strings cost three copies per lookup.
fn post_links(links: &DataFrame) -> PolarsResult<HashMap<(&str, &str, &str), &str>> {
    if links.width() == 0 {
        return Ok(HashMap::default());
    }
    let column = |name: &str| links.column(name).and_then(|c| c.str());
    let (accounts, codes, items, urls) = (
        column("account_id")?,
        column("code")?,
        column("item_id")?,
        column("url")?,
    );
    Ok(accounts
        .iter()
        .zip(codes.iter())
        .zip(items.iter())
        .zip(urls.iter())
        .filter_map(|(((a, c), i), u)| Some(((a?, c?, i?), u?)))
        .collect())
}

/// Sets `link` on the findings of the paged accounts.
pub fn link_findings(
    ctx: &AuditContext,
    findings: &mut HashMap<String, Vec<FindingRow>>,
    paged: &HashSet<String>,
    links: &DataFrame,
) -> Result<(), Error> {
    let mut menus = HashSet::new();
    for (account, rows) in findings.iter().filter(|(a, _)| paged.contains(*a)) {
        for f in rows {
            if let (ItemKind::MenuEntry, Some(item)) = (item_kind(&f.code), &f.item_id) {
                menus.insert((account.clone(), item.clone()));
            }
        }
    }
    let post_url = post_links(links)?;
    let menu_target = if menus.is_empty() {
        HashMap::default()
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
            let url = match (item_kind(&f.code), &f.item_id) {
                (ItemKind::Post | ItemKind::Comment, Some(item)) => post_url
                    .get(&(account.as_str(), f.code.as_str(), item.as_str()))
                    .map(|url| url.to_string()),
                (ItemKind::MenuEntry, Some(item)) => {
                    menu_target.get(&(account.clone(), item.clone())).cloned()
                }
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
