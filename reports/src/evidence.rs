//! Evidence in the page's language. A finding's `evidence` is a stable, machine-readable English
//! sentence (what the CSV, JSON and Parquet keep, and what scripts parse); a Chinese page shows
//! it in Chinese. Each rule's evidence shapes are rewritten by the patterns below; ids, dates,
//! numbers, names, quoted text and URLs are carried over as they are. A sentence no pattern
//! knows is shown as it is (a new rule's evidence appears in English until it gets a pattern).

use std::sync::OnceLock;

use govmedia_rules::Lang;
use regex::{Regex, RegexSet};

use crate::memo::BoundedMemo;

/// (pattern, replacement) in the order they are tried; each applies to the whole sentence or
/// to a recognisable part of it.
const PATTERNS: &[(&str, &str)] = &[
    // UPD001
    (
        r"^(\S+~\S+): (\d+) updates \(min (\d+)\)$",
        "${1}：更新 ${2} 次（要求至少 ${3} 次）",
    ),
    // UPD002, UPD003
    (
        r"^last update (\S+), (\d+) days before (\S+)(: .*)?$",
        "最后更新 ${1}，距 ${3} 已 ${2} 天${4}",
    ),
    (
        r"^no update on record before (\S+)$",
        "截至 ${1} 无更新记录",
    ),
    // INT002
    (
        r"^comment (\S+) on post (\S+): open for ([\d.]+) working hours at (\S+) \(deadline (\d+)\)$",
        "帖子 ${2} 的留言 ${1}：截至 ${4} 已 ${3} 个工作小时未回复（时限 ${5} 小时）",
    ),
    // INT001
    (
        r"^comment (\S+) on post (\S+): ([\d.]+) working hours \(deadline (\d+)\)$",
        "帖子 ${2} 的留言 ${1}：${3} 个工作小时后回复（时限 ${4} 小时）",
    ),
    // INT003
    (
        r"^reply to comment (\S+) on post (\S+): ",
        "帖子 ${2} 的留言 ${1} 的回复：",
    ),
    // INT004
    (r"^comment (\S+) on post (\S+): ", "帖子 ${2} 的留言 ${1}："),
    // INT005
    (
        r"^comments/messages disabled for the account$",
        "账号关闭了留言/私信功能",
    ),
    // INT006
    (r"^post (\S+) \[", "发文 ${1} ["),
    // CNT006
    (
        r"^(\d+) of (\d+) posts are (.*)$",
        "${2} 条发文中 ${1} 条为 ${3}",
    ),
    // CNT001–CNT005: the field, then the lexicon.
    (r"^text: ", "正文："),
    (r"^title: ", "标题："),
    (r"^digest: ", "摘要："),
    (r"^links: ", "链接："),
    (r"^content_html: ", "正文 HTML："),
    (r" \[lexicon (\S+)\]", " [词库 ${1}]"),
    // NAM001
    (
        r"^name (.*); org (.*) \(short names: (.*); duty keywords: (.*)\)$",
        "名称 ${1}；主办单位 ${2}（简称：${3}；职能关键词：${4}）",
    ),
    // NAM003, NAM004
    (
        r"^certification missing; org (.*)$",
        "认证信息缺失；主办单位 ${1}",
    ),
    (
        r"^certification (.*); former name (.*) until (\S+); current (.*)$",
        "认证信息 ${1}；原名称 ${2}（至 ${3}）；现名称 ${4}",
    ),
    (
        r"^certification (.*); org (.*)$",
        "认证信息 ${1}；主办单位 ${2}",
    ),
    // NAM005
    (
        r"^verified=(\w+), verified_type=(-?\d+) \(1 = government expected\)$",
        "认证状态 ${1}，认证类型 ${2}（应为 1：政府）",
    ),
    (
        r"^verified=(\w+), verify_type=(-?\d+)(.*)$",
        "认证状态 ${1}，认证类型 ${2}${3}",
    ),
    // NAM006
    (
        r"^org (.*) \((\S+)\) is marked internal_dept$",
        "主办单位 ${1}（${2}）为内设机构",
    ),
    // NAM002: platform names.
    (r" \(wechat\)", "（微信）"),
    (r" \(weibo\)", "（微博）"),
    (r" \(app\)", "（App）"),
    (r"）( vs )", "）与 "),
    // OPN001
    (
        r"^active (\w+) accounts of (\S+): ",
        "主办单位 ${2} 开设的 ${1} 账号：",
    ),
    // SVC001, SVC002
    (
        r"^none of (\d+) menu entries matches \(e\.g\. (.*)\)$",
        "${1} 个菜单项均不匹配（如 ${2}）",
    ),
    (r"^no menu on record$", "无菜单记录"),
    // SVC003
    (
        r"^(\S+): HTTP (\d+) on (\d+) checks$",
        "${1}：连续 ${3} 次检查返回 HTTP ${2}",
    ),
    (
        r"^(\S+): (.*) on (\d+) checks$",
        "${1}：连续 ${3} 次检查 ${2}",
    ),
];

