//! Writes what `govmedia diff` produces: `diff.csv` (per account), `diff_findings.csv` and
//! `.parquet` (each finding with its status), `diff.json` (summaries, totals and accounts) and
//! `diff.html` (offline, every data text escaped by the template engine).

use std::path::{Path, PathBuf};

use govmedia_collectors::store::write_atomic;
use govmedia_rules::Lang;
use minijinja::Environment;
use serde::Serialize;

use crate::Error;
use crate::account_charts::tier_movement_svg;
use crate::diff::{AccountChange, AuditDiff};
use crate::labels::label;
use crate::labels::platform_label;
use crate::tables::{write_csv, write_parquet};

/// Accounts listed under "moved most".
const MOVERS: usize = 30;

#[derive(Serialize)]
struct Mover {
    account_id: String,
    name: String,
    group: String,
    old_score: String,
    new_score: String,
    score_change: String,
    score_class: &'static str,
    old_tier: String,
    new_tier: String,
    tier_class: &'static str,
    old_rank: String,
    new_rank: String,
    veto_change: String,
    veto_text: String,
    findings_new: u64,
    findings_resolved: u64,
}

#[derive(Serialize)]
struct MatrixRow {
    tier: String,
    counts: Vec<u64>,
}

#[derive(Serialize)]
struct TotalsRow {
    label: String,
    accounts: u64,
    veto_old: u64,
    veto_new: u64,
    tier_up: u64,
    tier_down: u64,
    findings_new: u64,
    findings_resolved: u64,
    findings_persisting: u64,
    findings_aged_out: u64,
}

fn dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "—".into())
}

fn mover(a: &AccountChange, lang: Lang) -> Mover {
    let score = |s: Option<f64>| dash(s.map(|v| format!("{v:.1}")));
    Mover {
        account_id: a.account_id.clone(),
        name: a.account_name.clone(),
        group: a.group.clone().unwrap_or_default(),
        old_score: score(a.old_score),
        new_score: score(a.new_score),
        score_change: dash(a.score_change.map(|v| format!("{v:+.1}"))),
        score_class: match a.score_change {
            Some(v) if v > 0.0 => "up",
            Some(v) if v < 0.0 => "down",
            _ => "zero",
        },
        old_tier: dash(a.old_tier.clone()),
        new_tier: dash(a.new_tier.clone()),
        tier_class: match a.tier_change.as_str() {
            "up" => "up",
            "down" => "down",
            _ => "",
        },
        old_rank: dash(a.old_rank.map(|r| r.to_string())),
        new_rank: dash(a.new_rank.map(|r| r.to_string())),
        veto_change: a.veto_change.clone(),
        veto_text: match (a.veto_change.as_str(), lang) {
            ("gained", Lang::Zh) => "新增否决".into(),
            ("lost", Lang::Zh) => "解除否决".into(),
            ("gained", Lang::En) => "vetoed".into(),
            ("lost", Lang::En) => "veto lifted".into(),
            _ => String::new(),
        },
        findings_new: a.findings_new,
        findings_resolved: a.findings_resolved,
    }
}

