//! A per-account table of a national audit that is not gathered in memory: each audit unit's
//! rows (sorted within the unit, the account first) go to a Parquet file as the unit finishes,
//! and are read back in account order a window at a time. Units hold disjoint accounts, so the
//! rows of one account are one run of one unit's file, and each window takes a contiguous range
//! of every file. The post labels (millions of rows, with their reasons) are such a table: held
//! whole they were the largest thing a national audit kept.

use std::path::{Path, PathBuf};

use govmedia_collectors::store::{RowGroupWriter, write_atomic};
use polars::prelude::*;

use crate::Error;

/// Rows read back at a time.
pub const WINDOW_ROWS: usize = 1 << 19;

/// A table gathered from the audit units: in memory (one unit, or a small audit), or in the
/// units' files.
pub enum UnitTable {
    Frame(DataFrame),
    Files(UnitFiles),
}

/// One account's rows: a run of one unit's file.
struct Run {
    account: String,
    unit: usize,
    start: usize,
    rows: usize,
}

/// The units' files of a table, with every account's run in account order.
pub struct UnitFiles {
    /// Removed (with the files) when the table is dropped.
    _dir: tempfile::TempDir,
    files: Vec<PathBuf>,
    runs: Vec<Run>,
    empty: DataFrame,
    rows: usize,
    /// Rows read back at a time ([`WINDOW_ROWS`]; smaller in tests).
    window_rows: usize,
}

impl UnitTable {
    pub fn height(&self) -> usize {
        match self {
            UnitTable::Frame(df) => df.height(),
            UnitTable::Files(files) => files.rows,
        }
    }

    /// The table's columns.
    pub fn schema(&self) -> SchemaRef {
        match self {
            UnitTable::Frame(df) => df.schema().clone(),
            UnitTable::Files(files) => files.empty.schema().clone(),
        }
    }

    /// The rows in order, at most about [`WINDOW_ROWS`] at a time (an account is never split).
    pub fn for_each_window(
        &self,
        mut each: impl FnMut(DataFrame) -> Result<(), Error>,
    ) -> Result<(), Error> {
        match self {
            UnitTable::Frame(df) => {
                let mut offset = 0;
                while offset < df.height() {
                    let window = df.slice(offset as i64, WINDOW_ROWS);
                    offset += window.height();
                    each(window)?;
                }
                Ok(())
            }
            UnitTable::Files(files) => files.for_each_window(each),
        }
    }

    /// The whole table in memory.
    pub fn collect(&self) -> Result<DataFrame, Error> {
        match self {
            UnitTable::Frame(df) => Ok(df.clone()),
            UnitTable::Files(files) => {
                let mut all = files.empty.clone();
                files.for_each_window(|window| {
                    all.vstack_mut_owned(window)?;
                    Ok(())
                })?;
                all.rechunk_mut_par();
                Ok(all)
            }
        }
    }
}

/// Where the units of one audit put a table's rows, filled as units finish (from any thread).
pub struct UnitSpill {
    dir: tempfile::TempDir,
    /// Per unit: its file and its accounts' runs (account, first row, rows), or its rows kept
    /// when they could not be cut into runs (an account without an id).
    units: std::sync::Mutex<Vec<Option<SpilledUnit>>>,
    /// The table's columns, from the first unit handed over.
    empty: std::sync::Mutex<Option<DataFrame>>,
}

struct SpilledUnit {
    file: PathBuf,
    runs: Vec<(String, usize, usize)>,
    rows: usize,
}

impl UnitSpill {
    /// A spill for `units` units in a new folder of the system's temporary directory.
    pub fn new(units: usize) -> Result<UnitSpill, Error> {
        let dir = tempfile::Builder::new()
            .prefix("govmedia-units-")
            .tempdir()
            .map_err(|e| govmedia_collectors::Error::io(&std::env::temp_dir(), e))?;
        Ok(UnitSpill {
            dir,
            units: std::sync::Mutex::new((0..units).map(|_| None).collect()),
            empty: std::sync::Mutex::new(None),
        })
    }

