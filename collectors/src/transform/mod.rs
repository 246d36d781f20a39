//! Raw platform JSON → canonical rows. Pure functions shared by the archive importers (saved API
//! responses) and the live collectors, so a response means the same thing however it arrived.
//!
//! A transform takes one response (or one record of an exporter's list) and returns [`Out`]
//! items: rows that are input records, rows derived from them (the account a status was posted
//! by), or a record that cannot be read, with the field at fault.

pub mod app_endpoint;
pub mod appstore;
pub mod wechat;
pub mod weibo;

use serde_json::Value as Json;

use crate::record::{FieldError, Value};
use crate::schema::TableSpec;

/// What a transform produced from one input record.
#[derive(Debug, Clone)]
pub enum Out {
    /// A canonical row that is an input record of its own (counted).
    Row(&'static TableSpec, Vec<Value>),
    /// A row derived from a counted record (merged, not counted).
    Derived(&'static TableSpec, Vec<Value>),
    /// A record that cannot be read.
    Bad(Option<&'static TableSpec>, FieldError),
}

impl Out {
    /// A counted row, or the record's failure naming the field.
    pub fn from_result(table: &'static TableSpec, built: Result<Vec<Value>, FieldError>) -> Out {
        match built {
            Ok(values) => Out::Row(table, values),
            Err(e) => Out::Bad(Some(table), e),
        }
    }
}

/// Context a transform needs beyond the JSON.
pub struct Context<'a> {
    /// Pseudonymises a commenter's identity (or keeps it, with `--keep-identities`).
    pub pseudonym: &'a dyn Fn(Option<&str>) -> Value,
}

/// A canonical row built by column name.
pub fn row(spec: &TableSpec, cells: Vec<(&str, Value)>) -> Vec<Value> {
    let mut values = vec![Value::Null; spec.columns.len()];
    for (name, value) in cells {
        let i = spec
            .index_of(name)
            .unwrap_or_else(|| panic!("{name} is not a column of {}", spec.name));
        values[i] = value;
    }
    values
}

/// Typed access to JSON fields, tolerant of the platforms' habits (ids as numbers or strings,
/// booleans as 0/1 or "1").
pub(crate) trait JsonExt {
    fn text(&self, key: &str) -> Option<String>;
    fn int(&self, key: &str) -> Option<i64>;
    fn flag(&self, key: &str) -> Option<bool>;
}

impl JsonExt for Json {
    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Json::String(s) => crate::import::quirks::parse_count(s).ok().flatten(),
            _ => None,
        }
    }

    fn flag(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Json::Bool(b) => Some(*b),
            Json::Number(n) => n.as_i64().map(|v| v != 0),
            Json::String(s) => match s.trim() {
                "1" | "true" | "True" => Some(true),
                "0" | "false" | "False" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }
}

pub(crate) fn opt_str(v: Option<String>) -> Value {
    v.map_or(Value::Null, Value::Str)
}

pub(crate) fn opt_int(v: Option<i64>) -> Value {
    v.map_or(Value::Null, Value::Int)
}

pub(crate) fn opt_bool(v: Option<bool>) -> Value {
    v.map_or(Value::Null, Value::Bool)
}
