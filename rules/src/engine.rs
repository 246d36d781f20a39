//! The rule interface, selection (`--select` / `--ignore`), and the audit run that combines the
//! selected rules' lazy plans, adds the account columns once, and collects once. The rules
//! themselves are listed in `registry.rs`.

use polars::prelude::*;

use crate::Error;
use crate::context::{AuditContext, ParamValue};
use crate::findings::{FINDING_COLUMNS, RULE_OUTPUT_COLUMNS, Severity, tag_utc};
use crate::measurements;
use crate::registry::registry;

/// A documented parameter of a rule, with its default.
#[derive(Debug)]
pub struct ParamSpec {
    /// Key in the config: `CODE.name` or `FAMILY.name` for a family-wide parameter.
    pub key: &'static str,
    pub default: ParamValue,
    pub help: &'static str,
}

/// What the registry knows about a rule.
#[derive(Debug)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line for `govmedia rules`.
    pub summary: &'static str,
    /// The rule's source file; its `//!` module doc is the user documentation.
    pub source: &'static str,
    pub params: &'static [ParamSpec],
}

impl RuleInfo {
    pub fn family(&self) -> &'static str {
        &self.code[..3]
    }

    /// One section of the rule's documentation (`What it does`, `How to fix`, …), without its
    /// heading.
    pub fn doc_section(&self, heading: &str) -> Option<String> {
        let doc = self.doc();
        let mut lines = doc
            .lines()
            .skip_while(|l| l.trim() != format!("# {heading}"));
        lines.next()?;
        let text: Vec<&str> = lines.take_while(|l| !l.starts_with("# ")).collect();
        let text = text.join("\n").trim().to_string();
        (!text.is_empty()).then_some(text)
    }

    /// The rule's documentation: its module doc comment.
    pub fn doc(&self) -> String {
        module_doc(self.source)
    }
}

/// Extracts the `//!` module doc of a source file.
pub fn module_doc(source: &str) -> String {
    source
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// A rule: a lazy plan yielding findings with [`RULE_OUTPUT_COLUMNS`].
pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;
    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame>;
    /// Why the rule cannot be assessed with this data (e.g. no org registry), if so.
    fn not_assessed(&self, _ctx: &AuditContext) -> Option<String> {
        None
    }
}

