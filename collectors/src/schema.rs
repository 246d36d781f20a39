//! The canonical tables (`docs/schema.md`): names, column types, required columns and natural
//! keys. Table and column names are a contract shared with users' import files and the store.

use polars::prelude::{DataType, Field, PlSmallStr, Schema, TimeUnit, TimeZone};

/// The logical type of a canonical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Str,
    Int,
    Bool,
    /// An instant, stored as UTC milliseconds.
    Time,
    /// A calendar date (YYYY-MM-DD).
    Date,
    /// A list of strings (JSON array in JSONL, `|`-separated in CSV).
    ListStr,
}

impl ColumnType {
    pub fn polars_dtype(self) -> DataType {
        match self {
            ColumnType::Str => DataType::String,
            ColumnType::Int => DataType::Int64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Time => DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)),
            ColumnType::Date => DataType::Date,
            ColumnType::ListStr => DataType::List(Box::new(DataType::String)),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ColumnType::Str => "str",
            ColumnType::Int => "int",
            ColumnType::Bool => "bool",
            ColumnType::Time => "time",
            ColumnType::Date => "date",
            ColumnType::ListStr => "list<str>",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub ty: ColumnType,
    pub required: bool,
}

const fn req(name: &'static str, ty: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required: true,
    }
}

const fn opt(name: &'static str, ty: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required: false,
    }
}

/// How a column's value is combined when a record is seen again (a later sighting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeRule {
    /// The later sighting's value wins unless it is null (a partial source never erases data).
    Latest,
    /// The earliest value is kept (e.g. `first_seen`).
    Min,
    /// The latest value is kept (e.g. `last_seen`).
    Max,
}

#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub columns: &'static [ColumnSpec],
    /// Natural key used for de-duplication on import.
    pub key: &'static [&'static str],
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn polars_schema(&self) -> Schema {
        self.columns
            .iter()
            .map(|c| Field::new(PlSmallStr::from_static(c.name), c.ty.polars_dtype()))
            .collect()
    }

    pub fn merge_rule(&self, column: &str) -> MergeRule {
        match (self.name, column) {
            ("accounts", "first_seen") => MergeRule::Min,
            ("accounts", "last_seen") => MergeRule::Max,
            _ => MergeRule::Latest,
        }
    }

    pub fn is_key(&self, column: &str) -> bool {
        self.key.contains(&column)
    }
}

use ColumnType::*;

pub static ACCOUNTS: TableSpec = TableSpec {
    name: "accounts",
    columns: &[
        req("account_id", Str),
        req("platform", Str),
        req("name", Str),
        opt("account_kind", Str),
        opt("org_id", Str),
        opt("certification", Str),
        opt("verified", Bool),
        opt("verified_type", Int),
        opt("followers", Int),
        opt("comments_enabled", Bool),
        opt("url", Str),
        opt("first_seen", Time),
        opt("last_seen", Time),
    ],
    key: &["account_id"],
};

pub static POSTS: TableSpec = TableSpec {
    name: "posts",
    columns: &[
        req("account_id", Str),
        req("post_id", Str),
        req("published_at", Time),
        opt("title", Str),
        opt("text", Str),
        opt("content_html", Str),
        opt("url", Str),
        opt("links", ListStr),
        opt("position", Int),
        opt("is_deleted", Bool),
        opt("is_original", Bool),
        opt("comments_open", Bool),
        opt("read_count", Int),
        opt("like_count", Int),
        opt("watch_count", Int),
        opt("share_count", Int),
        opt("comment_count", Int),
        opt("repost_count", Int),
        opt("fav_count", Int),
    ],
    key: &["account_id", "post_id"],
};

pub static COMMENTS: TableSpec = TableSpec {
    name: "comments",
    columns: &[
        req("account_id", Str),
        req("post_id", Str),
        req("comment_id", Str),
        req("created_at", Time),
        opt("content", Str),
        opt("author", Str),
        opt("is_elected", Bool),
        opt("is_visible", Bool),
        opt("reply_content", Str),
        opt("reply_at", Time),
    ],
    key: &["account_id", "post_id", "comment_id"],
};

pub static MENUS: TableSpec = TableSpec {
    name: "menus",
    columns: &[
        req("account_id", Str),
        req("path", Str),
        opt("name", Str),
        opt("kind", Str),
        opt("target", Str),
        opt("collected_at", Time),
    ],
    key: &["account_id", "path", "collected_at"],
};

pub static LINK_CHECKS: TableSpec = TableSpec {
    name: "link_checks",
    columns: &[
        req("url", Str),
        req("checked_at", Time),
        opt("status", Int),
        opt("error", Str),
    ],
    key: &["url", "checked_at"],
};

pub static ORGS: TableSpec = TableSpec {
    name: "orgs",
    columns: &[
        req("org_id", Str),
        req("official_name", Str),
        opt("short_names", ListStr),
        opt("former_names", ListStr),
        opt("duty_keywords", ListStr),
        opt("admin_level", Str),
        opt("group", Str),
        opt("region", Str),
        opt("parent_id", Str),
        opt("internal_dept", Bool),
    ],
    key: &["org_id"],
};

/// Every canonical table, in the order they are imported and documented.
pub static TABLES: [&TableSpec; 6] = [&ACCOUNTS, &POSTS, &COMMENTS, &MENUS, &LINK_CHECKS, &ORGS];

pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// The platforms an `account_id` may be prefixed with.
pub const PLATFORMS: [&str; 3] = ["wechat", "weibo", "app"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_column_is_a_required_column_of_its_table() {
        for t in TABLES {
            for k in t.key {
                let c = t
                    .column(k)
                    .unwrap_or_else(|| panic!("{}.{k} missing", t.name));
                // menus' collected_at is part of the key but optional in the spec; a null there
                // is still a valid (single) sighting.
                assert!(c.required || (t.name == "menus" && *k == "collected_at"));
            }
        }
    }

    #[test]
    fn table_lookup_by_name() {
        assert_eq!(table("posts").unwrap().key, &["account_id", "post_id"]);
        assert!(table("nope").is_none());
    }
}
