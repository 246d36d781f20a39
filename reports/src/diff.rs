//! `govmedia diff OLD NEW`: what changed between two audits (two report folders, or two
//! entries of an `audit --history` folder).
//!
//! Findings are matched by (code, account, item): one in both audits is *persisting*, one only
//! in the new audit is *new*, one only in the old audit is *resolved* — unless it happened before
//! the new audit's window (a week, a late reply or a post more than a year before the new
//! time point): then it *aged out* of the window, which is not a fix. A key found several times
//! is matched as many times as it appears in both. Per account: score and tier change, rank
//! change within its ranking group (platform · level), veto gained or lost; totals per platform
//! and per group.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::Error;
use crate::account_page::strings;
use crate::report::AuditSummary;

/// One finding, as far as the diff needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub code: String,
    pub severity: String,
    pub account_id: String,
    pub item_id: Option<String>,
    pub occurred_at: Option<i64>,
    pub message: String,
    pub evidence: String,
}

/// One account's score, tier and rank in an audit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Standing {
    pub platform: String,
    pub account_name: String,
    pub score: Option<f64>,
    pub tier: Option<String>,
    pub veto: bool,
    pub group: Option<String>,
    pub rank: Option<i64>,
    pub tied: bool,
}

/// An audit read back from its output folder.
#[derive(Debug, Clone)]
pub struct AuditOutput {
    pub dir: PathBuf,
    pub summary: AuditSummary,
    pub findings: Vec<FindingRow>,
    pub standings: BTreeMap<String, Standing>,
}

fn read_parquet(path: &Path) -> Result<DataFrame, Error> {
    let file = std::fs::File::open(path).map_err(|e| {
        govmedia_collectors::Error::io(
            path,
            std::io::Error::new(
                e.kind(),
                format!("{e} (not an audit output folder: written by govmedia audit)"),
            ),
        )
    })?;
    Ok(ParquetReader::new(file).finish()?)
}

