//! govmedia-reports: what users read. Table writers (CSV with BOM, JSON, Parquet), SVG charts
//! (plotters) and HTML pages (minijinja, autoescaping on). Nothing here recomputes a check: it
//! renders the tables the rules produced.

pub mod account_charts;
pub mod account_page;
pub mod chart_svg;
pub mod charts;
pub mod diff;
pub mod diff_page;
pub mod digest;
pub mod directory;
pub mod evidence;
pub mod history;
pub mod html;
pub mod index_page;
pub mod item_links;
pub mod labels;
mod memo;
pub mod notify;
pub mod report;
pub mod tables;
pub mod xlsx;

/// Errors of the reports crate, naming the file being written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] govmedia_collectors::Error),
    #[error("{0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error(transparent)]
    Rules(#[from] govmedia_rules::Error),
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("chart {0}: {1}")]
    Chart(String, String),
    /// The pages (or the index) and the table files written beside them both failed, as both do
    /// when the disk fills: the pages' error first, neither lost.
    #[error("{pages}; the table files failed too: {tables}")]
    PagesAndTables {
        pages: Box<Error>,
        tables: Box<Error>,
    },
}

/// A file-system-safe, unique and stable stem for an account id (its page's file name).
///
/// `platform:native` ids with a platform of ASCII letters and digits and a native id of ASCII
/// letters, digits, `_`, `-` and `.` keep a readable stem, the colon becoming `_` (`wechat:gh_1` → `wechat_gh_1`; `:` is not allowed in
/// Windows file names, and reports are opened on Windows desktops). Any other id — non-ASCII
/// (`weibo:甲`), a second colon, a slash — gets its safe characters followed by `-` and the
/// 64-bit FNV-1a hash of the whole id in hex (`weibo_-6b1c…`): two ids never share a page
/// (a readable stem has no `-` plus 16 hex digits at its end that a hashed one could take).
pub fn account_file_stem(account_id: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let readable = match account_id.split_once(':') {
        Some((platform, native)) => {
            // A platform is letters and digits (wechat, weibo, app): with `_` in it,
            // `weibo_a:b` would read like `weibo:a_b`.
            !platform.is_empty()
                && !native.is_empty()
                && platform.chars().all(|c| c.is_ascii_alphanumeric())
                && native.chars().all(safe)
                // A native id that looks like a hashed stem's tail is hashed too.
                && !looks_hashed(native)
        }
        None => false,
    };
    let cleaned: String = account_id
        .chars()
        .map(|c| if safe(c) { c } else { '_' })
        .collect();
    if readable {
        cleaned
    } else {
        let hash = govmedia_collectors::layout::fnv1a64(account_id.as_bytes());
        format!("{cleaned}-{hash:016x}")
    }
}

/// Whether a name ends like a hashed stem: `-` and 16 lowercase hex digits.
fn looks_hashed(name: &str) -> bool {
    name.len() >= 17 && {
        let (head, tail) = name.split_at(name.len() - 16);
        head.ends_with('-')
            && tail
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_are_readable_for_ordinary_ids_and_unique_for_any() {
        assert_eq!(account_file_stem("wechat:gh_5a17000"), "wechat_gh_5a17000");
        assert_eq!(account_file_stem("weibo:1234567890"), "weibo_1234567890");
        let a = account_file_stem("weibo:甲");
        let b = account_file_stem("weibo:乙");
        assert_ne!(a, b, "ids differing only in non-ASCII characters");
        assert!(
            a.starts_with("weibo__-") && a.len() == "weibo__-".len() + 16,
            "{a}"
        );
        assert_eq!(a, account_file_stem("weibo:甲"), "stable");
        // Ids that clean to the same text stay apart.
        let ids = [
            "weibo:a:b",
            "weibo:a_b",
            "weibo:a/b",
            "weibo_a:b",
            "app:..",
            "app:x y",
        ];
        let stems: std::collections::HashSet<String> =
            ids.iter().map(|i| account_file_stem(i)).collect();
        assert_eq!(stems.len(), ids.len(), "{stems:?}");
        for s in &stems {
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "{s}"
            );
        }
        // A native id shaped like a hashed tail cannot take a hashed stem's place.
        let tail = format!(
            "x-{:016x}",
            govmedia_collectors::layout::fnv1a64(b"weibo:y/z")
        );
        assert_ne!(
            account_file_stem(&format!("weibo:{tail}")),
            account_file_stem("weibo:y/z")
        );
    }
}
