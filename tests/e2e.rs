//! End-to-end tests of the `govmedia` binary on fixture folders written by the tests.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{audit_at, govmedia, p, text};
use polars::prelude::*;

/// Imports an input folder into a new store at `store`, which must succeed; returns the store.
fn imported(input: &Path, store: &Path) -> std::path::PathBuf {
    let run = govmedia(&["import", p(input), "--store", p(store)]);
    assert!(run.status.success(), "{}", text(&run));
    store.to_path_buf()
}

/// Reads `findings.csv` (UTF-8 with BOM) into (code, account_id, org_id) triples.
fn finding_pairs(report: &Path) -> Vec<(String, String, String)> {
    let bytes = fs::read(report.join("findings.csv")).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "findings.csv must start with a BOM"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "code",
            "severity",
            "platform",
            "account_id",
            "account_name",
            "org_id",
            "item_id",
            "occurred_at",
            "message",
            "evidence"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[3].to_string(), r[5].to_string())
        })
        .collect()
}

#[test]
fn audit_demo_writes_the_report_and_finds_the_planted_update_cases() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let out = govmedia(&["audit", "--demo", "--out", p(&report)]);
    assert!(out.status.success(), "{}", text(&out));
    for f in [
        "findings.csv",
        "findings.json",
        "findings.parquet",
        "measurements.csv",
        "index.html",
    ] {
        assert!(report.join(f).is_file(), "{f} missing");
    }
    let pages = fs::read_dir(report.join("accounts")).unwrap().count();
    assert_eq!(pages, 80, "one page per account");
    let index = fs::read_to_string(report.join("index.html")).unwrap();
    assert!(index.contains("政务新媒体检查报告"));
    assert!(
        index.contains("accounts/wechat_gh_5a1700000000.html"),
        "account page links missing"
    );
    // Every page carries its five charts inline, with the threshold, veto window and deadline.
    let page = fs::read_to_string(report.join("accounts/wechat_gh_5a1700000000.html")).unwrap();
    for kind in ["weekly", "latency", "rubric", "content", "engagement"] {
        assert!(
            page.contains(&format!("data-chart=\"{kind}\"")),
            "{kind} chart missing"
        );
    }
    for mark in ["更新要求", "否决窗口", "回复时限", "未评估"] {
        assert!(page.contains(mark), "{mark} missing");
    }
    // Self-contained: nothing loaded from elsewhere but the report's own stylesheet.
    let directory = fs::read_to_string(report.join("directory/group-001-1.html")).unwrap();
    for html in [&index, &page, &directory] {
        assert!(!html.contains("<script src") && !html.contains("@import"));
        for link in html.match_indices("<link ").map(|(at, _)| &html[at..]) {
            let tag = &link[..link.find('>').unwrap()];
            assert!(
                tag.contains("href=\"report.css\"") || tag.contains("href=\"../report.css\""),
                "{tag}"
            );
        }
    }
    assert!(
        fs::read_to_string(report.join("report.css"))
            .unwrap()
            .contains("@media print")
    );
    // The index summarises (league tables, the vetoed accounts) and the directory lists them all.
    for part in ["分组统计", "合格率", "触发单项否决的账号", "账号名录"] {
        assert!(index.contains(part), "{part} missing from the index");
    }
    assert!(directory.contains("id=\"q\"") && directory.contains("accounts/"));
    let listed: usize = fs::read_dir(report.join("directory"))
        .unwrap()
        .map(|e| {
            fs::read_to_string(e.unwrap().path())
                .unwrap()
                .matches("<span class=\"id\">")
                .count()
        })
        .sum();
    assert_eq!(listed, 80, "every account once in the directory");
    // Sizes: every account page within 30 KB (about 21.5 KB on average; the largest carry
    // forty findings) and an index that does not grow with the accounts.
    let mut banners = 0;
    for page in fs::read_dir(report.join("accounts")).unwrap() {
        let page = page.unwrap();
        let size = page.metadata().unwrap().len();
        assert!(size <= 30 * 1024, "an account page of {size} bytes");
        // A Chinese page names its veto rules in Chinese.
        let html = fs::read_to_string(page.path()).unwrap();
        if let Some(at) = html.find("<div class=\"banner\">") {
            let banner = &html[at..at + html[at..].find("</div>").unwrap()];
            assert!(
                !banner.contains("(veto)") && !banner.contains("no update"),
                "{banner}"
            );
            banners += 1;
        }
    }
    assert_eq!(banners, 14, "one banner per vetoed account");
    assert!(index.len() <= 1 << 20, "index of {} bytes", index.len());

    // Every labelled post says why: its category, score and the patterns that decided it.
    let (headers, rows) = read_csv_table(&report.join("post_categories.csv"));
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (score, reason) = (column("score"), column("reason"));
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(
            row[score].parse::<i32>().unwrap() >= 2 && row[reason].contains('「'),
            "{row:?}"
        );
    }

    // The same default seed: the demo archive's manifest lists the planted cases.
    let archive = dir.path().join("archive");
    let out = govmedia(&["demo", "--out", p(&archive)]);
    assert!(out.status.success(), "{}", text(&out));
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(archive.join("demo-manifest.json")).unwrap())
            .unwrap();
    let findings = finding_pairs(&report);
    // Every planted case of every implemented rule must be found (or, for negative cases, not).
    let catalogue = text(&govmedia(&["rules"]));
    let implemented: Vec<&str> = catalogue
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut checked = std::collections::BTreeSet::new();
    for case in manifest["planted"].as_array().unwrap() {
        let code = case["code"].as_str().unwrap();
        if !implemented.contains(&code) {
            continue;
        }
        let account = case["account_id"].as_str().unwrap();
        let org = case["org_id"].as_str().unwrap();
        let found = findings
            .iter()
            .any(|(c, a, o)| c == code && (a == account || (case["scope"] == "org" && o == org)));
        assert_eq!(
            found,
            case["expected"].as_bool().unwrap(),
            "{} {code} {account}",
            case["case"]
        );
        checked.insert(code.to_string());
    }
    for code in &implemented {
        assert!(
            checked.contains(*code),
            "no planted case checked for {code}"
        );
    }
}

