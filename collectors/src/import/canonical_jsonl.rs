//! The tool's own import format as JSON Lines: one `<table>.jsonl` file per canonical table,
//! one JSON object per line with the canonical column names (`docs/schema.md`).

use polars::prelude::{DataFrame, PolarsResult};

use super::line_blocks::{LineBlock, LineBlocks};
use super::{Admission, Format, RecordSink, SourceFile, canonical_table_for};
use crate::Error;
use crate::record::{
    FieldError, TableBuilder, Value, value_from_json, value_from_json_owned, value_from_json_str,
};
use crate::schema::{ColumnType, TableSpec};

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
        let options = sink.options();
        let block_bytes = options
            .block_bytes
            .unwrap_or(super::line_blocks::BLOCK_BYTES);
        let reader =
            super::quirks::open_line_blocks(file, options.encoding.as_deref(), block_bytes)?;
        let allow_extra = options.allow_extra;
        let admission = sink.admission();
        // A pipeline: one thread reads blocks of lines, every core parses a share of a block
        // while this thread hands the previous block's rows to the sink. Rows reach the sink in
        // file order, so the outcome is that of reading line by line.
        std::thread::scope(|scope| {
            let (chunks, received) = std::sync::mpsc::sync_channel(2);
            scope.spawn(move || read_blocks(reader, &chunks));
            let parse = |lines: LineBlock| {
                scope.spawn(move || {
                    let parsed = parse_lines(table, &lines, allow_extra, admission);
                    (lines, parsed)
                })
            };
            let mut parsing = None;
            let mut line_no = 0u64;
            loop {
                // The next chunk starts parsing before the previous one is handed over.
                let (next, failure) = match received.recv() {
                    Ok(Ok(lines)) => (Some(parse(lines)), None),
                    Ok(Err(e)) => (None, Some(e)),
                    Err(_) => (None, None),
                };
                if let Some(previous) = std::mem::replace(&mut parsing, next) {
                    let (lines, parts) = previous.join().expect("a line parser does not panic");
                    let parts = parts.map_err(|e| Error::polars(&file.path, e))?;
                    hand_over(sink, table, &lines, parts, &mut line_no);
                }
                // A read error ends the file after the lines read before it, as line by line.
                if let Some(e) = failure {
                    return Err(Error::io(&file.path, e));
                }
                if parsing.is_none() {
                    return Ok(());
                }
            }
        })
    }
}

/// Hands a parsed block to the sink: its rows, and its unreadable lines with their numbers.
fn hand_over(
    sink: &mut RecordSink<'_>,
    table: &'static TableSpec,
    lines: &LineBlock,
    parts: Vec<(Vec<Parsed>, DataFrame)>,
    line_no: &mut u64,
) {
    let mut lines = lines.lines(0..lines.len());
    for (parsed, rows) in parts {
        sink.record_admitted_rows(table, rows);
        // The part's outcomes first: zip stops on them without taking a line more.
        for (parsed, line) in parsed.into_iter().zip(lines.by_ref()) {
            *line_no += 1;
            let text = line.trim_start_matches('\u{feff}').trim();
            match parsed {
                Parsed::Blank | Parsed::Row(_) => {}
                Parsed::NotLoaded(reason) => sink.reject_record(Some(table), *line_no, reason, ""),
                Parsed::Unreadable(reason) => {
                    sink.reject_record(Some(table), *line_no, reason, text)
                }
                Parsed::Refused(err) => sink.reject(Some(table), *line_no, err, text),
            }
        }
    }
}

/// Reads the file's lines in blocks (`line_blocks`, about 4 MB each) into the channel, until the
/// end, an error or the receiver hanging up.
fn read_blocks<R: std::io::Read>(
    mut reader: LineBlocks<R>,
    chunks: &std::sync::mpsc::SyncSender<std::io::Result<LineBlock>>,
) {
    loop {
        match reader.next_block() {
            Ok(Some(block)) => {
                if chunks.send(Ok(block)).is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = chunks.send(Err(e));
                return;
            }
        }
    }
}

