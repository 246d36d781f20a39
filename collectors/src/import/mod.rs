//! Importing files into the store.
//!
//! A registry of [`Format`]s detects each file (by name, header row or JSON keys, or `--format`),
//! reads its records into a batch, and quarantines what cannot be read with the source file, line
//! and a reason naming the field. The batch is then merged into the store table by table, and
//! every input record is accounted for: `read = new + updated + duplicates + quarantined`.

pub mod archive;
mod canonical_csv;
mod canonical_jsonl;
mod demo_manifest;
#[cfg(test)]
mod exporter_shapes_tests;
#[cfg(test)]
mod fuzz;
mod json_formats;
pub mod quirks;
mod wechat_csv;
mod wechat_xlsx;
mod weibo_crawler;
mod weibo_search;
mod weibo_spider;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::Error;
use crate::record::{FieldError, TableBuilder, Value, validate};
use crate::schema::{COMMENTS, TABLES, TableSpec};
use crate::store::{
    FILE_COL, IMPORT_LOG_FILE, Merged, Outcome, QUARANTINE_FILE, SEQ_COL, Store, Transaction,
    write_spill_file,
};

pub use canonical_csv::CanonicalCsv;
pub use canonical_jsonl::{CanonicalJsonl, values_from_object};
pub use demo_manifest::DemoManifest;
pub use weibo_crawler::{WeiboCrawlerComments, WeiboCrawlerPosts, WeiboCrawlerUsers};

/// Largest quarantined raw text kept verbatim; longer records are cut with a marker.
const QUARANTINE_RAW_CAP: usize = 64 * 1024;

/// A file to import.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// How to name the file in reports when it came out of an archive (`a.zip!/posts.csv`).
    pub label: Option<String>,
    /// Why the file cannot be imported at all (e.g. a refused archive), reported per file.
    pub problem: Option<String>,
}

impl SourceFile {
    pub fn display(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| self.path.display().to_string())
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
    static FORMATS: [&dyn Format; 23] = [
        &CanonicalJsonl,
        &CanonicalCsv,
        &DemoManifest,
        &json_formats::AppEndpointJson,
        &WeiboCrawlerPosts,
        &WeiboCrawlerUsers,
        &WeiboCrawlerComments,
        &weibo_spider::WeiboSpiderCsv,
        &weibo_search::WeiboSearchCsv,
        &json_formats::WechatArticlesJson,
        &json_formats::WechatHistoryJson,
        &json_formats::WeiboCrawlerJson,
        &json_formats::WeiboTimeline,
        &json_formats::WeiboComments,
        &json_formats::WeiboUser,
        &json_formats::AppStoreLookup,
        &json_formats::WechatAuthorizerInfo,
        &json_formats::WechatPublished,
        &json_formats::WechatComments,
        &json_formats::WechatMenu,
        &json_formats::WechatDatacube,
        &wechat_csv::WechatArticlesSpiderCsv,
        &wechat_xlsx::WechatArticleExporterXlsx,
    ];
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
    /// What the importer had to decide about the file (e.g. an account id derived from a name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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
    /// The first [`QUARANTINE_KEPT`] quarantined records, for the summary; every one of them
    /// is in the store's `quarantine.jsonl`.
    pub quarantine: Vec<QuarantineEntry>,
}

/// Quarantined records an import keeps in memory for its report.
pub const QUARANTINE_KEPT: usize = 1000;

/// An import's quarantined records: each spooled to a temporary file in the store as it comes
/// (appended to `quarantine.jsonl` when the import commits), the first few kept for the report.
/// Millions of rejected lines never sit in memory.
struct QuarantineSpool {
    store_dir: PathBuf,
    file: Option<std::io::BufWriter<tempfile::NamedTempFile>>,
    /// The first spooling failure; the import stops with it after the current file.
    error: Option<Error>,
}

impl QuarantineSpool {
    fn push(&mut self, entry: QuarantineEntry, kept: &mut Vec<QuarantineEntry>) {
        if self.error.is_some() {
            return;
        }
        if self.file.is_none() {
            match tempfile::Builder::new()
                .prefix(".import-quarantine-")
                .tempfile_in(&self.store_dir)
            {
                Ok(f) => self.file = Some(std::io::BufWriter::new(f)),
                Err(e) => {
                    self.error = Some(Error::io(&self.store_dir, e));
                    return;
                }
            }
        }
        let file = self.file.as_mut().expect("created above");
        let line = serde_json::to_string(&entry).expect("quarantine entry serialises");
        if let Err(e) = file
            .write_all(line.as_bytes())
            .and_then(|_| file.write_all(b"\n"))
        {
            self.error = Some(Error::io(&self.store_dir, e));
        }
        if kept.len() < QUARANTINE_KEPT {
            kept.push(entry);
        }
    }

