//! UPD002 ahead of time: days left before the "no update in two weeks" veto.
//!
//! The veto falls on the day `last update + 14 days` (UPD002.days): an account that last
//! posted on 16 November is vetoed from 30 November on, so it must post by the end of
//! 29 November. Warns when that day is at most `days` days away (default 3), critical on the
//! last day; an account already past it, or with no update on record, is critical at once.

use super::{Facts, Level, Warning, WatchOptions, day_level, day_start_ms, day_text};
use crate::Error;
use crate::context::{AuditContext, Lang};
use crate::update::no_update_in_two_weeks;

pub(super) fn warnings(
    ctx: &AuditContext,
    opts: &WatchOptions,
    facts: &Facts,
) -> Result<Vec<Warning>, Error> {
    let veto_days = ctx.int_param(&no_update_in_two_weeks::DAYS);
    let today = opts.today();
    let mut out = Vec::new();
    for account in &facts.accounts {
        let account_id = account.account_id.clone();
        let Some((last_day, url)) = facts.last_updates.get(&account_id) else {
            let (message, evidence) = match ctx.lang {
                Lang::Zh => (
                    format!(
                        "未发现任何更新记录，已触发“{veto_days}天内无更新”单项否决，请立即发布信息"
                    ),
                    "no update on record".to_string(),
                ),
                Lang::En => (
                    format!(
                        "No update on record: the {veto_days}-day no-update veto applies now; publish today"
                    ),
                    "no update on record".to_string(),
                ),
            };
            out.push(Warning {
                code: "UPD002",
                level: Level::Critical,
                account_id,
                item_id: None,
                deadline_ms: None,
                message,
                evidence,
            });
            continue;
        };
        let veto_day = last_day + veto_days;
        let days_left = veto_day - today;
        if days_left > opts.days {
            continue;
        }
        let last_text = day_text(*last_day);
        let message = match (ctx.lang, days_left <= 0) {
            (Lang::Zh, true) => format!(
                "已连续{}天未更新（最后一次更新{last_text}），已触发“{veto_days}天内无更新”单项否决，请立即发布信息",
                today - last_day
            ),
            (Lang::Zh, false) => format!(
                "距“{veto_days}天内无更新”单项否决还剩{days_left}天：最后一次更新{last_text}，须在{}结束前发布",
                day_text(veto_day - 1)
            ),
            (Lang::En, true) => format!(
                "No update for {} days (last {last_text}): the {veto_days}-day no-update veto applies now; publish today",
                today - last_day
            ),
            (Lang::En, false) => format!(
                "{days_left} day(s) left before the {veto_days}-day no-update veto: last update {last_text}; publish by the end of {}",
                day_text(veto_day - 1)
            ),
        };
        let evidence = match url {
            Some(u) => format!("last update {last_text}: {u}"),
            None => format!("last update {last_text}"),
        };
        out.push(Warning {
            code: "UPD002",
            level: day_level(days_left),
            account_id,
            item_id: None,
            deadline_ms: Some(day_start_ms(veto_day)),
            message,
            evidence,
        });
    }
    Ok(out)
}