/// What one line of a canonical JSONL file holds.
#[derive(Debug, PartialEq)]
enum Parsed {
    Blank,
    /// A line over the cap or not in the file's encoding: quarantined without its text.
    NotLoaded(String),
    /// Not a JSON object (the reason).
    Unreadable(String),
    /// An object with a field that is not of the table, not of its type, or not valid.
    Refused(FieldError),
    /// A row as the store takes it ([`Admission::admit`]).
    Row(Vec<Value>),
}

/// Lines parsed on every core, in parts in line order: what each line is, and the rows the
/// store takes ([`Admission::admit`]) as a frame of the table (their lines are marked
/// `Parsed::Row` with no values left).
fn parse_lines(
    table: &'static TableSpec,
    lines: &LineBlock,
    allow_extra: bool,
    admission: Admission,
) -> PolarsResult<Vec<(Vec<Parsed>, DataFrame)>> {
    let parse = |part: &std::ops::Range<usize>| {
        let mut rows = TableBuilder::new(table);
        let parsed = lines
            .lines(part.clone())
            .map(|l| match parse_line(table, l, allow_extra) {
                Parsed::Row(values) => match admission.admit(table, values) {
                    Ok(values) => {
                        rows.push(values);
                        Parsed::Row(Vec::new())
                    }
                    Err(err) => Parsed::Refused(err),
                },
                other => other,
            })
            .collect::<Vec<_>>();
        rows.finish().map(|rows| (parsed, rows))
    };
    let workers = crate::parallel::cores();
    let per_part = lines.len().div_ceil(workers).max(64);
    let parts: Vec<std::ops::Range<usize>> = (0..lines.len())
        .step_by(per_part)
        .map(|start| start..(start + per_part).min(lines.len()))
        .collect();
    crate::parallel::map_in_order(&parts, workers, parse)
}

/// One line as a row of the table, or why it is not one.
fn parse_line(table: &'static TableSpec, line: &str, allow_extra: bool) -> Parsed {
    let text = line.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Parsed::Blank;
    }
    if let Some(reason) = super::quirks::overlong_reason(text) {
        return Parsed::NotLoaded(reason);
    }
    // The common case straight into the row; anything it does not take whole (a field that
    // is refused, a syntax error, a line that is not an object) is read again the general way,
    // which words the reason.
    if let Some(values) = row_direct(table, text, allow_extra) {
        return Parsed::Row(values);
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => Parsed::Unreadable(format!("invalid JSON: {e}")),
        Ok(serde_json::Value::Object(map)) => match values_from_object(table, &map, allow_extra) {
            Ok(values) => Parsed::Row(values),
            Err(err) => Parsed::Refused(err),
        },
        Ok(_) => Parsed::Unreadable("line is not a JSON object".into()),
    }
}

/// A JSON object read straight into the table's column order, without building the object:
/// `None` unless every field is a column of the table (or `allow_extra`) and every value of
/// its type. Duplicate keys: the last one counts, as in [`values_from_object`].
fn row_direct(table: &'static TableSpec, text: &str, allow_extra: bool) -> Option<Vec<Value>> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    let row = RowSeed { table, allow_extra }.deserialize(&mut de).ok()??;
    de.end().ok()?;
    Some(row)
}

