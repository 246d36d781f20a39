//! Importing files into the store.
//!
//! A registry of [`Format`]s detects each file (by name, header row or JSON keys, or `--format`),
//! reads its records into a batch, and quarantines what cannot be read with the source file, line
//! and a reason naming the field. The batch is then merged into the store table by table, and
//! every input record is accounted for: `read = new + updated + duplicates + quarantined`.

mod canonical_csv;
mod canonical_jsonl;
mod demo_manifest;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::Error;
use crate::record::{FieldError, TableBuilder, Value, validate};
use crate::schema::{TABLES, TableSpec};
use crate::store::{FILE_COL, IMPORT_LOG_FILE, Outcome, QUARANTINE_FILE, SEQ_COL, Store};

pub use canonical_csv::CanonicalCsv;
pub use canonical_jsonl::{CanonicalJsonl, values_from_object};
pub use demo_manifest::DemoManifest;

/// Largest quarantined raw text kept verbatim; longer records are cut with a marker.
const QUARANTINE_RAW_CAP: usize = 64 * 1024;

/// A file to import.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
}

impl SourceFile {
    pub fn display(&self) -> String {
        self.path.display().to_string()
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    }

    pub fn open(&self) -> Result<Box<dyn BufRead>, Error> {
        let file = fs::File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }

    /// The first bytes of the file, for detection by header row or JSON keys.
    pub fn head(&self) -> Result<Vec<u8>, Error> {
        use std::io::Read;
        let mut buf = Vec::with_capacity(4096);
        fs::File::open(&self.path)
            .and_then(|f| f.take(4096).read_to_end(&mut buf))
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(buf)
    }
}

/// A file format the importer understands.
pub trait Format: Sync {
    /// The name used by `--format` and in reports.
    fn name(&self) -> &'static str;
    /// One line for `govmedia import --list-formats`.
    fn description(&self) -> &'static str;
    /// Whether this format reads the file, from its name and first bytes.
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool;
    /// Reads every record of the file into the sink. An `Err` means the file as a whole could not
    /// be read (e.g. a required column is missing); record-level problems go to quarantine.
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error>;
}

/// Every format, in detection order.
pub fn formats() -> &'static [&'static dyn Format] {
    static FORMATS: [&dyn Format; 3] = [&CanonicalJsonl, &CanonicalCsv, &DemoManifest];
    &FORMATS
}

pub fn format_by_name(name: &str) -> Option<&'static dyn Format> {
    formats().iter().copied().find(|f| f.name() == name)
}

/// The canonical table a file name designates: `posts.jsonl`, `posts-2024.csv`, `posts_1.jsonl`.
pub fn canonical_table_for(file_name: &str, extension: &str) -> Option<&'static TableSpec> {
    let lower = file_name.to_ascii_lowercase();
    let stem = lower.strip_suffix(&format!(".{extension}"))?;
    TABLES.iter().copied().find(|t| {
        stem == t.name
            || stem
                .strip_prefix(t.name)
                .is_some_and(|rest| rest.starts_with(['-', '_', '.']))
    })
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Force a format instead of detecting it.
    pub format: Option<String>,
    /// Accept (and ignore) columns that are not in the canonical schema.
    pub allow_extra: bool,
    /// Records buffered before they are merged (default [`FLUSH_ROWS`]).
    pub flush_rows: Option<usize>,
}

/// One quarantined input record.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QuarantineEntry {
    pub source: String,
    pub line: u64,
    pub table: Option<String>,
    pub field: Option<String>,
    pub reason: String,
    pub raw: String,
}

/// Per-file accounting.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct FileCounts {
    pub source: String,
    pub format: Option<String>,
    pub read: u64,
    pub new: u64,
    pub updated: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Set when the file as a whole could not be read.
    pub error: Option<String>,
}

impl FileCounts {
    pub fn imported(&self) -> u64 {
        self.new + self.updated
    }

    /// Whether every record read is accounted for.
    pub fn reconciles(&self) -> bool {
        self.read == self.new + self.updated + self.duplicates + self.quarantined
    }

    fn add(&mut self, other: &FileCounts) {
        self.read += other.read;
        self.new += other.new;
        self.updated += other.updated;
        self.duplicates += other.duplicates;
        self.quarantined += other.quarantined;
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub files: Vec<FileCounts>,
    pub quarantine: Vec<QuarantineEntry>,
}

impl ImportReport {
    pub fn total(&self) -> FileCounts {
        let mut t = FileCounts {
            source: "total".into(),
            ..Default::default()
        };
        self.files.iter().for_each(|f| t.add(f));
        t
    }

