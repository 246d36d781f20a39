//! Writes a table as CSV (UTF-8 with BOM, so Excel opens Chinese correctly), JSON (an array of
//! objects) and Parquet, each atomically. Instants are written in Beijing time (RFC 3339). The
//! text writers stream: cells are made for one chunk of rows at a time, never for the whole table.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use govmedia_collectors::store::write_atomic_direct;
use govmedia_collectors::time::{days_to_date, format_shanghai};
use polars::prelude::*;

use crate::Error;

/// One cell in a neutral form for the text writers: a text borrowed from its column where the
/// column holds text (most cells of the findings), made only for the types that need formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Str(std::borrow::Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Cell<'_> {
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Str(s) => s.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format!("{f}"),
            Cell::Bool(b) => b.to_string(),
        }
    }

    #[cfg(test)]
    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Str(s) => serde_json::Value::String(s.to_string()),
            Cell::Int(i) => (*i).into(),
            Cell::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Cell::Bool(b) => (*b).into(),
        }
    }
}

/// A column's cells, converting types the way users read them.
pub fn column_cells(column: &Column) -> PolarsResult<Vec<Cell<'_>>> {
    let opt = |v: Option<Cell<'static>>| v.unwrap_or(Cell::Null);
    let owned = |s: String| Cell::Str(s.into());
    Ok(match column.dtype() {
        DataType::String => column
            .str()?
            .iter()
            .map(|v| v.map_or(Cell::Null, |s| Cell::Str(s.into())))
            .collect(),
        DataType::Boolean => column
            .bool()?
            .iter()
            .map(|v| opt(v.map(Cell::Bool)))
            .collect(),
        DataType::Float32 | DataType::Float64 => column
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .map(|v| opt(v.map(Cell::Float)))
            .collect(),
        DataType::Datetime(_, _) => column
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|v| opt(v.map(|ms| owned(format_shanghai(ms)))))
            .collect(),
        DataType::Date => column
            .cast(&DataType::Int32)?
            .i32()?
            .iter()
            .map(|v| opt(v.map(|d| owned(days_to_date(d).to_string()))))
            .collect(),
        dt if dt.is_integer() => column
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|v| opt(v.map(Cell::Int)))
            .collect(),
        DataType::List(_) => column
            .list()?
            .amortized_iter()
            .map(|v| match v {
                None => Ok(Cell::Null),
                Some(s) => {
                    let text = s.as_ref().cast(&DataType::String)?;
                    Ok(owned(
                        text.str()?.iter().flatten().collect::<Vec<_>>().join("|"),
                    ))
                }
            })
            .collect::<PolarsResult<_>>()?,
        _ => column
            .cast(&DataType::String)?
            .str()?
            .iter()
            .map(|v| opt(v.map(|s| owned(s.to_string()))))
            .collect(),
    })
}

/// All cells of a frame, column by column.
pub fn frame_cells(df: &DataFrame) -> PolarsResult<Vec<Vec<Cell<'_>>>> {
    df.columns().iter().map(column_cells).collect()
}

/// Rows turned into cells at a time by the streaming writers.
pub const CHUNK_ROWS: usize = 1 << 16;

