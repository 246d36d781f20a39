//! Canonical table files read whole and strictly (fixtures, `--orgs` and other side files).

use std::fs;
use std::path::Path;

use polars::prelude::*;

use super::*;
use crate::Error;
use crate::record::{FieldError, TableBuilder, Value, validate};
use crate::schema::TableSpec;

/// Reads canonical JSON Lines text into a table strictly: the first bad line is an error naming
/// `source`, the line and the field. For fixtures and small side files such as `--orgs`.
pub fn frame_from_jsonl(
    spec: &'static TableSpec,
    text: &str,
    source: &str,
) -> Result<DataFrame, Error> {
    let mut builder = TableBuilder::new(spec);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let at = |msg: String| Error::Input(format!("{source}: line {}: {msg}", i + 1));
        let map = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => return Err(at("not a JSON object".into())),
            Err(e) => return Err(at(format!("invalid JSON: {e}"))),
        };
        let values = values_from_object(spec, &map, false).map_err(|e| at(e.to_string()))?;
        validate(spec, &values).map_err(|e| at(e.to_string()))?;
        builder.push(values);
    }
    builder
        .finish()
        .map_err(|e| Error::polars(Path::new(source), e))
}

/// Reads canonical CSV text (header row of column names) into a table strictly, like
/// [`frame_from_jsonl`].
pub fn frame_from_csv(
    spec: &'static TableSpec,
    text: &str,
    source: &str,
) -> Result<DataFrame, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Input(format!("{source}: line 1: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    if let Some(unknown) = header.iter().find(|h| spec.column(h).is_none()) {
        return Err(Error::Input(format!(
            "{source}: line 1: `{unknown}` is not a column of table {}",
            spec.name
        )));
    }
    if let Some(missing) = spec
        .columns
        .iter()
        .find(|c| c.required && !header.iter().any(|h| h == c.name))
    {
        return Err(Error::Input(format!(
            "{source}: line 1: missing required column `{}`",
            missing.name
        )));
    }
    let mut builder = TableBuilder::new(spec);
    for record in reader.records() {
        let record = record.map_err(|e| Error::Input(format!("{source}: {e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |msg: String| Error::Input(format!("{source}: line {line}: {msg}"));
        let values = spec
            .columns
            .iter()
            .map(|c| {
                match header
                    .iter()
                    .position(|h| h == c.name)
                    .and_then(|i| record.get(i))
                {
                    None => Ok(Value::Null),
                    Some(text) => crate::record::value_from_text(c.ty, text)
                        .map_err(|r| at(FieldError::new(c.name, r).to_string())),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        validate(spec, &values).map_err(|e| at(e.to_string()))?;
        builder.push(values);
    }
    builder
        .finish()
        .map_err(|e| Error::polars(Path::new(source), e))
}

/// Reads a canonical table file (`.csv` or `.jsonl`) strictly, e.g. the `--orgs` registry.
pub fn read_table_file(spec: &'static TableSpec, path: &Path) -> Result<DataFrame, Error> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let source = path.display().to_string();
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("csv") => frame_from_csv(spec, &text, &source),
        Some("jsonl") | Some("json") => frame_from_jsonl(spec, &text, &source),
        _ => Err(Error::Input(format!(
            "{source}: expected a .csv or .jsonl file with the {} columns",
            spec.name
        ))),
    }
}

/// Reads a registry file (one row per key, such as `--orgs`) like [`read_table_file`], refusing
/// a key listed twice with an error naming both lines: a duplicated org would rank each of its
/// accounts twice, tied with itself.
pub fn read_registry_file(
    spec: &'static TableSpec,
    path: &Path,
    key: &str,
) -> Result<DataFrame, Error> {
    let df = read_table_file(spec, path)?;
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let text = text.trim_start_matches('\u{feff}');
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    // (key, line) of every record, in file order.
    let mut keys: Vec<(String, u64)> = Vec::new();
    if is_csv {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let column = reader
            .headers()
            .ok()
            .and_then(|h| h.iter().position(|c| c.trim() == key));
        if let Some(column) = column {
            for record in reader.records().flatten() {
                let line = record.position().map_or(0, |p| p.line());
                if let Some(value) = record.get(column).map(str::trim).filter(|v| !v.is_empty()) {
                    keys.push((value.to_string(), line));
                }
            }
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line.trim()) else {
                continue;
            };
            let id = match &value[key] {
                serde_json::Value::String(s) => s.trim().to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => continue,
            };
            keys.push((id, i as u64 + 1));
        }
    }
    let mut first_line: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for (id, line) in &keys {
        if let Some(earlier) = first_line.insert(id, *line) {
            return Err(Error::Input(format!(
                "{}: {key} {id:?} is listed twice, on line {earlier} and line {line}; each must \
                 be listed once",
                path.display()
            )));
        }
    }
    Ok(df)
}