    pub fn failed_files(&self) -> impl Iterator<Item = &FileCounts> {
        self.files.iter().filter(|f| f.error.is_some())
    }
}

/// Records of one table collected during an import, with their provenance.
struct TableBatch {
    builder: TableBuilder,
    files: Vec<u32>,
    seqs: Vec<i64>,
}

/// Where a format puts what it reads.
pub struct RecordSink<'a> {
    file_index: u32,
    source: String,
    opts: &'a ImportOptions,
    tables: &'a mut BTreeMap<&'static str, TableBatch>,
    /// Whether each accepted row (by sequence number) is an input record to count; rows derived
    /// from another record (an account described by a posts file) are merged but not counted.
    counted: &'a mut Vec<bool>,
    quarantine: &'a mut Vec<QuarantineEntry>,
    counts: &'a mut FileCounts,
}

impl RecordSink<'_> {
    pub fn options(&self) -> &ImportOptions {
        self.opts
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Validates and accepts one input record, or quarantines it naming the field at fault.
    pub fn record(&mut self, table: &'static TableSpec, line: u64, values: Vec<Value>, raw: &str) {
        self.counts.read += 1;
        match validate(table, &values) {
            Ok(()) => self.push(table, values, true),
            Err(e) => self.quarantine_field(Some(table), line, e, raw),
        }
    }

    /// Accepts a row derived from a record already counted (not an input record of its own).
    pub fn derived(&mut self, table: &'static TableSpec, values: Vec<Value>) {
        if validate(table, &values).is_ok() {
            self.push(table, values, false);
        }
    }

    /// Counts one input record that cannot be read and quarantines it.
    pub fn reject(
        &mut self,
        table: Option<&'static TableSpec>,
        line: u64,
        err: FieldError,
        raw: &str,
    ) {
        self.counts.read += 1;
        self.quarantine_field(table, line, err, raw);
    }

    /// Counts one unreadable record without a particular field at fault (e.g. invalid JSON).
    pub fn reject_record(
        &mut self,
        table: Option<&'static TableSpec>,
        line: u64,
        reason: String,
        raw: &str,
    ) {
        self.counts.read += 1;
        self.counts.quarantined += 1;
        self.quarantine.push(QuarantineEntry {
            source: self.source.clone(),
            line,
            table: table.map(|t| t.name.to_string()),
            field: None,
            reason,
            raw: cap_raw(raw),
        });
    }

    fn quarantine_field(
        &mut self,
        table: Option<&'static TableSpec>,
        line: u64,
        err: FieldError,
        raw: &str,
    ) {
        self.counts.quarantined += 1;
        self.quarantine.push(QuarantineEntry {
            source: self.source.clone(),
            line,
            table: table.map(|t| t.name.to_string()),
            reason: err.to_string(),
            field: Some(err.field),
            raw: cap_raw(raw),
        });
    }

    fn push(&mut self, table: &'static TableSpec, values: Vec<Value>, counted: bool) {
        let batch = self.tables.entry(table.name).or_insert_with(|| TableBatch {
            builder: TableBuilder::new(table),
            files: Vec::new(),
            seqs: Vec::new(),
        });
        batch.builder.push(values);
        batch.files.push(self.file_index);
        batch.seqs.push(self.counted.len() as i64);
        self.counted.push(counted);
    }
}

fn cap_raw(raw: &str) -> String {
    if raw.len() <= QUARANTINE_RAW_CAP {
        return raw.to_string();
    }
    let mut end = QUARANTINE_RAW_CAP;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes cut]", &raw[..end], raw.len() - end)
}

/// Reads canonical JSON Lines text into a table strictly: the first bad line is an error naming
/// `source`, the line and the field. For fixtures and small side files such as `--orgs`.
pub fn frame_from_jsonl(
    spec: &'static TableSpec,
    text: &str,
    source: &str,
) -> Result<DataFrame, Error> {
    let mut builder = TableBuilder::new(spec);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let at = |msg: String| Error::Input(format!("{source}: line {}: {msg}", i + 1));
        let map = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => return Err(at("not a JSON object".into())),
            Err(e) => return Err(at(format!("invalid JSON: {e}"))),
        };
        let values = values_from_object(spec, &map, false).map_err(|e| at(e.to_string()))?;
        validate(spec, &values).map_err(|e| at(e.to_string()))?;
        builder.push(values);
    }
    builder
        .finish()
        .map_err(|e| Error::polars(Path::new(source), e))
}

