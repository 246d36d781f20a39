//! One page per account (`accounts/<account_id>.html`): who the account is, its score and tier
//! (a veto banner when it failed), influence and rank, the charts inline, and its findings by
//! family with evidence, a link to the item and how to fix it. Every text from the data is
//! escaped as it is written ([`render_account`]); only http(s) URLs become links.

use std::path::{Path, PathBuf};

use polars::prelude::PlHashMap as HashMap;

use govmedia_rules::measurements::{CATEGORY_COLUMNS, LATENCY_BUCKET_HOURS, MONTHLY_COUNTERS};
use govmedia_rules::scoring::RubricPack;
use govmedia_rules::{Lang, registry};
use polars::prelude::*;

use crate::account_charts::{
    RubricBar, content_mix_svg, engagement_svg, line_chart_svg, reply_latency_svg, rubric_svg,
};
use crate::charts::{WeekBar, weekly_updates_svg};
use crate::history::TrendPoint;
use crate::html::push_escaped;
use crate::labels::{family_label, label, rule_title, severity_label};
use crate::memo::BoundedMemo;
use crate::{Error, account_file_stem};

pub const ACCOUNTS_DIR: &str = "accounts";
/// Findings listed per rule on a page; the rest are counted (the CSV has them all).
const FINDINGS_PER_RULE: usize = 50;

