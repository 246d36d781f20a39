//! Per-account measurements that scoring and reports read: the update cadence now (periods judged
//! and compliant, longest gap, last update), and weekly update counts for the charts.

use polars::prelude::*;

use crate::context::AuditContext;
use crate::engine::Reads;
use crate::exprs::{day_date, left_join_on, local_day_of};

/// The window of each account with the columns used to join measurements.
fn windows(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    Ok(ctx.accounts()?.clone().lazy().select([
        col("account_id"),
        col("platform"),
        col("account_name"),
        col("org_id"),
        col("from_day"),
        col("as_of_day"),
    ]))
}
/// One row per account: the cadence columns of [`cadence`], then the content mix
/// (`posts_in_window`, `posts_<category>`), `ad_posts`, `off_topic_posts`, `off_topic_share`,
/// the interaction (`comments`, `replied`, `reply_rate`, `reply_p50_hours`, `reply_p90_hours` in
/// working hours, `replied_on_time` and `on_time_share` within the reply deadline) and the menu (`menu_entries`, `menu_service_entries`, `menu_query_entries`).
///
/// The columns of facts a partial audit did not compute (`reads`, [`uncomputed`]) are empty,
/// not zero: nothing was counted.
pub fn per_account(ctx: &AuditContext, reads: Reads) -> PolarsResult<LazyFrame> {
    let mut parts = if reads.post_text {
        post_text_parts(ctx, reads)?
    } else {
        vec![not_computed(
            post_text_counts().map(|c| (c, DataType::Int64)),
        )?]
    };
    if reads.comments {
        parts.extend(comment_parts(ctx)?);
    } else {
        parts.push(not_computed(COMMENT_COLUMNS)?);
    }
    parts.push(menu_part(ctx)?);
    let mut lf = cadence(ctx)?;
    for other in parts {
        lf = left_join_on(lf, other, &["account_id"]);
    }
    let zero = |name: &str| col(name).fill_null(lit(0i64));
    let skipped = uncomputed(reads);
    let counts: Vec<Expr> = post_text_counts()
        .chain(["comments", "replied"])
        .filter(|c| !skipped.contains(c))
        .map(zero)
        .collect();
    Ok(lf
        .with_columns(counts)
        .with_columns([
            share(
                "off_topic_posts",
                "posts_in_window",
                col("posts_in_window").gt(lit(0i64)),
            )
            .alias("off_topic_share"),
            share("replied", "comments", col("comments").gt(lit(0i64))).alias("reply_rate"),
            // Replies within the reply deadline (INT.sla_working_days), among the replies whose
            // working-time latency the calendar can tell.
            share(
                "replied_on_time",
                "replied",
                col("replied_on_time")
                    .is_not_null()
                    .and(col("replied").gt(lit(0i64))),
            )
            .alias("on_time_share"),
        ])
        .sort(["account_id"], SortMultipleOptions::default()))
}

/// `numerator / denominator` to four decimals where `defined` holds, else empty.
fn share(numerator: &str, denominator: &str, defined: Expr) -> Expr {
    when(defined)
        .then(
            (col(numerator).cast(DataType::Float64) / col(denominator).cast(DataType::Float64))
                .round(4, RoundMode::HalfToEven),
        )
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The counted columns from the post text scan (counts), in their order in the measurements.
fn post_text_counts() -> impl Iterator<Item = &'static str> {
    std::iter::once("posts_in_window")
        .chain(category_counts())
        .chain(["ad_posts", "off_topic_posts"])
}

/// The posts per category (`posts_<category>`), counted from the post labels.
fn category_counts() -> impl Iterator<Item = &'static str> {
    CATEGORY_COLUMNS.iter().map(|(_, c)| *c)
}

/// The columns from the comments, with their types, in their order in the measurements.
const COMMENT_COLUMNS: [(&str, DataType); 5] = [
    ("comments", DataType::Int64),
    ("replied", DataType::Int64),
    ("reply_p50_hours", DataType::Float64),
    ("reply_p90_hours", DataType::Float64),
    ("replied_on_time", DataType::Int64),
];

