//! The per-account facts of a unit's posts, from one pass over the post rows (no text columns):
//! the updates (`docs/checks.md`: published up to as_of, not deleted, by the account itself; a
//! WeChat mass-send once), the last update and its link, the monthly posts and engagement sums,
//! the influence-index inputs, and the posts' comment settings. The UPD rules, INT005, the cadence
//! measurements, the weekly and monthly tables and the index read these instead of grouping and
//! joining the posts each.

use crate::exprs::local_day_of;
use polars::prelude::*;

use super::AccountKeys;
use super::rows::{BoolRows, I64Rows, StrRows};
use crate::measurements::MONTHLY_COUNTERS;

/// The influence-index counters, in the order of `indices::COUNTERS`.
pub const INDEX_COUNTERS: [&str; 6] = [
    "read_count",
    "watch_count",
    "like_count",
    "share_count",
    "comment_count",
    "repost_count",
];

/// What the pass needs to know of the audit (from the context).
pub struct PostPassSettings {
    /// Threads the pass may use.
    pub workers: usize,
    /// The end of as_of (Beijing) in UTC milliseconds: later posts are no updates.
    pub as_of_end_ms: i64,
    pub as_of_day: i64,
    /// The audit window's first day (before clipping to an account's first sighting).
    pub from_day: i64,
    /// Whether a plain repost (`is_original` false) counts as an update.
    pub count_reposts: bool,
    /// The first day of the influence-index period.
    pub index_first_day: i64,
}

/// The last update of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct LastUpdate {
    /// UTC epoch milliseconds.
    pub at: i64,
    pub day: i64,
    pub post_id: String,
    pub url: Option<String>,
}

/// Posts and engagement sums of one month (non-deleted posts of the account's window).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MonthSums {
    pub posts: i64,
    /// In the order of [`MONTHLY_COUNTERS`].
    pub counters: [i64; MONTHLY_COUNTERS.len()],
}

/// The influence-index inputs of one account over the index period (non-deleted posts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexInputs {
    pub posts: i64,
    /// Weeks of the period (counted from its first day) with a post.
    pub weeks: WeekSet,
    /// Per counter of [`INDEX_COUNTERS`]: sum, largest, sum over headlines (position 0), how
    /// many posts carried it.
    pub total: [f64; INDEX_COUNTERS.len()],
    pub peak: [Option<f64>; INDEX_COUNTERS.len()],
    pub headline: [f64; INDEX_COUNTERS.len()],
    pub known: [i64; INDEX_COUNTERS.len()],
}

/// A set of week numbers (0 = the period's first week), one bit each: the pass marks a week for
/// every post of the index period, and a hashed set cost more than the rest of the pass's
/// bookkeeping of a post.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeekSet {
    bits: Vec<u64>,
}

impl WeekSet {
    /// Adds `week`; a negative week (before the period) is not a week of it and is ignored.
    pub fn insert(&mut self, week: i64) {
        let Ok(week) = usize::try_from(week) else {
            return;
        };
        let (word, bit) = (week / 64, week % 64);
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= 1 << bit;
    }

    /// How many weeks the set holds.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }
}

/// The facts of one account's posts.
#[derive(Debug, Clone, Default)]
pub struct AccountPostFacts {
    /// Beijing day of every update up to as_of, in store order (any day: before the window too).
    pub update_days: Vec<i64>,
    pub last: Option<LastUpdate>,
    /// Per month since the audit window's first month (index into [`PostFacts::months`]).
    pub months: Vec<Option<MonthSums>>,
    /// None: no post in the index period.
    pub index: Option<IndexInputs>,
    /// The comment settings of the posts of the account's window, deleted ones too (INT005).
    pub comments: CommentSettings,
}

/// How many posts of an account's window say whether comments are open, and how many open.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CommentSettings {
    pub known: i64,
    pub open: i64,
}

