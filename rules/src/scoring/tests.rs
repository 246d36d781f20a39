use std::collections::BTreeSet;

use polars::prelude::*;

use super::*;

/// (account_id, platform, periods_compliant, periods_judged, comments, replied)
type AccountFixture<'a> = (&'a str, &'a str, i64, i64, i64, i64);

/// Accounts with hand-picked measurements.
fn measurements(rows: &[AccountFixture]) -> DataFrame {
    // (account_id, platform, periods_compliant, periods_judged, comments, replied)
    let n = rows.len();
    let get = |f: fn(&AccountFixture) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    DataFrame::new(
        n,
        vec![
            Column::new(
                "account_id".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new(
                "platform".into(),
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            ),
            Column::new("account_name".into(), vec!["某市发布"; n]),
            Column::new("org_id".into(), vec!["o1"; n]),
            Column::new("periods_compliant".into(), get(|r| r.2)),
            Column::new("periods_judged".into(), get(|r| r.3)),
            Column::new("comments".into(), get(|r| r.4)),
            Column::new("replied".into(), get(|r| r.5)),
            // Every reply on time, so on-time share = 1.
            Column::new("replied_on_time".into(), get(|r| r.5)),
            Column::new("posts_news".into(), vec![10i64; n]),
            Column::new("posts_policy_document".into(), vec![2i64; n]),
            Column::new("posts_interpretation".into(), vec![0i64; n]),
            Column::new("posts_response".into(), vec![1i64; n]),
            Column::new("posts_consultation".into(), vec![1i64; n]),
            Column::new("posts_feedback".into(), vec![0i64; n]),
            Column::new("menu_service_entries".into(), vec![Some(2i64); n]),
            Column::new("menu_query_entries".into(), vec![Some(5i64); n]),
        ],
    )
    .unwrap()
}

fn findings(rows: &[(&str, &str)]) -> DataFrame {
    DataFrame::new(
        rows.len(),
        vec![
            Column::new(
                "account_id".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new("code".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        ],
    )
    .unwrap()
}

fn all_rules() -> BTreeSet<String> {
    crate::registry()
        .iter()
        .map(|r| r.info().code.to_string())
        .collect()
}

fn value(df: &DataFrame, column: &str, row: usize) -> Option<f64> {
    df.column(column)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .get(row)
}

fn text(df: &DataFrame, column: &str, row: usize) -> Option<String> {
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .get(row)
        .map(str::to_string)
}

#[test]
fn a_wechat_account_scored_by_hand() {
    let m = measurements(&[("wechat:gh_a", "wechat", 45, 50, 20, 15)]);
    let f = findings(&[
        ("wechat:gh_a", "CNT001"),
        ("wechat:gh_a", "NAM003"),
        ("wechat:gh_a", "INT004"),
    ]);
    let s = score_accounts(&Scoring::builtin(), &m, &f, &all_rules(), Lang::Zh).unwrap();
    // 信息更新 16 × 45/50 = 14.4
    assert_eq!(value(&s, "update", 0), Some(14.4));
    // 信息内容 8 × 3/4 (no 政策解读) + max(0, 8 − 1 × 0.25 × 8) = 6 + 6 = 12
    assert_eq!(value(&s, "content", 0), Some(12.0));
    // 办事服务 12 × 2/3 = 8; 查询服务 6 × min(5, 2)/2 = 6
    assert_eq!(value(&s, "service", 0), Some(8.0));
    assert_eq!(value(&s, "query", 0), Some(6.0));
    // 留言审查 10 − 0.2 × 10 = 8
    assert_eq!(value(&s, "comment_review", 0), Some(8.0));
    // 留言回复 4.8 × 15/20 + 4.8 × 15/15 + 2.4 = 3.6 + 4.8 + 2.4 = 10.8
    assert_eq!(value(&s, "reply", 0), Some(10.8));
    // 意见反馈 6 × 1/2 = 3; 集约开设 12; 认证规范 6 − 0.25 × 6 = 4.5
    assert_eq!(value(&s, "feedback", 0), Some(3.0));
    assert_eq!(value(&s, "intensive", 0), Some(12.0));
    assert_eq!(value(&s, "certification", 0), Some(4.5));
    // 管理保障 and 安全管理 are manual only: not assessed, 4 points of weight left out.
    assert_eq!(value(&s, "management", 0), None);
    assert_eq!(value(&s, "security", 0), None);
    assert_eq!(value(&s, "search", 0), None, "not an item of WeChat");
    assert_eq!(value(&s, "assessed_weight", 0), Some(96.0));
    // (14.4 + 12 + 8 + 6 + 8 + 10.8 + 3 + 12 + 4.5) / 96 × 100 = 78.7 / 96 × 100 = 81.979…
    assert_eq!(value(&s, "score", 0), Some(82.0));
    assert!((value(&s, "score_exact", 0).unwrap() - 7870.0 / 96.0).abs() < 1e-9);
    assert_eq!(text(&s, "tier", 0).as_deref(), Some("优秀"));
    assert_eq!(
        text(&s, "not_assessed", 0).as_deref(),
        Some("管理保障|安全管理")
    );
    assert_eq!(text(&s, "rubric", 0).as_deref(), Some("cstc2020 2020.1"));
}

#[test]
fn not_assessed_items_change_the_assessed_weight_not_the_other_items() {
    let m = measurements(&[("wechat:gh_a", "wechat", 45, 50, 20, 15)]);
    let f = findings(&[]);
    let full = score_accounts(&Scoring::builtin(), &m, &f, &all_rules(), Lang::Zh).unwrap();
    // Without an org registry the naming rules are not assessed: 认证规范 drops out.
    let mut rules = all_rules();
    for code in ["NAM001", "NAM002", "NAM003", "NAM004", "NAM005"] {
        rules.remove(code);
    }
    let partial = score_accounts(&Scoring::builtin(), &m, &f, &rules, Lang::Zh).unwrap();
    assert_eq!(value(&partial, "certification", 0), None);
    assert_eq!(value(&partial, "assessed_weight", 0), Some(90.0));
    for item in ["update", "content", "service", "reply", "intensive"] {
        assert_eq!(value(&partial, item, 0), value(&full, item, 0), "{item}");
    }
    let points_without: f64 = value(&full, "score_exact", 0).unwrap() * 96.0 / 100.0 - 6.0;
    assert!(
        (value(&partial, "score_exact", 0).unwrap() - points_without / 90.0 * 100.0).abs() < 1e-9
    );
    // No comments at all: the reply rate cannot be measured, so 留言回复 is not assessed.
    let quiet = measurements(&[("wechat:gh_b", "wechat", 45, 50, 0, 0)]);
    let q = score_accounts(&Scoring::builtin(), &quiet, &f, &all_rules(), Lang::Zh).unwrap();
    assert_eq!(value(&q, "reply", 0), None);
    assert_eq!(value(&q, "assessed_weight", 0), Some(84.0));
}

#[test]
fn items_reading_measurements_the_audit_did_not_compute_are_not_assessed() {
    let m = measurements(&[("wechat:gh_a", "wechat", 45, 50, 20, 15)]);
    let f = findings(&[]);
    let full = score_accounts(&Scoring::builtin(), &m, &f, &all_rules(), Lang::Zh).unwrap();
    // The scores of an audit that computed what these reads need.
    let scored_with = |reads: crate::engine::Reads| {
        let uncomputed = crate::measurements::uncomputed(reads);
        let scores = score_accounts_computed(
            &Scoring::builtin(),
            &m,
            &f,
            &all_rules(),
            &uncomputed,
            Lang::Zh,
        )
        .unwrap();
        (uncomputed, scores)
    };
    // A partial audit that did not scan the post text: 意见反馈 counts consultation and
    // feedback posts, which nothing counted (not zero of them).
    let (uncomputed, partial) = scored_with(crate::engine::Reads::COMMENTS);
    assert!(uncomputed.contains(&"posts_consultation"));
    assert_eq!(value(&full, "feedback", 0), Some(3.0));
    assert_eq!(value(&partial, "feedback", 0), None);
    assert_eq!(value(&partial, "content", 0), None);
    assert!(
        text(&partial, "not_assessed", 0)
            .unwrap()
            .contains("意见反馈")
    );
    for item in ["update", "service", "query", "reply", "intensive"] {
        assert_eq!(value(&partial, item, 0), value(&full, item, 0), "{item}");
    }
    // Without the comments, 留言回复's reply rate was not computed either.
    let (_, partial) = scored_with(crate::engine::Reads::POST_LABELS);
    assert_eq!(value(&partial, "reply", 0), None);
    assert_eq!(value(&partial, "feedback", 0), Some(3.0));
    // The text scanned for wording but no post labelled: no posts per category either.
    let (unlabelled, partial) = scored_with(crate::engine::Reads::POST_TEXT);
    assert!(unlabelled.contains(&"posts_consultation"));
    assert!(!unlabelled.contains(&"posts_in_window"));
    assert_eq!(value(&partial, "feedback", 0), None);
}

#[test]
fn tier_boundaries_are_inclusive_below_and_use_the_exact_score() {
    let tiers = &RubricPack::builtin().pack.tiers;
    let name = |s: f64| tier_for(tiers, s).map(|t| t.name.as_str());
    assert_eq!(name(90.0), Some("卓越"));
    assert_eq!(name(89.99), Some("优秀"));
    assert_eq!(
        name(89.96),
        Some("优秀"),
        "shown as 90.0, still below the boundary"
    );
    assert_eq!(name(80.0), Some("优秀"));
    assert_eq!(name(79.999), Some("良好"));
    assert_eq!(name(60.0), Some("中等"));
    assert_eq!(name(59.9), Some("待改进"));
    assert_eq!(name(0.0), Some("待改进"));
    // 0.1 + 0.2 lands a hair under 0.3: a sum that reaches a boundary exactly stays in it.
    assert_eq!(name((0.7 + 0.2) * 100.0 - 1e-12), Some("卓越"));
}

#[test]
fn a_veto_fails_an_account_whatever_its_score() {
    let m = measurements(&[
        ("wechat:gh_a", "wechat", 50, 50, 20, 20),
        ("wechat:gh_b", "wechat", 50, 50, 20, 20),
    ]);
    let f = findings(&[("wechat:gh_b", "INT005")]);
    let s = score_accounts(&Scoring::builtin(), &m, &f, &all_rules(), Lang::Zh).unwrap();
    assert_eq!(value(&s, "score", 0), value(&s, "score", 1));
    assert!(value(&s, "score", 1).unwrap() >= 90.0);
    assert_eq!(text(&s, "tier", 0).as_deref(), Some("卓越"));
    assert_eq!(text(&s, "tier", 1).as_deref(), Some("不合格"));
    assert_eq!(text(&s, "veto_rules", 1).as_deref(), Some("INT005"));
    let veto = s.column("veto").unwrap().bool().unwrap();
    assert_eq!((veto.get(0), veto.get(1)), (Some(false), Some(true)));
    let en = score_accounts(&Scoring::builtin(), &m, &f, &all_rules(), Lang::En).unwrap();
    assert_eq!(text(&en, "tier", 1).as_deref(), Some("failed"));
}

#[test]
fn manual_scores_fill_items_data_cannot_measure() {
    let rubric = RubricPack::builtin();
    let manual = ManualScores::from_csv(
        "account_id,item,points,note\nwechat:gh_a,管理保障,2,制度健全\nwechat:gh_a,security,1.5,\n",
        "manual.csv",
        &rubric,
    )
    .unwrap();
    assert_eq!(manual.len(), 2);
    let scoring = Scoring {
        manual,
        ..Scoring::builtin()
    };
    let m = measurements(&[("wechat:gh_a", "wechat", 45, 50, 20, 15)]);
    let s = score_accounts(&scoring, &m, &findings(&[]), &all_rules(), Lang::Zh).unwrap();
    assert_eq!(value(&s, "management", 0), Some(2.0));
    assert_eq!(value(&s, "security", 0), Some(1.5));
    assert_eq!(value(&s, "assessed_weight", 0), Some(100.0));
    assert_eq!(text(&s, "not_assessed", 0), None);

    let err = |csv: &str| {
        ManualScores::from_csv(csv, "manual.csv", &rubric)
            .unwrap_err()
            .to_string()
    };
    let e = err("account_id,item,points,note\nwechat:gh_a,管理保障,2,\nwechat:gh_a,管理保障x,1,\n");
    assert!(e.contains("manual.csv: line 3: field `item`"), "{e}");
    let e = err("account_id,item,points,note\nwechat:gh_a,管理保障,3,\n");
    assert!(
        e.contains("line 2: field `points`") && e.contains("0..2"),
        "{e}"
    );
    let e = err("account_id,item,points,note\nwechat:gh_a,搜索功能,3,\n");
    assert!(e.contains("not assessed on \"wechat\""), "{e}");
}

#[test]
fn the_example_local_pack_deducts_points_capped_per_item() {
    let local = RubricPack::parse(pack::LOCAL_EXAMPLE, "local_example.toml").unwrap();
    let scoring = Scoring {
        rubric: local,
        ..Scoring::builtin()
    };
    let m = measurements(&[
        ("weibo:1", "weibo", 30, 50, 10, 5),
        ("weibo:2", "weibo", 50, 50, 10, 10),
    ]);
    let mut rows: Vec<(&str, &str)> = vec![("weibo:1", "UPD001"); 20];
    rows.extend([("weibo:1", "CNT001"); 5]);
    rows.push(("weibo:2", "INT002"));
    let s = score_accounts(&scoring, &m, &findings(&rows), &all_rules(), Lang::Zh).unwrap();
    // 20 empty weeks × 2 = 40 capped at 30; 5 ads × 5 = 25 capped at 20 → 100 − 50 = 50: 不合格.
    assert_eq!(value(&s, "update", 0), Some(0.0));
    assert_eq!(value(&s, "ads", 0), Some(0.0));
    assert_eq!(value(&s, "score", 0), Some(50.0));
    assert_eq!(text(&s, "tier", 0).as_deref(), Some("不合格"));
    // One unanswered message: 99, 合格.
    assert_eq!(value(&s, "score", 1), Some(99.0));
    assert_eq!(text(&s, "tier", 1).as_deref(), Some("合格"));
    assert_eq!(text(&s, "rubric", 1).as_deref(), Some("local-example 1.0"));
}

/// Findings are counted per account and code whatever their order: runs of one key apart count
/// together, a finding without an account or a code counts for nothing, an account listed twice
/// gets its counts on both rows, and codes no measure reads are not counted.
#[test]
fn findings_are_counted_per_row_and_code_wherever_their_runs_are() {
    let findings = df!(
        "account_id" => [Some("a"), Some("a"), Some("b"), Some("a"), None, Some("b"), Some("a"), Some("c"), Some("")],
        "code" => [Some("UPD001"), Some("UPD001"), Some("UPD001"), Some("UPD001"), Some("UPD001"), None, Some("INT002"), Some("UPD001"), Some("INT002")],
    )
    .unwrap();
    let measurements = df!(
        "account_id" => [Some("b"), Some("a"), Some("z"), Some("a"), None],
    )
    .unwrap();
    let counts = super::plan::row_counts(&measurements, &findings, &["INT002", "UPD001"]).unwrap();
    // Rows b, a, z, a and the one without an id (which reads as the empty id), two codes each.
    assert_eq!(counts, [0, 1, 1, 3, 0, 0, 1, 3, 1, 0]);
    let only_int = super::plan::row_counts(&measurements, &findings, &["INT002"]).unwrap();
    assert_eq!(only_int, [0, 1, 0, 1, 1]);
}