struct RowSeed {
    table: &'static TableSpec,
    allow_extra: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for RowSeed {
    type Value = Option<Vec<Value>>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RowSeed {
    type Value = Option<Vec<Value>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let columns = self.table.columns;
        let mut values: Vec<Value> = columns.iter().map(|_| Value::Null).collect();
        let mut whole = true;
        let mut guess = 0;
        while let Some(column) = map.next_key_seed(ColumnSeed {
            table: self.table,
            guess,
        })? {
            match column {
                Some(i) => {
                    guess = i + 1;
                    match map.next_value_seed(CellSeed(columns[i].ty))? {
                        Ok(v) => values[i] = v,
                        Err(_) => whole = false,
                    }
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    whole &= self.allow_extra;
                }
            }
        }
        Ok(whole.then_some(values))
    }
}

/// A JSON value read straight as a cell of its column's type, as [`value_from_json_owned`]
/// reads it (`Err`: not of that type), without building the JSON value first: a time's text
/// is parsed where it lies, a number or a boolean never becomes a `serde_json::Value`. Arrays
/// and objects are built and read the general way.
struct CellSeed(ColumnType);

impl<'de> serde::de::DeserializeSeed<'de> for CellSeed {
    type Value = Result<Value, String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CellSeed {
    type Value = Result<Value, String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Ok(Value::Null))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Ok(Value::Null))
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(value_from_json(self.0, &serde_json::Value::Bool(b)))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(value_from_json(self.0, &serde_json::Value::from(n)))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(value_from_json(self.0, &serde_json::Value::from(n)))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
        Ok(value_from_json(self.0, &serde_json::Value::from(n)))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(value_from_json_str(self.0, s))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(value_from_json_owned(self.0, serde_json::Value::String(s)))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        use serde::Deserialize;
        let json =
            serde_json::Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(value_from_json_owned(self.0, json))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        use serde::Deserialize;
        let json =
            serde_json::Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(value_from_json_owned(self.0, json))
    }
}

