//! One page per account (`accounts/<account_id>.html`): who the account is, its score and tier
//! (a veto banner when it failed), influence and rank, the charts inline, and its findings by
//! family with evidence, a link to the item and how to fix it. Every text from the data is
//! escaped by the template; only http(s) URLs become links.

use std::collections::HashMap;
use std::path::Path;

use govmedia_collectors::store::write_replacing;
use govmedia_rules::measurements::{CATEGORY_COLUMNS, LATENCY_BUCKET_HOURS, MONTHLY_COUNTERS};
use govmedia_rules::scoring::RubricPack;
use govmedia_rules::{Lang, registry};
use minijinja::Environment;
use polars::prelude::*;
use serde::Serialize;

use crate::account_charts::{
    RubricBar, content_mix_svg, engagement_svg, line_chart_svg, reply_latency_svg, rubric_svg,
};
use crate::charts::{WeekBar, weekly_updates_svg};
use crate::history::TrendPoint;
use crate::{Error, account_file_stem};

pub const ACCOUNTS_DIR: &str = "accounts";
/// Findings listed per rule on a page; the rest are counted (the CSV has them all).
const FINDINGS_PER_RULE: usize = 50;

/// A URL that may become a link: http or https only (no `javascript:`, `data:` …).
pub fn safe_link(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct AccountHeader {
    pub account_id: String,
    pub name: String,
    pub platform_label: String,
    pub kind: Option<String>,
    pub org_name: String,
    pub certification: Option<String>,
    pub verified: String,
    pub home_url: Option<String>,
    pub score: String,
    pub tier: String,
    pub veto: bool,
    pub veto_reasons: String,
    pub assessed_weight: String,
    pub not_assessed: Option<String>,
    pub influence: String,
    pub index_name: String,
    pub rank: String,
    pub level: String,
    pub findings_total: usize,
    pub reply_rate: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingItem {
    pub severity: String,
    pub severity_label: String,
    pub occurred: String,
    pub message: String,
    pub evidence: String,
    pub link: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleFindings {
    pub code: String,
    pub name: String,
    pub count: usize,
    pub items: Vec<FindingItem>,
    pub more: usize,
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Family {
    pub label: String,
    pub count: usize,
    pub rules: Vec<RuleFindings>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub kind: &'static str,
    pub label: String,
    pub svg: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountPage {
    pub a: AccountHeader,
    pub charts: Vec<Chart>,
    pub families: Vec<Family>,
    pub rubric: String,
}

fn family_label(family: &str, lang: Lang) -> String {
    let (zh, en) = match family {
        "UPD" => ("信息更新", "Updates"),
        "CNT" => ("信息内容", "Content"),
        "NAM" => ("名称与认证", "Naming and certification"),
        "OPN" => ("集约开设", "One account per unit"),
        "INT" => ("互动回应", "Interaction"),
        "SVC" => ("服务功能", "Services"),
        other => (other, other),
    };
    lang.pick(zh, en).to_string()
}

/// A rule's title in the report's language (the rule docs themselves are in English).
pub fn rule_title(code: &str, summary: &str, lang: Lang) -> String {
    let zh = match code {
        "UPD001" => "整周（服务号两周）更新次数不足",
        "UPD002" => "监测时间点前2周内无更新（单项否决）",
        "UPD003" => "180天以上未更新（僵尸账号）",
        "CNT001" => "含商业广告用语或价格信息",
        "CNT002" => "链接商业网站",
        "CNT003" => "带有平台广告位",
        "CNT004" => "内容与职能无关或过度娱乐化",
        "CNT005" => "疑似错敏词（需人工复核）",
        "CNT006" => "未发布政策文件、解读或回应关切类信息",
        "NAM001" => "名称未体现主办单位或职能",
        "NAM002" => "同一单位在不同平台名称不一致",
        "NAM003" => "认证信息缺失或未体现主办单位",
        "NAM004" => "名称或认证仍使用单位旧称",
        "NAM005" => "账号未认证",
        "NAM006" => "以内设机构名义开设账号",
        "OPN001" => "同一单位同一平台开设多个账号",
        "INT001" => "留言回复超时",
        "INT002" => "留言超时未回复",
        "INT003" => "回复敷衍、雷同或不当",
        "INT004" => "不当留言仍公开显示",
        "INT005" => "未提供有效互动功能（单项否决）",
        "INT006" => "征集调查后未公布结果",
        "SVC001" => "菜单无办事服务入口",
        "SVC002" => "菜单无查询服务入口",
        "SVC003" => "菜单链接失效",
        "SVC004" => "服务入口仅跳转门户首页",
        _ => summary,
    };
    lang.pick(zh, summary).to_string()
}

/// The display name of an account kind.
pub fn kind_label(kind: &str, lang: Lang) -> String {
    let (zh, en) = match kind {
        "subscription" => ("订阅号", "subscription account"),
        "service" => ("服务号", "service account"),
        "weibo" => ("微博", "Weibo"),
        "app" => ("App", "app"),
        other => (other, other),
    };
    lang.pick(zh, en).to_string()
}

fn severity_label(severity: &str, lang: Lang) -> String {
    let (zh, en) = match severity {
        "veto" => ("单项否决", "veto"),
        "deduct" => ("扣分", "deduct"),
        _ => ("提示", "notice"),
    };
    lang.pick(zh, en).to_string()
}

#[derive(Serialize)]
struct Labels {
    html_lang: &'static str,
    title: &'static str,
    back: &'static str,
    org: &'static str,
    certification: &'static str,
    verified: &'static str,
    score: &'static str,
    assessed_weight: &'static str,
    influence: &'static str,
    rank: &'static str,
    findings: &'static str,
    veto_banner: &'static str,
    not_assessed: &'static str,
    charts: &'static str,
    reply_rate: &'static str,
    no_findings: &'static str,
    severity: &'static str,
    occurred: &'static str,
    message: &'static str,
    evidence: &'static str,
    open_link: &'static str,
    more: &'static str,
    how_to_fix: &'static str,
    generated_by: &'static str,
}

fn labels(lang: Lang) -> Labels {
    let p = |zh, en| lang.pick(zh, en);
    Labels {
        html_lang: p("zh-CN", "en"),
        title: p("政务新媒体检查报告", "Government new-media audit"),
        back: p("返回总览", "back to the overview"),
        org: p("主办单位", "Sponsoring org"),
        certification: p("认证信息", "Certification"),
        verified: p("认证状态", "Verified"),
        score: p("得分", "Score"),
        assessed_weight: p("已评估权重", "Assessed weight"),
        influence: p("影响力指数", "Influence index"),
        rank: p("组内排名", "Rank in group"),
        findings: p("发现的问题", "Findings"),
        veto_banner: p("不合格（单项否决）：", "Failed (veto): "),
        not_assessed: p(
            "未评估指标（无数据，未计入得分）",
            "Not assessed (no data, left out of the score)",
        ),
        charts: p("图表", "Charts"),
        reply_rate: p("留言回复率", "Reply rate"),
        no_findings: p("未发现问题。", "No findings."),
        severity: p("类别", "Severity"),
        occurred: p("时间", "When"),
        message: p("问题", "Finding"),
        evidence: p("证据", "Evidence"),
        open_link: p("打开原文", "open the item"),
        more: p(
            "另有未列出的问题（见 findings.csv）：",
            "more not listed (see findings.csv):",
        ),
        how_to_fix: p("整改建议：", "How to fix:"),
        generated_by: p("由 govmedia 生成", "Generated by govmedia"),
    }
}

fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.add_template("account.html", include_str!("../templates/account.html"))?;
    Ok(env)
}

pub fn render_account(page: &AccountPage, lang: Lang) -> Result<String, Error> {
    let env = environment()?;
    Ok(env
        .get_template("account.html")?
        .render(minijinja::context! {
            t => labels(lang),
            ..minijinja::Value::from_serialize(page)
        })?)
}

/// Everything the pages need, gathered once from the audit's tables.
pub struct PageInputs<'a> {
    pub lang: Lang,
    pub rubric: &'a RubricPack,
    pub as_of: chrono::NaiveDate,
    pub headers: Vec<AccountHeader>,
    /// Rubric item points per account (item order of the pack), and the platform.
    pub items: HashMap<String, (String, Vec<Option<f64>>)>,
    pub weeks: HashMap<String, (Vec<WeekBar>, f64)>,
    pub latency: HashMap<String, Vec<i64>>,
    pub monthly: HashMap<String, Vec<MonthRow>>,
    pub findings: HashMap<String, Vec<FindingRow>>,
    pub sla_hours: f64,
    /// Per account: its score and findings over the past audits and this one, oldest first;
    /// empty without an audit history.
    pub trend: HashMap<String, Vec<TrendPoint>>,
}

#[derive(Debug, Clone)]
pub struct MonthRow {
    pub month: String,
    pub categories: [i64; 6],
    pub counters: [i64; 6],
}

#[derive(Debug, Clone)]
pub struct FindingRow {
    pub code: String,
    pub severity: String,
    pub occurred: String,
    pub message: String,
    pub evidence: String,
    /// The item the finding names (post, comment, menu entry, period), as in findings.csv.
    pub item_id: Option<String>,
    /// The item's own URL from the store (`item_links`), when it has one.
    pub link: Option<String>,
}

fn families(rows: &[FindingRow], lang: Lang) -> Vec<Family> {
    let mut out: Vec<Family> = Vec::new();
    for info in registry().iter().map(|r| r.info()) {
        let mine: Vec<&FindingRow> = rows.iter().filter(|f| f.code == info.code).collect();
        if mine.is_empty() {
            continue;
        }
        let rule = RuleFindings {
            code: info.code.to_string(),
            name: rule_title(info.code, info.summary, lang),
            count: mine.len(),
            more: mine.len().saturating_sub(FINDINGS_PER_RULE),
            items: mine
                .iter()
                .take(FINDINGS_PER_RULE)
                .map(|f| FindingItem {
                    severity: f.severity.clone(),
                    severity_label: severity_label(&f.severity, lang),
                    occurred: f.occurred.clone(),
                    message: f.message.clone(),
                    evidence: crate::evidence::localized(&f.evidence, lang),
                    link: f.link.clone(),
                })
                .collect(),
            fix: info.doc_section(lang.pick("整改建议", "How to fix")),
        };
        let label = family_label(info.family(), lang);
        match out.iter_mut().find(|f| f.label == label) {
            Some(family) => {
                family.count += rule.count;
                family.rules.push(rule);
            }
            None => out.push(Family {
                label,
                count: rule.count,
                rules: vec![rule],
            }),
        }
    }
    out
}

fn charts_for(header: &AccountHeader, inputs: &PageInputs) -> Result<Vec<Chart>, Error> {
    let lang = inputs.lang;
    let id = header.account_id.as_str();
    let mut charts = Vec::new();
    let (weeks, threshold) = inputs
        .weeks
        .get(id)
        .map(|(w, t)| (w.as_slice(), *t))
        .unwrap_or((&[], 1.0));
    let veto_from = inputs.as_of - chrono::Duration::days(13);
    charts.push(Chart {
        kind: "weekly",
        label: lang.pick("每周更新", "weekly updates").into(),
        svg: weekly_updates_svg(
            lang.pick("每周更新次数", "Updates per week"),
            weeks,
            threshold,
            Some((veto_from, inputs.as_of)),
            lang,
        )?,
    });
    let mut bucket_labels: Vec<String> = Vec::new();
    let mut lower = 0.0;
    for upper in LATENCY_BUCKET_HOURS {
        bucket_labels.push(format!("{lower}-{upper}h"));
        lower = upper;
    }
    bucket_labels.push(format!("≥{lower}h"));
    let deadline_bucket = LATENCY_BUCKET_HOURS
        .iter()
        .position(|b| *b >= inputs.sla_hours)
        .map_or(LATENCY_BUCKET_HOURS.len(), |i| i + 1);
    let replies = inputs
        .latency
        .get(id)
        .cloned()
        .unwrap_or_else(|| vec![0; bucket_labels.len()]);
    let deadline = match lang {
        Lang::Zh => format!("回复时限（{} 个工作小时）", inputs.sla_hours),
        Lang::En => format!("deadline ({} working hours)", inputs.sla_hours),
    };
    charts.push(Chart {
        kind: "latency",
        label: lang.pick("留言回复用时", "reply latency").into(),
        svg: reply_latency_svg(
            lang.pick("留言回复用时（工作小时）", "Reply latency (working hours)"),
            &bucket_labels,
            &replies,
            deadline_bucket,
            &deadline,
            lang,
        )?,
    });
    if let Some((platform, points)) = inputs.items.get(id) {
        let bars: Vec<RubricBar> = inputs
            .rubric
            .items
            .iter()
            .zip(points)
            .filter_map(|(item, p)| {
                Some(RubricBar {
                    label: item.label(lang == Lang::En).to_string(),
                    weight: item.weight(platform)?,
                    points: *p,
                })
            })
            .collect();
        charts.push(Chart {
            kind: "rubric",
            label: lang.pick("评分构成", "score breakdown").into(),
            svg: rubric_svg(lang.pick("各项得分", "Points by item"), &bars, lang)?,
        });
    }
    let months = inputs.monthly.get(id).cloned().unwrap_or_default();
    let month_labels: Vec<String> = months.iter().map(|m| m.month.clone()).collect();
    let categories: Vec<(String, Vec<i64>)> = CATEGORY_COLUMNS
        .iter()
        .enumerate()
        .map(|(c, (zh, _))| {
            let label = match (lang, *zh) {
                (Lang::Zh, _) => zh.to_string(),
                (Lang::En, "政策文件") => "policy documents".into(),
                (Lang::En, "政策解读") => "interpretations".into(),
                (Lang::En, "回应关切") => "responses".into(),
                (Lang::En, "征集调查") => "consultations".into(),
                (Lang::En, "结果反馈") => "feedback".into(),
                (Lang::En, _) => "news".into(),
            };
            (label, months.iter().map(|m| m.categories[c]).collect())
        })
        .collect();
    charts.push(Chart {
        kind: "content",
        label: lang.pick("内容构成", "content mix").into(),
        svg: content_mix_svg(
            lang.pick("每月发文构成", "Posts per month by kind"),
            &month_labels,
            &categories,
            lang,
        )?,
    });
    let series: Vec<(String, Vec<i64>)> = MONTHLY_COUNTERS
        .iter()
        .enumerate()
        .filter(|(c, _)| months.iter().any(|m| m.counters[*c] > 0))
        .map(|(c, (_, name))| {
            let label = match (lang, *name) {
                (Lang::En, n) => n.to_string(),
                (_, "reads") => "阅读".into(),
                (_, "likes") => "点赞".into(),
                (_, "watches") => "在看".into(),
                (_, "shares") => "分享".into(),
                (_, "comments") => "评论".into(),
                _ => "转发".into(),
            };
            (label, months.iter().map(|m| m.counters[c]).collect())
        })
        .collect();
    if let Some(points) = inputs.trend.get(id).filter(|p| p.len() > 1) {
        let dates: Vec<String> = points.iter().map(|p| p.as_of.clone()).collect();
        let series = vec![
            (
                lang.pick("得分", "score").to_string(),
                points.iter().map(|p| p.score.unwrap_or(0.0)).collect(),
            ),
            (
                lang.pick("问题数", "findings").to_string(),
                points.iter().map(|p| p.findings as f64).collect(),
            ),
        ];
        charts.push(Chart {
            kind: "trend",
            label: lang.pick("历次检查", "past audits").into(),
            svg: line_chart_svg(
                lang.pick("历次检查得分与问题数", "Score and findings over audits"),
                &dates,
                &series,
                lang.pick("得分 / 问题数", "score / findings"),
            )?,
        });
    }
    charts.push(Chart {
        kind: "engagement",
        label: lang.pick("互动与影响力", "engagement").into(),
        svg: engagement_svg(
            lang.pick("每月互动量", "Engagement per month"),
            &month_labels,
            &series,
            lang,
        )?,
    });
    Ok(charts)
}

/// The page of one account.
pub fn account_page(header: &AccountHeader, inputs: &PageInputs) -> Result<AccountPage, Error> {
    let empty = Vec::new();
    let rows = inputs.findings.get(&header.account_id).unwrap_or(&empty);
    Ok(AccountPage {
        a: AccountHeader {
            findings_total: rows.len(),
            ..header.clone()
        },
        charts: charts_for(header, inputs)?,
        families: families(rows, inputs.lang),
        rubric: inputs.rubric.pack.label(),
    })
}

/// Writes every account's page under `out/accounts/`, on all cores. Returns the count.
pub fn write_account_pages(out: &Path, inputs: &PageInputs) -> Result<usize, Error> {
    let dir = out.join(ACCOUNTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| govmedia_collectors::Error::io(&dir, e))?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = inputs.headers.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| -> Result<usize, Error> {
        let handles: Vec<_> = inputs
            .headers
            .chunks(chunk)
            .map(|part| {
                let dir = &dir;
                scope.spawn(move || -> Result<usize, Error> {
                    for header in part {
                        let page = account_page(header, inputs)?;
                        let html = render_account(&page, inputs.lang)?;
                        let path =
                            dir.join(format!("{}.html", account_file_stem(&header.account_id)));
                        write_replacing(&path, |f| std::io::Write::write_all(f, html.as_bytes()))?;
                    }
                    Ok(part.len())
                })
            })
            .collect();
        let mut written = 0;
        for h in handles {
            written += h
                .join()
                .map_err(|_| Error::Chart("page worker".into(), "panicked".into()))??;
        }
        Ok(written)
    })
}

/// Text of a cell for a header field; `—` when missing.
pub fn or_dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

/// A column's values as owned text (numbers and other types cast to text).
pub fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.map(String::from))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_become_links() {
        assert_eq!(
            safe_link("https://weibo.com/1/2").as_deref(),
            Some("https://weibo.com/1/2")
        );
        assert_eq!(safe_link("javascript:alert(1)"), None);
        assert_eq!(safe_link("data:text/html,<script>"), None);
    }
}

