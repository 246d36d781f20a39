//! The index page (`index.html`): the report's summary — cards, league tables by ranking
//! group and region, the vetoed accounts, top lists — with per-account rows left to the
//! directory.

use std::path::Path;
use std::sync::OnceLock;

use govmedia_collectors::store::write_atomic;
use govmedia_rules::Lang;
use minijinja::Environment;
use serde::Serialize;

use crate::Error;
use crate::html::template_environment;

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
    /// Regions left out of the region table (only the largest are listed).
    pub league_regions_more: usize,
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

fn environment() -> Result<&'static Environment<'static>, Error> {
    static INDEX: OnceLock<Environment<'static>> = OnceLock::new();
    template_environment(
        &INDEX,
        "index.html",
        include_str!("../templates/index.html"),
    )
}

pub fn render_index(page: &IndexPage, lang: Lang) -> Result<String, Error> {
    let env = environment()?;
    let tmpl = env.get_template("index.html")?;
    Ok(tmpl.render(minijinja::context! {
        t => crate::labels::template_labels(lang),
        sortable => crate::html::sortable_script(),
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

    /// The league tables sort by a clicked header; the index's one script is ours.
    #[test]
    fn league_tables_are_sortable() {
        let html = render_index(&page("某市发布", Lang::Zh), Lang::Zh).unwrap();
        assert!(html.contains("<th data-sort=\"num\">合格率</th>"), "{html}");
        assert_eq!(html.matches("<script>").count(), 1);
        assert!(html.contains("th.closest(\"table\").tBodies[0]"));
    }

    fn page(name: &str, lang: Lang) -> IndexPage {
        IndexPage {
            as_of: "2025-11-30".into(),
            window_from: "2024-11-30".into(),
            rules_run: "UPD001, UPD002, UPD003".into(),
            platforms: vec![PlatformCount {
                label: crate::labels::platform_label("weibo", lang),
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
            league_regions_more: 0,
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
