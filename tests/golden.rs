//! Golden outputs: the engine's findings, measurements, scores and rankings on the built-in demo
//! at 80 and 2,000 accounts, recorded before the engine is re-architected (issue: national
//! scale) and compared row for row (float columns within 1e-9). A difference is a bug in the
//! engine or in the recording, to be fixed with a test that names it.
//!
//! `GOVMEDIA_GOLDEN_UPDATE=1 cargo test --test golden` records them anew (only when a change of
//! answers is intended and explained in the commit).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use govmedia_collectors::demo::{DemoOptions, generate};
use govmedia_collectors::import::{ImportOptions, import_paths};
use govmedia_collectors::layout::TARGET_BUCKET_ROWS;
use govmedia_collectors::store::Store;

use govmedia_reports::report::{
    PageSelection, ReportOptions, ResultFiles, write_audit_report, write_result_files,
};
use govmedia_rules::engine::{AuditResult, Selection, run_audit};
use govmedia_rules::indices::IndexPack;
use govmedia_rules::scoring::{ScoreTables, Scoring, score_and_rank};
use govmedia_rules::{AuditContext, Lang};
use polars::prelude::*;

/// Float columns may differ by this much (summation order).
const FLOAT_TOLERANCE: f64 = 1e-9;

/// The tables compared, each with the columns it is sorted by.
const TABLES: [(&str, &[&str]); 4] = [
    (
        "findings",
        &["account_id", "code", "occurred_at", "item_id", "evidence"],
    ),
    ("measurements", &["account_id"]),
    ("scores", &["account_id"]),
    ("rankings", &["platform", "level", "rank", "account_id"]),
];

/// The tables only account pages draw, each with the columns it is sorted by: recorded too, so
/// that a faster way of making them is held to the answers of the one it replaces.
const PAGE_TABLES: [(&str, &[&str]); 4] = [
    ("monthly", &["account_id", "month"]),
    ("weekly_updates", &["account_id", "week_start"]),
    ("reply_latency", &["account_id", "bucket"]),
    ("finding_links", &["account_id", "code", "item_id"]),
];

fn golden_dir(accounts: usize) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/demo-{accounts}"))
}

/// `then` of a full audit of the demo with `accounts` accounts, at the demo's as-of, from a store
/// whose buckets hold about `bucket_rows` rows; with or without the tables account pages draw.
fn with_demo<T>(
    accounts: usize,
    bucket_rows: u64,
    page_tables: bool,
    then: impl FnOnce(&AuditContext, AuditResult, ScoreTables) -> T,
) -> T {
    with_demo_selected(
        accounts,
        bucket_rows,
        page_tables,
        &Selection::default(),
        then,
    )
}

/// [`with_demo`] running the `selection` of rules.
fn with_demo_selected<T>(
    accounts: usize,
    bucket_rows: u64,
    page_tables: bool,
    selection: &Selection,
    then: impl FnOnce(&AuditContext, AuditResult, ScoreTables) -> T,
) -> T {
    let tmp = tempfile::tempdir().unwrap();
    let opts = DemoOptions {
        accounts,
        ..Default::default()
    };
    let archive = tmp.path().join("archive");
    generate(&archive, &opts).unwrap();
    let store = Store::open_sized(tmp.path().join("store"), bucket_rows).unwrap();
    import_paths(&store, &[archive], &ImportOptions::default()).unwrap();
    let buckets = store.manifest().unwrap().buckets("posts").unwrap();
    if bucket_rows < TARGET_BUCKET_ROWS {
        assert!(buckets >= 16, "{buckets} buckets of posts");
    }
    let mut ctx =
        AuditContext::new_in_units(&store, opts.as_of, None, Lang::Zh, Default::default()).unwrap();
    if !page_tables {
        ctx = ctx.without_page_tables();
    }
    let result = run_audit(&ctx, selection).unwrap();
    let scored = score_and_rank(&ctx, &result, &Scoring::builtin(), &IndexPack::builtin()).unwrap();
    then(&ctx, result, scored)
}

/// A full audit of the demo (`with_demo`).
fn run_demo(accounts: usize, bucket_rows: u64, page_tables: bool) -> (AuditResult, ScoreTables) {
    with_demo(accounts, bucket_rows, page_tables, |_, result, scored| {
        (result, scored)
    })
}

