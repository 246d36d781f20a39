//! `govmedia check-links`: request every menu target and post link in a store and record the
//! outcome in its `link_checks` table (read by SVC003).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use govmedia_collectors::links::{LinkCheckOptions, check_store_links};
use govmedia_collectors::store::Store;

#[derive(Args, Debug)]
pub struct CheckLinksArgs {
    /// The store whose menus and posts to check.
    #[arg(long)]
    pub store: PathBuf,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Seconds before a request is given up.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Redirects followed before giving up.
    #[arg(long, default_value_t = 5)]
    pub max_redirects: usize,
    /// Also check loopback and private-network addresses (refused by default, so the checker
    /// cannot be used to probe an intranet).
    #[arg(long)]
    pub allow_private: bool,
}

pub fn run(args: CheckLinksArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let store = Store::open_existing(&args.store)?;
    let opts = LinkCheckOptions {
        concurrency: args.concurrency,
        timeout: Duration::from_secs(args.timeout),
        max_redirects: args.max_redirects,
        allow_private: args.allow_private,
    };
    let (results, summary) = check_store_links(&store, &opts)?;
    for r in results.iter().filter(|r| r.status.is_none_or(|s| s >= 400)) {
        match (r.status, &r.error) {
            (Some(s), _) => println!("HTTP {s}  {}", r.url),
            (None, Some(e)) => println!("{e}  {}", r.url),
            _ => {}
        }
    }
    println!(
        "checked {} links in {:.1}s: {} ok, {} broken (HTTP >= 400), {} failed, {} refused",
        summary.checked,
        started.elapsed().as_secs_f64(),
        summary.ok,
        summary.broken,
        summary.failed,
        summary.refused
    );
    Ok(ExitCode::SUCCESS)
}