/// Reads canonical CSV text (header row of column names) into a table strictly, like
/// [`frame_from_jsonl`].
pub fn frame_from_csv(
    spec: &'static TableSpec,
    text: &str,
    source: &str,
) -> Result<DataFrame, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Input(format!("{source}: line 1: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    if let Some(unknown) = header.iter().find(|h| spec.column(h).is_none()) {
        return Err(Error::Input(format!(
            "{source}: line 1: `{unknown}` is not a column of table {}",
            spec.name
        )));
    }
    if let Some(missing) = spec
        .columns
        .iter()
        .find(|c| c.required && !header.iter().any(|h| h == c.name))
    {
        return Err(Error::Input(format!(
            "{source}: line 1: missing required column `{}`",
            missing.name
        )));
    }
    let mut builder = TableBuilder::new(spec);
    for record in reader.records() {
        let record = record.map_err(|e| Error::Input(format!("{source}: {e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |msg: String| Error::Input(format!("{source}: line {line}: {msg}"));
        let values = spec
            .columns
            .iter()
            .map(|c| {
                match header
                    .iter()
                    .position(|h| h == c.name)
                    .and_then(|i| record.get(i))
                {
                    None => Ok(Value::Null),
                    Some(text) => crate::record::value_from_text(c.ty, text)
                        .map_err(|r| at(FieldError::new(c.name, r).to_string())),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        validate(spec, &values).map_err(|e| at(e.to_string()))?;
        builder.push(values);
    }
    builder
        .finish()
        .map_err(|e| Error::polars(Path::new(source), e))
}

/// Reads a canonical table file (`.csv` or `.jsonl`) strictly, e.g. the `--orgs` registry.
pub fn read_table_file(spec: &'static TableSpec, path: &Path) -> Result<DataFrame, Error> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let source = path.display().to_string();
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("csv") => frame_from_csv(spec, &text, &source),
        Some("jsonl") | Some("json") => frame_from_jsonl(spec, &text, &source),
        _ => Err(Error::Input(format!(
            "{source}: expected a .csv or .jsonl file with the {} columns",
            spec.name
        ))),
    }
}

/// Expands files and folders (recursively, in name order), skipping hidden entries.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<SourceFile>, Error> {
    fn walk(path: &Path, out: &mut Vec<SourceFile>) -> Result<(), Error> {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            entries.sort();
            for entry in entries {
                walk(&entry, out)?;
            }
            Ok(())
        } else if path.is_file() {
            out.push(SourceFile {
                path: path.to_path_buf(),
            });
            Ok(())
        } else {
            Err(Error::Input(format!(
                "{}: no such file or folder",
                path.display()
            )))
        }
    }
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out)?;
    }
    Ok(out)
}

fn detect(file: &SourceFile, opts: &ImportOptions) -> Result<&'static dyn Format, Error> {
    if let Some(name) = &opts.format {
        return format_by_name(name).ok_or_else(|| {
            Error::Input(format!(
                "unknown format {name:?}; `govmedia import --list-formats` lists them"
            ))
        });
    }
    let head = file.head()?;
    formats()
        .iter()
        .copied()
        .find(|f| f.detect(file, &head))
        .ok_or_else(|| {
            let tables: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
            Error::Input(format!(
                "{}: format not recognised; expected a canonical table file named after its \
                 table ({}) with extension .jsonl or .csv, or use --format \
                 (see `govmedia import --list-formats`)",
                file.display(),
                tables.join(", ")
            ))
        })
}

/// Records buffered before they are merged into the store.
pub const FLUSH_ROWS: usize = 2_000_000;

