//! A per-account table of a national audit that is not gathered in memory: each audit unit's
//! rows (sorted within the unit, the account first) are appended to one Parquet file as the
//! unit's turn comes, in unit order, compressed as a report file is. The post labels (millions
//! of rows, with their reasons) are such a table: held whole they were the largest thing a
//! national audit kept.
//!
//! The file is the report's `post_categories.parquet` as it is: the report copies it into place
//! instead of reading it back. Its rows are grouped by audit unit (a store bucket), accounts in
//! id order within each. Putting the whole file in account order meant decoding, reordering
//! and encoding again every row (4.5 s of a 200,000-account report, beside 3 s to spill the
//! units' files); a table small enough to hold is read back whole and sorted
//! ([`UnitTable::collect`]).

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use govmedia_collectors::store::RowGroupWriter;
use polars::prelude::*;

use crate::Error;

/// A table gathered from the audit units: in memory (one unit, or a small audit), or in a file.
pub enum UnitTable {
    Frame(DataFrame),
    File(UnitFile),
}

/// The units' rows in one Parquet file, unit after unit.
pub struct UnitFile {
    /// Removed (with the file) when the table is dropped.
    _dir: tempfile::TempDir,
    path: PathBuf,
    rows: usize,
    empty: DataFrame,
    /// The columns [`UnitTable::collect`] sorts by.
    keys: Vec<String>,
}

impl UnitFile {
    /// The file: Parquet, compressed as a report's files are, in row groups of
    /// [`govmedia_collectors::store::ROW_GROUP_ROWS`], units in order.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl UnitTable {
    pub fn height(&self) -> usize {
        match self {
            UnitTable::Frame(df) => df.height(),
            UnitTable::File(file) => file.rows,
        }
    }

    /// The table's columns.
    pub fn schema(&self) -> SchemaRef {
        match self {
            UnitTable::Frame(df) => df.schema().clone(),
            UnitTable::File(file) => file.empty.schema().clone(),
        }
    }

    /// The whole table in memory, in key order (the account first).
    pub fn collect(&self) -> Result<DataFrame, Error> {
        match self {
            UnitTable::Frame(df) => Ok(df.clone()),
            UnitTable::File(file) => {
                let open = std::fs::File::open(&file.path)
                    .map_err(|e| govmedia_collectors::Error::io(&file.path, e))?;
                let all = ParquetReader::new(open).finish()?;
                let keys: Vec<&str> = file.keys.iter().map(String::as_str).collect();
                crate::engine::sorted(all, &keys)
            }
        }
    }
}

/// Where the units of one audit put a table's rows, filled as units finish (from any thread).
pub struct UnitSpill {
    dir: tempfile::TempDir,
    path: PathBuf,
    units: usize,
    state: Mutex<SpillState>,
}

type SpillWriter = RowGroupWriter<BufWriter<std::fs::File>>;

#[derive(Default)]
struct SpillState {
    /// Opened with the first unit's columns; taken out by the thread writing.
    writer: Option<SpillWriter>,
    /// The unit whose rows are written next.
    next: usize,
    /// Units finished before their turn (units run side by side, so a few at most).
    waiting: BTreeMap<usize, DataFrame>,
    rows: usize,
    empty: Option<DataFrame>,
    /// Whether a thread is writing units' rows now (outside the lock).
    writing: bool,
    /// Why writing failed: every later call says so.
    failed: Option<String>,
}

/// The temporary folders of label spills: `govmedia-units-<pid>-…` in the system's temporary
/// directory. A killed audit leaves its folder behind (a national audit's post labels are tens of
/// MB); the next audit removes the folders whose process is gone.
pub const UNIT_SPILL_PREFIX: &str = "govmedia-units-";

impl UnitSpill {
    /// A spill for `units` units in a new folder of the system's temporary directory.
    pub fn new(units: usize) -> Result<UnitSpill, Error> {
        // The process id in the name tells a later audit whether the folder's run is gone
        // (killed), so that it can remove it: `UNIT_SPILL_PREFIX`.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{UNIT_SPILL_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| govmedia_collectors::Error::io(&std::env::temp_dir(), e))?;
        let path = dir.path().join("units.parquet");
        Ok(UnitSpill {
            dir,
            path,
            units,
            state: Mutex::new(SpillState::default()),
        })
    }

