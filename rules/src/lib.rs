//! govmedia-rules: the rule engine and the rule catalogue (`docs/checks.md`).
//!
//! Every rule is a lazy Polars plan over the store's tables that yields findings with the fixed
//! findings schema; the engine combines the selected rules' plans and collects them once.

pub mod calendar;
pub mod config;
pub mod content;
pub mod context;
pub mod engine;
pub mod exprs;
pub mod facts;
pub mod finding_links;
pub mod findings;
pub mod indices;
pub mod interaction;
pub mod labeller;
pub mod lexicon;
pub mod measurements;
pub mod naming;
pub use govmedia_collectors::parallel;
pub mod ranking;
pub mod registry;
pub mod scoring;
pub mod service;
#[cfg(test)]
mod testing;
pub use govmedia_collectors::trace;
pub mod unit_table;
pub mod update;
pub mod warnings;

pub use context::{AuditContext, Lang};
pub use engine::{AuditResult, Rule, RuleInfo, run_audit, run_audit_with};
pub use findings::Severity;
pub use registry::{registry, rule_by_code};

/// Errors of the rule engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("query failed: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error(transparent)]
    Store(#[from] govmedia_collectors::Error),
    #[error("{0}")]
    Config(String),
}