impl AccountPostFacts {
    /// The update days inside a window starting on `from_day` (updates end at as_of).
    pub fn window_update_days(&self, from_day: i64) -> impl Iterator<Item = i64> + '_ {
        self.update_days
            .iter()
            .copied()
            .filter(move |&d| d >= from_day)
    }
}

/// The post facts of every account of a unit, aligned with its [`AccountKeys`].
pub struct PostFacts {
    pub accounts: Vec<AccountPostFacts>,
    /// `YYYY-MM` of each month index, from the audit window's first month to as_of's.
    pub months: Vec<String>,
}

/// The post columns the pass reads (no text: the content scan reads those).
pub const PASS_COLUMNS: [&str; 14] = [
    "account_id",
    "post_id",
    "published_at",
    "url",
    "position",
    "is_deleted",
    "is_original",
    "comments_open",
    "read_count",
    "like_count",
    "watch_count",
    "share_count",
    "comment_count",
    "repost_count",
];

/// The month index (months since the audit window's first month) of each day from `from_day`
/// to `as_of_day`, and the months' `YYYY-MM` texts.
pub fn month_table(from_day: i64, as_of_day: i64) -> (Vec<u16>, Vec<String>) {
    let mut months: Vec<String> = Vec::new();
    let mut index = Vec::with_capacity((as_of_day - from_day + 1).max(0) as usize);
    for day in from_day..=as_of_day {
        let text = govmedia_collectors::time::days_to_date(day as i32)
            .format("%Y-%m")
            .to_string();
        if months.last() != Some(&text) {
            months.push(text);
        }
        index.push((months.len() - 1) as u16);
    }
    (index, months)
}

fn i64_column(df: &DataFrame, name: &str) -> PolarsResult<Int64Chunked> {
    Ok(df.column(name)?.cast(&DataType::Int64)?.i64()?.clone())
}

/// The columns of the pass, in the chunks they were read in (a row group each), the same in
/// every column: the pass reads them chunk by chunk ([`RowViews`]).
struct PassColumns {
    account: StringChunked,
    post: StringChunked,
    url: StringChunked,
    at: Int64Chunked,
    position: Int64Chunked,
    deleted: BooleanChunked,
    original: BooleanChunked,
    comments_open: BooleanChunked,
    monthly: Vec<Int64Chunked>,
    index_counters: Vec<Int64Chunked>,
    /// (first row, rows) of each chunk.
    chunks: Vec<(usize, usize)>,
}

impl PassColumns {
    /// The columns as read; made one chunk each should their chunks differ (a frame built
    /// column by column).
    fn new(posts: &DataFrame) -> PolarsResult<PassColumns> {
        let columns = Self::read(posts)?;
        if columns.chunks_align() {
            return Ok(columns);
        }
        let mut one_chunk = posts.clone();
        one_chunk.rechunk_mut();
        Self::read(&one_chunk)
    }

    fn read(posts: &DataFrame) -> PolarsResult<PassColumns> {
        let str_column =
            |name: &str| -> PolarsResult<StringChunked> { Ok(posts.column(name)?.str()?.clone()) };
        let bool_column = |name: &str| -> PolarsResult<BooleanChunked> {
            Ok(posts.column(name)?.bool()?.clone())
        };
        let account = str_column("account_id")?;
        let mut start = 0;
        let chunks = account
            .chunk_lengths()
            .map(|rows| {
                start += rows;
                (start - rows, rows)
            })
            .collect();
        Ok(PassColumns {
            account,
            post: str_column("post_id")?,
            url: str_column("url")?,
            at: i64_column(posts, "published_at")?,
            position: i64_column(posts, "position")?,
            deleted: bool_column("is_deleted")?,
            original: bool_column("is_original")?,
            comments_open: bool_column("comments_open")?,
            monthly: MONTHLY_COUNTERS
                .iter()
                .map(|(c, _)| i64_column(posts, c))
                .collect::<PolarsResult<_>>()?,
            index_counters: INDEX_COUNTERS
                .iter()
                .map(|c| i64_column(posts, c))
                .collect::<PolarsResult<_>>()?,
            chunks,
        })
    }

