//! The canonical store: a directory of Parquet tables (layout 3, `layout.rs`), the quarantine and
//! the import log as JSON Lines, and `store.json`, the manifest naming the files that make up
//! each table in the current generation.
//!
//! Every change is a transaction (`commit.rs`): one writer at a time holds the store's lock,
//! writes new files under the next generation's names beside the current ones, and commits by
//! replacing `store.json` in one rename. A reader reads the generation `store.json` named when
//! it opened the store, and only its files: it never sees half an import, and a writer killed
//! at any moment leaves the previous generation as it was. Files no generation needs are
//! removed once no reader is reading them.

mod commit;
mod direct;
mod files;
mod merge;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use polars::prelude::*;

use crate::Error;
use crate::layout::{
    self, LAYOUT_VERSION, MANIFEST_FILE, Manifest, TableEntry, bucket_dir, bucket_hash_range,
    bucket_of, buckets_for, is_partitioned, part_file,
};
use crate::schema::{TABLES, TableSpec};

pub use commit::{READERS_LOCK_FILE, Transaction, WRITER_LOCK_FILE, WriterLock};
pub use direct::DirectWriter;
pub(crate) use files::sync_dir;
pub use files::{
    ROW_GROUP_ROWS, RowGroupWriter, check_parquet_file, report_compression, write_atomic,
    write_atomic_direct, write_replacing, write_spill_file,
};
use files::{SPILL_SLICE_ROWS, key_ranges, rows_per_key, write_sorted_file, write_sorted_rows};
pub use merge::merge_frames;

/// The hash column of spill files of partitioned tables (sorted by it, so a bucket is a range):
/// the account hash shifted right by one, which keeps the order and fits a signed 64-bit
/// literal.
const HASH_COL: &str = "__hash";

fn stored_hash(hash: u64) -> i64 {
    (hash >> 1) as i64
}

pub const QUARANTINE_FILE: &str = "quarantine.jsonl";
pub const IMPORT_LOG_FILE: &str = "import_log.jsonl";
pub const SECRET_FILE: &str = "secret.key";

/// Hidden columns carried by incoming rows through a merge: which source file and in which order.
pub const FILE_COL: &str = "_file";
pub const SEQ_COL: &str = "_seq";

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    /// Rows a bucket of a new partitioned table is sized for.
    target_bucket_rows: u64,
    /// The generation this handle reads (the one `store.json` named when the store was opened,
    /// or locked for writing), with a writer's staged files on top until it commits.
    view: Arc<Mutex<Manifest>>,
    /// Held by a reader while it reads: keeps its generation's files on disk.
    reading: Option<Arc<commit::ReadPin>>,
}

/// How one incoming record changed the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    New,
    Updated,
    Duplicate,
}

/// What one incoming row did in a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    pub seq: i64,
    pub file: u32,
    pub outcome: Outcome,
}