/// The patterns, and the same patterns as one set: a page localises every finding it shows,
/// and trying ~30 regexes one after another on each sentence was a twentieth of a flagged
/// national audit's page time. The set says in one pass which patterns match.
struct Compiled {
    patterns: Vec<(Regex, &'static str)>,
    set: RegexSet,
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| Compiled {
        patterns: PATTERNS
            .iter()
            .map(|(p, r)| (Regex::new(p).expect("evidence pattern compiles"), *r))
            .collect(),
        set: RegexSet::new(PATTERNS.iter().map(|(p, _)| p)).expect("evidence patterns compile"),
    })
}

/// The evidence as a page in `lang` shows it.
pub fn localized(evidence: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return evidence.to_string();
    }
    // Many accounts share a sentence (UPD001's "week: 0 updates (min 1)" for the same weeks):
    // each page thread remembers the last few thousand it rewrote.
    thread_local! {
        static SEEN: std::cell::RefCell<BoundedMemo<String, String>> =
            std::cell::RefCell::new(BoundedMemo::new(4096));
    }
    if let Some(text) = reply_time_in_chinese(evidence) {
        return text;
    }
    if let Some(text) = SEEN.with_borrow(|seen| seen.get(evidence)) {
        return text;
    }
    let text = rewritten(evidence);
    SEEN.with_borrow_mut(|seen| seen.insert(evidence.to_string(), text.clone()));
    text
}

/// INT002's and INT001's evidence in Chinese, read without the patterns; `None` for any other
/// sentence. A national audit's pages show 700,000 INT002 findings, each about its own comment:
/// none repeats, so the memo never helped, and the patterns (the set twice, then the captures)
/// were a thirtieth of the pages' time. Gives exactly what [`rewritten`] gives: the same
/// shapes read the same way (ids and dates are runs without white space, numbers ASCII), and a
/// sentence where a later pattern could still apply to the rewritten text (a `(` or `[` in an
/// id) is left to the patterns.
fn reply_time_in_chinese(evidence: &str) -> Option<String> {
    /// The run of characters up to the first white space (`\S+`), and what follows it.
    fn token(text: &str) -> Option<(&str, &str)> {
        let end = text.find(char::is_whitespace).unwrap_or(text.len());
        (end > 0).then(|| text.split_at(end))
    }
    /// A run of ASCII digits (and dots, if `dots`), and what follows it.
    fn number(text: &str, dots: bool) -> Option<(&str, &str)> {
        let end = text
            .find(|c: char| !(c.is_ascii_digit() || (dots && c == '.')))
            .unwrap_or(text.len());
        (end > 0).then(|| text.split_at(end))
    }
    let rest = evidence.strip_prefix("comment ")?;
    let (comment, rest) = token(rest)?;
    let (post, rest) = token(rest.strip_prefix(" on post ")?)?;
    // `(\S+): `: the run ends with the colon.
    let post = post.strip_suffix(':').filter(|p| !p.is_empty())?;
    let rest = rest.strip_prefix(' ')?;
    let (open, rest) = match rest.strip_prefix("open for ") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (hours, rest) = number(rest, true)?;
    let (at, rest) = if open {
        let (at, rest) = token(rest.strip_prefix(" working hours at ")?)?;
        (Some(at), rest.strip_prefix(" (deadline ")?)
    } else {
        (None, rest.strip_prefix(" working hours (deadline ")?)
    };
    let (deadline, rest) = number(rest, false)?;
    if rest != ")" {
        return None;
    }
    let later_pattern_could_apply = [comment, post, at.unwrap_or_default()]
        .iter()
        .any(|t| t.contains(['(', '[', '）']));
    if later_pattern_could_apply {
        return None;
    }
    let mut text = String::with_capacity(evidence.len() + 32);
    for part in ["帖子 ", post, " 的留言 ", comment, "："] {
        text.push_str(part);
    }
    match at {
        Some(at) => {
            for part in ["截至 ", at, " 已 ", hours, " 个工作小时未回复（时限 "] {
                text.push_str(part);
            }
        }
        None => {
            for part in [hours, " 个工作小时后回复（时限 "] {
                text.push_str(part);
            }
        }
    }
    for part in [deadline, " 小时）"] {
        text.push_str(part);
    }
    Some(text)
}

