//! Audit history (`audit --history DIR`): each audit's tables kept under its time point,
//! `DIR/<as_of>/` (report.json, findings, scores and rankings as Parquet), so quarterly runs
//! accumulate; `diff` compares two entries, and the report shows each account's score and
//! findings over the past audits. The folder is the user's (next to the reports, not inside
//! the store: the store holds what was collected, the history what was concluded).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::diff::{AuditOutput, read_audit};

/// The files an entry keeps.
pub const ENTRY_FILES: [&str; 4] = [
    "report.json",
    "findings.parquet",
    "scores.parquet",
    "rankings.parquet",
];

/// One account in one audit, for its trend chart.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub as_of: String,
    pub score: Option<f64>,
    pub findings: u64,
}

/// One past audit, as the trend charts need it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    pub as_of: String,
    pub vetoes: u64,
    pub tiers: BTreeMap<String, u64>,
    /// account_id → (score, findings).
    pub accounts: HashMap<String, (Option<f64>, u64)>,
}

impl HistoryPoint {
    pub fn of(audit: &AuditOutput) -> HistoryPoint {
        let mut accounts: HashMap<String, (Option<f64>, u64)> = audit
            .standings
            .iter()
            .map(|(id, s)| (id.clone(), (s.score, 0)))
            .collect();
        for f in &audit.findings {
            accounts.entry(f.account_id.clone()).or_default().1 += 1;
        }
        let mut tiers = BTreeMap::new();
        for s in audit.standings.values() {
            *tiers
                .entry(s.tier.clone().unwrap_or_else(|| "—".into()))
                .or_insert(0) += 1;
        }
        HistoryPoint {
            as_of: audit.summary.as_of.clone(),
            vetoes: audit.standings.values().filter(|s| s.veto).count() as u64,
            tiers,
            accounts,
        }
    }
}

fn is_date(name: &str) -> bool {
    chrono::NaiveDate::parse_from_str(name, "%Y-%m-%d").is_ok()
}

/// The entries of a history folder, oldest first (folders named YYYY-MM-DD; anything else,
/// such as an interrupted write's temporary folder, is not an entry).
pub fn entries(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| govmedia_collectors::Error::io(dir, e))? {
        let entry = entry.map_err(|e| govmedia_collectors::Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if is_date(&name) && entry.path().is_dir() {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// The past audits strictly before `as_of` (YYYY-MM-DD), oldest first.
pub fn read_history(dir: &Path, as_of: &str) -> Result<Vec<HistoryPoint>, Error> {
    let mut points = Vec::new();
    for path in entries(dir)? {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.as_ref() < as_of {
            points.push(HistoryPoint::of(&read_audit(&path)?));
        }
    }
    Ok(points)
}

/// Keeps an audit's tables (from its report folder) as the entry of its time point, replacing
/// an earlier entry of the same day as a whole: the entry is built in a temporary folder and
/// renamed into place. Returns the entry and whether it replaced one.
pub fn record(dir: &Path, report: &Path, as_of: &str) -> Result<(PathBuf, bool), Error> {
    std::fs::create_dir_all(dir).map_err(|e| govmedia_collectors::Error::io(dir, e))?;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| govmedia_collectors::Error::io(&p, e)
    };
    let staging = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(dir)
        .map_err(io(dir))?;
    for name in ENTRY_FILES {
        let from = report.join(name);
        std::fs::copy(&from, staging.path().join(name)).map_err(io(&from))?;
    }
    let entry = dir.join(as_of);
    let replaced = entry.exists();
    if replaced {
        // Moved aside first, removed after the new entry is in place.
        let old = dir.join(format!(".old-{as_of}"));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(&entry, &old).map_err(io(&entry))?;
        std::fs::rename(staging.keep(), &entry).map_err(io(&entry))?;
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    } else {
        std::fs::rename(staging.keep(), &entry).map_err(io(&entry))?;
    }
    Ok((entry, replaced))
}
