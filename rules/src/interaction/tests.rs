//! INT fixtures: OK cases first, then violations, with working time across 调休 and holidays.

use govmedia_collectors::schema::{ACCOUNTS, COMMENTS, MENUS, POSTS};

use crate::engine::AuditResult;
use crate::testing::{Fixture, finding_keys, finding_rows};

const ACCOUNTS_JSONL: &str = r#"
{"account_id":"wechat:gh_a","platform":"wechat","name":"某市发布","first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:2","platform":"weibo","name":"某县公安微博","first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"wechat:gh_closed","platform":"wechat","name":"某局","comments_enabled":false,"first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"app:1","platform":"app","name":"某市App","first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"app:2","platform":"app","name":"某区App","first_seen":"2024-01-01T00:00:00+08:00"}
"#;

const POSTS_JSONL: &str = r#"
{"account_id":"wechat:gh_a","post_id":"p1","published_at":"2024-09-20T10:00:00+08:00","title":"【意见征集】公园开放时间调整意见征集","comments_open":true}
{"account_id":"wechat:gh_a","post_id":"p2","published_at":"2024-10-20T10:00:00+08:00","title":"公园开放时间意见征集结果及采纳情况","comments_open":true}
{"account_id":"weibo:2","post_id":"w1","published_at":"2024-09-20T10:00:00+08:00","text":"【问卷调查】交通出行问卷调查","comments_open":true}
{"account_id":"wechat:gh_closed","post_id":"c1","published_at":"2024-10-20T10:00:00+08:00","title":"工作动态","comments_open":false}
"#;

// Comment times in Beijing time. 2024-09-29 (Sun) and 2024-10-12 (Sat) are working days;
// 2024-10-01..07 is the National Day holiday.
const COMMENTS_JSONL: &str = r#"
{"account_id":"wechat:gh_a","post_id":"p1","comment_id":"ok-71h","created_at":"2024-09-26T10:00:00+08:00","content":"请问何时开放？","reply_content":"您好，十月起每天6点开放，节假日照常。","reply_at":"2024-09-30T09:00:00+08:00","is_elected":true}
{"account_id":"wechat:gh_a","post_id":"p1","comment_id":"late-73h","created_at":"2024-09-26T10:00:00+08:00","content":"停车场开放吗？","reply_content":"您好，停车场同步开放，收费标准见公告。","reply_at":"2024-09-30T11:00:00+08:00","is_elected":true}
{"account_id":"wechat:gh_a","post_id":"p1","comment_id":"late-holiday","created_at":"2024-09-27T10:00:00+08:00","content":"能带宠物吗？","reply_content":"您好，需牵绳并清理粪便。","reply_at":"2024-10-08T11:00:00+08:00","is_elected":true}
{"account_id":"wechat:gh_a","post_id":"p2","comment_id":"open-new","created_at":"2024-11-28T10:00:00+08:00","content":"谢谢","is_elected":false}
{"account_id":"wechat:gh_a","post_id":"p2","comment_id":"open-old","created_at":"2024-11-20T10:00:00+08:00","content":"夜间开放吗？","is_elected":false}
{"account_id":"wechat:gh_a","post_id":"p2","comment_id":"boiler","created_at":"2024-10-21T10:00:00+08:00","content":"厕所在哪？","reply_content":"感谢关注！","reply_at":"2024-10-21T12:00:00+08:00","is_elected":true}
{"account_id":"wechat:gh_a","post_id":"p2","comment_id":"spam-elected","created_at":"2024-10-21T11:00:00+08:00","content":"加微信领取兼职刷单日赚500","reply_content":"您好，请勿轻信。","reply_at":"2024-10-21T13:00:00+08:00","is_elected":true}
{"account_id":"wechat:gh_a","post_id":"p2","comment_id":"spam-hidden","created_at":"2024-10-21T11:30:00+08:00","content":"刷单日赚","reply_content":"您好，已屏蔽。","reply_at":"2024-10-21T13:30:00+08:00","is_elected":false}
{"account_id":"weibo:2","post_id":"w1","comment_id":"wb-slow","created_at":"2024-09-20T10:00:00+08:00","content":"问卷在哪填？","reply_content":"您好，链接见原文。","reply_at":"2024-10-10T10:00:00+08:00"}
{"account_id":"weibo:2","post_id":"w1","comment_id":"r1","created_at":"2024-09-21T10:00:00+08:00","content":"a","reply_content":"您好，已转交相关部门办理，请留意后续通知。","reply_at":"2024-09-23T10:00:00+08:00"}
{"account_id":"weibo:2","post_id":"w1","comment_id":"r2","created_at":"2024-09-21T11:00:00+08:00","content":"b","reply_content":"您好，已转交相关部门办理，请留意后续通知！","reply_at":"2024-09-23T10:00:00+08:00"}
{"account_id":"weibo:2","post_id":"w1","comment_id":"r3","created_at":"2024-09-21T12:00:00+08:00","content":"c","reply_content":"您好 已转交相关部门办理 请留意后续通知","reply_at":"2024-09-23T10:00:00+08:00"}
"#;

const MENUS_JSONL: &str = r#"
{"account_id":"app:1","path":"互动/在线咨询","name":"在线咨询","kind":"view","target":"https://app.example.gov.cn/ask"}
{"account_id":"app:2","path":"新闻/要闻","name":"要闻","kind":"view","target":"https://app.example.gov.cn/news"}
"#;

fn audit_at(as_of: &str) -> Result<AuditResult, crate::Error> {
    Fixture::at(as_of)
        .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
        .jsonl(&POSTS, POSTS_JSONL)
        .jsonl(&COMMENTS, COMMENTS_JSONL)
        .jsonl(&MENUS, MENUS_JSONL)
        .try_audit(&["INT"])
}

fn audit() -> AuditResult {
    audit_at("2024-11-30").unwrap()
}
fn has(r: &AuditResult, key: &str) -> bool {
    finding_keys(r).iter().any(|k| k == key)
}

#[test]
fn a_reply_within_72_working_hours_over_a_weekend_is_on_time() {
    // Thu 10:00 → Mon 09:00: 14 + 24 (Fri) + 0 (Sat) + 24 (Sun 29 Sep, 调休 working day) + 9 = 71.
    assert!(
        !has(&audit(), "INT001 wechat:gh_a ok-71h"),
        "{:?}",
        finding_keys(&audit())
    );
}

#[test]
fn the_adjusted_working_sunday_counts_so_73_hours_is_late() {
    assert!(has(&audit(), "INT001 wechat:gh_a late-73h"));
}

#[test]
fn national_day_holidays_do_not_count_but_the_reply_is_still_late() {
    let r = audit();
    assert!(has(&r, "INT001 wechat:gh_a late-holiday"));
    let evidence = r
        .findings
        .column("evidence")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .find(|e| e.contains("late-holiday"))
        .unwrap()
        .to_string();
    // Fri 27 Sep 14h + Sat 0 + Sun 29 (调休) 24h + Mon 30 24h + 1–7 Oct 0 + Tue 8 Oct 11h = 73h,
    // eleven calendar days.
    assert!(evidence.contains("73.0 working hours"), "{evidence}");
}

#[test]
fn weibo_is_exempt_from_timeliness_but_not_from_answering() {
    let r = audit();
    assert!(!has(&r, "INT001 weibo:2 wb-slow"));
    assert!(
        !finding_keys(&r)
            .iter()
            .any(|k| k.starts_with("INT002 weibo:2"))
    );
}

#[test]
fn unanswered_only_after_the_deadline() {
    let r = audit();
    assert!(has(&r, "INT002 wechat:gh_a open-old"));
    assert!(
        !has(&r, "INT002 wechat:gh_a open-new"),
        "two days old at as_of"
    );
}

#[test]
fn boilerplate_and_copy_paste_replies() {
    let r = audit();
    assert!(has(&r, "INT003 wechat:gh_a boiler"));
    for c in ["r1", "r2", "r3"] {
        assert!(
            has(&r, &format!("INT003 weibo:2 {c}")),
            "{c}: the same reply three times, punctuation aside"
        );
    }
    assert!(!has(&r, "INT003 wechat:gh_a ok-71h"));
}

/// A text met again, in another account, as another comment or as a reply instead of a comment,
/// gives each row its own findings, and only those its field allows (boilerplate is a reply's;
/// spam is a comment's): the comment scan remembers each distinct comment text's hits.
#[test]
fn repeated_texts_give_every_comment_its_own_findings() {
    let comments = r#"
{"account_id":"wechat:gh_a","post_id":"p2","comment_id":"a1","created_at":"2024-10-21T10:00:00+08:00","content":"加微信领取兼职刷单日赚500","reply_content":"感谢关注！","reply_at":"2024-10-21T12:00:00+08:00","is_elected":true}
{"account_id":"wechat:gh_a","post_id":"p2","comment_id":"a2","created_at":"2024-10-21T11:00:00+08:00","content":"感谢关注！","reply_content":"加微信领取兼职刷单日赚500","reply_at":"2024-10-21T13:00:00+08:00","is_elected":true}
{"account_id":"weibo:2","post_id":"w1","comment_id":"b1","created_at":"2024-09-21T10:00:00+08:00","content":"加微信领取兼职刷单日赚500","reply_content":"感谢关注！","reply_at":"2024-09-23T10:00:00+08:00"}
{"account_id":"weibo:2","post_id":"w1","comment_id":"b2","created_at":"2024-09-21T11:00:00+08:00","content":"问卷在哪填？","reply_content":"您好，链接见原文。","reply_at":"2024-09-23T10:00:00+08:00"}
"#;
    let r = Fixture::at("2024-11-30")
        .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
        .jsonl(&POSTS, POSTS_JSONL)
        .jsonl(&COMMENTS, comments)
        .try_audit(&["INT003", "INT004"])
        .unwrap();
    let keys = finding_keys(&r);
    for key in [
        "INT004 wechat:gh_a a1",
        "INT004 weibo:2 b1",
        "INT003 wechat:gh_a a1",
        "INT003 weibo:2 b1",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing: {keys:?}");
    }
    // a2's comment is boilerplate and its reply spam: neither is a finding of its field.
    for key in [
        "INT004 wechat:gh_a a2",
        "INT003 wechat:gh_a a2",
        "INT003 weibo:2 b2",
    ] {
        assert!(!keys.iter().any(|k| k == key), "{key}: {keys:?}");
    }
}

/// A reply counts as reused within its own account only, once per comment, when it was given by
/// as_of, and when it has a text (one punctuation-only text is still one text).
#[test]
fn reused_replies_count_per_account_by_as_of() {
    let accounts = r#"
{"account_id":"weibo:x","platform":"weibo","name":"某县发布","first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:y","platform":"weibo","name":"某区发布","first_seen":"2024-01-01T00:00:00+08:00"}
"#;
    let posts = r#"
{"account_id":"weibo:x","post_id":"px","published_at":"2024-09-20T10:00:00+08:00","text":"通知","comments_open":true}
{"account_id":"weibo:y","post_id":"py","published_at":"2024-09-20T10:00:00+08:00","text":"通知","comments_open":true}
"#;
    let reply = |account: &str, post: &str, id: &str, text: &str, at: &str| {
        format!(
            r#"{{"account_id":"{account}","post_id":"{post}","comment_id":"{id}","created_at":"2024-11-01T10:00:00+08:00","content":"问","reply_content":"{text}","reply_at":"{at}T12:00:00+08:00"}}"#
        )
    };
    let same = "您好，请拨打热线12345咨询办理进度";
    let comments = [
        // Two in each account: never three in one.
        reply("weibo:x", "px", "x1", same, "2024-11-01"),
        reply("weibo:x", "px", "x2", same, "2024-11-02"),
        reply("weibo:y", "py", "y1", same, "2024-11-01"),
        reply("weibo:y", "py", "y2", same, "2024-11-02"),
        // The third in x came after as_of: not known at the monitoring time point.
        reply("weibo:x", "px", "x3", same, "2024-12-05"),
        // Three punctuation-only replies in y: the same (empty) text three times.
        reply("weibo:y", "py", "y3", "……", "2024-11-03"),
        reply("weibo:y", "py", "y4", "！", "2024-11-03"),
        reply("weibo:y", "py", "y5", "。。", "2024-11-03"),
    ]
    .join("\n");
    let r = Fixture::at("2024-11-30")
        .jsonl(&ACCOUNTS, accounts)
        .jsonl(&POSTS, posts)
        .jsonl(&COMMENTS, &comments)
        .audit(&["INT003"]);
    let mut keys = finding_keys(&r);
    keys.sort();
    assert_eq!(
        keys,
        [
            "INT003 weibo:y y3",
            "INT003 weibo:y y4",
            "INT003 weibo:y y5"
        ]
    );
    assert!(
        finding_rows(&r)
            .iter()
            .all(|row| row.contains("同一回复用于3条留言")),
        "{:?}",
        finding_rows(&r)
    );
}

/// A comment is known by its post as well as its id: WeChat numbers an article's comments from
/// 1, so one account has a comment "1" under each article. Keyed by account and comment id only,
/// INT004 reported a hidden spam comment because another article's comment "1" was shown, and
/// INT003 folded the comments of different articles into one finding and counted a reply used
/// under three articles as used once.
#[test]
fn comments_of_different_posts_with_one_id_are_different_comments() {
    let comment = |post: &str, id: &str, content: &str, reply: &str, elected: bool| {
        format!(
            r#"{{"account_id":"wechat:gh_a","post_id":"{post}","comment_id":"{id}","created_at":"2024-10-21T10:00:00+08:00","content":"{content}","reply_content":"{reply}","reply_at":"2024-10-21T12:00:00+08:00","is_elected":{elected}}}"#
        )
    };
    let same = "您好，已转交相关部门办理，请留意后续通知。";
    let comments = [
        // Comment 1: spam hidden under p1, a question shown under p2.
        comment(
            "p1",
            "1",
            "加微信领取兼职刷单日赚500",
            "您好，请勿轻信。",
            false,
        ),
        comment("p2", "1", "请问几点开门？", "您好，早上8点。", true),
        // Comment 2: one reply under three articles.
        comment("p1", "2", "问一", same, true),
        comment("p2", "2", "问二", same, true),
        comment("p3", "2", "问三", same, true),
    ]
    .join("\n");
    let posts = format!(
        "{POSTS_JSONL}{}",
        r#"{"account_id":"wechat:gh_a","post_id":"p3","published_at":"2024-10-20T10:00:00+08:00","title":"通知","comments_open":true}"#
    );
    let r = Fixture::at("2024-11-30")
        .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
        .jsonl(&POSTS, &posts)
        .jsonl(&COMMENTS, &comments)
        .audit(&["INT003", "INT004"]);
    let keys = finding_keys(&r);
    assert!(
        !keys.iter().any(|k| k == "INT004 wechat:gh_a 1"),
        "the spam comment 1 is hidden: {keys:?}"
    );
    let reused: Vec<String> = finding_rows(&r)
        .into_iter()
        .filter(|row| row.contains("INT003") && row.contains("同一回复用于3条留言"))
        .collect();
    assert_eq!(
        reused.len(),
        3,
        "one finding per article's comment 2: {reused:?}"
    );
}

#[test]
fn improper_comments_only_when_shown_to_the_public() {
    let r = audit();
    assert!(has(&r, "INT004 wechat:gh_a spam-elected"));
    assert!(
        !has(&r, "INT004 wechat:gh_a spam-hidden"),
        "not elected: hidden on WeChat"
    );
}

#[test]
fn no_interaction_function() {
    let r = audit();
    assert!(has(&r, "INT005 wechat:gh_closed -"));
    assert!(has(&r, "INT005 app:2 -"), "an app without a message entry");
    assert!(!has(&r, "INT005 app:1 -"));
    assert!(!has(&r, "INT005 wechat:gh_a -"));
}

#[test]
fn consultations_need_a_results_post() {
    let r = audit();
    assert!(!has(&r, "INT006 wechat:gh_a p1"), "results published on p2");
    assert!(has(&r, "INT006 weibo:2 w1"));
}

#[test]
fn a_date_outside_the_holiday_calendar_counts_monday_to_friday() {
    // 2027 is not in the calendar: the audit runs all the INT rules (the CLI prints the
    // calendar's note) instead of refusing.
    let result = audit_at("2027-03-01").unwrap();
    for code in ["INT001", "INT002"] {
        assert!(result.rules_run.contains(&code), "{code}");
        assert!(
            !result.not_assessed.iter().any(|(c, _)| *c == code),
            "{code}"
        );
    }
}

#[test]
fn snapshot_of_int_findings() {
    // Code, item, message and evidence: the account is in the item ids already.
    let text: Vec<String> = finding_rows(&audit())
        .into_iter()
        .map(|row| {
            let mut fields: Vec<&str> = row.split(" | ").collect();
            fields.remove(1);
            fields.join(" | ")
        })
        .collect();
    insta::assert_snapshot!("int_findings_zh", text.join("\n"));
}

/// Working hours are written in whole tenths, never with float noise: the old engine wrote
/// `143.20000000000002` for 143.2 hours when the division was evaluated as a multiplication
/// (caught by the golden outputs when the audit ran unit by unit).
#[test]
fn working_hours_are_written_in_tenths_without_float_noise() {
    use polars::prelude::*;
    let ms = Column::new(
        "ms".into(),
        [
            Some(1_432 * 360_000i64),
            Some(73 * 3_600_000),
            Some(179_999),
            Some(180_001),
            None,
        ],
    );
    let df = DataFrame::new(5, vec![ms])
        .unwrap()
        .lazy()
        .select([super::hours_text(col("ms")).alias("text")])
        .collect()
        .unwrap();
    let text: Vec<Option<&str>> = df.column("text").unwrap().str().unwrap().iter().collect();
    assert_eq!(
        text,
        [Some("143.2"), Some("73.0"), Some("0.0"), Some("0.1"), None]
    );
}

/// The punctuation the fast paths skip without the Unicode tables is none of it alphanumeric.
#[test]
fn common_chinese_punctuation_is_no_word_character() {
    let listed: Vec<char> = ('\u{80}'..='\u{FFFF}')
        .filter(|&c| super::is_common_cjk_punctuation(c))
        .collect();
    assert!(listed.len() >= 20, "{listed:?}");
    for c in listed {
        assert!(!c.is_alphanumeric(), "{c:?}");
    }
}

/// The fast path of reply normalisation (ASCII and CJK) agrees with the general one.
#[test]
fn reply_normalisation_keeps_words_only_on_both_paths() {
    use super::{normalise_reply, word_chars_at_most};
    // The bound never rules out a text that normalises to a phrase that short.
    for text in [
        "您好！已收到，谢谢 OK.",
        " 感谢您的关注!!! ",
        "ＯＫ，收到１２３",
        "Déjà vu — ΣΑΣ",
        "！？…",
        "",
    ] {
        let n = normalise_reply(text).chars().count();
        assert!(word_chars_at_most(text, n), "{text}");
        assert!(n == 0 || !word_chars_at_most(text, n - 1), "{text}");
    }
    assert_eq!(
        normalise_reply("您好！已收到，谢谢 OK."),
        "您好已收到谢谢ok"
    );
    assert_eq!(normalise_reply(" 感谢您的关注!!! "), "感谢您的关注");
    // Other characters take the general path: full-width letters and digits, accents, Greek.
    assert_eq!(normalise_reply("ＯＫ，收到１２３"), "ｏｋ收到１２３");
    assert_eq!(normalise_reply("Déjà vu — ΣΑΣ"), "déjàvuσας");
    assert_eq!(normalise_reply("…"), "");
    // The byte-run path keeps what the general definition keeps: every alphanumeric character,
    // lowercased. Edges: U+4DFF and U+4E00 (the ideograph range's first lead bytes), U+9FFF and
    // U+A000, a reply ending in an ideograph or a capital, fullwidth letters, emoji, mixed runs.
    for text in [
        "䷿一丁",
        "鿿ꀀ",
        "ABC政务Def，123！",
        "您好，请拨打12345咨询。Thanks",
        "回复A",
        "ＡＢ１",
        "收到😀谢谢",
        "  ",
        "x",
        "“已转交”《通知》【办理】…—·",
        "MiXeD中文-_-Text42",
    ] {
        let general: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
        assert_eq!(normalise_reply(text), general.to_lowercase(), "{text:?}");
    }
}

#[test]
fn the_common_cjk_punctuation_list_holds_no_word_characters() {
    let listed: Vec<char> = ('\u{0}'..='\u{FFFF}')
        .filter(|&c| super::is_common_cjk_punctuation(c))
        .collect();
    assert_eq!(listed.len(), 28);
    assert!(listed.iter().all(|c| !c.is_alphanumeric()), "{listed:?}");
}

/// The comment measurements do not depend on the comments' order: the store keeps an account's
/// comments together, but an account's comments spread among others' count the same.
#[test]
fn comment_measurements_do_not_depend_on_the_comments_order() {
    let measure = |comments: &str| {
        let ctx = Fixture::at("2024-11-30")
            .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
            .jsonl(&POSTS, POSTS_JSONL)
            .jsonl(&COMMENTS, comments)
            .context();
        let columns = [
            "account_id",
            "comments",
            "replied",
            "reply_p50_hours",
            "reply_p90_hours",
            "replied_on_time",
        ];
        crate::measurements::per_account(&ctx, crate::engine::Reads::COMMENTS)
            .unwrap()
            .select(columns.map(polars::prelude::col))
            .collect()
            .unwrap()
    };
    let lines: Vec<&str> = COMMENTS_JSONL.lines().filter(|l| !l.is_empty()).collect();
    // The weibo account's comments first, then the WeChat account's, alternately.
    let (wechat, weibo): (Vec<&str>, Vec<&str>) =
        lines.iter().partition(|l| l.contains("wechat:gh_a"));
    let mut mixed: Vec<&str> = Vec::new();
    for i in 0..wechat.len().max(weibo.len()) {
        mixed.extend(weibo.get(i).copied());
        mixed.extend(wechat.get(i).copied());
    }
    let in_order = measure(COMMENTS_JSONL);
    assert_eq!(in_order, measure(&mixed.join("\n")));
    // The weibo account: four answered comments, three of them within the deadline.
    let weibo_row = in_order
        .column("account_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .position(|a| a == Some("weibo:2"))
        .unwrap();
    let cell = |name: &str| {
        in_order
            .column(name)
            .unwrap()
            .get(weibo_row)
            .unwrap()
            .to_string()
    };
    assert_eq!(
        (cell("comments"), cell("replied")),
        ("4".into(), "4".into())
    );
    assert_eq!(cell("replied_on_time"), "3");
}
