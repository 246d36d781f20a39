//! Canonical records: typed values checked against a table's schema, and the columnar builder
//! that turns accepted records into a Polars `DataFrame`.

use polars::prelude::*;

use crate::schema::{ColumnType, PLATFORMS, TableSpec};
use crate::time::{parse_date_days, parse_instant_ms, unix_seconds_to_ms};

/// One typed cell of a canonical record.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    Int(i64),
    Bool(bool),
    /// UTC milliseconds.
    Time(i64),
    /// Days since 1970-01-01.
    Date(i32),
    List(Vec<String>),
}

/// Why a record was refused, naming the field at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.reason)
    }
}

/// Reads a JSON value as a cell of the given type.
pub fn value_from_json(ty: ColumnType, v: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    Ok(match (ty, v) {
        (_, J::Null) => Value::Null,
        (ty, J::String(s)) => return value_from_json_str(ty, s),
        // Platform ids are often numbers in JSON; the canonical id is their decimal text.
        (ColumnType::Str, J::Number(n)) => Value::Str(n.to_string()),
        (ColumnType::Int, J::Number(n)) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => return Err(format!("expected an integer, got {n}")),
        },
        (ColumnType::Bool, J::Bool(b)) => Value::Bool(*b),
        (ColumnType::Bool, J::Number(n)) if n.as_i64() == Some(0) => Value::Bool(false),
        (ColumnType::Bool, J::Number(n)) if n.as_i64() == Some(1) => Value::Bool(true),
        (ColumnType::Time, J::Number(n)) => match n.as_i64().and_then(unix_seconds_to_ms) {
            Some(ms) => Value::Time(ms),
            None => return Err(format!("expected unix seconds, got {n}")),
        },
        (ColumnType::ListStr, J::Array(items)) => Value::List(
            items
                .iter()
                .map(|item| match item {
                    J::String(s) => Ok(s.clone()),
                    J::Number(n) => Ok(n.to_string()),
                    other => Err(format!(
                        "expected a list of strings, found {}",
                        json_kind(other)
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        (ty, other) => {
            return Err(format!("expected {}, got {}", ty.label(), json_kind(other)));
        }
    })
}

/// A JSON string as a cell of the given type, as [`value_from_json`] reads it: empty text is
/// null, instants and days are parsed, any other type is an error.
pub fn value_from_json_str(ty: ColumnType, s: &str) -> Result<Value, String> {
    Ok(match ty {
        ColumnType::Str if s.is_empty() => Value::Null,
        ColumnType::Str => Value::Str(s.to_string()),
        ColumnType::Time => Value::Time(parse_instant_ms(s)?),
        ColumnType::Date => Value::Date(parse_date_days(s)?),
        ty => return Err(format!("expected {}, got a string", ty.label())),
    })
}

/// [`value_from_json`] taking the JSON value, so a string moves into the cell instead of being
/// copied.
pub fn value_from_json_owned(ty: ColumnType, v: serde_json::Value) -> Result<Value, String> {
    match (ty, v) {
        (ColumnType::Str, serde_json::Value::String(s)) if !s.is_empty() => Ok(Value::Str(s)),
        (ty, v) => value_from_json(ty, &v),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value as J;
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

/// Reads a text cell (CSV) as a cell of the given type. Empty text is null.
pub fn value_from_text(ty: ColumnType, text: &str) -> Result<Value, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match ty {
        ColumnType::Str => Value::Str(text.to_string()),
        ColumnType::Int => Value::Int(
            t.parse::<i64>()
                .map_err(|_| format!("expected an integer, got {t:?}"))?,
        ),
        ColumnType::Bool => Value::Bool(match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "t" => true,
            "false" | "0" | "no" | "n" | "f" => false,
            _ => return Err(format!("expected true/false, got {t:?}")),
        }),
        ColumnType::Time => Value::Time(parse_instant_ms(t)?),
        ColumnType::Date => Value::Date(parse_date_days(t)?),
        ColumnType::ListStr => Value::List(
            t.split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        ),
    })
}

/// Checks the rules that hold across fields: required columns present, `account_id` of the form
/// `<platform>:<native id>`, and `platform` matching it.
pub fn validate(spec: &TableSpec, values: &[Value]) -> Result<(), FieldError> {
    for (c, v) in spec.columns.iter().zip(values) {
        if c.required && *v == Value::Null {
            return Err(FieldError::new(c.name, "required value is missing"));
        }
    }
    if let Some(i) = spec.index_of("account_id")
        && let Value::Str(id) = &values[i]
    {
        let platform = id.split_once(':').map(|(p, rest)| (p, rest.is_empty()));
        match platform {
            Some((p, false)) if PLATFORMS.contains(&p) => {
                if let Some(j) = spec.index_of("platform")
                    && let Value::Str(declared) = &values[j]
                    && declared != p
                {
                    return Err(FieldError::new(
                        "platform",
                        format!("{declared:?} does not match account_id {id:?}"),
                    ));
                }
            }
            _ => {
                return Err(FieldError::new(
                    "account_id",
                    format!(
                        "{id:?} is not <platform>:<native id> with platform wechat, weibo or app"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Rows buffered as Rust values before they are converted into compact columns.
const CHUNK_ROWS: usize = 1 << 18;

/// Accumulates accepted records of one table column by column. Every [`CHUNK_ROWS`] rows the
/// buffered values are converted into a Polars chunk, so a large import holds its records in the
/// compact columnar form rather than as one Rust `String` per cell.
pub struct TableBuilder {
    spec: &'static TableSpec,
    columns: Vec<ColumnBuffer>,
    buffered: usize,
    chunks: Vec<PolarsResult<DataFrame>>,
}

enum ColumnBuffer {
    /// Texts copied into the column's buffers as they come: holding them as `String`s until the
    /// chunk was built cost a second pass and a free of every text, cold (a sixth of an
    /// import's parsing).
    Str(polars_arrow::array::MutableBinaryViewArray<str>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Time(Vec<Option<i64>>),
    Date(Vec<Option<i32>>),
    List(Vec<Option<Vec<String>>>),
}

impl ColumnBuffer {
    fn empty(ty: ColumnType) -> ColumnBuffer {
        match ty {
            ColumnType::Str => ColumnBuffer::Str(Default::default()),
            ColumnType::Int => ColumnBuffer::Int(Vec::new()),
            ColumnType::Bool => ColumnBuffer::Bool(Vec::new()),
            ColumnType::Time => ColumnBuffer::Time(Vec::new()),
            ColumnType::Date => ColumnBuffer::Date(Vec::new()),
            ColumnType::ListStr => ColumnBuffer::List(Vec::new()),
        }
    }

    fn into_column(self, name: &'static str) -> Column {
        let name = PlSmallStr::from_static(name);
        let series = match self {
            ColumnBuffer::Str(v) => StringChunked::with_chunk(name, v.freeze()).into_series(),
            ColumnBuffer::Int(v) => Series::new(name, v),
            ColumnBuffer::Bool(v) => Series::new(name, v),
            ColumnBuffer::Time(v) => Int64Chunked::from_iter_options(name, v.into_iter())
                .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
                .into_series(),
            ColumnBuffer::Date(v) => Int32Chunked::from_iter_options(name, v.into_iter())
                .into_date()
                .into_series(),
            ColumnBuffer::List(v) => {
                let mut b = ListStringChunkedBuilder::new(name, v.len(), v.len());
                for item in &v {
                    match item {
                        Some(items) => b.append_values_iter(items.iter().map(String::as_str)),
                        None => b.append_null(),
                    }
                }
                b.finish().into_series()
            }
        };
        series.into_column()
    }
}

impl TableBuilder {
    pub fn new(spec: &'static TableSpec) -> Self {
        TableBuilder {
            spec,
            columns: spec
                .columns
                .iter()
                .map(|c| ColumnBuffer::empty(c.ty))
                .collect(),
            buffered: 0,
            chunks: Vec::new(),
        }
    }

    /// Appends one record whose values are in the table's column order and already validated.
    pub fn push(&mut self, values: Vec<Value>) {
        debug_assert_eq!(values.len(), self.columns.len());
        for (buf, v) in self.columns.iter_mut().zip(values) {
            match (buf, v) {
                (ColumnBuffer::Str(b), Value::Str(s)) => b.push_value(s),
                (ColumnBuffer::Int(b), Value::Int(i)) => b.push(Some(i)),
                (ColumnBuffer::Bool(b), Value::Bool(x)) => b.push(Some(x)),
                (ColumnBuffer::Time(b), Value::Time(t)) => b.push(Some(t)),
                (ColumnBuffer::Date(b), Value::Date(d)) => b.push(Some(d)),
                (ColumnBuffer::List(b), Value::List(l)) => b.push(Some(l)),
                (ColumnBuffer::Str(b), _) => b.push_null(),
                (ColumnBuffer::Int(b), _) => b.push(None),
                (ColumnBuffer::Bool(b), _) => b.push(None),
                (ColumnBuffer::Time(b), _) => b.push(None),
                (ColumnBuffer::Date(b), _) => b.push(None),
                (ColumnBuffer::List(b), _) => b.push(None),
            }
        }
        self.buffered += 1;
        if self.buffered >= CHUNK_ROWS {
            self.flush();
        }
    }

    /// Appends rows already built as a frame of this table (by [`TableBuilder::finish`] of
    /// another builder, e.g. on a parser's thread).
    pub fn push_frame(&mut self, rows: DataFrame) {
        self.flush();
        self.chunks.push(Ok(rows));
    }

    fn flush(&mut self) {
        if self.buffered == 0 {
            return;
        }
        let height = self.buffered;
        let columns = self
            .spec
            .columns
            .iter()
            .zip(self.columns.iter_mut())
            .map(|(c, buf)| std::mem::replace(buf, ColumnBuffer::empty(c.ty)).into_column(c.name))
            .collect();
        self.chunks.push(DataFrame::new(height, columns));
        self.buffered = 0;
    }

    /// Builds the `DataFrame` with the table's canonical column names and types.
    pub fn finish(mut self) -> PolarsResult<DataFrame> {
        self.flush();
        let mut chunks = self.chunks.into_iter();
        let Some(first) = chunks.next() else {
            return Ok(DataFrame::empty_with_schema(&self.spec.polars_schema()));
        };
        let mut df = first?;
        for chunk in chunks {
            df.vstack_mut_owned(chunk?)?;
        }
        Ok(df)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ACCOUNTS, POSTS};
    use serde_json::json;

    #[test]
    fn json_numbers_become_string_ids() {
        assert_eq!(
            value_from_json(ColumnType::Str, &json!(4_567_890_123_i64)).unwrap(),
            Value::Str("4567890123".into())
        );
    }

    #[test]
    fn wrong_json_type_is_an_error() {
        let err = value_from_json(ColumnType::Int, &json!("many")).unwrap_err();
        assert!(err.contains("expected int"), "{err}");
    }

    #[test]
    fn csv_lists_are_pipe_separated() {
        assert_eq!(
            value_from_text(ColumnType::ListStr, "a| b |").unwrap(),
            Value::List(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn account_id_needs_a_known_platform_prefix() {
        let mut values = vec![Value::Null; ACCOUNTS.columns.len()];
        values[0] = Value::Str("douyin:1".into());
        values[1] = Value::Str("weibo".into());
        values[2] = Value::Str("x".into());
        assert_eq!(
            validate(&ACCOUNTS, &values).unwrap_err().field,
            "account_id"
        );
        values[0] = Value::Str("wechat:gh_1".into());
        assert_eq!(validate(&ACCOUNTS, &values).unwrap_err().field, "platform");
    }

    #[test]
    fn builder_produces_canonical_dtypes() {
        let mut b = TableBuilder::new(&POSTS);
        let mut values = vec![Value::Null; POSTS.columns.len()];
        values[0] = Value::Str("weibo:1".into());
        values[1] = Value::Str("9".into());
        values[2] = Value::Time(1_700_000_000_000);
        values[7] = Value::List(vec!["https://a.example".into()]);
        b.push(values);
        let df = b.finish().unwrap();
        assert_eq!(df.schema().as_ref(), &POSTS.polars_schema());
    }
}
