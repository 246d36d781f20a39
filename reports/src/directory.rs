//! What an evaluator publishes at national scale: league tables (by ranking group, by region,
//! rolled up to provinces when regions are administrative codes), the vetoed accounts, and the
//! searchable directory — every account, in pages of at most [`DIRECTORY_PAGE_ROWS`] rows per
//! ranking group, with a search box and sortable columns (a small inline script over the
//! table's own rows: no data is embedded in the script, and without scripts the full table is
//! there). The index carries the summaries only, so it stays small whatever the audit's size.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::PlHashMap as HashMap;

use govmedia_collectors::store::write_replacing;
use govmedia_rules::Lang;
use minijinja::Environment;
use serde::Serialize;

use crate::Error;
use crate::index_page::IndexAccount;

/// Rows of one directory page.
pub const DIRECTORY_PAGE_ROWS: usize = 5_000;
/// Vetoed accounts listed on the index itself (all of them are in the directory).
pub const VETO_LIST_ROWS: usize = 500;
/// The directory's folder inside a report.
pub const DIRECTORY_DIR: &str = "directory";

/// One tier's share of a league-table row, for its stacked bar.
#[derive(Debug, Clone, Serialize)]
pub struct TierShare {
    pub tier: String,
    pub count: u64,
    pub percent: String,
    pub color: &'static str,
}

/// One row of a league table: a ranking group or a region.
#[derive(Debug, Clone, Serialize)]
pub struct LeagueRow {
    pub name: String,
    /// The group's first directory page ("" for a region).
    pub href: String,
    pub accounts: u64,
    /// 合格率: the share of accounts without a veto.
    pub pass_rate: String,
    pub average_score: String,
    pub vetoes: u64,
    pub tiers: Vec<TierShare>,
    pub top_finding: String,
}

/// A vetoed account on the index.
#[derive(Debug, Clone, Serialize)]
pub struct VetoRow {
    pub name: String,
    pub account_id: String,
    pub org_name: String,
    pub group: String,
    pub rules: String,
    pub href: String,
}

/// A directory page's link, for the index and the pager.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryLink {
    pub group: String,
    pub page: usize,
    pub pages: usize,
    pub href: String,
    pub rows: usize,
}

const TIER_COLORS: [&str; 6] = [
    "#1a7f37", "#2f6fb3", "#8250df", "#bf8700", "#8c959f", "#b42318",
];

/// The colour of a tier by its place in the pack's order; the failing tier is red.
fn tier_color(position: usize, failed: bool) -> &'static str {
    if failed {
        TIER_COLORS[5]
    } else {
        TIER_COLORS[position.min(4)]
    }
}

/// League-table rows of the accounts grouped by `key`, in key order. `findings` gives each
/// account's finding codes; `tier_order` the pack's tiers, best first; `failing` the failing
/// tier's name.
/// The findings of each account: each code with its count (borrowing the findings' text).
pub type CodeCounts<'f> = HashMap<&'f str, Vec<(&'f str, u64)>>;

pub fn league_table(
    accounts: &[IndexAccount],
    key: impl Fn(&IndexAccount) -> Option<String>,
    href: impl Fn(&str) -> String,
    findings: &CodeCounts,
    tier_order: &[String],
    failing: &str,
) -> Vec<LeagueRow> {
    let mut groups: BTreeMap<String, Vec<&IndexAccount>> = BTreeMap::new();
    for a in accounts {
        if let Some(k) = key(a) {
            groups.entry(k).or_default().push(a);
        }
    }
    groups
        .into_iter()
        .map(|(name, members)| {
            let n = members.len() as u64;
            let vetoes = members.iter().filter(|a| a.veto > 0).count() as u64;
            let scores: Vec<f64> = members.iter().filter_map(|a| a.score_value).collect();
            let average_score = if scores.is_empty() {
                "—".to_string()
            } else {
                format!("{:.1}", scores.iter().sum::<f64>() / scores.len() as f64)
            };
            let mut per_tier: HashMap<&str, u64> = HashMap::default();
            for a in &members {
                *per_tier.entry(a.tier.as_str()).or_default() += 1;
            }
            let tiers = tier_order
                .iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    let count = *per_tier.get(t.as_str())?;
                    Some(TierShare {
                        tier: t.clone(),
                        count,
                        percent: format!("{:.1}", count as f64 * 100.0 / n as f64),
                        color: tier_color(i, t == failing),
                    })
                })
                .collect();
            let mut codes: HashMap<&str, u64> = HashMap::default();
            for a in &members {
                for (code, count) in findings.get(a.account_id.as_str()).into_iter().flatten() {
                    *codes.entry(code).or_default() += count;
                }
            }
            let top_finding = codes
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(code, count)| format!("{code} ({count})"))
                .unwrap_or_else(|| "—".into());
            LeagueRow {
                href: href(&name),
                name,
                accounts: n,
                pass_rate: format!("{:.1}%", (n - vetoes) as f64 * 100.0 / n as f64),
                average_score,
                vetoes,
                tiers,
                top_finding,
            }
        })
        .collect()
}

