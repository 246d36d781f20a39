//! A planted pair of audits: one finding fixed, one new, one aged out of the window, an account
//! vetoed, a rank tie broken.

use std::collections::BTreeMap;

use super::*;

fn summary(as_of: &str, window_from: &str) -> AuditSummary {
    AuditSummary {
        as_of: as_of.into(),
        window_from: window_from.into(),
        rules_run: vec!["UPD001".into(), "UPD002".into(), "INT002".into()],
        accounts: 3,
        findings: 0,
        veto_accounts: 0,
        lang: "zh".into(),
        govmedia: "test".into(),
    }
}

fn finding(code: &str, account: &str, item: Option<&str>, at: i64) -> FindingRow {
    FindingRow {
        code: code.into(),
        severity: if code == "UPD002" { "veto" } else { "deduct" }.into(),
        account_id: account.into(),
        item_id: item.map(String::from),
        occurred_at: Some(at),
        message: format!("{code} message"),
        evidence: format!("{code} evidence"),
    }
}

fn standing(score: f64, tier: &str, veto: bool, rank: i64, tied: bool) -> Standing {
    Standing {
        platform: "wechat".into(),
        account_name: "某市发布".into(),
        score: Some(score),
        tier: Some(tier.into()),
        veto,
        group: Some("wechat · 市级".into()),
        rank: Some(rank),
        tied,
    }
}

/// 2025-01-06 and 2025-09-01 (Beijing midnight) in UTC milliseconds.
const JAN: i64 = 1_736_092_800_000;
const SEP: i64 = 1_756_656_000_000;

fn old() -> AuditOutput {
    let mut standings = BTreeMap::new();
    standings.insert("wechat:a".into(), standing(88.0, "优秀", false, 1, true));
    standings.insert("wechat:b".into(), standing(88.0, "优秀", false, 1, true));
    standings.insert("wechat:c".into(), standing(70.0, "中等", false, 3, false));
    AuditOutput {
        dir: "old".into(),
        summary: summary("2025-09-30", "2024-09-30"),
        findings: vec![
            // Fixed by the new audit.
            finding("INT002", "wechat:a", Some("c-1"), SEP),
            // Still there.
            finding("UPD001", "wechat:b", Some("period:2025-09-01"), SEP),
            // A week of January, outside the new window (from 2025-03-31).
            finding("UPD001", "wechat:c", Some("period:2025-01-06"), JAN),
        ],
        standings,
    }
}

fn new() -> AuditOutput {
    let mut standings = BTreeMap::new();
    standings.insert("wechat:a".into(), standing(91.0, "卓越", false, 1, false));
    standings.insert("wechat:b".into(), standing(87.5, "优秀", false, 2, false));
    standings.insert("wechat:c".into(), standing(70.0, "不合格", true, 3, false));
    AuditOutput {
        dir: "new".into(),
        summary: summary("2025-12-31", "2025-03-31"),
        findings: vec![
            finding("UPD001", "wechat:b", Some("period:2025-09-01"), SEP),
            finding("UPD002", "wechat:c", None, SEP),
        ],
        standings,
    }
}

#[test]
fn a_planted_pair_gives_exactly_the_expected_rows() {
    let d = diff_audits(&old(), &new());
    let statuses: Vec<(&str, &str, &str, Option<&str>)> = d
        .findings
        .iter()
        .map(|c| {
            (
                c.status.as_str(),
                c.finding.code.as_str(),
                c.finding.account_id.as_str(),
                c.finding.item_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("resolved", "INT002", "wechat:a", Some("c-1")),
            (
                "persisting",
                "UPD001",
                "wechat:b",
                Some("period:2025-09-01")
            ),
            ("aged_out", "UPD001", "wechat:c", Some("period:2025-01-06")),
            ("new", "UPD002", "wechat:c", None),
        ]
    );
    let row = |id: &str| d.accounts.iter().find(|a| a.account_id == id).unwrap();
    let a = row("wechat:a");
    assert_eq!(
        (
            a.tier_change.as_str(),
            a.score_change,
            a.rank_change,
            a.old_tied,
            a.new_tied
        ),
        ("up", Some(3.0), Some(0), true, false)
    );
    assert_eq!((a.findings_resolved, a.findings_new), (1, 0));
    let b = row("wechat:b");
    // The tie at rank 1 is broken: b now second.
    assert_eq!((b.rank_change, b.tier_change.as_str()), (Some(-1), "same"));
    assert_eq!(b.score_change, Some(-0.5));
    let c = row("wechat:c");
    assert_eq!(
        (
            c.veto_change.as_str(),
            c.tier_change.as_str(),
            c.findings_new,
            c.findings_aged_out
        ),
        ("gained", "down", 1, 1)
    );
    let all = &d.totals[0];
    assert_eq!(
        (
            all.scope.as_str(),
            all.accounts,
            all.vetoes_gained,
            all.tier_up,
            all.tier_down,
            all.findings_new,
            all.findings_resolved,
            all.findings_persisting,
            all.findings_aged_out
        ),
        ("all", 3, 1, 1, 1, 1, 1, 1, 1)
    );
    assert!(
        d.totals
            .iter()
            .any(|t| t.scope == "group" && t.name == "wechat · 市级")
    );
    assert_eq!(d.transitions[&("优秀".to_string(), "卓越".to_string())], 1);
    assert_eq!(d.tiers[0].0, "卓越", "best tier first");
    assert_eq!(d.tiers.last().unwrap().0, "不合格");
    assert!(!d.is_unchanged());
}

#[test]
fn an_audit_diffed_with_itself_has_no_changes() {
    let d = diff_audits(&new(), &new());
    assert!(d.is_unchanged());
    assert!(
        d.findings
            .iter()
            .all(|f| f.status == FindingStatus::Persisting)
    );
    assert!(
        d.accounts
            .iter()
            .all(|a| a.tier_change == "same" && a.veto_change.is_empty())
    );
}

#[test]
fn a_repeated_key_is_matched_as_many_times_as_it_appears() {
    let mut old = new();
    let mut new = new();
    let twice = finding("CNT001", "wechat:a", Some("p-1"), SEP);
    old.findings.push(twice.clone());
    new.findings.push(twice.clone());
    new.findings.push(twice);
    let d = diff_audits(&old, &new);
    let cnt: Vec<&str> = d
        .findings
        .iter()
        .filter(|c| c.finding.code == "CNT001")
        .map(|c| c.status.as_str())
        .collect();
    assert_eq!(cnt, ["new", "persisting"]);
}