    /// The spooled lines' file, flushed; `None` when nothing was quarantined.
    fn finish(self) -> Result<Option<tempfile::NamedTempFile>, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let Some(file) = self.file else {
            return Ok(None);
        };
        let file = file
            .into_inner()
            .map_err(|e| Error::io(&self.store_dir, e.into_error()))?;
        Ok(Some(file))
    }
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

/// Records of one table collected during an import, with their provenance. Past the row budget
/// they go to spill files in a temporary folder of the store.
struct TableBatch {
    spec: &'static TableSpec,
    builder: TableBuilder,
    files: Vec<u32>,
    seqs: Vec<i64>,
    spilled: Vec<PathBuf>,
    /// Spilled rows per first-key value, to cut the merge into ranges.
    spilled_counts: HashMap<String, u64>,
}

impl TableBatch {
    fn new(spec: &'static TableSpec) -> TableBatch {
        TableBatch {
            spec,
            builder: TableBuilder::new(spec),
            files: Vec::new(),
            seqs: Vec::new(),
            spilled: Vec::new(),
            spilled_counts: HashMap::new(),
        }
    }

    fn buffered(&self) -> usize {
        self.files.len()
    }

    /// The buffered rows with their provenance columns, leaving the buffer empty.
    fn take_frame(&mut self) -> Result<DataFrame, Error> {
        let builder = std::mem::replace(&mut self.builder, TableBuilder::new(self.spec));
        let files = std::mem::take(&mut self.files);
        let seqs = std::mem::take(&mut self.seqs);
        let at = |e| Error::polars(Path::new(self.spec.name), e);
        let mut df = builder.finish().map_err(at)?;
        df.with_column(Column::new(PlSmallStr::from_static(FILE_COL), files))
            .map_err(at)?;
        df.with_column(Column::new(PlSmallStr::from_static(SEQ_COL), seqs))
            .map_err(at)?;
        Ok(df)
    }

    fn spill(&mut self, dir: &Path) -> Result<(), Error> {
        let df = self.take_frame()?;
        let path = dir.join(format!(
            "{}-{:06}.parquet",
            self.spec.name,
            self.spilled.len()
        ));
        for (key, n) in write_spill_file(self.spec, &df, &path)? {
            *self.spilled_counts.entry(key).or_default() += n;
        }
        self.spilled.push(path);
        Ok(())
    }
}

/// The temporary folder of an import's spill files, created in the store on first use (so the
/// rename-free reads stay on one disk) and removed when the import ends.
struct Spill {
    store_dir: PathBuf,
    dir: Option<tempfile::TempDir>,
    /// The first spill failure; the import stops with it after the current file.
    error: Option<Error>,
}

impl Spill {
    fn dir(&mut self) -> Result<&Path, Error> {
        if self.dir.is_none() {
            let dir = tempfile::Builder::new()
                .prefix(".import-")
                .tempdir_in(&self.store_dir)
                .map_err(|e| Error::io(&self.store_dir, e))?;
            self.dir = Some(dir);
        }
        Ok(self.dir.as_ref().expect("created above").path())
    }
}

/// Where a format puts what it reads.
pub struct RecordSink<'a> {
    store: &'a Store,
    file_index: u32,
    source: String,
    opts: &'a ImportOptions,
    tables: &'a mut BTreeMap<&'static str, TableBatch>,
    spill: &'a mut Spill,
    batch_rows: usize,
    /// The store's pseudonym key; `None` keeps identities (`--keep-identities`).
    pseudonym_key: Option<[u8; 32]>,
    /// Whether each accepted row (by sequence number) is an input record to count; rows derived
    /// from another record (an account described by a posts file) are merged but not counted.
    counted: &'a mut Vec<bool>,
    quarantine: &'a mut QuarantineSpool,
    /// The quarantined records kept for the report.
    kept: &'a mut Vec<QuarantineEntry>,
    counts: &'a mut FileCounts,
}

