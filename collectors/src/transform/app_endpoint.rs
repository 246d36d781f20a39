//! An app's own JSON endpoint (its news list or service menu), read through a field mapping:
//! apps have no common API, so the collection config says where the list is in a response and
//! which field holds each canonical column. The collector saves the mapping as
//! `app-endpoint.json` beside the pages it saves, so the pages can be imported again without the
//! config.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Out, row};
use crate::record::{FieldError, Value};
use crate::schema::{ColumnType, MENUS, POSTS, TableSpec};

/// The mapping file's name, beside the saved pages.
pub const MAPPING_FILE: &str = "app-endpoint.json";

/// How one endpoint's list elements become canonical rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The account the rows belong to (`app:<trackId>`).
    pub account_id: String,
    /// `posts` (a news list) or `menus` (a service menu).
    pub table: String,
    /// Where the list is: a JSON pointer (`/data/list`) or dotted path (`data.list`); empty =
    /// the response is the list.
    #[serde(default)]
    pub list: String,
    /// chrono format of time fields; absent = lenient reading (ISO 8601, `2025-11-02 09:30`,
    /// unix seconds or milliseconds).
    #[serde(default)]
    pub time_format: Option<String>,
    /// Canonical column → field of a list element.
    pub fields: BTreeMap<String, String>,
}

/// Columns a menu mapping may name besides the menus table's own: the parent entry's name.
const MENU_PARENT: &str = "parent";

impl Mapping {
    /// The table the rows go to, after checking that every mapped column exists and the
    /// required ones are mapped.
    pub fn check(&self) -> Result<&'static TableSpec, String> {
        let (spec, required): (&'static TableSpec, &[&str]) = match self.table.as_str() {
            "posts" => (&POSTS, &["post_id", "published_at"]),
            "menus" => (&MENUS, &["name"]),
            other => {
                return Err(format!(
                    "table {other:?}: an app endpoint maps to posts or menus"
                ));
            }
        };
        for column in self.fields.keys() {
            let own = spec.column(column).is_some() && column != "account_id";
            let extra = spec.name == "menus" && column == MENU_PARENT;
            if !own && !extra || (spec.name == "menus" && column == "path") {
                return Err(format!(
                    "fields.{column}: not a column an app's {} endpoint can fill",
                    spec.name
                ));
            }
        }
        if let Some(missing) = required.iter().find(|c| !self.fields.contains_key(**c)) {
            return Err(format!("fields.{missing}: required for {}", spec.name));
        }
        Ok(spec)
    }

    /// The list of a response.
    pub fn list<'a>(&self, response: &'a Json) -> Option<&'a Vec<Json>> {
        lookup(response, &self.list)?.as_array()
    }

    /// The time of an element (its `published_at`), when mapped and readable.
    pub fn published_ms(&self, element: &Json) -> Option<i64> {
        let field = self.fields.get("published_at")?;
        read_time(lookup(element, field)?, self.time_format.as_deref()).ok()
    }
}

/// A field by JSON pointer (`/a/0/b`) or dotted path (`a.b`); empty = the value itself.
pub fn lookup<'a>(value: &'a Json, path: &str) -> Option<&'a Json> {
    if path.is_empty() {
        return Some(value);
    }
    if path.starts_with('/') {
        return value.pointer(path);
    }
    path.split('.').try_fold(value, |v, key| match v {
        Json::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => v.get(key),
    })
}

/// One list element as a row of the mapping's table; `collected_ms` stamps menu snapshots.
pub fn element(
    mapping: &Mapping,
    spec: &'static TableSpec,
    element: &Json,
    collected_ms: Option<i64>,
) -> Out {
    let mut cells: Vec<(&str, Value)> =
        vec![("account_id", Value::Str(mapping.account_id.clone()))];
    for column in spec.columns.iter().filter(|c| c.name != "account_id") {
        let Some(field) = mapping.fields.get(column.name) else {
            continue;
        };
        let value = match lookup(element, field) {
            None | Some(Json::Null) => Value::Null,
            Some(v) => match convert(v, column.ty, mapping.time_format.as_deref()) {
                Ok(v) => v,
                Err(why) => {
                    return Out::Bad(
                        Some(spec),
                        FieldError::new(column.name, format!("field `{field}`: {why}")),
                    );
                }
            },
        };
        if column.required && matches!(value, Value::Null) {
            return Out::Bad(
                Some(spec),
                FieldError::new(column.name, format!("missing field `{field}`")),
            );
        }
        cells.push((column.name, value));
    }
    if spec.name == "menus" {
        let name = cells.iter().find_map(|(c, v)| match (c, v) {
            (&"name", Value::Str(s)) => Some(s.clone()),
            _ => None,
        });
        let Some(name) = name else {
            return Out::Bad(
                Some(spec),
                FieldError::new("name", "missing menu entry name"),
            );
        };
        let parent = mapping
            .fields
            .get(MENU_PARENT)
            .and_then(|f| lookup(element, f))
            .and_then(json_text);
        let path = match parent {
            Some(p) => format!("{p}/{name}"),
            None => name,
        };
        cells.push(("path", Value::Str(path)));
        if !mapping.fields.contains_key("collected_at")
            && let Some(ms) = collected_ms
        {
            cells.retain(|(c, _)| *c != "collected_at");
            cells.push(("collected_at", Value::Time(ms)));
        }
    }
    Out::Row(spec, row(spec, cells))
}