    /// Writes unit `unit`'s rows (sorted by account first) to its file.
    pub fn put(&self, unit: usize, rows: &DataFrame) -> Result<(), Error> {
        let file = self.dir.path().join(format!("unit-{unit:05}.parquet"));
        let mut runs: Vec<(String, usize, usize)> = Vec::new();
        let accounts = rows.column("account_id")?.str()?;
        for (i, account) in accounts.iter().enumerate() {
            let account = account.unwrap_or_default();
            match runs.last_mut() {
                Some(run) if run.0 == account => run.2 += 1,
                _ => runs.push((account.to_string(), i, 1)),
            }
        }
        write_unit_file(rows, &file)?;
        self.empty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(|| rows.clear());
        let mut units = self.units.lock().unwrap_or_else(|e| e.into_inner());
        units[unit] = Some(SpilledUnit {
            file,
            runs,
            rows: rows.height(),
        });
        Ok(())
    }

    /// The table, in account order. Should an account have rows in two units, or no id, the
    /// rows are read back and sorted by `keys`.
    pub fn finish(self, keys: &[&str]) -> Result<UnitTable, Error> {
        let empty = self
            .empty
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_default();
        let units = self.units.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut files = Vec::with_capacity(units.len());
        let mut runs = Vec::new();
        let mut rows = 0;
        for (unit, spilled) in units.into_iter().enumerate() {
            let spilled = spilled.ok_or_else(|| {
                Error::Config(format!("audit unit {unit} did not hand over its rows"))
            })?;
            rows += spilled.rows;
            runs.extend(spilled.runs.into_iter().map(|(account, start, rows)| Run {
                account,
                unit,
                start,
                rows,
            }));
            files.push(spilled.file);
        }
        // Stable: an account's runs keep their units' order (disjoint units never share one).
        runs.sort_by(|a, b| a.account.cmp(&b.account));
        let runs_whole = runs.windows(2).all(|w| w[0].account != w[1].account)
            && runs.iter().all(|r| !r.account.is_empty());
        let table = UnitFiles {
            _dir: self.dir,
            files,
            runs,
            empty,
            rows,
            window_rows: WINDOW_ROWS,
        };
        if runs_whole {
            return Ok(UnitTable::Files(table));
        }
        let all = UnitTable::Files(table).collect()?;
        Ok(UnitTable::Frame(crate::engine::sorted(all, keys)?))
    }
}

/// Rows per row group of a unit's file. A window takes a few thousand rows of each unit (the
/// accounts of a window are spread over every unit) and decodes the row groups that hold them:
/// with the store's 65,536-row groups every window decoded each unit's file whole, and writing
/// a national audit's labels took 9 s.
const UNIT_GROUP_ROWS: usize = 4096;

/// A unit's rows in small row groups (LZ4: read back once, soon), so a window reads little
/// more than its range.
fn write_unit_file(rows: &DataFrame, path: &Path) -> Result<(), Error> {
    write_atomic(path, |file| {
        let to_io = std::io::Error::other;
        let mut writer =
            RowGroupWriter::with_compression(file, rows.schema(), ParquetCompression::Lz4Raw)
                .map_err(to_io)?
                .with_group_rows(UNIT_GROUP_ROWS);
        writer.push(rows).map_err(to_io)?;
        writer.finish().map_err(to_io)
    })?;
    Ok(())
}