    /// Whether every column's chunks have the account column's lengths.
    fn chunks_align(&self) -> bool {
        let lengths: Vec<usize> = self.chunks.iter().map(|&(_, rows)| rows).collect();
        let same = |lens: &mut dyn Iterator<Item = usize>| lens.eq(lengths.iter().copied());
        same(&mut self.post.chunk_lengths())
            && same(&mut self.url.chunk_lengths())
            && same(&mut self.at.chunk_lengths())
            && same(&mut self.position.chunk_lengths())
            && same(&mut self.deleted.chunk_lengths())
            && same(&mut self.original.chunk_lengths())
            && same(&mut self.comments_open.chunk_lengths())
            && self
                .monthly
                .iter()
                .chain(&self.index_counters)
                .all(|c| same(&mut c.chunk_lengths()))
    }
}

/// The rows of one chunk of the pass's columns ([`super::rows`]), counted from its start.
struct RowViews<'a> {
    account: StrRows<'a>,
    at: I64Rows<'a>,
    position: I64Rows<'a>,
    deleted: BoolRows<'a>,
    original: BoolRows<'a>,
    comments_open: BoolRows<'a>,
    monthly: Vec<I64Rows<'a>>,
    index_counters: Vec<I64Rows<'a>>,
}

impl<'a> RowViews<'a> {
    fn new(c: &'a PassColumns, k: usize) -> Self {
        RowViews {
            account: StrRows::new(&c.account, k),
            at: I64Rows::new(&c.at, k),
            position: I64Rows::new(&c.position, k),
            deleted: BoolRows::new(&c.deleted, k),
            original: BoolRows::new(&c.original, k),
            comments_open: BoolRows::new(&c.comments_open, k),
            monthly: c.monthly.iter().map(|m| I64Rows::new(m, k)).collect(),
            index_counters: c
                .index_counters
                .iter()
                .map(|m| I64Rows::new(m, k))
                .collect(),
        }
    }
}

/// Rows per worker below which one thread does the pass.
const PARALLEL_ROWS: usize = 1 << 16;

/// One pass over a unit's posts (any order; rows of accounts not in `keys` are skipped). A large
/// unit is cut into one run of rows per core at account boundaries (the store keeps an
/// account's rows together); should an account's rows lie in two runs after all, the pass is
/// done again on one thread, so the facts never depend on the cut.
pub fn post_facts(
    posts: &DataFrame,
    keys: &AccountKeys,
    settings: &PostPassSettings,
) -> PolarsResult<PostFacts> {
    post_facts_in_runs(posts, keys, settings, PARALLEL_ROWS)
}