/// The measurement columns left empty when an audit did not compute these facts: the rubric
/// items reading them are not assessed.
pub fn uncomputed(reads: Reads) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !reads.post_text {
        out.extend(post_text_counts());
        out.push("off_topic_share");
    } else if !reads.post_labels {
        out.extend(category_counts());
    }
    if !reads.comments {
        out.extend(COMMENT_COLUMNS.iter().map(|(c, _)| *c));
        out.extend(["reply_rate", "on_time_share"]);
    }
    out
}

/// No account's values for these columns: joined, it leaves them empty in their place.
fn not_computed(
    columns: impl IntoIterator<Item = (&'static str, DataType)>,
) -> PolarsResult<LazyFrame> {
    let schema: Schema = std::iter::once(Field::new("account_id".into(), DataType::String))
        .chain(
            columns
                .into_iter()
                .map(|(name, dtype)| Field::new(name.into(), dtype)),
        )
        .collect();
    Ok(DataFrame::empty_with_schema(&schema).lazy())
}

/// The content mix and the ad and off-topic posts per account, from the post text scan (the
/// posts per category only when the scan labelled them).
fn post_text_parts(ctx: &AuditContext, reads: Reads) -> PolarsResult<Vec<LazyFrame>> {
    let key = || [col("account_id")];
    let scan = ctx.post_scan()?;
    let content = scan.category_counts.clone().lazy();
    let content = if reads.post_labels {
        content
    } else {
        // Empty in their place: nothing was labelled.
        content.with_columns(
            category_counts()
                .map(|c| lit(NULL).cast(DataType::Int64).alias(c))
                .collect::<Vec<_>>(),
        )
    };
    let hit_posts = |tag: &str, name: &str| {
        scan.hits
            .clone()
            .lazy()
            .filter(col("tag").eq(lit(tag)))
            .group_by(key())
            .agg([col("post_id").n_unique().cast(DataType::Int64).alias(name)])
    };
    Ok(vec![
        content,
        hit_posts("ad", "ad_posts"),
        hit_posts("off_topic", "off_topic_posts"),
    ])
}

/// Comments and replies, and reply latencies, per account: each counted in one pass over the
/// unit's rows, the accounts looked up by key (`facts::AccountKeys`). A join of every comment
/// with the accounts on the account id and two group-bys on it were more than half the
/// measurements' time on a national store.
fn comment_parts(ctx: &AuditContext) -> PolarsResult<Vec<LazyFrame>> {
    Ok(vec![comment_counts(ctx)?, reply_latencies(ctx)?])
}

/// `comments` (since the account's window opened, after as_of too) and `replied` (those with a
/// reply) per account with any such comment.
fn comment_counts(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let comments = ctx
        .tables
        .comments
        .clone()
        .select([col("account_id"), col("created_at"), col("reply_at")])
        .collect()?;
    let keys = ctx.account_keys()?;
    let mut cursor = keys.cursor();
    let created = comments.column("created_at")?.cast(&DataType::Int64)?;
    let replied = comments.column("reply_at")?.is_not_null();
    let rows = comments
        .column("account_id")?
        .str()?
        .iter()
        .zip(created.i64()?.iter())
        .zip(replied.iter());
    // Per account key.
    let (mut comments_of, mut replied_of) = (vec![0i64; keys.len()], vec![0i64; keys.len()]);
    for ((account, created), replied) in rows {
        let (Some(key), Some(created)) = (account.and_then(|a| cursor.find(a)), created) else {
            continue;
        };
        if local_day_of(created) >= keys.from_day(key) {
            comments_of[key as usize] += 1;
            replied_of[key as usize] += i64::from(replied == Some(true));
        }
    }
    let counted: Vec<u32> = (0..keys.len() as u32)
        .filter(|&k| comments_of[k as usize] > 0)
        .collect();
    let of_counted =
        |per_key: &[i64]| -> Vec<i64> { counted.iter().map(|&k| per_key[k as usize]).collect() };
    Ok(DataFrame::new_infer_height(vec![
        keys.id_column("account_id", &counted),
        Column::new("comments".into(), of_counted(&comments_of)),
        Column::new("replied".into(), of_counted(&replied_of)),
    ])?
    .lazy())
}

/// Per account with an answered comment in the window: the median and 90th percentile of its
/// reply latencies in working hours (`reply_p50_hours`, `reply_p90_hours`, to one decimal) and
/// the replies within the reply deadline (`replied_on_time`). Latencies need the working-day
/// calendar; outside its years they are left empty rather than failing the whole audit
/// (INT001/INT002 report the calendar error themselves).
fn reply_latencies(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let Ok(timed) = crate::interaction::timed_comments(ctx) else {
        return Ok(DataFrame::new_infer_height(vec![
            Column::new("account_id".into(), Vec::<String>::new()),
            Column::new("reply_p50_hours".into(), Vec::<f64>::new()),
            Column::new("reply_p90_hours".into(), Vec::<f64>::new()),
            Column::new("replied_on_time".into(), Vec::<i64>::new()),
        ])?
        .lazy());
    };
    let timed = timed.collect()?;
    let keys = ctx.account_keys()?;
    let mut cursor = keys.cursor();
    let sla = crate::interaction::sla_ms(ctx);
    let rows = timed
        .column("account_id")?
        .str()?
        .iter()
        .zip(timed.column("reply_ms")?.i64()?.iter())
        .zip(timed.column("latency_ms")?.i64()?.iter());
    // The answered comments' (account key, latency), grouped by key (the store keeps an
    // account's comments together: usually they are already).
    let mut answered: Vec<(u32, Option<i64>)> = Vec::new();
    for ((account, reply), latency) in rows {
        if let (Some(key), Some(_)) = (account.and_then(|a| cursor.find(a)), reply) {
            answered.push((key, latency));
        }
    }
    if !answered.is_sorted_by_key(|&(key, _)| key) {
        answered.sort_by_key(|&(key, _)| key);
    }
    let (mut accounts, mut p50, mut p90, mut on_time) = (vec![], vec![], vec![], vec![]);
    let (mut latencies, mut known) = (Vec::<i64>::new(), Vec::<f64>::new());
    for run in answered.chunk_by(|a, b| a.0 == b.0) {
        latencies.clear();
        latencies.extend(run.iter().filter_map(|&(_, l)| l));
        latencies.sort_unstable();
        // In milliseconds as the plan's cast to floats gives them, in the same order.
        known.clear();
        known.extend(latencies.iter().map(|&l| l as f64));
        accounts.push(run[0].0);
        p50.push(linear_quantile(&known, run.len() - known.len(), 0.5));
        p90.push(linear_quantile(&known, run.len() - known.len(), 0.9));
        on_time.push(latencies.iter().filter(|&&l| l <= sla).count() as i64);
    }
    let hours = |name: &str| {
        (col(name) / lit(3_600_000.0))
            .round(1, RoundMode::HalfToEven)
            .alias(name)
    };
    Ok(DataFrame::new_infer_height(vec![
        keys.id_column("account_id", &accounts),
        Column::new("reply_p50_hours".into(), p50),
        Column::new("reply_p90_hours".into(), p90),
        Column::new("replied_on_time".into(), on_time),
    ])?
    .lazy()
    .with_columns([hours("reply_p50_hours"), hours("reply_p90_hours")]))
}

/// The `q` quantile of `sorted` values, with `unknown` values missing, as Polars' linear
/// quantile gives it (`Expr::quantile` with `QuantileMethod::Linear` in a group-by): its
/// arithmetic step by step, so the measurements stay the same to the last bit. `None` when no
/// value is known.
fn linear_quantile(sorted: &[f64], unknown: usize, q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // Polars sorts the missing values first and offsets the position by their count.
    let length = sorted.len() + unknown;
    let position = (sorted.len() as f64 - 1.0) * q + unknown as f64;
    let below = (position as usize).clamp(0, length - 1);
    let above = position.ceil() as usize;
    let lower = sorted[below - unknown];
    if below == above {
        return Some(lower);
    }
    let upper = sorted[below + 1 - unknown];
    if lower == upper {
        return Some(lower);
    }
    Some((position - below as f64) * (upper - lower) + lower)
}

/// The menu entries per account.
fn menu_part(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let key = || [col("account_id")];
    Ok(crate::service::latest_menus(ctx)?.group_by(key()).agg([
        len().cast(DataType::Int64).alias("menu_entries"),
        col("is_service")
            .sum()
            .cast(DataType::Int64)
            .alias("menu_service_entries"),
        col("is_query")
            .sum()
            .cast(DataType::Int64)
            .alias("menu_query_entries"),
    ]))
}

/// The category columns of the measurements.
pub const CATEGORY_COLUMNS: [(&str, &str); 6] = [
    ("政策文件", "posts_policy_document"),
    ("政策解读", "posts_interpretation"),
    ("回应关切", "posts_response"),
    ("征集调查", "posts_consultation"),
    ("结果反馈", "posts_feedback"),
    ("动态", "posts_news"),
];

/// The update cadence per account: `account_id, platform, account_name, org_id, window_from,
/// as_of, updates, periods_judged, periods_compliant, longest_gap_days, last_update,
/// days_since_update`.
pub fn cadence(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let facts = ctx.post_facts()?;
    let counts =
        crate::facts::updates::cadence_counts(&facts.keys, &facts.posts, &ctx.cadence_settings())?;
    Ok(left_join_on(windows(ctx)?, counts.lazy(), &["account_id"])
        .select([
            col("account_id"),
            col("platform"),
            col("account_name"),
            col("org_id"),
            day_date(col("from_day")).alias("window_from"),
            day_date(col("as_of_day")).alias("as_of"),
            col("updates").fill_null(lit(0i64)),
            col("periods_judged").fill_null(lit(0i64)),
            col("periods_compliant").fill_null(lit(0i64)),
            // The longest stretch without an update, counting the one running at as_of.
            polars::lazy::dsl::max_horizontal([
                col("max_gap"),
                col("as_of_day") - coalesce(&[col("last_day"), col("from_day")]),
            ])?
            .alias("longest_gap_days"),
            day_date(col("last_day")).alias("last_update"),
            col("days_since").alias("days_since_update"),
        ])
        .sort(["account_id"], SortMultipleOptions::default()))
}

/// Updates per account and ISO week over each account's window: `account_id, week_start,
/// updates, judged` (`judged` is false for the partial weeks at the edges), plus
/// `min_per_week`, the cadence threshold expressed per week for the chart.
pub fn weekly_updates(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let facts = ctx.post_facts()?;
    Ok(crate::facts::updates::weekly(&facts.keys, &facts.posts, &ctx.cadence_settings())?.lazy())
}

/// Upper bounds (working hours) of the reply-latency buckets; the last bucket is open.
pub const LATENCY_BUCKET_HOURS: [f64; 5] = [4.0, 24.0, 48.0, 72.0, 120.0];

/// Replies per account and latency bucket (working hours, [`LATENCY_BUCKET_HOURS`]):
/// `account_id, bucket (0 = under 4 h … 5 = 120 h and more), replies`. Empty when the calendar
/// cannot time the window (the INT rules say why).
pub fn reply_latency_buckets(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let Ok(timed) = crate::interaction::timed_comments(ctx) else {
        return Ok(DataFrame::new_infer_height(vec![
            Column::new("account_id".into(), Vec::<String>::new()),
            Column::new("bucket".into(), Vec::<i64>::new()),
            Column::new("replies".into(), Vec::<i64>::new()),
        ])?
        .lazy());
    };
    let hours = col("latency_ms").cast(DataType::Float64) / lit(3_600_000.0);
    // Nested from the open last bucket down: the first bound the latency is under wins.
    let mut bucket = lit(LATENCY_BUCKET_HOURS.len() as i64);
    for (i, bound) in LATENCY_BUCKET_HOURS.iter().enumerate().rev() {
        bucket = when(hours.clone().lt(lit(*bound)))
            .then(lit(i as i64))
            .otherwise(bucket);
    }
    let bucket = bucket.alias("bucket");
    Ok(timed
        .filter(col("reply_ms").is_not_null())
        .select([col("account_id"), bucket])
        .group_by([col("account_id"), col("bucket")])
        .agg([len().cast(DataType::Int64).alias("replies")])
        .sort(["account_id", "bucket"], SortMultipleOptions::default()))
}

/// The engagement counters summed per month.
pub const MONTHLY_COUNTERS: [(&str, &str); 6] = [
    ("read_count", "reads"),
    ("like_count", "likes"),
    ("watch_count", "watches"),
    ("share_count", "shares"),
    ("comment_count", "comments"),
    ("repost_count", "reposts"),
];

/// Per account and month of the window (Beijing time): `account_id, month (YYYY-MM), posts`,
/// one column per category of [`CATEGORY_COLUMNS`] (`posts_news` = the rest), and the
/// engagement sums of [`MONTHLY_COUNTERS`]. Deleted posts are left out.
pub fn monthly(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let facts = ctx.post_facts()?;
    let (keys, posts) = (&facts.keys, &facts.posts);
    let labelled = labelled_per_month(ctx, keys)?;
    let mut account = Vec::new();
    let mut month: Vec<&str> = Vec::new();
    let mut counts = Vec::new();
    let mut sums: Vec<Vec<i64>> = vec![Vec::new(); MONTHLY_COUNTERS.len()];
    let mut per_category: Vec<Vec<i64>> = vec![Vec::new(); LABELLED.len()];
    let mut news = Vec::new();
    for (key, f) in posts.accounts.iter().enumerate() {
        for (m, s) in f.months.iter().enumerate() {
            let Some(s) = s else { continue };
            account.push(key as u32);
            month.push(&posts.months[m]);
            counts.push(s.posts);
            for (all, v) in sums.iter_mut().zip(s.counters) {
                all.push(v);
            }
            let of_month = labelled
                .get(&(key as u32, m as u16))
                .copied()
                .unwrap_or_default();
            for (all, n) in per_category.iter_mut().zip(of_month) {
                all.push(n);
            }
            news.push(s.posts - of_month.iter().sum::<i64>());
        }
    }
    // Rows in key order (the accounts sorted by id), months in order: sorted by account and month.
    let mut columns = vec![
        keys.id_column("account_id", &account),
        Column::new("month".into(), month),
        Column::new("posts".into(), counts),
    ];
    columns.extend(
        MONTHLY_COUNTERS
            .iter()
            .zip(sums)
            .map(|((_, name), values)| Column::new((*name).into(), values)),
    );
    columns.extend(
        LABELLED
            .iter()
            .zip(per_category)
            .map(|((_, name), values)| Column::new((*name).into(), values)),
    );
    columns.push(Column::new("posts_news".into(), news));
    Ok(DataFrame::new_infer_height(columns)?.lazy())
}

/// The categories of [`CATEGORY_COLUMNS`] other than `动态` (its last), which the monthly table
/// counts (`posts_news` is the rest of the month's posts).
const LABELLED: &[(&str, &str)] = match CATEGORY_COLUMNS.split_last() {
    Some(((_, news), labelled)) if matches!(news.as_bytes(), b"posts_news") => labelled,
    _ => panic!("动态 (posts_news) is the last category column"),
};

/// The unit's labelled posts counted per (account key, month of the window) and category of
/// [`LABELLED`]: one pass over the scan's category rows (the labelled posts, millions
/// nationally), whose accounts come in runs, instead of a join of every row with the window's
/// days and a group-by on the account's id and the month's text. A row outside the audit window,
/// of an account not audited, or of a category not counted is not counted.
fn labelled_per_month(
    ctx: &AuditContext,
    keys: &crate::facts::AccountKeys,
) -> PolarsResult<PlHashMap<(u32, u16), [i64; LABELLED.len()]>> {
    let (month_of_day, _) = crate::facts::posts::month_table(ctx.from_day, ctx.as_of_day);
    let scan = ctx.post_scan()?;
    let rows = &scan.categories;
    let mut counts: PlHashMap<(u32, u16), [i64; LABELLED.len()]> = PlHashMap::default();
    if rows.height() == 0 {
        return Ok(counts);
    }
    let ids = rows.column("account_id")?.str()?;
    let days = rows.column("day")?.cast(&DataType::Int64)?;
    let days = days.i64()?;
    let categories = rows.column("category")?.str()?;
    let mut cursor = keys.cursor();
    for ((id, day), category) in ids.iter().zip(days.iter()).zip(categories.iter()) {
        let (Some(id), Some(day), Some(category)) = (id, day, category) else {
            continue;
        };
        let Some(c) = LABELLED.iter().position(|(label, _)| *label == category) else {
            continue;
        };
        let Some(&m) = usize::try_from(day - ctx.from_day)
            .ok()
            .and_then(|d| month_of_day.get(d))
        else {
            continue;
        };
        let Some(key) = cursor.find(id) else { continue };
        counts.entry((key, m)).or_default()[c] += 1;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::linear_quantile;

    /// The quantiles equal Polars' own group-by quantiles bit for bit: groups of one to many
    /// values, ties, missing values (alone, or among known ones) and the quantiles the
    /// measurements use with others whose positions fall between values.
    #[test]
    fn linear_quantiles_are_polars_quantiles_to_the_bit() {
        // Latencies in milliseconds, some missing.
        let mut next = crate::testing::numbers(0x2545_F491_4F6C_DD1D);
        let (mut groups, mut values) = (Vec::new(), Vec::new());
        for group in 0..400i64 {
            let size = 1 + next() % 23;
            for _ in 0..size {
                groups.push(group);
                values.push(match next() % 10 {
                    0 if group % 3 == 0 => None,
                    1 => Some(3_600_000.0),
                    _ => Some((next() % 40_000_000) as f64 + 0.5 * (group % 2) as f64),
                });
            }
        }
        let quantiles = [0.5, 0.9, 0.25, 1.0 / 3.0, 0.0, 1.0];
        let polars = df!("group" => &groups, "value" => &values)
            .unwrap()
            .lazy()
            .group_by([col("group")])
            .agg(
                quantiles
                    .iter()
                    .enumerate()
                    .map(|(i, &q)| {
                        col("value")
                            .quantile(lit(q), QuantileMethod::Linear)
                            .alias(format!("q{i}"))
                    })
                    .collect::<Vec<_>>(),
            )
            .sort(["group"], SortMultipleOptions::default())
            .collect()
            .unwrap();
        for (row, group) in (0..400i64).enumerate() {
            let mut known: Vec<f64> = groups
                .iter()
                .zip(&values)
                .filter(|(g, _)| **g == group)
                .filter_map(|(_, v)| *v)
                .collect();
            let unknown = groups.iter().filter(|g| **g == group).count() - known.len();
            known.sort_by(f64::total_cmp);
            for (i, &q) in quantiles.iter().enumerate() {
                let expected = polars
                    .column(&format!("q{i}"))
                    .unwrap()
                    .f64()
                    .unwrap()
                    .get(row);
                let ours = linear_quantile(&known, unknown, q);
                assert_eq!(
                    ours.map(f64::to_bits),
                    expected.map(f64::to_bits),
                    "group {group}, quantile {q}: {ours:?} against {expected:?}"
                );
            }
        }
    }
}

#[cfg(test)]
mod monthly_tests {
    use super::*;
    use crate::testing::Fixture;
    use govmedia_collectors::schema::POSTS;

    /// The monthly table as it was made before [`monthly`] counted the labelled posts itself: a
    /// join of every labelled post with the window's days and a group-by on the account and month.
    fn monthly_by_join(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let facts = ctx.post_facts()?;
        let (keys, posts) = (&facts.keys, &facts.posts);
        let mut account = Vec::new();
        let mut month: Vec<&str> = Vec::new();
        let mut counts = Vec::new();
        let mut sums: Vec<Vec<i64>> = vec![Vec::new(); MONTHLY_COUNTERS.len()];
        for (key, f) in posts.accounts.iter().enumerate() {
            for (m, s) in f.months.iter().enumerate() {
                let Some(s) = s else { continue };
                account.push(key as u32);
                month.push(&posts.months[m]);
                counts.push(s.posts);
                for (all, v) in sums.iter_mut().zip(s.counters) {
                    all.push(v);
                }
            }
        }
        let mut columns = vec![
            keys.id_column("account_id", &account),
            Column::new("month".into(), month),
            Column::new("posts".into(), counts),
        ];
        columns.extend(
            MONTHLY_COUNTERS
                .iter()
                .zip(sums)
                .map(|((_, name), values)| Column::new((*name).into(), values)),
        );
        let per_month = DataFrame::new_infer_height(columns)?.lazy();
        // The labelled posts per month: a small table (most posts are 动态).
        let (month_of_day, _) = crate::facts::posts::month_table(ctx.from_day, ctx.as_of_day);
        let months = DataFrame::new_infer_height(vec![
            Column::new(
                "day".into(),
                (ctx.from_day..=ctx.as_of_day).collect::<Vec<i64>>(),
            ),
            Column::new(
                "month".into(),
                month_of_day
                    .iter()
                    .map(|&m| posts.months[m as usize].as_str())
                    .collect::<Vec<&str>>(),
            ),
        ])?
        .lazy();
        let labelled: Vec<Expr> = CATEGORY_COLUMNS
            .iter()
            .filter(|(label, _)| *label != "动态")
            .map(|(label, name)| {
                col("category")
                    .eq(lit(*label))
                    .sum()
                    .cast(DataType::Int64)
                    .alias(*name)
            })
            .collect();
        let categories = ctx
            .post_scan()?
            .categories
            .clone()
            .lazy()
            .select([col("account_id"), col("day"), col("category")])
            .join(
                months,
                [col("day")],
                [col("day")],
                JoinArgs::new(JoinType::Inner),
            )
            .group_by([col("account_id"), col("month")])
            .agg(labelled);
        let labelled_names: Vec<&str> = CATEGORY_COLUMNS
            .iter()
            .filter(|(label, _)| *label != "动态")
            .map(|(_, name)| *name)
            .collect();
        let fill: Vec<Expr> = labelled_names
            .iter()
            .map(|n| col(*n).fill_null(lit(0i64)))
            .collect();
        let news = labelled_names
            .iter()
            .fold(col("posts"), |acc, n| acc - col(*n))
            .alias("posts_news");
        Ok(
            left_join_on(per_month, categories, &["account_id", "month"])
                .with_columns(fill)
                .with_column(news)
                .sort(["account_id", "month"], SortMultipleOptions::default()),
        )
    }

    #[test]
    fn the_monthly_table_counts_labelled_posts_as_the_join_did() {
        let ctx = Fixture::at("2025-11-30")
            .from(Some("2025-09-01"))
            .jsonl(
                &POSTS,
                r#"
{"account_id":"wechat:a","post_id":"1","published_at":"2025-09-03T10:00:00+08:00","title":"关于印发《城市更新行动方案》的通知","text":"现印发给你们，请认真贯彻执行。","read_count":10}
{"account_id":"wechat:a","post_id":"2","published_at":"2025-09-30T23:30:00+08:00","title":"一图读懂《城市更新行动方案》","text":"政策解读：方案出台的背景和主要内容。","like_count":3}
{"account_id":"wechat:a","post_id":"3","published_at":"2025-10-01T00:10:00+08:00","title":"今日天气","text":"多云转晴。"}
{"account_id":"wechat:a","post_id":"4","published_at":"2025-08-20T10:00:00+08:00","title":"关于印发《旧方案》的通知","text":"现印发给你们。"}
{"account_id":"wechat:a","post_id":"5","published_at":"2025-11-02T10:00:00+08:00","title":"关于征集意见的公告","text":"现公开征求意见，欢迎提出意见建议。","is_deleted":true}
{"account_id":"weibo:b","post_id":"1","published_at":"2025-11-10T10:00:00+08:00","title":"回应网民关切","text":"针对网民反映的问题，现答复如下。"}
{"account_id":"weibo:b","post_id":"2","published_at":"2025-11-30T12:00:00+08:00","title":"关于印发《管理办法》的通知","text":"现印发给你们。","share_count":4}
"#,
            )
            .context();
        let labelled = ctx.post_scan().unwrap().categories.height();
        assert!(labelled >= 3, "the fixture labels posts: {labelled}");
        let sort = |lf: LazyFrame| {
            lf.sort(["account_id", "month"], SortMultipleOptions::default())
                .collect()
                .unwrap()
        };
        let (now, before) = (
            sort(monthly(&ctx).unwrap()),
            sort(monthly_by_join(&ctx).unwrap()),
        );
        assert!(now.height() >= 3, "{now}");
        assert!(
            now.equals_missing(&before),
            "now:\n{now}\nbefore:\n{before}"
        );
        assert_eq!(now.schema(), before.schema());
        let (ids, months) = (texts_of(&now, "account_id"), texts_of(&now, "month"));
        let mut order: Vec<(&str, &str)> =
            ids.iter().copied().zip(months.iter().copied()).collect();
        let unsorted = order.clone();
        order.sort();
        assert_eq!(
            order, unsorted,
            "rows in account and month order without a sort"
        );
    }

    fn texts_of<'a>(df: &'a DataFrame, name: &str) -> Vec<&'a str> {
        df.column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect()
    }
}
