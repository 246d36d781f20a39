//! CNT fixtures: OK posts first, then violating ones.

use govmedia_collectors::schema::{ACCOUNTS, POSTS};

use crate::context::Lang;
use crate::engine::AuditResult;
use crate::testing::{Fixture, finding_rows};

const ACCOUNTS_JSONL: &str = r#"
{"account_id":"wechat:gh_a","platform":"wechat","name":"某市发布","account_kind":"subscription","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"weibo:2","platform":"weibo","name":"某县公安微博","first_seen":"2025-01-01T00:00:00+08:00"}
"#;

const POSTS_JSONL: &str = r#"
{"account_id":"wechat:gh_a","post_id":"1_1","published_at":"2025-11-03T10:00:00+08:00","title":"【政策解读】一图读懂稳就业新政","text":"【政策解读】一图读懂稳就业新政。"}
{"account_id":"wechat:gh_a","post_id":"2_1","published_at":"2025-11-04T10:00:00+08:00","title":"【公益广告】文明出行，从我做起","text":"公益广告展播"}
{"account_id":"wechat:gh_a","post_id":"3_1","published_at":"2025-11-05T10:00:00+08:00","title":"政府采购公告","text":"某某项目政府采购公告","links":["https://www.ccgp.gov.cn/a.html"]}
{"account_id":"wechat:gh_a","post_id":"4_1","published_at":"2025-11-06T10:00:00+08:00","title":"限时抢购！礼盒仅需99元","text":"限时抢购！本地特产礼盒仅需99元，点击购买还送优惠券"}
{"account_id":"wechat:gh_a","post_id":"5_1","published_at":"2025-11-07T10:00:00+08:00","title":"特产推荐","text":"好物推荐","links":["https://item.taobao.com/item.htm?id=1","https://s.click.taobao.com/x"]}
{"account_id":"wechat:gh_a","post_id":"6_1","published_at":"2025-11-08T10:00:00+08:00","title":"工作动态","text":"工作动态","content_html":"<p>工作动态</p><mp-common-ad class=\"js_ad_area\"></mp-common-ad>"}
{"account_id":"wechat:gh_a","post_id":"7_1","published_at":"2025-11-09T10:00:00+08:00","title":"今日星座运势","text":"今日星座运势：双子座桃花运爆棚"}
{"account_id":"wechat:gh_a","post_id":"8_1","published_at":"2025-11-10T10:00:00+08:00","title":"会议","text":"认真学习中华人民共合国宪法"}
{"account_id":"wechat:gh_a","post_id":"9_1","published_at":"2025-11-11T10:00:00+08:00","title":"限时抢购","text":"限时抢购","is_deleted":true}
{"account_id":"wechat:gh_a","post_id":"0_1","published_at":"2024-01-05T10:00:00+08:00","title":"限时抢购！礼盒仅需99元","text":"限时抢购！本地特产礼盒仅需99元，点击购买还送优惠券"}
{"account_id":"wechat:gh_a","post_id":"0_2","published_at":"2024-01-06T10:00:00+08:00","title":"【政策解读】一图读懂稳就业新政","text":"【政策解读】一图读懂稳就业新政。","links":["https://item.taobao.com/item.htm?id=2"]}
{"account_id":"weibo:2","post_id":"w1","published_at":"2025-11-12T10:00:00+08:00","text":"本地好大米低至39元一袋，欢迎选购"}
{"account_id":"weibo:2","post_id":"w2","published_at":"2025-11-13T10:00:00+08:00","text":"【便民提醒】本周末部分路段施工"}
{"account_id":"weibo:2","post_id":"w3","published_at":"2025-11-14T10:00:00+08:00","text":"【惠民保来了】每人每年69元即可获得200万元医疗保障，快来投保"}
{"account_id":"weibo:2","post_id":"w4","published_at":"2025-11-15T10:00:00+08:00","text":"【夜读】愿你温柔且坚定，晚安"}
{"account_id":"weibo:2","post_id":"w5","published_at":"2025-11-16T10:00:00+08:00","text":"【消费券来了】满100元减20元，市民可在政务App领取"}
"#;

fn audit(lang: Lang) -> AuditResult {
    Fixture::at("2025-11-30")
        .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
        .jsonl(&POSTS, POSTS_JSONL)
        .lang(lang)
        .audit(&["CNT"])
}

fn rows(r: &AuditResult) -> Vec<String> {
    finding_rows(r)
}

fn codes_for(r: &AuditResult, post: &str) -> Vec<String> {
    rows(r)
        .into_iter()
        .filter(|row| row.split(" | ").nth(2) == Some(post))
        .map(|row| row[..6].to_string())
        .collect()
}

#[test]
fn ok_posts_have_no_finding() {
    let r = audit(Lang::Zh);
    for post in ["1_1", "2_1", "3_1", "w2", "w5"] {
        assert!(
            codes_for(&r, post).is_empty(),
            "{post}: {:?}",
            codes_for(&r, post)
        );
    }
}

#[test]
fn allow_listed_public_service_ads_and_procurement_notices_do_not_fire() {
    let r = audit(Lang::Zh);
    assert!(codes_for(&r, "2_1").is_empty());
    assert!(codes_for(&r, "3_1").is_empty());
}

#[test]
fn each_violation_is_found_once_per_post() {
    let r = audit(Lang::Zh);
    assert_eq!(codes_for(&r, "4_1"), ["CNT001"]);
    assert_eq!(codes_for(&r, "5_1"), ["CNT002"]);
    assert_eq!(codes_for(&r, "6_1"), ["CNT003"]);
    assert_eq!(codes_for(&r, "7_1"), ["CNT004"]);
    assert_eq!(codes_for(&r, "8_1"), ["CNT005"]);
    assert_eq!(codes_for(&r, "w1"), ["CNT001"], "a price tag is ad wording");
    assert_eq!(codes_for(&r, "w3"), ["CNT001"], "a product at a price");
    assert_eq!(codes_for(&r, "w4"), ["CNT004"], "an inspirational column");
    assert!(codes_for(&r, "w5").is_empty(), "a public voucher notice");
    assert!(
        codes_for(&r, "9_1").is_empty(),
        "deleted posts are not judged"
    );
    for old in ["0_1", "0_2"] {
        assert!(
            codes_for(&r, old).is_empty(),
            "{old}: posts before the window are not judged"
        );
    }
}

#[test]
fn cnt006_fires_for_an_account_without_policy_posts() {
    let r = audit(Lang::Zh);
    let cnt006: Vec<_> = rows(&r)
        .into_iter()
        .filter(|row| row.starts_with("CNT006"))
        .collect();
    assert_eq!(cnt006.len(), 1, "{cnt006:?}");
    assert!(cnt006[0].contains("weibo:2"));
}

#[test]
fn pattern_findings_say_which_pattern_decided() {
    let r = audit(Lang::Zh);
    let evidence = |post: &str| {
        rows(&r)
            .into_iter()
            .find(|row| row.split(" | ").nth(2) == Some(post))
            .unwrap()
    };
    assert!(
        evidence("w3").contains("【69元即可获得200万元医疗保障】")
            && evidence("w3").contains("[pattern ad 3: price-for-cover(body"),
        "{}",
        evidence("w3")
    );
    assert!(
        evidence("w4").contains("[pattern off_topic 3: chicken-soup-column(title「夜读」+3)]"),
        "{}",
        evidence("w4")
    );
    // The policy post is labelled with its reason.
    let labels = &r.post_categories.as_ref().unwrap().collect().unwrap();
    assert_eq!(labels.height(), 1, "{labels}");
    let reason = labels
        .column("reason")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap();
    let score = labels
        .column("score")
        .unwrap()
        .i32()
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(score, 10, "{reason}");
    assert!(
        reason.contains("column-tag(title「【政策解读」+4)"),
        "{reason}"
    );
}

#[test]
fn snapshot_of_cnt_findings() {
    insta::assert_snapshot!("cnt_findings_zh", rows(&audit(Lang::Zh)).join("\n"));
    insta::assert_snapshot!("cnt_findings_en", rows(&audit(Lang::En)).join("\n"));
}
