//! Per-account measurements that scoring and reports read: the update cadence now (periods judged
//! and compliant, longest gap, last update), and weekly update counts for the charts.

use polars::prelude::*;

use crate::context::AuditContext;
use crate::exprs::{day_date, iso_week, left_join_on, local_day, week_monday};
use crate::update::{judged_periods, last_updates, period_weeks};

/// The window of each account with the columns used to join measurements.
fn windows(ctx: &AuditContext) -> LazyFrame {
    ctx.accounts.clone().lazy().select([
        col("account_id"),
        col("platform"),
        col("account_name"),
        col("org_id"),
        col("from_day"),
        col("as_of_day"),
    ])
}
/// One row per account: the cadence columns of [`cadence`], then the content mix
/// (`posts_in_window`, `posts_<category>`), `ad_posts`, `off_topic_posts`, `off_topic_share`,
/// the interaction (`comments`, `replied`, `reply_rate`, `reply_p50_hours`, `reply_p90_hours` in
/// working hours, `replied_on_time` and `on_time_share` within the reply deadline) and the menu (`menu_entries`, `menu_service_entries`, `menu_query_entries`).
pub fn per_account(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let key = || [col("account_id")];
    let scan = ctx.post_scan()?;
    let content = scan.category_counts.clone().lazy();
    let hit_posts = |tag: &str, name: &str| {
        scan.hits
            .clone()
            .lazy()
            .filter(col("tag").eq(lit(tag)))
            .group_by(key())
            .agg([col("post_id").n_unique().cast(DataType::Int64).alias(name)])
    };
    let comments = ctx
        .tables
        .comments
        .clone()
        .join(
            ctx.accounts
                .clone()
                .lazy()
                .select([col("account_id"), col("from_day")]),
            key(),
            key(),
            JoinArgs::new(JoinType::Inner),
        )
        .filter(local_day(col("created_at")).gt_eq(col("from_day")))
        .group_by(key())
        .agg([
            len().cast(DataType::Int64).alias("comments"),
            col("reply_at")
                .is_not_null()
                .sum()
                .cast(DataType::Int64)
                .alias("replied"),
        ]);
    // Latencies need the working-day calendar; outside its years they are left empty rather
    // than failing the whole audit (INT001/INT002 report the calendar error themselves).
    let hours = |q: f64, name: &str| {
        (col("latency_ms")
            .cast(DataType::Float64)
            .quantile(lit(q), QuantileMethod::Linear)
            / lit(3_600_000.0))
        .round(1, RoundMode::HalfToEven)
        .alias(name)
    };
    let latency = match crate::interaction::timed_comments(ctx) {
        Ok(lf) => lf
            .filter(col("reply_ms").is_not_null())
            .group_by(key())
            .agg([
                hours(0.5, "reply_p50_hours"),
                hours(0.9, "reply_p90_hours"),
                col("latency_ms")
                    .lt_eq(lit(crate::interaction::sla_ms(ctx)))
                    .sum()
                    .cast(DataType::Int64)
                    .alias("replied_on_time"),
            ]),
        Err(_) => DataFrame::new_infer_height(vec![
            Column::new("account_id".into(), Vec::<String>::new()),
            Column::new("reply_p50_hours".into(), Vec::<f64>::new()),
            Column::new("reply_p90_hours".into(), Vec::<f64>::new()),
            Column::new("replied_on_time".into(), Vec::<i64>::new()),
        ])?
        .lazy(),
    };
    let menus = crate::service::latest_menus(ctx)?.group_by(key()).agg([
        len().cast(DataType::Int64).alias("menu_entries"),
        col("is_service")
            .sum()
            .cast(DataType::Int64)
            .alias("menu_service_entries"),
        col("is_query")
            .sum()
            .cast(DataType::Int64)
            .alias("menu_query_entries"),
    ]);
    let mut lf = cadence(ctx)?;
    for other in [
        content,
        hit_posts("ad", "ad_posts"),
        hit_posts("off_topic", "off_topic_posts"),
        comments,
        latency,
        menus,
    ] {
        lf = left_join_on(lf, other, &["account_id"]);
    }
    let zero = |name: &str| col(name).fill_null(lit(0i64));
    let mut counts: Vec<Expr> = [
        "posts_in_window",
        "ad_posts",
        "off_topic_posts",
        "comments",
        "replied",
    ]
    .iter()
    .map(|c| zero(c))
    .collect();
    counts.extend(CATEGORY_COLUMNS.iter().map(|(_, c)| zero(c)));
    Ok(lf
        .with_columns(counts)
        .with_columns([
            when(col("posts_in_window").gt(lit(0i64)))
                .then(
                    (col("off_topic_posts").cast(DataType::Float64)
                        / col("posts_in_window").cast(DataType::Float64))
                    .round(4, RoundMode::HalfToEven),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("off_topic_share"),
            when(col("comments").gt(lit(0i64)))
                .then(
                    (col("replied").cast(DataType::Float64)
                        / col("comments").cast(DataType::Float64))
                    .round(4, RoundMode::HalfToEven),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("reply_rate"),
            // Replies within the reply deadline (INT.sla_working_days), among the replies whose
            // working-time latency the calendar can tell.
            when(
                col("replied_on_time")
                    .is_not_null()
                    .and(col("replied").gt(lit(0i64))),
            )
            .then(
                (col("replied_on_time").cast(DataType::Float64)
                    / col("replied").cast(DataType::Float64))
                .round(4, RoundMode::HalfToEven),
            )
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("on_time_share"),
        ])
        .sort(["account_id"], SortMultipleOptions::default()))
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
    let periods = judged_periods(ctx)?.group_by([col("account_id")]).agg([
        len().cast(DataType::Int64).alias("periods_judged"),
        col("updates")
            .gt_eq(col("min_required"))
            .sum()
            .cast(DataType::Int64)
            .alias("periods_compliant"),
    ]);

    let in_window = ctx
        .updates()?
        .clone()
        .lazy()
        .join(
            windows(ctx),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("day").gt_eq(col("from_day")));
    let counts = in_window
        .clone()
        .group_by([col("account_id")])
        .agg([len().cast(DataType::Int64).alias("updates")]);
    // Gaps between consecutive update days, and from the window's start to the first one.
    let gaps = in_window
        .select([col("account_id"), col("day"), col("from_day")])
        .unique_stable(Some(cols(["account_id", "day"])), UniqueKeepStrategy::First)
        .sort_by_exprs(
            [col("account_id"), col("day")],
            SortMultipleOptions::default(),
        )
        .with_column(
            (col("day") - col("day").shift(lit(1)).over([col("account_id")])?)
                .fill_null(col("day") - col("from_day"))
                .alias("gap"),
        )
        .group_by([col("account_id")])
        .agg([col("gap").max().alias("max_gap")]);

    let last = last_updates(ctx)?.select([col("account_id"), col("last_day"), col("days_since")]);
    let mut lf = windows(ctx);
    for other in [periods, counts, gaps, last] {
        lf = left_join_on(lf, other, &["account_id"]);
    }
    Ok(lf
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
    let first_week = (ctx.from_day + 3).div_euclid(7);
    let last_week = (ctx.as_of_day + 3).div_euclid(7);
    let week_numbers = DataFrame::new_infer_height(vec![Column::new(
        "week".into(),
        (first_week..=last_week).collect::<Vec<i64>>(),
    )])?
    .lazy();
    let counts = ctx
        .updates()?
        .clone()
        .lazy()
        .with_column(iso_week(col("day")).alias("week"))
        .group_by([col("account_id"), col("week")])
        .agg([len().cast(DataType::Int64).alias("updates")]);
    Ok(windows(ctx)
        .cross_join(week_numbers, None)
        .with_column(week_monday(col("week")).alias("monday"))
        // Weeks that overlap the account's window.
        .filter(
            (col("monday") + lit(6i64))
                .gt_eq(col("from_day"))
                .and(col("monday").lt_eq(col("as_of_day"))),
        )
        .join(
            counts,
            [col("account_id"), col("week")],
            [col("account_id"), col("week")],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            col("account_id"),
            day_date(col("monday")).alias("week_start"),
            col("updates").fill_null(lit(0i64)),
            col("monday")
                .gt_eq(col("from_day"))
                .and((col("monday") + lit(6i64)).lt_eq(col("as_of_day")))
                .alias("judged"),
        ])
        .join(
            weekly_threshold(ctx),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            col("account_id"),
            col("week_start"),
            col("updates"),
            col("judged"),
            col("threshold").alias("min_per_week"),
        ])
        .sort(["account_id", "week_start"], SortMultipleOptions::default()))
}

/// The per-week threshold of each account: the required updates spread over its period.
fn weekly_threshold(ctx: &AuditContext) -> LazyFrame {
    ctx.accounts.clone().lazy().select([
        col("account_id"),
        (lit(crate::update::min_required(ctx) as f64) / period_weeks(ctx).cast(DataType::Float64))
            .alias("threshold"),
    ])
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
    // A small day → month table joins the posts to their month without date arithmetic per row.
    let days: Vec<i64> = (ctx.from_day..=ctx.as_of_day).collect();
    let months: Vec<String> = days
        .iter()
        .map(|d| {
            govmedia_collectors::time::days_to_date(*d as i32)
                .format("%Y-%m")
                .to_string()
        })
        .collect();
    let calendar = DataFrame::new_infer_height(vec![
        Column::new("day".into(), days),
        Column::new("month".into(), months),
    ])?
    .lazy();
    let windows = ctx
        .accounts
        .clone()
        .lazy()
        .select([col("account_id"), col("from_day")]);
    let mut aggs = vec![len().cast(DataType::Int64).alias("posts")];
    aggs.extend(
        MONTHLY_COUNTERS
            .iter()
            .map(|(c, name)| col(*c).cast(DataType::Int64).sum().alias(*name)),
    );
    let posts = ctx
        .tables
        .posts
        .clone()
        .filter(col("is_deleted").fill_null(lit(false)).not())
        .with_column(local_day(col("published_at")).alias("day"))
        .join(
            windows,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("day").gt_eq(col("from_day")))
        .join(
            calendar.clone(),
            [col("day")],
            [col("day")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("account_id"), col("month")])
        .agg(aggs);
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
            calendar,
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
    let mut fill: Vec<Expr> = labelled_names
        .iter()
        .map(|n| col(*n).fill_null(lit(0i64)))
        .collect();
    fill.extend(
        MONTHLY_COUNTERS
            .iter()
            .map(|(_, n)| col(*n).fill_null(lit(0i64))),
    );
    let news = labelled_names
        .iter()
        .fold(col("posts"), |acc, n| acc - col(*n))
        .alias("posts_news");
    Ok(left_join_on(posts, categories, &["account_id", "month"])
        .with_columns(fill)
        .with_column(news)
        .sort(["account_id", "month"], SortMultipleOptions::default()))
}
