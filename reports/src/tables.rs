//! Writes a table as CSV (UTF-8 with BOM, so Excel opens Chinese correctly), JSON (an array of
//! objects) and Parquet, each atomically. Instants are written in Beijing time (RFC 3339). The
//! text writers stream: cells are made for one chunk of rows at a time, never for the whole table.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use govmedia_collectors::store::{RowGroupWriter, write_atomic_direct};
use govmedia_collectors::time::{days_to_date, format_shanghai};
use polars::prelude::*;

use crate::Error;

/// One cell in a neutral form for the text writers: a text borrowed from its column where the
/// column holds text (most cells of the findings), made only for the types that need formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Str(std::borrow::Cow<'a, str>),
    /// An instant (UTC milliseconds), written in Beijing time ([`format_shanghai`]) by each
    /// writer, which remembers the texts of the instants it met ([`TimeTexts`]).
    Time(i64),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Cell<'_> {
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Str(s) => s.to_string(),
            Cell::Time(ms) => format_shanghai(*ms),
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
            Cell::Time(ms) => serde_json::Value::String(format_shanghai(*ms)),
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
            .map(|v| opt(v.map(Cell::Time)))
            .collect(),
        DataType::Date => {
            let mut dates = TimeTexts::dates();
            column
                .cast(&DataType::Int32)?
                .i32()?
                .iter()
                .map(|v| opt(v.map(|d| owned(dates.text(i64::from(d)).to_string()))))
                .collect()
        }
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

/// Rows turned into cells at a time by the streaming writers. The cells are held column by
/// column and read row by row, so a chunk's cells should stay in the cache: 65,536 rows (2 MB of
/// cells per column) made the CSV and JSON of 2.1 million findings 12 and 18 % slower than 4,096
/// (`table_bench`, three runs each, alternately).
pub const CHUNK_ROWS: usize = 1 << 12;

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

/// Bytes of text gathered before they are handed to the file.
const TEXT_FLUSH_BYTES: usize = 1 << 20;

/// Text written to a file a megabyte at a time: rows are appended to `buf` as bytes and the
/// file gets the buffer when it is full. A national audit writes 1.3 GB of findings as CSV and
/// JSON: a call through a writer per field and per comma was a large part of that.
struct TextOut<W: Write> {
    file: W,
    buf: Vec<u8>,
}

impl<W: Write> TextOut<W> {
    fn new(file: W) -> TextOut<W> {
        TextOut {
            file,
            buf: Vec::with_capacity(TEXT_FLUSH_BYTES + (1 << 16)),
        }
    }

    /// Hands the buffer to the file once it is full (called between rows).
    fn row_done(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= TEXT_FLUSH_BYTES {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.file.flush()
    }
}

/// Beijing-time texts of instants, each formatted once while it is met again: a table's
/// instants repeat (the week a finding is about), and formatting each cell anew took a tenth
/// of the time of writing the findings. A direct-mapped cache: an instant replaces the one in
/// its slot.
pub(crate) struct TimeTexts {
    slots: Vec<(i64, String)>,
    format: fn(i64) -> String,
}

impl Default for TimeTexts {
    /// Instants (UTC milliseconds) in Beijing time.
    fn default() -> TimeTexts {
        TimeTexts::with(format_shanghai)
    }
}

impl TimeTexts {
    const SLOT_BITS: u32 = 12;

    /// Instants as `format` writes them.
    pub(crate) fn with(format: fn(i64) -> String) -> TimeTexts {
        TimeTexts {
            slots: Vec::new(),
            format,
        }
    }

    /// Calendar days (days since 1970-01-01) as `YYYY-MM-DD`: a table's days repeat as its
    /// instants do, and a `NaiveDate`'s text made anew per cell was a tenth of writing the
    /// measurements.
    pub(crate) fn dates() -> TimeTexts {
        TimeTexts::with(|days| {
            i32::try_from(days).map_or_else(|_| days.to_string(), |d| days_to_date(d).to_string())
        })
    }