/// The province of an administrative division code — six digits (GB/T 2260, county level),
/// nine (township) or twelve (statistical division) — e.g. `110105` or `130101001` → `110000`.
pub fn province_code(region: &str) -> Option<String> {
    (matches!(region.len(), 6 | 9 | 12) && region.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}0000", &region[..2]))
}

/// The name of a province-level division by its code (GB/T 2260), for the region table.
pub fn province_name(code: &str, lang: Lang) -> String {
    const NAMES: [(&str, &str, &str); 35] = [
        ("100000", "中央", "Central"),
        ("110000", "北京市", "Beijing"),
        ("120000", "天津市", "Tianjin"),
        ("130000", "河北省", "Hebei"),
        ("140000", "山西省", "Shanxi"),
        ("150000", "内蒙古自治区", "Inner Mongolia"),
        ("210000", "辽宁省", "Liaoning"),
        ("220000", "吉林省", "Jilin"),
        ("230000", "黑龙江省", "Heilongjiang"),
        ("310000", "上海市", "Shanghai"),
        ("320000", "江苏省", "Jiangsu"),
        ("330000", "浙江省", "Zhejiang"),
        ("340000", "安徽省", "Anhui"),
        ("350000", "福建省", "Fujian"),
        ("360000", "江西省", "Jiangxi"),
        ("370000", "山东省", "Shandong"),
        ("410000", "河南省", "Henan"),
        ("420000", "湖北省", "Hubei"),
        ("430000", "湖南省", "Hunan"),
        ("440000", "广东省", "Guangdong"),
        ("450000", "广西壮族自治区", "Guangxi"),
        ("460000", "海南省", "Hainan"),
        ("500000", "重庆市", "Chongqing"),
        ("510000", "四川省", "Sichuan"),
        ("520000", "贵州省", "Guizhou"),
        ("530000", "云南省", "Yunnan"),
        ("540000", "西藏自治区", "Tibet"),
        ("610000", "陕西省", "Shaanxi"),
        ("620000", "甘肃省", "Gansu"),
        ("630000", "青海省", "Qinghai"),
        ("640000", "宁夏回族自治区", "Ningxia"),
        ("650000", "新疆维吾尔自治区", "Xinjiang"),
        ("710000", "台湾省", "Taiwan"),
        ("810000", "香港特别行政区", "Hong Kong"),
        ("820000", "澳门特别行政区", "Macao"),
    ];
    NAMES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, zh, en)| lang.pick(zh, en).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// The order of the region table's rows: by administrative code where regions are codes
/// (provinces in the national order), else by name.
pub fn region_order(accounts: &[IndexAccount], lang: Lang) -> Vec<String> {
    let key = region_key(accounts, lang);
    let mut coded: BTreeMap<String, String> = BTreeMap::new();
    for a in accounts {
        if let Some(name) = key(a) {
            let code = province_code(&a.region).unwrap_or_else(|| name.clone());
            coded.entry(code).or_insert(name);
        }
    }
    let mut seen = std::collections::HashSet::new();
    coded
        .into_values()
        .filter(|name| seen.insert(name.clone()))
        .collect()
}

/// At most this many regions in the index's region table: the ones with the most accounts (a
/// store whose regions are not administrative codes may name tens of thousands).
pub const LEAGUE_REGION_ROWS: usize = 60;