#[test]
fn fail_on_veto_exits_1_and_lang_en_writes_english() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r");
    let out = govmedia(&[
        "audit",
        "--demo",
        "--accounts",
        "20",
        "--out",
        p(&report),
        "--fail-on",
        "veto",
        "--lang",
        "en",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let csv = fs::read_to_string(report.join("findings.csv")).unwrap();
    assert!(
        csv.contains("No update in the 14 days before"),
        "English messages expected"
    );
    let index = fs::read_to_string(report.join("index.html")).unwrap();
    assert!(index.contains("Government new-media audit"));
}

const ACCOUNTS: &str = r#"{"account_id":"weibo:1","platform":"weibo","name":"某市发布","first_seen":"2025-01-01T00:00:00+08:00"}
"#;

#[test]
fn a_bad_jsonl_line_is_quarantined_with_its_line_and_field_and_the_rest_imports() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    fs::write(
        input.join("posts.jsonl"),
        [
            r#"{"account_id":"weibo:1","post_id":"a","published_at":"2025-11-01T10:00:00+08:00","read_count":5}"#,
            r#"{"account_id":"weibo:1","post_id":"b","published_at":"2025-11-02T10:00:00+08:00","read_count":"many"}"#,
            r#"{"account_id":"weibo:1","post_id":"c","published_at":"yesterday"}"#,
            r#"{"account_id":"weibo:1","post_id":"d" "#,
            "",
            r#"{"account_id":"weibo:1","post_id":"e","published_at":1762000000}"#,
            r#"{"account_id":"weibo:1","post_id":"f"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let store = dir.path().join("store");
    let out = govmedia(&["import", p(&input), "--store", p(&store)]);
    assert!(out.status.success(), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains("quarantine.jsonl"), "{report}");

    let quarantine = fs::read_to_string(store.join("quarantine.jsonl")).unwrap();
    let entries: Vec<serde_json::Value> = quarantine
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 4, "{quarantine}");
    assert_eq!(entries[0]["line"], 2);
    assert_eq!(entries[0]["field"], "read_count");
    assert!(
        entries[0]["source"]
            .as_str()
            .unwrap()
            .ends_with("posts.jsonl")
    );
    assert_eq!(entries[1]["line"], 3);
    assert_eq!(entries[1]["field"], "published_at");
    assert_eq!(entries[2]["line"], 4);
    assert!(
        entries[2]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );
    // A missing required value names the field.
    assert_eq!(entries[3]["line"], 7);
    assert_eq!(entries[3]["field"], "published_at");

    let posts = read_store_table(&store, "posts");
    let ids: Vec<&str> = posts
        .column("post_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(ids, ["a", "e"]);

    // Counts reconcile in the import log: read = new + updated + duplicates + quarantined.
    let log = fs::read_to_string(store.join("import_log.jsonl")).unwrap();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let n = |k: &str| v[k].as_u64().unwrap();
        assert_eq!(
            n("read"),
            n("new") + n("updated") + n("duplicates") + n("quarantined"),
            "{line}"
        );
    }
}

/// A whole store table, whatever its layout (posts and comments are in buckets).
fn read_store_table(store: &Path, table: &str) -> DataFrame {
    let spec = govmedia_collectors::schema::table(table).unwrap();
    govmedia_collectors::store::Store::open_existing(store)
        .unwrap()
        .read_table(spec)
        .unwrap()
        .unwrap()
}

/// The files of a store table with their bytes, by path inside the store.
fn table_files(store: &Path, table: &str) -> Vec<(String, Vec<u8>)> {
    let mut files = walk(&store.join(table));
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let name = f.strip_prefix(store).unwrap().display().to_string();
            (name, fs::read(&f).unwrap())
        })
        .collect()
}

#[test]
fn importing_the_same_folder_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let store = dir.path().join("store");
    assert!(
        govmedia(&["demo", "--out", p(&archive), "--accounts", "12"])
            .status
            .success()
    );
    let first = govmedia(&["import", p(&archive), "--store", p(&store)]);
    assert!(first.status.success(), "{}", text(&first));
    let tables = [
        "accounts",
        "posts",
        "comments",
        "menus",
        "link_checks",
        "orgs",
    ];
    let before: Vec<DataFrame> = tables.iter().map(|t| read_store_table(&store, t)).collect();

    let second = govmedia(&["import", p(&archive), "--store", p(&store)]);
    assert!(second.status.success(), "{}", text(&second));
    let total = text(&second)
        .lines()
        .find(|l| l.starts_with("total"))
        .unwrap()
        .to_string();
    let numbers: Vec<u64> = total
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect();
    let (read, new, updated, dups, quarantined) =
        (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]);
    assert!(read > 0);
    assert_eq!((new, updated, quarantined), (0, 0, 0), "{total}");
    assert_eq!(dups, read, "{total}");
    for (t, df) in tables.iter().zip(before) {
        let after = read_store_table(&store, t);
        assert!(df.equals_missing(&after), "{t} changed on re-import");
    }
}

#[test]
fn a_csv_missing_a_required_column_fails_naming_it_and_other_files_still_import() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    fs::write(
        input.join("posts.csv"),
        "account_id,post_id,title\nweibo:1,a,标题\n",
    )
    .unwrap();
    let store = dir.path().join("store");
    let out = govmedia(&["import", p(&input), "--store", p(&store)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("posts.csv") && msg.contains("`published_at`"),
        "{msg}"
    );
    let accounts = read_store_table(&store, "accounts");
    assert_eq!(accounts.height(), 1, "the good file still imports");
}