impl Store {
    /// Opens (and creates if needed) a store directory; a store of an older layout is upgraded
    /// in place.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Store, Error> {
        Store::open_sized(dir, layout::TARGET_BUCKET_ROWS)
    }

    /// Like [`Store::open`], sizing the buckets of tables it creates (or upgrades) for
    /// `target_bucket_rows` rows each; an existing partitioned table keeps its bucket count.
    /// Tests force many small buckets with it.
    pub fn open_sized(dir: impl Into<PathBuf>, target_bucket_rows: u64) -> Result<Store, Error> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let store = Store::at(dir, target_bucket_rows)?;
        store.upgrade()?;
        Ok(store)
    }

    /// Opens an existing store, failing when the directory holds no table at all; a store of an
    /// older layout is upgraded in place.
    pub fn open_existing(dir: impl Into<PathBuf>) -> Result<Store, Error> {
        let dir = dir.into();
        let store = Store::at(dir, layout::TARGET_BUCKET_ROWS)?;
        let holds_a_table = !store.view().tables.is_empty()
            || TABLES
                .iter()
                .any(|t| store.v1_path(t).exists() || store.table_path(t).exists());
        if !store.dir.is_dir() || !holds_a_table {
            return Err(Error::Input(format!(
                "{}: not a govmedia store (no {MANIFEST_FILE} and no table such as accounts); \
                 create one with `govmedia import FILES --store {}`",
                store.dir.display(),
                store.dir.display()
            )));
        }
        store.upgrade()?;
        Ok(store)
    }

    /// Opens an existing store to read it: the handle reads the generation committed when it
    /// opened, whatever writers commit meanwhile, and its files stay on disk until the handle
    /// (and every clone of it) is dropped.
    pub fn open_for_reading(dir: impl Into<PathBuf>) -> Result<Store, Error> {
        let mut store = Store::open_existing(dir)?;
        let pin = commit::ReadPin::take(&store.dir)?;
        // Pinned first, then read: no writer removes the files of what is read from here on.
        store.reload()?;
        store.reading = pin.map(Arc::new);
        Ok(store)
    }

    fn at(dir: PathBuf, target_bucket_rows: u64) -> Result<Store, Error> {
        let store = Store {
            view: Arc::new(Mutex::new(Manifest::default())),
            dir,
            target_bucket_rows: target_bucket_rows.max(1),
            reading: None,
        };
        store.reload()?;
        Ok(store)
    }

    /// Reads the committed manifest again, dropping anything staged. A store without a manifest
    /// but with layout-1 table files is layout 1.
    fn reload(&self) -> Result<(), Error> {
        let manifest = match Manifest::read_if_present(&self.dir)? {
            Some(m) => m,
            None if TABLES.iter().any(|t| self.v1_path(t).is_file()) => Manifest {
                layout_version: 1,
                ..Manifest::default()
            },
            None => Manifest::default(),
        };
        *self.view() = manifest;
        Ok(())
    }

    fn view(&self) -> MutexGuard<'_, Manifest> {
        // A panic while staging cannot leave a half-updated manifest behind a poisoned lock
        // that matters: the writer's process is failing anyway.
        self.view.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The manifest this handle reads (with a writer's staged changes).
    pub fn manifest(&self) -> Result<Manifest, Error> {
        Ok(self.view().clone())
    }

    /// The generation this handle reads: 0 for a store nothing was committed to.
    pub fn generation(&self) -> u64 {
        self.view().generation
    }

    /// Where layouts 1 and 2 kept a table: one file.
    fn v1_path(&self, spec: &TableSpec) -> PathBuf {
        self.dir.join(format!("{}.parquet", spec.name))
    }

    /// A table's folder.
    pub fn table_path(&self, spec: &TableSpec) -> PathBuf {
        self.dir.join(spec.name)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files of a table in this generation.
    fn table_files(&self, spec: &TableSpec) -> Vec<PathBuf> {
        self.view()
            .tables
            .get(spec.name)
            .map(|t| t.files.iter().map(|f| self.dir.join(f)).collect())
            .unwrap_or_default()
    }

    /// The bucket files of a partitioned table, in bucket order.
    pub fn partition_files(&self, spec: &TableSpec) -> Result<Vec<PathBuf>, Error> {
        Ok(self
            .numbered_partition_files(spec)?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    /// The bucket files of a partitioned table with their bucket numbers, in bucket order: the
    /// bucket is the folder name (`bucket=NN`) of each file the manifest lists.
    fn numbered_partition_files(&self, spec: &TableSpec) -> Result<Vec<(u32, PathBuf)>, Error> {
        let mut numbered = Vec::new();
        for file in self.table_files(spec) {
            let bucket = file
                .parent()
                .and_then(|d| d.file_name())
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("bucket="))
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| {
                    Error::Input(format!(
                        "{}: {} lists {} for table `{}`, which is not in a bucket=NN folder",
                        self.dir.display(),
                        MANIFEST_FILE,
                        file.display(),
                        spec.name
                    ))
                })?;
            numbered.push((bucket, file));
        }
        numbered.sort();
        Ok(numbered)
    }

    /// How many audit units the store splits into: the smallest bucket count among its
    /// partitioned tables (1 when none is partitioned). Bucket counts are powers of two and a
    /// bucket is the top bits of the account hash, so unit `u` of `n` holds exactly the
    /// accounts whose hash's top `log2(n)` bits are `u`, in every table.
    pub fn audit_units(&self) -> Result<u32, Error> {
        let manifest = self.view();
        Ok(TABLES
            .iter()
            .filter(|spec| is_partitioned(spec))
            .filter_map(|spec| manifest.buckets(spec.name))
            .min()
            .unwrap_or(1))
    }

    /// Lazy scans of the rows of each audit unit (`audit_units`) of a partitioned table, in unit
    /// order: the files of the buckets inside it. For a table kept in one file, the whole table
    /// for every unit.
    pub fn scan_units(&self, spec: &TableSpec, units: u32) -> Result<Vec<LazyFrame>, Error> {
        if !is_partitioned(spec) {
            let all = self.scan_table(spec)?;
            return Ok(vec![all; units as usize]);
        }
        let buckets = self.view().buckets(spec.name).unwrap_or(1);
        let shift = buckets
            .trailing_zeros()
            .saturating_sub(units.trailing_zeros());
        let mut files: Vec<Vec<PathBuf>> = vec![Vec::new(); units as usize];
        for (bucket, path) in self.numbered_partition_files(spec)? {
            let Some(unit) = files.get_mut((bucket >> shift) as usize) else {
                return Err(Error::Input(format!(
                    "{}: bucket {bucket} is beyond the {buckets} buckets {MANIFEST_FILE} records",
                    path.display()
                )));
            };
            unit.push(path);
        }
        files
            .iter()
            .map(|unit| self.scan_files(spec, unit))
            .collect()
    }

    /// Brings a store of layout 1 or 2 to layout 3 in one transaction: a layout-1 table file of
    /// a partitioned table is rewritten as buckets; a small table's file is linked into its
    /// folder; layout-2 buckets are listed. The old files are removed after the commit, so a
    /// crash at any point leaves either the old store, whole, or the new one. Says so on
    /// standard error.
    fn upgrade(&self) -> Result<(), Error> {
        if self.view().layout_version >= LAYOUT_VERSION {
            return Ok(());
        }
        let tx = self.begin(true)?;
        let from = self.view().layout_version;
        if from >= LAYOUT_VERSION {
            // Another process upgraded it while this one waited for the lock.
            return Ok(());
        }
        let mut superseded = Vec::new();
        for spec in TABLES.iter().copied() {
            let old = self.v1_path(spec);
            if old.is_file() {
                if is_partitioned(spec) {
                    self.rewrite_as_buckets(spec, &old)?;
                } else {
                    let new = self.next_file(spec, None);
                    link_or_copy(&old, &new)?;
                    self.stage_file(spec, &new);
                    self.record_table(spec, None)?;
                }
                superseded.push(old);
            } else if is_partitioned(spec) && self.table_files(spec).is_empty() {
                // Layout 2: the buckets are there, the manifest did not list them.
                let buckets = self.view().buckets(spec.name);
                for file in layout2_bucket_files(&self.table_path(spec))? {
                    self.stage_file(spec, &file);
                }
                if !self.table_files(spec).is_empty() {
                    self.record_table(spec, buckets)?;
                }
            }
        }
        tx.commit()?;
        for old in &superseded {
            // Removed already by the commit's clean-up when no reader was reading.
            match fs::remove_file(old) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io(old, e));
                }
                _ => {}
            }
        }
        eprintln!(
            "{}: upgraded the store from layout {from} to layout {LAYOUT_VERSION} (every table in \
             its folder, listed in {MANIFEST_FILE}); nothing was removed but the old copies",
            self.dir.display(),
        );
        Ok(())
    }

    /// Rewrites a layout-1 table file (`posts.parquet`) as buckets, staged.
    fn rewrite_as_buckets(&self, spec: &'static TableSpec, old: &Path) -> Result<(), Error> {
        let at = |e: PolarsError| Error::polars(old, e);
        let scan = || {
            LazyFrame::scan_parquet(
                PlRefPath::new(old.to_string_lossy().as_ref()),
                ScanArgsParquet::default(),
            )
        };
        let rows = scan()
            .and_then(|s| s.select([len()]).collect())
            .map_err(at)?
            .column("len")
            .and_then(|c| c.cast(&DataType::UInt64))
            .and_then(|c| c.u64().map(|ca| ca.get(0).unwrap_or(0)))
            .map_err(at)?;
        let buckets = self.bucket_count(spec, rows)?;
        let spill = tempfile::Builder::new()
            .prefix(".upgrade-")
            .tempdir_in(&self.dir)
            .map_err(|e| Error::io(&self.dir, e))?;
        let mut spilled = Vec::new();
        let mut offset = 0u64;
        while offset < rows {
            let slice = scan()
                .map_err(at)?
                .slice(offset as i64, SPILL_SLICE_ROWS as IdxSize)
                .collect()
                .map_err(at)?;
            let path = spill.path().join(format!("{}-{offset}.parquet", spec.name));
            write_spill_file(spec, slice, &path)?;
            spilled.push(path);
            offset += SPILL_SLICE_ROWS as u64;
        }
        self.write_buckets_from_spills(spec, buckets, &spilled, None)?;
        self.record_table(spec, Some(buckets))
    }

    /// The file the transaction under way writes for a table, or for one of its buckets
    /// (`(bucket, buckets)`): named after the next generation, beside the current files.
    fn next_file(&self, spec: &TableSpec, bucket: Option<(u32, u32)>) -> PathBuf {
        let name = part_file(self.view().generation + 1);
        match bucket {
            Some((bucket, buckets)) => bucket_dir(&self.dir, spec.name, bucket, buckets).join(name),
            None => self.table_path(spec).join(name),
        }
    }

    /// Puts a newly written file into the staged manifest: it replaces the table's file, or for
    /// a partitioned table the file of its bucket.
    fn stage_file(&self, spec: &TableSpec, file: &Path) {
        let relative = file
            .strip_prefix(&self.dir)
            .unwrap_or(file)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect::<Vec<_>>()
            .join("/");
        let parent = |f: &str| f.rsplit_once('/').map(|(d, _)| d.to_string());
        let mut view = self.view();
        let entry = view
            .tables
            .entry(spec.name.to_string())
            .or_insert_with(|| TableEntry {
                buckets: None,
                rows: 0,
                files: Vec::new(),
            });
        if is_partitioned(spec) {
            let folder = parent(&relative);
            entry.files.retain(|f| parent(f) != folder);
            entry.files.push(relative);
            entry.files.sort();
        } else {
            entry.files = vec![relative];
        }
    }

    /// Records a table's rows (and bucket count) in the staged manifest.
    fn record_table(&self, spec: &TableSpec, buckets: Option<u32>) -> Result<(), Error> {
        let rows = self.row_count(spec)? as u64;
        let mut view = self.view();
        let entry = view
            .tables
            .entry(spec.name.to_string())
            .or_insert_with(|| TableEntry {
                buckets: None,
                rows: 0,
                files: Vec::new(),
            });
        entry.rows = rows;
        entry.buckets = buckets;
        Ok(())
    }

    /// Writes the rows of a partitioned table's spill files bucket by bucket, merging each with
    /// the stored bucket when `on_bucket` is given (an import) or writing them as they are (an
    /// upgrade, whose rows are already unique). Only buckets whose rows change are rewritten.
    fn write_buckets_from_spills(
        &self,
        spec: &'static TableSpec,
        buckets: u32,
        spilled: &[PathBuf],
        on_bucket: Option<&mut (dyn FnMut(Vec<Merged>) + Send)>,
    ) -> Result<(), Error> {
        if spilled.is_empty() {
            return Ok(());
        }
        let paths: Vec<PlRefPath> = spilled
            .iter()
            .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
            .collect();
        let table_dir = self.table_path(spec);
        let at = |e: PolarsError| Error::polars(&table_dir, e);
        // Buckets side by side (each is its own file); the outcomes are only counted, so the
        // order they arrive in does not matter.
        let on_bucket = on_bucket.map(Mutex::new);
        let bucket_ids: Vec<u32> = (0..buckets).collect();
        crate::parallel::map_in_order(&bucket_ids, crate::parallel::cores(), |&bucket| {
            let (lo, hi) = bucket_hash_range(bucket, buckets);
            let (lo, hi) = (stored_hash(lo), stored_hash(hi));
            let incoming = crate::trace::stage("import: bucket's spilled rows", || {
                LazyFrame::scan_parquet_files(paths.clone().into(), ScanArgsParquet::default())?
                    .filter(
                        col(HASH_COL)
                            .gt_eq(lit(lo))
                            .and(col(HASH_COL).lt_eq(lit(hi))),
                    )
                    .drop(cols([HASH_COL]))
                    .collect()
            })
            .map_err(at)?;
            if incoming.height() == 0 {
                return Ok(());
            }
            match &on_bucket {
                Some(on_bucket) => {
                    let outcomes = self.merge_bucket(spec, bucket, buckets, incoming)?;
                    (on_bucket.lock().unwrap_or_else(|e| e.into_inner()))(outcomes);
                    Ok(())
                }
                None => self.write_bucket(spec, bucket, buckets, &incoming),
            }
        })?;
        Ok(())
    }

    /// Merges incoming rows into one bucket; the bucket is rewritten only when a row changed.
    fn merge_bucket(
        &self,
        spec: &'static TableSpec,
        bucket: u32,
        buckets: u32,
        incoming: DataFrame,
    ) -> Result<Vec<Merged>, Error> {
        let (existing, stored) = self.read_bucket(spec, bucket, buckets)?;
        let (merged, outcomes) = crate::trace::stage("import: bucket merge", || {
            merge_frames(spec, existing, incoming)
        })
        .map_err(|e| Error::polars(&self.table_path(spec), e))?;
        if !stored || changes(&outcomes) {
            crate::trace::stage("import: bucket write", || {
                self.write_bucket(spec, bucket, buckets, &merged)
            })?;
        }
        Ok(outcomes)
    }

    /// A bucket's stored rows (none when it does not exist yet), and whether it exists.
    fn read_bucket(
        &self,
        spec: &TableSpec,
        bucket: u32,
        buckets: u32,
    ) -> Result<(DataFrame, bool), Error> {
        let folder = bucket_dir(&self.dir, spec.name, bucket, buckets);
        let Some(path) = self
            .table_files(spec)
            .into_iter()
            .find(|f| f.parent() == Some(folder.as_path()))
        else {
            return Ok((DataFrame::empty_with_schema(&spec.polars_schema()), false));
        };
        check_parquet_file(&path)?;
        let file = fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let df = ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::polars(&path, e))?;
        Ok((df, true))
    }

    /// Writes a bucket in natural-key order as a new file of the transaction, and stages it.
    fn write_bucket(
        &self,
        spec: &TableSpec,
        bucket: u32,
        buckets: u32,
        df: &DataFrame,
    ) -> Result<(), Error> {
        let path = self.next_file(spec, Some((bucket, buckets)));
        write_sorted_file(spec, df, &path)?;
        self.stage_file(spec, &path);
        Ok(())
    }

    /// The bucket count of a partitioned table: the manifest's; for a new table, the count the
    /// store's other partitioned tables already have (one count per store, so that an audit
    /// unit is whole buckets of every table), else one for `rows`.
    fn bucket_count(&self, spec: &TableSpec, rows: u64) -> Result<u32, Error> {
        let manifest = self.view();
        Ok(manifest
            .buckets(spec.name)
            .or_else(|| {
                TABLES
                    .iter()
                    .filter(|t| is_partitioned(t))
                    .find_map(|t| manifest.buckets(t.name))
            })
            .unwrap_or_else(|| buckets_for(rows, self.target_bucket_rows)))
    }

    /// Merges incoming rows into a partitioned table, one touched bucket at a time.
    fn merge_partitioned(
        &self,
        spec: &'static TableSpec,
        incoming: DataFrame,
    ) -> Result<Vec<Merged>, Error> {
        let table_dir = self.table_path(spec);
        let at = |e: PolarsError| Error::polars(&table_dir, e);
        let stored = self.row_count(spec)? as u64;
        let buckets = self.bucket_count(spec, stored + incoming.height() as u64)?;
        let ids = incoming
            .column("account_id")
            .map_err(at)?
            .str()
            .map_err(at)?;
        let mut rows_of: BTreeMap<u32, Vec<IdxSize>> = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            rows_of
                .entry(bucket_of(id.unwrap_or_default(), buckets))
                .or_default()
                .push(i as IdxSize);
        }
        let parts: Vec<(u32, Vec<IdxSize>)> = rows_of.into_iter().collect();
        let merged =
            crate::parallel::map_in_order(&parts, crate::parallel::cores(), |(bucket, rows)| {
                let part = incoming
                    .take(&IdxCa::from_slice("rows".into(), rows))
                    .map_err(at)?;
                self.merge_bucket(spec, *bucket, buckets, part)
            })?;
        let mut outcomes: Vec<Merged> = merged.into_iter().flatten().collect();
        outcomes.sort_by_key(|m| m.seq);
        self.record_table(spec, Some(buckets))?;
        Ok(outcomes)
    }

    /// Reads a whole table, or `None` when the store does not hold it yet.
    pub fn read_table(&self, spec: &TableSpec) -> Result<Option<DataFrame>, Error> {
        if self.table_files(spec).is_empty() {
            return Ok(None);
        }
        let path = self.table_path(spec);
        self.scan_table(spec)?
            .collect()
            .map(Some)
            .map_err(|e| Error::polars(&path, e))
    }

    /// A lazy scan of a table; an empty frame with the canonical schema when it is absent, so
    /// rules never need to special-case a store without comments or menus.
    pub fn scan_table(&self, spec: &TableSpec) -> Result<LazyFrame, Error> {
        self.scan_files(spec, &self.table_files(spec))
    }

    /// A lazy scan of some files of a table (an empty frame for none).
    fn scan_files(&self, spec: &TableSpec, files: &[PathBuf]) -> Result<LazyFrame, Error> {
        if files.is_empty() {
            return Ok(DataFrame::empty_with_schema(&spec.polars_schema()).lazy());
        }
        for file in files {
            check_parquet_file(file)?;
        }
        let paths: Vec<PlRefPath> = files
            .iter()
            .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
            .collect();
        // The bucket is in the folder names for other engines; the rules do not need it.
        let args = ScanArgsParquet {
            hive_options: HiveOptions {
                enabled: Some(false),
                ..Default::default()
            },
            ..Default::default()
        };
        LazyFrame::scan_parquet_files(paths.into(), args)
            .map_err(|e| Error::polars(&self.table_path(spec), e))
    }

    /// Rows a table holds (0 when the store does not hold it yet), from the files' metadata.
    pub fn row_count(&self, spec: &TableSpec) -> Result<usize, Error> {
        if self.table_files(spec).is_empty() {
            return Ok(0);
        }
        let df = self
            .scan_table(spec)?
            .select([len()])
            .collect()
            .map_err(|e| Error::polars(&self.table_path(spec), e))?;
        let n = df
            .column("len")
            .and_then(|c| c.cast(&DataType::UInt64))
            .and_then(|c| c.u64().map(|ca| ca.get(0).unwrap_or(0)))
            .map_err(|e| Error::polars(&self.table_path(spec), e))?;
        Ok(n as usize)
    }

    /// Merges incoming rows (canonical columns plus [`FILE_COL`] and [`SEQ_COL`]) into a table by
    /// its natural key, staging the result, holding the table (or for a partitioned table, one
    /// bucket) in memory. Returns what each incoming row did, in `SEQ_COL` order. Only inside a
    /// transaction: [`Transaction::merge`].
    ///
    /// A later sighting replaces the earlier values column by column, except that a null never
    /// erases a value (a partial source such as a CSV without counters keeps what a richer one
    /// said); `first_seen`/`last_seen` keep the earliest/latest. A row that leaves the stored
    /// record unchanged is a duplicate; a merge of duplicates only writes nothing.
    fn merge(&self, spec: &'static TableSpec, incoming: DataFrame) -> Result<Vec<Merged>, Error> {
        if is_partitioned(spec) {
            return self.merge_partitioned(spec, incoming);
        }
        let path = self.table_path(spec);
        let stored = self.read_table(spec)?;
        let exists = stored.is_some();
        let existing =
            stored.unwrap_or_else(|| DataFrame::empty_with_schema(&spec.polars_schema()));
        let (merged, outcomes) =
            merge_frames(spec, existing, incoming).map_err(|e| Error::polars(&path, e))?;
        if !exists || changes(&outcomes) {
            self.write_sorted_table(spec, &merged)?;
        }
        self.record_table(spec, None)?;
        Ok(outcomes)
    }

    /// Like [`Store::merge`] for imports too large to hold at once: the incoming rows come from
    /// Parquet files (each sorted by key, as [`write_spill_file`] writes them), and the table is
    /// merged one range of its first key column at a time, each range holding about
    /// `range_rows` stored plus incoming rows. `incoming_counts` gives the incoming rows per
    /// first-key value. `on_range` receives the outcomes of each range, in `SEQ_COL` order
    /// within the range. The result is the same table, byte for byte, as [`Store::merge`]. Only inside a
    /// transaction: [`Transaction::merge_in_ranges`].
    fn merge_in_ranges(
        &self,
        spec: &'static TableSpec,
        incoming_files: &[PathBuf],
        incoming_counts: &HashMap<String, u64>,
        range_rows: usize,
        on_range: &mut (dyn FnMut(Vec<Merged>) + Send),
    ) -> Result<(), Error> {
        if is_partitioned(spec) {
            // Memory is bounded by a bucket: each bucket is merged with its own incoming rows.
            let stored = self.row_count(spec)? as u64;
            let incoming: u64 = incoming_counts.values().sum();
            let buckets = self.bucket_count(spec, stored + incoming)?;
            self.write_buckets_from_spills(spec, buckets, incoming_files, Some(on_range))?;
            return self.record_table(spec, Some(buckets));
        }
        let path = self.table_path(spec);
        let at = |e: PolarsError| Error::polars(&path, e);
        let exists = !self.table_files(spec).is_empty();
        let target = self.next_file(spec, None);
        let first_key = spec.key[0];
        let mut counts: BTreeMap<String, u64> = incoming_counts
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        if exists {
            let stored = rows_per_key(self.scan_table(spec)?, first_key).map_err(at)?;
            for (k, n) in stored {
                *counts.entry(k).or_default() += n;
            }
        }
        let ranges = key_ranges(&counts, range_rows);
        let incoming_paths: Vec<PlRefPath> = incoming_files
            .iter()
            .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
            .collect();
        let schema = spec.polars_schema();
        write_atomic(&target, |file| {
            let to_io = std::io::Error::other;
            let mut writer = RowGroupWriter::new(file, &schema).map_err(to_io)?;
            for (lo, hi) in &ranges {
                let in_range = col(first_key)
                    .gt_eq(lit(lo.as_str()))
                    .and(col(first_key).lt_eq(lit(hi.as_str())));
                let existing = if exists {
                    self.scan_table(spec)
                        .map_err(std::io::Error::other)?
                        .filter(in_range.clone())
                        .collect()
                        .map_err(to_io)?
                } else {
                    DataFrame::empty_with_schema(&schema)
                };
                let incoming = if incoming_paths.is_empty() {
                    None
                } else {
                    let scan = LazyFrame::scan_parquet_files(
                        incoming_paths.clone().into(),
                        ScanArgsParquet::default(),
                    )
                    .map_err(to_io)?;
                    Some(scan.filter(in_range).collect().map_err(to_io)?)
                };
                let merged = match incoming {
                    Some(incoming) if incoming.height() > 0 => {
                        let (merged, outcomes) =
                            merge_frames(spec, existing, incoming).map_err(to_io)?;
                        on_range(outcomes);
                        merged
                    }
                    _ => existing,
                };
                write_sorted_rows(spec, &merged, &mut writer).map_err(to_io)?;
            }
            writer.finish().map_err(to_io)
        })?;
        self.stage_file(spec, &target);
        self.record_table(spec, None)
    }

    /// Writes a single-file table in natural-key order as a new file of the transaction (the
    /// same content always gives the same bytes), and stages it.
    fn write_sorted_table(&self, spec: &TableSpec, df: &DataFrame) -> Result<(), Error> {
        let path = self.next_file(spec, None);
        write_sorted_file(spec, df, &path)?;
        self.stage_file(spec, &path);
        Ok(())
    }

    /// The store's secret for pseudonymising commenters (`secret.key`, 32 random bytes created
    /// on first use, readable by the owner only). The same person gets the same pseudonym in
    /// every import into this store, and no other store can link them.
    pub fn pseudonym_key(&self) -> Result<[u8; 32], Error> {
        use rand::TryRngCore;
        let path = self.dir.join(SECRET_FILE);
        match fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                return Ok(key);
            }
            Ok(_) => {
                return Err(Error::Input(format!(
                    "{}: not a 32-byte key; restore it from a backup (deleting it changes every \
                     pseudonym)",
                    path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        let mut key = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut key)
            .map_err(|e| Error::io(&path, std::io::Error::other(e.to_string())))?;
        write_atomic(&path, |file| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(fs::Permissions::from_mode(0o600))?;
            }
            file.write_all(&key)
        })?;
        Ok(key)
    }
}