/// A URL that may become a link: http or https only (no `javascript:`, `data:` …).
pub fn safe_link(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[derive(Debug, Clone, Default)]
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

#[derive(Debug, Clone)]
pub struct FindingItem {
    pub severity: String,
    pub severity_label: String,
    pub occurred: String,
    pub message: String,
    pub evidence: String,
    pub link: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RuleFindings {
    pub code: String,
    pub name: String,
    pub count: usize,
    pub items: Vec<FindingItem>,
    pub more: usize,
    pub fix: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Family {
    pub label: String,
    pub count: usize,
    pub rules: Vec<RuleFindings>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub kind: &'static str,
    pub label: String,
    pub svg: String,
}

#[derive(Debug, Clone)]
pub struct AccountPage {
    pub a: AccountHeader,
    pub charts: Vec<Chart>,
    pub families: Vec<Family>,
    pub rubric: String,
    /// The audit's monitoring time point (said on the first printed page).
    pub as_of: String,
}

/// The page's HTML. Written straight into one string, in the order the page reads, rather than
/// through a template: a national audit writes 200,000 pages, and the template engine (the
/// page turned into template values, then evaluated) took a sixth of their time. Every text
/// from the data and every label is escaped ([`push_escaped`]); the charts are our own SVG.
pub fn render_account(page: &AccountPage, lang: Lang) -> String {
    let a = &page.a;
    let t = |key: &'static str| label(key, lang);
    let mut html =
        String::with_capacity(8192 + page.charts.iter().map(|c| c.svg.len()).sum::<usize>());
    let out = &mut html;

    out.push_str("<!DOCTYPE html>\n<html lang=\"");
    push_escaped(out, t("html_lang"));
    out.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
    );
    push_escaped(out, &a.name);
    out.push_str(" · ");
    push_escaped(out, t("report_title"));
    out.push_str("</title>\n<link rel=\"stylesheet\" href=\"../report.css\">\n</head>\n");
    out.push_str("<body class=\"account\">\n<p class=\"meta\"><a href=\"../index.html\">← ");
    push_escaped(out, t("back"));
    out.push_str("</a></p>\n<h1>");
    push_escaped(out, &a.name);
    out.push_str("</h1>\n<p class=\"meta\">");
    push_escaped(out, &a.platform_label);
    if let Some(kind) = given(&a.kind) {
        out.push_str(" · ");
        push_escaped(out, kind);
    }
    out.push_str(" · <span class=\"id\">");
    push_escaped(out, &a.account_id);
    out.push_str("</span></p>\n<p class=\"meta\">");
    name_value(out, t("org"), &a.org_name);
    if let Some(certification) = given(&a.certification) {
        out.push_str(" · ");
        name_value(out, t("certification"), certification);
    }
    out.push_str(" · ");
    name_value(out, t("verified"), &a.verified);
    out.push_str("</p>\n<p class=\"meta\">");
    name_value(out, t("as_of"), &page.as_of);
    out.push_str(" · ");
    name_value(out, t("rubric"), &page.rubric);
    out.push_str("</p>\n");
    if let Some(url) = given(&a.home_url) {
        out.push_str("<p class=\"meta\"><a href=\"");
        push_escaped(out, url);
        out.push_str("\" rel=\"noopener noreferrer\">");
        push_escaped(out, url);
        out.push_str("</a></p>");
    }
    out.push_str("\n\n<div class=\"cards\">\n");
    // The cards: a name (and any detail after it), then the value in bold.
    let card = |out: &mut String, name: &str| {
        out.push_str("  <div class=\"card\">");
        push_escaped(out, name);
    };
    let value = |out: &mut String, value: &str| {
        out.push_str("<b>");
        push_escaped(out, value);
        out.push_str("</b></div>\n");
    };
    card(out, t("score"));
    out.push_str("<b><span class=\"score\">");
    push_escaped(out, &a.score);
    out.push_str("</span> <span class=\"badge");
    if a.veto {
        out.push_str(" fail");
    }
    out.push_str("\">");
    push_escaped(out, &a.tier);
    out.push_str("</span></b></div>\n");
    card(out, t("assessed_weight"));
    value(out, &a.assessed_weight);
    card(out, t("influence"));
    out.push_str(" (");
    push_escaped(out, &a.index_name);
    out.push(')');
    value(out, &a.influence);
    card(out, t("rank_in_group"));
    out.push_str(" · ");
    push_escaped(out, &a.level);
    value(out, &a.rank);
    card(out, t("findings"));
    value(out, &a.findings_total.to_string());
    out.push_str("</div>\n");
    if a.veto {
        out.push_str("<div class=\"banner\"><b>");
        push_escaped(out, t("veto_banner"));
        out.push_str("</b> ");
        push_escaped(out, &a.veto_reasons);
        out.push_str("</div>");
    }
    out.push('\n');
    if let Some(missing) = given(&a.not_assessed) {
        meta_line(out, t("not_assessed"), missing);
    }
    out.push_str("\n\n<h2>");
    push_escaped(out, t("charts"));
    out.push_str("</h2>\n<div class=\"charts\">\n");
    for chart in &page.charts {
        out.push_str("<figure aria-label=\"");
        push_escaped(out, &chart.label);
        out.push_str("\" data-chart=\"");
        push_escaped(out, chart.kind);
        out.push_str("\">");
        out.push_str(&chart.svg);
        out.push_str("</figure>\n");
    }
    out.push_str("\n</div>\n");
    if let Some(rate) = given(&a.reply_rate) {
        meta_line(out, t("reply_rate"), rate);
    }
    out.push_str("\n\n<h2>");
    push_escaped(out, t("findings"));
    out.push_str("</h2>\n");
    if page.families.is_empty() {
        out.push_str("<p class=\"none\">");
        push_escaped(out, t("no_findings"));
        out.push_str("</p>");
    }
    out.push('\n');
    for family in &page.families {
        out.push_str("\n<h3>");
        push_escaped(out, &family.label);
        out.push_str(" (");
        out.push_str(&family.count.to_string());
        out.push_str(")</h3>\n");
        for (r, rule) in family.rules.iter().enumerate() {
            out.push_str("\n<details");
            if r == 0 {
                out.push_str(" open");
            }
            out.push_str(">\n<summary><b>");
            push_escaped(out, &rule.code);
            out.push_str("</b> ");
            push_escaped(out, &rule.name);
            out.push_str(" — ");
            out.push_str(&rule.count.to_string());
            out.push_str("</summary>\n<table>\n<thead><tr><th>");
            let columns = [t("severity"), t("occurred"), t("message"), t("evidence")];
            for (i, name) in columns.into_iter().enumerate() {
                if i > 0 {
                    out.push_str("</th><th>");
                }
                push_escaped(out, name);
            }
            out.push_str("</th></tr></thead>\n<tbody>\n");
            for f in &rule.items {
                out.push_str("<tr><td class=\"sev-");
                push_escaped(out, &f.severity);
                out.push_str("\">");
                push_escaped(out, &f.severity_label);
                out.push_str("</td><td>");
                push_escaped(out, &f.occurred);
                out.push_str("</td><td>");
                push_escaped(out, &f.message);
                out.push_str("</td><td class=\"evidence\">");
                push_escaped(out, &f.evidence);
                if let Some(link) = given(&f.link) {
                    out.push_str("<br><a href=\"");
                    push_escaped(out, link);
                    out.push_str("\" rel=\"noopener noreferrer\">");
                    push_escaped(out, t("open_link"));
                    out.push_str("</a>");
                }
                out.push_str("</td></tr>\n");
            }
            out.push('\n');
            if rule.more > 0 {
                out.push_str("<tr><td colspan=\"4\" class=\"none\">");
                push_escaped(out, t("more"));
                out.push(' ');
                out.push_str(&rule.more.to_string());
                out.push_str("</td></tr>");
            }
            out.push_str("\n</tbody>\n</table>\n");
            if let Some(fix) = given(&rule.fix) {
                out.push_str("<p class=\"fix\"><b>");
                push_escaped(out, t("how_to_fix"));
                out.push_str("</b>\n");
                push_escaped(out, fix);
                out.push_str("</p>");
            }
            out.push_str("\n</details>\n");
        }
        out.push('\n');
    }
    out.push_str("\n<p class=\"meta\">");
    push_escaped(out, t("generated_by"));
    out.push_str(" · ");
    push_escaped(out, &page.rubric);
    out.push_str("</p>\n");
    out.push_str(PRINT_SCRIPT);
    out.push_str("\n</body>\n</html>");
    html
}

/// `<p class="meta">name: value</p>`, both escaped.
fn meta_line(out: &mut String, name: &str, value: &str) {
    out.push_str("<p class=\"meta\">");
    name_value(out, name, value);
    out.push_str("</p>");
}

/// `name: value`, both escaped.
fn name_value(out: &mut String, name: &str, value: &str) {
    push_escaped(out, name);
    out.push_str(": ");
    push_escaped(out, value);
}

/// A field the page shows only when it has text.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Opens every folded section before printing, so a printed page shows all findings.
const PRINT_SCRIPT: &str = "<script>addEventListener(\"beforeprint\", function () { document.querySelectorAll(\"details\").forEach(function (d) { d.open = true; }); });</script>";

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

/// The "how to fix" section of a rule's documentation in `lang`. Read from the rule's module
/// doc once per rule and language, not once per page: a national audit writes 200,000 pages.
fn fix_section(code: &str, lang: Lang) -> Option<String> {
    type Sections = Vec<(&'static str, Option<String>)>;
    static SECTIONS: std::sync::OnceLock<[Sections; 2]> = std::sync::OnceLock::new();
    let sections = SECTIONS.get_or_init(|| {
        [Lang::Zh, Lang::En].map(|lang| {
            registry()
                .iter()
                .map(|r| r.info())
                .map(|info| (info.code, info.doc_section(label("fix_section", lang))))
                .collect()
        })
    });
    let of_lang = &sections[usize::from(lang == Lang::En)];
    of_lang
        .iter()
        .find(|(c, _)| *c == code)
        .and_then(|(_, section)| section.clone())
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
            fix: fix_section(info.code, lang),
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
        label: label("chart_weekly", lang).into(),
        svg: weekly_updates_svg(
            label("chart_weekly_title", lang),
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
    let latency_key = format!("{lang:?}|{}|{replies:?}", inputs.sla_hours.to_bits());
    charts.push(Chart {
        kind: "latency",
        label: label("chart_latency", lang).into(),
        svg: drawn_once("latency", latency_key, || {
            reply_latency_svg(
                label("chart_latency_title", lang),
                &bucket_labels,
                &replies,
                deadline_bucket,
                &deadline,
                lang,
            )
        })?,
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
        let rubric_key = format!("{lang:?}|{platform}|{points:?}");
        charts.push(Chart {
            kind: "rubric",
            label: label("chart_rubric", lang).into(),
            svg: drawn_once("rubric", rubric_key, || {
                rubric_svg(label("chart_rubric_title", lang), &bars, lang)
            })?,
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
        label: label("chart_content", lang).into(),
        svg: content_mix_svg(
            label("chart_content_title", lang),
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
                label("chart_score", lang).to_string(),
                points.iter().map(|p| p.score.unwrap_or(0.0)).collect(),
            ),
            (
                label("chart_findings", lang).to_string(),
                points.iter().map(|p| p.findings as f64).collect(),
            ),
        ];
        charts.push(Chart {
            kind: "trend",
            label: label("chart_trend", lang).into(),
            svg: line_chart_svg(
                label("chart_trend_title", lang),
                &dates,
                &series,
                label("chart_score_findings", lang),
            )?,
        });
    }
    charts.push(Chart {
        kind: "engagement",
        label: label("chart_engagement_label", lang).into(),
        svg: engagement_svg(
            label("chart_engagement_title", lang),
            &month_labels,
            &series,
            lang,
        )?,
    });
    let mut svgs: Vec<&mut String> = charts.iter_mut().map(|c| &mut c.svg).collect();
    crate::chart_svg::share_styles(&mut svgs);
    Ok(charts)
}

thread_local! {
    /// Charts a page thread keeps (a few KB each).
    static CHARTS: std::cell::RefCell<BoundedMemo<(&'static str, String), String>> =
        std::cell::RefCell::new(BoundedMemo::new(4096));
}

/// A chart of `kind` drawn by `draw`, or the one this thread drew before from the same inputs
/// (`key`: everything the chart reads that is not the same for every page of the audit). Many
/// accounts have the same reply-latency counts (none at all, most often) and the same rubric
/// points: at 10,000 accounts 4,421 distinct latency charts and 3,776 distinct rubric charts
/// among 9,747 pages. The charts with an account's own months (weekly, content, engagement)
/// hardly ever repeat and are always drawn.
fn drawn_once(
    kind: &'static str,
    key: String,
    draw: impl FnOnce() -> Result<String, Error>,
) -> Result<String, Error> {
    let key = (kind, key);
    if let Some(svg) = CHARTS.with_borrow(|charts| charts.get(&key)) {
        return Ok(svg);
    }
    let svg = draw()?;
    CHARTS.with_borrow_mut(|charts| charts.insert(key, svg.clone()));
    Ok(svg)
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
        charts: govmedia_rules::trace::stage("page: charts", || charts_for(header, inputs))?,
        families: families(rows, inputs.lang),
        rubric: inputs.rubric.pack.label(),
        as_of: inputs.as_of.to_string(),
    })
}

/// One group of pages to draw: its inputs, and the next of its accounts a drawer takes.
struct GroupOfPages<'a> {
    inputs: PageInputs<'a>,
    next: std::sync::atomic::AtomicUsize,
}

/// Writes the page of every account of every group of `groups` under `out/accounts/`, on all
/// cores. Returns the count.
///
/// The groups' inputs are made one at a time on this thread while the pages of the group before
/// are drawn, so at most two groups' inputs are held. Drawers take a group's accounts one at a
/// time and go on to the next group as soon as its first is taken: a group's pages split in
/// halves left one drawer idle at every group's end while the other finished its half, and all
/// of them idle while the next drawers started.
pub fn write_account_pages<'a>(
    out: &Path,
    groups: impl Iterator<Item = Result<PageInputs<'a>, Error>>,
) -> Result<usize, Error> {
    use std::sync::atomic::Ordering;
    let dir = out.join(ACCOUNTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| govmedia_collectors::Error::io(&dir, e))?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Pages are drawn on every core and written by one thread: files created in one folder by
    // several threads at once queue on the folder's lock, and the kernel spins on it (seen in
    // a profile at 20,000 pages; the wall time was within this machine's noise either way).
    let (send, receive) = std::sync::mpsc::sync_channel::<(PathBuf, String)>(256);
    std::thread::scope(|scope| -> Result<usize, Error> {
        let writer = scope.spawn(move || -> Result<usize, Error> {
            let mut written = 0;
            for (path, html) in receive {
                govmedia_rules::trace::stage("page: write", || write_page(&path, html.as_bytes()))?;
                written += 1;
            }
            Ok(written)
        });
        let (mut handing, mut drawers) = (Vec::new(), Vec::new());
        for _ in 0..workers {
            // Handed over when the drawer asks: it has taken every account of the group before.
            let (hand, take) = std::sync::mpsc::sync_channel::<std::sync::Arc<GroupOfPages>>(0);
            let (dir, send) = (&dir, send.clone());
            drawers.push(scope.spawn(move || -> Result<(), Error> {
                for group in take {
                    let inputs = &group.inputs;
                    while let Some(header) = inputs
                        .headers
                        .get(group.next.fetch_add(1, Ordering::Relaxed))
                    {
                        let page = account_page(header, inputs)?;
                        let html = govmedia_rules::trace::stage("page: html", || {
                            render_account(&page, inputs.lang)
                        });
                        let path =
                            dir.join(format!("{}.html", account_file_stem(&header.account_id)));
                        // The writer only stops early on an error, which it reports itself.
                        if send.send((path, html)).is_err() {
                            return Ok(());
                        }
                    }
                }
                Ok(())
            }));
            handing.push(hand);
        }
        drop(send);
        let mut made = Ok(());
        for inputs in groups {
            let group = match inputs {
                Ok(inputs) => std::sync::Arc::new(GroupOfPages {
                    inputs,
                    next: 0.into(),
                }),
                Err(e) => {
                    made = Err(e);
                    break;
                }
            };
            // A drawer that stopped stopped on an error (or a panic), reported below.
            if handing.iter().any(|hand| hand.send(group.clone()).is_err()) {
                break;
            }
        }
        drop(handing);
        let panicked = || Error::Chart("page worker".into(), "panicked".into());
        let mut drawn = Ok(());
        for h in drawers {
            let result = h.join().map_err(|_| panicked())?;
            if drawn.is_ok() {
                drawn = result;
            }
        }
        let written = writer.join().map_err(|_| panicked())??;
        made?;
        drawn?;
        Ok(written)
    })
}

/// Writes a page straight to its name. Pages are written into the audit's staging folder, which
/// is put in place whole (or not at all) when the report is done, so a page needs no temporary
/// file and rename of its own (two folder updates per page fewer).
fn write_page(path: &Path, html: &[u8]) -> Result<(), Error> {
    let io = |e| govmedia_collectors::Error::io(path, e);
    govmedia_collectors::fault::step("writing a page").map_err(io)?;
    std::fs::write(path, html).map_err(io)?;
    Ok(())
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
        let mut findings = HashMap::default();
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
            items: HashMap::from_iter([(
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
            weeks: HashMap::from_iter([(
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
            latency: HashMap::from_iter([("weibo:1".to_string(), vec![3, 2, 1, 0, 1, 0])]),
            monthly: HashMap::from_iter([(
                "weibo:1".to_string(),
                vec![MonthRow {
                    month: "2025-11".into(),
                    categories: [1, 0, 0, 0, 0, 5],
                    counters: [0, 30, 0, 0, 4, 2],
                }],
            )]),
            findings,
            sla_hours: 72.0,
            trend: HashMap::default(),
        }
    }

    fn render(lang: Lang, text: &str) -> String {
        let rubric = RubricPack::builtin();
        let inputs = inputs(&rubric, lang, text);
        let page = account_page(&inputs.headers[0], &inputs).unwrap();
        render_account(&page, lang)
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
        assert!(
            html.contains("href=\"https://weibo.com/1/2\""),
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
    fn a_chart_drawn_before_is_reused_only_for_the_same_inputs() {
        let rubric = RubricPack::builtin();
        let chart = |inputs: &PageInputs, kind: &str| {
            let charts = charts_for(&inputs.headers[0], inputs).unwrap();
            charts.into_iter().find(|c| c.kind == kind).unwrap().svg
        };
        let mut inputs = inputs(&rubric, Lang::Zh, "ok");
        let first = chart(&inputs, "latency");
        assert_eq!(chart(&inputs, "latency"), first);
        // Every input the key names changes the chart: the deadline, the counts, the language.
        inputs.sla_hours = 24.0;
        let deadline = chart(&inputs, "latency");
        assert!(deadline.contains("回复时限（24 个工作小时）"), "{deadline}");
        inputs.latency.insert("weibo:1".into(), vec![0, 0, 9, 0, 0]);
        assert_ne!(chart(&inputs, "latency"), deadline);
        let rubric_zh = chart(&inputs, "rubric");
        if let Some((_, points)) = inputs.items.get_mut("weibo:1") {
            points[0] = Some(0.5);
        }
        assert_ne!(chart(&inputs, "rubric"), rubric_zh);
        inputs.lang = Lang::En;
        assert!(chart(&inputs, "latency").contains("deadline (24 working hours)"));
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