#[test]
fn an_unrecognised_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("notes.txt");
    fs::write(&input, "hello").unwrap();
    let out = govmedia(&["import", p(&input), "--store", p(&dir.path().join("s"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("notes.txt: format not recognised"),
        "{}",
        text(&out)
    );
}

#[test]
fn audit_of_a_missing_store_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = audit_at(&dir.path().join("nope"), dir.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("not a govmedia store"),
        "{}",
        text(&out)
    );
}

#[test]
fn rule_prints_its_documentation_and_parameters() {
    let out = govmedia(&["rule", "UPD001"]);
    assert!(out.status.success());
    let doc = text(&out);
    for s in [
        "# What it does",
        "# Why it matters",
        "# Example",
        "# How to fix",
        "UPD001.min_per_period",
    ] {
        assert!(doc.contains(s), "{s} missing:\n{doc}");
    }
    let list = text(&govmedia(&["rules"]));
    assert!(list.contains("UPD002") && list.contains("veto"));
    assert_eq!(govmedia(&["rule", "NOPE1"]).status.code(), Some(2));
}

#[test]
fn a_config_file_overrides_parameters_and_selection_and_refuses_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("govmedia.toml");
    fs::write(
        &config,
        "select = [\"UPD\"]\n[params]\n\"UPD001.min_per_period\" = 3\n",
    )
    .unwrap();
    let strict = dir.path().join("strict");
    let out = govmedia(&[
        "audit",
        "--demo",
        "--accounts",
        "12",
        "--config",
        p(&config),
        "--out",
        p(&strict),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let loose = dir.path().join("loose");
    let out = govmedia(&[
        "audit",
        "--demo",
        "--accounts",
        "12",
        "--select",
        "UPD",
        "--out",
        p(&loose),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let count = |d: &Path, code: &str| finding_pairs(d).iter().filter(|f| f.0 == code).count();
    assert!(
        count(&strict, "UPD001") > count(&loose, "UPD001"),
        "three updates a week is stricter"
    );
    assert!(
        finding_pairs(&strict)
            .iter()
            .all(|f| f.0.starts_with("UPD")),
        "config selection applies"
    );

    fs::write(&config, "[params]\n\"UPD001.typo\" = 1\n").unwrap();
    let out = govmedia(&[
        "audit",
        "--demo",
        "--accounts",
        "5",
        "--config",
        p(&config),
        "--out",
        p(&strict),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("UPD001.typo"), "{}", text(&out));
}

#[test]
fn a_partial_audit_says_what_it_did_not_compute_and_writes_no_post_labels() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["audit", "--demo", "--accounts", "12", "--pages", "none"];
        args.extend(extra);
        args.extend(["--out", p(out)]);
        let out = govmedia(&args);
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    let (whole, partial) = (dir.path().join("whole"), dir.path().join("partial"));
    let whole_log = run(&whole, &[]);
    let partial_log = run(&partial, &["--select", "UPD"]);
    assert!(!whole_log.contains("部分检查"), "{whole_log}");
    assert!(
        partial_log.contains("部分检查") && partial_log.contains("留言与回复"),
        "{partial_log}"
    );
    assert!(whole.join("post_categories.parquet").exists());
    assert!(!partial.join("post_categories.parquet").exists());
    // The same UPD findings; the comment counts left empty, not zero.
    let upd = |d: &Path| -> Vec<_> {
        finding_pairs(d)
            .into_iter()
            .filter(|f| f.0.starts_with("UPD"))
            .collect()
    };
    assert!(!upd(&partial).is_empty());
    assert_eq!(upd(&partial), upd(&whole));
    let column = |d: &Path, name: &str| {
        let (header, rows) = read_csv_table(&d.join("measurements.csv"));
        let i = header.iter().position(|h| h == name).unwrap();
        rows.into_iter().map(|r| r[i].clone()).collect::<Vec<_>>()
    };
    assert!(
        column(&whole, "comments")
            .iter()
            .any(|v| v != "0" && !v.is_empty())
    );
    assert!(column(&partial, "comments").iter().all(String::is_empty));
    assert_eq!(column(&partial, "updates"), column(&whole, "updates"));
}

/// Reads a CSV table written by the audit (UTF-8 with BOM) into its header and rows.
fn read_csv_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "{} has a BOM",
        path.display()
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn audit_demo_scores_ranks_and_writes_the_workbook() {
    let out = tempfile::tempdir().unwrap();
    let run = govmedia(&["audit", "--demo", "--out", p(out.path())]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("cstc2020 2020.1"), "{}", text(&run));

    let (header, scores) = read_csv_table(&out.path().join("scores.csv"));
    assert_eq!(
        header[..8],
        [
            "account_id",
            "platform",
            "account_name",
            "org_id",
            "score",
            "tier",
            "veto",
            "assessed_weight"
        ]
    );
    for item in ["update", "content", "reply", "certification", "search"] {
        assert!(header.iter().any(|h| h == item), "item column {item}");
    }
    assert_eq!(scores.len(), 80);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let vetoed: Vec<&Vec<String>> = scores.iter().filter(|r| r[at("veto")] == "true").collect();
    assert!(!vetoed.is_empty(), "the demo plants veto cases");
    assert!(
        vetoed
            .iter()
            .all(|r| r[at("tier")] == "不合格" && !r[at("veto_rules")].is_empty())
    );
    for r in scores.iter().filter(|r| r[at("veto")] == "false") {
        let score: f64 = r[at("score")].parse().unwrap();
        let tier = &r[at("tier")];
        let expected = match r[at("score_exact")].parse::<f64>().unwrap() {
            s if s >= 90.0 => "卓越",
            s if s >= 80.0 => "优秀",
            s if s >= 70.0 => "良好",
            s if s >= 60.0 => "中等",
            _ => "待改进",
        };
        assert_eq!(tier, expected, "score {score}");
        assert!(r[at("rubric")] == "cstc2020 2020.1");
    }
    // Without a manual file the data-less items are not assessed, and the weight says so.
    assert!(
        scores
            .iter()
            .all(|r| r[at("not_assessed")].contains("管理保障"))
    );
    assert!(
        scores
            .iter()
            .all(|r| r[at("assessed_weight")].parse::<f64>().unwrap() <= 96.0)
    );

    let (header, rankings) = read_csv_table(&out.path().join("rankings.csv"));
    assert_eq!(
        header[..9],
        [
            "rank",
            "tied",
            "platform",
            "level",
            "account_id",
            "account_name",
            "influence_index",
            "score",
            "tier"
        ]
    );
    assert_eq!(rankings.len(), 80);
    // Within each list the index never increases and ranks follow competition ranking.
    let mut i = 0;
    while i < rankings.len() {
        let mut j = i;
        while j < rankings.len()
            && rankings[j][2] == rankings[i][2]
            && rankings[j][3] == rankings[i][3]
        {
            j += 1;
        }
        for k in i..j {
            let index: f64 = rankings[k][6].parse().unwrap();
            let above = (i..j)
                .filter(|&m| rankings[m][6].parse::<f64>().unwrap() > index)
                .count();
            assert_eq!(rankings[k][0], (above + 1).to_string(), "row {k}");
        }
        i = j;
    }
    assert!(rankings.iter().any(|r| r[3] == "部委") && rankings.iter().any(|r| r[3] == "区县"));

    // Regression: account-level findings (SVC001, INT005, CNT006) once showed 1969 dates from a
    // 32-bit day number overflowing; every finding happens inside the audit window.
    let (header, findings) = read_csv_table(&out.path().join("findings.csv"));
    let at = header.iter().position(|h| h == "occurred_at").unwrap();
    for row in &findings {
        assert!(
            row[at].is_empty() || row[at].as_str() >= "2024-11-30",
            "{row:?}"
        );
    }

    let workbook = fs::read(out.path().join("scores.xlsx")).unwrap();
    assert_eq!(&workbook[..2], b"PK", "scores.xlsx is a zip package");
    let index = fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(index.contains("等级") && index.contains("cstc2020 2020.1"));
}

#[test]
fn a_local_rubric_pack_and_manual_scores_change_the_scores_without_code() {
    let out = tempfile::tempdir().unwrap();
    let local = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/packs/rubrics/local_example.toml"
    );
    let run = govmedia(&["audit", "--demo", "--out", p(out.path()), "--rubric", local]);
    assert!(run.status.success(), "{}", text(&run));
    let (header, scores) = read_csv_table(&out.path().join("scores.csv"));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert!(header.iter().any(|h| h == "ads") && !header.iter().any(|h| h == "content"));
    for r in &scores {
        assert_eq!(r[at("rubric")], "local-example 1.0");
        let tier = &r[at("tier")];
        assert!(["合格", "不合格"].contains(&tier.as_str()), "{tier}");
        if r[at("veto")] == "false" {
            let score: f64 = r[at("score_exact")].parse().unwrap();
            assert_eq!(tier == "合格", score >= 60.0, "{score}");
        }
    }

    // A veto pack without veto items: no account fails on a veto.
    let veto = out.path().join("no_veto.toml");
    fs::write(
        &veto,
        "vetoes = []\n[pack]\nid = \"none\"\nname = \"无否决项\"\nversion = \"1\"\nveto_tier = \"不合格\"\n",
    )
    .unwrap();
    let report = out.path().join("no-veto");
    let run = govmedia(&[
        "audit",
        "--demo",
        "--out",
        p(&report),
        "--veto-pack",
        p(&veto),
    ]);
    assert!(run.status.success(), "{}", text(&run));
    let (header, scores) = read_csv_table(&report.join("scores.csv"));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert!(
        scores
            .iter()
            .all(|r| r[at("veto")] == "false" && r[at("veto_pack")] == "none 1")
    );

    // A manual score file with a bad item is an input error naming the line and field.
    let manual = out.path().join("manual.csv");
    fs::write(
        &manual,
        "account_id,item,points,note\nwechat:gh_x,管理保障,2,ok\nwechat:gh_x,no_such_item,1,\n",
    )
    .unwrap();
    let run = govmedia(&[
        "audit",
        "--demo",
        "--out",
        p(out.path()),
        "--manual",
        p(&manual),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(
        text(&run).contains("line 3: field `item`"),
        "{}",
        text(&run)
    );
}

/// A local WeChat API (real HTTP over TCP): token, 30 published articles one every 12 days up
/// to 2025-11-20, an empty news material list, both menu endpoints, two comments per article
/// and empty statistics.
fn wechat_mock() -> std::net::SocketAddr {
    use govmedia_collectors::testserver::{Reply, Request, serve_with};
    use serde_json::{Value, json};
    let handler = |r: &Request| {
        let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        let answer = match r.path.as_str() {
            "/cgi-bin/token" => json!({"access_token": "TOK", "expires_in": 7200}),
            "/cgi-bin/freepublish/batchget" => {
                let offset = body["offset"].as_i64().unwrap();
                let items: Vec<Value> = (offset..(offset + 20).min(30))
                    .map(|i| json!({"article_id": format!("A{i}"),
                        "update_time": 1_763_600_000 - i * 12 * 86_400,
                        "content": {"news_item": [{"title": format!("工作动态{i}"),
                            "url": format!("https://mp.weixin.qq.com/s?__biz=B&mid={}&idx=1", 2_650_000_000i64 + i),
                            "need_open_comment": 1}]}}))
                    .collect();
                json!({"total_count": 30, "item_count": items.len(), "item": items})
            }
            "/cgi-bin/material/batchget_material" => {
                json!({"total_count": 0, "item_count": 0, "item": []})
            }
            "/cgi-bin/get_current_selfmenu_info" => {
                json!({"is_menu_open": 1, "selfmenu_info": {"button": [
                {"type": "view", "name": "网上办事", "url": "https://zwfw.example.gov.cn/item/1"}]}})
            }
            "/cgi-bin/menu/get" => json!({"errcode": 46003, "errmsg": "menu no exist"}),
            "/cgi-bin/comment/list" => {
                let comments: Vec<Value> = if body["begin"] == 0 {
                    (1..=2).map(|c| json!({"user_comment_id": c, "openid": format!("oPENID{c}"),
                        "create_time": 1_763_000_000 + c, "content": "请问办理时间？", "comment_type": 0}))
                        .collect()
                } else {
                    vec![]
                };
                json!({"errcode": 0, "total": comments.len(), "comment": comments})
            }
            _ if r.path.starts_with("/datacube/") => json!({"list": []}),
            _ => return Reply::json(404, "{}"),
        };
        Reply::json(200, answer.to_string())
    };
    serve_with(std::sync::Arc::new(handler)).0
}

#[test]
fn collect_then_audit_against_a_local_wechat_api() {
    let addr = wechat_mock();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("collect.toml");
    fs::write(
        &config,
        format!(
            "[wechat]\napi_base = \"http://{addr}\"\n[[wechat.accounts]]\nid = \"gh_e2e\"\n\
             appid = \"wx1\"\nsecret_env = \"GOVMEDIA_E2E_SECRET\"\n"
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let out = Command::new(env!("CARGO_BIN_EXE_govmedia"))
        .args([
            "collect",
            "wechat",
            "--config",
            p(&config),
            "--store",
            p(&store),
        ])
        .env("GOVMEDIA_E2E_SECRET", "planted-secret-xyz")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("wechat:gh_e2e: 80 requests, 30 posts, 60 comments, 1 menu entries"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("errors by code (retried or not): 46003 ×1"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("note: menu/get: no menu made through the API (46003)"));
    assert!(!text(&out).contains("planted-secret-xyz"));
    let report = dir.path().join("report");
    let out = audit_at(&store, &report, &[], &[]);
    assert!(out.status.success(), "{}", text(&out));
    // An article every 12 days: weeks without one are UPD001 findings of the collected account.
    let findings = finding_pairs(&report);
    assert!(
        findings
            .iter()
            .any(|(code, account, _)| code == "UPD001" && account == "wechat:gh_e2e")
    );
    for entry in ["findings.csv", "index.html", "scores.csv"] {
        let text = fs::read_to_string(report.join(entry)).unwrap();
        assert!(
            !text.contains("planted-secret-xyz") && !text.contains("TOK\""),
            "{entry}"
        );
    }
}

/// A local Weibo API: 120 statuses (20 a page by max_id), every tenth with two comments. The
/// timeline request for `stall_at_max_id` hangs (once) and reports itself, so the test can kill
/// the collector in the middle of a step.
fn weibo_mock(
    stall_at_max_id: Option<i64>,
) -> (std::net::SocketAddr, std::sync::mpsc::Receiver<()>) {
    use govmedia_collectors::testserver::{Reply, Request, serve_with};
    use serde_json::{Value, json};
    use std::sync::{Arc, Mutex};
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(Some(tx));
    let status = |i: i64| {
        let id = 4_900_000_000i64 - i * 1000;
        let at = chrono::DateTime::from_timestamp(1_763_600_000 - i * 86_400, 0)
            .unwrap()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .format("%a %b %d %H:%M:%S %z %Y")
            .to_string();
        json!({"created_at": at, "id": id, "idstr": id.to_string(), "text": format!("政务发布{i}"),
            "reposts_count": 0, "comments_count": if i % 10 == 0 { 2 } else { 0 },
            "attitudes_count": 1, "user": {"id": 1234567890}})
    };
    let handler = move |r: &Request| {
        let answer = match r.path.as_str() {
            "/2/users/show.json" => json!({"id": 1234567890, "screen_name": "某市发布",
                "verified": true, "verified_type": 1, "verified_reason": "某市人民政府新闻办公室",
                "followers_count": 1000, "statuses_count": 120}),
            "/2/statuses/user_timeline.json" => {
                let max_id: Option<i64> = r.param("max_id").map(|m| m.parse().unwrap());
                if max_id.is_some()
                    && max_id == stall_at_max_id
                    && let Some(tx) = tx.lock().unwrap().take()
                {
                    tx.send(()).unwrap();
                    return Reply::json(200, "{}").delayed(std::time::Duration::from_secs(60));
                }
                let statuses: Vec<Value> = (0..120)
                    .map(status)
                    .filter(|s| max_id.is_none_or(|m| s["id"].as_i64().unwrap() <= m))
                    .take(20)
                    .collect();
                json!({"statuses": statuses, "total_number": 120})
            }
            "/2/comments/show.json" => {
                let id: i64 = r.param("id").unwrap().parse().unwrap();
                let comments: Vec<Value> = if r.param("page").as_deref() == Some("1") {
                    (0..2)
                        .map(|c| {
                            json!({"created_at": "Mon Nov 17 10:00:00 +0800 2025",
                            "id": id + c + 1, "text": "请问怎么办理？",
                            "user": {"id": 500 + c, "screen_name": format!("市民{c}")},
                            "status": {"id": id, "user": {"id": 1234567890}}})
                        })
                        .collect()
                } else {
                    vec![]
                };
                json!({"comments": comments, "total_number": 2})
            }
            _ => return Reply::json(404, "{}"),
        };
        Reply::json(200, answer.to_string())
    };
    (serve_with(Arc::new(handler)).0, rx)
}

fn weibo_collect(config: &Path, store: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_govmedia"));
    command
        .args([
            "collect",
            "weibo",
            "--config",
            p(config),
            "--store",
            p(store),
        ])
        .env("GOVMEDIA_E2E_WEIBO_TOKEN", "weibo-token-planted");
    command
}

fn write_weibo_config(dir: &Path, addr: std::net::SocketAddr) -> std::path::PathBuf {
    let config = dir.join("collect.toml");
    fs::write(
        &config,
        format!(
            "[weibo]\napi_base = \"http://{addr}/2\"\ncount = 20\n\
             token = {{ env = \"GOVMEDIA_E2E_WEIBO_TOKEN\" }}\n\
             [weibo.limits]\nqps = 200\nbackoff_ms = 5\n\
             [[weibo.accounts]]\nuid = \"1234567890\"\n"
        ),
    )
    .unwrap();
    config
}

#[test]
fn a_collection_killed_midway_resumes_to_the_same_store_as_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    // The uninterrupted run.
    let (addr, _) = weibo_mock(None);
    let config = write_weibo_config(dir.path(), addr);
    let whole = dir.path().join("whole");
    let out = weibo_collect(&config, &whole).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("weibo:1234567890: 20 requests, 120 posts, 24 comments"),
        "{}",
        text(&out)
    );

    // The same collection, killed (SIGKILL) while waiting for the fourth timeline page.
    let fourth_page = 4_900_000_000i64 - 59 * 1000 - 1;
    let (addr, stalled) = weibo_mock(Some(fourth_page));
    let config = write_weibo_config(dir.path(), addr);
    let resumed = dir.path().join("resumed");
    fs::create_dir_all(&resumed).unwrap();
    // Same pseudonym key, so the commenters' pseudonyms compare.
    fs::copy(whole.join("secret.key"), resumed.join("secret.key")).unwrap();
    let mut child = weibo_collect(&config, &resumed)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    stalled
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the collector reached the fourth page");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!resumed.join("posts").exists(), "killed before the import");
    let checkpoint =
        fs::read_to_string(resumed.join("landing/weibo/1234567890/checkpoint.json")).unwrap();
    assert!(
        checkpoint.contains(&format!("\"max_id\": {fourth_page}")),
        "{checkpoint}"
    );

    let out = weibo_collect(&config, &resumed).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // Resumed at the fourth page: three pages were not asked again.
    assert!(
        text(&out).contains("weibo:1234567890: 16 requests, 60 posts, 24 comments")
            && text(&out).contains("(resumed)"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("weibo-token-planted"));
    for table in ["posts", "comments", "accounts"] {
        let files = table_files(&whole, table);
        assert!(!files.is_empty());
        assert!(
            files == table_files(&resumed, table),
            "{table} differs from the uninterrupted run's"
        );
    }
    for store in [&whole, &resumed] {
        for entry in walk(store) {
            let bytes = fs::read(&entry).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("weibo-token-planted"),
                "{}",
                entry.display()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn eval_labels_prints_the_figures_and_names_bad_input() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/post_labels_own.csv");
    let out = govmedia(&["eval-labels", p(&fixture), "--mistakes"]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    for line in [
        "50 labelled posts",
        "动态 posts given another category: 0 of 25 (0.0%)",
        "0 mistakes",
    ] {
        assert!(printed.contains(line), "{line} missing:\n{printed}");
    }
    // The required kinds as one class: 18 in the file, all found.
    let required = printed.lines().find(|l| l.starts_with("required")).unwrap();
    assert_eq!(
        required.split_whitespace().collect::<Vec<_>>(),
        ["required", "18", "18", "18", "1.00", "1.00"]
    );

    // A wrong label value names the file, the line and the field.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    fs::write(
        &bad,
        "category,ad,offtopic,text\n动态,0,0,好\n政策文件,yes,0,坏\n",
    )
    .unwrap();
    let out = govmedia(&["eval-labels", p(&bad)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let message = text(&out);
    assert!(
        message.contains("bad.csv: line 3: field `ad`: expected 0 or 1, got \"yes\""),
        "{message}"
    );
    // A missing column too.
    fs::write(&bad, "category,ad,text\n动态,0,好\n").unwrap();
    let message = text(&govmedia(&["eval-labels", p(&bad)]));
    assert!(message.contains("missing column `offtopic`"), "{message}");
}

/// The `href="…"` targets of a page that point into the report's account pages.
fn account_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|h| h.starts_with("accounts"))
        .map(String::from)
        .collect()
}

#[test]
fn pages_flagged_writes_pages_only_for_flagged_accounts_and_none_writes_none() {
    let dir = tempfile::tempdir().unwrap();
    let flagged = dir.path().join("flagged");
    let out = govmedia(&[
        "audit",
        "--demo",
        "--pages",
        "flagged",
        "--out",
        p(&flagged),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // Accounts with a veto or deduct finding, from the findings table.
    let (headers, rows) = read_csv_table(&flagged.join("findings.csv"));
    let (severity, account) = (
        headers.iter().position(|h| h == "severity").unwrap(),
        headers.iter().position(|h| h == "account_id").unwrap(),
    );
    let expected: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| r[severity] == "veto" || r[severity] == "deduct")
        .map(|r| r[account].as_str())
        .collect();
    let pages = fs::read_dir(flagged.join("accounts")).unwrap().count();
    assert!(expected.len() < 80, "some demo accounts are clean");
    assert_eq!(pages, expected.len());
    // Every link of the index opens a page that exists.
    let index = fs::read_to_string(flagged.join("index.html")).unwrap();
    let links = account_links(&index);
    assert!(!links.is_empty());
    for link in &links {
        assert!(flagged.join(link).is_file(), "{link} is a dangling link");
    }

    let none = dir.path().join("none");
    let out = govmedia(&["audit", "--demo", "--pages", "none", "--out", p(&none)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!none.join("accounts").exists());
    let index = fs::read_to_string(none.join("index.html")).unwrap();
    assert!(account_links(&index).is_empty());
    assert!(none.join("findings.csv").is_file());
}

#[test]
fn csv_cells_that_excel_would_run_are_neutralised_unless_csv_raw() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(
        input.join("accounts.jsonl"),
        r#"{"account_id":"weibo:1","platform":"weibo","name":"=HYPERLINK(\"http://evil.example\",\"点我\")","first_seen":"2025-01-01T00:00:00+08:00"}"#,
    )
    .unwrap();
    fs::write(
        input.join("posts.jsonl"),
        r#"{"account_id":"weibo:1","post_id":"a","published_at":"2025-11-01T10:00:00+08:00","text":"通知"}"#,
    )
    .unwrap();
    let store = imported(&input, &dir.path().join("store"));
    let audit = |out: &Path, raw: bool| {
        let extra: &[&str] = if raw { &["--csv-raw"] } else { &[] };
        let run = audit_at(&store, out, extra, &[]);
        assert!(run.status.success(), "{}", text(&run));
    };
    let safe = dir.path().join("safe");
    audit(&safe, false);
    for table in ["findings.csv", "scores.csv", "rankings.csv"] {
        let csv = fs::read_to_string(safe.join(table)).unwrap();
        assert!(csv.contains("'=HYPERLINK("), "{table}: {csv}");
        // The name holds commas and quotes, so its cell is quoted: `"'=HYPERLINK(""http…`.
        assert!(!csv.contains("\"=HYPERLINK("), "{table}");
    }
    // JSON and Parquet carry the name as it is: they are data, not spreadsheets.
    assert!(
        fs::read_to_string(safe.join("scores.json"))
            .unwrap()
            .contains("\"=HYPERLINK(")
    );
    let raw = dir.path().join("raw");
    audit(&raw, true);
    assert!(
        fs::read_to_string(raw.join("scores.csv"))
            .unwrap()
            .contains("\"=HYPERLINK(")
    );
}

#[test]
fn an_audit_past_the_holiday_calendar_runs_with_a_note_and_calendar_adds_the_year() {
    let dir = tempfile::tempdir().unwrap();
    let run = govmedia(&[
        "audit",
        "--demo",
        "--as-of",
        "2027-01-15",
        "--out",
        p(&dir.path().join("a")),
        "--pages",
        "none",
    ]);
    let said = text(&run);
    assert!(run.status.success(), "{said}");
    assert!(
        said.contains("2027 年不在节假日日历内（2019–2026）"),
        "{said}"
    );
    let index = fs::read_to_string(dir.path().join("a/index.html")).unwrap();
    assert!(index.contains("--calendar FILE"));

    let calendar = dir.path().join("cal-2027.toml");
    fs::write(
        &calendar,
        "[2027] # a test year, not the official notice\nholidays = [\"2027-01-01..2027-01-03\"]\nworkdays = []\n",
    )
    .unwrap();
    let run = govmedia(&[
        "audit",
        "--demo",
        "--as-of",
        "2027-01-15",
        "--out",
        p(&dir.path().join("b")),
        "--pages",
        "none",
        "--calendar",
        p(&calendar),
    ]);
    let said = text(&run);
    assert!(run.status.success(), "{said}");
    assert!(!said.contains("不在节假日日历内"), "{said}");
    fs::write(&calendar, "[2028]\nholidays = []\nworkdays = []\n").unwrap();
    let run = govmedia(&[
        "audit",
        "--demo",
        "--as-of",
        "2027-01-15",
        "--out",
        p(&dir.path().join("c")),
        "--calendar",
        p(&calendar),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run).contains("without a gap"), "{}", text(&run));
    assert!(!text(&run).contains("demo:"), "refused before any work");
}

#[test]
fn an_orgs_file_listing_an_org_twice_is_refused_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    let store = imported(&input, &dir.path().join("store"));
    let csv = dir.path().join("orgs.csv");
    fs::write(
        &csv,
        "\u{feff}org_id,official_name,group\norg-1,某市人民政府,地市级\norg-2,某县人民政府,区县\norg-1,某市人民政府办公室,地市级\n",
    )
    .unwrap();
    let jsonl = dir.path().join("orgs.jsonl");
    fs::write(
        &jsonl,
        "{\"org_id\":\"org-9\",\"official_name\":\"甲\"}\n\n{\"org_id\":\"org-9\",\"official_name\":\"乙\"}\n",
    )
    .unwrap();
    for (file, lines) in [(&csv, "line 2 and line 4"), (&jsonl, "line 1 and line 3")] {
        let run = audit_at(&store, &dir.path().join("r"), &["--orgs", p(file)], &[]);
        let said = text(&run);
        assert_eq!(run.status.code(), Some(2), "{said}");
        assert!(said.contains(lines), "{said}");
        assert!(said.contains(p(file)), "names the file: {said}");
        assert_eq!(said.matches("listed twice").count(), 1, "said once: {said}");
    }
}

#[test]
fn accounts_whose_ids_differ_only_in_chinese_get_their_own_pages() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(
        input.join("accounts.jsonl"),
        "{\"account_id\":\"weibo:甲\",\"platform\":\"weibo\",\"name\":\"甲局\",\"first_seen\":\"2025-01-01T00:00:00+08:00\"}\n\
         {\"account_id\":\"weibo:乙\",\"platform\":\"weibo\",\"name\":\"乙局\",\"first_seen\":\"2025-01-01T00:00:00+08:00\"}\n",
    )
    .unwrap();
    let store = imported(&input, &dir.path().join("store"));
    let out = dir.path().join("report");
    let run = audit_at(&store, &out, &[], &[]);
    assert!(run.status.success(), "{}", text(&run));
    let links = account_links(&fs::read_to_string(out.join("index.html")).unwrap());
    let mut pages: Vec<String> = links.into_iter().collect();
    pages.sort();
    pages.dedup();
    assert_eq!(pages.len(), 2, "{pages:?}");
    // Each page is its own account's (before, both were written to `weibo__.html`).
    let names: Vec<bool> = pages
        .iter()
        .map(|page| fs::read_to_string(out.join(page)).unwrap().contains("甲局"))
        .collect();
    assert_eq!(
        names.iter().filter(|x| **x).count(),
        1,
        "one page per account"
    );
}

#[test]
fn two_imports_at_once_take_turns_and_keep_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut inputs = Vec::new();
    for n in 0..2 {
        let input = dir.path().join(format!("in{n}"));
        fs::create_dir_all(&input).unwrap();
        let accounts: String = (0..200)
            .map(|i| {
                format!(
                    "{{\"account_id\":\"weibo:{n}{i:04}\",\"platform\":\"weibo\",\"name\":\"账号{n}-{i}\"}}\n"
                )
            })
            .collect();
        fs::write(input.join("accounts.jsonl"), accounts).unwrap();
        let posts: String = (0..4000)
            .map(|i| {
                format!(
                    "{{\"account_id\":\"weibo:{n}{:04}\",\"post_id\":\"p{i}\",\"published_at\":\"2025-11-01T10:00:00+08:00\",\"text\":\"通知\"}}\n",
                    i % 200
                )
            })
            .collect();
        fs::write(input.join("posts.jsonl"), posts).unwrap();
        inputs.push(input);
    }
    // Started together: the second waits for the first's writer lock.
    let running: Vec<_> = inputs
        .iter()
        .map(|input| {
            Command::new(env!("CARGO_BIN_EXE_govmedia"))
                .args(["import", p(input), "--store", p(&store), "--wait"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in running {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    assert_eq!(read_store_table(&store, "accounts").height(), 400);
    assert_eq!(read_store_table(&store, "posts").height(), 8000);
}

#[test]
fn an_account_first_seen_after_the_time_point_is_not_assessed_not_vetoed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(
        input.join("accounts.jsonl"),
        "{\"account_id\":\"weibo:old\",\"platform\":\"weibo\",\"name\":\"老账号\",\"first_seen\":\"2025-01-01T00:00:00+08:00\"}\n\
         {\"account_id\":\"weibo:new\",\"platform\":\"weibo\",\"name\":\"新账号\",\"first_seen\":\"2025-10-01T00:00:00+08:00\"}\n",
    )
    .unwrap();
    fs::write(
        input.join("posts.jsonl"),
        "{\"account_id\":\"weibo:old\",\"post_id\":\"a\",\"published_at\":\"2025-06-20T10:00:00+08:00\",\"text\":\"通知\"}\n\
         {\"account_id\":\"weibo:new\",\"post_id\":\"b\",\"published_at\":\"2025-10-02T10:00:00+08:00\",\"text\":\"通知\"}\n",
    )
    .unwrap();
    let store = imported(&input, &dir.path().join("store"));
    let out = dir.path().join("r");
    let run = govmedia(&[
        "audit",
        "--store",
        p(&store),
        "--as-of",
        "2025-06-30",
        "--out",
        p(&out),
    ]);
    let said = text(&run);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("audited 1 accounts"), "{said}");
    assert!(
        said.contains("1 个账号在监测时间点 2025-06-30 之后才首次出现"),
        "{said}"
    );
    assert!(said.contains("weibo:new"), "{said}");
    let findings = finding_pairs(&out);
    assert!(
        findings
            .iter()
            .all(|(_, account, _)| account != "weibo:new"),
        "{findings:?}"
    );
    let scores = fs::read_to_string(out.join("scores.csv")).unwrap();
    assert!(!scores.contains("weibo:new"));

    // Before any data at all: nothing audited, nothing vetoed, a note.
    let run = govmedia(&[
        "audit",
        "--store",
        p(&store),
        "--as-of",
        "2024-06-30",
        "--out",
        p(&dir.path().join("e")),
    ]);
    let said = text(&run);
    assert!(run.status.success(), "{said}");
    assert!(
        said.contains("audited 0 accounts at 2024-06-30: 0 findings"),
        "{said}"
    );
}

#[test]
fn a_report_folder_is_replaced_whole_and_out_is_checked_before_the_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let run = govmedia(&["audit", "--demo", "--out", p(&out), "--accounts", "12"]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(out.join("accounts").is_dir());
    // The same folder again without pages: no stale page survives, nothing temporary is left.
    let run = govmedia(&[
        "audit",
        "--demo",
        "--out",
        p(&out),
        "--accounts",
        "12",
        "--pages",
        "none",
    ]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(!out.join("accounts").exists(), "stale pages removed");
    assert!(out.join("report.json").is_file());
    let leftovers: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".govmedia"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let file = dir.path().join("a-file");
    fs::write(&file, "x").unwrap();
    let mine = dir.path().join("my-folder");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("notes.docx"), "mine").unwrap();
    for (target, message) in [(&file, "is a file"), (&mine, "not a govmedia report")] {
        let run = govmedia(&["audit", "--demo", "--out", p(target), "--accounts", "12"]);
        assert_eq!(run.status.code(), Some(2), "{}", text(&run));
        assert!(text(&run).contains(message), "{}", text(&run));
        assert_eq!(text(&run).matches(message).count(), 1, "said once");
    }
    assert!(
        mine.join("notes.docx").is_file(),
        "a user's folder is never replaced"
    );

    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    let store = imported(&input, &dir.path().join("store"));
    let run = audit_at(&store, &store.join("report"), &[], &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run).contains("is inside the store"), "{}", text(&run));
}

#[test]
fn an_error_and_its_cause_are_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-orgs.csv");
    let run = govmedia(&[
        "audit",
        "--demo",
        "--out",
        p(&dir.path().join("r")),
        "--orgs",
        p(&missing),
    ]);
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains(p(&missing)), "names the file: {said}");
    assert_eq!(
        said.matches("No such file or directory").count(),
        1,
        "{said}"
    );
}

#[cfg(unix)]
#[test]
fn links_and_special_files_in_an_input_folder_are_reported_and_the_rest_imports() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    let secret = dir.path().join("outside-secret.jsonl");
    fs::write(
        &secret,
        "{\"account_id\":\"weibo:9\",\"content\":\"SECRET-LINE\"}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret, input.join("comments.jsonl")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone"), input.join("posts.jsonl")).unwrap();
    let fifo = input.join("menus.jsonl");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success());
    let store = dir.path().join("store");
    let run = govmedia(&["import", p(&input), "--store", p(&store)]);
    let said = text(&run);
    assert_eq!(
        run.status.code(),
        Some(2),
        "problems are an input error: {said}"
    );
    assert!(said.contains("a symbolic link, not followed"), "{said}");
    if made.unwrap_or(false) {
        assert!(said.contains("not a regular file"), "{said}");
    }
    assert_eq!(
        read_store_table(&store, "accounts").height(),
        1,
        "the rest imported"
    );
    let quarantine = fs::read_to_string(store.join("quarantine.jsonl")).unwrap_or_default();
    assert!(!quarantine.contains("SECRET-LINE"));
    assert!(!said.contains("SECRET-LINE"));

    // Followed on request, but never out of the input folder.
    let run = govmedia(&[
        "import",
        p(&input),
        "--store",
        p(&store),
        "--follow-symlinks",
    ]);
    let said = text(&run);
    assert!(said.contains("outside the input folder"), "{said}");
    assert!(said.contains("dangling symbolic link"), "{said}");
}

#[cfg(unix)]
#[test]
fn file_names_with_control_characters_are_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    // An escape sequence that would clear the screen, and a newline faking a line.
    let name = "bad\u{1b}[2J\nimported OK.csv";
    fs::write(input.join(name), "no,header\n1,2\n").unwrap();
    let run = govmedia(&["import", p(&input), "--store", p(&dir.path().join("store"))]);
    let said = text(&run);
    assert!(!said.contains('\u{1b}'), "{said:?}");
    assert!(
        said.contains("bad\\u{1b}[2J\\u{a}imported OK.csv"),
        "{said:?}"
    );
}

#[test]
fn a_file_that_turns_to_gbk_after_64_kib_quarantines_those_lines_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    let mut posts = Vec::new();
    let mut i = 0;
    while posts.len() < 70 * 1024 {
        posts.extend_from_slice(
            format!(
                "{{\"account_id\":\"weibo:1\",\"post_id\":\"u{i}\",\"published_at\":\"2025-11-01T10:00:00+08:00\",\"text\":\"通知公告\"}}\n"
            )
            .as_bytes(),
        );
        i += 1;
    }
    // GB18030 bytes of "政务公开" (what a GBK export writes), hand-encoded.
    let gbk: &[u8] = &[0xD5, 0xFE, 0xCE, 0xF1, 0xB9, 0xAB, 0xBF, 0xAA];
    for j in 0..3 {
        posts.extend_from_slice(
            format!("{{\"account_id\":\"weibo:1\",\"post_id\":\"g{j}\",\"published_at\":\"2025-11-01T10:00:00+08:00\",\"text\":\"")
                .as_bytes(),
        );
        posts.extend_from_slice(gbk);
        posts.extend_from_slice(b"\"}\n");
    }
    fs::write(input.join("posts.jsonl"), &posts).unwrap();
    let store = dir.path().join("store");
    let run = govmedia(&["import", p(&input), "--store", p(&store)]);
    let said = text(&run);
    assert!(run.status.success(), "{said}");
    let stored = read_store_table(&store, "posts");
    assert_eq!(
        stored.height(),
        i,
        "the UTF-8 lines, none with a replacement character"
    );
    let texts = stored.column("text").unwrap().str().unwrap().clone();
    assert!(texts.iter().flatten().all(|t| !t.contains('\u{fffd}')));
    let quarantine = fs::read_to_string(store.join("quarantine.jsonl")).unwrap();
    assert_eq!(quarantine.lines().count(), 3, "{quarantine}");
    assert!(quarantine.contains("reads as gb18030"), "{quarantine}");
    assert!(said.contains("quarantine"), "{said}");
}

#[test]
fn a_truncated_table_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    let store = imported(&input, &dir.path().join("store"));
    let manifest = govmedia_collectors::layout::Manifest::read(&store).unwrap();
    let table = store.join(&manifest.tables["accounts"].files[0]);
    let bytes = fs::read(&table).unwrap();
    fs::write(&table, &bytes[..bytes.len() / 2]).unwrap();
    let run = audit_at(&store, &dir.path().join("r"), &[], &[]);
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!("{}: not a complete Parquet file", p(&table))),
        "{said}"
    );
}