    /// Hands over unit `unit`'s rows (sorted by account first): written when it is the unit's
    /// turn, else kept until the units before it are written.
    ///
    /// The rows are written outside the lock, by the thread whose unit's turn came, which also
    /// writes the units handed over meanwhile; another thread only queues its rows and goes on.
    /// Writing under the lock kept the other unit threads waiting for a row group's encoding
    /// (a fraction of a second, several times in a national audit), a core idle.
    pub fn put(&self, unit: usize, rows: &DataFrame) -> Result<(), Error> {
        let mut state = self.lock();
        if unit < state.next || state.waiting.contains_key(&unit) || unit >= self.units {
            return Err(Error::Config(format!(
                "audit unit {unit} handed over its rows twice, or is not a unit"
            )));
        }
        if let Some(why) = &state.failed {
            return Err(Error::Config(format!(
                "the audit units' rows could not be written: {why}"
            )));
        }
        state.waiting.insert(unit, rows.clone());
        if state.writing {
            return Ok(());
        }
        state.writing = true;
        let mut writer = state.writer.take();
        loop {
            let next = state.next;
            let Some(rows) = state.waiting.remove(&next) else {
                break;
            };
            state.next += 1;
            state.rows += rows.height();
            if state.empty.is_none() {
                state.empty = Some(rows.clear());
            }
            drop(state);
            let written = self.write(&mut writer, &rows);
            state = self.lock();
            if let Err(e) = written {
                state.failed = Some(e.to_string());
                state.writing = false;
                return Err(e);
            }
        }
        state.writer = writer;
        state.writing = false;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SpillState> {
        // A thread that panicked while holding the lock left the state whole (it writes
        // outside the lock).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a unit's rows to the file, made with the first unit's columns.
    fn write(&self, writer: &mut Option<SpillWriter>, rows: &DataFrame) -> Result<(), Error> {
        let writer = match writer {
            Some(writer) => writer,
            None => {
                let file = std::fs::File::create(&self.path)
                    .map_err(|e| govmedia_collectors::Error::io(&self.path, e))?;
                writer.insert(RowGroupWriter::for_report(
                    BufWriter::with_capacity(1 << 20, file),
                    rows.schema(),
                )?)
            }
        };
        writer.push(rows)?;
        Ok(())
    }

    /// The table, once every unit has handed over its rows; [`UnitTable::collect`] sorts by
    /// `keys`.
    pub fn finish(self, keys: &[&str]) -> Result<UnitTable, Error> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(why) = state.failed {
            return Err(Error::Config(format!(
                "the audit units' rows could not be written: {why}"
            )));
        }
        if state.next < self.units {
            return Err(Error::Config(format!(
                "audit unit {} did not hand over its rows",
                state.next
            )));
        }
        let Some(writer) = state.writer else {
            // No unit at all.
            return Ok(UnitTable::Frame(DataFrame::empty()));
        };
        writer.finish()?;
        Ok(UnitTable::File(UnitFile {
            _dir: self.dir,
            path: self.path,
            rows: state.rows,
            empty: state.empty.unwrap_or_default(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(accounts: &[(&str, i64)]) -> DataFrame {
        df!(
            "account_id" => accounts.iter().map(|a| a.0).collect::<Vec<_>>(),
            "n" => accounts.iter().map(|a| a.1).collect::<Vec<_>>(),
            "text" => accounts.iter().map(|a| format!("{}-{}", a.0, a.1)).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn stacked(units: &[DataFrame]) -> DataFrame {
        let mut all = units[0].clone();
        for unit in &units[1..] {
            all.vstack_mut(unit).unwrap();
        }
        all
    }

    #[test]
    fn units_finishing_in_any_order_are_written_in_unit_order_and_collect_sorts() {
        let units = [
            rows(&[("a", 1), ("a", 2), ("d", 1), ("g", 1), ("g", 2), ("g", 3)]),
            rows(&[("b", 1), ("e", 1), ("e", 2)]),
            rows(&[]).clear(),
            rows(&[("c", 1), ("f", 1), ("h", 1), ("h", 2)]),
        ];
        for order in [[3, 1, 0, 2], [0, 1, 2, 3], [2, 3, 1, 0]] {
            let spill = UnitSpill::new(units.len()).unwrap();
            for i in order {
                spill.put(i, &units[i]).unwrap();
            }
            let table = spill.finish(&["account_id", "n"]).unwrap();
            let UnitTable::File(file) = &table else {
                panic!("a spilled table is a file")
            };
            assert_eq!(table.height(), 13);
            let written = ParquetReader::new(std::fs::File::open(file.path()).unwrap())
                .finish()
                .unwrap();
            assert!(written.equals(&stacked(&units)), "{order:?}: {written}");
            let sorted = stacked(&units)
                .sort(["account_id", "n"], SortMultipleOptions::default())
                .unwrap();
            assert!(table.collect().unwrap().equals(&sorted));
        }
    }

    /// Units handed over from several threads at once, in any order, are written whole and
    /// in unit order, whichever thread writes them.
    #[test]
    fn units_handed_over_from_threads_at_once_are_written_in_unit_order() {
        let units: Vec<DataFrame> = (0..24)
            .map(|u| {
                let ids: Vec<String> = (0..(u % 5) + 1).map(|r| format!("u{u:02}-{r}")).collect();
                let ids: Vec<(&str, i64)> = ids
                    .iter()
                    .enumerate()
                    .map(|(r, id)| (id.as_str(), r as i64))
                    .collect();
                rows(&ids)
            })
            .collect();
        for _ in 0..5 {
            let spill = UnitSpill::new(units.len()).unwrap();
            std::thread::scope(|scope| {
                for thread in 0..4 {
                    let (spill, units) = (&spill, &units);
                    scope.spawn(move || {
                        // Thread t hands over units t, t+4, ... from the last one down.
                        for u in (thread..units.len()).step_by(4).rev() {
                            spill.put(u, &units[u]).unwrap();
                        }
                    });
                }
            });
            let table = spill.finish(&["account_id"]).unwrap();
            let UnitTable::File(file) = &table else {
                panic!("a spilled table is a file")
            };
            let written = ParquetReader::new(std::fs::File::open(file.path()).unwrap())
                .finish()
                .unwrap();
            assert!(written.equals(&stacked(&units)), "{written}");
        }
    }

    /// A file that cannot be written fails the unit that writes, every later hand-over and the
    /// finish, each saying why.
    #[test]
    fn a_spill_that_cannot_write_says_so_to_every_later_call() {
        let spill = UnitSpill::new(3).unwrap();
        // A folder where the file goes: it cannot be created.
        std::fs::create_dir(&spill.path).unwrap();
        spill.put(1, &rows(&[("b", 1)])).unwrap();
        let first = spill.put(0, &rows(&[("a", 1)])).unwrap_err().to_string();
        assert!(first.contains("units.parquet"), "{first}");
        let later = spill.put(2, &rows(&[("c", 1)])).unwrap_err().to_string();
        assert!(later.contains("could not be written"), "{later}");
        let finish = spill.finish(&["account_id"]).err().unwrap().to_string();
        assert!(finish.contains("could not be written"), "{finish}");
    }

    #[test]
    fn a_unit_that_never_hands_over_or_hands_over_twice_is_an_error() {
        let spill = UnitSpill::new(2).unwrap();
        spill.put(1, &rows(&[("b", 1)])).unwrap();
        assert!(spill.put(1, &rows(&[("b", 1)])).is_err());
        assert!(spill.put(2, &rows(&[("c", 1)])).is_err());
        assert!(spill.finish(&["account_id"]).is_err());
        let spill = UnitSpill::new(1).unwrap();
        spill.put(0, &rows(&[("a", 1)])).unwrap();
        assert!(spill.put(0, &rows(&[("a", 1)])).is_err());
    }
}