    /// The text of `ms` (an instant's, or a day's for [`TimeTexts::dates`]).
    pub(crate) fn text(&mut self, ms: i64) -> &str {
        if self.slots.is_empty() {
            self.slots = vec![(0, String::new()); 1 << Self::SLOT_BITS];
        }
        // Fibonacci hashing: instants a day or a week apart spread over the slots.
        let slot = (ms as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::SLOT_BITS);
        let slot = &mut self.slots[slot as usize];
        // A slot's text is never empty once filled, so an empty one is a free slot.
        if slot.0 != ms || slot.1.is_empty() {
            *slot = (ms, (self.format)(ms));
        }
        &slot.1
    }
}

/// Whether any byte of `bytes` is `special`. Most texts written have none, so they are looked
/// at sixteen bytes at a time without a branch, which the compiler makes vector compares.
#[inline]
fn any_byte(bytes: &[u8], special: impl Fn(u8) -> bool + Copy) -> bool {
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        let chunk: &[u8; 16] = chunk.try_into().expect("chunks of 16");
        if chunk.iter().fold(false, |any, &b| any | special(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| special(b))
}

/// Appends a field as the `csv` crate writes it by default: in quotes only when it holds a
/// comma, a quote or a line break, with a quote inside doubled.
fn push_csv_field(out: &mut Vec<u8>, field: &[u8]) {
    if !any_byte(field, |b| {
        (b == b',') | (b == b'"') | (b == b'\r') | (b == b'\n')
    }) {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Appends a text field, neutralised unless `raw` ([`neutralise_formula`]).
fn push_csv_text(out: &mut Vec<u8>, text: &str, raw: bool) {
    if raw {
        push_csv_field(out, text.as_bytes());
    } else {
        push_csv_field(out, neutralise_formula(text).as_bytes());
    }
}

/// `f` as `{f}` writes it, handed to `with`: Rust's shortest digits that read back as `f`,
/// never with an exponent. ryu finds the shortest digits in a fraction of the time, but where
/// two candidates are equally near (17 digits) it may choose the other one, so its text is
/// taken only up to 15 significant digits, where the shortest is the only one. It also writes
/// `1.0` where Rust writes `1`, and an exponent for very large and very small numbers; those,
/// the longer ones, NaN and the infinities are left to Rust's formatting.
pub(crate) fn with_float_text<R>(f: f64, with: impl FnOnce(&str) -> R) -> R {
    if f.is_finite() {
        let mut digits = ryu::Buffer::new();
        let text = digits.format_finite(f);
        let significant = text
            .bytes()
            .filter(u8::is_ascii_digit)
            .skip_while(|&b| b == b'0')
            .count();
        if significant <= 15 && !text.contains('e') {
            return with(text.strip_suffix(".0").unwrap_or(text));
        }
    }
    with(&f.to_string())
}

fn write_csv_in_chunks(df: &DataFrame, path: &Path, chunk_rows: usize) -> Result<(), Error> {
    let format = CsvFields {
        raw: RAW_CSV.load(Ordering::Relaxed),
    };
    write_atomic_direct(path, |file| {
        let mut text = TextOut::new(file);
        // The BOM makes Excel read the file as UTF-8.
        text.buf.extend_from_slice(b"\xEF\xBB\xBF");
        let header_start = text.buf.len();
        for (i, name) in df.get_column_names().iter().enumerate() {
            if i > 0 {
                text.buf.push(b',');
            }
            format.text(&mut text.buf, name)?;
        }
        end_csv_record(&mut text.buf, header_start);
        for_each_field_chunk(df, chunk_rows, &format, |columns, rows| {
            for row in 0..rows {
                let start = text.buf.len();
                for (i, column) in columns.iter().enumerate() {
                    if i > 0 {
                        text.buf.push(b',');
                    }
                    text.buf.extend_from_slice(column.field(row));
                }
                end_csv_record(&mut text.buf, start);
                text.row_done()?;
            }
            Ok(())
        })?;
        text.finish()
    })?;
    Ok(())
}

/// Ends the record begun at `start`, as the `csv` crate does: a record of no bytes at all (one
/// empty field) is written `""`, so that it still reads as a record.
fn end_csv_record(out: &mut Vec<u8>, start: usize) {
    if out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b'\n');
}

/// How a text format writes each kind of value.
trait FieldFormat {
    fn null(&self, out: &mut Vec<u8>);
    fn text(&self, out: &mut Vec<u8>, text: &str) -> std::io::Result<()>;
    fn float(&self, out: &mut Vec<u8>, f: f64) -> std::io::Result<()>;

    fn int(&self, out: &mut Vec<u8>, i: i64) -> std::io::Result<()> {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
        Ok(())
    }

    fn bool(&self, out: &mut Vec<u8>, b: bool) -> std::io::Result<()> {
        out.extend_from_slice(if b { b"true" } else { b"false" });
        Ok(())
    }
}

/// CSV fields as the `csv` crate writes them, texts neutralised unless `raw`.
struct CsvFields {
    raw: bool,
}

impl FieldFormat for CsvFields {
    fn null(&self, _: &mut Vec<u8>) {}

    fn text(&self, out: &mut Vec<u8>, text: &str) -> std::io::Result<()> {
        push_csv_text(out, text, self.raw);
        Ok(())
    }

    fn float(&self, out: &mut Vec<u8>, f: f64) -> std::io::Result<()> {
        with_float_text(f, |t| out.extend_from_slice(t.as_bytes()));
        Ok(())
    }
}

/// JSON values as `serde_json` writes them (a non-finite float is `null`).
struct JsonFields;

impl FieldFormat for JsonFields {
    fn null(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"null");
    }

    fn text(&self, out: &mut Vec<u8>, text: &str) -> std::io::Result<()> {
        push_json_str(out, text)
    }

    fn float(&self, out: &mut Vec<u8>, f: f64) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, &f).map_err(std::io::Error::other)
    }
}

