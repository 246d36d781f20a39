//! UPD fixtures: OK cases first, then violations, with the edge cases of `docs/checks.md`.

use std::collections::BTreeMap;

use govmedia_collectors::schema::{ACCOUNTS, POSTS};

use crate::context::{Lang, ParamValue};
use crate::engine::AuditResult;
use crate::findings::instant_texts;
use crate::testing::{Fixture, date, finding_keys};

fn audit_with(
    accounts: &str,
    posts: &str,
    as_of: &str,
    from: Option<&str>,
    params: BTreeMap<String, ParamValue>,
) -> AuditResult {
    Fixture::at(as_of)
        .jsonl(&ACCOUNTS, accounts)
        .jsonl(&POSTS, posts)
        .from(from)
        .params(params)
        .audit(&["UPD"])
}

fn audit(accounts: &str, posts: &str, as_of: &str, from: Option<&str>) -> AuditResult {
    audit_with(accounts, posts, as_of, from, BTreeMap::new())
}

/// Findings rendered one per line, for snapshots.
fn render(result: &AuditResult) -> String {
    let f = &result.findings;
    let text = |name: &str| -> Vec<Option<String>> {
        let c = f.column(name).unwrap();
        if name == "occurred_at" {
            return instant_texts(c).unwrap();
        }
        c.str()
            .unwrap()
            .iter()
            .map(|v| v.map(String::from))
            .collect()
    };
    let cols: Vec<Vec<Option<String>>> = [
        "code",
        "severity",
        "platform",
        "account_id",
        "account_name",
        "item_id",
        "occurred_at",
        "message",
        "evidence",
    ]
    .iter()
    .map(|c| text(c))
    .collect();
    (0..f.height())
        .map(|i| {
            cols.iter()
                .map(|c| c[i].clone().unwrap_or_else(|| "∅".into()))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const ONE_WEIBO: &str = r#"{"account_id":"weibo:1","platform":"weibo","name":"某市发布","first_seen":"2025-01-01T00:00:00+08:00"}"#;

#[test]
fn sunday_2330_beijing_counts_for_that_week_and_monday_0010_for_the_next() {
    // 2025-11-16 is a Sunday; 23:30 Beijing is 15:30 UTC. 2025-11-24 00:10 Beijing (a Monday) is
    // Sunday 16:10 UTC. Judged weeks: 11-10..16, 11-17..23, 11-24..30.
    let posts = r#"
        {"account_id":"weibo:1","post_id":"a","published_at":"2025-11-16T15:30:00Z"}
        {"account_id":"weibo:1","post_id":"b","published_at":"2025-11-23T16:10:00Z"}
    "#;
    let r = audit(ONE_WEIBO, posts, "2025-11-30", Some("2025-11-10"));
    assert_eq!(finding_keys(&r), ["UPD001 weibo:1 period:2025-11-17"]);
}

#[test]
fn deleted_posts_do_not_count() {
    let posts = r#"
        {"account_id":"weibo:1","post_id":"a","published_at":"2025-11-12T10:00:00+08:00"}
        {"account_id":"weibo:1","post_id":"b","published_at":"2025-11-19T10:00:00+08:00","is_deleted":true}
        {"account_id":"weibo:1","post_id":"c","published_at":"2025-11-26T10:00:00+08:00"}
    "#;
    let r = audit(ONE_WEIBO, posts, "2025-11-30", Some("2025-11-10"));
    assert_eq!(finding_keys(&r), ["UPD001 weibo:1 period:2025-11-17"]);
}

#[test]
fn partial_weeks_at_the_window_edges_are_not_judged() {
    // The window starts on Wednesday 11-12 and ends on Thursday 11-27: only 11-17..23 is a full
    // week; the empty partial weeks around it are not findings.
    let posts =
        r#"{"account_id":"weibo:1","post_id":"a","published_at":"2025-11-20T10:00:00+08:00"}"#;
    let r = audit(ONE_WEIBO, posts, "2025-11-27", Some("2025-11-12"));
    assert!(
        finding_keys(&r).iter().all(|k| !k.starts_with("UPD001")),
        "{:?}",
        finding_keys(&r)
    );
    let m = &r.measurements;
    assert_eq!(
        m.column("periods_judged").unwrap().i64().unwrap().get(0),
        Some(1)
    );
    assert_eq!(
        m.column("periods_compliant").unwrap().i64().unwrap().get(0),
        Some(1)
    );
}

#[test]
fn the_window_is_clipped_to_the_first_sighting() {
    let accounts = r#"{"account_id":"weibo:1","platform":"weibo","name":"新开账号","first_seen":"2025-11-19T09:00:00+08:00"}"#;
    let posts =
        r#"{"account_id":"weibo:1","post_id":"a","published_at":"2025-11-26T10:00:00+08:00"}"#;
    let r = audit(accounts, posts, "2025-11-30", None);
    assert!(finding_keys(&r).is_empty(), "{:?}", finding_keys(&r));
}

/// A post every 14 days for a year, on Wednesdays.
fn biweekly_posts(account: &str) -> String {
    let first = date("2024-11-27");
    (0..27)
        .map(|i| {
            let d = first + chrono::Duration::days(14 * i);
            format!(r#"{{"account_id":"{account}","post_id":"{i}_1","published_at":"{d}T10:00:00+08:00"}}"#)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_service_account_posting_every_two_weeks_has_no_upd001_but_a_subscription_account_does() {
    let accounts = r#"
        {"account_id":"wechat:gh_service","platform":"wechat","name":"某市服务","account_kind":"service","first_seen":"2024-01-01T00:00:00+08:00"}
        {"account_id":"wechat:gh_sub","platform":"wechat","name":"某市订阅","account_kind":"subscription","first_seen":"2024-01-01T00:00:00+08:00"}
    "#;
    let posts = format!(
        "{}\n{}",
        biweekly_posts("wechat:gh_service"),
        biweekly_posts("wechat:gh_sub")
    );
    let r = audit(accounts, &posts, "2025-11-30", None);
    let k = finding_keys(&r);
    assert!(!k.iter().any(|k| k.contains("gh_service")), "{k:?}");
    let sub_weeks = k
        .iter()
        .filter(|k| k.starts_with("UPD001 wechat:gh_sub"))
        .count();
    assert!(
        (25..=27).contains(&sub_weeks),
        "{sub_weeks} empty weeks: {k:?}"
    );
}

#[test]
fn a_wechat_mass_send_with_several_articles_is_one_update() {
    let accounts = r#"{"account_id":"wechat:gh_a","platform":"wechat","name":"某市发布","account_kind":"subscription","first_seen":"2025-01-01T00:00:00+08:00"}"#;
    let posts = r#"
        {"account_id":"wechat:gh_a","post_id":"100_1","published_at":"2025-11-25T10:00:00+08:00","position":0}
        {"account_id":"wechat:gh_a","post_id":"100_2","published_at":"2025-11-25T10:00:00+08:00","position":1}
        {"account_id":"wechat:gh_a","post_id":"100_3","published_at":"2025-11-25T10:00:00+08:00","position":2}
    "#;
    let params = BTreeMap::from([("UPD001.min_per_period".to_string(), ParamValue::Int(2))]);
    let r = audit_with(accounts, posts, "2025-11-30", Some("2025-11-24"), params);
    assert_eq!(finding_keys(&r), ["UPD001 wechat:gh_a period:2025-11-24"]);
    assert_eq!(
        r.measurements
            .column("updates")
            .unwrap()
            .i64()
            .unwrap()
            .get(0),
        Some(1)
    );
}

#[test]
fn upd002_fires_at_exactly_14_days_and_not_at_13() {
    let accounts = r#"
        {"account_id":"weibo:13","platform":"weibo","name":"十三天","first_seen":"2025-11-01T00:00:00+08:00"}
        {"account_id":"weibo:14","platform":"weibo","name":"十四天","first_seen":"2025-11-01T00:00:00+08:00"}
    "#;
    let posts = r#"
        {"account_id":"weibo:13","post_id":"a","published_at":"2025-11-17T08:00:00+08:00"}
        {"account_id":"weibo:14","post_id":"a","published_at":"2025-11-16T23:59:00+08:00"}
    "#;
    let r = audit(accounts, posts, "2025-11-30", None);
    let upd002: Vec<_> = finding_keys(&r)
        .into_iter()
        .filter(|k| k.starts_with("UPD002"))
        .collect();
    assert_eq!(upd002, ["UPD002 weibo:14 -"]);
}

#[test]
fn upd003_fires_at_180_days_and_not_at_179() {
    // as_of 2025-11-30: 180 days earlier is 2025-06-03, 179 days 2025-06-04.
    let accounts = r#"
        {"account_id":"weibo:179","platform":"weibo","name":"甲","first_seen":"2025-01-01T00:00:00+08:00"}
        {"account_id":"weibo:180","platform":"weibo","name":"乙","first_seen":"2025-01-01T00:00:00+08:00"}
    "#;
    let posts = r#"
        {"account_id":"weibo:179","post_id":"a","published_at":"2025-06-04T10:00:00+08:00"}
        {"account_id":"weibo:180","post_id":"a","published_at":"2025-06-03T10:00:00+08:00"}
    "#;
    let r = audit(accounts, posts, "2025-11-30", None);
    let upd003: Vec<_> = finding_keys(&r)
        .into_iter()
        .filter(|k| k.starts_with("UPD003"))
        .collect();
    assert_eq!(upd003, ["UPD003 weibo:180 -"]);
}

#[test]
fn an_account_with_no_update_at_all_is_silent_and_posts_after_as_of_are_ignored() {
    let accounts = r#"{"account_id":"weibo:9","platform":"weibo","name":"空号","first_seen":"2025-01-01T00:00:00+08:00"}"#;
    let posts =
        r#"{"account_id":"weibo:9","post_id":"late","published_at":"2025-12-01T00:00:00+08:00"}"#;
    let r = audit(accounts, posts, "2025-11-30", Some("2025-11-17"));
    assert_eq!(
        finding_keys(&r),
        [
            "UPD001 weibo:9 period:2025-11-17",
            "UPD001 weibo:9 period:2025-11-24",
            "UPD002 weibo:9 -",
            "UPD003 weibo:9 -"
        ]
    );
}

#[test]
fn snapshot_of_upd_findings() {
    let accounts = r#"
        {"account_id":"weibo:1","platform":"weibo","name":"某市发布","org_id":"org-1","first_seen":"2025-01-01T00:00:00+08:00"}
        {"account_id":"wechat:gh_2","platform":"wechat","name":"某县公安","account_kind":"subscription","first_seen":"2025-01-01T00:00:00+08:00"}
    "#;
    let posts = r#"
        {"account_id":"weibo:1","post_id":"a","published_at":"2025-11-04T10:00:00+08:00","url":"https://weibo.com/1/a"}
        {"account_id":"wechat:gh_2","post_id":"1_1","published_at":"2025-11-20T10:00:00+08:00","url":"https://mp.weixin.qq.com/s/x"}
        {"account_id":"wechat:gh_2","post_id":"2_1","published_at":"2025-11-28T10:00:00+08:00"}
    "#;
    let zh = audit(accounts, posts, "2025-11-30", Some("2025-11-03"));
    insta::assert_snapshot!("upd_findings_zh", render(&zh));
    let en = Fixture::at("2025-11-30")
        .jsonl(&ACCOUNTS, accounts)
        .jsonl(&POSTS, posts)
        .from(Some("2025-11-03"))
        .lang(Lang::En)
        .audit(&["UPD"]);
    insta::assert_snapshot!("upd_findings_en", render(&en));
}