impl RecordSink<'_> {
    pub fn options(&self) -> &ImportOptions {
        self.opts
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The store being imported into, for formats that match records to stored ones.
    pub fn store(&self) -> &Store {
        self.store
    }

    /// Records a decision about the file for the import log and summary.
    pub fn note(&mut self, note: String) {
        if !self.counts.notes.contains(&note) {
            self.counts.notes.push(note);
        }
    }

    /// A commenter's identity as stored: a keyed hash (`u_` + 16 hex digits) with the store's
    /// secret, or the name itself with `--keep-identities`.
    pub fn pseudonym(&self, identity: Option<&str>) -> Value {
        match (
            identity.map(str::trim).filter(|s| !s.is_empty()),
            &self.pseudonym_key,
        ) {
            (None, _) => Value::Null,
            (Some(name), None) => Value::Str(name.to_string()),
            (Some(name), Some(key)) => {
                let hash = blake3::keyed_hash(key, name.as_bytes());
                Value::Str(format!("u_{}", &hash.to_hex()[..16]))
            }
        }
    }

    /// Validates and accepts one input record, or quarantines it naming the field at fault.
    pub fn record(
        &mut self,
        table: &'static TableSpec,
        line: u64,
        mut values: Vec<Value>,
        raw: &str,
    ) {
        self.counts.read += 1;
        // Every format's commenters are pseudonymised here, canonical files included; a value
        // that already is a pseudonym (a re-imported export) is kept.
        if table.name == COMMENTS.name
            && let Some(i) = table.index_of("author")
            && let Value::Str(author) = &values[i]
            && !is_pseudonym(author)
        {
            values[i] = self.pseudonym(Some(author.as_str()));
        }
        match validate(table, &values) {
            Ok(()) => self.push(table, values, true),
            Err(e) => self.quarantine_field(Some(table), line, e, raw),
        }
    }

    /// Accepts a row built from an input record, or quarantines the record naming the field
    /// that could not be read.
    pub fn accept(
        &mut self,
        table: &'static TableSpec,
        line: u64,
        built: Result<Vec<Value>, FieldError>,
        raw: &str,
    ) {
        match built {
            Ok(values) => self.record(table, line, values, raw),
            Err(e) => self.reject(Some(table), line, e, raw),
        }
    }

    /// Runs a raw-JSON transform with this import's pseudonymiser.
    pub fn transform(
        &self,
        f: impl FnOnce(&crate::transform::Context) -> Vec<crate::transform::Out>,
    ) -> Vec<crate::transform::Out> {
        let pseudonym = |name: Option<&str>| self.pseudonym(name);
        f(&crate::transform::Context {
            pseudonym: &pseudonym,
        })
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
        let entry = QuarantineEntry {
            source: self.source.clone(),
            line,
            table: table.map(|t| t.name.to_string()),
            field: None,
            reason,
            raw: cap_raw(raw),
        };
        self.quarantine.push(entry, self.kept);
    }

    fn quarantine_field(
        &mut self,
        table: Option<&'static TableSpec>,
        line: u64,
        err: FieldError,
        raw: &str,
    ) {
        self.counts.quarantined += 1;
        let entry = QuarantineEntry {
            source: self.source.clone(),
            line,
            table: table.map(|t| t.name.to_string()),
            reason: err.to_string(),
            field: Some(err.field),
            raw: cap_raw(raw),
        };
        self.quarantine.push(entry, self.kept);
    }

    fn push(&mut self, table: &'static TableSpec, values: Vec<Value>, counted: bool) {
        let batch = self
            .tables
            .entry(table.name)
            .or_insert_with(|| TableBatch::new(table));
        batch.builder.push(values);
        batch.files.push(self.file_index);
        batch.seqs.push(self.counted.len() as i64);
        self.counted.push(counted);
        if batch.buffered() >= self.batch_rows
            && self.spill.error.is_none()
            && let Err(e) = self.spill.dir().and_then(|dir| batch.spill(dir))
        {
            self.spill.error = Some(e);
        }
    }
}

/// Whether a value has the pseudonym form `u_` + 16 hex digits.
fn is_pseudonym(value: &str) -> bool {
    value.len() == 18
        && value.starts_with("u_")
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
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

/// Reads a registry file (one row per key, such as `--orgs`) like [`read_table_file`], refusing
/// a key listed twice with an error naming both lines: a duplicated org would rank each of its
/// accounts twice, tied with itself.
pub fn read_registry_file(
    spec: &'static TableSpec,
    path: &Path,
    key: &str,
) -> Result<DataFrame, Error> {
    let df = read_table_file(spec, path)?;
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let text = text.trim_start_matches('\u{feff}');
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    // (key, line) of every record, in file order.
    let mut keys: Vec<(String, u64)> = Vec::new();
    if is_csv {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let column = reader
            .headers()
            .ok()
            .and_then(|h| h.iter().position(|c| c.trim() == key));
        if let Some(column) = column {
            for record in reader.records().flatten() {
                let line = record.position().map_or(0, |p| p.line());
                if let Some(value) = record.get(column).map(str::trim).filter(|v| !v.is_empty()) {
                    keys.push((value.to_string(), line));
                }
            }
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line.trim()) else {
                continue;
            };
            let id = match &value[key] {
                serde_json::Value::String(s) => s.trim().to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => continue,
            };
            keys.push((id, i as u64 + 1));
        }
    }
    let mut first_line: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for (id, line) in &keys {
        if let Some(earlier) = first_line.insert(id, *line) {
            return Err(Error::Input(format!(
                "{}: {key} {id:?} is listed twice, on line {earlier} and line {line}; each must \
                 be listed once",
                path.display()
            )));
        }
    }
    Ok(df)
}

