//! Where a format puts what it reads: the record sink with its accounting (`read = new +
//! updated + duplicates + quarantined` per file) and the quarantine spooled to disk.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use polars::prelude::DataFrame;
use serde::Serialize;

use super::*;
use crate::Error;
use crate::record::{FieldError, Value, validate};
use crate::schema::{COMMENTS, TableSpec};
use crate::store::Store;

/// Largest quarantined raw text kept verbatim; longer records are cut with a marker.
pub(super) const QUARANTINE_RAW_CAP: usize = 64 * 1024;

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

    pub(super) fn add(&mut self, other: &FileCounts) {
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
pub(super) struct QuarantineSpool {
    pub(super) store_dir: PathBuf,
    pub(super) file: Option<std::io::BufWriter<tempfile::NamedTempFile>>,
    /// The first spooling failure; the import stops with it after the current file.
    pub(super) error: Option<Error>,
}

impl QuarantineSpool {
    pub(super) fn push(&mut self, entry: QuarantineEntry, kept: &mut Vec<QuarantineEntry>) {
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
    pub(super) fn finish(self) -> Result<Option<tempfile::NamedTempFile>, Error> {
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

/// Where a format puts what it reads.
pub struct RecordSink<'a> {
    pub(super) store: &'a Store,
    pub(super) file_index: u32,
    pub(super) source: String,
    pub(super) opts: &'a ImportOptions,
    pub(super) tables: &'a mut BTreeMap<&'static str, TableBatch>,
    pub(super) spill: &'a mut Spill,
    pub(super) batch_rows: usize,
    /// What every record goes through: pseudonyms with the store's key (none with
    /// `--keep-identities`), validation.
    pub(super) admission: Admission,
    /// Whether each accepted row (by sequence number) is an input record to count; rows derived
    /// from another record (an account described by a posts file) are merged but not counted.
    pub(super) counted: &'a mut Vec<bool>,
    pub(super) quarantine: &'a mut QuarantineSpool,
    /// The quarantined records kept for the report.
    pub(super) kept: &'a mut Vec<QuarantineEntry>,
    pub(super) counts: &'a mut FileCounts,
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
        self.admission().pseudonym(identity)
    }

    /// What this sink does to a record before taking it, for parsers on other threads.
    pub fn admission(&self) -> Admission {
        self.admission
    }

    /// Validates and accepts one input record, or quarantines it naming the field at fault.
    pub fn record(&mut self, table: &'static TableSpec, line: u64, values: Vec<Value>, raw: &str) {
        match self.admission().admit(table, values) {
            Ok(values) => self.record_admitted(table, values),
            Err(e) => self.reject(Some(table), line, e, raw),
        }
    }

    /// Accepts one input record that [`Admission::admit`] passed.
    pub fn record_admitted(&mut self, table: &'static TableSpec, values: Vec<Value>) {
        self.counts.read += 1;
        self.push(table, values, true);
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

    pub(super) fn quarantine_field(
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

    pub(super) fn push(&mut self, table: &'static TableSpec, values: Vec<Value>, counted: bool) {
        self.batch(table).builder.push(values);
        self.provenance(table, 1, counted);
    }

    /// Accepts input records that [`Admission::admit`] passed, built into a frame of the table
    /// (on a parser's thread). The batch is spilled at the same rows as record by record.
    pub fn record_admitted_rows(&mut self, table: &'static TableSpec, rows: DataFrame) {
        self.counts.read += rows.height() as u64;
        let mut rest = rows;
        while rest.height() > 0 {
            let room = self.batch_rows.saturating_sub(self.batch(table).buffered());
            let take = if room == 0 {
                rest.height()
            } else {
                room.min(rest.height())
            };
            let (head, tail) = rest.split_at(take as i64);
            self.batch(table).builder.push_frame(head);
            self.provenance(table, take, true);
            rest = tail;
        }
    }

    fn batch(&mut self, table: &'static TableSpec) -> &mut TableBatch {
        self.tables
            .entry(table.name)
            .or_insert_with(|| TableBatch::new(table))
    }

    /// Records where the last `rows` rows pushed to the table's batch came from, and spills
    /// the batch when it is full.
    fn provenance(&mut self, table: &'static TableSpec, rows: usize, counted: bool) {
        let batch = self
            .tables
            .get_mut(table.name)
            .expect("rows were pushed to the batch");
        for _ in 0..rows {
            batch.files.push(self.file_index);
            batch.seqs.push(self.counted.len() as i64);
            self.counted.push(counted);
        }
        if batch.buffered() >= self.batch_rows
            && self.spill.error.is_none()
            && let Err(e) = self.spill.dir().and_then(|dir| batch.spill(dir))
        {
            self.spill.error = Some(e);
        }
    }
}

/// What every record goes through before the store takes it: commenters pseudonymised (a keyed
/// hash with the store's secret, unless identities are kept), the row validated. Depends only
/// on the row and the key, so parsers can run it on any thread.
#[derive(Clone, Copy)]
pub struct Admission {
    /// The store's pseudonym key; `None` keeps identities (`--keep-identities`).
    pseudonym_key: Option<[u8; 32]>,
}

impl Admission {
    /// Pseudonyms keyed with `pseudonym_key`; `None` keeps identities.
    pub(super) fn new(pseudonym_key: Option<[u8; 32]>) -> Admission {
        Admission { pseudonym_key }
    }

    /// A commenter's identity as stored: `u_` + 16 hex digits of the keyed hash, or the name
    /// itself when identities are kept.
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

    /// The row as the store takes it, or the field at fault.
    pub fn admit(
        &self,
        table: &'static TableSpec,
        mut values: Vec<Value>,
    ) -> Result<Vec<Value>, FieldError> {
        // Every format's commenters are pseudonymised here, canonical files included; a value
        // that already is a pseudonym (a re-imported export) is kept.
        if table.name == COMMENTS.name
            && let Some(i) = table.index_of("author")
            && let Value::Str(author) = &values[i]
            && !is_pseudonym(author)
        {
            values[i] = self.pseudonym(Some(author.as_str()));
        }
        validate(table, &values)?;
        Ok(values)
    }
}

/// Whether a value has the pseudonym form `u_` + 16 hex digits.
pub(super) fn is_pseudonym(value: &str) -> bool {
    value.len() == 18
        && value.starts_with("u_")
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn cap_raw(raw: &str) -> String {
    if raw.len() <= QUARANTINE_RAW_CAP {
        return raw.to_string();
    }
    let mut end = QUARANTINE_RAW_CAP;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes cut]", &raw[..end], raw.len() - end)
}