impl UnitFiles {
    fn for_each_window(
        &self,
        mut each: impl FnMut(DataFrame) -> Result<(), Error>,
    ) -> Result<(), Error> {
        // Where each unit's file has been read up to.
        let mut next_row = vec![0usize; self.files.len()];
        let mut first = 0;
        while first < self.runs.len() {
            let mut last = first;
            let mut rows = 0;
            while last < self.runs.len()
                && (rows == 0 || rows + self.runs[last].rows <= self.window_rows)
            {
                rows += self.runs[last].rows;
                last += 1;
            }
            let window = &self.runs[first..last];
            // Each unit's runs in the window are contiguous in its file, from where the last
            // window stopped.
            let mut end = next_row.clone();
            for run in window {
                end[run.unit] = end[run.unit].max(run.start + run.rows);
            }
            let mut base = vec![0usize; self.files.len()];
            let mut parts = Vec::new();
            let mut height = 0;
            for (unit, file) in self.files.iter().enumerate() {
                let (from, to) = (next_row[unit], end[unit]);
                if to > from {
                    base[unit] = height;
                    height += to - from;
                    parts.push(read_rows(file, from, to - from)?);
                }
            }
            let mut gathered = self.empty.clone();
            for part in parts {
                gathered.vstack_mut_owned(part)?;
            }
            let order: IdxCa = window
                .iter()
                .flat_map(|run| {
                    let at = base[run.unit] + run.start - next_row[run.unit];
                    (at as IdxSize)..((at + run.rows) as IdxSize)
                })
                .collect_ca("order".into());
            each(gathered.take(&order)?)?;
            next_row = end;
            first = last;
        }
        Ok(())
    }
}

/// `rows` rows of a unit's file from row `from`.
fn read_rows(file: &Path, from: usize, rows: usize) -> Result<DataFrame, Error> {
    let open = std::fs::File::open(file).map_err(|e| govmedia_collectors::Error::io(file, e))?;
    Ok(ParquetReader::new(open)
        .with_slice(Some((from, rows)))
        .finish()?)
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

    fn spilled(units: &[DataFrame], window_rows: usize) -> UnitTable {
        let spill = UnitSpill::new(units.len()).unwrap();
        // Units finish in any order.
        for (i, unit) in units.iter().enumerate().rev() {
            spill.put(i, unit).unwrap();
        }
        let mut table = spill.finish(&["account_id", "n"]).unwrap();
        if let UnitTable::Files(files) = &mut table {
            files.window_rows = window_rows;
        }
        table
    }

    fn sorted(units: &[DataFrame]) -> DataFrame {
        let mut all = units[0].clone();
        for unit in &units[1..] {
            all.vstack_mut(unit).unwrap();
        }
        all.sort(["account_id", "n"], SortMultipleOptions::default())
            .unwrap()
    }

    #[test]
    fn units_rows_come_back_in_account_order_whatever_the_window() {
        let units = [
            rows(&[("a", 1), ("a", 2), ("d", 1), ("g", 1), ("g", 2), ("g", 3)]),
            rows(&[("b", 1), ("e", 1), ("e", 2)]),
            rows(&[]).clear(),
            rows(&[("c", 1), ("f", 1), ("h", 1), ("h", 2)]),
        ];
        let expected = sorted(&units);
        for window_rows in [1, 2, 3, 5, 1000] {
            let table = spilled(&units, window_rows);
            assert!(matches!(table, UnitTable::Files(_)));
            assert_eq!(table.height(), 13);
            let mut windows = Vec::new();
            table
                .for_each_window(|w| {
                    windows.push(w.height());
                    Ok(())
                })
                .unwrap();
            // An account is never split: a window holds at least one account's rows whole.
            assert!(
                windows.iter().all(|&h| h <= window_rows.max(3)),
                "{windows:?}"
            );
            assert!(
                table.collect().unwrap().equals(&expected),
                "window {window_rows}"
            );
        }
    }

    #[test]
    fn an_account_in_two_units_or_without_an_id_is_sorted_all_the_same() {
        let units = [rows(&[("a", 1), ("c", 1)]), rows(&[("a", 2), ("b", 1)])];
        let table = spilled(&units, 1);
        assert!(matches!(table, UnitTable::Frame(_)));
        assert!(table.collect().unwrap().equals(&sorted(&units)));
        let units = [rows(&[("", 1), ("c", 1)]), rows(&[("b", 1)])];
        assert!(matches!(spilled(&units, 1), UnitTable::Frame(_)));
    }
}
