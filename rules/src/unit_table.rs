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

#[derive(Default)]
struct SpillState {
    /// Opened with the first unit's columns.
    writer: Option<RowGroupWriter<BufWriter<std::fs::File>>>,
    /// The unit whose rows are written next.
    next: usize,
    /// Units finished before their turn (units run side by side, so a few at most).
    waiting: BTreeMap<usize, DataFrame>,
    rows: usize,
    empty: Option<DataFrame>,
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

    /// Hands over unit `unit`'s rows (sorted by account first): written at once when it is the
    /// unit's turn, else kept until the units before it are written.
    pub fn put(&self, unit: usize, rows: &DataFrame) -> Result<(), Error> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *guard;
        if unit < state.next || state.waiting.contains_key(&unit) || unit >= self.units {
            return Err(Error::Config(format!(
                "audit unit {unit} handed over its rows twice, or is not a unit"
            )));
        }
        state.waiting.insert(unit, rows.clone());
        while let Some(rows) = state.waiting.remove(&state.next) {
            if state.writer.is_none() {
                let file = std::fs::File::create(&self.path)
                    .map_err(|e| govmedia_collectors::Error::io(&self.path, e))?;
                state.writer = Some(RowGroupWriter::for_report(
                    BufWriter::with_capacity(1 << 20, file),
                    rows.schema(),
                )?);
                state.empty = Some(rows.clear());
            }
            if let Some(writer) = state.writer.as_mut() {
                writer.push(&rows)?;
            }
            state.rows += rows.height();
            state.next += 1;
        }
        Ok(())
    }

    /// The table, once every unit has handed over its rows; [`UnitTable::collect`] sorts by
    /// `keys`.
    pub fn finish(self, keys: &[&str]) -> Result<UnitTable, Error> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
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
