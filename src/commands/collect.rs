//! `govmedia collect <platform> --config FILE --store DIR`: live collection through the
//! platform APIs, raw responses saved to the store's landing folder, then imported.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, ValueEnum};
use govmedia_collectors::collect::{collect_wechat, config::CollectConfig};
use govmedia_collectors::store::Store;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Platform {
    Wechat,
    Weibo,
    App,
}

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The platform to collect.
    #[arg(value_enum)]
    pub platform: Platform,
    /// The collection config (accounts, credentials by reference; see README).
    #[arg(long)]
    pub config: PathBuf,
    /// The store (created if needed); raw responses go to DIR/landing/.
    #[arg(long)]
    pub store: PathBuf,
}

pub fn run(args: CollectArgs) -> anyhow::Result<ExitCode> {
    let config = CollectConfig::load(&args.config)?;
    let store = Store::open(&args.store)?;
    match args.platform {
        Platform::Wechat => {
            let (runs, report) = collect_wechat(&store, &config)?;
            for r in &runs {
                println!(
                    "wechat {}: {} pages, {} articles, {} token refreshes{}",
                    r.account,
                    r.pages,
                    r.articles,
                    r.token_refreshes,
                    r.stopped
                        .as_ref()
                        .map(|s| format!("; stopped: {s}"))
                        .unwrap_or_default()
                );
            }
            super::import::print_report(&report);
            Ok(ExitCode::SUCCESS)
        }
        Platform::Weibo | Platform::App => {
            bail!(
                "collecting from this platform is not built yet: import its saved API responses with `govmedia import`"
            )
        }
    }
}
