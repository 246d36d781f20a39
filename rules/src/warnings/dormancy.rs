//! UPD003 ahead of time: accounts approaching the 180-day dormancy mark (僵尸账号).
//!
//! The mark falls on `last update + 180 days` (UPD003.days). Warns `dormant_days` days ahead
//! (default 30), critical within a day or once reached. Accounts with no update on record are
//! left to the UPD002 warning, which already says so.

use super::{Facts, Warning, WatchOptions, day_level, day_start_ms, day_text};
use crate::Error;
use crate::context::{AuditContext, Lang};
use crate::update::dormant_account;

pub(super) fn warnings(
    ctx: &AuditContext,
    opts: &WatchOptions,
    facts: &Facts,
) -> Result<Vec<Warning>, Error> {
    let dormant_days = ctx.int_param(&dormant_account::DAYS);
    let today = opts.today();
    let mut out = Vec::new();
    for account in &facts.accounts {
        let account_id = account.account_id.clone();
        let Some((last_day, url)) = facts.last_updates.get(&account_id) else {
            continue;
        };
        let mark = last_day + dormant_days;
        let days_left = mark - today;
        if days_left > opts.dormant_days {
            continue;
        }
        let last_text = day_text(*last_day);
        let message = match (ctx.lang, days_left <= 0) {
            (Lang::Zh, true) => format!(
                "已{}天未更新，达到{dormant_days}天“僵尸账号”标准：请恢复更新或按程序关停整合",
                today - last_day
            ),
            (Lang::Zh, false) => format!(
                "还有{days_left}天将满{dormant_days}天未更新（“僵尸账号”）：最后一次更新{last_text}"
            ),
            (Lang::En, true) => format!(
                "No update for {} days: dormant ({dormant_days}-day mark); resume updates or close the account formally",
                today - last_day
            ),
            (Lang::En, false) => format!(
                "{days_left} day(s) before the {dormant_days}-day dormancy mark: last update {last_text}"
            ),
        };
        let evidence = match url {
            Some(u) => format!("last update {last_text}: {u}"),
            None => format!("last update {last_text}"),
        };
        out.push(Warning {
            code: "UPD003",
            level: day_level(days_left),
            account_id,
            item_id: None,
            deadline_ms: Some(day_start_ms(mark)),
            message,
            evidence,
        });
    }
    Ok(out)
}