/// Reads an audit output folder: `report.json`, `findings.parquet`, `scores.parquet`,
/// `rankings.parquet`.
pub fn read_audit(dir: &Path) -> Result<AuditOutput, Error> {
    let summary_path = dir.join("report.json");
    let text = std::fs::read_to_string(&summary_path)
        .map_err(|e| govmedia_collectors::Error::io(&summary_path, e))?;
    let summary: AuditSummary = serde_json::from_str(&text).map_err(|e| {
        govmedia_collectors::Error::io(
            &summary_path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        )
    })?;
    let f = read_parquet(&dir.join("findings.parquet"))?;
    let occurred = f.column("occurred_at")?.cast(&DataType::Int64)?;
    let occurred = occurred.i64()?;
    let (code, severity, account, item, message, evidence) = (
        strings(&f, "code")?,
        strings(&f, "severity")?,
        strings(&f, "account_id")?,
        strings(&f, "item_id")?,
        strings(&f, "message")?,
        strings(&f, "evidence")?,
    );
    let findings = (0..f.height())
        .map(|i| FindingRow {
            code: code[i].clone().unwrap_or_default(),
            severity: severity[i].clone().unwrap_or_default(),
            account_id: account[i].clone().unwrap_or_default(),
            item_id: item[i].clone(),
            occurred_at: occurred.get(i),
            message: message[i].clone().unwrap_or_default(),
            evidence: evidence[i].clone().unwrap_or_default(),
        })
        .collect();

    let s = read_parquet(&dir.join("scores.parquet"))?;
    let score = s.column("score")?.cast(&DataType::Float64)?;
    let score = score.f64()?;
    let veto: Vec<Option<bool>> = s.column("veto")?.bool()?.iter().collect();
    let (ids, platforms, names, tiers) = (
        strings(&s, "account_id")?,
        strings(&s, "platform")?,
        strings(&s, "account_name")?,
        strings(&s, "tier")?,
    );
    let mut standings = BTreeMap::new();
    for i in 0..s.height() {
        let Some(id) = ids[i].clone() else { continue };
        standings.insert(
            id,
            Standing {
                platform: platforms[i].clone().unwrap_or_default(),
                account_name: names[i].clone().unwrap_or_default(),
                score: score.get(i),
                tier: tiers[i].clone(),
                veto: veto[i].unwrap_or(false),
                ..Default::default()
            },
        );
    }
    let r = read_parquet(&dir.join("rankings.parquet"))?;
    let rank = r.column("rank")?.cast(&DataType::Int64)?;
    let rank = rank.i64()?;
    let tied: Vec<Option<bool>> = r.column("tied")?.bool()?.iter().collect();
    let (ids, platforms, levels) = (
        strings(&r, "account_id")?,
        strings(&r, "platform")?,
        strings(&r, "level")?,
    );
    for i in 0..r.height() {
        if let Some(st) = ids[i].as_ref().and_then(|id| standings.get_mut(id)) {
            st.group = Some(format!(
                "{} · {}",
                platforms[i].as_deref().unwrap_or(""),
                levels[i].as_deref().unwrap_or("")
            ));
            st.rank = rank.get(i);
            st.tied = tied[i].unwrap_or(false);
        }
    }
    Ok(AuditOutput {
        dir: dir.to_path_buf(),
        summary,
        findings,
        standings,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    New,
    Resolved,
    Persisting,
    /// Happened before the new audit's window: left it, not fixed.
    AgedOut,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::New => "new",
            FindingStatus::Resolved => "resolved",
            FindingStatus::Persisting => "persisting",
            FindingStatus::AgedOut => "aged_out",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FindingChange {
    pub status: FindingStatus,
    /// The new audit's row (the old one for resolved and aged-out findings).
    pub finding: FindingRow,
}

/// One account's change between the audits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountChange {
    pub account_id: String,
    pub platform: String,
    pub account_name: String,
    pub group: Option<String>,
    pub old_score: Option<f64>,
    pub new_score: Option<f64>,
    pub score_change: Option<f64>,
    pub old_tier: Option<String>,
    pub new_tier: Option<String>,
    /// `up`, `down`, `same`, `changed` (tiers of an unknown pack), `added`, `removed`.
    pub tier_change: String,
    pub old_rank: Option<i64>,
    pub new_rank: Option<i64>,
    /// Places gained within the group (positive: moved up); none when the group changed.
    pub rank_change: Option<i64>,
    pub old_tied: bool,
    pub new_tied: bool,
    /// `gained`, `lost` or empty.
    pub veto_change: String,
    pub findings_new: u64,
    pub findings_resolved: u64,
    pub findings_persisting: u64,
    pub findings_aged_out: u64,
}

/// Totals over a platform, a ranking group, or everything (`scope` = `all`).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Totals {
    pub scope: String,
    pub name: String,
    pub accounts: u64,
    pub veto_old: u64,
    pub veto_new: u64,
    pub vetoes_gained: u64,
    pub vetoes_lost: u64,
    pub tier_up: u64,
    pub tier_down: u64,
    pub findings_new: u64,
    pub findings_resolved: u64,
    pub findings_persisting: u64,
    pub findings_aged_out: u64,
}

#[derive(Debug, Clone)]
pub struct AuditDiff {
    pub old: AuditSummary,
    pub new: AuditSummary,
    pub accounts: Vec<AccountChange>,
    pub findings: Vec<FindingChange>,
    pub totals: Vec<Totals>,
    /// (tier, accounts in the old audit, in the new audit), best tier first.
    pub tiers: Vec<(String, u64, u64)>,
    /// (old tier, new tier) → accounts.
    pub transitions: BTreeMap<(String, String), u64>,
}

/// Tier order: the built-in pack's tiers by their minimum score (zh and en names), a veto
/// tier (not in the pack) below all.
fn tier_order() -> HashMap<String, f64> {
    let mut order = HashMap::new();
    for t in &govmedia_rules::scoring::RubricPack::builtin().pack.tiers {
        order.insert(t.name.clone(), t.min);
        if let Some(en) = &t.name_en {
            order.insert(en.clone(), t.min);
        }
    }
    order
}

fn tier_change(old: &Standing, new: &Standing, order: &HashMap<String, f64>) -> String {
    let level = |s: &Standing| -> Option<f64> {
        if s.veto {
            return Some(f64::NEG_INFINITY);
        }
        s.tier.as_ref().and_then(|t| order.get(t).copied())
    };
    match (level(old), level(new)) {
        _ if old.tier == new.tier && old.veto == new.veto => "same".into(),
        (Some(a), Some(b)) if b > a => "up".into(),
        (Some(a), Some(b)) if b < a => "down".into(),
        _ => "changed".into(),
    }
}

/// The first day of the new audit's window, as the instant of its start (Beijing).
fn window_start_ms(summary: &AuditSummary) -> Option<i64> {
    chrono::NaiveDate::parse_from_str(&summary.window_from, "%Y-%m-%d")
        .ok()
        .map(govmedia_collectors::time::shanghai_midnight_ms)
}

type FindingKey = (String, String, Option<String>);

fn key(f: &FindingRow) -> FindingKey {
    (f.code.clone(), f.account_id.clone(), f.item_id.clone())
}

/// Compares two audits.
pub fn diff_audits(old: &AuditOutput, new: &AuditOutput) -> AuditDiff {
    let window_start = window_start_ms(&new.summary);
    // Multiset matching: each key as many times as it is in both.
    let mut old_by_key: HashMap<FindingKey, Vec<&FindingRow>> = HashMap::new();
    for f in &old.findings {
        old_by_key.entry(key(f)).or_default().push(f);
    }
    let mut findings = Vec::new();
    for f in &new.findings {
        let status = match old_by_key.get_mut(&key(f)).and_then(|v| v.pop()) {
            Some(_) => FindingStatus::Persisting,
            None => FindingStatus::New,
        };
        findings.push(FindingChange {
            status,
            finding: f.clone(),
        });
    }
    for rows in old_by_key.into_values() {
        for f in rows {
            let aged =
                matches!((f.occurred_at, window_start), (Some(at), Some(start)) if at < start);
            findings.push(FindingChange {
                status: if aged {
                    FindingStatus::AgedOut
                } else {
                    FindingStatus::Resolved
                },
                finding: f.clone(),
            });
        }
    }
    findings.sort_by(|a, b| {
        (
            &a.finding.account_id,
            &a.finding.code,
            &a.finding.item_id,
            a.status,
        )
            .cmp(&(
                &b.finding.account_id,
                &b.finding.code,
                &b.finding.item_id,
                b.status,
            ))
    });

    let mut counts: HashMap<&str, [u64; 4]> = HashMap::new();
    for c in &findings {
        counts.entry(&c.finding.account_id).or_default()[c.status as usize] += 1;
    }
    let order = tier_order();
    let mut ids: Vec<&String> = old.standings.keys().chain(new.standings.keys()).collect();
    ids.sort();
    ids.dedup();
    let mut accounts = Vec::new();
    for id in ids {
        let (o, n) = (old.standings.get(id), new.standings.get(id));
        let either = n.or(o).expect("in one of the audits");
        let c = counts.get(id.as_str()).copied().unwrap_or_default();
        let (tier_change, veto_change, rank_change) = match (o, n) {
            (Some(o), Some(n)) => (
                tier_change(o, n, &order),
                match (o.veto, n.veto) {
                    (false, true) => "gained",
                    (true, false) => "lost",
                    _ => "",
                }
                .to_string(),
                match (o.rank, n.rank) {
                    (Some(a), Some(b)) if o.group == n.group => Some(a - b),
                    _ => None,
                },
            ),
            (None, Some(n)) => (
                "added".into(),
                if n.veto { "gained" } else { "" }.into(),
                None,
            ),
            _ => ("removed".into(), String::new(), None),
        };
        accounts.push(AccountChange {
            account_id: id.clone(),
            platform: either.platform.clone(),
            account_name: either.account_name.clone(),
            group: either.group.clone(),
            old_score: o.and_then(|s| s.score),
            new_score: n.and_then(|s| s.score),
            score_change: match (o.and_then(|s| s.score), n.and_then(|s| s.score)) {
                (Some(a), Some(b)) => Some(((b - a) * 10.0).round() / 10.0),
                _ => None,
            },
            old_tier: o.and_then(|s| s.tier.clone()),
            new_tier: n.and_then(|s| s.tier.clone()),
            tier_change,
            old_rank: o.and_then(|s| s.rank),
            new_rank: n.and_then(|s| s.rank),
            rank_change,
            old_tied: o.is_some_and(|s| s.tied),
            new_tied: n.is_some_and(|s| s.tied),
            veto_change,
            findings_new: c[FindingStatus::New as usize],
            findings_resolved: c[FindingStatus::Resolved as usize],
            findings_persisting: c[FindingStatus::Persisting as usize],
            findings_aged_out: c[FindingStatus::AgedOut as usize],
        });
    }

    let mut totals: BTreeMap<(String, String), Totals> = BTreeMap::new();
    for a in &accounts {
        let scopes = [
            ("all".to_string(), String::new()),
            ("platform".to_string(), a.platform.clone()),
            ("group".to_string(), a.group.clone().unwrap_or_default()),
        ];
        for (scope, name) in scopes {
            let t = totals
                .entry((scope.clone(), name.clone()))
                .or_insert(Totals {
                    scope,
                    name,
                    ..Default::default()
                });
            t.accounts += 1;
            let (o, n) = (
                old.standings.get(&a.account_id),
                new.standings.get(&a.account_id),
            );
            t.veto_old += o.is_some_and(|s| s.veto) as u64;
            t.veto_new += n.is_some_and(|s| s.veto) as u64;
            t.vetoes_gained += (a.veto_change == "gained") as u64;
            t.vetoes_lost += (a.veto_change == "lost") as u64;
            t.tier_up += (a.tier_change == "up") as u64;
            t.tier_down += (a.tier_change == "down") as u64;
            t.findings_new += a.findings_new;
            t.findings_resolved += a.findings_resolved;
            t.findings_persisting += a.findings_persisting;
            t.findings_aged_out += a.findings_aged_out;
        }
    }
    let mut totals: Vec<Totals> = totals.into_values().collect();
    // `all` first, then platforms, then groups.
    totals.sort_by_key(|t| {
        (
            ["all", "platform", "group"]
                .iter()
                .position(|s| *s == t.scope),
            t.name.clone(),
        )
    });

    let tier_names = |s: &Standing| s.tier.clone().unwrap_or_else(|| "—".into());
    let mut tier_counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut transitions = BTreeMap::new();
    for s in old.standings.values() {
        tier_counts.entry(tier_names(s)).or_default().0 += 1;
    }
    for s in new.standings.values() {
        tier_counts.entry(tier_names(s)).or_default().1 += 1;
    }
    for (id, o) in &old.standings {
        if let Some(n) = new.standings.get(id) {
            *transitions
                .entry((tier_names(o), tier_names(n)))
                .or_insert(0) += 1;
        }
    }
    let mut tiers: Vec<(String, u64, u64)> = tier_counts
        .into_iter()
        .map(|(t, (a, b))| (t, a, b))
        .collect();
    tiers.sort_by(|a, b| {
        let rank = |t: &str| order.get(t).copied().unwrap_or(f64::NEG_INFINITY);
        rank(&b.0).total_cmp(&rank(&a.0)).then(a.0.cmp(&b.0))
    });
    AuditDiff {
        old: old.summary.clone(),
        new: new.summary.clone(),
        accounts,
        findings,
        totals,
        tiers,
        transitions,
    }
}

impl AuditDiff {
    /// Whether anything changed (an audit diffed with itself: nothing).
    pub fn is_unchanged(&self) -> bool {
        self.findings
            .iter()
            .all(|f| f.status == FindingStatus::Persisting)
            && self.accounts.iter().all(|a| {
                a.tier_change == "same"
                    && a.veto_change.is_empty()
                    && a.rank_change.unwrap_or(0) == 0
                    && a.score_change.unwrap_or(0.0) == 0.0
                    && a.old_tied == a.new_tied
            })
    }

    /// The per-account table (`diff.csv`).
    pub fn accounts_frame(&self) -> PolarsResult<DataFrame> {
        let a = &self.accounts;
        macro_rules! column {
            ($name:literal, $f:expr) => {
                Column::new($name.into(), a.iter().map($f).collect::<Vec<_>>())
            };
        }
        DataFrame::new_infer_height(vec![
            column!("account_id", |x| x.account_id.clone()),
            column!("platform", |x| x.platform.clone()),
            column!("account_name", |x| x.account_name.clone()),
            column!("group", |x| x.group.clone()),
            column!("old_score", |x| x.old_score),
            column!("new_score", |x| x.new_score),
            column!("score_change", |x| x.score_change),
            column!("old_tier", |x| x.old_tier.clone()),
            column!("new_tier", |x| x.new_tier.clone()),
            column!("tier_change", |x| x.tier_change.clone()),
            column!("old_rank", |x| x.old_rank),
            column!("new_rank", |x| x.new_rank),
            column!("rank_change", |x| x.rank_change),
            column!("old_tied", |x| x.old_tied),
            column!("new_tied", |x| x.new_tied),
            column!("veto_change", |x| x.veto_change.clone()),
            column!("findings_new", |x| x.findings_new),
            column!("findings_resolved", |x| x.findings_resolved),
            column!("findings_persisting", |x| x.findings_persisting),
            column!("findings_aged_out", |x| x.findings_aged_out),
        ])
    }

    /// The findings with their status (`diff_findings.csv`).
    pub fn findings_frame(&self) -> PolarsResult<DataFrame> {
        let f = &self.findings;
        macro_rules! column {
            ($name:literal, $g:expr) => {
                Column::new($name.into(), f.iter().map($g).collect::<Vec<_>>())
            };
        }
        let mut df = DataFrame::new_infer_height(vec![
            column!("status", |c| c.status.as_str()),
            column!("code", |c| c.finding.code.clone()),
            column!("severity", |c| c.finding.severity.clone()),
            column!("account_id", |c| c.finding.account_id.clone()),
            column!("item_id", |c| c.finding.item_id.clone()),
            column!("occurred_at", |c| c.finding.occurred_at),
            column!("message", |c| c.finding.message.clone()),
            column!("evidence", |c| c.finding.evidence.clone()),
        ])?;
        govmedia_rules::findings::tag_utc(&mut df, "occurred_at")?;
        Ok(df)
    }
}

#[cfg(test)]
mod tests;
