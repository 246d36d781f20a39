//! Importing files into the store.
//!
//! A registry of [`Format`]s detects each file (by name, header row or JSON keys, or `--format`),
//! reads its records into a batch, and quarantines what cannot be read with the source file, line
//! and a reason naming the field. The batch is then merged into the store table by table, and
//! every input record is accounted for: `read = new + updated + duplicates + quarantined`.
//!
//! By concern: `registry.rs` (the formats and detection), `paths.rs` (the inputs: folders,
//! links, archives), `sink.rs` (the record sink, its accounting and the quarantine spool),
//! `batch.rs` (batching, spilling, the merge), `tables.rs` (canonical files read strictly); the
//! formats one file per source (`json/` by platform, the CSV and XLSX exporters beside them).

pub mod archive;
mod batch;
mod canonical_csv;
mod canonical_jsonl;
mod demo_manifest;
#[cfg(test)]
mod exporter_shapes_tests;
#[cfg(test)]
mod fuzz;
mod json;
mod line_blocks;
mod paths;
pub mod quirks;
mod read_once;
mod registry;
mod sink;
mod tables;
mod wechat_csv;
mod wechat_xlsx;
mod weibo_crawler;
mod weibo_search;
mod weibo_spider;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::Error;
use crate::store::{IMPORT_LOG_FILE, QUARANTINE_FILE, Store, Transaction};

pub use canonical_csv::CanonicalCsv;
pub use canonical_jsonl::{CanonicalJsonl, values_from_object};
pub use demo_manifest::DemoManifest;
pub use weibo_crawler::{WeiboCrawlerComments, WeiboCrawlerPosts, WeiboCrawlerUsers};

pub use batch::BATCH_ROWS;
use batch::{Spill, TableBatch, merge_batches};
pub use paths::expand_paths;
use registry::detect;
pub use registry::{Format, SourceFile, canonical_table_for, format_by_name, formats};
use sink::QuarantineSpool;
pub use sink::{Admission, FileCounts, ImportReport, QUARANTINE_KEPT, QuarantineEntry, RecordSink};
pub use tables::{frame_from_csv, frame_from_jsonl, read_registry_file, read_table_file};

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Force a format instead of detecting it.
    pub format: Option<String>,
    /// Accept (and ignore) columns that are not in the canonical schema.
    pub allow_extra: bool,
    /// Records of a table held in memory before they are spilled to disk, and about the rows
    /// merged at a time (default [`BATCH_ROWS`]). Bounds an import's memory whatever its size.
    pub batch_rows: Option<usize>,
    /// Text encoding of the input files (utf-8, gbk, gb18030, …); default: detected per file.
    pub encoding: Option<String>,
    /// Keep commenters' names and openids as they are instead of pseudonymising them.
    pub keep_identities: bool,
    /// The account saved API responses belong to when their path does not say
    /// (`wechat:gh_…`); WeChat responses otherwise take it from a `gh_…` folder or file name.
    pub account: Option<String>,
    /// When another process is writing the store: wait for it instead of failing.
    pub wait_for_writer: bool,
    /// Follow symbolic links inside input folders (only to targets inside the folder).
    pub follow_symlinks: bool,
    /// When the files were exported (epoch milliseconds): what relative times in them
    /// (`3小时前`, `昨天 08:00`) are counted back from. Default: each file's modification time.
    pub exported_at: Option<i64>,
    /// Draw a progress bar on standard error (files read, then the merge).
    pub progress: bool,
    /// Bytes of whole lines a line-based file is read in at a time (default
    /// `line_blocks::BLOCK_BYTES`, 4 MB; tests: many blocks from a small file).
    pub block_bytes: Option<usize>,
}

