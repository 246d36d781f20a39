//! Early warnings (`govmedia watch`): what is **about to** become a finding, each with its
//! deadline and evidence, so an agency hears on Tuesday what the inspectors would find next week.
//!
//! One file per warning, named after what it watches; each reads the same facts as the rule it
//! anticipates (the updates, the comments, the link checks) at the watch's time point:
//!
//! | code   | file                  | warns when                                                  |
//! |--------|-----------------------|-------------------------------------------------------------|
//! | UPD002 | `silence_deadline`    | the 14-day no-update veto is ≤ `days` days away (or reached) |
//! | UPD001 | `period_short`        | the current week (service accounts: two-week period) is short and ends in ≤ `days` days |
//! | INT002 | `reply_deadline`      | an unanswered comment's 3-working-day deadline is ≤ `reply_hours` working hours away (or passed) |
//! | SVC003 | `failing_link`        | a menu link failed its last check (one more failure is a finding) |
//! | UPD003 | `dormancy`            | the 180-day dormancy mark is ≤ `dormant_days` days away (or reached) |

mod dormancy;
mod failing_link;
mod period_short;
mod reply_deadline;
mod silence_deadline;

use std::collections::HashMap;

use govmedia_collectors::time::{DAY_MS, SHANGHAI_OFFSET_MS};
use polars::prelude::*;

use crate::Error;
use crate::context::AuditContext;
use crate::findings::tag_utc;

/// How urgent a warning is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Needs action today: the deadline is at most a day (replies: 8 working hours) away, or
    /// already passed.
    Critical,
    /// Within the watch horizon.
    Warn,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Warn => "warn",
        }
    }
}

/// The watch's time point and horizons.
#[derive(Debug, Clone, Copy)]
pub struct WatchOptions {
    /// The time point (UTC milliseconds); its Beijing date is the audit's as_of.
    pub at_ms: i64,
    /// Warn this many days ahead of an update deadline (UPD001, UPD002); default 3.
    pub days: i64,
    /// Warn this many days ahead of the dormancy mark (UPD003); default 30.
    pub dormant_days: i64,
    /// Warn this many working hours ahead of a reply deadline (INT002); default 24.
    pub reply_hours: i64,
}

impl WatchOptions {
    pub fn at(at_ms: i64) -> WatchOptions {
        WatchOptions {
            at_ms,
            days: 3,
            dormant_days: 30,
            reply_hours: 24,
        }
    }

    /// The Beijing day number of the time point.
    pub fn today(&self) -> i64 {
        (self.at_ms + SHANGHAI_OFFSET_MS).div_euclid(DAY_MS)
    }
}

/// One warning, before the account's platform and name are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// The rule the warning anticipates.
    pub code: &'static str,
    pub level: Level,
    pub account_id: String,
    /// The comment, menu entry or period concerned (as in the rule's findings).
    pub item_id: Option<String>,
    /// When it becomes a finding (UTC milliseconds); `None` when it has no clock (a link that
    /// fails on the next check, an account with no update on record).
    pub deadline_ms: Option<i64>,
    pub message: String,
    pub evidence: String,
}

/// The columns of `warnings.csv` / `warnings.json`, in order (documented in docs/output.md).
pub const WARNING_COLUMNS: [&str; 10] = [
    "code",
    "level",
    "platform",
    "account_id",
    "account_name",
    "deadline",
    "hours_left",
    "item_id",
    "message",
    "evidence",
];

/// Every warning at the time point, most urgent first: critical before warn; within a level
/// the deadlines still ahead (soonest first), then those passed (oldest first), then those
/// without a clock; then account, code and item.
pub fn watch(ctx: &AuditContext, opts: &WatchOptions) -> Result<Vec<Warning>, Error> {
    let facts = Facts {
        accounts: audited_accounts(ctx)?,
        last_updates: last_updates(ctx, opts)?,
    };
    let mut warnings = Vec::new();
    warnings.extend(silence_deadline::warnings(ctx, opts, &facts)?);
    warnings.extend(period_short::warnings(ctx, opts, &facts)?);
    warnings.extend(reply_deadline::warnings(ctx, opts)?);
    warnings.extend(failing_link::warnings(ctx, opts)?);
    warnings.extend(dormancy::warnings(ctx, opts, &facts)?);
    // What can still be prevented first (soonest deadline first), then what has already
    // happened (oldest first), then what has no clock.
    let at = opts.at_ms;
    warnings.sort_by_cached_key(|w| {
        (
            w.level,
            w.deadline_ms.is_none_or(|d| d <= at),
            w.deadline_ms.is_none(),
            w.deadline_ms.unwrap_or(0),
            w.account_id.clone(),
            w.code,
            w.item_id.clone(),
        )
    });
    Ok(warnings)
}

/// The warnings as the `warnings` table ([`WARNING_COLUMNS`]): platform and name from the
/// audited accounts, `hours_left` in clock hours (one decimal; negative once passed).
pub fn warnings_frame(
    ctx: &AuditContext,
    opts: &WatchOptions,
    warnings: &[Warning],
) -> Result<DataFrame, Error> {
    let names = account_names(ctx)?;
    let platform = |w: &Warning| names.get(&w.account_id).map(|(p, _)| p.clone());
    let name = |w: &Warning| names.get(&w.account_id).map(|(_, n)| n.clone());
    let hours_left = |w: &Warning| {
        w.deadline_ms
            .map(|d| ((d - opts.at_ms) as f64 / 360_000.0).round() / 10.0)
    };
    macro_rules! column {
        ($name:literal, $f:expr) => {
            Column::new($name.into(), warnings.iter().map($f).collect::<Vec<_>>())
        };
    }
    let mut df = DataFrame::new_infer_height(vec![
        column!("code", |w| w.code),
        column!("level", |w| w.level.as_str()),
        column!("platform", platform),
        column!("account_id", |w| w.account_id.as_str()),
        column!("account_name", name),
        column!("deadline", |w| w.deadline_ms),
        column!("hours_left", hours_left),
        column!("item_id", |w| w.item_id.as_deref()),
        column!("message", |w| w.message.as_str()),
        column!("evidence", |w| w.evidence.as_str()),
    ])?;
    tag_utc(&mut df, "deadline")?;
    Ok(df)
}