/// The four tables of a full audit of the demo (`run_demo`) and its page tables, sorted.
fn audit_demo(accounts: usize, bucket_rows: u64) -> Vec<(&'static str, DataFrame)> {
    let (result, scored) = run_demo(accounts, bucket_rows, true);
    let pages = page_tables(&result);
    let mut tables = four_tables((result, scored));
    tables.extend(pages);
    tables
}

/// The tables account pages draw ([`PAGE_TABLES`]), sorted.
fn page_tables(result: &AuditResult) -> Vec<(&'static str, DataFrame)> {
    let tables = [
        &result.monthly,
        &result.weekly_updates,
        &result.reply_latency,
        &result.finding_links,
    ];
    PAGE_TABLES
        .iter()
        .zip(tables)
        .map(|((name, keys), df)| (*name, sorted(df.clone(), keys)))
        .collect()
}

fn four_tables((result, scored): (AuditResult, ScoreTables)) -> Vec<(&'static str, DataFrame)> {
    let tables = [
        result.findings,
        result.measurements,
        scored.scores,
        scored.rankings,
    ];
    TABLES
        .iter()
        .zip(tables)
        .map(|((name, keys), df)| (*name, sorted(df, keys)))
        .collect()
}

fn sorted(df: DataFrame, keys: &[&str]) -> DataFrame {
    df.lazy()
        .sort(
            keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .collect()
        .unwrap()
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn write(df: &mut DataFrame, path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)
        .unwrap();
}

/// Every difference between the recorded and the current table, as readable lines.
fn differences(name: &str, golden: &DataFrame, current: &DataFrame) -> Vec<String> {
    let mut out = Vec::new();
    let names = |df: &DataFrame| -> Vec<String> {
        df.get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect()
    };
    if names(golden) != names(current) {
        out.push(format!(
            "{name}: columns differ\n  golden:  {:?}\n  current: {:?}",
            names(golden),
            names(current)
        ));
        return out;
    }
    if golden.height() != current.height() {
        out.push(format!(
            "{name}: {} rows recorded, {} now",
            golden.height(),
            current.height()
        ));
    }
    let rows = golden.height().min(current.height());
    for column in golden.columns() {
        let col_name = column.name().as_str();
        let (g, c) = (
            column.as_materialized_series(),
            current.column(col_name).unwrap().as_materialized_series(),
        );
        if g.dtype() != c.dtype() {
            out.push(format!(
                "{name}.{col_name}: type {:?} recorded, {:?} now",
                g.dtype(),
                c.dtype()
            ));
            continue;
        }
        let mut shown = 0;
        for i in 0..rows {
            let (a, b) = (g.get(i).unwrap(), c.get(i).unwrap());
            let same = match (a.extract::<f64>(), b.extract::<f64>(), g.dtype().is_float()) {
                (Some(x), Some(y), true) => (x - y).abs() <= FLOAT_TOLERANCE,
                _ => a == b,
            };
            if !same {
                if shown < 5 {
                    out.push(format!("{name}.{col_name} row {i}: recorded {a}, now {b}"));
                }
                shown += 1;
            }
        }
        if shown > 5 {
            out.push(format!("{name}.{col_name}: {shown} rows differ in all"));
        }
    }
    out
}

fn check_golden(accounts: usize, bucket_rows: u64) {
    let dir = golden_dir(accounts);
    let update = std::env::var_os("GOVMEDIA_GOLDEN_UPDATE").is_some();
    let mut problems = Vec::new();
    for (name, mut current) in audit_demo(accounts, bucket_rows) {
        let path = dir.join(format!("{name}.parquet"));
        if update {
            write(&mut current, &path);
            continue;
        }
        assert!(
            path.exists(),
            "{} missing: record with GOVMEDIA_GOLDEN_UPDATE=1",
            path.display()
        );
        problems.extend(differences(name, &read(&path), &current));
    }
    assert!(
        problems.is_empty(),
        "demo-{accounts} differs from its golden outputs:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_engine_gives_the_golden_answers_on_the_80_account_demo() {
    check_golden(80, TARGET_BUCKET_ROWS);
}

#[test]
fn the_engine_gives_the_golden_answers_on_the_2000_account_demo() {
    check_golden(2000, TARGET_BUCKET_ROWS);
}

/// The same answers from a store cut into many tiny buckets (about 500 posts each: 32 buckets
/// of posts for the 80-account demo).
#[test]
fn a_store_of_tiny_buckets_gives_the_golden_answers() {
    if std::env::var_os("GOVMEDIA_GOLDEN_UPDATE").is_some() {
        return;
    }
    check_golden(80, 500);
}

/// The tables account pages draw, gathered from tiny buckets, are those of one unit row for row
/// (units are put together by moving each account's rows, not by sorting every row); without
/// pages they are not made and the answers stay the same.
#[test]
fn page_tables_gathered_from_units_are_those_of_one_unit_and_skipped_without_pages() {
    if std::env::var_os("GOVMEDIA_GOLDEN_UPDATE").is_some() {
        return;
    }
    let (one, one_scored) = run_demo(80, TARGET_BUCKET_ROWS, true);
    let (tiny, _) = run_demo(80, 500, true);
    for (name, a, b) in [
        ("weekly_updates", &one.weekly_updates, &tiny.weekly_updates),
        ("reply_latency", &one.reply_latency, &tiny.reply_latency),
        ("monthly", &one.monthly, &tiny.monthly),
        (
            "post_categories",
            &one.post_categories.as_ref().unwrap().collect().unwrap(),
            &tiny.post_categories.as_ref().unwrap().collect().unwrap(),
        ),
    ] {
        assert!(a.height() > 0, "{name} has rows");
        assert!(a.equals_missing(b), "{name}: {a}\n{b}");
    }
    let (result, scored) = run_demo(80, 500, false);
    assert_eq!(
        (
            result.weekly_updates.height(),
            result.reply_latency.height(),
            result.monthly.height()
        ),
        (0, 0, 0)
    );
    let golden = four_tables((one, one_scored));
    let without = four_tables((result, scored));
    for ((name, g), (_, w)) in golden.iter().zip(&without) {
        assert!(
            differences(name, g, w).is_empty(),
            "{name} differs without page tables"
        );
    }
}

/// A partial audit in tiny units whose rules judge no category (`--select UPD001,CNT001`, no
/// pages) labels no post: its findings are the golden ones of those rules, its measurements the
/// golden ones with the posts per category left empty.
#[test]
fn a_partial_audit_in_units_finds_the_golden_hits_without_labelling() {
    if std::env::var_os("GOVMEDIA_GOLDEN_UPDATE").is_some() {
        return;
    }
    let selection = Selection {
        select: vec!["UPD001".into(), "CNT001".into()],
        ignore: vec![],
    };
    let (result, _) = with_demo_selected(80, 500, false, &selection, |_, result, scored| {
        (result, scored)
    });
    assert!(result.post_categories.is_none());
    let dir = golden_dir(80);
    let findings_keys = TABLES[0].1;
    let golden = read(&dir.join("findings.parquet"))
        .lazy()
        .filter(
            col("code")
                .eq(lit("UPD001"))
                .or(col("code").eq(lit("CNT001"))),
        )
        .collect()
        .unwrap();
    let found = sorted(result.findings, findings_keys);
    assert!(found.height() > 0);
    let problems = differences("findings", &sorted(golden, findings_keys), &found);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let m = sorted(result.measurements, &["account_id"]);
    let golden = sorted(read(&dir.join("measurements.parquet")), &["account_id"]);
    let categories = m
        .get_column_names()
        .into_iter()
        .filter(|c| c.starts_with("posts_") && c.as_str() != "posts_in_window")
        .count();
    assert_eq!(categories, 6);
    for c in m.get_column_names() {
        let uncomputed = result.uncomputed.contains(&c.as_str());
        let category = c.starts_with("posts_") && c.as_str() != "posts_in_window";
        assert!(!category || uncomputed, "{c}");
        if uncomputed {
            assert_eq!(m.column(c).unwrap().null_count(), m.height(), "{c}");
        }
    }
    // Empty where not computed; everything else as recorded.
    let rest = |df: DataFrame| df.drop_many(result.uncomputed.iter().copied());
    let problems = differences("measurements", &rest(golden), &rest(m));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every account page from a store of 32 tiny units is that of a one-unit store, byte for byte:
/// the findings' links, looked up in the store unit by unit (`item_links`), are the same URLs,
/// and so are pages made a group of units at a time. A report whose result files the caller
/// wrote first (as `audit` does while it scores) is the same folder, file for file.
#[test]
fn account_pages_from_tiny_units_are_those_of_one_unit() {
    if std::env::var_os("GOVMEDIA_GOLDEN_UPDATE").is_some() {
        return;
    }
    let report = |bucket_rows: u64, page_group_accounts: Option<usize>, result_files| {
        with_demo(80, bucket_rows, true, |ctx, result, scored| {
            let out = tempfile::tempdir().unwrap();
            let options = ReportOptions {
                notes: &[],
                pages: PageSelection::All,
                history: &[],
                page_group_accounts,
                result_files,
            };
            if result_files == ResultFiles::WrittenByCaller {
                write_result_files(out.path(), &result).unwrap();
            }
            let rubric = Scoring::builtin().rubric;
            write_audit_report(out.path(), ctx, &result, &scored, &rubric, options).unwrap();
            files_under(out.path())
        })
    };
    let pages = |files: &BTreeMap<PathBuf, Vec<u8>>| -> BTreeMap<PathBuf, Vec<u8>> {
        files
            .iter()
            .filter(|(path, _)| path.starts_with("accounts"))
            .map(|(path, bytes)| (path.clone(), bytes.clone()))
            .collect()
    };
    let one = report(TARGET_BUCKET_ROWS, None, ResultFiles::Write);
    let tiny = report(500, None, ResultFiles::Write);
    // The pages made ten accounts at a time (a group of units each).
    let grouped = report(500, Some(10), ResultFiles::WrittenByCaller);
    assert!(one.contains_key(Path::new("findings.json")));
    assert!(grouped.contains_key(Path::new("post_categories.parquet")));
    let (tiny, grouped_pages, one) = (tiny, pages(&grouped), pages(&one));
    assert_eq!(one.len(), 80);
    assert_eq!(grouped_pages.len(), 80);
    let linked = one
        .values()
        .filter(|p| String::from_utf8_lossy(p).contains("rel=\"noopener noreferrer\""))
        .count();
    assert!(linked > 0, "some findings link to their posts");
    for (name, page) in &one {
        assert!(tiny.get(name) == Some(page), "{name:?} differs");
        assert!(
            grouped_pages.get(name) == Some(page),
            "{name:?} differs made in groups"
        );
    }
    // Every file, the index (which lists the table files) among them.
    assert_eq!(
        tiny.keys().collect::<Vec<_>>(),
        grouped.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &tiny {
        assert!(grouped.get(name) == Some(bytes), "{name:?} differs");
    }
}

/// Every file under `dir` (paths relative to it) with its bytes.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

/// The comparison itself: a changed value, a float beyond the tolerance and a missing row are
/// found; a float within it is not.
#[test]
fn the_comparison_finds_changed_rows_and_tolerates_float_noise() {
    let golden = df!(
        "account_id" => ["a", "b"],
        "score" => [90.0, 80.5],
        "tier" => ["优秀", "良好"],
    )
    .unwrap();
    assert!(differences("scores", &golden, &golden).is_empty());
    let noisy = df!(
        "account_id" => ["a", "b"],
        "score" => [90.0 + 1e-12, 80.5],
        "tier" => ["优秀", "良好"],
    )
    .unwrap();
    assert!(differences("scores", &golden, &noisy).is_empty());
    let changed = df!(
        "account_id" => ["a", "b"],
        "score" => [90.0, 80.6],
        "tier" => ["优秀", "卓越"],
    )
    .unwrap();
    let found = differences("scores", &golden, &changed);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("scores.score row 1"), "{found:?}");
    let shorter = golden.head(Some(1));
    assert!(
        differences("scores", &golden, &shorter)
            .iter()
            .any(|d| d.contains("2 rows recorded, 1 now"))
    );
}
