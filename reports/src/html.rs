//! HTML pages rendered with minijinja. Autoescaping is on for every `.html` template: account
//! names, org ids and any other text from the data are untrusted and always escaped.

use std::path::Path;

use govmedia_collectors::store::write_atomic;
use govmedia_rules::Lang;
use minijinja::Environment;
use serde::Serialize;

use crate::Error;

/// One account row of the index page.
#[derive(Debug, Clone, Serialize)]
pub struct IndexAccount {
    pub account_id: String,
    pub name: String,
    pub platform: String,
    pub org_id: String,
    /// The org's official name from the registry, or its id when the registry lacks it.
    pub org_name: String,
    pub veto: u64,
    pub deduct: u64,
    pub notice: u64,
    pub last_update: String,
    pub chart_href: String,
    /// Score (one decimal) and tier, or "—" when nothing could be assessed.
    pub score: String,
    pub tier: String,
    /// The score as a number, for averages.
    pub score_value: Option<f64>,
    /// Its ranking group: platform · level.
    pub group: String,
    /// The org's region as the registry records it ("" when unknown).
    pub region: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformCount {
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexPage {
    pub as_of: String,
    pub window_from: String,
    pub rules_run: String,
    pub platforms: Vec<PlatformCount>,
    pub accounts_total: u64,
    pub veto_accounts: u64,
    pub findings_total: u64,
    pub files: Vec<String>,
    pub notes: Vec<String>,
    /// Tier distribution chart (SVG from plotters, inlined).
    pub tier_chart: String,
    /// Vetoes and tiers over the audit history (SVG; empty without a history).
    pub trend_chart: String,
    pub top_findings: Vec<TopFinding>,
    pub rankings: Vec<RankingGroup>,
    /// League tables: by ranking group, and by region (province) where the registry has them.
    pub league_groups: Vec<crate::directory::LeagueRow>,
    pub league_regions: Vec<crate::directory::LeagueRow>,
    /// The first vetoed accounts, and how many more the directory lists.
    pub vetoed: Vec<crate::directory::VetoRow>,
    pub vetoed_more: u64,
    /// Every directory page.
    pub directory: Vec<crate::directory::DirectoryLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopFinding {
    pub code: String,
    pub title: String,
    pub findings: u64,
    pub accounts: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankingRow {
    pub rank: String,
    pub name: String,
    pub href: String,
    pub influence: String,
    pub score: String,
    pub tier: String,
    pub failed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankingGroup {
    pub platform: String,
    pub level: String,
    pub total: u64,
    pub rows: Vec<RankingRow>,
}

#[derive(Serialize)]
struct Labels {
    html_lang: &'static str,
    title: &'static str,
    as_of: &'static str,
    window: &'static str,
    rules_run: &'static str,
    accounts: &'static str,
    veto_accounts: &'static str,
    findings: &'static str,
    downloads: &'static str,
    account_list: &'static str,
    account: &'static str,
    platform: &'static str,
    org: &'static str,
    veto: &'static str,
    deduct: &'static str,
    notice: &'static str,
    last_update: &'static str,
    score: &'static str,
    tier: &'static str,
    chart: &'static str,
    weekly_updates: &'static str,
    tiers: &'static str,
    top_findings: &'static str,
    findings_col: &'static str,
    accounts_col: &'static str,
    rankings: &'static str,
    rank: &'static str,
    influence: &'static str,
    top_of: &'static str,
    rule: &'static str,
    generated_by: &'static str,
    history: &'static str,
    league_groups: &'static str,
    league_regions: &'static str,
    group: &'static str,
    region: &'static str,
    pass_rate: &'static str,
    average_score: &'static str,
    tier_mix: &'static str,
    top_finding: &'static str,
    vetoed: &'static str,
    vetoed_more: &'static str,
    rules: &'static str,
    directory: &'static str,
    directory_hint: &'static str,
    page: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Zh => Labels {
            html_lang: "zh-CN",
            title: "政务新媒体检查报告",
            as_of: "监测时间点",
            window: "监测区间",
            rules_run: "检查规则",
            accounts: "账号总数",
            veto_accounts: "触发单项否决的账号",
            findings: "问题总数",
            downloads: "数据下载",
            account_list: "账号列表",
            account: "账号",
            platform: "平台",
            org: "主办单位",
            veto: "单项否决",
            deduct: "扣分项",
            notice: "提示",
            last_update: "最后更新",
            score: "得分",
            tier: "等级",
            chart: "详情",
            weekly_updates: "账号详情",
            tiers: "等级分布",
            top_findings: "最常见的问题",
            findings_col: "问题数",
            accounts_col: "涉及账号",
            rankings: "影响力排名",
            rank: "排名",
            influence: "影响力指数",
            top_of: "前 20 名，共",
            rule: "规则",
            generated_by: "由 govmedia 生成",
            history: "历次检查趋势",
            league_groups: "分组统计",
            league_regions: "地区统计",
            group: "分组",
            region: "地区",
            pass_rate: "合格率",
            average_score: "平均分",
            tier_mix: "等级构成",
            top_finding: "最常见问题",
            vetoed: "触发单项否决的账号",
            vetoed_more: "其余见账号名录，共",
            rules: "规则",
            directory: "账号名录",
            directory_hint: "全部账号按分组列出，可搜索、排序",
            page: "页",
        },
        Lang::En => Labels {
            html_lang: "en",
            title: "Government new-media audit",
            as_of: "Monitoring time point",
            window: "Window",
            rules_run: "Rules",
            accounts: "Accounts",
            veto_accounts: "Accounts with a veto finding",
            findings: "Findings",
            downloads: "Downloads",
            account_list: "Accounts",
            account: "Account",
            platform: "Platform",
            org: "Sponsoring org",
            veto: "Veto",
            deduct: "Deduct",
            notice: "Notice",
            last_update: "Last update",
            score: "Score",
            tier: "Tier",
            chart: "Details",
            weekly_updates: "account page",
            tiers: "Tiers",
            top_findings: "Most frequent findings",
            findings_col: "Findings",
            accounts_col: "Accounts",
            rankings: "Influence rankings",
            rank: "Rank",
            influence: "Influence index",
            top_of: "top 20 of",
            rule: "Rule",
            generated_by: "Generated by govmedia",
            history: "Over past audits",
            league_groups: "By ranking group",
            league_regions: "By region",
            group: "Group",
            region: "Region",
            pass_rate: "Pass rate",
            average_score: "Average score",
            tier_mix: "Tiers",
            top_finding: "Most frequent finding",
            vetoed: "Vetoed accounts",
            vetoed_more: "more in the directory, of",
            rules: "Rules",
            directory: "Account directory",
            directory_hint: "every account by ranking group, searchable and sortable",
            page: "page",
        },
    }
}

/// The display name of a platform.
pub fn platform_label(platform: &str, lang: Lang) -> String {
    match (platform, lang) {
        ("wechat", Lang::Zh) => "微信公众号".into(),
        ("weibo", Lang::Zh) => "政务微博".into(),
        ("app", Lang::Zh) => "政务App".into(),
        ("wechat", Lang::En) => "WeChat".into(),
        ("weibo", Lang::En) => "Weibo".into(),
        ("app", Lang::En) => "App".into(),
        (other, _) => other.to_string(),
    }
}

/// The one stylesheet of the report's pages (screen and print), written once beside them.
pub const STYLESHEET: &str = include_str!("../templates/report.css");
pub const STYLESHEET_FILE: &str = "report.css";

/// Writes the stylesheet into a report folder; returns its path.
pub fn write_stylesheet(dir: &Path) -> Result<std::path::PathBuf, Error> {
    let path = dir.join(STYLESHEET_FILE);
    write_atomic(&path, |f| {
        std::io::Write::write_all(f, STYLESHEET.as_bytes())
    })?;
    Ok(path)
}

fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    // Templates are named *.html, for which minijinja escapes every expression by default.
    env.add_template("index.html", include_str!("../templates/index.html"))?;
    Ok(env)
}

pub fn render_index(page: &IndexPage, lang: Lang) -> Result<String, Error> {
    let env = environment()?;
    let tmpl = env.get_template("index.html")?;
    Ok(tmpl.render(minijinja::context! {
        t => labels(lang),
        ..minijinja::Value::from_serialize(page)
    })?)
}

pub fn write_index(page: &IndexPage, lang: Lang, path: &Path) -> Result<(), Error> {
    let html = render_index(page, lang)?;
    write_atomic(path, |f| std::io::Write::write_all(f, html.as_bytes()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str, lang: Lang) -> IndexPage {
        IndexPage {
            as_of: "2025-11-30".into(),
            window_from: "2024-11-30".into(),
            rules_run: "UPD001, UPD002, UPD003".into(),
            platforms: vec![PlatformCount {
                label: platform_label("weibo", lang),
                count: 1,
            }],
            accounts_total: 1,
            veto_accounts: 1,
            findings_total: 3,
            files: vec!["findings.csv".into()],
            notes: vec![],
            tier_chart: String::new(),
            trend_chart: String::new(),
            top_findings: vec![TopFinding {
                code: "UPD001".into(),
                title: "t".into(),
                findings: 1,
                accounts: 1,
            }],
            rankings: vec![RankingGroup {
                platform: "weibo".into(),
                level: name.into(),
                total: 1,
                rows: vec![RankingRow {
                    rank: "1".into(),
                    name: name.into(),
                    href: "accounts/weibo_1.html".into(),
                    influence: "1.0".into(),
                    score: "91.5".into(),
                    tier: lang.pick("卓越", "outstanding").into(),
                    failed: false,
                }],
            }],
            league_groups: vec![crate::directory::LeagueRow {
                name: format!("weibo · {name}"),
                href: "directory/group-001-1.html".into(),
                accounts: 1,
                pass_rate: "0.0%".into(),
                average_score: "91.5".into(),
                vetoes: 1,
                tiers: vec![crate::directory::TierShare {
                    tier: lang.pick("不合格", "failed").into(),
                    count: 1,
                    percent: "100.0".into(),
                    color: "#b42318",
                }],
                top_finding: "UPD001 (1)".into(),
            }],
            league_regions: vec![],
            vetoed: vec![crate::directory::VetoRow {
                name: name.into(),
                account_id: "weibo:1".into(),
                org_name: "\"><img src=x onerror=alert(1)>".into(),
                group: "weibo".into(),
                rules: "UPD002".into(),
                href: "accounts/weibo_1.html".into(),
            }],
            vetoed_more: 0,
            directory: vec![crate::directory::DirectoryLink {
                group: format!("weibo · {name}"),
                page: 1,
                pages: 1,
                href: "directory/group-001-1.html".into(),
                rows: 1,
            }],
        }
    }

    #[test]
    fn snapshot_of_a_small_index() {
        insta::assert_snapshot!(
            "index_page",
            render_index(&page("某市发布", Lang::Zh), Lang::Zh).unwrap()
        );
    }

    #[test]
    fn untrusted_text_is_escaped() {
        let html = render_index(&page("<script>alert(1)</script>", Lang::Zh), Lang::Zh).unwrap();
        assert!(!html.contains("<script>alert(1)</script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<img src=x"));
    }

    #[test]
    fn english_labels_have_no_chinese_ui_text() {
        let html = render_index(&page("name", Lang::En), Lang::En).unwrap();
        assert!(html.contains("Government new-media audit"));
        assert!(
            !html.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese label in English page"
        );
    }
}
