//! govmedia-reports: what users read. Table writers (CSV with BOM, JSON, Parquet), SVG charts
//! (plotters) and HTML pages (minijinja, autoescaping on). Nothing here recomputes a check: it
//! renders the tables the rules produced.

pub mod account_charts;
pub mod account_page;
pub mod charts;
pub mod diff;
pub mod diff_page;
pub mod digest;
pub mod history;
pub mod html;
pub mod notify;
pub mod report;
pub mod tables;
pub mod xlsx;

/// Errors of the reports crate, naming the file being written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] govmedia_collectors::Error),
    #[error("{0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("chart {0}: {1}")]
    Chart(String, String),
}

/// A file-system-safe stem for an account id (`wechat:gh_1` → `wechat_gh_1`): `:` is not
/// allowed in Windows file names, and reports are opened on Windows desktops.
pub fn account_file_stem(account_id: &str) -> String {
    account_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
