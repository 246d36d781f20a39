//! The tool's own import format as CSV: one `<table>.csv` file per canonical table with a header
//! row of canonical column names; lists are `|`-separated; UTF-8 with or without BOM.

use super::{Format, RecordSink, SourceFile, canonical_table_for};
use crate::Error;
use crate::record::{FieldError, Value, value_from_text};

pub struct CanonicalCsv;

impl Format for CanonicalCsv {
    fn name(&self) -> &'static str {
        "canonical-csv"
    }

    fn description(&self) -> &'static str {
        "govmedia canonical table as CSV with a header row: accounts.csv, posts.csv, comments.csv, \
         menus.csv, link_checks.csv, orgs.csv (also posts-*.csv)"
    }

    fn detect(&self, file: &SourceFile, _head: &[u8]) -> bool {
        canonical_table_for(&file.file_name(), "csv").is_some()
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let table = canonical_table_for(&file.file_name(), "csv").ok_or_else(|| {
            Error::Input(format!(
                "{}: canonical CSV files are named after their table, e.g. posts.csv",
                file.display()
            ))
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(super::quirks::open_lines(
                file,
                sink.options().encoding.as_deref(),
            )?);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| {
                Error::Input(format!(
                    "{}: line 1: cannot read the header: {e}",
                    file.display()
                ))
            })?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();

        // Map each canonical column to its position in the file, refusing an unusable header.
        let mut positions: Vec<Option<usize>> = vec![None; table.columns.len()];
        for (i, name) in header.iter().enumerate() {
            match table.index_of(name) {
                Some(c) if positions[c].is_some() => {
                    return Err(Error::Input(format!(
                        "{}: line 1: column `{name}` appears twice in the header",
                        file.display()
                    )));
                }
                Some(c) => positions[c] = Some(i),
                None if sink.options().allow_extra => {}
                None => {
                    return Err(Error::Input(format!(
                        "{}: line 1: `{name}` is not a column of table {} (use --allow-extra to ignore it)",
                        file.display(),
                        table.name
                    )));
                }
            }
        }
        let missing: Vec<&str> = table
            .columns
            .iter()
            .zip(&positions)
            .filter(|(c, p)| c.required && p.is_none())
            .map(|(c, _)| c.name)
            .collect();
        if !missing.is_empty() {
            return Err(Error::Input(format!(
                "{}: line 1: missing required column{} {} for table {}",
                file.display(),
                if missing.len() > 1 { "s" } else { "" },
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                table.name
            )));
        }

        let mut record = csv::StringRecord::new();
        loop {
            let line = reader.position().line() + 1;
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    // An unreadable row (e.g. invalid UTF-8) is quarantined; reading goes on.
                    let line = e.position().map_or(line, |p| p.line());
                    sink.reject_record(Some(table), line, format!("unreadable CSV row: {e}"), "");
                    continue;
                }
            }
            let line = record.position().map_or(line, |p| p.line());
            if let Some(reason) = record.get(0).and_then(super::quirks::overlong_reason) {
                sink.reject_record(Some(table), line, reason, "");
                continue;
            }
            let raw = record.iter().collect::<Vec<_>>().join(",");
            if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
                continue;
            }
            if record.len() != header.len() {
                sink.reject_record(
                    Some(table),
                    line,
                    format!(
                        "row has {} fields, the header has {}",
                        record.len(),
                        header.len()
                    ),
                    &raw,
                );
                continue;
            }
            let values: Result<Vec<Value>, FieldError> = table
                .columns
                .iter()
                .zip(&positions)
                .map(|(c, p)| match p.and_then(|i| record.get(i)) {
                    None => Ok(Value::Null),
                    Some(text) => {
                        value_from_text(c.ty, text).map_err(|r| FieldError::new(c.name, r))
                    }
                })
                .collect();
            match values {
                Ok(values) => sink.record(table, line, values, &raw),
                Err(err) => sink.reject(Some(table), line, err, &raw),
            }
        }
        Ok(())
    }
}