/// Writes the diff's files into `out`.
pub fn write_diff(out: &Path, diff: &AuditDiff, lang: Lang) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(out).map_err(|e| govmedia_collectors::Error::io(out, e))?;
    let mut files = Vec::new();
    let accounts = out.join("diff.csv");
    write_csv(&diff.accounts_frame()?, &accounts)?;
    files.push(accounts);
    let findings = diff.findings_frame()?;
    for (name, parquet) in [
        ("diff_findings.csv", false),
        ("diff_findings.parquet", true),
    ] {
        let path = out.join(name);
        if parquet {
            write_parquet(&findings, &path)?;
        } else {
            write_csv(&findings, &path)?;
        }
        files.push(path);
    }
    let json = out.join("diff.json");
    let body = serde_json::json!({
        "old": diff.old,
        "new": diff.new,
        "totals": diff.totals,
        "accounts": diff.accounts,
    });
    let text = serde_json::to_string_pretty(&body).expect("the diff serialises");
    write_atomic(&json, |f| std::io::Write::write_all(f, text.as_bytes()))?;
    files.push(json);

    let all = diff.totals.first().cloned().unwrap_or_default();
    let tier_names: Vec<String> = diff.tiers.iter().map(|t| t.0.clone()).collect();
    let matrix: Vec<MatrixRow> = tier_names
        .iter()
        .map(|from| MatrixRow {
            tier: from.clone(),
            counts: tier_names
                .iter()
                .map(|to| {
                    diff.transitions
                        .get(&(from.clone(), to.clone()))
                        .copied()
                        .unwrap_or(0)
                })
                .collect(),
        })
        .collect();
    let mut moved: Vec<&AccountChange> = diff.accounts.iter().collect();
    // Vetoes and tier changes first, then the largest score change.
    moved.sort_by(|a, b| {
        let weight = |x: &AccountChange| {
            (
                !x.veto_change.is_empty(),
                matches!(x.tier_change.as_str(), "up" | "down"),
                x.score_change.unwrap_or(0.0).abs(),
            )
        };
        let (wa, wb) = (weight(a), weight(b));
        (wb.0, wb.1)
            .cmp(&(wa.0, wa.1))
            .then(wb.2.total_cmp(&wa.2))
            .then(a.account_id.cmp(&b.account_id))
    });
    let movers: Vec<Mover> = moved
        .into_iter()
        .filter(|a| {
            !a.veto_change.is_empty()
                || a.tier_change != "same"
                || a.score_change.is_some_and(|v| v != 0.0)
        })
        .take(MOVERS)
        .map(|a| mover(a, lang))
        .collect();
    let totals: Vec<TotalsRow> = diff
        .totals
        .iter()
        .map(|t| TotalsRow {
            label: match t.scope.as_str() {
                "all" => label("scope_all", lang).to_string(),
                "platform" => platform_label(&t.name, lang),
                _ => t.name.clone(),
            },
            accounts: t.accounts,
            veto_old: t.veto_old,
            veto_new: t.veto_new,
            tier_up: t.tier_up,
            tier_down: t.tier_down,
            findings_new: t.findings_new,
            findings_resolved: t.findings_resolved,
            findings_persisting: t.findings_persisting,
            findings_aged_out: t.findings_aged_out,
        })
        .collect();
    let tier_chart = tier_movement_svg(
        label("chart_tiers_title", lang),
        &diff.tiers,
        &diff.old.as_of,
        &diff.new.as_of,
        lang,
    )?;
    static DIFF: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    let env = crate::html::template_environment(
        &DIFF,
        "diff.html",
        include_str!("../templates/diff.html"),
    )?;
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .collect();
    let html = env.get_template("diff.html")?.render(minijinja::context! {
        t => crate::labels::template_labels(lang),
        old_as_of => diff.old.as_of,
        new_as_of => diff.new.as_of,
        all => all,
        files => names,
        tier_chart => tier_chart,
        tier_names => tier_names,
        matrix => matrix,
        movers => movers,
        totals => totals,
    })?;
    let page = out.join("diff.html");
    write_atomic(&page, |f| std::io::Write::write_all(f, html.as_bytes()))?;
    files.push(page);
    files.push(crate::html::write_stylesheet(out)?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{AuditOutput, Standing, diff_audits};
    use crate::report::AuditSummary;

    fn audit(as_of: &str, name: &str, score: f64, veto: bool) -> AuditOutput {
        let mut standings = std::collections::BTreeMap::new();
        standings.insert(
            "wechat:a".to_string(),
            Standing {
                platform: "wechat".into(),
                account_name: name.into(),
                score: Some(score),
                tier: Some(if veto { "不合格" } else { "优秀" }.into()),
                veto,
                group: Some("wechat · 市级".into()),
                rank: Some(1),
                tied: false,
            },
        );
        AuditOutput {
            dir: as_of.into(),
            summary: AuditSummary {
                as_of: as_of.into(),
                window_from: "2025-01-01".into(),
                rules_run: vec![],
                accounts: 1,
                findings: 0,
                veto_accounts: veto as u64,
                lang: "zh".into(),
                govmedia: "test".into(),
            },
            findings: vec![],
            standings,
        }
    }

    #[test]
    fn the_page_escapes_names_and_shows_the_veto_and_the_tier_chart() {
        let hostile = "<script>alert(1)</script>";
        let d = diff_audits(
            &audit("2025-09-30", hostile, 88.0, false),
            &audit("2025-12-31", hostile, 60.0, true),
        );
        let dir = tempfile::tempdir().unwrap();
        let files = write_diff(dir.path(), &d, Lang::Zh).unwrap();
        assert_eq!(files.len(), 6, "with the stylesheet");
        let html = std::fs::read_to_string(dir.path().join("diff.html")).unwrap();
        assert!(!html.contains(hostile));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("新增否决"));
        assert!(html.contains("<svg"));
        assert!(html.contains("88.0 → 60.0"));
        for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
            assert!(!html.contains(external), "no external resource: {external}");
        }
        let csv = std::fs::read_to_string(dir.path().join("diff.csv")).unwrap();
        assert!(csv.contains("gained"), "{csv}");
    }
}
