//! The scan of the window's posts behind the content rules: one Aho-Corasick pass over each text
//! column (title, text, article HTML) finding every lexicon and price-tag anchor at once, links to
//! commercial domains, and each post's category. Posts are read in slices so memory stays
//! bounded on a national-scale store; each slice is scanned on every core.

use std::sync::Arc;

use polars::prelude::*;

use crate::context::AuditContext;
use crate::exprs::{concat_frames, local_day};
use crate::facts::AccountKeys;
use crate::facts::rows::rows_of;
use crate::labeller::{CONTEXT_CHARS, PostClassifier, TextHit, Verdict, VerdictMemo};
use crate::lexicon::{DEFAULT_CATEGORY, Hit, Matcher, Tag, context};
use crate::measurements::CATEGORY_COLUMNS;

/// Posts read per slice.
const SLICE_ROWS: usize = 1 << 20;

/// What the scan found.
pub struct PostScan {
    /// One row per (post, tag, term): `account_id, post_id, url, occurred_at (epoch ms), field,
    /// tag, term, context, reason`. Tags: `ad`, `ad_slot`, `off_topic`, `improper`,
    /// `commercial_link`; the reason says what decided it (`lexicon ads`, `pattern …`).
    pub hits: DataFrame,
    /// One row per post in the window labelled other than `动态` (a national store has tens of
    /// millions of posts, most of them news): `account_id, post_id, url, occurred_at, day,
    /// category, score, reason` (the patterns that decided it and their weights).
    pub categories: DataFrame,
    /// Per account: `posts_in_window` and one count per category column of
    /// [`crate::measurements::CATEGORY_COLUMNS`], `动态` included.
    pub category_counts: DataFrame,
}

#[derive(Default)]
struct HitRows {
    /// The post's row in its slice: its `account_id, post_id, url, occurred_at` are taken from
    /// the slice's columns, not copied string by string.
    row: Vec<IdxSize>,
    field: Vec<&'static str>,
    tag: Vec<&'static str>,
    term: Vec<String>,
    context: Vec<String>,
    reason: Vec<String>,
}

#[derive(Default)]
struct CategoryRows {
    /// The post's row in its slice (`account_id, post_id, url, occurred_at, day`).
    row: Vec<IdxSize>,
    category: Vec<&'static str>,
    score: Vec<i32>,
    /// Each row's reason, as an index into `verdicts`: a reason is its verdict's, and posts
    /// labelled alike share one verdict (`PostClassifier::classify_memo`), so each reason's
    /// text is kept once and the column's rows point at it. Copying the text per labelled post
    /// (6.7 million of them at 200,000 accounts, some 150 bytes each) was 1.6 % of a national
    /// audit's CPU time, and the report's dictionary of the reasons then compared the copies.
    reason: Vec<IdxSize>,
    /// The verdicts whose reasons the rows point at, held so that no address in `verdict_of`
    /// is freed and reused for another verdict while the rows are gathered.
    verdicts: Vec<Arc<Verdict>>,
    /// Index into `verdicts` by the verdict's address.
    verdict_of: PlHashMap<usize, IdxSize>,
}

impl CategoryRows {
    /// Adds the row `row` labelled by `verdict`.
    fn push(&mut self, row: usize, verdict: &Arc<Verdict>) {
        self.row.push(row as IdxSize);
        self.category.push(verdict.category);
        self.score.push(verdict.category_score);
        let verdicts = &mut self.verdicts;
        let index = *self
            .verdict_of
            .entry(Arc::as_ptr(verdict) as usize)
            .or_insert_with(|| {
                verdicts.push(Arc::clone(verdict));
                (verdicts.len() - 1) as IdxSize
            });
        self.reason.push(index);
    }

    /// The reason column: each distinct reason's text once, gathered for the rows (a gather of
    /// texts copies where each lies, not the text).
    fn reason_column(&self) -> PolarsResult<Column> {
        let texts: StringChunked = self
            .verdicts
            .iter()
            .map(|v| Some(v.category_reason.as_deref().unwrap_or_default()))
            .collect();
        let rows = IdxCa::from_slice(PlSmallStr::EMPTY, &self.reason);
        Ok(texts.take(&rows)?.with_name("reason".into()).into_column())
    }
}

/// The post columns of these rows of a slice (`window_slice`), `at` named `occurred_at`.
fn post_columns(
    slice: &DataFrame,
    rows: Vec<IdxSize>,
    columns: &[&str],
) -> PolarsResult<Vec<Column>> {
    let mut taken = rows_of(&slice.select(columns.iter().copied())?, &rows)?;
    if columns.contains(&"at") {
        taken.rename("at", "occurred_at".into())?;
    }
    Ok(taken.into_columns())
}