/// Whether a merge changed any stored row.
fn changes(outcomes: &[Merged]) -> bool {
    outcomes.iter().any(|m| m.outcome != Outcome::Duplicate)
}

/// A hard link to a file (its data shared, nothing copied), or a copy where links are not
/// possible.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), Error> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    // A link of an earlier, stopped attempt.
    let _ = fs::remove_file(to);
    if fs::hard_link(from, to).is_err() {
        fs::copy(from, to).map_err(|e| Error::io(to, e))?;
    }
    Ok(())
}

/// The bucket files of a layout-2 table: `TABLE/bucket=NN/part-0.parquet`.
fn layout2_bucket_files(table_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = match fs::read_dir(table_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(table_dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(table_dir, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let file = entry.path().join("part-0.parquet");
        if name.starts_with("bucket=") && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_next_writer_removes_what_a_killed_run_left() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let bucket = dir.path().join("posts").join("bucket=00");
        fs::create_dir_all(&bucket).unwrap();
        fs::write(bucket.join(".tmp-abc"), vec![0u8; 1024]).unwrap();
        // Written by a transaction that never committed: no manifest lists it.
        fs::write(bucket.join("part-00000001.parquet"), b"uncommitted").unwrap();
        fs::create_dir_all(dir.path().join(".import-xyz")).unwrap();
        fs::write(dir.path().join(".import-xyz").join("spill.parquet"), b"x").unwrap();
        fs::create_dir_all(dir.path().join(".extract-1")).unwrap();
        fs::write(dir.path().join(".tmp-store.json"), b"x").unwrap();
        fs::write(dir.path().join("notes.txt"), b"keep").unwrap();
        // The manifest of a committed generation, so that unlisted table files are garbage.
        Manifest::default().write(dir.path()).unwrap();
        drop(store.lock_writer(false).unwrap());
        let mut left: Vec<String> = Vec::new();
        for d in [dir.path().to_path_buf(), bucket.clone()] {
            for e in fs::read_dir(&d).unwrap().flatten() {
                left.push(e.file_name().to_string_lossy().to_string());
            }
        }
        left.sort();
        assert_eq!(
            left,
            [
                "notes.txt",
                "posts",
                "readers.lock",
                "store.json",
                "writer.lock"
            ],
            "{left:?}"
        );
    }

    #[test]
    fn quarantine_lines_are_appended_once_and_the_file_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let lines: Vec<String> = (0..1000).map(|i| format!("{{\"line\":{i}}}")).collect();
        for part in [&lines[..600], &lines[400..], &lines[..]] {
            let tx = store.begin(false).unwrap();
            tx.append_lines(QUARANTINE_FILE, part).unwrap();
            tx.commit().unwrap();
        }
        let text = fs::read_to_string(dir.path().join(QUARANTINE_FILE)).unwrap();
        let got: Vec<&str> = text.lines().collect();
        assert_eq!(got.len(), 1000);
        assert_eq!(got, lines.iter().map(String::as_str).collect::<Vec<_>>());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(QUARANTINE_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let tx = store.begin(false).unwrap();
            tx.append_lines(IMPORT_LOG_FILE, &lines[..1]).unwrap();
            tx.commit().unwrap();
            let log = fs::metadata(dir.path().join(IMPORT_LOG_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(log & 0o777, 0o644, "the import log holds no records");
        }
    }

    #[test]
    fn lines_appended_without_a_commit_are_cut_by_the_next_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tx = store.begin(false).unwrap();
        tx.append_lines(QUARANTINE_FILE, &["{\"a\":1}".to_string()])
            .unwrap();
        tx.commit().unwrap();
        let committed = fs::read(dir.path().join(QUARANTINE_FILE)).unwrap();
        let tx = store.begin(false).unwrap();
        tx.append_lines(QUARANTINE_FILE, &["{\"b\":2}".to_string()])
            .unwrap();
        drop(tx);
        assert!(fs::read(dir.path().join(QUARANTINE_FILE)).unwrap().len() > committed.len());
        drop(store.begin(false).unwrap());
        assert_eq!(
            fs::read(dir.path().join(QUARANTINE_FILE)).unwrap(),
            committed
        );
    }

    #[test]
    fn a_reader_sees_one_generation_whatever_writers_commit_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let commit = |rows: Vec<Vec<Value>>| {
            let tx = store.begin(false).unwrap();
            tx.merge(&POSTS, incoming(rows)).unwrap();
            tx.commit().unwrap()
        };
        assert_eq!(commit(vec![post("p1", Some(1), None)]), 1);
        let reader = Store::open_for_reading(dir.path()).unwrap();
        let posts_of = |s: &Store| s.read_table(&POSTS).unwrap().unwrap().height();

        // Staged and not committed: no reader sees it, and dropping it leaves nothing.
        let tx = store.begin(false).unwrap();
        tx.merge(&POSTS, incoming(vec![post("p2", Some(2), None)]))
            .unwrap();
        assert_eq!(posts_of(tx.store()), 2, "the writer reads its own rows");
        assert_eq!(posts_of(&Store::open_for_reading(dir.path()).unwrap()), 1);
        drop(tx);
        assert_eq!(posts_of(&store), 1);

        // Committed while the first reader reads: it keeps reading its generation, whose
        // files stay until it lets go; a new reader sees the new one.
        assert_eq!(
            commit(vec![post("p2", Some(2), None), post("p3", None, None)]),
            2
        );
        assert_eq!(posts_of(&reader), 1);
        assert_eq!(reader.generation(), 1);
        let fresh = Store::open_for_reading(dir.path()).unwrap();
        assert_eq!((fresh.generation(), posts_of(&fresh)), (2, 3));
        drop(fresh);
        let files = |d: &Path| super::commit::parquet_files_under(&d.join("posts"), 1);
        assert_eq!(
            files(dir.path()).len(),
            2,
            "generation 1's file kept for the reader"
        );
        drop(reader);
        assert_eq!(
            files(dir.path()),
            [dir.path().join("posts/bucket=00/part-00000002.parquet")],
            "the last reader out removes what no generation needs"
        );
        let manifest = Manifest::read(dir.path()).unwrap();
        assert_eq!((manifest.generation, manifest.tables["posts"].rows), (2, 3));
    }

    #[test]
    fn a_merge_of_duplicates_only_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for _ in 0..2 {
            let tx = store.begin(false).unwrap();
            tx.merge(&POSTS, incoming(vec![post("p1", Some(1), None)]))
                .unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(
            store.partition_files(&POSTS).unwrap(),
            [dir.path().join("posts/bucket=00/part-00000001.parquet")]
        );
    }

    #[test]
    fn a_layout_2_store_is_upgraded_with_every_row() {
        let dir = tempfile::tempdir().unwrap();
        // Layout 2 as an older govmedia wrote it: small tables as TABLE.parquet, buckets as
        // part-0.parquet, a manifest without file lists.
        let store = Store::open(dir.path()).unwrap();
        let tx = store.begin(false).unwrap();
        tx.merge(
            &POSTS,
            incoming(vec![post("p1", Some(1), None), post("p2", None, None)]),
        )
        .unwrap();
        tx.commit().unwrap();
        let v3 = dir.path().join("posts/bucket=00/part-00000001.parquet");
        fs::rename(&v3, v3.with_file_name("part-0.parquet")).unwrap();
        fs::write(
            dir.path().join(MANIFEST_FILE),
            r#"{"layout_version":2,"hash":"x","tables":{"posts":{"buckets":1,"rows":2}}}"#,
        )
        .unwrap();
        let upgraded = Store::open(dir.path()).unwrap();
        let manifest = Manifest::read(dir.path()).unwrap();
        assert_eq!(manifest.layout_version, LAYOUT_VERSION);
        assert_eq!(
            manifest.tables["posts"].files,
            ["posts/bucket=00/part-0.parquet"]
        );
        assert_eq!(upgraded.read_table(&POSTS).unwrap().unwrap().height(), 2);
    }

    #[test]
    fn one_writer_at_a_time_and_the_busy_one_hears_who_holds_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let held = store.lock_writer(false).unwrap();
        let err = store.lock_writer(false).unwrap_err().to_string();
        assert!(
            err.contains(&format!("being written by pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("--wait"), "{err}");
        // A waiting writer gets the store once the holder is done.
        let waiter = {
            let store = Store::open(dir.path()).unwrap();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let _lock = store.lock_writer(true).unwrap();
                started.elapsed()
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(held);
        let waited = waiter.join().unwrap();
        assert!(
            waited >= std::time::Duration::from_millis(250),
            "{waited:?}"
        );
        // And once every writer is gone, the store is free again.
        drop(store.lock_writer(false).unwrap());
    }

    #[test]
    fn an_import_into_a_store_being_written_stops_naming_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store")).unwrap();
        let input = dir.path().join("accounts.jsonl");
        fs::write(
            &input,
            r#"{"account_id":"weibo:1","platform":"weibo","name":"某市发布"}"#,
        )
        .unwrap();
        let _held = store.lock_writer(false).unwrap();
        let err = crate::import::import_paths(&store, &[input], &Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("the store is being written by pid"), "{err}");
        assert!(
            !store.table_path(&crate::schema::ACCOUNTS).exists(),
            "nothing written"
        );
    }
    use super::*;
    use crate::record::{TableBuilder, Value};
    use crate::schema::POSTS;

    fn post(id: &str, reads: Option<i64>, title: Option<&str>) -> Vec<Value> {
        let mut v = vec![Value::Null; POSTS.columns.len()];
        v[0] = Value::Str("weibo:1".into());
        v[1] = Value::Str(id.into());
        v[2] = Value::Time(1_700_000_000_000);
        if let Some(t) = title {
            v[3] = Value::Str(t.into());
        }
        if let Some(r) = reads {
            v[POSTS.index_of("read_count").unwrap()] = Value::Int(r);
        }
        v
    }

    fn incoming(rows: Vec<Vec<Value>>) -> DataFrame {
        let n = rows.len();
        let mut b = TableBuilder::new(&POSTS);
        rows.into_iter().for_each(|r| b.push(r));
        let mut df = b.finish().unwrap();
        df.with_column(Column::new(FILE_COL.into(), vec![0u32; n]))
            .unwrap();
        df.with_column(Column::new(
            SEQ_COL.into(),
            (0..n as i64).collect::<Vec<_>>(),
        ))
        .unwrap();
        df
    }

    #[test]
    fn later_sighting_updates_counters_and_nulls_do_not_erase() {
        let empty = DataFrame::empty_with_schema(&POSTS.polars_schema());
        let (state, out) = merge_frames(
            &POSTS,
            empty,
            incoming(vec![post("a", Some(10), Some("t")), post("b", None, None)]),
        )
        .unwrap();
        assert_eq!(
            out.iter().map(|o| o.outcome).collect::<Vec<_>>(),
            [Outcome::New, Outcome::New]
        );

        let (state, out) = merge_frames(
            &POSTS,
            state,
            incoming(vec![
                post("a", Some(25), None),
                post("b", None, None),
                post("a", Some(25), None),
            ]),
        )
        .unwrap();
        assert_eq!(
            out.iter().map(|o| o.outcome).collect::<Vec<_>>(),
            [Outcome::Updated, Outcome::Duplicate, Outcome::Duplicate]
        );
        assert_eq!(state.height(), 2);
        let state = state
            .sort(["post_id"], SortMultipleOptions::default())
            .unwrap();
        let reads = state.column("read_count").unwrap().i64().unwrap();
        let titles = state.column("title").unwrap().str().unwrap();
        assert_eq!(reads.get(0), Some(25));
        assert_eq!(
            titles.get(0),
            Some("t"),
            "a null title must not erase the stored one"
        );
    }

    #[test]
    fn keys_seen_many_times_merge_as_one_sighting_after_another() {
        // Later rounds merge only into the keys that come again; the outcome must be that of
        // merging the sightings one at a time.
        let stored_rows = ["a", "b", "c", "d", "e"]
            .iter()
            .enumerate()
            .map(|(i, id)| post(id, Some(i as i64), Some("old")))
            .collect();
        let (stored, _) = merge_frames(
            &POSTS,
            DataFrame::empty_with_schema(&POSTS.polars_schema()),
            incoming(stored_rows),
        )
        .unwrap();
        let sightings = vec![
            post("a", Some(5), None),
            post("f", None, Some("new")),
            post("b", Some(1), None),
            post("a", Some(5), None),
            post("a", None, Some("retitled")),
            post("f", Some(3), None),
            post("c", Some(2), None),
            post("a", Some(9), None),
            post("b", Some(1), Some("old")),
            post("f", Some(3), None),
            post("a", Some(1), None),
        ];
        let (state, outcomes) =
            merge_frames(&POSTS, stored.clone(), incoming(sightings.clone())).unwrap();

        let mut one_by_one = stored;
        let mut expected = Vec::new();
        for sighting in sightings {
            let (next, out) = merge_frames(&POSTS, one_by_one, incoming(vec![sighting])).unwrap();
            one_by_one = next;
            expected.push(out[0].outcome);
        }
        let sorted = |df: DataFrame| {
            df.sort(["post_id"], SortMultipleOptions::default())
                .unwrap()
        };
        assert!(sorted(state).equals_missing(&sorted(one_by_one)));
        assert_eq!(
            outcomes.iter().map(|o| o.outcome).collect::<Vec<_>>(),
            expected
        );
        assert_eq!(
            expected
                .iter()
                .filter(|o| **o == Outcome::Duplicate)
                .count(),
            5
        );
    }

    #[test]
    fn the_same_key_twice_in_one_import_is_one_row() {
        let empty = DataFrame::empty_with_schema(&POSTS.polars_schema());
        let (state, out) = merge_frames(
            &POSTS,
            empty,
            incoming(vec![
                post("a", Some(1), None),
                post("a", Some(1), None),
                post("a", Some(2), None),
            ]),
        )
        .unwrap();
        assert_eq!(
            out.iter().map(|o| o.outcome).collect::<Vec<_>>(),
            [Outcome::New, Outcome::Duplicate, Outcome::Updated]
        );
        assert_eq!(state.height(), 1);
        assert_eq!(
            state.column("read_count").unwrap().i64().unwrap().get(0),
            Some(2)
        );
    }
}

#[cfg(all(test, unix))]
mod permission_tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn written_files_are_readable_and_the_secret_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.html");
        super::write_replacing(&path, |f| std::io::Write::write_all(f, b"x")).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let store = super::Store::open(dir.path()).unwrap();
        store.pseudonym_key().unwrap();
        let secret = dir.path().join(super::SECRET_FILE);
        assert_eq!(
            std::fs::metadata(secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