#[cfg(test)]
mod page_tests {
    use super::*;
    use govmedia_rules::scoring::RubricPack;

    const PAYLOADS: [&str; 3] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        "javascript:alert(3)",
    ];

    fn inputs<'a>(rubric: &'a RubricPack, lang: Lang, text: &str) -> PageInputs<'a> {
        let header = AccountHeader {
            account_id: "weibo:1".into(),
            name: format!("某市发布{text}"),
            platform_label: "政务微博".into(),
            kind: Some(text.into()),
            org_name: text.into(),
            certification: Some(text.into()),
            verified: "已认证".into(),
            home_url: safe_link(text),
            score: "91.5".into(),
            tier: "不合格".into(),
            veto: true,
            veto_reasons: text.into(),
            assessed_weight: "96".into(),
            not_assessed: Some(text.into()),
            influence: "700.1".into(),
            index_name: "BCI".into(),
            rank: "2/5".into(),
            level: text.into(),
            findings_total: 0,
            reply_rate: Some("50.0%".into()),
        };
        let start = chrono::NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
        let mut findings = HashMap::new();
        findings.insert(
            "weibo:1".to_string(),
            vec![
                FindingRow {
                    code: "CNT001".into(),
                    severity: "deduct".into(),
                    occurred: "2025-11-10 09:00".into(),
                    message: format!("广告{text}"),
                    evidence: format!("title: {text} — {text}"),
                    item_id: Some("p1".into()),
                    link: safe_link(text),
                },
                FindingRow {
                    code: "INT005".into(),
                    severity: "veto".into(),
                    occurred: "2025-11-30 00:00".into(),
                    message: "未提供有效互动功能".into(),
                    evidence: "comments closed — https://weibo.com/1/2".into(),
                    item_id: None,
                    link: safe_link("https://weibo.com/1/2"),
                },
            ],
        );
        PageInputs {
            lang,
            rubric,
            as_of: chrono::NaiveDate::from_ymd_opt(2025, 11, 30).unwrap(),
            headers: vec![header],
            items: HashMap::from([(
                "weibo:1".to_string(),
                (
                    "weibo".to_string(),
                    vec![
                        Some(18.0),
                        Some(20.0),
                        None,
                        None,
                        None,
                        None,
                        None,
                        Some(7.0),
                        Some(3.0),
                        Some(18.0),
                        Some(18.0),
                        None,
                        None,
                        None,
                    ],
                ),
            )]),
            weeks: HashMap::from([(
                "weibo:1".to_string(),
                (
                    (0..4)
                        .map(|i| WeekBar {
                            week_start: start + chrono::Duration::weeks(i),
                            updates: i,
                            judged: true,
                        })
                        .collect(),
                    1.0,
                ),
            )]),
            latency: HashMap::from([("weibo:1".to_string(), vec![3, 2, 1, 0, 1, 0])]),
            monthly: HashMap::from([(
                "weibo:1".to_string(),
                vec![MonthRow {
                    month: "2025-11".into(),
                    categories: [1, 0, 0, 0, 0, 5],
                    counters: [0, 30, 0, 0, 4, 2],
                }],
            )]),
            findings,
            sla_hours: 72.0,
            trend: HashMap::new(),
        }
    }

    fn render(lang: Lang, text: &str) -> String {
        let rubric = RubricPack::builtin();
        let inputs = inputs(&rubric, lang, text);
        let page = account_page(&inputs.headers[0], &inputs).unwrap();
        render_account(&page, lang).unwrap()
    }

    #[test]
    fn every_field_is_escaped_and_only_http_urls_become_links() {
        for payload in PAYLOADS {
            let html = render(Lang::Zh, payload);
            assert!(!html.contains("<script>alert"), "{payload}");
            assert!(!html.contains("<img src=x"), "{payload}");
            assert!(!html.contains("href=\"javascript:"), "{payload}");
        }
        let html = render(Lang::Zh, "ok");
        // Autoescaping writes `/` as `&#x2f;` inside the attribute; browsers read it back.
        assert!(
            html.contains("href=\"https:&#x2f;&#x2f;weibo.com&#x2f;1&#x2f;2\""),
            "an http evidence URL is a link"
        );
        assert!(html.contains("不合格（单项否决）"), "veto banner");
    }

    #[test]
    fn every_chart_is_present_with_its_marks() {
        let html = render(Lang::Zh, "ok");
        for kind in ["weekly", "latency", "rubric", "content", "engagement"] {
            assert!(html.contains(&format!("data-chart=\"{kind}\"")), "{kind}");
        }
        for mark in [
            "更新要求",
            "否决窗口",
            "回复时限（72 个工作小时）",
            "未评估 / 2",
        ] {
            assert!(html.contains(mark), "{mark}");
        }
    }

    #[test]
    fn english_pages_have_no_chinese_labels() {
        let html = render(Lang::En, "ok");
        // The fixture's own data is Chinese (account name, messages), and the rules' fix texts
        // quote Chinese examples: strip those, the rest is UI.
        let mut ui = html.clone();
        while let Some(start) = ui.find("<p class=\"fix\">") {
            let end = ui[start..].find("</p>").map_or(ui.len(), |e| start + e + 4);
            ui.replace_range(start..end, "");
        }
        let ui: String = ui
            .replace("某市发布", "")
            .replace("广告", "")
            .replace("未提供有效互动功能", "")
            .replace("政务微博", "")
            .replace("已认证", "")
            .replace("不合格", "");
        let chinese: Vec<char> = ui
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .collect();
        assert!(
            chinese.is_empty(),
            "Chinese UI text in the English page: {:?}",
            chinese.iter().take(20).collect::<String>()
        );
    }

    #[test]
    fn snapshot_of_a_small_account_page() {
        insta::assert_snapshot!("account_page", render(Lang::Zh, "ok"));
    }
}