#[test]
fn a_finding_links_to_its_posts_own_url_not_a_url_quoted_from_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    fs::write(
        input.join("posts.jsonl"),
        "{\"account_id\":\"weibo:1\",\"post_id\":\"p1\",\"published_at\":\"2025-11-20T10:00:00+08:00\",\
         \"text\":\"限时抢购 https://evil.example/buy 立即下单\",\"url\":\"https://weibo.com/1/p1\"}\n",
    )
    .unwrap();
    let store = imported(&input, &dir.path().join("store"));
    let out = dir.path().join("r");
    let run = audit_at(&store, &out, &[], &[]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        finding_pairs(&out)
            .iter()
            .any(|(code, _, _)| code == "CNT001")
    );
    let page = fs::read_to_string(out.join("accounts/weibo_1.html")).unwrap();
    assert!(
        page.contains("href=\"https://weibo.com/1/p1\""),
        "the post's own link"
    );
    assert!(
        !page.contains("href=\"https://evil.example"),
        "never a quoted URL"
    );
}

/// `audit --demo` of 12 accounts without pages into `out`, with `temp` as the system's
/// temporary folder.
#[cfg(target_os = "linux")]
fn small_demo_audit_with_temp(temp: &Path, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_govmedia"))
        .args([
            "audit",
            "--demo",
            "--accounts",
            "12",
            "--pages",
            "none",
            "--out",
        ])
        .arg(out)
        .env("TMPDIR", temp)
        .output()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_killed_demo_runs_temporary_folder_is_removed_by_the_next_demo() {
    let dir = tempfile::tempdir().unwrap();
    let temp = dir.path().join("tmp");
    // A pid no process has, and this test's own (alive).
    let abandoned = temp.join("govmedia-demo-4194999-abc");
    let alive = temp.join(format!("govmedia-demo-{}-def", std::process::id()));
    for d in [&abandoned, &alive] {
        fs::create_dir_all(d.join("store")).unwrap();
        fs::write(d.join("store").join("posts.parquet"), vec![0u8; 4096]).unwrap();
    }
    let run = small_demo_audit_with_temp(&temp, &dir.path().join("r"));
    assert!(run.status.success(), "{}", text(&run));
    assert!(!abandoned.exists(), "the killed run's folder is gone");
    assert!(alive.exists(), "a running demo's folder is kept");
    let left: Vec<String> = fs::read_dir(&temp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left.len(), 1, "the finished demo removed its own: {left:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_killed_audits_label_spill_is_removed_by_the_next_audit() {
    let dir = tempfile::tempdir().unwrap();
    let temp = dir.path().join("tmp");
    // A pid no process has, this test's own (alive), and a folder whose owner cannot be told.
    let abandoned = temp.join("govmedia-units-4194999-abc");
    let alive = temp.join(format!("govmedia-units-{}-def", std::process::id()));
    let unknown = temp.join("govmedia-units-Xy12ab");
    for d in [&abandoned, &alive, &unknown] {
        fs::create_dir_all(d).unwrap();
        fs::write(d.join("units.parquet"), vec![0u8; 4096]).unwrap();
    }
    let run = small_demo_audit_with_temp(&temp, &dir.path().join("r"));
    assert!(run.status.success(), "{}", text(&run));
    assert!(!abandoned.exists(), "the killed audit's spill is gone");
    assert!(alive.exists(), "a running audit's spill is kept");
    assert!(
        unknown.exists(),
        "a folder without a process id is left alone"
    );
}

#[test]
fn a_saved_api_error_answer_is_reported_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in").join("gh_abc");
    fs::create_dir_all(&input).unwrap();
    fs::write(
        input.join("page-1.json"),
        r#"{"errcode":48001,"errmsg":"api unauthorized"}"#,
    )
    .unwrap();
    fs::write(input.join("accounts.jsonl"), ACCOUNTS).unwrap();
    let run = govmedia(&[
        "import",
        p(&dir.path().join("in")),
        "--store",
        p(&dir.path().join("s")),
    ]);
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(
        said.contains("a saved API error answer, not data: WeChat errcode 48001: api unauthorized"),
        "{said}"
    );
    assert!(!said.contains("format not recognised"), "{said}");
}

#[test]
fn version_names_the_program_and_the_packs_its_scores_depend_on() {
    let out = govmedia(&["--version"]);
    assert!(out.status.success());
    let said = text(&out);
    assert!(
        said.starts_with(&format!("govmedia {}", env!("CARGO_PKG_VERSION"))),
        "{said}"
    );
    for part in ["rubric cstc2020", "vetoes gbmh2019-19", "WCI"] {
        assert!(said.contains(part), "{part}: {said}");
    }
}