impl HitRows {
    fn into_frame(self, slice: &DataFrame) -> PolarsResult<DataFrame> {
        let mut columns = post_columns(slice, self.row, &["account_id", "post_id", "url", "at"])?;
        columns.extend([
            Column::new("field".into(), self.field),
            Column::new("tag".into(), self.tag),
            Column::new("term".into(), self.term),
            Column::new("context".into(), self.context),
            Column::new("reason".into(), self.reason),
        ]);
        DataFrame::new_infer_height(columns)
    }
}

impl CategoryRows {
    fn into_frame(self, slice: &DataFrame) -> PolarsResult<DataFrame> {
        let reason = self.reason_column()?;
        let mut columns = post_columns(
            slice,
            self.row,
            &["account_id", "post_id", "url", "at", "day"],
        )?;
        columns.extend([
            Column::new("category".into(), self.category),
            Column::new("score".into(), self.score),
            reason,
        ]);
        DataFrame::new_infer_height(columns)
    }
}

/// What scanning a run of posts found.
#[derive(Default)]
struct Found {
    hits: HitRows,
    cats: CategoryRows,
    /// Posts per account key and category column.
    counts: Vec<[i64; CATEGORY_COLUMNS.len()]>,
}

/// The matchers a scan worker shares.
struct Scanners<'a> {
    classifier: &'a PostClassifier,
    /// Whether the memo asks the thread's earlier units (`AuditContext::verdicts_across_units`).
    across_units: bool,
    html: &'a Matcher,
    commercial: &'a PlHashSet<&'a str>,
}

/// The columns of one slice of posts.
struct SliceColumns<'a> {
    title: &'a StringChunked,
    text: &'a StringChunked,
    html: &'a StringChunked,
    /// The account's key ([`AccountKeys`]): every row of the window has one.
    key: &'a UInt32Chunked,
    /// Whether each row is in its account's window (and not deleted, and has an account and a
    /// post id): the rows outside are skipped. Filtering them out copied every column of the
    /// slice, texts and links included: 0.7 CPU s of a 200,000-account audit (40.5-40.8 against
    /// 41.1-41.5 s in five pairs).
    in_window: &'a [bool],
    /// The links of the posts that have any, by row, in row order: most posts have none, and a
    /// list per row cost a pass over every row (and a look-up by row, a hash per row).
    links: Vec<(usize, Vec<String>)>,
}

/// Labels and scans the posts `rows` of a slice.
fn scan_rows(
    slice: &SliceColumns,
    rows: std::ops::Range<usize>,
    scanners: &Scanners,
    accounts: usize,
) -> Found {
    let mut found = Found {
        counts: vec![[0; CATEGORY_COLUMNS.len()]; accounts],
        ..Found::default()
    };
    let (hits, cats, counts) = (&mut found.hits, &mut found.cats, &mut found.counts);
    // The rows' columns, read in order: `ChunkedArray::get` searched the chunks for every cell.
    let (start, len) = (rows.start, rows.len());
    let cut = |ca: &StringChunked| ca.slice(start as i64, len);
    let (title, text, html) = (cut(slice.title), cut(slice.text), cut(slice.html));
    let key = slice.key.slice(start as i64, len);
    let columns = title
        .iter()
        .zip(text.iter())
        .zip(html.iter().zip(key.iter()));
    // The rows' links, met in row order.
    let mut links_from = slice.links.partition_point(|(row, _)| *row < start);
    // The category column of the last category met: posts of one category come in runs (most
    // are news), and finding the column compared the name with each.
    let mut last_slot: Option<(&'static str, usize)> = None;
    let mut scratch = scanners.classifier.scratch();
    let mut memo = if scanners.across_units {
        VerdictMemo::across_units()
    } else {
        VerdictMemo::default()
    };
    for (offset, ((title, text), (html, key))) in columns.enumerate() {
        let i = start + offset;
        if !slice.in_window[i] {
            continue;
        }
        let mut push = |hit: TextHit| {
            hits.row.push(i as IdxSize);
            hits.field.push(hit.field);
            hits.tag.push(hit.tag);
            hits.term.push(hit.term);
            hits.context.push(hit.context);
            hits.reason.push(hit.reason);
        };
        let verdict = scanners
            .classifier
            .classify_memo(&mut scratch, &mut memo, title, text);
        for hit in &verdict.hits {
            push(hit.clone());
        }
        while slice.links.get(links_from).is_some_and(|(row, _)| *row < i) {
            links_from += 1;
        }
        let links = slice
            .links
            .get(links_from)
            .filter(|(row, _)| *row == i)
            .map(|(_, links)| links);
        // The terms found so far, which the page's markup and links do not report again (a
        // WeChat text often repeats the title: the classifier reports each term once). Made
        // only for a post with markup or links: most have neither.
        let mut seen: PlHashSet<(&'static str, String)> = if html.is_some() || links.is_some() {
            verdict
                .hits
                .iter()
                .map(|h| (h.tag, h.term.clone()))
                .collect()
        } else {
            PlHashSet::default()
        };
        if let Some(value) = html {
            for Hit {
                tag,
                term,
                start,
                end,
            } in scanners.html.find(value)
            {
                if seen.insert((tag.as_str(), term.clone())) {
                    push(TextHit {
                        field: "content_html",
                        tag: tag.as_str(),
                        term,
                        context: context(value, start, end, CONTEXT_CHARS),
                        reason: "lexicon ad_slot_markers".into(),
                    });
                }
            }
        }
        for link in links.into_iter().flatten() {
            if let Some(domain) = registrable_domain(link)
                && scanners.commercial.contains(domain.as_str())
                && seen.insert(("commercial_link", domain.clone()))
            {
                push(TextHit {
                    field: "links",
                    tag: "commercial_link",
                    term: domain,
                    context: link.clone(),
                    reason: "lexicon commercial_domains".into(),
                });
            }
        }
        let category = verdict.category;
        let slot = match last_slot {
            Some((last, slot)) if std::ptr::eq(last, category) => slot,
            _ => {
                let slot = CATEGORY_COLUMNS
                    .iter()
                    .position(|(c, _)| *c == category)
                    .unwrap_or(CATEGORY_COLUMNS.len() - 1);
                last_slot = Some((category, slot));
                slot
            }
        };
        if let Some(per_category) = key.and_then(|k| counts.get_mut(k as usize)) {
            per_category[slot] += 1;
        }
        if category != DEFAULT_CATEGORY {
            cats.push(i, verdict);
        }
    }
    found
}

/// The links of the rows in the window that have any.
fn post_links(links: &ListChunked, in_window: &[bool]) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    for (i, present) in links.is_not_null().iter().enumerate() {
        if present != Some(true) || !in_window[i] {
            continue;
        }
        if let Some(list) = links.get_as_series(i) {
            let texts = list
                .str()
                .map(|ca| ca.iter().flatten().map(String::from).collect());
            out.push((i, texts.unwrap_or_default()));
        }
    }
    out
}

