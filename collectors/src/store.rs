//! The canonical store: a directory of Parquet tables (layout v2, `layout.rs`: `posts` and
//! `comments` in account-hash buckets, the small tables as single files, `store.json` as the
//! manifest), plus the quarantine and the import log as JSON Lines. Every write goes to a
//! temporary file in the same directory and is renamed into place, so a crash never leaves a
//! half-written file.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::Error;
use crate::layout::{
    self, MANIFEST_FILE, Manifest, PART_FILE, TableEntry, bucket_dir, bucket_hash_range, bucket_of,
    buckets_for, is_partitioned,
};
use crate::schema::{MergeRule, TABLES, TableSpec};

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
}

/// The file whose OS lock makes a store's writers take turns.
pub const WRITER_LOCK_FILE: &str = "writer.lock";

/// One writer at a time: an exclusive OS lock on `writer.lock` (flock on Unix, LockFileEx on
/// Windows), held while this value lives and released by the OS when the process ends, however
/// it ends (a `kill -9` leaves no stale lock). The file names the holder for the next writer.
#[derive(Debug)]
pub struct WriterLock {
    _file: fs::File,
}

/// How one incoming record changed the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    New,
    Updated,
    Duplicate,
}

impl Store {
    /// Opens (and creates if needed) a store directory; a layout-1 store is upgraded in place.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Store, Error> {
        Store::open_sized(dir, layout::TARGET_BUCKET_ROWS)
    }

    /// Like [`Store::open`], sizing the buckets of tables it creates (or upgrades) for
    /// `target_bucket_rows` rows each; an existing partitioned table keeps its bucket count.
    /// Tests force many small buckets with it.
    pub fn open_sized(dir: impl Into<PathBuf>, target_bucket_rows: u64) -> Result<Store, Error> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let store = Store {
            dir,
            target_bucket_rows: target_bucket_rows.max(1),
        };
        store.upgrade_v1()?;
        Ok(store)
    }

    /// Opens an existing store, failing when the directory holds no table at all; a layout-1
    /// store is upgraded in place.
    pub fn open_existing(dir: impl Into<PathBuf>) -> Result<Store, Error> {
        let dir = dir.into();
        let store = Store {
            dir,
            target_bucket_rows: layout::TARGET_BUCKET_ROWS,
        };
        let holds_a_table = TABLES
            .iter()
            .any(|t| store.table_path(t).exists() || store.v1_path(t).exists());
        if !store.dir.is_dir() || !holds_a_table {
            return Err(Error::Input(format!(
                "{}: not a govmedia store (no table files such as accounts.parquet); \
                 create one with `govmedia import FILES --store {}`",
                store.dir.display(),
                store.dir.display()
            )));
        }
        store.upgrade_v1()?;
        Ok(store)
    }

    /// Takes the store's writer lock. When another process holds it: with `wait`, waits for
    /// it; without, an error naming the holder (its pid and when it started).
    pub fn lock_writer(&self, wait: bool) -> Result<WriterLock, Error> {
        let path = self.dir.join(WRITER_LOCK_FILE);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    "another process".to_string()
                } else {
                    holder.to_string()
                };
                if !wait {
                    return Err(Error::Input(format!(
                        "{}: the store is being written by {holder}; run again when it is done, \
                         or pass --wait to wait for it",
                        self.dir.display()
                    )));
                }
                tracing::warn!(store = %self.dir.display(), "waiting for {holder} to finish writing");
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        // Who holds it, for a writer that finds it busy.
        use std::io::{Seek, Write};
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        file.set_len(0)
            .and_then(|_| file.seek(std::io::SeekFrom::Start(0)))
            .and_then(|_| write!(file, "pid {} (started {started})", std::process::id()))
            .and_then(|_| file.flush())
            .map_err(|e| Error::io(&path, e))?;
        // Holding the lock, no other writer runs: what a killed writer left is garbage.
        let removed = self.remove_orphans();
        if removed > 0 {
            tracing::info!(store = %self.dir.display(), removed, "removed files a killed run left");
        }
        Ok(WriterLock { _file: file })
    }

    /// Removes the temporary files and folders of killed runs (`.tmp-*` beside table files,
    /// `.import-*` spill and `.extract-*` archive folders); returns how many. Only called with
    /// the writer lock held.
    fn remove_orphans(&self) -> usize {
        fn is_orphan(name: &str) -> bool {
            [".tmp-", ".import-", ".extract-"]
                .iter()
                .any(|p| name.starts_with(p))
        }
        fn sweep(dir: &Path, depth: usize) -> usize {
            let Ok(entries) = fs::read_dir(dir) else {
                return 0;
            };
            let mut removed = 0;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if is_orphan(&name) {
                    let gone = if kind.is_dir() {
                        fs::remove_dir_all(entry.path())
                    } else {
                        fs::remove_file(entry.path())
                    };
                    removed += usize::from(gone.is_ok());
                } else if kind.is_dir() && depth > 0 && name != "landing" {
                    // TABLE/bucket=NN/: two levels below the store. A collection writes its
                    // landing folder without the lock: never swept.
                    removed += sweep(&entry.path(), depth - 1);
                }
            }
            removed
        }
        sweep(&self.dir, 2)
    }

    /// The manifest (`store.json`).
    pub fn manifest(&self) -> Result<Manifest, Error> {
        Manifest::read(&self.dir)
    }

    /// Where layout 1 kept a table: one file.
    fn v1_path(&self, spec: &TableSpec) -> PathBuf {
        self.dir.join(format!("{}.parquet", spec.name))
    }

    /// The bucket files of a partitioned table, in bucket order.
    pub fn partition_files(&self, spec: &TableSpec) -> Result<Vec<PathBuf>, Error> {
        Ok(self
            .numbered_partition_files(spec)?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    /// How many audit units the store splits into: the smallest bucket count among its
    /// partitioned tables (1 when none is partitioned). Bucket counts are powers of two and a
    /// bucket is the top bits of the account hash, so unit `u` of `n` holds exactly the
    /// accounts whose hash's top `log2(n)` bits are `u`, in every table.
    pub fn audit_units(&self) -> Result<u32, Error> {
        let manifest = self.manifest()?;
        Ok(crate::schema::TABLES
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
        let buckets = self.manifest()?.buckets(spec.name).unwrap_or(1);
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

    /// The bucket files of a partitioned table with their bucket numbers, in bucket order.
    fn numbered_partition_files(&self, spec: &TableSpec) -> Result<Vec<(u32, PathBuf)>, Error> {
        let dir = self.table_path(spec);
        let mut buckets: Vec<(u32, PathBuf)> = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(n) = name
                .strip_prefix("bucket=")
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let file = entry.path().join(PART_FILE);
            if file.is_file() {
                buckets.push((n, file));
            }
        }
        buckets.sort();
        Ok(buckets)
    }

    /// Rewrites a layout-1 table file (`posts.parquet`, `comments.parquet`) as buckets, then
    /// records them in the manifest, then removes the old file: a crash at any point leaves the
    /// old file, and the next open upgrades again from it. Says so on standard error.
    fn upgrade_v1(&self) -> Result<(), Error> {
        let mut upgraded = false;
        for spec in TABLES.iter().copied().filter(|t| is_partitioned(t)) {
            let old = self.v1_path(spec);
            if !old.is_file() {
                continue;
            }
            let at = |e: PolarsError| Error::polars(&old, e);
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
            let table_dir = self.table_path(spec);
            if table_dir.exists() {
                // A partial upgrade of a run that was stopped: start again from the old file.
                fs::remove_dir_all(&table_dir).map_err(|e| Error::io(&table_dir, e))?;
            }
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
                write_spill_file(spec, &slice, &path)?;
                spilled.push(path);
                offset += SPILL_SLICE_ROWS as u64;
            }
            self.write_buckets_from_spills(spec, buckets, &spilled, None)?;
            self.record_table(spec, Some(buckets))?;
            fs::remove_file(&old).map_err(|e| Error::io(&old, e))?;
            upgraded = true;
            eprintln!(
                "{}: upgraded `{}` to store layout {} ({} rows in {buckets} bucket(s) under {}/)",
                self.dir.display(),
                spec.name,
                layout::LAYOUT_VERSION,
                rows,
                spec.name
            );
        }
        if upgraded {
            // The manifest lists every table the store holds, not only the rewritten ones.
            for spec in TABLES.iter().copied().filter(|t| !is_partitioned(t)) {
                if self.table_path(spec).exists() {
                    self.record_table(spec, None)?;
                }
            }
        }
        Ok(())
    }

    /// Writes the rows of a partitioned table's spill files bucket by bucket, merging each with
    /// the stored bucket when `on_bucket` is given (an import) or writing them as they are (an
    /// upgrade, whose rows are already unique). Only buckets with incoming rows are rewritten.
    fn write_buckets_from_spills(
        &self,
        spec: &'static TableSpec,
        buckets: u32,
        spilled: &[PathBuf],
        mut on_bucket: Option<&mut dyn FnMut(Vec<Merged>)>,
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
        for bucket in 0..buckets {
            let (lo, hi) = bucket_hash_range(bucket, buckets);
            let (lo, hi) = (stored_hash(lo), stored_hash(hi));
            let incoming =
                LazyFrame::scan_parquet_files(paths.clone().into(), ScanArgsParquet::default())
                    .map_err(at)?
                    .filter(
                        col(HASH_COL)
                            .gt_eq(lit(lo))
                            .and(col(HASH_COL).lt_eq(lit(hi))),
                    )
                    .drop(cols([HASH_COL]))
                    .collect()
                    .map_err(at)?;
            if incoming.height() == 0 {
                continue;
            }
            let merged = match on_bucket.as_mut() {
                Some(on_bucket) => {
                    let existing = self.read_bucket(spec, bucket, buckets)?;
                    let (merged, outcomes) = merge_frames(spec, existing, incoming).map_err(at)?;
                    on_bucket(outcomes);
                    merged
                }
                None => incoming,
            };
            self.write_bucket(spec, bucket, buckets, &merged)?;
        }
        Ok(())
    }

    fn bucket_file(&self, spec: &TableSpec, bucket: u32, buckets: u32) -> PathBuf {
        bucket_dir(&self.dir, spec.name, bucket, buckets).join(PART_FILE)
    }

    /// A bucket's stored rows (none when it does not exist yet).
    fn read_bucket(&self, spec: &TableSpec, bucket: u32, buckets: u32) -> Result<DataFrame, Error> {
        let path = self.bucket_file(spec, bucket, buckets);
        if !path.exists() {
            return Ok(DataFrame::empty_with_schema(&spec.polars_schema()));
        }
        let file = fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::polars(&path, e))
    }

    /// Writes a bucket atomically in natural-key order.
    fn write_bucket(
        &self,
        spec: &TableSpec,
        bucket: u32,
        buckets: u32,
        df: &DataFrame,
    ) -> Result<(), Error> {
        let path = self.bucket_file(spec, bucket, buckets);
        write_sorted_file(spec, df, &path)
    }

    /// Records a table's rows (and bucket count) in the manifest.
    fn record_table(&self, spec: &TableSpec, buckets: Option<u32>) -> Result<(), Error> {
        let mut manifest = self.manifest()?;
        let rows = self.row_count(spec)? as u64;
        manifest
            .tables
            .insert(spec.name.to_string(), TableEntry { buckets, rows });
        manifest.write(&self.dir)
    }

    /// The bucket count of a partitioned table: the manifest's; for a new table, the count the
    /// store's other partitioned tables already have (one count per store, so that an audit
    /// unit is whole buckets of every table), else one for `rows`.
    fn bucket_count(&self, spec: &TableSpec, rows: u64) -> Result<u32, Error> {
        let manifest = self.manifest()?;
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
        let mut outcomes = Vec::new();
        for (bucket, rows) in rows_of {
            let part = incoming
                .take(&IdxCa::from_vec("rows".into(), rows))
                .map_err(at)?;
            let existing = self.read_bucket(spec, bucket, buckets)?;
            let (merged, bucket_outcomes) = merge_frames(spec, existing, part).map_err(at)?;
            self.write_bucket(spec, bucket, buckets, &merged)?;
            outcomes.extend(bucket_outcomes);
        }
        outcomes.sort_by_key(|m| m.seq);
        self.record_table(spec, Some(buckets))?;
        Ok(outcomes)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A table's file, or for a partitioned table its folder of buckets.
    pub fn table_path(&self, spec: &TableSpec) -> PathBuf {
        if is_partitioned(spec) {
            self.dir.join(spec.name)
        } else {
            self.v1_path(spec)
        }
    }

    /// Reads a whole table, or `None` when the store does not hold it yet.
    pub fn read_table(&self, spec: &TableSpec) -> Result<Option<DataFrame>, Error> {
        if is_partitioned(spec) {
            if self.partition_files(spec)?.is_empty() {
                return Ok(None);
            }
            let path = self.table_path(spec);
            return self
                .scan_table(spec)?
                .collect()
                .map(Some)
                .map_err(|e| Error::polars(&path, e));
        }
        let path = self.table_path(spec);
        if !path.exists() {
            return Ok(None);
        }
        let file = fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let df = ParquetReader::new(file)
            .finish()
            .map_err(|e| Error::polars(&path, e))?;
        Ok(Some(df))
    }

    /// A lazy scan of a table; an empty frame with the canonical schema when it is absent, so
    /// rules never need to special-case a store without comments or menus.
    pub fn scan_table(&self, spec: &TableSpec) -> Result<LazyFrame, Error> {
        let path = self.table_path(spec);
        if is_partitioned(spec) {
            return self.scan_files(spec, &self.partition_files(spec)?);
        }
        if !path.exists() {
            return Ok(DataFrame::empty_with_schema(&spec.polars_schema()).lazy());
        }
        check_parquet_file(&path)?;
        let path_str = path.to_string_lossy().to_string();
        LazyFrame::scan_parquet(
            PlRefPath::new(path_str.as_str()),
            ScanArgsParquet::default(),
        )
        .map_err(|e| Error::polars(&path, e))
    }

    /// A lazy scan of some bucket files of a partitioned table (an empty frame for none).
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

    /// Rows a table holds (0 when the store does not hold it yet), from the file's metadata.
    pub fn row_count(&self, spec: &TableSpec) -> Result<usize, Error> {
        let absent = if is_partitioned(spec) {
            self.partition_files(spec)?.is_empty()
        } else {
            !self.table_path(spec).exists()
        };
        if absent {
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
    /// its natural key and writes the result, holding the whole table in memory. Returns what
    /// each incoming row did, in `SEQ_COL` order.
    ///
    /// A later sighting replaces the earlier values column by column, except that a null never
    /// erases a value (a partial source such as a CSV without counters keeps what a richer one
    /// said); `first_seen`/`last_seen` keep the earliest/latest. A row that leaves the stored
    /// record unchanged is a duplicate.
    pub fn merge(
        &self,
        spec: &'static TableSpec,
        incoming: DataFrame,
    ) -> Result<Vec<Merged>, Error> {
        if is_partitioned(spec) {
            return self.merge_partitioned(spec, incoming);
        }
        let path = self.table_path(spec);
        let existing = self
            .read_table(spec)?
            .unwrap_or_else(|| DataFrame::empty_with_schema(&spec.polars_schema()));
        let (merged, outcomes) =
            merge_frames(spec, existing, incoming).map_err(|e| Error::polars(&path, e))?;
        self.write_sorted_table(spec, &merged)?;
        self.record_table(spec, None)?;
        Ok(outcomes)
    }

    /// Like [`Store::merge`] for imports too large to hold at once: the incoming rows come from
    /// Parquet files (each sorted by key, as [`write_spill_file`] writes them), and the table is
    /// merged one range of its first key column at a time, each range holding about
    /// `range_rows` stored plus incoming rows. `incoming_counts` gives the incoming rows per
    /// first-key value. `on_range` receives the outcomes of each range, in `SEQ_COL` order
    /// within the range. The result is the same table, byte for byte, as [`Store::merge`].
    pub fn merge_in_ranges(
        &self,
        spec: &'static TableSpec,
        incoming_files: &[PathBuf],
        incoming_counts: &HashMap<String, u64>,
        range_rows: usize,
        on_range: &mut dyn FnMut(Vec<Merged>),
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
        let first_key = spec.key[0];
        let mut counts: BTreeMap<String, u64> = incoming_counts
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        if path.exists() {
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
        write_atomic(&path, |file| {
            let to_io = std::io::Error::other;
            let mut writer = RowGroupWriter::new(file, &schema).map_err(to_io)?;
            for (lo, hi) in &ranges {
                let in_range = col(first_key)
                    .gt_eq(lit(lo.as_str()))
                    .and(col(first_key).lt_eq(lit(hi.as_str())));
                let existing = if path.exists() {
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
        self.record_table(spec, None)
    }

    /// Writes a single-file table atomically in natural-key order, so the same content always
    /// gives the same file.
    pub fn write_sorted_table(&self, spec: &TableSpec, df: &DataFrame) -> Result<(), Error> {
        write_sorted_file(spec, df, &self.table_path(spec))
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

    /// Appends JSON lines to a log file in the store atomically, skipping lines already present
    /// (so re-importing the same files does not grow the quarantine).
    pub fn append_lines(&self, file_name: &str, lines: &[String]) -> Result<(), Error> {
        if lines.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(file_name);
        // The existing lines are read one at a time and remembered by a 128-bit hash: a
        // quarantine of millions of lines is never held in memory.
        let hash = |line: &str| -> u128 {
            let digest = blake3::hash(line.as_bytes());
            u128::from_le_bytes(digest.as_bytes()[..16].try_into().expect("16 bytes"))
        };
        let mut seen: std::collections::HashSet<u128> = std::collections::HashSet::new();
        let existing = match fs::File::open(&path) {
            Ok(file) => {
                use std::io::BufRead;
                for line in std::io::BufReader::new(file).lines() {
                    seen.insert(hash(&line.map_err(|e| Error::io(&path, e))?));
                }
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io(&path, e)),
        };
        let fresh: Vec<&String> = lines.iter().filter(|l| seen.insert(hash(l))).collect();
        if fresh.is_empty() {
            return Ok(());
        }
        // The quarantine keeps rejected records as they came, commenters' identities included:
        // owner-only, like the store's key.
        let private = file_name == QUARANTINE_FILE;
        replace_file_with_mode(&path, true, if private { 0o600 } else { 0o644 }, |file| {
            if existing {
                let mut old = fs::File::open(&path)?;
                std::io::copy(&mut old, file)?;
            }
            let mut out = std::io::BufWriter::new(file);
            for line in &fresh {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
            }
            out.flush()
        })
    }
}

/// Rows per row group of a stored table. Fixed, so the same content always gives the same bytes
/// however it was merged, and small enough that reading one key range of a large table skips
/// most of it through the row-group statistics.
pub const ROW_GROUP_ROWS: usize = 1 << 16;

/// What one incoming row did in a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    pub seq: i64,
    pub file: u32,
    pub outcome: Outcome,
}

/// Writes rows as row groups of exactly [`ROW_GROUP_ROWS`] rows (the last one shorter),
/// whatever the sizes of the frames pushed.
struct RowGroupWriter<W: Write> {
    writer: polars::io::parquet::write::BatchedWriter<W>,
    pending: Option<DataFrame>,
}

impl<W: Write> RowGroupWriter<W> {
    fn new(sink: W, schema: &Schema) -> PolarsResult<Self> {
        let writer = ParquetWriter::new(sink)
            .with_compression(ParquetCompression::Zstd(None))
            .batched(schema)?;
        Ok(RowGroupWriter {
            writer,
            pending: None,
        })
    }

    fn push(&mut self, rows: &DataFrame) -> PolarsResult<()> {
        let mut pending = match self.pending.take() {
            None => rows.clone(),
            Some(mut pending) => {
                pending.vstack_mut(rows)?;
                pending
            }
        };
        while pending.height() >= ROW_GROUP_ROWS {
            let mut group = pending.slice(0, ROW_GROUP_ROWS);
            group.rechunk_mut_par();
            self.writer.write_batch(&group)?;
            pending = pending.slice(ROW_GROUP_ROWS as i64, pending.height() - ROW_GROUP_ROWS);
        }
        self.pending = Some(pending);
        Ok(())
    }

    fn finish(mut self) -> PolarsResult<()> {
        if let Some(mut rest) = self.pending.take().filter(|p| p.height() > 0) {
            rest.rechunk_mut_par();
            self.writer.write_batch(&rest)?;
        }
        self.writer.finish()?;
        Ok(())
    }
}

/// Pushes a frame's rows in natural-key order. Rows are gathered through a sort index in
/// batches: the sorted copy of a large frame never exists whole in memory.
fn write_sorted_rows<W: Write>(
    spec: &TableSpec,
    df: &DataFrame,
    writer: &mut RowGroupWriter<W>,
) -> PolarsResult<()> {
    const BATCH_ROWS: usize = 1 << 20;
    let keys: Vec<Expr> = spec.key.iter().map(|k| col(*k)).collect();
    let order = df
        .clone()
        .lazy()
        .with_row_index(ROW_COL, None)
        .select(
            keys.iter()
                .cloned()
                .chain([col(ROW_COL)])
                .collect::<Vec<_>>(),
        )
        .sort_by_exprs(
            keys,
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .select([col(ROW_COL)])
        .collect()?;
    let order = order.column(ROW_COL)?.idx()?;
    let mut offset = 0;
    while offset < order.len() {
        let chunk = order.slice(offset as i64, BATCH_ROWS);
        writer.push(&df.take(&chunk)?)?;
        offset += BATCH_ROWS;
    }
    Ok(())
}

/// Writes rows atomically to a Parquet file in natural-key order, as fixed row groups.
fn write_sorted_file(spec: &TableSpec, df: &DataFrame, path: &Path) -> Result<(), Error> {
    let schema = df.schema().as_ref().clone();
    write_atomic(path, |file| {
        let to_io = std::io::Error::other;
        let mut writer = RowGroupWriter::new(file, &schema).map_err(to_io)?;
        write_sorted_rows(spec, df, &mut writer).map_err(to_io)?;
        writer.finish().map_err(to_io)
    })
}

/// Rows of a large table read at a time when it is rewritten as buckets.
const SPILL_SLICE_ROWS: usize = 1 << 20;

/// Writes incoming rows (with [`FILE_COL`] and [`SEQ_COL`]) to a temporary Parquet file for
/// [`Store::merge_in_ranges`]: sorted by key in small row groups, so each key range reads little
/// of it; for a partitioned table with the account hash first, so each bucket is a range.
/// Returns the rows per first-key value.
pub fn write_spill_file(
    spec: &TableSpec,
    rows: &DataFrame,
    path: &Path,
) -> Result<HashMap<String, u64>, Error> {
    let at = |e: PolarsError| Error::polars(path, e);
    let mut keys: Vec<Expr> = spec.key.iter().map(|k| col(*k)).collect();
    let mut rows_to_write = rows.clone();
    if is_partitioned(spec) {
        let hashes: Vec<i64> = rows
            .column("account_id")
            .and_then(|c| c.str().cloned())
            .map_err(at)?
            .iter()
            .map(|id| stored_hash(layout::account_hash(id.unwrap_or_default())))
            .collect();
        rows_to_write
            .with_column(Column::new(HASH_COL.into(), hashes))
            .map_err(at)?;
        keys.insert(0, col(HASH_COL));
    }
    let mut sorted = rows_to_write
        .lazy()
        .sort_by_exprs(
            keys,
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
        .map_err(at)?;
    let file = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Lz4Raw)
        .with_row_group_size(Some(ROW_GROUP_ROWS / 4))
        .finish(&mut sorted)
        .map_err(at)?;
    Ok(rows_per_key(rows.clone().lazy(), spec.key[0])
        .map_err(at)?
        .into_iter()
        .collect())
}

/// Rows per value of a key column.
fn rows_per_key(rows: LazyFrame, key: &str) -> PolarsResult<Vec<(String, u64)>> {
    let counts = rows
        .group_by([col(key)])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let keys = counts.column(key)?.str()?.clone();
    let ns = counts.column("n")?.u64()?.clone();
    Ok(keys
        .iter()
        .zip(ns.iter())
        .map(|(k, n)| (k.unwrap_or_default().to_string(), n.unwrap_or(0)))
        .collect())
}

/// Cuts the sorted first-key values into inclusive ranges of about `range_rows` rows each; a
/// value with more rows than that is a range of its own.
fn key_ranges(counts: &BTreeMap<String, u64>, range_rows: usize) -> Vec<(String, String)> {
    let mut ranges = Vec::new();
    let mut current: Option<(String, String, u64)> = None;
    for (key, &n) in counts {
        match &mut current {
            Some((_, hi, rows)) if *rows + n <= range_rows as u64 => {
                *hi = key.clone();
                *rows += n;
            }
            _ => {
                if let Some((lo, hi, _)) = current.take() {
                    ranges.push((lo, hi));
                }
                current = Some((key.clone(), key.clone(), n));
            }
        }
    }
    ranges.extend(current.map(|(lo, hi, _)| (lo, hi)));
    ranges
}

/// Checks that a table file is a whole Parquet file (it begins and ends with `PAR1`), so a
/// truncated or corrupt file is named before a scan fails deep inside the engine without naming
/// it.
pub fn check_parquet_file(path: &Path) -> Result<(), Error> {
    use std::io::{Read, Seek, SeekFrom};
    let corrupt = || {
        Error::Input(format!(
            "{}: not a complete Parquet file (it must begin and end with PAR1): the table file is \
             truncated or corrupt; restore it from a backup or import its sources again",
            path.display()
        ))
    };
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len < 12 {
        return Err(corrupt());
    }
    let (mut head, mut tail) = ([0u8; 4], [0u8; 4]);
    file.read_exact(&mut head)
        .and_then(|_| file.seek(SeekFrom::End(-4)))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| Error::io(path, e))?;
    if &head != b"PAR1" || &tail != b"PAR1" {
        return Err(corrupt());
    }
    Ok(())
}

/// Writes a file through a temporary file in the same directory, flushes it to disk and renames
/// it into place: readers see the old file or the whole new one, even after a crash.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    replace_file(path, true, write)
}

/// Like [`write_atomic`] without forcing the data to disk before the rename: for outputs that
/// can be regenerated (report pages and charts), where thousands of flushes would dominate.
pub fn write_replacing(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    replace_file(path, false, write)
}

fn replace_file(
    path: &Path,
    durable: bool,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    replace_file_with_mode(path, durable, 0o644, write)
}

fn replace_file_with_mode(
    path: &Path,
    durable: bool,
    mode: u32,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    // Temporary files are created owner-only; tables and reports are ordinary files, readable
    // by whoever may read the folder (the store's secret key narrows it again itself).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    write(tmp.as_file_mut()).map_err(|e| Error::io(path, e))?;
    if durable {
        tmp.as_file_mut()
            .sync_all()
            .map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

const OLD_SUFFIX: &str = "__old";
const ROW_COL: &str = "__row";
const IN_STATE: &str = "__in_state";
const OCCURRENCE: &str = "__occurrence";

/// Expression merging an incoming column with the stored one, by the column's merge rule.
fn merged_value(column: &str, rule: MergeRule) -> Expr {
    let new = col(column);
    let old = col(format!("{column}{OLD_SUFFIX}"));
    match rule {
        MergeRule::Latest => coalesce(&[new, old]),
        MergeRule::Min => when(
            new.clone()
                .is_not_null()
                .and(old.clone().is_null().or(new.clone().lt(old.clone()))),
        )
        .then(new)
        .otherwise(old),
        MergeRule::Max => when(
            new.clone()
                .is_not_null()
                .and(old.clone().is_null().or(new.clone().gt(old.clone()))),
        )
        .then(new)
        .otherwise(old),
    }
    .alias(column)
}

/// Pure merge of incoming rows into a table; see [`Store::merge`]. The merged table comes back
/// unsorted; [`Store::write_sorted_table`] writes it in natural-key order.
pub fn merge_frames(
    spec: &'static TableSpec,
    existing: DataFrame,
    incoming: DataFrame,
) -> PolarsResult<(DataFrame, Vec<Merged>)> {
    let keys: Vec<Expr> = spec.key.iter().map(|k| col(*k)).collect();
    let value_columns: Vec<&str> = spec
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|c| !spec.is_key(c))
        .collect();
    let canonical: Vec<Expr> = spec.columns.iter().map(|c| col(c.name)).collect();

    // The same key may occur several times in one import (the same post in two files): apply
    // the sightings in order, one round per occurrence. Rows arrive in sequence order from the
    // importer; sort only when they do not.
    let seq = incoming.column(SEQ_COL)?.i64()?;
    let in_order = seq.iter().zip(seq.iter().skip(1)).all(|(a, b)| a <= b);
    let mut incoming = incoming.lazy();
    if !in_order {
        incoming = incoming.sort([SEQ_COL], SortMultipleOptions::default());
    }
    let incoming = incoming
        .with_column(
            col(SEQ_COL)
                .cum_count(false)
                .over(keys.clone())?
                .alias(OCCURRENCE),
        )
        .collect()?;
    let rounds = incoming.column(OCCURRENCE)?.u32()?.max().unwrap_or(0);
    // Fast path, the usual first import: nothing stored yet and every key seen once.
    if existing.height() == 0 && rounds <= 1 {
        let files = incoming.column(FILE_COL)?.u32()?;
        let seqs = incoming.column(SEQ_COL)?.i64()?;
        let outcomes = files
            .iter()
            .zip(seqs.iter())
            .map(|(file, seq)| Merged {
                seq: seq.unwrap_or(0),
                file: file.unwrap_or(0),
                outcome: Outcome::New,
            })
            .collect();
        let state = incoming.lazy().select(canonical).collect()?;
        return Ok((state, outcomes));
    }

    let mut state = existing.lazy().select(canonical.clone()).collect()?;
    let mut outcomes: Vec<Merged> = Vec::with_capacity(incoming.height());
    let hasher = || Some(PlSeedableRandomStateQuality::fixed());

    for round in 1..=rounds {
        let batch = if rounds == 1 {
            incoming.clone().lazy()
        } else {
            incoming
                .clone()
                .lazy()
                .filter(col(OCCURRENCE).eq(lit(round)))
        };
        let batch = batch.select(
            canonical
                .iter()
                .cloned()
                .chain([col(FILE_COL), col(SEQ_COL)])
                .collect::<Vec<_>>(),
        );
        let stored = state.clone().lazy().with_column(lit(true).alias(IN_STATE));
        let joined = batch
            .join(
                stored,
                keys.clone(),
                keys.clone(),
                JoinArgs::new(JoinType::Left)
                    .with_suffix(Some(PlSmallStr::from_static(OLD_SUFFIX))),
            )
            .collect()?;

        let merged_exprs: Vec<Expr> = spec
            .columns
            .iter()
            .map(|c| {
                if spec.is_key(c.name) {
                    col(c.name)
                } else {
                    merged_value(c.name, spec.merge_rule(c.name))
                }
            })
            .collect();
        let merged = joined.clone().lazy().select(merged_exprs).collect()?;

        let mut merged_values = merged.select(value_columns.iter().copied())?;
        let mut old_values = joined
            .clone()
            .lazy()
            .select(
                value_columns
                    .iter()
                    .map(|c| col(format!("{c}{OLD_SUFFIX}")).alias(*c))
                    .collect::<Vec<_>>(),
            )
            .collect()?;
        let merged_hash = merged_values.hash_rows(hasher())?;
        let old_hash = old_values.hash_rows(hasher())?;
        let in_state = joined.column(IN_STATE)?.bool()?;
        let files = joined.column(FILE_COL)?.u32()?;
        let seqs = joined.column(SEQ_COL)?.i64()?;
        for i in 0..joined.height() {
            let outcome = if in_state.get(i).is_none() {
                Outcome::New
            } else if merged_hash.get(i) == old_hash.get(i) {
                Outcome::Duplicate
            } else {
                Outcome::Updated
            };
            outcomes.push(Merged {
                seq: seqs.get(i).unwrap_or(0),
                file: files.get(i).unwrap_or(0),
                outcome,
            });
        }

        let untouched = state.lazy().join(
            merged.clone().lazy().select(keys.clone()),
            keys.clone(),
            keys.clone(),
            JoinArgs::new(JoinType::Anti),
        );
        state = concat([untouched, merged.lazy()], UnionArgs::default())?.collect()?;
    }

    outcomes.sort_by_key(|m| m.seq);
    Ok((state, outcomes))
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
        fs::write(bucket.join("part-0.parquet"), b"keep").unwrap();
        fs::create_dir_all(dir.path().join(".import-xyz")).unwrap();
        fs::write(dir.path().join(".import-xyz").join("spill.parquet"), b"x").unwrap();
        fs::create_dir_all(dir.path().join(".extract-1")).unwrap();
        fs::write(dir.path().join(".tmp-store.json"), b"x").unwrap();
        fs::write(dir.path().join("accounts.parquet"), b"keep").unwrap();
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
            ["accounts.parquet", "part-0.parquet", "posts", "writer.lock"],
            "{left:?}"
        );
    }

    #[test]
    fn quarantine_lines_are_appended_once_and_the_file_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let lines: Vec<String> = (0..1000).map(|i| format!("{{\"line\":{i}}}")).collect();
        store.append_lines(QUARANTINE_FILE, &lines[..600]).unwrap();
        store.append_lines(QUARANTINE_FILE, &lines[400..]).unwrap();
        store.append_lines(QUARANTINE_FILE, &lines).unwrap();
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
            store.append_lines(IMPORT_LOG_FILE, &lines[..1]).unwrap();
            let log = fs::metadata(dir.path().join(IMPORT_LOG_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(log & 0o777, 0o644, "the import log holds no records");
        }
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