/// One column of a chunk written in a text format: its fields' bytes back to back, and where
/// each row's field ends.
#[derive(Default)]
struct FieldColumn {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl FieldColumn {
    /// Appends a field per value: `write` writes a value, `format` a null.
    fn push_each<T>(
        &mut self,
        values: impl Iterator<Item = Option<T>>,
        format: &impl FieldFormat,
        mut write: impl FnMut(&mut Vec<u8>, T) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        for value in values {
            match value {
                Some(value) => write(&mut self.bytes, value)?,
                None => format.null(&mut self.bytes),
            }
            self.ends.push(self.bytes.len());
        }
        Ok(())
    }

    fn field(&self, row: usize) -> &[u8] {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.bytes[start..self.ends[row]]
    }
}

/// Writes `column`'s fields into `into` (emptied first), one loop per column type: a cell made
/// per value and looked at per row cost more than the writing itself.
fn write_fields(
    column: &Column,
    format: &impl FieldFormat,
    texts: &mut Option<TimeTexts>,
    into: &mut FieldColumn,
) -> std::io::Result<()> {
    let polars = std::io::Error::other;
    into.bytes.clear();
    into.ends.clear();
    match column.dtype() {
        DataType::String => {
            let values = column.str().map_err(polars)?.iter();
            into.push_each(values, format, |out, text| format.text(out, text))
        }
        DataType::Boolean => {
            let values = column.bool().map_err(polars)?.iter();
            into.push_each(values, format, |out, b| format.bool(out, b))
        }
        DataType::Float32 | DataType::Float64 => {
            let floats = column.cast(&DataType::Float64).map_err(polars)?;
            let values = floats.f64().map_err(polars)?.iter();
            into.push_each(values, format, |out, f| format.float(out, f))
        }
        DataType::Datetime(_, _) | DataType::Date => {
            let is_date = matches!(column.dtype(), DataType::Date);
            let numbers = column.cast(&DataType::Int64).map_err(polars)?;
            // A column is of one type in every chunk: its texts are days' or instants'.
            let remembered = texts.get_or_insert_with(|| {
                if is_date {
                    TimeTexts::dates()
                } else {
                    TimeTexts::default()
                }
            });
            let values = numbers.i64().map_err(polars)?.iter();
            into.push_each(values, format, |out, n| {
                format.text(out, remembered.text(n))
            })
        }
        dt if dt.is_integer() => {
            let numbers = column.cast(&DataType::Int64).map_err(polars)?;
            let values = numbers.i64().map_err(polars)?.iter();
            into.push_each(values, format, |out, i| format.int(out, i))
        }
        // Lists and the rarer types become texts the way the other writers show them.
        _ => {
            let values = column_cells(column)
                .map_err(polars)?
                .into_iter()
                .map(|cell| match cell {
                    Cell::Str(text) => Some(text),
                    _ => None,
                });
            into.push_each(values, format, |out, text| format.text(out, &text))
        }
    }
}

/// Calls `each` with the columns of every chunk of `chunk_rows` rows written in `format`, in
/// order. A chunk's fields stay in the cache while its rows are put together.
fn for_each_field_chunk(
    df: &DataFrame,
    chunk_rows: usize,
    format: &impl FieldFormat,
    mut each: impl FnMut(&[FieldColumn], usize) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut columns: Vec<FieldColumn> = (0..df.width()).map(|_| FieldColumn::default()).collect();
    let mut texts: Vec<Option<TimeTexts>> = (0..df.width()).map(|_| None).collect();
    let mut offset = 0;
    while offset < df.height() {
        let chunk = df.slice(offset as i64, chunk_rows.max(1));
        for ((column, into), texts) in chunk.columns().iter().zip(&mut columns).zip(&mut texts) {
            write_fields(column, format, texts, into)?;
        }
        each(&columns, chunk.height())?;
        offset += chunk.height();
    }
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
        let mut text = TextOut::new(file);
        if df.height() == 0 {
            text.buf.extend_from_slice(b"[]");
            return text.finish();
        }
        text.buf.push(b'[');
        let mut first = true;
        for_each_field_chunk(df, chunk_rows, &JsonFields, |columns, rows| {
            for row in 0..rows {
                let out = &mut text.buf;
                out.extend_from_slice(if first { b"\n{" } else { b",\n{" });
                first = false;
                for (k, (column, key)) in keys.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(key.as_bytes());
                    out.extend_from_slice(columns[*column].field(row));
                }
                out.push(b'}');
                text.row_done()?;
            }
            Ok(())
        })?;
        text.buf.extend_from_slice(b"\n]");
        text.finish()
    })?;
    Ok(())
}