/// Keeps the `limit` rows with the most accounts (ties by name), in their order; returns how
/// many were left out.
pub fn keep_largest(rows: &mut Vec<LeagueRow>, limit: usize) -> usize {
    if rows.len() <= limit {
        return 0;
    }
    let mut by_size: Vec<(u64, String)> =
        rows.iter().map(|r| (r.accounts, r.name.clone())).collect();
    by_size.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let kept: std::collections::HashSet<String> = by_size
        .into_iter()
        .take(limit)
        .map(|(_, name)| name)
        .collect();
    let before = rows.len();
    rows.retain(|r| kept.contains(&r.name));
    before - rows.len()
}

/// The region key of an account for the region table: its province when every known region
/// is an administrative code, else the region as recorded; `None` without a region.
pub fn region_key(
    accounts: &[IndexAccount],
    lang: Lang,
) -> impl Fn(&IndexAccount) -> Option<String> {
    let coded = accounts
        .iter()
        .filter(|a| !a.region.is_empty())
        .all(|a| province_code(&a.region).is_some());
    move |a: &IndexAccount| {
        if a.region.is_empty() {
            None
        } else if coded {
            province_code(&a.region).map(|p| province_name(&p, lang))
        } else {
            Some(a.region.clone())
        }
    }
}

/// The file of page `page` (from 1) of a group's directory.
fn page_file(group_index: usize, page: usize) -> String {
    format!("{DIRECTORY_DIR}/group-{:03}-{page}.html", group_index + 1)
}

#[derive(Serialize)]
struct DirectoryPage<'a> {
    group: &'a str,
    page: usize,
    pages: usize,
    pager: &'a [DirectoryLink],
    rows: &'a [IndexAccount],
    as_of: &'a str,
}

fn environment() -> Result<&'static Environment<'static>, Error> {
    static DIRECTORY: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    crate::html::template_environment(
        &DIRECTORY,
        "directory.html",
        include_str!("../templates/directory.html"),
    )
}

/// Sorts rows by their place in `order` (names not in it last, by name).
pub fn sort_by_order<T>(rows: &mut [T], name: impl Fn(&T) -> &str, order: &[String]) {
    let places: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, o)| (o.as_str(), i))
        .collect();
    let place = |n: &str| places.get(n).copied().unwrap_or(usize::MAX);
    rows.sort_by(|a, b| {
        let (a, b) = (name(a), name(b));
        place(a).cmp(&place(b)).then(a.cmp(b))
    });
}

