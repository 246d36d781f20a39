//! `govmedia demo`: write the synthetic archive.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use govmedia_collectors::demo::{DEFAULT_AS_OF, DEFAULT_SEED, DemoOptions, generate};

use super::parse_date;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Folder to write the archive into (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of accounts.
    #[arg(long, default_value_t = 80)]
    pub accounts: usize,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Monitoring time point the archive is built around (YYYY-MM-DD).
    #[arg(long, default_value = DEFAULT_AS_OF)]
    pub as_of: String,
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let opts = DemoOptions {
        accounts: args.accounts,
        seed: args.seed,
        as_of: parse_date(&args.as_of)?,
    };
    let started = Instant::now();
    let summary = generate(&args.out, &opts)?;
    println!(
        "demo archive written to {}: {} accounts, {} orgs, {} posts, {} comments, {} menu entries, \
         {} link checks, {} planted cases (as_of {}, seed {}) in {:.1}s",
        args.out.display(),
        summary.accounts,
        summary.orgs,
        summary.posts,
        summary.comments,
        summary.menus,
        summary.link_checks,
        summary.planted.len(),
        summary.as_of,
        summary.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
