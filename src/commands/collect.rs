//! `govmedia collect <platform> --config FILE --store DIR [--since DATE]`: live collection
//! through the platform APIs, raw responses saved to the store's landing folder with a
//! checkpoint per page, then imported. A run that stopped (crash, quota, error) resumes where
//! its checkpoint says.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use govmedia_collectors::collect::{self, CollectSummary, RunOptions, config::CollectConfig};
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
    /// The collection config (accounts, credentials by reference, limits; see README).
    #[arg(long)]
    pub config: PathBuf,
    /// The store (created if needed); raw responses go to DIR/landing/.
    #[arg(long)]
    pub store: PathBuf,
    /// Collect nothing published before this day (YYYY-MM-DD, Beijing time).
    #[arg(long)]
    pub since: Option<NaiveDate>,
    /// No progress bars (they are never drawn when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: CollectArgs) -> anyhow::Result<ExitCode> {
    let config = CollectConfig::load(&args.config)?;
    let store = Store::open(&args.store)?;
    let platform = match args.platform {
        Platform::Wechat => collect::Platform::Wechat,
        Platform::Weibo => collect::Platform::Weibo,
        Platform::App => collect::Platform::App,
    };
    let options = RunOptions {
        since: args.since,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        ..Default::default()
    };
    let summary = collect::collect(&store, &config, platform, &options)?;
    print_summary(&summary);
    println!("import of the saved responses:");
    super::import::print_report(&summary.import, false);
    for f in summary.import.failed_files() {
        eprintln!("error: {}", f.error.as_deref().unwrap_or("failed"));
    }
    let failed = summary.failed().count();
    let unreadable = summary.import.failed_files().count();
    if failed > 0 {
        eprintln!(
            "{failed} account(s) failed; their checkpoints are kept: run the same command again to resume"
        );
    }
    if unreadable > 0 {
        eprintln!(
            "{unreadable} saved response(s) could not be imported; the runs stay open, and the \
             responses stay in the landing folder"
        );
    }
    if failed > 0 || unreadable > 0 {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(summary: &CollectSummary) {
    for a in &summary.accounts {
        let mut line = format!(
            "{}: {} requests, {} posts, {} comments, {} menu entries, {} statistics rows",
            a.account, a.requests, a.posts, a.comments, a.menus, a.stats
        );
        if a.token_refreshes > 0 {
            line.push_str(&format!(", {} token refreshes", a.token_refreshes));
        }
        if a.resumed {
            line.push_str(" (resumed)");
        }
        println!("{line}");
        for note in &a.notes {
            println!("  note: {note}");
        }
        if let Some(why) = &a.stopped {
            println!("  stopped: {why}");
        }
        if let Some(error) = &a.error {
            println!("  FAILED: {error}");
        }
    }
    let t = summary.totals();
    println!(
        "{}: {} accounts ({} failed, {} stopped), {} requests, {} posts, {} comments, {} menu entries, {} statistics rows",
        summary.platform,
        summary.accounts.len(),
        summary.failed().count(),
        summary
            .accounts
            .iter()
            .filter(|a| a.stopped.is_some())
            .count(),
        t.requests,
        t.posts,
        t.comments,
        t.menus,
        t.stats
    );
    if summary.errors.is_empty() {
        println!("errors by code: none");
    } else {
        let list: Vec<String> = summary
            .errors
            .iter()
            .map(|(code, n)| format!("{code} ×{n}"))
            .collect();
        println!("errors by code (retried or not): {}", list.join(", "));
    }
}
