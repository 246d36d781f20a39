//! govmedia-collectors: the canonical schema, the Parquet store, the importers and the demo
//! archive generator. Everything that brings data into the store lives here.

#[cfg(feature = "http")]
pub mod collect;
pub mod demo;
pub mod fault;
pub mod import;
pub mod layout;
#[cfg(test)]
mod layout_tests;
#[cfg(feature = "http")]
pub mod links;
pub mod parallel;
pub mod record;
pub mod schema;
pub mod store;
/// The local HTTP server the collector tests (here and end to end) run against.
#[cfg(feature = "http")]
#[doc(hidden)]
pub mod testserver;
pub mod time;
pub mod trace;
pub mod transform;

use std::path::Path;

/// Errors of the collectors crate. Each names the file (and where known the line and field).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Polars {
        path: String,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("{0}")]
    Input(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub fn polars(path: &Path, source: polars::error::PolarsError) -> Self {
        Error::Polars {
            path: path.display().to_string(),
            source,
        }
    }
}
