//! Batching: records held per table up to the row budget, spilled to sorted files past it, and
//! merged into the store table by table at the end of an import.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::*;
use crate::Error;
use crate::record::TableBuilder;
use crate::schema::{TABLES, TableSpec};
use crate::store::{FILE_COL, Merged, Outcome, SEQ_COL, Transaction, write_spill_file};

/// Records of one table collected during an import, with their provenance. Past the row budget
/// they go to spill files in a temporary folder of the store.
pub(super) struct TableBatch {
    pub(super) spec: &'static TableSpec,
    pub(super) builder: TableBuilder,
    pub(super) files: Vec<u32>,
    pub(super) seqs: Vec<i64>,
    pub(super) spilled: Vec<PathBuf>,
    /// Spilled rows per first-key value, to cut the merge into ranges.
    pub(super) spilled_counts: HashMap<String, u64>,
    /// The spill file being written on its own thread, while the parsers go on: at most one at
    /// a time, so an import holds at most two batches. Spilling on the reading thread stalled
    /// the parsers for a second every million rows (a quarter of the read time of a national
    /// import, with a core idle).
    writing: Option<std::thread::JoinHandle<Result<HashMap<String, u64>, Error>>>,
}

impl TableBatch {
    pub(super) fn new(spec: &'static TableSpec) -> TableBatch {
        TableBatch {
            spec,
            builder: TableBuilder::new(spec),
            files: Vec::new(),
            seqs: Vec::new(),
            spilled: Vec::new(),
            spilled_counts: HashMap::new(),
            writing: None,
        }
    }

    pub(super) fn buffered(&self) -> usize {
        self.files.len()
    }

    /// The buffered rows with their provenance columns, leaving the buffer empty.
    pub(super) fn take_frame(&mut self) -> Result<DataFrame, Error> {
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

    /// Writes the buffered rows to the next spill file, on a thread of its own once the
    /// previous spill file is written (its failure is returned here).
    pub(super) fn spill(&mut self, dir: &Path) -> Result<(), Error> {
        self.finish_spilling()?;
        let df = self.take_frame()?;
        let path = dir.join(format!(
            "{}-{:06}.parquet",
            self.spec.name,
            self.spilled.len()
        ));
        let spec = self.spec;
        self.spilled.push(path.clone());
        self.writing = Some(std::thread::spawn(move || {
            crate::trace::stage("import: spill", || write_spill_file(spec, df, &path))
        }));
        Ok(())
    }

    /// Waits for the spill file being written, and counts its rows per key.
    pub(super) fn finish_spilling(&mut self) -> Result<(), Error> {
        let Some(writing) = self.writing.take() else {
            return Ok(());
        };
        let written = writing.join().expect("a spill writer does not panic")?;
        for (key, n) in written {
            *self.spilled_counts.entry(key).or_default() += n;
        }
        Ok(())
    }
}

impl Drop for TableBatch {
    /// An import that stops early still waits for its spill file, so the writer never outlives
    /// the spill folder it writes into.
    fn drop(&mut self) {
        if let Some(writing) = self.writing.take() {
            let _ = writing.join();
        }
    }
}

/// The temporary folder of an import's spill files, created in the store on first use (so the
/// rename-free reads stay on one disk) and removed when the import ends.
pub(super) struct Spill {
    pub(super) store_dir: PathBuf,
    pub(super) dir: Option<tempfile::TempDir>,
    /// The first spill failure; the import stops with it after the file during which it is
    /// noticed (a spill file is written aside: its failure shows when the next one starts, or
    /// when the table is merged).
    pub(super) error: Option<Error>,
}

impl Spill {
    pub(super) fn dir(&mut self) -> Result<&Path, Error> {
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

/// Records of a table held in memory before spilling, and about the rows merged at a time.
pub const BATCH_ROWS: usize = 1_000_000;

/// Merges the collected records into the store table by table (in schema order, so a store is
/// always written the same way) and adds the outcomes to each file's counts. A table whose
/// stored and incoming rows fit the budget is merged in memory; a larger one in key ranges.
pub(super) fn merge_batches(
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
        batch.finish_spilling()?;
        let stored = tx.store().row_count(spec)?;
        if batch.spilled.is_empty() && stored + batch.buffered() <= batch_rows {
            let merged = crate::trace::stage("import: merge in memory", || {
                tx.merge(spec, batch.take_frame()?)
            })?;
            tally(merged);
            continue;
        }
        if batch.buffered() > 0 {
            batch.spill(spill.dir()?)?;
            batch.finish_spilling()?;
        }
        crate::trace::stage("import: merge spills", || {
            tx.merge_in_ranges(
                spec,
                &batch.spilled,
                &batch.spilled_counts,
                batch_rows,
                &mut tally,
            )
        })?;
        batch.spilled.iter().for_each(|p| {
            let _ = fs::remove_file(p);
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;
    use crate::schema::POSTS;

    /// Buffers `rows` posts of three accounts in the batch.
    fn buffer(batch: &mut TableBatch, rows: usize) {
        for i in 0..rows {
            let mut values = vec![Value::Null; POSTS.columns.len()];
            values[0] = Value::Str(format!("weibo:{}", i % 3));
            values[1] = Value::Str(format!("p{i}"));
            values[2] = Value::Time(1_700_000_000_000 + i as i64);
            batch.builder.push(values);
            batch.files.push(0);
            batch.seqs.push(i as i64);
        }
    }

    fn batch_of(rows: usize) -> TableBatch {
        let mut batch = TableBatch::new(&POSTS);
        buffer(&mut batch, rows);
        batch
    }

    /// Spill files are written on a thread of their own: a file that cannot be written fails
    /// the next spill or the end of spilling, never silently, and each file's rows are
    /// counted once it is written.
    #[test]
    fn a_spill_written_aside_is_counted_when_done_and_its_failure_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut batch = batch_of(5);
        batch.spill(dir.path()).unwrap();
        buffer(&mut batch, 4);
        batch.spill(dir.path()).unwrap();
        batch.finish_spilling().unwrap();
        assert_eq!(batch.spilled.len(), 2);
        assert!(batch.spilled.iter().all(|p| p.exists()));
        let counted: u64 = batch.spilled_counts.values().sum();
        assert_eq!(counted, 9);
        assert_eq!(batch.spilled_counts["weibo:0"], 2 + 2);

        let gone = dir.path().join("no-such-folder");
        let mut failing = batch_of(3);
        failing.spill(&gone).unwrap();
        let err = failing.finish_spilling().unwrap_err();
        assert!(err.to_string().contains("no-such-folder"), "{err}");
        // A batch dropped with a spill under way waits for it.
        let mut dropped = batch_of(3);
        dropped.spill(dir.path()).unwrap();
        drop(dropped);
    }
}