/// [`post_facts`] with runs of at least `min_rows` rows per worker.
fn post_facts_in_runs(
    posts: &DataFrame,
    keys: &AccountKeys,
    settings: &PostPassSettings,
    min_rows: usize,
) -> PolarsResult<PostFacts> {
    let (month_of_day, months) = month_table(settings.from_day, settings.as_of_day);
    let columns = PassColumns::new(posts)?;
    let rows = posts.height();
    let workers = settings.workers.min(rows / min_rows.max(1)).max(1);
    let pass = |range: std::ops::Range<usize>| {
        facts_of_rows(&columns, range, keys, settings, &month_of_day)
    };
    // Cut points where the account changes, about `rows / workers` apart.
    let mut cuts = vec![0];
    for w in 1..workers {
        let mut cut = (rows * w / workers).max(*cuts.last().unwrap_or(&0));
        while cut < rows && cut > 0 && columns.account.get(cut) == columns.account.get(cut - 1) {
            cut += 1;
        }
        cuts.push(cut);
    }
    cuts.push(rows);
    let accounts = if workers == 1 {
        pass(0..rows).0
    } else {
        let parts: Vec<(Vec<AccountPostFacts>, Vec<bool>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = cuts
                .windows(2)
                .map(|r| {
                    let (start, end) = (r[0], r[1]);
                    let pass = &pass;
                    scope.spawn(move || pass(start..end))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a post facts worker panicked"))
                .collect()
        });
        let mut owner: Vec<Option<usize>> = vec![None; keys.len()];
        let mut split_account = false;
        for (p, (_, touched)) in parts.iter().enumerate() {
            for (k, _) in touched.iter().enumerate().filter(|(_, t)| **t) {
                split_account |= owner[k].replace(p).is_some();
            }
        }
        if split_account {
            pass(0..rows).0
        } else {
            let mut parts: Vec<Vec<AccountPostFacts>> = parts.into_iter().map(|p| p.0).collect();
            owner
                .iter()
                .enumerate()
                .map(|(k, o)| {
                    o.map_or_else(AccountPostFacts::default, |p| {
                        std::mem::take(&mut parts[p][k])
                    })
                })
                .collect()
        }
    };
    Ok(PostFacts { accounts, months })
}

/// The WeChat mass sends counted so far, as (account key, instant): the articles of one mass
/// send share its instant and count as one update. The store keeps an account's posts together
/// in time order, so a send repeats the one counted last or comes after it, and that is all
/// that is compared; rows in another order are looked up among all the sends counted (a hash set
/// per row was a fifth of the post facts' time).
#[derive(Default)]
struct CountedSends {
    /// The sends counted, in increasing order, while the rows come in order.
    ordered: Vec<(u32, i64)>,
    /// Every send counted, once a row came out of order.
    unordered: Option<PlHashSet<(u32, i64)>>,
}

impl CountedSends {
    /// Whether `send` was not counted yet; it is counted from now on.
    fn insert(&mut self, send: (u32, i64)) -> bool {
        if let Some(all) = &mut self.unordered {
            return all.insert(send);
        }
        match self.ordered.last() {
            Some(&last) if send == last => false,
            Some(&last) if send < last => {
                let mut all: PlHashSet<(u32, i64)> = self.ordered.drain(..).collect();
                let new = all.insert(send);
                self.unordered = Some(all);
                new
            }
            _ => {
                self.ordered.push(send);
                true
            }
        }
    }
}

/// The facts of the posts `rows`, per account key, and which keys had a row.
fn facts_of_rows(
    columns: &PassColumns,
    rows: std::ops::Range<usize>,
    keys: &AccountKeys,
    settings: &PostPassSettings,
    month_of_day: &[u16],
) -> (Vec<AccountPostFacts>, Vec<bool>) {
    let mut facts = vec![AccountPostFacts::default(); keys.len()];
    let mut touched = vec![false; keys.len()];
    let mut last_rows: Vec<Option<(i64, usize)>> = vec![None; keys.len()];
    // WeChat mass-sends already counted, per account: (account, published_at).
    let mut mass_sends = CountedSends::default();
    let mut lookup = keys.cursor();
    for (k, &(start, len)) in columns.chunks.iter().enumerate() {
        let (first, end) = (rows.start.max(start), rows.end.min(start + len));
        if first >= end {
            continue;
        }
        let c = RowViews::new(columns, k);
        for row in first..end {
            // `i`: the row within the chunk; `row`: within the unit.
            let i = row - start;
            let (Some(account_id), Some(at)) = (c.account.get(i), c.at.get(i)) else {
                continue;
            };
            let Some(a) = lookup.find(account_id) else {
                continue;
            };
            touched[a as usize] = true;
            let f = &mut facts[a as usize];
            let day = local_day_of(at);
            // Comment settings over the account's window, deleted posts included.
            if day >= keys.from_day(a) && day <= keys.as_of_day(a) {
                let open = c.comments_open.get(i);
                f.comments.known += i64::from(open.is_some());
                f.comments.open += i64::from(open == Some(true));
            }
            if c.deleted.get(i).unwrap_or(false) {
                continue;
            }
            // Updates.
            if at < settings.as_of_end_ms
                && (settings.count_reposts || c.original.get(i).unwrap_or(true))
                && (!account_id.starts_with("wechat:") || mass_sends.insert((a, at)))
            {
                f.update_days.push(day);
                // The latest instant wins; equal instants: the later row (a stable sort's last).
                // Its texts are read once the pass is done.
                let last = &mut last_rows[a as usize];
                if last.is_none_or(|(last_at, _)| at >= last_at) {
                    *last = Some((at, row));
                }
            }
            // Monthly sums over the account's window.
            let window_from = keys.from_day(a);
            if day >= window_from && day >= settings.from_day && day <= settings.as_of_day {
                let m = month_of_day[(day - settings.from_day) as usize] as usize;
                if f.months.len() <= m {
                    f.months.resize(m + 1, None);
                }
                let sums = f.months[m].get_or_insert_with(MonthSums::default);
                sums.posts += 1;
                for (total, column) in sums.counters.iter_mut().zip(&c.monthly) {
                    *total += column.get(i).unwrap_or(0);
                }
            }
            // Influence-index inputs over the index period.
            if day >= settings.index_first_day && day <= settings.as_of_day {
                let inputs = f.index.get_or_insert_with(IndexInputs::default);
                inputs.posts += 1;
                inputs
                    .weeks
                    .insert((day - settings.index_first_day).div_euclid(7));
                let headline = c.position.get(i) == Some(0);
                for (n, column) in c.index_counters.iter().enumerate() {
                    if let Some(v) = column.get(i) {
                        let v = v as f64;
                        inputs.total[n] += v;
                        inputs.peak[n] = Some(inputs.peak[n].map_or(v, |p| p.max(v)));
                        if headline {
                            inputs.headline[n] += v;
                        }
                        inputs.known[n] += 1;
                    }
                }
            }
        }
    }
    for (f, last) in facts.iter_mut().zip(last_rows) {
        f.last = last.map(|(at, row)| LastUpdate {
            at,
            day: local_day_of(at),
            post_id: columns.post.get(row).unwrap_or_default().to_string(),
            url: columns.url.get(row).map(String::from),
        });
    }
    (facts, touched)
}

#[cfg(test)]
mod tests {
    use govmedia_collectors::schema::{ACCOUNTS, POSTS};

    use crate::testing::Fixture;

    const ACCOUNTS_JSONL: &str = r#"
{"account_id":"wechat:a","platform":"wechat","name":"甲","first_seen":"2025-01-01T00:00:00Z"}
{"account_id":"weibo:b","platform":"weibo","name":"乙","first_seen":"2025-01-01T00:00:00Z"}
"#;

    const POSTS_JSONL: &str = r#"
{"account_id":"wechat:a","post_id":"1_1","published_at":"2025-11-03T10:00:00+08:00","url":"https://mp.weixin.qq.com/s/1","position":0,"read_count":100}
{"account_id":"wechat:a","post_id":"1_2","published_at":"2025-11-03T10:00:00+08:00","url":"https://mp.weixin.qq.com/s/2","position":1,"read_count":50}
{"account_id":"wechat:a","post_id":"2_1","published_at":"2025-11-20T09:00:00+08:00","url":"https://mp.weixin.qq.com/s/3","position":0,"is_deleted":true,"read_count":999}
{"account_id":"wechat:a","post_id":"3_1","published_at":"2025-12-03T09:00:00+08:00","url":"https://mp.weixin.qq.com/s/4","position":0}
{"account_id":"weibo:b","post_id":"x","published_at":"2025-10-30T23:30:00+08:00","url":"https://weibo.com/x","is_original":false,"repost_count":3}
{"account_id":"weibo:b","post_id":"y","published_at":"2025-11-01T01:00:00+08:00","url":"https://weibo.com/y","repost_count":4}
{"account_id":"weibo:unknown","post_id":"z","published_at":"2025-11-01T01:00:00+08:00"}
"#;

    #[test]
    fn counted_sends_are_a_set_whatever_the_order() {
        // Sends in order with repeats; then the same followed by sends in any order.
        let mut next = crate::testing::numbers(0x9E37_79B9_7F4A_7C15);
        let mut sends: Vec<(u32, i64)> = (0..300)
            .map(|_| ((next() % 5) as u32, (next() % 9) as i64))
            .collect();
        sends[..200].sort_unstable();
        for case in [&sends[..200], &sends[..]] {
            let (mut ours, mut set) = (
                super::CountedSends::default(),
                std::collections::HashSet::new(),
            );
            for &send in case {
                assert_eq!(ours.insert(send), set.insert(send), "{send:?}");
            }
        }
    }

    #[test]
    fn a_week_set_counts_each_week_once() {
        let mut weeks = super::WeekSet::default();
        assert!(weeks.is_empty());
        for week in [0, 5, 5, 63, 64, 130, 0, -1] {
            weeks.insert(week);
        }
        assert_eq!(weeks.len(), 5);
        assert!(!weeks.is_empty());
    }

    #[test]
    fn comment_settings_count_the_window_deleted_posts_too() {
        let posts = r#"
{"account_id":"wechat:a","post_id":"1","published_at":"2025-11-03T10:00:00+08:00","comments_open":false}
{"account_id":"wechat:a","post_id":"2","published_at":"2025-11-04T10:00:00+08:00","comments_open":true,"is_deleted":true}
{"account_id":"wechat:a","post_id":"3","published_at":"2025-11-05T10:00:00+08:00"}
{"account_id":"wechat:a","post_id":"4","published_at":"2025-12-03T09:00:00+08:00","comments_open":true}
{"account_id":"wechat:a","post_id":"5","published_at":"2024-06-03T09:00:00+08:00","comments_open":true}
{"account_id":"weibo:b","post_id":"6","published_at":"2025-11-03T10:00:00+08:00","comments_open":false}
"#;
        let ctx = Fixture::at("2025-11-30")
            .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
            .jsonl(&POSTS, posts)
            .context();
        let facts = ctx.post_facts().unwrap();
        let of = |id: &str| facts.posts.accounts[facts.keys.key_of(id).unwrap() as usize].comments;
        // After as_of (4) and before the window (5): not counted; unknown (3): not known.
        assert_eq!(of("wechat:a"), super::CommentSettings { known: 2, open: 1 });
        assert_eq!(of("weibo:b"), super::CommentSettings { known: 1, open: 0 });
    }

    #[test]
    fn one_pass_gives_updates_last_update_months_and_index_inputs() {
        let ctx = Fixture::at("2025-11-30")
            .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
            .jsonl(&POSTS, POSTS_JSONL)
            .context();
        let facts = ctx.post_facts().unwrap();
        let a = facts.keys.key_of("wechat:a").unwrap() as usize;
        let b = facts.keys.key_of("weibo:b").unwrap() as usize;
        let (a, b) = (&facts.posts.accounts[a], &facts.posts.accounts[b]);
        // A mass-send of two articles is one update; deleted and after-as_of posts are none.
        assert_eq!(a.update_days.len(), 1);
        let last = a.last.as_ref().unwrap();
        assert_eq!(last.post_id, "1_1");
        assert_eq!(last.url.as_deref(), Some("https://mp.weixin.qq.com/s/1"));
        // A repost counts by default; the later post is the last update.
        assert_eq!(b.update_days.len(), 2);
        assert_eq!(b.last.as_ref().unwrap().post_id, "y");
        // Months: both articles count as posts (the deleted one does not), sums per month.
        let november = facts
            .posts
            .months
            .iter()
            .position(|m| m == "2025-11")
            .unwrap();
        let october = facts
            .posts
            .months
            .iter()
            .position(|m| m == "2025-10")
            .unwrap();
        let nov = a.months[november].unwrap();
        assert_eq!((nov.posts, nov.counters[0]), (2, 150));
        assert_eq!(b.months[october].unwrap().posts, 1);
        assert_eq!(b.months[november].unwrap().posts, 1);
        // Index inputs (a month by default): the headline's reads, the peak, the known counts.
        let index = a.index.as_ref().unwrap();
        assert_eq!(index.posts, 2);
        assert_eq!((index.total[0], index.headline[0]), (150.0, 100.0));
        assert_eq!((index.peak[0], index.known[0]), (Some(100.0), 2));
        assert_eq!(index.peak[1], None);
        // An account known only from its posts is audited too.
        assert!(
            facts
                .keys
                .key_of("weibo:unknown")
                .is_some_and(|k| { facts.posts.accounts[k as usize].update_days.len() == 1 })
        );
    }

    /// The facts of every account, comparable.
    fn summary(facts: &super::PostFacts) -> Vec<String> {
        facts
            .accounts
            .iter()
            .map(|f| {
                format!(
                    "{:?} {:?} {:?} {:?}",
                    f.update_days, f.last, f.months, f.index
                )
            })
            .collect()
    }

    #[test]
    fn runs_on_several_cores_give_the_one_thread_facts_also_when_an_account_is_split() {
        let ctx = Fixture::at("2025-11-30")
            .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
            .jsonl(&POSTS, POSTS_JSONL)
            .context();
        let keys = super::AccountKeys::new(ctx.accounts().unwrap()).unwrap();
        let settings = super::PostPassSettings {
            workers: 2,
            as_of_end_ms: ctx.as_of_end_ms(),
            as_of_day: ctx.as_of_day,
            from_day: ctx.from_day,
            count_reposts: true,
            index_first_day: ctx.as_of_day - 29,
        };
        let posts = ctx.tables.posts.clone().collect().unwrap();
        let one = super::post_facts_in_runs(&posts, &keys, &settings, usize::MAX).unwrap();
        let many = super::post_facts_in_runs(&posts, &keys, &settings, 1).unwrap();
        assert_eq!(summary(&one), summary(&many));
        // An account's rows apart (not the store's order): the cut would split it, so the pass
        // is done on one thread — the mass-send still counts once.
        let order: Vec<polars::prelude::IdxSize> = vec![0, 4, 1, 5, 2, 6, 3];
        let shuffled = posts
            .take(&polars::prelude::IdxCa::from_vec("i".into(), order))
            .unwrap();
        let many = super::post_facts_in_runs(&shuffled, &keys, &settings, 1).unwrap();
        assert_eq!(summary(&one), summary(&many));
        // Rows in several chunks (row groups as read), a run crossing a chunk's end: the same.
        let mut chunked = posts.slice(0, 1);
        for (offset, rows) in [(1, 2), (3, 3), (6, 1)] {
            chunked.vstack_mut(&posts.slice(offset, rows)).unwrap();
        }
        assert_eq!(chunked.column("url").unwrap().n_chunks(), 4);
        for min_rows in [1, usize::MAX] {
            let facts = super::post_facts_in_runs(&chunked, &keys, &settings, min_rows).unwrap();
            assert_eq!(summary(&one), summary(&facts));
        }
        // Columns chunked differently (one made whole): read as one chunk each, the same.
        let whole_url = chunked.column("url").unwrap().rechunk();
        chunked.with_column(whole_url).unwrap();
        let facts = super::post_facts_in_runs(&chunked, &keys, &settings, 1).unwrap();
        assert_eq!(summary(&one), summary(&facts));
    }

    #[test]
    fn reposts_do_not_count_when_the_parameter_says_so() {
        let params = [(
            "UPD.count_reposts".to_string(),
            crate::context::ParamValue::Bool(false),
        )]
        .into_iter()
        .collect();
        let ctx = Fixture::at("2025-11-30")
            .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
            .jsonl(&POSTS, POSTS_JSONL)
            .params(params)
            .context();
        let facts = ctx.post_facts().unwrap();
        let b = facts.keys.key_of("weibo:b").unwrap() as usize;
        assert_eq!(facts.posts.accounts[b].update_days.len(), 1);
    }
}