/// One slice of the posts with each row's account key, and whether the row is in its account's
/// window, not deleted and has a post id: the window is looked up by the account's integer key
/// (`facts::AccountKeys`), not joined.
fn window_slice(
    ctx: &AuditContext,
    keys: &AccountKeys,
    offset: usize,
) -> PolarsResult<(DataFrame, Vec<bool>)> {
    let df = ctx
        .tables
        .posts
        .clone()
        .slice(offset as i64, SLICE_ROWS as IdxSize)
        .select([
            col("account_id"),
            col("post_id"),
            col("url"),
            col("title"),
            col("text"),
            col("content_html"),
            col("links"),
            col("published_at").cast(DataType::Int64).alias("at"),
            local_day(col("published_at")).alias("day"),
            col("is_deleted").fill_null(lit(false)).alias("is_deleted"),
        ])
        .collect()?;
    let accounts = df.column("account_id")?.str()?;
    let days = df.column("day")?.i64()?;
    let deleted = df.column("is_deleted")?.bool()?;
    let posts = df.column("post_id")?.str()?;
    let mut cursor = keys.cursor();
    let mut account_keys: Vec<u32> = Vec::with_capacity(df.height());
    let in_window: Vec<bool> = accounts
        .iter()
        .zip(days.iter())
        .zip(deleted.iter().zip(posts.iter()))
        .map(|((account, day), (deleted, post))| {
            let key = account.and_then(|a| cursor.find(a));
            account_keys.push(key.unwrap_or(u32::MAX));
            let (Some(key), Some(day), Some(_)) = (key, day, post) else {
                return false;
            };
            !deleted.unwrap_or(false) && day >= keys.from_day(key) && day <= keys.as_of_day(key)
        })
        .collect();
    let mut df = df.hstack(&[Column::new("key".into(), account_keys)])?;
    df.drop_in_place("is_deleted")?;
    Ok((df, in_window))
}