/// Merges the buffered records into the store table by table (in schema order, so a store is
/// always written the same way) and adds the outcomes to each file's counts.
fn merge_batches(
    store: &Store,
    tables: &mut BTreeMap<&'static str, TableBatch>,
    counted: &[bool],
    report: &mut ImportReport,
) -> Result<(), Error> {
    for spec in TABLES {
        let Some(batch) = tables.remove(spec.name) else {
            continue;
        };
        let n = batch.files.len();
        let mut df = batch
            .builder
            .finish()
            .map_err(|e| Error::polars(Path::new(spec.name), e))?;
        df.with_column(Column::new(PlSmallStr::from_static(FILE_COL), batch.files))
            .and_then(|df| {
                df.with_column(Column::new(
                    PlSmallStr::from_static(SEQ_COL),
                    batch.seqs.clone(),
                ))
            })
            .map_err(|e| Error::polars(Path::new(spec.name), e))?;
        debug_assert_eq!(df.height(), n);
        let outcomes = store.merge(spec, df)?;
        let mut seqs = batch.seqs;
        seqs.sort_unstable();
        for ((file, outcome), seq) in outcomes.into_iter().zip(seqs) {
            if !counted[seq as usize] {
                continue;
            }
            let c = &mut report.files[file as usize];
            match outcome {
                Outcome::New => c.new += 1,
                Outcome::Updated => c.updated += 1,
                Outcome::Duplicate => c.duplicates += 1,
            }
        }
    }

    Ok(())
}

/// Imports files and folders into the store. File-level failures are reported per file in the
/// result and do not stop the other files.
pub fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    opts: &ImportOptions,
) -> Result<ImportReport, Error> {
    let files = expand_paths(paths)?;
    let mut tables: BTreeMap<&'static str, TableBatch> = BTreeMap::new();
    let mut counted: Vec<bool> = Vec::new();
    let mut report = ImportReport::default();

    for (index, file) in files.iter().enumerate() {
        let mut counts = FileCounts {
            source: file.display(),
            ..Default::default()
        };
        match detect(file, opts) {
            Err(e) => counts.error = Some(e.to_string()),
            Ok(format) => {
                counts.format = Some(format.name().to_string());
                let mut sink = RecordSink {
                    file_index: index as u32,
                    source: file.display(),
                    opts,
                    tables: &mut tables,
                    counted: &mut counted,
                    quarantine: &mut report.quarantine,
                    counts: &mut counts,
                };
                if let Err(e) = format.read(file, &mut sink) {
                    counts.error = Some(e.to_string());
                }
            }
        }
        report.files.push(counts);
        // Merge what is buffered once it is large, so a big import holds one table's worth of
        // new records at a time rather than all of them. Sightings still apply in file order.
        let buffered: usize = tables.values().map(|b| b.files.len()).sum();
        if buffered >= opts.flush_rows.unwrap_or(FLUSH_ROWS) {
            merge_batches(store, &mut tables, &counted, &mut report)?;
        }
    }

    merge_batches(store, &mut tables, &counted, &mut report)?;

    let quarantine_lines: Vec<String> = report
        .quarantine
        .iter()
        .map(|q| serde_json::to_string(q).expect("quarantine entry serialises"))
        .collect();
    store.append_lines(QUARANTINE_FILE, &quarantine_lines)?;
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
    store.append_lines(IMPORT_LOG_FILE, &log_lines)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_after_every_file_gives_the_same_store_and_counts() {
        let input = tempfile::tempdir().unwrap();
        std::fs::write(
            input.path().join("posts-1.jsonl"),
            "{\"account_id\":\"weibo:1\",\"post_id\":\"a\",\"published_at\":1700000000,\"read_count\":1}\n\
             {\"account_id\":\"weibo:1\",\"post_id\":\"b\",\"published_at\":1700000000}\n",
        )
        .unwrap();
        std::fs::write(
            input.path().join("posts-2.jsonl"),
            "{\"account_id\":\"weibo:1\",\"post_id\":\"a\",\"published_at\":1700000000,\"read_count\":5}\n\
             {\"account_id\":\"weibo:1\",\"post_id\":\"b\",\"published_at\":1700000000}\n\
             {\"account_id\":\"weibo:1\",\"post_id\":\"c\",\"published_at\":1700000000}\n",
        )
        .unwrap();
        let run = |flush_rows| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let opts = ImportOptions {
                flush_rows,
                ..Default::default()
            };
            let report = import_paths(&store, &[input.path().to_path_buf()], &opts).unwrap();
            let table = store.read_table(&crate::schema::POSTS).unwrap().unwrap();
            let counts: Vec<(u64, u64, u64, u64)> = report
                .files
                .iter()
                .map(|f| (f.read, f.new, f.updated, f.duplicates))
                .collect();
            (table, counts, dir)
        };
        let (at_end, counts_at_end, _a) = run(None);
        let (each_file, counts_each_file, _b) = run(Some(1));
        assert!(at_end.equals_missing(&each_file));
        assert_eq!(counts_at_end, counts_each_file);
        assert_eq!(counts_each_file, [(2, 2, 0, 0), (3, 1, 1, 1)]);
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