/// account_id → (platform, account name) of every audited account.
fn account_names(ctx: &AuditContext) -> Result<HashMap<String, (String, String)>, Error> {
    let accounts = ctx.accounts()?;
    let ids = accounts.column("account_id")?.str()?;
    let platforms = accounts.column("platform")?.str()?;
    let names = accounts.column("account_name")?.str()?;
    Ok(ids
        .iter()
        .zip(platforms.iter())
        .zip(names.iter())
        .filter_map(|((id, p), n)| {
            Some((
                id?.to_string(),
                (p.unwrap_or("").to_string(), n.unwrap_or("").to_string()),
            ))
        })
        .collect())
}

/// Midnight (Beijing) at the start of a day number, as UTC milliseconds.
fn day_start_ms(day: i64) -> i64 {
    day * DAY_MS - SHANGHAI_OFFSET_MS
}

/// A day number as `YYYY-MM-DD`.
fn day_text(day: i64) -> String {
    govmedia_collectors::time::days_to_date(day as i32).to_string()
}

/// An instant as `YYYY-MM-DD HH:MM` Beijing time.
fn instant_text(ms: i64) -> String {
    let day = (ms + SHANGHAI_OFFSET_MS).div_euclid(DAY_MS);
    let minutes = (ms + SHANGHAI_OFFSET_MS).rem_euclid(DAY_MS) / 60_000;
    format!("{} {:02}:{:02}", day_text(day), minutes / 60, minutes % 60)
}

/// The level of a day-based deadline `days_left` days away: critical on its last day or after.
fn day_level(days_left: i64) -> Level {
    if days_left <= 1 {
        Level::Critical
    } else {
        Level::Warn
    }
}

/// Per account: `(last update day, its post's URL)` up to the time point, from the audit's
/// updates (the UPD rules' definition: published, not deleted, a mass-send once).
fn last_updates(
    ctx: &AuditContext,
    opts: &WatchOptions,
) -> Result<HashMap<String, (i64, Option<String>)>, Error> {
    let updates = ctx.updates()?;
    let ids = updates.column("account_id")?.str()?;
    let days = updates.column("day")?.cast(&DataType::Int64)?;
    let days = days.i64()?;
    let at = updates.column("published_at")?.cast(&DataType::Int64)?;
    let at = at.i64()?;
    let posts = updates.column("post_id")?.str()?;
    // (day, published_at, post_id) of the latest update per account.
    let mut last: HashMap<String, (i64, i64, String)> = HashMap::new();
    for i in 0..updates.height() {
        let (Some(id), Some(day), Some(t)) = (ids.get(i), days.get(i), at.get(i)) else {
            continue;
        };
        if t >= opts.at_ms {
            continue;
        }
        let post = posts.get(i).unwrap_or("");
        match last.get_mut(id) {
            Some(best) if (best.1, best.2.as_str()) >= (t, post) => {}
            Some(best) => *best = (day, t, post.to_string()),
            None => {
                last.insert(id.to_string(), (day, t, post.to_string()));
            }
        }
    }
    // The links of those posts only.
    let wanted: HashMap<(String, String), ()> = last
        .iter()
        .map(|(id, (_, _, post))| ((id.clone(), post.clone()), ()))
        .collect();
    let urls = ctx
        .tables
        .posts
        .clone()
        .select([col("account_id"), col("post_id"), col("url")])
        .filter(col("url").is_not_null())
        .collect()?;
    let mut url_of: HashMap<(String, String), String> = HashMap::new();
    let (a, p, u) = (
        urls.column("account_id")?.str()?,
        urls.column("post_id")?.str()?,
        urls.column("url")?.str()?,
    );
    for i in 0..urls.height() {
        if let (Some(a), Some(p), Some(u)) = (a.get(i), p.get(i), u.get(i)) {
            let key = (a.to_string(), p.to_string());
            if wanted.contains_key(&key) {
                url_of.insert(key, u.to_string());
            }
        }
    }
    Ok(last
        .into_iter()
        .map(|(id, (day, _, post))| {
            let url = url_of.remove(&(id.clone(), post));
            (id, (day, url))
        })
        .collect())
}

/// What several warnings read, computed once.
struct Facts {
    accounts: Vec<AuditedAccount>,
    /// Per account: the last update's day and its post's URL, up to the time point.
    last_updates: HashMap<String, (i64, Option<String>)>,
}

struct AuditedAccount {
    account_id: String,
    /// The first day of the account's window.
    from_day: i64,
}

/// The audited accounts.
fn audited_accounts(ctx: &AuditContext) -> Result<Vec<AuditedAccount>, Error> {
    let a = ctx.accounts()?;
    let ids = a.column("account_id")?.str()?;
    let from = a.column("from_day")?.cast(&DataType::Int64)?;
    let from = from.i64()?;
    Ok((0..a.height())
        .filter_map(|i| {
            Some(AuditedAccount {
                account_id: ids.get(i)?.to_string(),
                from_day: from.get(i).unwrap_or(ctx.from_day),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests;