/// Writes the directory: per ranking group (in `group_order`, as the rankings list them), its
/// accounts (by name) in pages of at most [`DIRECTORY_PAGE_ROWS`]. Returns every page's link, in
/// group and page order. Account links (`chart_href`, relative to the report) are rewritten
/// relative to the directory folder.
pub fn write_directory(
    out: &Path,
    accounts: &[IndexAccount],
    group_order: &[String],
    as_of: &str,
    lang: Lang,
) -> Result<(Vec<DirectoryLink>, Vec<PathBuf>), Error> {
    let mut by_group: BTreeMap<&str, Vec<IndexAccount>> = BTreeMap::new();
    for a in accounts {
        let mut row = a.clone();
        if !row.chart_href.is_empty() {
            row.chart_href = format!("../{}", row.chart_href);
        }
        by_group.entry(a.group.as_str()).or_default().push(row);
    }
    let mut groups: Vec<(&str, Vec<IndexAccount>)> = by_group.into_iter().collect();
    sort_by_order(&mut groups, |g| g.0, group_order);
    let env = environment()?;
    let template = env.get_template("directory.html")?;
    let dir = out.join(DIRECTORY_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| govmedia_collectors::Error::io(&dir, e))?;
    for (_, rows) in &mut groups {
        rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.account_id.cmp(&b.account_id)));
    }
    let mut links = Vec::new();
    // Each group's pager as its pages see it, and each page to write.
    let mut local_pagers: Vec<Vec<DirectoryLink>> = Vec::with_capacity(groups.len());
    let mut pages_to_write: Vec<DirectoryPageJob> = Vec::new();
    for (group_index, &(group, ref rows)) in groups.iter().enumerate() {
        let pages = rows.len().div_ceil(DIRECTORY_PAGE_ROWS).max(1);
        let pager: Vec<DirectoryLink> = (1..=pages)
            .map(|page| DirectoryLink {
                group: group.to_string(),
                page,
                pages,
                href: page_file(group_index, page),
                rows: rows[(page - 1) * DIRECTORY_PAGE_ROWS..]
                    .len()
                    .min(DIRECTORY_PAGE_ROWS),
            })
            .collect();
        // The same links as the directory's own pages see them: beside each other.
        let local_pager: Vec<DirectoryLink> = pager
            .iter()
            .map(|l| DirectoryLink {
                href: l
                    .href
                    .trim_start_matches(&format!("{DIRECTORY_DIR}/"))
                    .to_string(),
                ..l.clone()
            })
            .collect();
        local_pagers.push(local_pager);
        links.extend(pager);
        for (chunk_index, chunk) in rows.chunks(DIRECTORY_PAGE_ROWS).enumerate() {
            pages_to_write.push(DirectoryPageJob {
                group_index,
                group,
                page: chunk_index + 1,
                rows: chunk,
            });
        }
    }
    // The pages rendered and written on every core: a national directory is some 50 pages of
    // 4,000 rows, rendered one after the other at the end of the report with the other core
    // idle.
    let files = govmedia_rules::parallel::map_in_order(
        &pages_to_write,
        govmedia_rules::parallel::cores(),
        |job| -> Result<PathBuf, Error> {
            let pager = &local_pagers[job.group_index];
            let html = template.render(minijinja::context! {
                t => crate::labels::template_labels(lang),
                sortable => crate::html::sortable_script(),
                ..minijinja::Value::from_serialize(DirectoryPage {
                    group: job.group,
                    page: job.page,
                    pages: pager.len(),
                    pager,
                    rows: job.rows,
                    as_of,
                })
            })?;
            let path = out.join(page_file(job.group_index, job.page));
            write_replacing(&path, |f| std::io::Write::write_all(f, html.as_bytes()))?;
            Ok(path)
        },
    )?;
    Ok((links, files))
}

