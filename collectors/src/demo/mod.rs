//! `govmedia demo`: a deterministic synthetic archive in the canonical import format.
//!
//! All three platforms, WeChat subscription and service accounts, sponsoring orgs at every admin
//! level with an `orgs` table, realistic posting profiles (daily, regular, weekday-only, bursty,
//! holiday gaps, stopped, dormant, newly opened), comments with replies after realistic delays,
//! menus with link checks, and planted cases for every rule family, listed with the rule codes
//! they must (or must not) trigger in `demo-manifest.json`.
//!
//! The archive is streamed account by account, so memory stays bounded whatever `--accounts` is;
//! each account draws from its own random stream, so the same seed gives the same bytes.

mod accounts;
mod exporters;
mod names;
mod orgs;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::NaiveDate;
use rand::Rng;
use serde::Serialize;

use crate::Error;
use crate::time::date_to_days;
use accounts::{
    AccountPlan, PLANT_ROTATION, Plant, PostRow, account_id, generate_account, rng_for,
};
pub use accounts::{day_ms, weekday};
use orgs::{Org, OrgPlanner, internal_department};

pub const MANIFEST_FILE: &str = "demo-manifest.json";
/// The default monitoring time point of the demo: a Sunday, so as_of's week is a full week.
pub const DEFAULT_AS_OF: &str = "2025-11-30";
pub const DEFAULT_SEED: u64 = 20_201_111;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub accounts: usize,
    pub seed: u64,
    pub as_of: NaiveDate,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            accounts: 80,
            seed: DEFAULT_SEED,
            as_of: NaiveDate::parse_from_str(DEFAULT_AS_OF, "%Y-%m-%d").expect("valid default"),
        }
    }
}

/// A planted case: the rule code an account must (or must not) trigger.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct PlantedCase {
    pub account_id: String,
    pub org_id: String,
    pub case: String,
    pub code: String,
    /// `true`: the rule must fire for this account (for org-level cases: for one of the org's
    /// accounts); `false`: it must not.
    pub expected: bool,
    /// `account`, or `org` when the case concerns the org's accounts together.
    pub scope: String,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct DemoSummary {
    pub govmedia_demo: u32,
    pub seed: u64,
    pub as_of: String,
    pub accounts: u64,
    pub orgs: u64,
    pub posts: u64,
    pub comments: u64,
    pub menus: u64,
    pub link_checks: u64,
    pub planted: Vec<PlantedCase>,
    /// Files written in exporters' formats rather than the canonical one (so importing the demo
    /// exercises those importers).
    #[serde(default)]
    pub exporter_files: Vec<String>,
}

/// An output file written through a temporary file, renamed into place when complete.
struct Output {
    tmp: BufWriter<tempfile::NamedTempFile>,
    path: std::path::PathBuf,
}

impl Output {
    fn create(dir: &Path, name: &str) -> Result<Output, Error> {
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        Ok(Output {
            tmp: BufWriter::with_capacity(1 << 20, tmp),
            path: dir.join(name),
        })
    }

    fn json_line<T: Serialize>(&mut self, row: &T) -> Result<(), Error> {
        serde_json::to_writer(&mut self.tmp, row).map_err(|e| Error::io(&self.path, e.into()))?;
        self.tmp
            .write_all(b"\n")
            .map_err(|e| Error::io(&self.path, e))
    }

    fn finish(self) -> Result<(), Error> {
        let path = self.path;
        let tmp = self
            .tmp
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }
}

/// Writes the demo archive into `out` (created if needed).
/// Accounts below this index may be written in exporters' formats (a few hundred files at most).
const EXPORTED_ACCOUNTS_BELOW: u64 = 2_000;

