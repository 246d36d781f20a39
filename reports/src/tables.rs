//! Writes a table as CSV (UTF-8 with BOM, so Excel opens Chinese correctly), JSON (an array of
//! objects) and Parquet, each atomically. Instants are written in Beijing time (RFC 3339).

use std::io::Write;
use std::path::{Path, PathBuf};

use govmedia_collectors::store::write_atomic;
use govmedia_collectors::time::{days_to_date, format_shanghai};
use polars::prelude::*;

use crate::Error;

/// One cell in a neutral form for the text writers.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Str(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format!("{f}"),
            Cell::Bool(b) => b.to_string(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Str(s) => serde_json::Value::String(s.clone()),
            Cell::Int(i) => (*i).into(),
            Cell::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Cell::Bool(b) => (*b).into(),
        }
    }
}

/// A column's cells, converting types the way users read them.
pub fn column_cells(column: &Column) -> PolarsResult<Vec<Cell>> {
    let opt = |v: Option<Cell>| v.unwrap_or(Cell::Null);
    Ok(match column.dtype() {
        DataType::String => column
            .str()?
            .iter()
            .map(|v| opt(v.map(|s| Cell::Str(s.to_string()))))
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
            .map(|v| opt(v.map(|ms| Cell::Str(format_shanghai(ms)))))
            .collect(),
        DataType::Date => column
            .cast(&DataType::Int32)?
            .i32()?
            .iter()
            .map(|v| opt(v.map(|d| Cell::Str(days_to_date(d).to_string()))))
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
                    Ok(Cell::Str(
                        text.str()?.iter().flatten().collect::<Vec<_>>().join("|"),
                    ))
                }
            })
            .collect::<PolarsResult<_>>()?,
        _ => column
            .cast(&DataType::String)?
            .str()?
            .iter()
            .map(|v| opt(v.map(|s| Cell::Str(s.to_string()))))
            .collect(),
    })
}

/// All cells of a frame, column by column.
pub fn frame_cells(df: &DataFrame) -> PolarsResult<Vec<Vec<Cell>>> {
    df.columns().iter().map(column_cells).collect()
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Store(govmedia_collectors::Error::io(
        path,
        std::io::Error::other(e.to_string()),
    ))
}

pub fn write_csv(df: &DataFrame, path: &Path) -> Result<(), Error> {
    let cells = frame_cells(df)?;
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    write_atomic(path, |file| {
        // The BOM makes Excel read the file as UTF-8.
        file.write_all(b"\xEF\xBB\xBF")?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record(&names)?;
        for row in 0..df.height() {
            w.write_record(cells.iter().map(|c| c[row].text()))?;
        }
        w.flush()
    })?;
    Ok(())
}

pub fn write_json(df: &DataFrame, path: &Path) -> Result<(), Error> {
    let cells = frame_cells(df)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let rows: Vec<serde_json::Value> = (0..df.height())
        .map(|row| {
            let obj: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(&cells)
                .map(|(n, c)| (n.clone(), c[row].json()))
                .collect();
            serde_json::Value::Object(obj)
        })
        .collect();
    let text = serde_json::to_string_pretty(&rows).map_err(|e| io_err(path, e))?;
    write_atomic(path, |f| f.write_all(text.as_bytes()))?;
    Ok(())
}

pub fn write_parquet(df: &DataFrame, path: &Path) -> Result<(), Error> {
    let mut df = df.clone();
    write_atomic(path, |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })?;
    Ok(())
}

/// Writes `<name>.csv`, `<name>.json` and `<name>.parquet` into `dir`; returns the paths.
pub fn write_table_set(df: &DataFrame, dir: &Path, name: &str) -> Result<Vec<PathBuf>, Error> {
    let csv = dir.join(format!("{name}.csv"));
    let json = dir.join(format!("{name}.json"));
    let parquet = dir.join(format!("{name}.parquet"));
    write_csv(df, &csv)?;
    write_json(df, &json)?;
    write_parquet(df, &parquet)?;
    Ok(vec![csv, json, parquet])
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