/// Which rules run: codes or family prefixes to select and ignore. The more specific (longer)
/// matching selector wins; on a tie, ignore wins.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    /// Checks that every selector matches at least one rule.
    pub fn validate(&self) -> Result<(), Error> {
        for s in self.select.iter().chain(&self.ignore) {
            let s_up = s.to_ascii_uppercase();
            if !registry().iter().any(|r| r.info().code.starts_with(&s_up)) {
                return Err(Error::Config(format!(
                    "unknown rule code or prefix {s:?}; `govmedia rules` lists them"
                )));
            }
        }
        Ok(())
    }

    pub fn is_selected(&self, code: &str) -> bool {
        let best = |selectors: &[String]| {
            selectors
                .iter()
                .map(|s| s.to_ascii_uppercase())
                .filter(|s| code.starts_with(s.as_str()))
                .map(|s| s.len() as i64)
                .max()
        };
        let selected = if self.select.is_empty() {
            Some(0)
        } else {
            best(&self.select)
        };
        match (selected, best(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }
}

/// The tables an audit produces.
pub struct AuditResult {
    /// [`FINDING_COLUMNS`], in a deterministic order.
    pub findings: DataFrame,
    /// One row per account (`measurements` module).
    pub measurements: DataFrame,
    /// Updates per account and ISO week over the window (for charts).
    pub weekly_updates: DataFrame,
    /// Replies per account and latency bucket (`measurements::reply_latency_buckets`).
    pub reply_latency: DataFrame,
    /// Posts by category and engagement per account and month (`measurements::monthly`).
    pub monthly: DataFrame,
    /// Codes of the rules that ran.
    pub rules_run: Vec<&'static str>,
    /// Selected rules that could not be assessed, with the reason (reported, never guessed).
    pub not_assessed: Vec<(&'static str, String)>,
    /// The labeller's label of every post in the window labelled other than `动态` (CNT006,
    /// INT006): `account_id, post_id, url, published_at, category, score, reason`.
    pub post_categories: DataFrame,
}

pub fn run_audit(ctx: &AuditContext, selection: &Selection) -> Result<AuditResult, Error> {
    selection.validate()?;
    let mut rules: Vec<&dyn Rule> = Vec::new();
    let mut not_assessed = Vec::new();
    for rule in registry()
        .iter()
        .copied()
        .filter(|r| selection.is_selected(r.info().code))
    {
        match rule.not_assessed(ctx) {
            Some(reason) => not_assessed.push((rule.info().code, reason)),
            None => rules.push(rule),
        }
    }
    let plans = rules
        .iter()
        .map(|r| {
            r.findings(ctx).map(|lf| {
                lf.select(
                    RULE_OUTPUT_COLUMNS
                        .iter()
                        .map(|c| col(*c))
                        .collect::<Vec<_>>(),
                )
            })
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    let findings = if plans.is_empty() {
        empty_findings()
    } else {
        let accounts = ctx.accounts.clone().lazy().select([
            col("account_id"),
            col("platform"),
            col("account_name"),
            col("org_id"),
        ]);
        let mut findings = concat(plans, UnionArgs::default())?
            .join(
                accounts,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .select(FINDING_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
            .sort_by_exprs(
                [
                    col("account_id"),
                    col("code"),
                    col("occurred_at"),
                    col("item_id"),
                ],
                SortMultipleOptions::default()
                    .with_nulls_last(true)
                    .with_maintain_order(true),
            )
            .collect()?;
        tag_utc(&mut findings, "occurred_at")?;
        findings
    };
    Ok(AuditResult {
        findings,
        measurements: measurements::per_account(ctx)?.collect()?,
        weekly_updates: measurements::weekly_updates(ctx)?.collect()?,
        reply_latency: measurements::reply_latency_buckets(ctx)?.collect()?,
        monthly: measurements::monthly(ctx)?.collect()?,
        rules_run: rules.iter().map(|r| r.info().code).collect(),
        not_assessed,
        post_categories: {
            let mut df = ctx
                .post_scan()?
                .categories
                .clone()
                .lazy()
                .select([
                    col("account_id"),
                    col("post_id"),
                    col("url"),
                    col("occurred_at").alias("published_at"),
                    col("category"),
                    col("score"),
                    col("reason"),
                ])
                .sort(
                    ["account_id", "published_at", "post_id"],
                    SortMultipleOptions::default(),
                )
                .collect()?;
            tag_utc(&mut df, "published_at")?;
            df
        },
    })
}

/// An empty findings table with the canonical column types.
pub fn empty_findings() -> DataFrame {
    let schema: Schema = FINDING_COLUMNS
        .iter()
        .map(|c| {
            let dtype = if *c == "occurred_at" {
                DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
            } else {
                DataType::String
            };
            Field::new(PlSmallStr::from_static(c), dtype)
        })
        .collect();
    DataFrame::empty_with_schema(&schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_specific_selector_wins_and_ignore_wins_ties() {
        let s = Selection {
            select: vec!["UPD".into()],
            ignore: vec!["UPD00".into()],
        };
        assert!(!s.is_selected("UPD001"));
        let s = Selection {
            select: vec!["UPD001".into()],
            ignore: vec!["UPD".into()],
        };
        assert!(s.is_selected("UPD001"));
        assert!(!s.is_selected("UPD002"));
        let s = Selection {
            select: vec!["UPD002".into()],
            ignore: vec!["UPD002".into()],
        };
        assert!(!s.is_selected("UPD002"));
        let s = Selection::default();
        assert!(s.is_selected("UPD003"));
    }

    #[test]
    fn unknown_selectors_are_errors_naming_them() {
        let s = Selection {
            select: vec!["XYZ9".into()],
            ignore: vec![],
        };
        assert!(s.validate().unwrap_err().to_string().contains("XYZ9"));
    }

    #[test]
    fn every_rule_doc_has_the_required_sections() {
        for rule in registry() {
            let doc = rule.info().doc();
            for section in [
                "# What it does",
                "# Why it matters",
                "# Example",
                "# How to fix",
                "# 整改建议",
            ] {
                assert!(
                    doc.contains(section),
                    "{} lacks {section}",
                    rule.info().code
                );
            }
        }
    }
}
