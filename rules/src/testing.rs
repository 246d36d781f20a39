//! The harness the rule families' fixture tests share: tables written as JSONL or CSV in the
//! test, one audit call with a selection, and the ways findings are read back.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use govmedia_collectors::import::{frame_from_csv, frame_from_jsonl};
use govmedia_collectors::schema::TableSpec;
use polars::prelude::DataFrame;

use crate::context::{AuditContext, Lang, ParamValue, Tables};
use crate::engine::{AuditResult, Selection, run_audit};

/// Tables and settings of one fixture audit.
pub struct Fixture {
    frames: Vec<(&'static TableSpec, DataFrame)>,
    as_of: NaiveDate,
    from: Option<NaiveDate>,
    lang: Lang,
    params: BTreeMap<String, ParamValue>,
}

/// Pseudo-random numbers from `seed` (xorshift64), the same on every run and platform: inputs
/// that property tests compare two implementations on.
pub fn numbers(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

impl Fixture {
    /// An audit at `as_of` (YYYY-MM-DD), in Chinese, with the default parameters.
    pub fn at(as_of: &str) -> Fixture {
        Fixture {
            frames: Vec::new(),
            as_of: date(as_of),
            from: None,
            lang: Lang::Zh,
            params: BTreeMap::new(),
        }
    }

    /// A table from JSON Lines in the canonical import format.
    pub fn jsonl(mut self, spec: &'static TableSpec, text: &str) -> Fixture {
        let df = frame_from_jsonl(spec, text, spec.name).unwrap();
        self.frames.push((spec, df));
        self
    }

    /// A table from CSV in the canonical import format.
    pub fn csv(mut self, spec: &'static TableSpec, text: &str) -> Fixture {
        let df = frame_from_csv(spec, text, spec.name).unwrap();
        self.frames.push((spec, df));
        self
    }

    pub fn from(mut self, from: Option<&str>) -> Fixture {
        self.from = from.map(date);
        self
    }

    pub fn lang(mut self, lang: Lang) -> Fixture {
        self.lang = lang;
        self
    }

    pub fn params(mut self, params: BTreeMap<String, ParamValue>) -> Fixture {
        self.params = params;
        self
    }

    /// The audit context of the fixture (for what reads facts without running rules).
    pub fn context(self) -> AuditContext {
        AuditContext::new(
            Tables::from_frames(self.frames),
            self.as_of,
            self.from,
            self.lang,
            self.params,
        )
        .unwrap()
    }

    /// Runs the rules whose codes or families are in `select`.
    pub fn try_audit(self, select: &[&str]) -> Result<AuditResult, crate::Error> {
        let ctx = AuditContext::new(
            Tables::from_frames(self.frames),
            self.as_of,
            self.from,
            self.lang,
            self.params,
        )?;
        run_audit(
            &ctx,
            &Selection {
                select: select.iter().map(|s| s.to_string()).collect(),
                ignore: vec![],
            },
        )
    }

    pub fn audit(self, select: &[&str]) -> AuditResult {
        self.try_audit(select).unwrap()
    }
}

/// The text columns of the findings, in output order, `missing` for a null.
fn finding_columns<const N: usize>(
    result: &AuditResult,
    names: [&str; N],
    missing: &str,
) -> Vec<[String; N]> {
    let f = &result.findings;
    let columns: Vec<Vec<Option<String>>> = names
        .iter()
        .map(|c| {
            f.column(c)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(String::from))
                .collect()
        })
        .collect();
    (0..f.height())
        .map(|i| std::array::from_fn(|c| columns[c][i].clone().unwrap_or_else(|| missing.into())))
        .collect()
}

/// Each finding as `code account item` (`-` when it has no item), in output order.
pub fn finding_keys(result: &AuditResult) -> Vec<String> {
    finding_columns(result, ["code", "account_id", "item_id"], "-")
        .into_iter()
        .map(|r| r.join(" "))
        .collect()
}

/// Each finding as `code | account | item | message | evidence` (`∅` when it has no item), for
/// snapshots.
pub fn finding_rows(result: &AuditResult) -> Vec<String> {
    finding_columns(
        result,
        ["code", "account_id", "item_id", "message", "evidence"],
        "∅",
    )
    .into_iter()
    .map(|r| r.join(" | "))
    .collect()
}

/// A text column's values (its nulls left out), in row order.
pub fn texts<'a>(df: &'a DataFrame, column: &str) -> Vec<&'a str> {
    df.column(column)
        .and_then(|c| c.str())
        .map(|c| c.iter().flatten().collect())
        .unwrap_or_else(|e| panic!("text column {column}: {e}"))
}