fn json_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn convert(v: &Json, ty: ColumnType, time_format: Option<&str>) -> Result<Value, String> {
    Ok(match ty {
        ColumnType::Str => json_text(v).map_or(Value::Null, Value::Str),
        ColumnType::Int => match v {
            Json::Number(n) => Value::Int(
                n.as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .unwrap_or(0),
            ),
            Json::String(s) => {
                crate::import::quirks::parse_count(s)?.map_or(Value::Null, Value::Int)
            }
            _ => return Err(format!("not a number: {v}")),
        },
        ColumnType::Bool => match v {
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Bool(n.as_i64() != Some(0)),
            Json::String(s) => match s.trim() {
                "1" | "true" | "是" => Value::Bool(true),
                "0" | "false" | "否" => Value::Bool(false),
                other => return Err(format!("not a yes/no: {other:?}")),
            },
            _ => return Err(format!("not a yes/no: {v}")),
        },
        ColumnType::Time => Value::Time(read_time(v, time_format)?),
        ColumnType::Date => {
            let ms = read_time(v, time_format)?;
            Value::Date(ms.div_euclid(crate::time::DAY_MS) as i32)
        }
        ColumnType::ListStr => match v {
            Json::Array(items) => Value::List(items.iter().filter_map(json_text).collect()),
            other => Value::List(json_text(other).into_iter().collect()),
        },
    })
}

/// A time as the endpoint writes it: with the configured format (Asia/Shanghai when it has no
/// offset), or leniently; numbers are unix seconds, or milliseconds when that large.
fn read_time(v: &Json, format: Option<&str>) -> Result<i64, String> {
    if let Json::Number(n) = v {
        let n = n.as_i64().ok_or_else(|| format!("not a time: {v}"))?;
        return if n.abs() >= 100_000_000_000 {
            Ok(n)
        } else {
            crate::time::unix_seconds_to_ms(n).ok_or_else(|| format!("not a time: {n}"))
        };
    }
    let text = json_text(v).ok_or_else(|| format!("not a time: {v}"))?;
    match format {
        Some(f) => {
            if let Ok(at) = chrono::DateTime::parse_from_str(&text, f) {
                return Ok(at.timestamp_millis());
            }
            if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(&text, f) {
                return crate::time::shanghai_naive_to_ms(naive)
                    .ok_or_else(|| format!("{text:?} does not exist in Asia/Shanghai"));
            }
            chrono::NaiveDate::parse_from_str(&text, f)
                .map(crate::time::shanghai_midnight_ms)
                .map_err(|_| format!("{text:?} does not match the time format {f:?}"))
        }
        None => crate::import::quirks::parse_export_time(&text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn news() -> Mapping {
        Mapping {
            account_id: "app:1400000026".into(),
            table: "posts".into(),
            list: "data.list".into(),
            time_format: Some("%Y-%m-%d %H:%M".into()),
            fields: [
                ("post_id", "id"),
                ("published_at", "publishTime"),
                ("title", "title"),
                ("url", "link"),
                ("read_count", "stats.views"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        }
    }

    #[test]
    fn a_news_element_maps_to_a_post_and_a_bad_one_names_its_field() {
        let mapping = news();
        let spec = mapping.check().unwrap();
        let page = json!({"data": {"list": [
            {"id": 7, "publishTime": "2025-11-02 09:30", "title": "政策解读", "link": "https://app.example.gov.cn/n/7", "stats": {"views": "1.2万"}},
            {"id": 8, "publishTime": "昨天", "title": "x"}
        ]}});
        let list = mapping.list(&page).unwrap();
        let Out::Row(_, values) = element(&mapping, spec, &list[0], None) else {
            panic!("a row")
        };
        let at = |c: &str| values[POSTS.index_of(c).unwrap()].clone();
        assert_eq!(at("post_id"), Value::Str("7".into()));
        assert_eq!(at("published_at"), Value::Time(1_762_047_000_000));
        assert_eq!(at("read_count"), Value::Int(12_000));
        assert_eq!(mapping.published_ms(&list[0]), Some(1_762_047_000_000));
        let Out::Bad(_, e) = element(&mapping, spec, &list[1], None) else {
            panic!("refused")
        };
        assert_eq!(e.field, "published_at");
        assert!(e.reason.contains("publishTime"), "{}", e.reason);
    }

    #[test]
    fn menu_entries_take_their_parent_into_the_path_and_bad_mappings_are_refused() {
        let mapping = Mapping {
            account_id: "app:1".into(),
            table: "menus".into(),
            list: "/data".into(),
            time_format: None,
            fields: [("name", "title"), ("target", "url"), ("parent", "group")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        };
        let spec = mapping.check().unwrap();
        let Out::Row(_, values) = element(
            &mapping,
            spec,
            &json!({"title": "社保查询", "url": "https://x.gov.cn/q", "group": "查询"}),
            Some(5),
        ) else {
            panic!("a row")
        };
        assert_eq!(
            values[MENUS.index_of("path").unwrap()],
            Value::Str("查询/社保查询".into())
        );
        assert_eq!(
            values[MENUS.index_of("collected_at").unwrap()],
            Value::Time(5)
        );
        let mut bad = mapping.clone();
        bad.fields.insert("colour".into(), "c".into());
        assert!(bad.check().unwrap_err().contains("fields.colour"));
        let mut no_id = news();
        no_id.fields.remove("post_id");
        assert!(no_id.check().unwrap_err().contains("fields.post_id"));
    }
}
