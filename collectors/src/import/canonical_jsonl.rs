//! The tool's own import format as JSON Lines: one `<table>.jsonl` file per canonical table,
//! one JSON object per line with the canonical column names (`docs/schema.md`).

use std::io::BufRead;

use super::{Format, RecordSink, SourceFile, canonical_table_for};
use crate::Error;
use crate::record::{FieldError, Value, value_from_json};
use crate::schema::TableSpec;

pub struct CanonicalJsonl;

impl Format for CanonicalJsonl {
    fn name(&self) -> &'static str {
        "canonical-jsonl"
    }

    fn description(&self) -> &'static str {
        "govmedia canonical table as JSON Lines: accounts.jsonl, posts.jsonl, comments.jsonl, \
         menus.jsonl, link_checks.jsonl, orgs.jsonl (also posts-*.jsonl)"
    }

    fn detect(&self, file: &SourceFile, _head: &[u8]) -> bool {
        canonical_table_for(&file.file_name(), "jsonl").is_some()
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let table = canonical_table_for(&file.file_name(), "jsonl").ok_or_else(|| {
            Error::Input(format!(
                "{}: canonical JSONL files are named after their table, e.g. posts.jsonl",
                file.display()
            ))
        })?;
        let mut reader = super::quirks::open_lines(file, sink.options().encoding.as_deref())?;
        let mut line = String::new();
        let mut line_no = 0u64;
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| Error::io(&file.path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let text = line.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                continue;
            }
            if let Some(reason) = super::quirks::overlong_reason(text) {
                sink.reject_record(Some(table), line_no, reason, "");
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(text) {
                Err(e) => {
                    sink.reject_record(Some(table), line_no, format!("invalid JSON: {e}"), text)
                }
                Ok(serde_json::Value::Object(map)) => {
                    match values_from_object(table, &map, sink.options().allow_extra) {
                        Ok(values) => sink.record(table, line_no, values, text),
                        Err(err) => sink.reject(Some(table), line_no, err, text),
                    }
                }
                Ok(_) => sink.reject_record(
                    Some(table),
                    line_no,
                    "line is not a JSON object".into(),
                    text,
                ),
            }
        }
        Ok(())
    }
}

/// Reads a JSON object's fields into the table's column order.
pub fn values_from_object(
    table: &TableSpec,
    map: &serde_json::Map<String, serde_json::Value>,
    allow_extra: bool,
) -> Result<Vec<Value>, FieldError> {
    if !allow_extra && let Some(unknown) = map.keys().find(|k| table.column(k).is_none()) {
        return Err(FieldError::new(
            unknown.as_str(),
            format!(
                "not a column of table {} (use --allow-extra to ignore it)",
                table.name
            ),
        ));
    }
    table
        .columns
        .iter()
        .map(|c| match map.get(c.name) {
            None => Ok(Value::Null),
            Some(v) => value_from_json(c.ty, v).map_err(|reason| FieldError::new(c.name, reason)),
        })
        .collect()
}
