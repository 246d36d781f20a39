//! Facts: what the rules, the measurements, scoring and the charts share of a unit's rows,
//! computed once per unit below the rules, with integer account keys (an account's position in
//! the unit's accounts table) instead of string-keyed joins over post-sized tables.
//!
//! - [`posts`]: one pass over the unit's posts (no text) — updates, last update, monthly sums,
//!   influence-index inputs; [`updates`] turns them into the periods, gaps and weekly counts
//!   the UPD rules and the cadence measurements read.
//! - The text scan (`content::scan`) and the comment timing (`interaction::timed_comments`) are
//!   the other shared passes.

pub mod posts;
pub mod rows;
pub mod updates;

use polars::prelude::*;

/// The accounts of a unit (the context's `accounts`, sorted by id) with integer keys: an
/// account's key is its row.
pub struct AccountKeys {
    ids: Vec<String>,
    from_day: Vec<i64>,
    as_of_day: Vec<i64>,
    /// Whether the account is a WeChat service account (服务号): its update period is longer.
    service: Vec<bool>,
}

impl AccountKeys {
    /// From the context's accounts table (`account_id, platform, account_kind, …, from_day,
    /// as_of_day`, sorted by `account_id`).
    pub fn new(accounts: &DataFrame) -> PolarsResult<AccountKeys> {
        let ids: Vec<String> = accounts
            .column("account_id")?
            .str()?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect();
        debug_assert!(ids.is_sorted(), "accounts sorted by id");
        let days = |name: &str| -> PolarsResult<Vec<i64>> {
            Ok(accounts
                .column(name)?
                .cast(&DataType::Int64)?
                .i64()?
                .iter()
                .map(|v| v.unwrap_or_default())
                .collect())
        };
        let platform = accounts.column("platform")?.str()?;
        let kind = accounts.column("account_kind")?.str()?;
        let service = platform
            .iter()
            .zip(kind.iter())
            .map(|(p, k)| p == Some("wechat") && k == Some("service"))
            .collect();
        Ok(AccountKeys {
            from_day: days("from_day")?,
            as_of_day: days("as_of_day")?,
            ids,
            service,
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn id(&self, key: u32) -> &str {
        &self.ids[key as usize]
    }

    /// The first day of the account's window.
    pub fn from_day(&self, key: u32) -> i64 {
        self.from_day[key as usize]
    }

    pub fn as_of_day(&self, key: u32) -> i64 {
        self.as_of_day[key as usize]
    }

    pub fn is_service(&self, key: u32) -> bool {
        self.service[key as usize]
    }

    /// The key of an account id.
    pub fn key_of(&self, account_id: &str) -> Option<u32> {
        self.ids
            .binary_search_by(|id| id.as_str().cmp(account_id))
            .ok()
            .map(|i| i as u32)
    }

    /// A lookup that remembers the last id: the store keeps an account's rows together, so a
    /// pass searches once per account, not per row. The ids looked up must outlive the cursor
    /// (a pass over a column's texts).
    pub fn cursor<'t>(&self) -> KeyCursor<'_, 't> {
        KeyCursor {
            keys: self,
            last: None,
        }
    }

    /// The account ids as a column, for every key in `rows` (a table's account column).
    pub fn id_column(&self, name: &str, rows: &[u32]) -> Column {
        Column::new(
            name.into(),
            rows.iter().map(|&k| self.id(k)).collect::<Vec<&str>>(),
        )
    }
}

/// See [`AccountKeys::cursor`].
pub struct KeyCursor<'a, 't> {
    keys: &'a AccountKeys,
    last: Option<(&'t str, Option<u32>)>,
}

impl<'t> KeyCursor<'_, 't> {
    pub fn find(&mut self, account_id: &'t str) -> Option<u32> {
        if let Some((id, key)) = self.last {
            // A column read from a Parquet dictionary gives every row of an account the same
            // text in memory: the same address and length are the same id (both borrowed for
            // 't, so neither has been freed), without comparing the bytes.
            let same_place =
                std::ptr::eq(id.as_ptr(), account_id.as_ptr()) && id.len() == account_id.len();
            if same_place || id == account_id {
                return key;
            }
        }
        let key = self.keys.key_of(account_id);
        self.last = Some((account_id, key));
        key
    }
}