/// One directory page to write ([`write_directory`]).
struct DirectoryPageJob<'a> {
    group_index: usize,
    group: &'a str,
    page: usize,
    rows: &'a [IndexAccount],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(
        i: usize,
        name: &str,
        group: &str,
        region: &str,
        veto: u64,
        score: f64,
    ) -> IndexAccount {
        IndexAccount {
            account_id: format!("weibo:{i}"),
            name: name.into(),
            platform: "weibo".into(),
            org_id: "org".into(),
            org_name: "某市人民政府".into(),
            veto,
            deduct: 1,
            notice: 0,
            last_update: "2025-11-20".into(),
            chart_href: format!("accounts/weibo_{i}.html"),
            score: format!("{score:.1}"),
            tier: if veto > 0 {
                "不合格".into()
            } else {
                "优秀".into()
            },
            score_value: Some(score),
            group: group.into(),
            region: region.into(),
        }
    }

    #[test]
    fn township_and_statistical_codes_roll_up_to_their_province() {
        assert_eq!(province_code("110105").as_deref(), Some("110000"));
        assert_eq!(province_code("130101001").as_deref(), Some("130000"));
        assert_eq!(province_code("440300000000").as_deref(), Some("440000"));
        assert_eq!(province_code("1101"), None);
        assert_eq!(province_code("北京市"), None);
    }

    /// Tens of thousands of distinct regions (names, not codes): the index lists the largest
    /// and says how many are left out.
    #[test]
    fn a_region_table_of_many_regions_keeps_the_largest() {
        let mut rows: Vec<LeagueRow> = (0..50_000u64)
            .map(|i| LeagueRow {
                name: format!("地区{i:05}"),
                href: String::new(),
                accounts: 1 + i % 97,
                pass_rate: String::new(),
                average_score: String::new(),
                vetoes: 0,
                tiers: Vec::new(),
                top_finding: String::new(),
            })
            .collect();
        let order: Vec<String> = rows.iter().rev().map(|r| r.name.clone()).collect();
        let left_out = keep_largest(&mut rows, LEAGUE_REGION_ROWS);
        sort_by_order(&mut rows, |r| &r.name, &order);
        assert_eq!(
            (rows.len(), left_out),
            (LEAGUE_REGION_ROWS, 50_000 - LEAGUE_REGION_ROWS)
        );
        assert!(rows.iter().all(|r| r.accounts == 97));
        assert!(
            rows.windows(2).all(|w| w[0].name > w[1].name),
            "in the given order"
        );
    }

    #[test]
    fn league_rows_count_pass_rates_averages_tiers_and_the_top_finding() {
        let accounts = vec![
            account(1, "甲", "政务微博 · 省级", "110105", 1, 60.0),
            account(2, "乙", "政务微博 · 省级", "110106", 0, 90.0),
            account(3, "丙", "政务微博 · 区县", "310101", 0, 80.0),
        ];
        let findings: CodeCounts = [
            ("weibo:1", vec![("UPD001", 1), ("UPD002", 2)]),
            ("weibo:2", vec![("UPD001", 1)]),
        ]
        .into_iter()
        .collect();
        let tiers = vec!["优秀".to_string(), "不合格".to_string()];
        let rows = league_table(
            &accounts,
            |a| Some(a.group.clone()),
            |g| format!("{g}.html"),
            &findings,
            &tiers,
            "不合格",
        );
        assert_eq!(rows.len(), 2);
        let province = &rows[1];
        assert_eq!(province.name, "政务微博 · 省级");
        assert_eq!(
            (
                province.accounts,
                province.vetoes,
                province.pass_rate.as_str()
            ),
            (2, 1, "50.0%")
        );
        assert_eq!(province.average_score, "75.0");
        // UPD002: 2 findings of one account; UPD001: one each of two, and the earlier code wins
        // a tie.
        assert_eq!(province.top_finding, "UPD001 (2)");
        assert_eq!(province.tiers.len(), 2);
        assert_eq!(province.tiers[1].color, "#b42318");
        // Regions given as administrative codes roll up to provinces, named.
        let regions = league_table(
            &accounts,
            region_key(&accounts, Lang::Zh),
            |_| String::new(),
            &findings,
            &tiers,
            "不合格",
        );
        let mut regions = regions;
        sort_by_order(
            &mut regions,
            |r| &r.name,
            &region_order(&accounts, Lang::Zh),
        );
        let names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["北京市", "上海市"], "in the order of their codes");
        assert_eq!(regions[0].accounts, 2);
    }

    #[test]
    fn directory_pages_split_at_the_row_limit_and_escape_every_field() {
        let hostile = "</script><script>alert(1)</script><!--";
        let mut accounts: Vec<IndexAccount> = (0..DIRECTORY_PAGE_ROWS + 1)
            .map(|i| account(i, &format!("账号{i:05}"), "政务微博 · 区县", "", 0, 80.0))
            .collect();
        accounts[0].name = hostile.into();
        accounts[1].org_name = hostile.into();
        accounts.push(account(99_999, "某部", "政务微博 · 部委", "", 1, 50.0));
        let dir = tempfile::tempdir().unwrap();
        let (links, files) =
            write_directory(dir.path(), &accounts, &[], "2025-11-30", Lang::Zh).unwrap();
        let pages: Vec<(String, usize, usize, usize)> = links
            .iter()
            .map(|l| (l.group.clone(), l.page, l.pages, l.rows))
            .collect();
        assert_eq!(
            pages,
            [
                ("政务微博 · 区县".to_string(), 1, 2, DIRECTORY_PAGE_ROWS),
                ("政务微博 · 区县".to_string(), 2, 2, 1),
                ("政务微博 · 部委".to_string(), 1, 1, 1),
            ]
        );
        assert_eq!(files.len(), 3);
        let mut all = String::new();
        for f in &files {
            all.push_str(&std::fs::read_to_string(f).unwrap());
        }
        assert!(!all.contains(hostile) && !all.contains("<script>alert"));
        assert!(all.contains("&lt;/script&gt;"));
        // One script per page, ours; the pager links the other page.
        assert_eq!(all.matches("<script>").count(), 3);
        assert!(all.contains("href=\"group-001-2.html\""));
        // Links to account pages are relative to the directory folder.
        assert!(all.contains("href=\"../accounts/weibo_1.html\""));
    }
}
