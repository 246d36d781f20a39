//! INT002 ahead of time: comments without a reply whose deadline (3 working days from the
//! comment, INT.sla_working_days, on the official holiday and 调休 calendar) falls within the
//! next `reply_hours` working hours, and those already past it, oldest first.
//!
//! Critical when at most 8 working hours are left or the deadline has passed. A reply given
//! after the deadline still counts as late (INT001, except on Weibo); unanswered at the next
//! audit it is INT002, which is the code of the warning.

use govmedia_collectors::time::{DAY_MS, days_to_date};
use polars::prelude::*;

use super::{Level, Warning, WatchOptions, instant_text};
use crate::Error;
use crate::context::{AuditContext, Lang};
use crate::exprs::local_day;
use crate::interaction::sla_ms;

/// Working hours left at which a reply warning becomes critical.
const CRITICAL_WORKING_HOURS: i64 = 8;
const HOUR_MS: i64 = 3_600_000;

pub(super) fn warnings(ctx: &AuditContext, opts: &WatchOptions) -> Result<Vec<Warning>, Error> {
    let windows = ctx
        .accounts()?
        .clone()
        .lazy()
        .select([col("account_id"), col("from_day")]);
    let open = ctx
        .tables
        .comments
        .clone()
        .select([
            col("account_id"),
            col("post_id"),
            col("comment_id"),
            col("created_at").cast(DataType::Int64).alias("created_ms"),
            col("reply_at").cast(DataType::Int64).alias("reply_ms"),
        ])
        .filter(
            col("created_ms").lt(lit(opts.at_ms)).and(
                col("reply_ms")
                    .is_null()
                    .or(col("reply_ms").gt_eq(lit(opts.at_ms))),
            ),
        )
        .join(
            windows,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(local_day(col("created_ms")).gt_eq(col("from_day")))
        .collect()?;
    if open.height() == 0 {
        return Ok(Vec::new());
    }
    let sla = sla_ms(ctx);
    let first_day = open
        .column("from_day")?
        .cast(&DataType::Int64)?
        .i64()?
        .min()
        .unwrap_or(ctx.from_day);
    // Deadlines reach a few weeks past the time point at most (a long holiday); the clock
    // stops at the calendar's last day, and a deadline beyond it is an error naming the day.
    let last_calendar_day =
        chrono::NaiveDate::from_ymd_opt(ctx.calendar.years().1, 12, 31).expect("a valid year");
    let until =
        (days_to_date(opts.today() as i32) + chrono::Duration::days(45)).min(last_calendar_day);
    let clock = ctx.calendar.clock(days_to_date(first_day as i32), until)?;
    let horizon = opts.reply_hours * HOUR_MS;
    let (accounts, posts, comments) = (
        open.column("account_id")?.str()?,
        open.column("post_id")?.str()?,
        open.column("comment_id")?.str()?,
    );
    let created = open.column("created_ms")?.i64()?;
    let mut out = Vec::new();
    for i in 0..open.height() {
        let (Some(account_id), Some(comment_id), Some(created_ms)) =
            (accounts.get(i), comments.get(i), created.get(i))
        else {
            continue;
        };
        let deadline = clock.deadline(created_ms, sla)?;
        let left = clock.between(opts.at_ms, deadline)?;
        if left > horizon {
            continue;
        }
        let hours = format!("{:.1}", left as f64 / HOUR_MS as f64);
        let sla_days = sla / DAY_MS;
        let message = match (ctx.lang, left <= 0) {
            (Lang::Zh, true) => format!("留言已超过{sla_days}个工作日未回复，请尽快回复"),
            (Lang::Zh, false) => {
                format!("留言尚未回复，距{sla_days}个工作日回复时限还剩{hours}个工作小时")
            }
            (Lang::En, true) => {
                format!("Comment unanswered past its {sla_days}-working-day deadline; reply now")
            }
            (Lang::En, false) => format!(
                "Comment unanswered: {hours} working hours left before its {sla_days}-working-day deadline"
            ),
        };
        out.push(Warning {
            code: "INT002",
            level: if left <= CRITICAL_WORKING_HOURS * HOUR_MS {
                Level::Critical
            } else {
                Level::Warn
            },
            account_id: account_id.to_string(),
            item_id: Some(comment_id.to_string()),
            deadline_ms: Some(deadline),
            message,
            evidence: format!(
                "comment {comment_id} on post {} at {}; deadline {} ({sla_days} working days)",
                posts.get(i).unwrap_or("?"),
                instant_text(created_ms),
                instant_text(deadline)
            ),
        });
    }
    Ok(out)
}