pub fn generate(out: &Path, opts: &DemoOptions) -> Result<DemoSummary, Error> {
    fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut orgs_out = csv::Writer::from_writer(Output::create(out, "orgs.csv")?.tmp);
    let orgs_path = out.join("orgs.csv");
    let mut menus_out = csv::Writer::from_writer(Output::create(out, "menus.csv")?.tmp);
    let menus_path = out.join("menus.csv");
    let mut accounts_out = Output::create(out, "accounts.jsonl")?;
    let mut posts_out = Output::create(out, "posts.jsonl")?;
    let mut comments_out = Output::create(out, "comments.jsonl")?;
    let mut links_out = Output::create(out, "link_checks.jsonl")?;

    let csv_err = |path: &Path, e: csv::Error| Error::io(path, std::io::Error::other(e));
    orgs_out
        .write_record([
            "org_id",
            "official_name",
            "short_names",
            "former_names",
            "duty_keywords",
            "admin_level",
            "group",
            "region",
            "parent_id",
            "internal_dept",
        ])
        .map_err(|e| csv_err(&orgs_path, e))?;
    menus_out
        .write_record([
            "account_id",
            "path",
            "name",
            "kind",
            "target",
            "collected_at",
        ])
        .map_err(|e| csv_err(&menus_path, e))?;

    let as_of_day = date_to_days(opts.as_of) as i64;
    let mut summary = DemoSummary {
        govmedia_demo: 1,
        seed: opts.seed,
        as_of: opts.as_of.to_string(),
        ..Default::default()
    };
    let mut planner = OrgPlanner::default();
    let mut plant_queue: Vec<Plant> = PLANT_ROTATION.to_vec();
    let mut index = 0u64;
    let mut org_index = 0u64;

    let mut write_org = |org: &Org, summary: &mut DemoSummary| -> Result<(), Error> {
        summary.orgs += 1;
        let former = org
            .former_name
            .as_ref()
            .map(|(n, until)| format!("{n}@{until}"))
            .unwrap_or_default();
        orgs_out
            .write_record([
                org.org_id.as_str(),
                &org.official_name,
                &org.short_name,
                &former,
                &org.duty_keywords.join("|"),
                org.admin_level,
                org.group,
                &org.region,
                org.parent_id.as_deref().unwrap_or(""),
                if org.internal_dept { "true" } else { "false" },
            ])
            .map_err(|e| csv_err(&orgs_path, e))
    };

    while (index as usize) < opts.accounts {
        let org = planner.next_org();
        write_org(&org, &mut summary)?;
        let mut rng = rng_for(opts.seed, 2, org_index);
        let big = matches!(org.admin_level, "ministry" | "province");
        let mut platforms: Vec<&'static str> = Vec::new();
        if rng.random_bool(0.9) {
            platforms.push("wechat");
        }
        if rng.random_bool(if big { 0.85 } else { 0.55 }) {
            platforms.push("weibo");
        }
        if rng.random_bool(if big { 0.3 } else { 0.06 }) {
            platforms.push("app");
        }
        if platforms.is_empty() {
            platforms.push("wechat");
        }
        // Org-level plants: a second active WeChat account (OPN001), different names on
        // WeChat and Weibo (NAM002).
        let org_plant = match org_index % 12 {
            5 => Some("duplicate"),
            9 => Some("cross-platform-name"),
            _ => None,
        };
        let mut accounts: Vec<(&'static str, Option<String>)> =
            platforms.iter().map(|p| (*p, None)).collect();
        match org_plant {
            Some("duplicate") => {
                if !platforms.contains(&"wechat") {
                    accounts.insert(0, ("wechat", None));
                }
                accounts.push(("wechat", Some(format!("{}服务", org.short_name))));
            }
            Some(_) => {
                if !platforms.contains(&"wechat") {
                    accounts.insert(0, ("wechat", None));
                }
                accounts.retain(|(p, _)| *p != "weibo");
                accounts.push(("weibo", Some(format!("{}之声", org.region_name()))));
            }
            None => {}
        }

        let mut org_account_ids = Vec::new();
        for (platform, name) in accounts {
            if index as usize >= opts.accounts {
                break;
            }
            // Every second account carries one planted case that fits its platform.
            let mut plant = None;
            if index % 2 == 1 && name.is_none() {
                // Plants that do not fit this platform stay at the front for the next account.
                if let Some(pos) = plant_queue.iter().position(|p| p.fits(platform, &org)) {
                    let chosen = plant_queue.remove(pos);
                    plant_queue.push(chosen);
                    plant = Some(chosen);
                }
            }
            let internal;
            let account_org = if plant == Some(Plant::InternalDepartment) {
                internal = internal_department(&org);
                write_org(&internal, &mut summary)?;
                &internal
            } else {
                &org
            };
            let service = platform == "wechat" && rng.random_bool(0.2);
            let plan = AccountPlan {
                index,
                platform,
                org: account_org,
                name: name.clone().or_else(|| {
                    (plant == Some(Plant::InternalDepartment))
                        .then(|| account_org.short_name.clone())
                }),
                plant,
                service: service && plant.is_none(),
            };
            let data = generate_account(&plan, opts.seed, as_of_day);
            let id = account_id(platform, index);
            if let Some(p) = plant {
                for (code, expected) in p.expectations() {
                    summary.planted.push(PlantedCase {
                        account_id: id.clone(),
                        org_id: account_org.org_id.clone(),
                        case: p.label(),
                        code: code.to_string(),
                        expected: *expected,
                        scope: "account".to_string(),
                    });
                }
            }
            if let Some(a) = &data.account {
                accounts_out.json_line(a)?;
            }
            // Some accounts without a planted case come as exporters' archives instead:
            // weibo-crawler CSV for Weibo, wechat-article-exporter JSON for WeChat.
            let exported = plant.is_none()
                && name.is_none()
                && index.is_multiple_of(4)
                && index < EXPORTED_ACCOUNTS_BELOW
                && data.account.is_some();
            let mut canonical_posts: Vec<&PostRow> = data.posts.iter().collect();
            if exported && let Some(account) = &data.account {
                let file = match platform {
                    "weibo" => exporters::write_weibo_crawler_csv(out, account, &data.posts)?,
                    "wechat" => exporters::write_article_exporter_json(out, account, &data.posts)?,
                    _ => None,
                };
                if let Some(file) = file {
                    summary.exporter_files.push(file);
                    // What the format cannot carry stays canonical: deleted Weibo posts.
                    canonical_posts.retain(|p| platform == "weibo" && p.is_deleted);
                }
            }
            for p in canonical_posts {
                posts_out.json_line(p)?;
            }
            for c in &data.comments {
                comments_out.json_line(c)?;
            }
            for l in &data.link_checks {
                links_out.json_line(l)?;
            }
            for m in &data.menus {
                menus_out
                    .write_record([
                        &m.account_id,
                        &m.path,
                        &m.name,
                        m.kind,
                        &m.target,
                        &m.collected_at,
                    ])
                    .map_err(|e| csv_err(&menus_path, e))?;
            }
            summary.accounts += 1;
            summary.posts += data.posts.len() as u64;
            summary.comments += data.comments.len() as u64;
            summary.menus += data.menus.len() as u64;
            summary.link_checks += data.link_checks.len() as u64;
            org_account_ids.push(id);
            index += 1;
        }
        if let Some(kind) = org_plant
            && org_account_ids.len() >= 2
        {
            let (case, code) = match kind {
                "duplicate" => ("DuplicateAccount", "OPN001"),
                _ => ("CrossPlatformName", "NAM002"),
            };
            summary.planted.push(PlantedCase {
                account_id: org_account_ids.last().cloned().unwrap_or_default(),
                org_id: org.org_id.clone(),
                case: case.to_string(),
                code: code.to_string(),
                expected: true,
                scope: "org".to_string(),
            });
        }
        org_index += 1;
    }

    let finish_csv =
        |w: csv::Writer<BufWriter<tempfile::NamedTempFile>>, path: &Path| -> Result<(), Error> {
            let buf = w
                .into_inner()
                .map_err(|e| Error::io(path, e.into_error()))?;
            Output {
                tmp: buf,
                path: path.to_path_buf(),
            }
            .finish()
        };
    finish_csv(orgs_out, &orgs_path)?;
    finish_csv(menus_out, &menus_path)?;
    accounts_out.finish()?;
    posts_out.finish()?;
    comments_out.finish()?;
    links_out.finish()?;

    let manifest = serde_json::to_string_pretty(&summary).expect("summary serialises");
    crate::store::write_atomic(&out.join(MANIFEST_FILE), |f| {
        f.write_all(manifest.as_bytes())
    })?;
    Ok(summary)
}

impl Org {
    /// The region part of the short name, for a planted name that differs by platform.
    fn region_name(&self) -> String {
        self.short_name.chars().take(2).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let opts = DemoOptions {
            accounts: 30,
            ..Default::default()
        };
        generate(a.path(), &opts).unwrap();
        generate(b.path(), &opts).unwrap();
        for name in [
            "orgs.csv",
            "accounts.jsonl",
            "posts.jsonl",
            "comments.jsonl",
            "menus.csv",
            MANIFEST_FILE,
        ] {
            assert_eq!(
                fs::read(a.path().join(name)).unwrap(),
                fs::read(b.path().join(name)).unwrap(),
                "{name} differs"
            );
        }
    }

    #[test]
    fn exact_account_count_and_every_platform() {
        let dir = tempfile::tempdir().unwrap();
        let s = generate(
            dir.path(),
            &DemoOptions {
                accounts: 60,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.accounts, 60);
        let accounts = fs::read_to_string(dir.path().join("accounts.jsonl")).unwrap();
        assert_eq!(accounts.lines().count(), 60);
        for needle in [
            "\"platform\":\"wechat\"",
            "\"platform\":\"weibo\"",
            "\"platform\":\"app\"",
            "\"account_kind\":\"service\"",
        ] {
            assert!(accounts.contains(needle), "no {needle}");
        }
    }

    #[test]
    fn every_planted_case_appears_in_a_small_demo() {
        let dir = tempfile::tempdir().unwrap();
        let s = generate(dir.path(), &DemoOptions::default()).unwrap();
        let cases: std::collections::HashSet<_> =
            s.planted.iter().map(|p| p.case.as_str()).collect();
        for plant in PLANT_ROTATION {
            assert!(
                cases.contains(plant.label().as_str()),
                "{plant:?} not planted"
            );
        }
        assert!(cases.contains("DuplicateAccount") && cases.contains("CrossPlatformName"));
    }

    #[test]
    fn part_of_the_demo_comes_in_exporter_formats_and_imports_whole() {
        let dir = tempfile::tempdir().unwrap();
        let s = generate(dir.path(), &DemoOptions::default()).unwrap();
        assert!(s.exporter_files.iter().any(|f| f.starts_with("weibo/")));
        assert!(s.exporter_files.iter().any(|f| f.starts_with("wechat/gh_")));
        let store_dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(store_dir.path()).unwrap();
        let report = crate::import::import_paths(
            &store,
            &[dir.path().to_path_buf()],
            &crate::import::ImportOptions::default(),
        )
        .unwrap();
        let formats: std::collections::BTreeSet<&str> = report
            .files
            .iter()
            .filter_map(|f| f.format.as_deref())
            .collect();
        for format in [
            "weibo-crawler-posts",
            "wechat-articles-json",
            "canonical-jsonl",
        ] {
            assert!(
                formats.contains(format),
                "{format} not exercised: {formats:?}"
            );
        }
        let total = report.total();
        assert!(total.reconciles() && total.quarantined == 0);
        assert_eq!(
            store
                .read_table(&crate::schema::POSTS)
                .unwrap()
                .unwrap()
                .height() as u64,
            s.posts,
            "every generated post lands in the store, whichever format carried it"
        );
    }
}