/// Appends a string as `serde_json` writes it. Most texts need no escape (no quote, backslash
/// or control character): they are copied as they are, the rest escaped by `serde_json`.
fn push_json_str(out: &mut Vec<u8>, text: &str) -> std::io::Result<()> {
    if any_byte(text.as_bytes(), |b| (b < 0x20) | (b == b'"') | (b == b'\\')) {
        return serde_json::to_writer(&mut *out, text).map_err(std::io::Error::other);
    }
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Rows per row group of a report's Parquet file (Polars' own default).
const REPORT_GROUP_ROWS: usize = 512 * 512;

pub fn write_parquet(df: &DataFrame, path: &Path) -> Result<(), Error> {
    write_atomic_direct(path, |file| {
        let write = || -> PolarsResult<()> {
            let mut writer =
                RowGroupWriter::for_report(file, df.schema())?.with_group_rows(REPORT_GROUP_ROWS);
            writer.push(df)?;
            writer.finish()
        };
        write().map_err(std::io::Error::other)
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

    /// Texts that need quoting or escaping at every place a sixteen-byte look can meet them,
    /// written by our CSV and JSON writers exactly as the `csv` crate and `serde_json` write them.
    #[test]
    fn texts_are_quoted_and_escaped_as_the_csv_crate_and_serde_json_do() {
        let mut texts: Vec<String> = vec![
            String::new(),
            "某市发布".into(),
            "\\path".into(),
            "tab\there".into(),
            "bell\u{7}".into(),
            "del\u{7f}".into(),
            "\u{2028}line separator".into(),
        ];
        for special in [",", "\"", "\r", "\n", "\\", "\u{1}"] {
            for at in 0..40 {
                let mut text: String = "政务abc".chars().cycle().take(at).collect();
                text.push_str(special);
                texts.push(text.clone());
                text.push_str("尾部xyz");
                texts.push(text);
            }
        }
        let df = df!("text" => &texts, "other" => texts.iter().rev().cloned().collect::<Vec<_>>())
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        set_raw_csv(true);
        write_csv(&df, &dir.path().join("t.csv")).unwrap();
        set_raw_csv(false);
        write_json(&df, &dir.path().join("t.json")).unwrap();
        let mut expected = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        expected.write_record(["text", "other"]).unwrap();
        for (a, b) in texts.iter().zip(texts.iter().rev()) {
            expected.write_record([a, b]).unwrap();
        }
        let expected = expected.into_inner().unwrap();
        let written = std::fs::read(dir.path().join("t.csv")).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        let lines: Vec<String> = texts
            .iter()
            .zip(texts.iter().rev())
            .map(|(a, b)| {
                serde_json::to_string(&serde_json::json!({"text": a, "other": b})).unwrap()
            })
            .collect();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("t.json")).unwrap(),
            format!("[\n{}\n]", lines.join(",\n"))
        );
        // A record of one empty field is `""`, as the csv crate writes it.
        let one = df!("text" => ["", "a"]).unwrap();
        write_csv(&one, &dir.path().join("one.csv")).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("one.csv")).unwrap(),
            b"\xEF\xBB\xBFtext\n\"\"\na\n"
        );
    }

    /// Numbers are written with Rust's `{f}` digits, whichever way they are found.
    #[test]
    fn floats_are_written_as_rust_displays_them() {
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1 + 0.2,
            79.089_924_160_346_7,
            1e15,
            1e16,
            1e17,
            123_456_789_012_345_680.0,
            1e21,
            1e-5,
            1e-7,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        // Pseudo-random bit patterns and scores-like numbers (xorshift: the same every run).
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values.push(f64::from_bits(state));
            values.push((state % 1_000_000) as f64 / 10_000.0);
            values.push((state % 100_000_000) as f64 * 1e-3);
        }
        for f in values {
            assert_eq!(with_float_text(f, str::to_string), format!("{f}"), "{f:e}");
        }
    }

    #[test]
    fn an_instant_remembered_in_a_slot_gives_its_own_text() {
        let mut times = TimeTexts::default();
        // Weeks, days and milliseconds apart: some share a slot and replace each other.
        let instants: Vec<i64> = (0..20_000i64)
            .map(|i| 1_700_000_000_000 + (i % 97) * 604_800_000 + (i % 13) * 86_400_000 + i % 7)
            .chain([0, -1, i64::from(i32::MAX) * 1000])
            .collect();
        for (i, &ms) in instants
            .iter()
            .enumerate()
            .chain(instants.iter().enumerate().rev())
        {
            assert_eq!(times.text(ms), format_shanghai(ms), "instant {i}");
        }
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
            "small" => [Some(7u32), None, Some(0), Some(u32::MAX), Some(1)],
            "f32" => [Some(0.1f32), Some(-2.5), None, Some(3.0), Some(1e-3)],
            "day" => [Some(20_000i32), None, Some(-1), Some(20_000), Some(0)],
            "at" => [Some(1_709_256_600_000i64), Some(-5), None, Some(0), Some(1_709_256_600_000)],
        )
        .unwrap()
        .lazy()
        .with_columns([
            col("day").cast(DataType::Date),
            col("at").cast(DataType::Datetime(
                TimeUnit::Milliseconds,
                Some(TimeZone::UTC),
            )),
        ])
        .collect()
        .unwrap();
        let list = |items: &[&str]| Some(Series::new("".into(), items));
        let mut df = df;
        df.with_column(
            Series::new(
                "list".into(),
                [
                    list(&["a", "b"]),
                    None,
                    list(&[]),
                    list(&["=x"]),
                    list(&["甲"]),
                ],
            )
            .into_column(),
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
        // The CSV is each cell's text as the `csv` crate writes it, texts neutralised.
        let mut expected = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        expected.write_record(&names).unwrap();
        for r in 0..df.height() {
            let fields = cells.iter().map(|c| match &c[r] {
                Cell::Str(_) | Cell::Time(_) => neutralise_formula(&c[r].text()).into_owned(),
                cell => cell.text(),
            });
            expected.write_record(fields.collect::<Vec<_>>()).unwrap();
        }
        assert_eq!(
            String::from_utf8(read("c1.csv")).unwrap(),
            String::from_utf8(expected.into_inner().unwrap()).unwrap()
        );
        let empty = df.head(Some(0));
        write_json_in_chunks(&empty, &dir.path().join("e.json"), 2).unwrap();
        assert_eq!(read("e.json"), b"[]");
    }
}