pub fn scan_posts(ctx: &AuditContext) -> PolarsResult<PostScan> {
    let lex = &ctx.lexicons;
    let to_err = |e: crate::Error| PolarsError::ComputeError(e.to_string().into());
    let classifier = ctx.post_classifier().map_err(to_err)?;
    let keys = &ctx.post_facts()?.keys;
    let html_matcher = Matcher::new(&[(Tag::AdSlot, &lex.ad_slot_markers)]).map_err(to_err)?;
    let commercial: PlHashSet<&str> = lex.commercial_domains.iter().map(String::as_str).collect();

    let total = ctx
        .tables
        .posts
        .clone()
        .select([len().alias("n")])
        .collect()?
        .column("n")?
        .cast(&DataType::UInt64)?
        .u64()?
        .get(0)
        .unwrap_or(0) as usize;

    let scanners = Scanners {
        classifier,
        across_units: ctx.verdicts_across_units,
        html: &html_matcher,
        commercial: &commercial,
    };
    // Both cores: each slice is cut into one run of rows per worker, scanned in parallel and
    // joined in row order, so the result is the same as one thread's.
    let workers = ctx.workers();
    // Each slice's rows become frames at once: the text of a national store's hits and labels
    // is never held twice (as Rust strings and as columns) beyond one slice.
    let mut hit_frames = Vec::new();
    let mut category_frames = Vec::new();
    // Per account key: its posts per category column (keys follow the account ids' order).
    let mut counts: Vec<[i64; CATEGORY_COLUMNS.len()]> =
        vec![[0; CATEGORY_COLUMNS.len()]; keys.len()];
    let mut offset = 0;
    while offset < total {
        let (df, in_window) =
            crate::trace::stage("post scan: read", || window_slice(ctx, keys, offset))?;
        offset += SLICE_ROWS;
        let slice = SliceColumns {
            title: df.column("title")?.str()?,
            text: df.column("text")?.str()?,
            html: df.column("content_html")?.str()?,
            key: df.column("key")?.u32()?,
            in_window: &in_window,
            links: post_links(df.column("links")?.list()?, &in_window),
        };
        let rows = df.height();
        let run = rows.div_ceil(workers).max(1);
        let parts: Vec<Found> = crate::trace::stage("post scan: label", || {
            if run >= rows {
                // One worker (a unit beside others): on this thread, whose allocator heap is
                // warm; a fresh thread per slice started from fresh pages.
                return vec![scan_rows(&slice, 0..rows, &scanners, keys.len())];
            }
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..rows)
                    .step_by(run)
                    .map(|start| {
                        let (slice, scanners) = (&slice, &scanners);
                        scope.spawn(move || {
                            scan_rows(slice, start..(start + run).min(rows), scanners, keys.len())
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a scan worker panicked"))
                    .collect()
            })
        });
        // Worker results in row order: frames appended in that order equal one thread's.
        for part in parts {
            hit_frames.push(part.hits.into_frame(&df)?);
            category_frames.push(part.cats.into_frame(&df)?);
            for (mine, n) in counts.iter_mut().zip(part.counts) {
                for (m, o) in mine.iter_mut().zip(n) {
                    *m += o;
                }
            }
        }
    }

    // No slice: the rows' post columns from an empty one.
    let no_posts = || {
        DataFrame::new_infer_height(vec![
            Column::new("account_id".into(), Vec::<String>::new()),
            Column::new("post_id".into(), Vec::<String>::new()),
            Column::new("url".into(), Vec::<String>::new()),
            Column::new("at".into(), Vec::<i64>::new()),
            Column::new("day".into(), Vec::<i64>::new()),
        ])
    };
    let hits = concat_frames(hit_frames, || HitRows::default().into_frame(&no_posts()?))?;
    let categories = concat_frames(category_frames, || {
        CategoryRows::default().into_frame(&no_posts()?)
    })?;
    // The accounts with a post in the window, in account order.
    let posted: Vec<u32> = (0..keys.len() as u32)
        .filter(|&k| counts[k as usize].iter().sum::<i64>() > 0)
        .collect();
    let mut count_columns = vec![
        keys.id_column("account_id", &posted),
        Column::new(
            "posts_in_window".into(),
            posted
                .iter()
                .map(|&k| counts[k as usize].iter().sum::<i64>())
                .collect::<Vec<_>>(),
        ),
    ];
    for (slot, (_, name)) in CATEGORY_COLUMNS.iter().enumerate() {
        count_columns.push(Column::new(
            (*name).into(),
            posted
                .iter()
                .map(|&k| counts[k as usize][slot])
                .collect::<Vec<_>>(),
        ));
    }
    let category_counts = DataFrame::new_infer_height(count_columns)?;
    Ok(PostScan {
        hits,
        categories,
        category_counts,
    })
}

/// The registrable domain (eTLD+1, from the public suffix list) of a URL's host.
pub fn registrable_domain(link: &str) -> Option<String> {
    let parsed = url::Url::parse(link.trim()).ok()?;
    let host = parsed
        .host_str()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    psl::domain_str(&host).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_use_the_public_suffix_list() {
        assert_eq!(
            registrable_domain("https://item.taobao.com/item.htm?id=1").as_deref(),
            Some("taobao.com")
        );
        assert_eq!(
            registrable_domain("https://shop.example.com.cn/x").as_deref(),
            Some("example.com.cn")
        );
        assert_eq!(
            registrable_domain("http://WWW.JD.COM./a").as_deref(),
            Some("jd.com")
        );
        assert_eq!(registrable_domain("not a url"), None);
    }
}
