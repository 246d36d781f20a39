//! The findings table: one row per finding with fixed columns (`docs/output.md`).

use polars::prelude::*;

/// The columns of `findings.csv`, in order. A contract with users.
pub const FINDING_COLUMNS: [&str; 10] = [
    "code",
    "severity",
    "platform",
    "account_id",
    "account_name",
    "org_id",
    "item_id",
    "occurred_at",
    "message",
    "evidence",
];

/// The columns a rule produces; the engine adds platform, account name and org from `accounts`.
pub const RULE_OUTPUT_COLUMNS: [&str; 7] = [
    "code",
    "severity",
    "account_id",
    "item_id",
    "occurred_at",
    "message",
    "evidence",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// 单项否决: the account is 不合格 whatever its score.
    Veto,
    /// Loses rubric points.
    Deduct,
    /// Shown, not scored.
    Notice,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Veto => "veto",
            Severity::Deduct => "deduct",
            Severity::Notice => "notice",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "veto" => Some(Severity::Veto),
            "deduct" => Some(Severity::Deduct),
            "notice" => Some(Severity::Notice),
            _ => None,
        }
    }
}

/// Builds a rule's output columns from expressions, with the code and severity as literals.
pub fn rule_output(
    code: &str,
    severity: Severity,
    item_id: Expr,
    occurred_at: Expr,
    message: Expr,
    evidence: Expr,
) -> Vec<Expr> {
    vec![
        lit(code.to_string()).alias("code"),
        lit(severity.as_str()).alias("severity"),
        col("account_id"),
        item_id.cast(DataType::String).alias("item_id"),
        // Epoch milliseconds inside the plan; tagged as a UTC instant after collecting
        // ([`tag_utc`]), since casts to a zoned datetime need Polars' timezone database.
        occurred_at.cast(DataType::Int64).alias("occurred_at"),
        message.alias("message"),
        evidence.alias("evidence"),
    ]
}

/// Turns an epoch-milliseconds column into a UTC datetime column in place.
pub fn tag_utc(df: &mut DataFrame, column: &str) -> PolarsResult<()> {
    let ms = df.column(column)?.cast(&DataType::Int64)?;
    let tagged = ms
        .i64()?
        .clone()
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_series()
        .into_column();
    df.with_column(tagged)?;
    Ok(())
}

/// An instant column as RFC 3339 text in Beijing time (`2025-11-30T10:00:00+08:00`).
pub fn instant_texts(column: &Column) -> PolarsResult<Vec<Option<String>>> {
    let ms = column.cast(&DataType::Int64)?;
    Ok(ms
        .i64()?
        .iter()
        .map(|v| v.map(govmedia_collectors::time::format_shanghai))
        .collect())
}