/// Expands files, folders (recursively, in name order, hidden entries skipped) and `.zip`
/// archives (extracted under `scratch`, nested archives too). A refused archive is a file with a
/// problem, reported like any file that cannot be read; the others still import.
///
/// Inside a folder, a symbolic link is not followed unless `follow_symlinks`, and then only to
/// a target inside the folder named on the command line; a FIFO, socket or device, a dangling
/// link or an unreadable entry is reported as that entry's problem while the rest imports.
pub fn expand_paths(
    paths: &[PathBuf],
    scratch: &Path,
    follow_symlinks: bool,
) -> Result<Vec<SourceFile>, Error> {
    fn is_zip(path: &Path) -> bool {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    }
    /// Why a folder entry is not walked, if it is not: links, special files, unreadable.
    fn entry_problem(entry: &Path, root: &Path, follow_symlinks: bool) -> Option<String> {
        let shown = entry.display();
        let meta = match fs::symlink_metadata(entry) {
            Ok(m) => m,
            Err(e) => return Some(format!("{shown}: cannot be read: {e}")),
        };
        if meta.file_type().is_symlink() {
            if !follow_symlinks {
                return Some(format!(
                    "{shown}: a symbolic link, not followed (--follow-symlinks imports links \
                     that stay inside the input folder)"
                ));
            }
            return match (fs::canonicalize(entry), fs::canonicalize(root)) {
                (Ok(target), Ok(root)) if target.starts_with(&root) => None,
                (Ok(target), _) => Some(format!(
                    "{shown}: a symbolic link to {}, outside the input folder: not followed",
                    target.display()
                )),
                (Err(e), _) => Some(format!("{shown}: a dangling symbolic link: {e}")),
            };
        }
        if !meta.is_file() && !meta.is_dir() {
            return Some(format!(
                "{shown}: not a regular file (a FIFO, socket or device): skipped"
            ));
        }
        None
    }
    #[allow(clippy::too_many_arguments)]
    fn walk(
        path: &Path,
        label: Option<String>,
        scratch: &Path,
        depth: usize,
        root: &Path,
        follow_symlinks: bool,
        out: &mut Vec<SourceFile>,
    ) -> Result<(), Error> {
        let label_of = |p: &Path| -> Option<String> {
            label.as_ref().map(|l| {
                format!(
                    "{l}/{}",
                    p.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                )
            })
        };
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
                let entry_label = label_of(&entry);
                if let Some(problem) = entry_problem(&entry, root, follow_symlinks) {
                    out.push(SourceFile {
                        path: entry,
                        label: entry_label,
                        problem: Some(problem),
                    });
                    continue;
                }
                walk(
                    &entry,
                    entry_label,
                    scratch,
                    depth,
                    root,
                    follow_symlinks,
                    out,
                )?;
            }
            Ok(())
        } else if path.is_file() && is_zip(path) {
            let shown = label.clone().unwrap_or_else(|| path.display().to_string());
            let into = scratch.join(format!("zip-{}", out.len()));
            let refused = |problem: String| SourceFile {
                path: path.to_path_buf(),
                label: label.clone(),
                problem: Some(problem),
            };
            if depth >= 3 {
                out.push(refused(format!(
                    "{shown}: archives nested deeper than 3 levels are refused"
                )));
                return Ok(());
            }
            match archive::extract_zip(path, &into, archive::ZipLimits::default()) {
                Ok(entries) => {
                    for (extracted, name) in entries {
                        walk(
                            &extracted,
                            Some(format!("{shown}!/{name}")),
                            scratch,
                            depth + 1,
                            &into,
                            false,
                            out,
                        )?;
                    }
                }
                Err(e) => out.push(refused(e.to_string())),
            }
            Ok(())
        } else if path.is_file() {
            out.push(SourceFile {
                path: path.to_path_buf(),
                label,
                problem: None,
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
        // A path named on the command line is the user's choice: followed as given.
        walk(p, None, scratch, 0, p, follow_symlinks, &mut out)?;
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
            if let Some(answer) = saved_error_answer(&head) {
                return Error::Input(format!(
                    "{}: a saved API error answer, not data: {answer}; collect that page again",
                    file.display()
                ));
            }
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

/// What a saved platform error answer says (`WeChat errcode 48001: api unauthorized`), when the
/// file is one: WeChat and WeCom answer `errcode`/`errmsg`, Weibo `error_code`/`error`, others
/// `code`/`msg` with a non-zero code and no data.
fn saved_error_answer(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    let value: serde_json::Value =
        serde_json::from_str(text.trim().trim_start_matches('\u{feff}')).ok()?;
    let object = value.as_object()?;
    let code = |key: &str| {
        object
            .get(key)
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
    };
    let text_of = |key: &str| {
        object
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("(no message)")
    };
    if let Some(c) = code("errcode").filter(|c| *c != 0) {
        return Some(format!("WeChat errcode {c}: {}", text_of("errmsg")));
    }
    if let Some(c) = code("error_code").filter(|c| *c != 0) {
        return Some(format!("Weibo error_code {c}: {}", text_of("error")));
    }
    if let Some(c) = code("code").filter(|c| *c != 0)
        && !object.contains_key("data")
    {
        return Some(format!("code {c}: {}", text_of("msg")));
    }
    None
}

#[cfg(test)]
mod saved_error_tests {
    use super::saved_error_answer;

    #[test]
    fn saved_api_error_answers_are_named_as_what_they_are() {
        assert_eq!(
            saved_error_answer(br#"{"errcode":48001,"errmsg":"api unauthorized rid: 1"}"#)
                .as_deref(),
            Some("WeChat errcode 48001: api unauthorized rid: 1")
        );
        assert_eq!(
            saved_error_answer(
                br#"{"error":"expired_token","error_code":21327,"request":"/2/statuses/user_timeline.json"}"#
            )
            .as_deref(),
            Some("Weibo error_code 21327: expired_token")
        );
        assert_eq!(
            saved_error_answer(br#"{"errcode":0,"errmsg":"ok","item":[]}"#),
            None
        );
        assert_eq!(
            saved_error_answer(br#"{"code":0,"data":{"list":[]}}"#),
            None
        );
        assert_eq!(saved_error_answer(b"not json"), None);
    }
}

/// Records of a table held in memory before spilling, and about the rows merged at a time.
pub const BATCH_ROWS: usize = 1_000_000;

/// Merges the collected records into the store table by table (in schema order, so a store is
/// always written the same way) and adds the outcomes to each file's counts. A table whose
/// stored and incoming rows fit the budget is merged in memory; a larger one in key ranges.
fn merge_batches(
    tx: &Transaction,
    mut tables: BTreeMap<&'static str, TableBatch>,
    spill: &mut Spill,
    batch_rows: usize,
    counted: &[bool],
    report: &mut ImportReport,
) -> Result<(), Error> {
    let mut tally = |outcomes: Vec<Merged>| {
        for m in outcomes {
            if !counted[m.seq as usize] {
                continue;
            }
            let c = &mut report.files[m.file as usize];
            match m.outcome {
                Outcome::New => c.new += 1,
                Outcome::Updated => c.updated += 1,
                Outcome::Duplicate => c.duplicates += 1,
            }
        }
    };
    for spec in TABLES {
        let Some(mut batch) = tables.remove(spec.name) else {
            continue;
        };
        let stored = tx.store().row_count(spec)?;
        if batch.spilled.is_empty() && stored + batch.buffered() <= batch_rows {
            tally(tx.merge(spec, batch.take_frame()?)?);
            continue;
        }
        if batch.buffered() > 0 {
            batch.spill(spill.dir()?)?;
        }
        tx.merge_in_ranges(
            spec,
            &batch.spilled,
            &batch.spilled_counts,
            batch_rows,
            &mut tally,
        )?;
        batch.spilled.iter().for_each(|p| {
            let _ = fs::remove_file(p);
        });
    }
    Ok(())
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
    let pseudonym_key = if opts.keep_identities {
        None
    } else {
        Some(store.pseudonym_key()?)
    };
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

    for (index, file) in files.iter().enumerate() {
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
                    pseudonym_key,
                    counted: &mut counted,
                    quarantine: &mut spool,
                    kept: &mut report.quarantine,
                    counts: &mut counts,
                };
                if let Err(e) = format.read(file, &mut sink) {
                    counts.error = Some(e.to_string());
                }
            }
        }
        report.files.push(counts);
        if let Some(e) = spill.error.take().or(spool.error.take()) {
            return Err(e);
        }
    }

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
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

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
