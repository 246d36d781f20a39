//! Transactions: one writer at a time, all-or-nothing commits, readers pinned to a generation,
//! and the clean-up of what killed runs and superseded generations leave.
//!
//! The model is a table format's commit protocol (Delta Lake, Apache Iceberg): data files
//! first, under names no reader knows yet, then one atomic swap of the manifest. Who may do
//! what is settled by two OS file locks (released by the OS however a process ends):
//!
//! - `writer.lock`, exclusive: held by the one writer for its whole transaction;
//! - `readers.lock`, shared by every reader for as long as it reads; a writer that can take it
//!   exclusively knows no reader needs any file the current manifest does not list, and removes
//!   them.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, Seek, Write};
use std::path::{Path, PathBuf};

use super::Store;
use crate::Error;
use crate::layout::{LAYOUT_VERSION, MANIFEST_FILE};
use crate::schema::{TABLES, TableSpec};

/// The append-only logs of a store.
const LOGS: [&str; 2] = [super::QUARANTINE_FILE, super::IMPORT_LOG_FILE];

/// The file whose OS lock makes a store's writers take turns.
pub const WRITER_LOCK_FILE: &str = "writer.lock";
/// The file readers lock (shared) while they read a generation.
pub const READERS_LOCK_FILE: &str = "readers.lock";

/// One writer at a time: an exclusive OS lock on `writer.lock` (flock on Unix, LockFileEx on
/// Windows), held while this value lives and released by the OS when the process ends, however
/// it ends (a `kill -9` leaves no stale lock). The file names the holder for the next writer.
#[derive(Debug)]
pub struct WriterLock {
    _file: fs::File,
}

/// A reader's shared lock on `readers.lock`. When the last reader lets go and no writer is at
/// work, it removes the files the generations it kept alive no longer need.
#[derive(Debug)]
pub(crate) struct ReadPin {
    file: Option<fs::File>,
    dir: PathBuf,
}

impl ReadPin {
    /// Takes a shared lock on the store's `readers.lock`; `None` when the store is read-only
    /// to this user (no writer of its own can remove anything then either, but another user's
    /// could: said on standard error).
    pub(crate) fn take(dir: &Path) -> Result<Option<ReadPin>, Error> {
        let path = dir.join(READERS_LOCK_FILE);
        let file = match fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                tracing::warn!(
                    store = %dir.display(),
                    "cannot lock {READERS_LOCK_FILE} (read-only): an import committing while this \
                     runs may remove files it reads"
                );
                return Ok(None);
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        file.lock_shared().map_err(|e| Error::io(&path, e))?;
        Ok(Some(ReadPin {
            file: Some(file),
            dir: dir.to_path_buf(),
        }))
    }
}

impl Drop for ReadPin {
    fn drop(&mut self) {
        drop(self.file.take());
        // Last one out: with no writer at work, clear what superseded generations left.
        let Ok(writer) = open_lock_file(&self.dir.join(WRITER_LOCK_FILE)) else {
            return;
        };
        if writer.try_lock().is_ok()
            && let Ok(store) = Store::at(self.dir.clone(), 1)
        {
            store.collect_garbage();
        }
    }
}

fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// A change to the store under way: staged files and log lines become the store's next
/// generation at [`Transaction::commit`]; dropped without a commit, none of it ever was.
#[derive(Debug)]
pub struct Transaction<'s> {
    store: &'s Store,
    _lock: WriterLock,
    open: bool,
}

