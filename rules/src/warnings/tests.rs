//! Watch fixtures: every warning at its exact boundaries, and agreement with the rules it
//! anticipates (a warning whose deadline has passed is a finding of the same code).

use govmedia_collectors::schema::{ACCOUNTS, COMMENTS, LINK_CHECKS, MENUS, POSTS};
use govmedia_collectors::time::shanghai_naive_to_ms;

use super::{Level, Warning, WatchOptions, warnings_frame, watch};
use crate::testing::{Fixture, finding_keys};

/// Beijing wall time as UTC milliseconds.
fn bj(s: &str) -> i64 {
    shanghai_naive_to_ms(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
        .unwrap()
}

/// The warnings at a Beijing time point, as `code level account item`.
fn keys(warnings: &[Warning]) -> Vec<String> {
    warnings
        .iter()
        .map(|w| {
            format!(
                "{} {} {} {}",
                w.code,
                w.level.as_str(),
                w.account_id,
                w.item_id.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

fn watch_at(fixture: Fixture, at: &str) -> Vec<Warning> {
    let ctx = fixture.context();
    watch(&ctx, &WatchOptions::at(bj(at))).unwrap()
}

/// One account per distance from its last post to 2025-11-27 (a Thursday).
const SILENCE_ACCOUNTS: &str = r#"
{"account_id":"weibo:d9","platform":"weibo","name":"九天","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"weibo:d10","platform":"weibo","name":"十天","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"weibo:d11","platform":"weibo","name":"十一天","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"weibo:d13","platform":"weibo","name":"十三天","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"weibo:d14","platform":"weibo","name":"十四天","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"weibo:none","platform":"weibo","name":"从未更新","first_seen":"2025-01-01T00:00:00+08:00"}
"#;
const SILENCE_POSTS: &str = r#"
{"account_id":"weibo:d9","post_id":"a","published_at":"2025-11-18T09:00:00+08:00","text":"通知","url":"https://weibo.com/d9/a"}
{"account_id":"weibo:d10","post_id":"a","published_at":"2025-11-17T09:00:00+08:00","text":"通知"}
{"account_id":"weibo:d11","post_id":"a","published_at":"2025-11-16T23:59:00+08:00","text":"通知"}
{"account_id":"weibo:d13","post_id":"a","published_at":"2025-11-14T09:00:00+08:00","text":"通知"}
{"account_id":"weibo:d14","post_id":"a","published_at":"2025-11-13T09:00:00+08:00","text":"通知"}
{"account_id":"weibo:d14","post_id":"gone","published_at":"2025-11-26T09:00:00+08:00","text":"已删","is_deleted":true}
"#;

fn silence() -> Fixture {
    Fixture::at("2025-11-27")
        .jsonl(&ACCOUNTS, SILENCE_ACCOUNTS)
        .jsonl(&POSTS, SILENCE_POSTS)
}

fn upd002(warnings: &[Warning]) -> Vec<String> {
    keys(warnings)
        .into_iter()
        .filter(|k| k.starts_with("UPD002"))
        .collect()
}

#[test]
fn the_no_update_veto_is_warned_three_days_ahead_and_critical_on_its_last_day() {
    let warnings = watch_at(silence(), "2025-11-27 10:00");
    // 9 days since the last post: 5 days left, quiet. 10 days: 4 left, quiet. 11 days
    // (the last post late on the 16th): 3 left, warn. 13 days: the last day, critical.
    // 14 days: vetoed today (a deleted post does not count), critical. Never updated: critical.
    // What can still be prevented comes first, then what has happened, then what has no clock.
    assert_eq!(
        upd002(&warnings),
        [
            "UPD002 critical weibo:d13 -",
            "UPD002 critical weibo:d14 -",
            "UPD002 critical weibo:none -",
            "UPD002 warn weibo:d11 -",
        ]
    );
    let d13 = warnings
        .iter()
        .find(|w| w.account_id == "weibo:d13" && w.code == "UPD002")
        .unwrap();
    assert_eq!(d13.deadline_ms, Some(bj("2025-11-28 00:00")));
    assert!(d13.message.contains("还剩1天"), "{}", d13.message);
    assert!(
        d13.message.contains("须在2025-11-27结束前发布"),
        "{}",
        d13.message
    );
    // The audit on the deadline day agrees: 13 days is no finding, 14 days is the veto.
    let audit = silence().audit(&["UPD002"]);
    assert_eq!(
        finding_keys(&audit),
        ["UPD002 weibo:d14 -", "UPD002 weibo:none -"]
    );
}

#[test]
fn the_horizon_is_a_parameter_and_the_evidence_links_the_last_post() {
    let ctx = silence().context();
    let opts = WatchOptions {
        days: 5,
        ..WatchOptions::at(bj("2025-11-27 10:00"))
    };
    let warnings = watch(&ctx, &opts).unwrap();
    let d9 = warnings
        .iter()
        .find(|w| w.account_id == "weibo:d9" && w.code == "UPD002")
        .expect("5 days left is within a 5-day horizon");
    assert_eq!(d9.level, Level::Warn);
    assert_eq!(
        d9.evidence,
        "last update 2025-11-18: https://weibo.com/d9/a"
    );
    let frame = warnings_frame(&ctx, &opts, &warnings).unwrap();
    assert_eq!(
        frame
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        super::WARNING_COLUMNS
    );
    let row = frame
        .column("account_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .zip(frame.column("code").unwrap().str().unwrap().iter())
        .position(|(a, c)| a == Some("weibo:d9") && c == Some("UPD002"))
        .unwrap();
    let hours = frame.column("hours_left").unwrap().f64().unwrap().get(row);
    // Deadline 2025-12-02 00:00, 4 days 14 hours after Thursday 10:00.
    assert_eq!(hours, Some(110.0));
    let name = frame
        .column("account_name")
        .unwrap()
        .str()
        .unwrap()
        .get(row);
    assert_eq!(name, Some("九天"));
}

const WEEK_ACCOUNTS: &str = r#"
{"account_id":"wechat:gh_sub","platform":"wechat","account_kind":"subscription","name":"订阅号","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"wechat:gh_done","platform":"wechat","account_kind":"subscription","name":"本周已更新","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"wechat:gh_svc","platform":"wechat","account_kind":"service","name":"服务号","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"wechat:gh_new","platform":"wechat","account_kind":"subscription","name":"新开","first_seen":"2025-11-26T00:00:00+08:00"}
"#;
// 2025-11-24 is a Monday. The service account's period is the two weeks 11-17..11-30 (counted
// back from the time point's week): its post on the 18th covers it.
const WEEK_POSTS: &str = r#"
{"account_id":"wechat:gh_sub","post_id":"a","published_at":"2025-11-21T09:00:00+08:00","title":"上周"}
{"account_id":"wechat:gh_done","post_id":"a","published_at":"2025-11-24T09:00:00+08:00","title":"本周"}
{"account_id":"wechat:gh_svc","post_id":"a","published_at":"2025-11-18T09:00:00+08:00","title":"服务号"}
{"account_id":"wechat:gh_new","post_id":"a","published_at":"2025-11-26T09:00:00+08:00","title":"新开"}
"#;

fn week(as_of: &str) -> Fixture {
    Fixture::at(as_of)
        .jsonl(&ACCOUNTS, WEEK_ACCOUNTS)
        .jsonl(&POSTS, WEEK_POSTS)
}

fn upd001(warnings: &[Warning]) -> Vec<String> {
    keys(warnings)
        .into_iter()
        .filter(|k| k.starts_with("UPD001"))
        .collect()
}

#[test]
fn an_empty_week_is_warned_from_friday_and_critical_on_sunday() {
    // Thursday: four days left (Thu–Sun), beyond the 3-day horizon.
    assert!(upd001(&watch_at(week("2025-11-27"), "2025-11-27 20:00")).is_empty());
    // Friday: three days left.
    assert_eq!(
        upd001(&watch_at(week("2025-11-28"), "2025-11-28 08:00")),
        ["UPD001 warn wechat:gh_sub period:2025-11-24"]
    );
    // Sunday, the last day of the week: critical. The service account's two-week period has
    // its update; the account opened on Wednesday has a partial week, not judged.
    let sunday = watch_at(week("2025-11-30"), "2025-11-30 23:00");
    assert_eq!(
        upd001(&sunday),
        ["UPD001 critical wechat:gh_sub period:2025-11-24"]
    );
    let w = sunday.iter().find(|w| w.code == "UPD001").unwrap();
    assert_eq!(w.deadline_ms, Some(bj("2025-12-01 00:00")));
    assert_eq!(
        w.evidence,
        "2025-11-24~2025-11-30: 0 updates so far (min 1)"
    );
    // The audit of the next Monday reports that very week, with the same item.
    let next_monday = week("2025-12-01").audit(&["UPD001"]);
    assert!(
        finding_keys(&next_monday).contains(&"UPD001 wechat:gh_sub period:2025-11-24".to_string()),
        "{:?}",
        finding_keys(&next_monday)
    );
}

#[test]
fn a_service_account_is_warned_at_the_end_of_its_two_week_period() {
    // Periods are counted back from the time point's week, so the current period always ends
    // this Sunday: on Saturday 13 December it is 12-01..12-14, still without a post, 2 days
    // left: a warning.
    let warnings = watch_at(week("2025-12-13"), "2025-12-13 09:00");
    assert!(
        upd001(&warnings).contains(&"UPD001 warn wechat:gh_svc period:2025-12-01".to_string()),
        "{:?}",
        upd001(&warnings)
    );
    // On Wednesday 10 December 5 days are left: quiet.
    let early = watch_at(week("2025-12-10"), "2025-12-10 09:00");
    assert!(upd001(&early).is_empty(), "{:?}", upd001(&early));
    // On Saturday 29 November the period 11-17..11-30 holds the post of the 18th: quiet.
    let covered = watch_at(week("2025-11-29"), "2025-11-29 09:00");
    assert!(
        !upd001(&covered).iter().any(|k| k.contains("gh_svc")),
        "{:?}",
        upd001(&covered)
    );
}

const REPLY_ACCOUNTS: &str = r#"
{"account_id":"wechat:gh_a","platform":"wechat","name":"某市发布","first_seen":"2025-01-01T00:00:00+08:00"}
"#;
const REPLY_POSTS: &str = r#"
{"account_id":"wechat:gh_a","post_id":"p","published_at":"2025-09-20T10:00:00+08:00","title":"通知"}
{"account_id":"wechat:gh_a","post_id":"q","published_at":"2025-09-30T10:00:00+08:00","title":"通知"}
"#;
// 2025-09-28 (Sun) and 2025-10-11 (Sat) are working days; 10-01..10-08 is the holiday.
const REPLY_COMMENTS: &str = r#"
{"account_id":"wechat:gh_a","post_id":"p","comment_id":"friday","created_at":"2025-09-26T12:00:00+08:00","content":"问"}
{"account_id":"wechat:gh_a","post_id":"q","comment_id":"holiday","created_at":"2025-09-30T10:00:00+08:00","content":"问"}
{"account_id":"wechat:gh_a","post_id":"q","comment_id":"answered","created_at":"2025-09-30T09:00:00+08:00","content":"问","reply_content":"您好，已办理。","reply_at":"2025-09-30T11:00:00+08:00"}
{"account_id":"wechat:gh_a","post_id":"q","comment_id":"answered-later","created_at":"2025-09-30T09:00:00+08:00","content":"问","reply_content":"您好，已办理。","reply_at":"2025-10-10T11:00:00+08:00"}
{"account_id":"wechat:gh_a","post_id":"p","comment_id":"old","created_at":"2025-09-22T09:00:00+08:00","content":"问"}
"#;

fn replies(as_of: &str) -> Fixture {
    Fixture::at(as_of)
        .jsonl(&ACCOUNTS, REPLY_ACCOUNTS)
        .jsonl(&POSTS, REPLY_POSTS)
        .jsonl(&COMMENTS, REPLY_COMMENTS)
}

fn int002(warnings: &[Warning]) -> Vec<String> {
    keys(warnings)
        .into_iter()
        .filter(|k| k.starts_with("INT002"))
        .collect()
}

#[test]
fn reply_deadlines_cross_the_adjusted_sunday_and_the_national_day_holiday() {
    // Monday 29 Sep 13:00. "friday" (Fri 12:00): 12 h on Friday, Sun 28 (调休) 24 h, Mon 29
    // 24 h → deadline Tue 30 Sep 12:00, 23 working hours away: a warning. "holiday" (Tue 30
    // 10:00) has its deadline on Sat 11 Oct 10:00, far away. "old" is past its deadline:
    // critical, listed first (oldest deadline first).
    let warnings = watch_at(replies("2025-09-29"), "2025-09-29 13:00");
    assert_eq!(
        int002(&warnings),
        [
            "INT002 critical wechat:gh_a old",
            "INT002 warn wechat:gh_a friday",
        ]
    );
    let friday = warnings
        .iter()
        .find(|w| w.item_id.as_deref() == Some("friday"))
        .unwrap();
    assert_eq!(friday.deadline_ms, Some(bj("2025-09-30 12:00")));
    assert!(
        friday.message.contains("还剩23.0个工作小时"),
        "{}",
        friday.message
    );
    // "holiday" (Tue 30 Sep 10:00): 14 h on 30 Sep, none from 1 to 8 Oct, 24 h on Thu 9 Oct,
    // 24 h on Fri 10 Oct, the last 10 h on Sat 11 Oct (调休): deadline 11 Oct 10:00. On Thu
    // 9 Oct 12:00 that is 12 + 24 + 10 = 46 working hours away: quiet. On Fri 10 Oct 10:00 it
    // is 14 + 10 = 24: a warning. "answered-later" is still open then (its reply came at
    // 11:00), 23 working hours before its deadline (11 Oct 09:00); "answered" is not.
    let thursday = watch_at(replies("2025-10-09"), "2025-10-09 12:00");
    assert!(!int002(&thursday).iter().any(|k| k.ends_with(" holiday")));
    let friday_after = watch_at(replies("2025-10-10"), "2025-10-10 10:00");
    assert_eq!(
        int002(&friday_after),
        [
            "INT002 critical wechat:gh_a old",
            "INT002 critical wechat:gh_a friday",
            "INT002 warn wechat:gh_a answered-later",
            "INT002 warn wechat:gh_a holiday",
        ]
    );
    let holiday = friday_after
        .iter()
        .find(|w| w.item_id.as_deref() == Some("holiday"))
        .unwrap();
    assert_eq!(holiday.deadline_ms, Some(bj("2025-10-11 10:00")));
}

#[test]
fn a_reply_warning_past_its_deadline_is_the_rules_finding() {
    // At the end of 30 Sep "friday" is past its deadline: the audit that day reports INT002.
    let warnings = watch_at(replies("2025-09-30"), "2025-09-30 23:00");
    assert!(int002(&warnings).contains(&"INT002 critical wechat:gh_a friday".to_string()));
    let audit = replies("2025-09-30").audit(&["INT002"]);
    assert!(finding_keys(&audit).contains(&"INT002 wechat:gh_a friday".to_string()));
}

const LINK_MENUS: &str = r#"
{"account_id":"wechat:gh_a","path":"办事/一次失败","name":"一次失败","kind":"view","target":"https://a.example.gov.cn/once","collected_at":"2025-11-30T10:00:00+08:00"}
{"account_id":"wechat:gh_a","path":"办事/两次失败","name":"两次失败","kind":"view","target":"https://a.example.gov.cn/twice","collected_at":"2025-11-30T10:00:00+08:00"}
{"account_id":"wechat:gh_a","path":"办事/恢复","name":"恢复","kind":"view","target":"https://a.example.gov.cn/back","collected_at":"2025-11-30T10:00:00+08:00"}
{"account_id":"wechat:gh_a","path":"办事/首次检查","name":"首次检查","kind":"view","target":"https://a.example.gov.cn/first","collected_at":"2025-11-30T10:00:00+08:00"}
"#;
const LINK_CHECKS_JSONL: &str = r#"
{"url":"https://a.example.gov.cn/once","checked_at":"2025-11-29T11:00:00+08:00","status":200}
{"url":"https://a.example.gov.cn/once","checked_at":"2025-11-30T11:00:00+08:00","status":404}
{"url":"https://a.example.gov.cn/twice","checked_at":"2025-11-29T11:00:00+08:00","error":"timeout"}
{"url":"https://a.example.gov.cn/twice","checked_at":"2025-11-30T11:00:00+08:00","status":500}
{"url":"https://a.example.gov.cn/back","checked_at":"2025-11-29T11:00:00+08:00","status":404}
{"url":"https://a.example.gov.cn/back","checked_at":"2025-11-30T11:00:00+08:00","status":200}
{"url":"https://a.example.gov.cn/first","checked_at":"2025-11-30T11:00:00+08:00","error":"dns: no such host"}
"#;

#[test]
fn a_menu_link_that_failed_once_is_one_failure_from_a_finding() {
    let fixture = || {
        Fixture::at("2025-11-30")
            .jsonl(&ACCOUNTS, REPLY_ACCOUNTS)
            .jsonl(&POSTS, r#"{"account_id":"wechat:gh_a","post_id":"p","published_at":"2025-11-28T10:00:00+08:00","title":"通知"}"#)
            .jsonl(&MENUS, LINK_MENUS)
            .jsonl(&LINK_CHECKS, LINK_CHECKS_JSONL)
    };
    let warnings = watch_at(fixture(), "2025-11-30 12:00");
    let links: Vec<String> = keys(&warnings)
        .into_iter()
        .filter(|k| k.starts_with("SVC003"))
        .collect();
    assert_eq!(
        links,
        [
            "SVC003 warn wechat:gh_a 办事/一次失败",
            "SVC003 warn wechat:gh_a 办事/首次检查",
        ]
    );
    let once = warnings
        .iter()
        .find(|w| w.item_id.as_deref() == Some("办事/一次失败"))
        .unwrap();
    assert_eq!(
        once.evidence,
        "https://a.example.gov.cn/once: HTTP 404 at 2025-11-30 11:00 (the first failed check in a row)"
    );
    // Twice failed is already the finding.
    assert_eq!(
        finding_keys(&fixture().audit(&["SVC003"])),
        ["SVC003 wechat:gh_a 办事/两次失败"]
    );
    // Before the second round of checks only the first ones are known.
    let earlier = watch_at(fixture(), "2025-11-29 12:00");
    assert!(
        keys(&earlier).contains(&"SVC003 warn wechat:gh_a 办事/两次失败".to_string()),
        "{:?}",
        keys(&earlier)
    );
}

#[test]
fn dormancy_is_warned_a_month_ahead() {
    let accounts = r#"
{"account_id":"weibo:old","platform":"weibo","name":"快睡着","first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:older","platform":"weibo","name":"睡着了","first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:young","platform":"weibo","name":"还醒着","first_seen":"2024-01-01T00:00:00+08:00"}
"#;
    // 2025-11-30 minus 160, 181 and 140 days.
    let posts = r#"
{"account_id":"weibo:old","post_id":"a","published_at":"2025-06-23T10:00:00+08:00","text":"x"}
{"account_id":"weibo:older","post_id":"a","published_at":"2025-06-02T10:00:00+08:00","text":"x"}
{"account_id":"weibo:young","post_id":"a","published_at":"2025-07-13T10:00:00+08:00","text":"x"}
"#;
    let warnings = watch_at(
        Fixture::at("2025-11-30")
            .jsonl(&ACCOUNTS, accounts)
            .jsonl(&POSTS, posts),
        "2025-11-30 09:00",
    );
    let dormant: Vec<String> = keys(&warnings)
        .into_iter()
        .filter(|k| k.starts_with("UPD003"))
        .collect();
    assert_eq!(
        dormant,
        ["UPD003 critical weibo:older -", "UPD003 warn weibo:old -"]
    );
}