/// The evidence in Chinese. The patterns apply in their order, each to the text the ones before
/// it left (NAM002's `）( vs )` matches only once a platform name is in Chinese). The set is
/// asked again after each rewrite, for the patterns after the one applied: the same as trying
/// each in turn.
fn rewritten(evidence: &str) -> String {
    let Compiled { patterns, set } = compiled();
    let mut text = evidence.to_string();
    let mut next = 0;
    while let Some(i) = set.matches(&text).iter().find(|&i| i >= next) {
        let (pattern, replacement) = &patterns[i];
        text = pattern.replace_all(&text, *replacement).into_owned();
        next = i + 1;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rules_evidence_shape_reads_in_chinese() {
        let cases = [
            (
                "2025-10-27~2025-11-02: 0 updates (min 1)",
                "2025-10-27~2025-11-02：更新 0 次（要求至少 1 次）",
            ),
            (
                "last update 2025-01-22, 312 days before 2025-11-30: https://weibo.com/1/2",
                "最后更新 2025-01-22，距 2025-11-30 已 312 天: https://weibo.com/1/2",
            ),
            (
                "comment 7600034 on post 5000000000760070: open for 1235.4 working hours at 2025-11-30 (deadline 72)",
                "帖子 5000000000760070 的留言 7600034：截至 2025-11-30 已 1235.4 个工作小时未回复（时限 72 小时）",
            ),
            (
                "comment 7100070 on post 2247480188_1: 143.2 working hours (deadline 72)",
                "帖子 2247480188_1 的留言 7100070：143.2 个工作小时后回复（时限 72 小时）",
            ),
            (
                "reply to comment 2100073 on post 5000000000210208: 感谢关注",
                "帖子 5000000000210208 的留言 2100073 的回复：感谢关注",
            ),
            (
                "comment 3100053 on post 5000000000310192: 【加微信领取】兼职刷单",
                "帖子 5000000000310192 的留言 3100053：【加微信领取】兼职刷单",
            ),
            (
                "comments/messages disabled for the account",
                "账号关闭了留言/私信功能",
            ),
            (
                "0 of 211 posts are 政策文件 / 政策解读 / 回应关切",
                "211 条发文中 0 条为 政策文件 / 政策解读 / 回应关切",
            ),
            (
                "text: 【扫码领取红包】 [lexicon ads] — https://weibo.com/1/2",
                "正文：【扫码领取红包】 [词库 ads] — https://weibo.com/1/2",
            ),
            (
                "name 内蒙之声; org 内蒙古自治区市场监督管理局 (short names: 内蒙古市场监管; duty keywords: 市场监管)",
                "名称 内蒙之声；主办单位 内蒙古自治区市场监督管理局（简称：内蒙古市场监管；职能关键词：市场监管）",
            ),
            (
                "上海人社服务 (wechat) vs 上海人社APP (app), 上海人社微博 (weibo)",
                "上海人社服务（微信）与 上海人社APP（App）, 上海人社微博（微博）",
            ),
            (
                "certification missing; org 太原城关区交通运输局",
                "认证信息缺失；主办单位 太原城关区交通运输局",
            ),
            (
                "certification 大同卫计委官方微博; former name 大同卫计委 until 2018-11-01; current 大同卫健委",
                "认证信息 大同卫计委官方微博；原名称 大同卫计委（至 2018-11-01）；现名称 大同卫健委",
            ),
            (
                "certification 某某官方微博; org 某某局",
                "认证信息 某某官方微博；主办单位 某某局",
            ),
            (
                "verified=false, verified_type=-1 (1 = government expected)",
                "认证状态 false，认证类型 -1（应为 1：政府）",
            ),
            (
                "org 公安部宣传科 (org-m003-xck) is marked internal_dept",
                "主办单位 公安部宣传科（org-m003-xck）为内设机构",
            ),
            (
                "active wechat accounts of org-x130101-00: 城关发布 (wechat:gh_1), 城关发布服务 (wechat:gh_2)",
                "主办单位 org-x130101-00 开设的 wechat 账号：城关发布 (wechat:gh_1), 城关发布服务 (wechat:gh_2)",
            ),
            (
                "none of 3 menu entries matches (e.g. 关于我们/联系我们)",
                "3 个菜单项均不匹配（如 关于我们/联系我们）",
            ),
            (
                "https://www.331301.gov.cn/zcwj/old/index.html: HTTP 404 on 2 checks",
                "https://www.331301.gov.cn/zcwj/old/index.html：连续 2 次检查返回 HTTP 404",
            ),
        ];
        for (english, chinese) in cases {
            assert_eq!(localized(english, Lang::Zh), chinese);
            assert_eq!(localized(english, Lang::En), english);
        }
    }

    /// What `localized` did before the set: every pattern tried in turn on the text so far.
    fn one_by_one(evidence: &str) -> String {
        let mut text = evidence.to_string();
        for (pattern, replacement) in &compiled().patterns {
            if pattern.is_match(&text) {
                text = pattern.replace_all(&text, *replacement).into_owned();
            }
        }
        text
    }

    #[test]
    fn the_set_rewrites_as_the_patterns_one_by_one() {
        let sentences = [
            "2025-10-27~2025-11-02: 0 updates (min 1)",
            "甲 (wechat) vs 乙 (app), 丙 (weibo) vs 丁 (wechat)",
            "title: 【加微信】 [lexicon ads] [lexicon improper] — https://x.cn/ (wechat)",
            "comment 1 on post 2: 【加微信】 [lexicon ads]",
            "reply to comment 1 on post 2: comment 3 on post 4: ",
            "post 9 [lexicon ads] (app)",
            "x: HTTP 500 on 3 checks",
            "x: timeout on 3 checks",
            "last update 2025-01-22, 312 days before 2025-11-30",
            "",
            "no pattern here",
        ];
        for sentence in sentences {
            assert_eq!(
                localized(sentence, Lang::Zh),
                one_by_one(sentence),
                "{sentence}"
            );
        }
    }

    /// The reply-time sentences read without the patterns come out as the patterns write them,
    /// and every sentence the fast reading declines is still rewritten by the patterns.
    #[test]
    fn reply_times_read_directly_are_what_the_patterns_write() {
        let ids = [
            "7600034",
            "5000000000760070",
            "2247480188_1",
            "a:b",
            "x::",
            ":",
            "(wechat)",
            "a(weibo)",
            "[lexicon",
            "q）",
            "中文",
            "١٢٣",
            "",
            "a\tb",
            "a\u{3000}b",
            "a\u{a0}b",
        ];
        let numbers = ["143.2", "0", "72", ".", "1.2.3", "١٢", "", "7a", "3 "];
        let mut sentences = Vec::new();
        for comment in ids {
            for post in ids {
                for hours in numbers {
                    sentences.push(format!(
                        "comment {comment} on post {post}: {hours} working hours (deadline 72)"
                    ));
                    sentences.push(format!(
                        "comment {comment} on post {post}: open for {hours} working hours at 2025-11-30 (deadline {hours})"
                    ));
                }
                for at in ids {
                    sentences.push(format!(
                        "comment {comment} on post {post}: open for 1235.4 working hours at {at} (deadline 72)"
                    ));
                }
            }
        }
        for tail in ["", ")", " ", "x", "\n"] {
            sentences.push(format!(
                "comment 1 on post 2: 3 working hours (deadline 72){tail}"
            ));
            sentences.push(format!(
                "comment 1 on post 2: open for 3 working hours at 2025-11-30 (deadline 72){tail}"
            ));
        }
        sentences.push("comment 1  on post 2: 3 working hours (deadline 72)".into());
        sentences.push("comment 1 on post 2:  3 working hours (deadline 72)".into());
        sentences.push("comment 3100053 on post 5000000000310192: 【加微信领取】兼职刷单".into());
        let mut read_directly = 0;
        for sentence in &sentences {
            let expected = rewritten(sentence);
            if let Some(text) = reply_time_in_chinese(sentence) {
                read_directly += 1;
                assert_eq!(text, expected, "{sentence:?}");
            }
            assert_eq!(localized(sentence, Lang::Zh), expected, "{sentence:?}");
        }
        // The plain shapes are read directly.
        assert!(
            read_directly > 900,
            "{read_directly} of {}",
            sentences.len()
        );
        for plain in [
            "comment 7600034 on post 5000000000760070: open for 1235.4 working hours at 2025-11-30 (deadline 72)",
            "comment 7100070 on post 2247480188_1: 143.2 working hours (deadline 72)",
        ] {
            assert!(reply_time_in_chinese(plain).is_some(), "{plain}");
        }
    }

    #[test]
    fn an_unknown_sentence_is_shown_as_it_is() {
        assert_eq!(localized("something new", Lang::Zh), "something new");
    }
}