impl Store {
    /// Starts a transaction: takes the writer lock (see [`Store::lock_writer`]).
    pub fn begin(&self, wait: bool) -> Result<Transaction<'_>, Error> {
        let lock = self.lock_writer(wait)?;
        Ok(Transaction {
            store: self,
            _lock: lock,
            open: true,
        })
    }

    /// Takes the store's writer lock. When another process holds it: with `wait`, waits for
    /// it; without, an error naming the holder (its pid and when it started). Holding it, the
    /// handle reads the latest generation, the logs lose what a killed writer appended after
    /// its last commit, and files killed or superseded runs left are removed.
    pub fn lock_writer(&self, wait: bool) -> Result<WriterLock, Error> {
        let path = self.dir.join(WRITER_LOCK_FILE);
        let mut file = open_lock_file(&path).map_err(|e| Error::io(&path, e))?;
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
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        file.set_len(0)
            .and_then(|_| file.seek(std::io::SeekFrom::Start(0)))
            .and_then(|_| write!(file, "pid {} (started {started})", std::process::id()))
            .and_then(|_| file.flush())
            .map_err(|e| Error::io(&path, e))?;
        // Another writer may have committed since this handle was opened.
        self.reload()?;
        self.cut_uncommitted_log_lines()?;
        let removed = self.remove_temporary_files() + self.collect_garbage();
        if removed > 0 {
            tracing::info!(store = %self.dir.display(), removed, "removed files killed or superseded runs left");
        }
        Ok(WriterLock { _file: file })
    }

    /// Removes the temporary files and folders of killed runs (`.tmp-*` beside table files,
    /// `.import-*` spill, `.extract-*` archive and `.upgrade-*` folders); returns how many. Only
    /// called with the writer lock held.
    fn remove_temporary_files(&self) -> usize {
        fn is_temporary(name: &str) -> bool {
            [".tmp-", ".import-", ".extract-", ".upgrade-"]
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
                if is_temporary(&name) {
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

    /// Removes the table files the committed manifest does not list (files of superseded
    /// generations, files a killed writer wrote before its commit, layout-2 files after an
    /// upgrade), when no reader is reading: a reader's generation may still need them. Returns
    /// how many were removed.
    pub(super) fn collect_garbage(&self) -> usize {
        let Ok(readers) = open_lock_file(&self.dir.join(READERS_LOCK_FILE)) else {
            return 0;
        };
        if readers.try_lock().is_err() {
            return 0;
        }
        let Ok(Some(manifest)) = crate::layout::Manifest::read_if_present(&self.dir) else {
            return 0;
        };
        if manifest.layout_version < LAYOUT_VERSION {
            return 0;
        }
        let listed: HashSet<PathBuf> = manifest.files().map(|f| self.dir.join(f)).collect();
        let mut removed = 0;
        let mut remove = |path: &Path| {
            if crate::fault::step("removing a superseded file").is_ok()
                && fs::remove_file(path).is_ok()
            {
                removed += 1;
            }
        };
        for spec in TABLES.iter().copied() {
            let old = self.v1_path(spec);
            if old.is_file() {
                remove(&old);
            }
            for file in parquet_files_under(&self.table_path(spec), 1) {
                if !listed.contains(&file) {
                    remove(&file);
                }
            }
        }
        removed
    }

    /// Cuts each log back to its committed length: lines a writer appended and then did not
    /// commit (it was killed, or failed) are not part of the store.
    fn cut_uncommitted_log_lines(&self) -> Result<(), Error> {
        let view = self.view().clone();
        if view.layout_version < LAYOUT_VERSION {
            // Older layouts recorded no lengths: their logs are whole as they are (the upgrade
            // records them).
            return Ok(());
        }
        for name in LOGS {
            // A log the manifest has no length for was never committed.
            let committed = view.logs.get(name).copied().unwrap_or(0);
            let path = self.dir.join(name);
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            if meta.len() > committed {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                file.set_len(committed)
                    .and_then(|_| file.sync_all())
                    .map_err(|e| Error::io(&path, e))?;
                tracing::info!(log = %path.display(), "removed lines a stopped run appended");
            }
        }
        Ok(())
    }

    /// Appends lines to a log in the store (skipping lines it already holds, so re-importing
    /// the same files does not grow the quarantine), staging its new length. Existing lines are
    /// read one at a time and remembered by a 128-bit hash: a quarantine of millions of lines is
    /// never held in memory, and nothing is rewritten.
    fn append_log_lines(
        &self,
        file_name: &str,
        lines: &mut dyn Iterator<Item = Result<String, Error>>,
    ) -> Result<u64, Error> {
        let path = self.dir.join(file_name);
        let hash = |line: &str| -> u128 {
            let digest = blake3::hash(line.as_bytes());
            u128::from_le_bytes(digest.as_bytes()[..16].try_into().expect("16 bytes"))
        };
        let mut seen: HashSet<u128> = HashSet::new();
        match fs::File::open(&path) {
            Ok(file) => {
                for line in std::io::BufReader::new(file).lines() {
                    seen.insert(hash(&line.map_err(|e| Error::io(&path, e))?));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        // The quarantine keeps rejected records as they came, commenters' identities included:
        // owner-only, like the store's key.
        let mode = if file_name == super::QUARANTINE_FILE {
            0o600
        } else {
            0o644
        };
        let mut options = fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        let file = options.open(&path).map_err(|e| Error::io(&path, e))?;
        #[cfg(unix)]
        {
            // A file an older version created more open.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io(&path, e))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut out = std::io::BufWriter::new(file);
        let mut appended = 0u64;
        for line in lines {
            let line = line?;
            if !seen.insert(hash(&line)) {
                continue;
            }
            if appended == 0 {
                crate::fault::step("appending to a log").map_err(|e| Error::io(&path, e))?;
            }
            out.write_all(line.as_bytes())
                .and_then(|_| out.write_all(b"\n"))
                .map_err(|e| Error::io(&path, e))?;
            appended += 1;
        }
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        let length = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        self.view().logs.insert(file_name.to_string(), length);
        Ok(appended)
    }
}

impl<'s> Transaction<'s> {
    /// The store being written; what it reads includes this transaction's staged changes.
    pub fn store(&self) -> &'s Store {
        self.store
    }

    /// Merges incoming rows into a table; see [`Store::merge`].
    pub fn merge(
        &self,
        spec: &'static TableSpec,
        incoming: polars::prelude::DataFrame,
    ) -> Result<Vec<super::Merged>, Error> {
        self.store.merge(spec, incoming)
    }

    /// Merges spilled incoming rows into a table range by range; see
    /// [`Store::merge_in_ranges`].
    pub fn merge_in_ranges(
        &self,
        spec: &'static TableSpec,
        incoming_files: &[PathBuf],
        incoming_counts: &std::collections::HashMap<String, u64>,
        range_rows: usize,
        on_range: &mut (dyn FnMut(Vec<super::Merged>) + Send),
    ) -> Result<(), Error> {
        self.store
            .merge_in_ranges(spec, incoming_files, incoming_counts, range_rows, on_range)
    }

    /// Appends lines to a log of the store, skipping lines it holds already; returns how many
    /// were appended.
    pub fn append_lines(&self, file_name: &str, lines: &[String]) -> Result<u64, Error> {
        self.store
            .append_log_lines(file_name, &mut lines.iter().map(|l| Ok(l.clone())))
    }

    /// Appends the lines of a file (a spill of JSON lines) to a log of the store.
    pub fn append_lines_from(&self, file_name: &str, source: &Path) -> Result<u64, Error> {
        let file = fs::File::open(source).map_err(|e| Error::io(source, e))?;
        let mut lines = std::io::BufReader::new(file)
            .lines()
            .map(|l| l.map_err(|e| Error::io(source, e)));
        self.store.append_log_lines(file_name, &mut lines)
    }

    /// Commits: flushes the folders of the new files, then replaces `store.json` with the
    /// staged manifest as the next generation in one rename. Returns the generation. Files no
    /// reader needs any more are then removed.
    pub fn commit(mut self) -> Result<u64, Error> {
        let store = self.store;
        let mut manifest = store.view().clone();
        manifest.generation += 1;
        manifest.layout_version = LAYOUT_VERSION;
        manifest.committed_at =
            Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        for name in LOGS {
            // A log of an older layout, whole as it is: from now on its length is recorded.
            if !manifest.logs.contains_key(name)
                && let Ok(meta) = fs::metadata(store.dir.join(name))
            {
                manifest.logs.insert(name.to_string(), meta.len());
            }
        }
        let new_name = crate::layout::part_file(manifest.generation);
        let mut folders: Vec<PathBuf> = manifest
            .files()
            .filter(|f| f.ends_with(&new_name))
            .filter_map(|f| store.dir.join(f).parent().map(Path::to_path_buf))
            .collect();
        folders.sort();
        folders.dedup();
        for folder in &folders {
            super::sync_dir(folder)?;
        }
        crate::fault::step("committing the manifest")
            .map_err(|e| Error::io(&store.dir.join(MANIFEST_FILE), e))?;
        manifest.write(&store.dir)?;
        *store.view() = manifest.clone();
        self.open = false;
        // Committed: what follows is clean-up, and nothing that fails in it undoes the commit.
        let _ = crate::fault::step("after the commit");
        store.collect_garbage();
        Ok(manifest.generation)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // Not committed: the handle goes back to reading the committed generation. What
            // was written is removed by the next writer.
            let _ = self.store.reload();
        }
    }
}

/// The `.parquet` files in a folder and, `depth` levels down, in its subfolders.
pub(super) fn parquet_files_under(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth > 0 {
            files.extend(parquet_files_under(&path, depth - 1));
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "parquet") {
            files.push(path);
        }
    }
    files
}