/// A key as the index of its column (`None`: not a column of the table), without allocating.
/// The search starts at the column after the last key's: files written by a program list the
/// fields of every line in one order, mostly the table's with some left out, and searching all
/// column names from the first for each key was a tenth of an import's parsing.
struct ColumnSeed {
    table: &'static TableSpec,
    guess: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for ColumnSeed {
    type Value = Option<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ColumnSeed {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a column name")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        let columns = self.table.columns;
        let guess = self.guess.min(columns.len());
        let (before, after) = columns.split_at(guess);
        Ok(after
            .iter()
            .position(|c| c.name == key)
            .map(|i| guess + i)
            .or_else(|| before.iter().position(|c| c.name == key)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{COMMENTS, POSTS};

    /// A line read the general way: the whole object first, then its fields.
    fn read_whole(table: &'static TableSpec, line: &str, allow_extra: bool) -> Parsed {
        let text = line.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            return Parsed::Blank;
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => Parsed::Unreadable(format!("invalid JSON: {e}")),
            Ok(serde_json::Value::Object(map)) => {
                match values_from_object(table, &map, allow_extra) {
                    Ok(values) => Parsed::Row(values),
                    Err(err) => Parsed::Refused(err),
                }
            }
            Ok(_) => Parsed::Unreadable("line is not a JSON object".into()),
        }
    }

    #[test]
    fn reading_fields_straight_into_the_row_gives_what_reading_the_object_whole_gives() {
        let post = r#""account_id":"weibo:1","post_id":"p1","published_at":1700000000"#;
        let lines = [
            format!("{{{post}}}"),
            format!("\u{feff}  {{{post},\"title\":\"标题 \\\"引号\\\" \\u4e2d\"}}  "),
            format!("{{{post},\"read_count\":12,\"title\":\"\"}}"),
            // A platform id as a number; the last of two values of a key counts.
            r#"{"account_id":"weibo:1","post_id":123,"published_at":"2025-01-02T03:04:05Z"}"#
                .to_string(),
            format!("{{{post},\"read_count\":1,\"read_count\":2}}"),
            format!("{{{post},\"read_count\":\"x\",\"read_count\":2}}"),
            format!("{{{post},\"read_count\":2,\"read_count\":\"x\"}}"),
            // Not a column; not of the column's type; a nested value where text belongs.
            format!("{{{post},\"colour\":\"red\"}}"),
            format!("{{{post},\"zebra\":1,\"colour\":{{\"a\":[1]}}}}"),
            format!("{{{post},\"read_count\":1.5}}"),
            format!("{{{post},\"title\":{{\"a\":1}}}}"),
            format!("{{{post},\"read_count\":null}}"),
            // Every type from every kind of JSON value, keys out of the table's order.
            format!("{{\"repost_count\":3,{post},\"links\":[\"a\",7],\"is_deleted\":1}}"),
            format!("{{{post},\"links\":[\"a\",{{\"b\":1}}]}}"),
            format!("{{{post},\"links\":\"a\"}}"),
            format!("{{{post},\"links\":[]}}"),
            format!("{{{post},\"is_deleted\":0,\"is_original\":true,\"comments_open\":2}}"),
            format!("{{{post},\"is_deleted\":\"true\"}}"),
            format!("{{{post},\"read_count\":18446744073709551615}}"),
            format!("{{{post},\"read_count\":-4,\"like_count\":true}}"),
            format!("{{{post},\"title\":-4.25,\"text\":false}}"),
            format!("{{{post},\"title\":1e400}}"),
            r#"{"account_id":"weibo:1","post_id":"p1","published_at":-1}"#.to_string(),
            r#"{"account_id":"weibo:1","post_id":"p1","published_at":"yesterday"}"#.to_string(),
            r#"{"account_id":"weibo:1","post_id":"p1","published_at":"2025-01-02T03:04:05\u002b08:00"}"#.to_string(),
            r#"{"published_at":1700000000,"post_id":"p1","account_id":"weibo:1","account_id":""}"#.to_string(),
            // Syntax: trailing text, cut short, not an object, empty.
            format!("{{{post}}} x"),
            format!("{{{post}"),
            "[1,2]".to_string(),
            "\"text\"".to_string(),
            "   ".to_string(),
            "{}".to_string(),
        ];
        let mut direct = 0;
        for allow_extra in [false, true] {
            for line in &lines {
                let whole = read_whole(&POSTS, line, allow_extra);
                assert_eq!(parse_line(&POSTS, line, allow_extra), whole, "{line}");
                let text = line.trim_start_matches('\u{feff}').trim();
                if let Some(values) = row_direct(&POSTS, text, allow_extra) {
                    assert_eq!(Parsed::Row(values), whole, "{line}");
                    direct += 1;
                }
            }
        }
        // The straight path takes the common lines (and extra fields when they are allowed).
        assert_eq!(direct, 24);
    }

    #[test]
    fn parsed_chunks_hold_admitted_rows_in_line_order_with_commenters_pseudonymised() {
        let admission = Admission::new(Some([7; 32]));
        let lines: Vec<String> = (0..300)
            .map(|i| match i % 50 {
                7 => "not json".to_string(),
                9 => r#"{"account_id":"nowhere:1","post_id":"p","comment_id":"c","created_at":1}"#.to_string(),
                _ => format!(
                    r#"{{"account_id":"weibo:1","post_id":"p{i}","comment_id":"c{i}","author":"张三{i}","created_at":1700000000}}"#
                ),
            })
            .collect();
        let parts =
            parse_lines(&COMMENTS, &LineBlock::from_lines(&lines), false, admission).unwrap();
        let outcomes: Vec<&Parsed> = parts.iter().flat_map(|(p, _)| p).collect();
        assert_eq!(outcomes.len(), 300);
        let rows = parts
            .iter()
            .map(|(_, rows)| rows.clone())
            .reduce(|mut a, b| {
                a.vstack_mut_owned(b).unwrap();
                a
            })
            .unwrap();
        assert_eq!(rows.height(), 288);
        let ids: Vec<String> = rows
            .column("comment_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|id| id.unwrap_or_default().to_string())
            .collect();
        let expected: Vec<String> = (0..300)
            .filter(|i| i % 50 != 7 && i % 50 != 9)
            .map(|i| format!("c{i}"))
            .collect();
        assert_eq!(ids, expected);
        let author = rows
            .column("author")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(
            Value::Str(author.to_string()),
            admission.pseudonym(Some("张三0"))
        );
        assert!(matches!(outcomes[7], Parsed::Unreadable(_)));
        assert!(matches!(outcomes[9], Parsed::Refused(e) if e.field == "account_id"));
    }
}