/// Calls `each` with the cells (column by column) of every chunk of `chunk_rows` rows, in order.
pub fn for_each_chunk(
    df: &DataFrame,
    chunk_rows: usize,
    mut each: impl FnMut(&[Vec<Cell<'_>>], usize) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut offset = 0;
    while offset < df.height() {
        let chunk = df.slice(offset as i64, chunk_rows.max(1));
        let cells = frame_cells(&chunk).map_err(std::io::Error::other)?;
        each(&cells, chunk.height())?;
        offset += chunk.height();
    }
    Ok(())
}

/// Whether CSV text cells are written as they are (`--csv-raw`), not neutralised.
static RAW_CSV: AtomicBool = AtomicBool::new(false);

/// Writes CSV text cells as they are from now on (`--csv-raw`): for a pipeline that reads the
/// CSV as data, never for a file a person opens in Excel or WPS.
pub fn set_raw_csv(raw: bool) {
    RAW_CSV.store(raw, Ordering::Relaxed);
}

/// A text cell as a spreadsheet cannot run it: a cell beginning with `=`, `+`, `-`, `@`, a tab
/// or a carriage return would be read as a formula (CSV injection), so it gets a leading `'`,
/// as OWASP recommends. Numbers are numbers, not text: they are never touched.
pub fn neutralise_formula(text: &str) -> std::borrow::Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

pub fn write_csv(df: &DataFrame, path: &Path) -> Result<(), Error> {
    write_csv_in_chunks(df, path, CHUNK_ROWS)
}

fn write_csv_in_chunks(df: &DataFrame, path: &Path, chunk_rows: usize) -> Result<(), Error> {
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    write_atomic_direct(path, |file| {
        // The BOM makes Excel read the file as UTF-8.
        file.write_all(b"\xEF\xBB\xBF")?;
        let mut w = csv::Writer::from_writer(file);
        let raw = RAW_CSV.load(Ordering::Relaxed);
        let header: Vec<String> = names
            .iter()
            .map(|n| neutralise_formula(n).into_owned())
            .collect();
        w.write_record(if raw {
            names.clone()
        } else {
            header.iter().map(String::as_str).collect()
        })?;
        // Fields are written as they are: no string is made per cell.
        use std::fmt::Write as _;
        let mut number = String::new();
        for_each_chunk(df, chunk_rows, |cells, rows| {
            for row in 0..rows {
                for column in cells {
                    match &column[row] {
                        Cell::Null => w.write_field(b"")?,
                        Cell::Str(s) if raw => w.write_field(s.as_bytes())?,
                        Cell::Str(s) => w.write_field(neutralise_formula(s).as_ref())?,
                        Cell::Bool(b) => w.write_field(if *b { "true" } else { "false" })?,
                        Cell::Int(i) => {
                            number.clear();
                            let _ = write!(number, "{i}");
                            w.write_field(&number)?;
                        }
                        Cell::Float(f) => {
                            number.clear();
                            let _ = write!(number, "{f}");
                            w.write_field(&number)?;
                        }
                    }
                }
                w.write_record(None::<&[u8]>)?;
            }
            Ok(())
        })?;
        w.flush()
    })?;
    Ok(())
}

pub fn write_json(df: &DataFrame, path: &Path) -> Result<(), Error> {
    write_json_in_chunks(df, path, CHUNK_ROWS)
}

/// The array of row objects (keys in `serde_json::Map`'s sorted order), one compact object per
/// line: `[`, then each row as `serde_json::to_string` writes it, then `]`. A national audit's
/// findings are two million rows: pretty-printing made the file 930 MB, two fifths of it
/// indentation, and a row per line still reads with `grep` and `head`. Written one cell at a
/// time: no per-row map or value tree, which cost more than the writing.
fn write_json_in_chunks(df: &DataFrame, path: &Path, chunk_rows: usize) -> Result<(), Error> {
    // (column index, the key as JSON with its colon) in key order.
    let mut keys: Vec<(usize, String)> = df
        .get_column_names()
        .iter()
        .enumerate()
        .map(|(i, n)| Ok((i, format!("{}:", serde_json::to_string(n.as_str())?))))
        .collect::<serde_json::Result<_>>()
        .map_err(|e| {
            Error::Store(govmedia_collectors::Error::io(
                path,
                std::io::Error::other(e),
            ))
        })?;
    keys.sort_by(|a, b| df.get_column_names()[a.0].cmp(df.get_column_names()[b.0]));
    write_atomic_direct(path, |file| {
        // Many small writes (keys, commas): the buffer in front keeps each one a copy.
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        if df.height() == 0 {
            return out.write_all(b"[]").and_then(|_| out.flush());
        }
        out.write_all(b"[")?;
        let mut first = true;
        for_each_chunk(df, chunk_rows, |cells, rows| {
            // Rows across the columns' cells, the columns in key order: an index is the clearest.
            #[allow(clippy::needless_range_loop)]
            for row in 0..rows {
                out.write_all(if first { b"\n{" } else { b",\n{" })?;
                first = false;
                for (k, (column, key)) in keys.iter().enumerate() {
                    if k > 0 {
                        out.write_all(b",")?;
                    }
                    out.write_all(key.as_bytes())?;
                    write_json_cell(&mut out, &cells[*column][row])?;
                }
                out.write_all(b"}")?;
            }
            Ok(())
        })?;
        out.write_all(b"\n]")?;
        out.flush()
    })?;
    Ok(())
}

/// A cell as `serde_json` writes the value [`Cell::json`] gives (a non-finite float is `null`).
fn write_json_cell(out: &mut impl Write, cell: &Cell) -> std::io::Result<()> {
    let written = match cell {
        Cell::Null => return out.write_all(b"null"),
        Cell::Str(s) => serde_json::to_writer(&mut *out, s),
        Cell::Int(i) => serde_json::to_writer(&mut *out, i),
        Cell::Float(f) => serde_json::to_writer(&mut *out, f),
        Cell::Bool(b) => serde_json::to_writer(&mut *out, b),
    };
    written.map_err(std::io::Error::other)
}

pub fn write_parquet(df: &DataFrame, path: &Path) -> Result<(), Error> {
    let mut df = df.clone();
    write_atomic_direct(path, |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })?;
    Ok(())
}

/// Writes a table gathered from audit units as Parquet: a table the units put in a file is that
/// file, copied into place as it is (rows grouped by audit unit; `unit_table`), never held or
/// re-encoded.
pub fn write_unit_table(
    table: &govmedia_rules::unit_table::UnitTable,
    path: &Path,
) -> Result<(), Error> {
    use govmedia_rules::unit_table::UnitTable;
    match table {
        UnitTable::Frame(df) => write_parquet(df, path),
        UnitTable::File(file) => {
            let mut source = std::fs::File::open(file.path())
                .map_err(|e| govmedia_collectors::Error::io(file.path(), e))?;
            write_atomic_direct(path, |out| std::io::copy(&mut source, out).map(|_| ()))?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_the_units_put_in_a_file_is_written_as_that_file_with_every_row() {
        use govmedia_rules::unit_table::{UnitSpill, UnitTable};
        let unit = |ids: &[&str]| {
            df!(
                "account_id" => ids,
                "reason" => ids.iter().map(|i| format!("「{i}」")).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        let spill = UnitSpill::new(2).unwrap();
        spill.put(1, &unit(&["b", "d", "d"])).unwrap();
        spill.put(0, &unit(&["a", "a", "c"])).unwrap();
        let table = spill.finish(&["account_id"]).unwrap();
        assert!(matches!(table, UnitTable::File(_)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.parquet");
        write_unit_table(&table, &path).unwrap();
        let read = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        let ids: Vec<&str> = read
            .column("account_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(Option::unwrap_or_default)
            .collect();
        // Unit by unit, accounts in order within each: the same rows as the sorted whole.
        assert_eq!(ids, ["a", "a", "c", "b", "d", "d"]);
        let sorted = read
            .sort(
                ["account_id"],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .unwrap();
        assert!(sorted.equals(&table.collect().unwrap()));
        // A table in memory is written as it is.
        let frame = UnitTable::Frame(unit(&["x"]));
        write_unit_table(&frame, &path).unwrap();
        let read = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert!(read.equals(&unit(&["x"])));
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_numbers_are_not() {
        let df = df!(
            "name" => ["=HYPERLINK(\"http://x\",\"点我\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "某市发布", "a=b"],
            "score" => [-1.5f64, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            "rank" => [-1i64, 2, 3, 4, 5, 6, 7, 8],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        write_csv(&df, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rows = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let cells: Vec<Vec<String>> = rows
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        let names: Vec<&str> = cells.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            names,
            [
                "'=HYPERLINK(\"http://x\",\"点我\")",
                "'+1",
                "'-2",
                "'@SUM(A1)",
                "'\tx",
                "'\rx",
                "某市发布",
                "a=b"
            ]
        );
        assert_eq!(cells[0][1], "-1.5", "a negative number stays a number");
        assert_eq!(cells[0][2], "-1");
    }

    #[test]
    fn csv_has_a_bom_and_beijing_times() {
        let mut df = df!(
            "name" => ["某市发布", "a,\"b\""],
            "n" => [Some(1i64), None],
        )
        .unwrap();
        let at = Int64Chunked::from_vec("at".into(), vec![1_709_256_600_000, 0])
            .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
            .into_series()
            .into_column();
        df.with_column(at).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        write_csv(&df, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "name,n,at\n某市发布,1,2024-03-01T09:30:00+08:00\n\"a,\"\"b\"\"\",,1970-01-01T08:00:00+08:00\n"
        );
        let json_path = dir.path().join("t.json");
        write_json(&df, &json_path).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(json_path).unwrap()).unwrap();
        assert_eq!(v[1]["n"], serde_json::Value::Null);
        assert_eq!(v[0]["name"], "某市发布");
    }

    /// Chunked writing gives the bytes of writing everything at once, whatever the chunk size;
    /// the JSON is the array of `serde_json`'s compact rows, one per line.
    #[test]
    fn streaming_in_chunks_changes_no_byte() {
        let df = df!(
            "name" => ["甲", "b\n\"q\"", "", "d", "e"],
            "n" => [Some(1i64), None, Some(-3), Some(4), None],
            "x" => [Some(0.5f64), Some(1e-9), None, Some(f64::NAN), Some(f64::INFINITY)],
            "ok" => [Some(true), None, Some(false), Some(true), Some(false)],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        let whole = df.height() + 1;
        for chunk in [whole, 1, 2, 3] {
            write_csv_in_chunks(&df, &dir.path().join(format!("c{chunk}.csv")), chunk).unwrap();
            write_json_in_chunks(&df, &dir.path().join(format!("j{chunk}.json")), chunk).unwrap();
            assert_eq!(
                read(&format!("c{chunk}.csv")),
                read(&format!("c{whole}.csv"))
            );
            assert_eq!(
                read(&format!("j{chunk}.json")),
                read(&format!("j{whole}.json"))
            );
        }
        let cells = frame_cells(&df).unwrap();
        let names = df.get_column_names();
        let rows: Vec<serde_json::Value> = (0..df.height())
            .map(|r| {
                serde_json::Value::Object(
                    names
                        .iter()
                        .zip(&cells)
                        .map(|(n, c)| (n.to_string(), c[r].json()))
                        .collect(),
                )
            })
            .collect();
        let lines: Vec<String> = rows
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        assert_eq!(
            String::from_utf8(read("j1.json")).unwrap(),
            format!("[\n{}\n]", lines.join(",\n"))
        );
        let parsed: serde_json::Value = serde_json::from_slice(&read("j1.json")).unwrap();
        assert_eq!(parsed, serde_json::Value::Array(rows));
        let empty = df.head(Some(0));
        write_json_in_chunks(&empty, &dir.path().join("e.json"), 2).unwrap();
        assert_eq!(read("e.json"), b"[]");
    }
}