/// The import's bar: files read of all, the file being read; hidden unless asked for.
fn progress_bar(visible: bool, files: usize) -> indicatif::ProgressBar {
    if !visible {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(files as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "import [{bar:30}] {pos}/{len} files {elapsed} {wide_msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Imports files and folders into the store as one transaction: it commits whole, or (when it
/// fails or is stopped) leaves the store as it was. File-level failures are reported per file
/// in the result and do not stop the other files.
pub fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
) -> Result<ImportReport, Error> {
    // One writer at a time: two imports merging into the same tables would each rewrite them
    // from what they read, and one import's rows would be lost.
    let tx = store.begin(opts.wait_for_writer)?;
    let report = import_paths_in(&tx, paths, opts)?;
    tx.commit()?;
    Ok(report)
}

/// Imports files and folders within a transaction (several imports can make one commit, as a
/// collection's do).
pub fn import_paths_in(
    tx: &Transaction,
    paths: &[PathBuf],
    opts: &ImportOptions,
) -> Result<ImportReport, Error> {
    let store = tx.store();
    // Archives are extracted next to the store (same disk, removed when the import ends).
    let scratch = tempfile::Builder::new()
        .prefix(".extract-")
        .tempdir_in(store.dir())
        .map_err(|e| Error::io(store.dir(), e))?;
    let files = expand_paths(paths, scratch.path(), opts.follow_symlinks)?;
    let mut tables: BTreeMap<&'static str, TableBatch> = BTreeMap::new();
    let mut counted: Vec<bool> = Vec::new();
    let mut report = ImportReport::default();
    let batch_rows = opts.batch_rows.unwrap_or(BATCH_ROWS).max(1);
    let admission = Admission::new(if opts.keep_identities {
        None
    } else {
        Some(store.pseudonym_key()?)
    });
    let mut spill = Spill {
        store_dir: store.dir().to_path_buf(),
        dir: None,
        error: None,
    };
    let mut spool = QuarantineSpool {
        store_dir: store.dir().to_path_buf(),
        file: None,
        error: None,
    };

    let bar = progress_bar(opts.progress, files.len());
    for (index, file) in files.iter().enumerate() {
        bar.set_message(file.display());
        let mut counts = FileCounts {
            source: file.display(),
            ..Default::default()
        };
        if let Some(problem) = &file.problem {
            counts.error = Some(problem.clone());
            report.files.push(counts);
            continue;
        }
        match detect(file, opts) {
            Err(e) => counts.error = Some(e.to_string()),
            Ok(format) => {
                counts.format = Some(format.name().to_string());
                let mut sink = RecordSink {
                    store,
                    file_index: index as u32,
                    source: file.display(),
                    opts,
                    tables: &mut tables,
                    spill: &mut spill,
                    batch_rows,
                    admission,
                    counted: &mut counted,
                    quarantine: &mut spool,
                    kept: &mut report.quarantine,
                    counts: &mut counts,
                };
                if let Err(e) =
                    crate::trace::stage("import: read files", || format.read(file, &mut sink))
                {
                    counts.error = Some(e.to_string());
                }
            }
        }
        report.files.push(counts);
        bar.inc(1);
        if let Some(e) = spill.error.take().or(spool.error.take()) {
            return Err(e);
        }
    }
    bar.set_message("merging into the store");

    merge_batches(tx, tables, &mut spill, batch_rows, &counted, &mut report)?;

    if let Some(spooled) = spool.finish()? {
        tx.append_lines_from(QUARANTINE_FILE, spooled.path())?;
    }
    let now = chrono::Utc::now().to_rfc3339();
    let log_lines: Vec<String> = report
        .files
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).expect("counts serialise");
            v["imported_at"] = serde_json::Value::String(now.clone());
            v.to_string()
        })
        .collect();
    tx.append_lines(IMPORT_LOG_FILE, &log_lines)?;
    bar.finish_and_clear();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use polars::prelude::*;

    use super::sink::is_pseudonym;
    use super::*;
    use crate::schema::COMMENTS;

    fn posts_line(id: &str, account: u32, reads: Option<u32>) -> String {
        let reads = reads.map_or(String::new(), |r| format!(",\"read_count\":{r}"));
        format!(
            "{{\"account_id\":\"weibo:{account}\",\"post_id\":\"{id}\",\"published_at\":1700000000{reads}}}\n"
        )
    }

    /// Per-file (read, new, updated, duplicates).
    type Counts = Vec<(u64, u64, u64, u64)>;

    /// Imports the folder with a row budget; returns the posts file bytes, the table and the
    /// per-file counts.
    fn import_with_budget(input: &Path, batch_rows: Option<usize>) -> (Vec<u8>, DataFrame, Counts) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let opts = ImportOptions {
            batch_rows,
            ..Default::default()
        };
        let report = import_paths(&store, &[input.to_path_buf()], &opts).unwrap();
        let table = store.read_table(&crate::schema::POSTS).unwrap().unwrap();
        let bytes: Vec<u8> = store
            .partition_files(&crate::schema::POSTS)
            .unwrap()
            .iter()
            .flat_map(|p| fs::read(p).unwrap())
            .collect();
        let counts = report
            .files
            .iter()
            .map(|f| (f.read, f.new, f.updated, f.duplicates))
            .collect();
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".import-"))
            .collect();
        assert!(leftovers.is_empty(), "spill folder left behind");
        (bytes, table, counts)
    }

    #[test]
    fn merging_in_key_ranges_gives_the_same_store_and_counts_as_in_memory() {
        let input = tempfile::tempdir().unwrap();
        let first: String = [
            posts_line("a", 1, Some(1)),
            posts_line("b", 1, None),
            posts_line("c", 2, None),
        ]
        .concat();
        let second: String = [
            posts_line("a", 1, Some(5)),
            posts_line("b", 1, None),
            posts_line("d", 3, None),
            posts_line("a", 1, Some(7)),
            posts_line("e", 2, None),
        ]
        .concat();
        fs::write(input.path().join("posts-1.jsonl"), first).unwrap();
        fs::write(input.path().join("posts-2.jsonl"), second).unwrap();

        let (bytes_in_memory, in_memory, counts_in_memory) = import_with_budget(input.path(), None);
        for budget in [1, 2, 3] {
            let (bytes, ranged, counts) = import_with_budget(input.path(), Some(budget));
            assert!(in_memory.equals_missing(&ranged), "budget {budget}");
            assert_eq!(counts, counts_in_memory, "budget {budget}");
            assert_eq!(
                bytes, bytes_in_memory,
                "budget {budget}: same content, same bytes"
            );
        }
        assert_eq!(counts_in_memory, [(3, 3, 0, 0), (5, 2, 2, 1)]);
        assert_eq!(in_memory.height(), 5);
    }

    #[test]
    fn a_file_of_many_parsing_chunks_imports_whole_with_its_bad_lines_named_whatever_the_budget() {
        // Lines are read in blocks, parsed on several threads and spilled every `batch_rows`
        // rows; bad lines sit at the edges of the spill budgets, and one post comes again in a
        // later block.
        let bad = [1u64, 8192, 8193, 16385, 20000];
        let lines: String = (1..=20_000u64)
            .map(|n| match n {
                n if bad.contains(&n) => {
                    format!("{{\"account_id\":\"weibo:1\",\"post_id\":\"x{n}\"\n")
                }
                12_000 => posts_line("p5", 5, Some(99)),
                n => posts_line(&format!("p{n}"), (n % 97) as u32, Some(n as u32)),
            })
            .collect();
        let input = tempfile::tempdir().unwrap();
        fs::write(input.path().join("posts.jsonl"), lines).unwrap();
        let mut stored = Vec::new();
        // Blocks of ~8 KB: the 20,000 lines (1.9 MB) come in about 230 blocks; by default in one.
        let runs = [
            (None, None),
            (None, Some(8 << 10)),
            (Some(3000), Some(8 << 10)),
            (Some(8191), None),
        ];
        for (batch_rows, block_bytes) in runs {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let opts = ImportOptions {
                batch_rows,
                block_bytes,
                ..Default::default()
            };
            let report = import_paths(&store, &[input.path().to_path_buf()], &opts).unwrap();
            let total = report.total();
            assert_eq!(
                (total.read, total.new, total.updated, total.quarantined),
                (20_000, 19_994, 1, 5),
                "budget {batch_rows:?}, blocks {block_bytes:?}"
            );
            let quarantined: Vec<u64> = report.quarantine.iter().map(|q| q.line).collect();
            assert_eq!(
                quarantined, bad,
                "budget {batch_rows:?}, blocks {block_bytes:?}"
            );
            let table = store.read_table(&crate::schema::POSTS).unwrap().unwrap();
            let p5 = table
                .clone()
                .lazy()
                .filter(col("post_id").eq(lit("p5")))
                .collect()
                .unwrap();
            assert_eq!(
                p5.column("read_count").unwrap().i64().unwrap().get(0),
                Some(99)
            );
            stored.push(table);
        }
        assert!(stored.iter().all(|t| t.equals_missing(&stored[0])));
        assert_eq!(stored[0].height(), 19_994);
    }

    #[test]
    fn reimporting_into_a_store_larger_than_the_budget_changes_nothing() {
        let input = tempfile::tempdir().unwrap();
        let lines: String = (0..40)
            .map(|i| posts_line(&format!("p{i}"), i % 7, Some(i)))
            .collect();
        fs::write(input.path().join("posts.jsonl"), lines).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let opts = ImportOptions {
            batch_rows: Some(6),
            ..Default::default()
        };
        import_paths(&store, &[input.path().to_path_buf()], &opts).unwrap();
        let bytes = || -> Vec<Vec<u8>> {
            let files = store.partition_files(&crate::schema::POSTS).unwrap();
            files.iter().map(|p| fs::read(p).unwrap()).collect()
        };
        let before = bytes();
        let again = import_paths(&store, &[input.path().to_path_buf()], &opts).unwrap();
        assert_eq!(bytes(), before);
        let total = again.total();
        assert_eq!((total.read, total.duplicates, total.new), (40, 40, 0));
    }

    #[test]
    fn a_line_over_the_cap_is_quarantined_and_the_next_lines_import() {
        let input = tempfile::tempdir().unwrap();
        let huge = "x".repeat(quirks::MAX_LINE_BYTES + 10);
        fs::write(
            input.path().join("posts.jsonl"),
            format!(
                "{}{{\"account_id\":\"weibo:1\",\"post_id\":\"big\",\"published_at\":1700000000,\"text\":\"{huge}\"}}\n{}",
                posts_line("a", 1, None),
                posts_line("b", 1, None)
            ),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let report = import_paths(
            &store,
            &[input.path().to_path_buf()],
            &ImportOptions::default(),
        )
        .unwrap();
        let f = &report.files[0];
        assert_eq!((f.read, f.new, f.quarantined), (3, 2, 1));
        assert_eq!(report.quarantine[0].line, 2);
        assert!(
            report.quarantine[0].reason.contains("over the"),
            "{:?}",
            report.quarantine[0]
        );
    }

    #[test]
    fn canonical_comment_authors_are_pseudonymised_once() {
        let input = tempfile::tempdir().unwrap();
        fs::write(
            input.path().join("comments.jsonl"),
            "{\"account_id\":\"weibo:1\",\"post_id\":\"a\",\"comment_id\":\"c1\",\"created_at\":1700000000,\"author\":\"张三\"}\n\
             {\"account_id\":\"weibo:1\",\"post_id\":\"a\",\"comment_id\":\"c2\",\"created_at\":1700000000,\"author\":\"u_0123456789abcdef\"}\n",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        import_paths(
            &store,
            &[input.path().to_path_buf()],
            &ImportOptions::default(),
        )
        .unwrap();
        let comments = store.read_table(&COMMENTS).unwrap().unwrap();
        let authors: Vec<&str> = comments
            .column("author")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert!(is_pseudonym(authors[0]) && authors[0] != "张三");
        assert_eq!(
            authors[1], "u_0123456789abcdef",
            "an existing pseudonym is kept"
        );
    }

    #[test]
    fn canonical_file_names_designate_their_table() {
        assert_eq!(
            canonical_table_for("posts.jsonl", "jsonl").unwrap().name,
            "posts"
        );
        assert_eq!(
            canonical_table_for("Posts-2024.csv", "csv").unwrap().name,
            "posts"
        );
        assert_eq!(
            canonical_table_for("link_checks.csv", "csv").unwrap().name,
            "link_checks"
        );
        assert!(canonical_table_for("postscript.csv", "csv").is_none());
        assert!(canonical_table_for("posts.csv", "jsonl").is_none());
    }
}
