//! Command-line interface: the subcommands and their shared argument types.

mod audit;
mod check_links;
mod collect;
mod demo;
mod diff;
mod eval_labels;
mod import;
mod output;
mod rules;
mod watch;

use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "govmedia",
    version,
    about = "Audit and rank Chinese government new-media accounts (政务微信公众号、政务微博、政务App)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a deterministic synthetic archive in the canonical import format.
    Demo(demo::DemoArgs),
    /// Import files, folders into a store (counts read / imported / duplicates / quarantined).
    Import(import::ImportArgs),
    /// Run the checks on a store and write findings, measurements, charts and the index page.
    Audit(audit::AuditArgs),
    /// List the rule catalogue.
    Rules(rules::RulesArgs),
    /// Explain one rule: its documentation and parameters.
    Rule(rules::RuleArgs),
    /// Collect from a platform's API into a store (so far: WeChat published articles).
    Collect(collect::CollectArgs),
    /// Check every menu target and post link of a store (results into link_checks).
    CheckLinks(check_links::CheckLinksArgs),
    /// Measure the post labeller on a labelled CSV: precision, recall, confusion matrix.
    EvalLabels(eval_labels::EvalLabelsArgs),
    /// Early warnings: what is about to become a finding (deadlines, evidence), optionally
    /// sent to WeCom, DingTalk or Feishu group robots.
    Watch(watch::WatchArgs),
    /// Compare two audits: findings new / resolved / persisting, score, tier, rank and veto
    /// changes, totals per platform and group (diff.csv, diff.json, diff.html).
    Diff(diff::DiffArgs),
}

/// Report language.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum LangArg {
    #[default]
    Zh,
    En,
}

impl From<LangArg> for govmedia_rules::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Zh => govmedia_rules::Lang::Zh,
            LangArg::En => govmedia_rules::Lang::En,
        }
    }
}

/// The store a command reads: `--store DIR`, or with `--demo` the built-in demo generated and
/// imported into a temporary folder (removed when this is dropped).
pub struct Source {
    pub store: govmedia_collectors::store::Store,
    /// The demo's own monitoring date (with `--demo`).
    pub demo_as_of: Option<NaiveDate>,
    _scratch: Option<tempfile::TempDir>,
}

/// The temporary folders of `--demo` runs: `govmedia-demo-<pid>-…` in the system temp folder.
const DEMO_PREFIX: &str = "govmedia-demo-";

/// Removes the demo folders of runs that were killed (their process is gone): a killed
/// `audit --demo` would otherwise leave its archive and store (170 MB at 80 accounts) behind.
/// Only where a process can be looked up (`/proc`); elsewhere nothing is removed.
fn remove_abandoned_demos(temp: &std::path::Path) {
    remove_abandoned(temp, DEMO_PREFIX);
}

/// Removes the folders in `dir` named `PREFIX<pid>-…` whose process is gone (a killed run's
/// temporary folders). Only where `/proc` tells which processes live.
pub(crate) fn remove_abandoned(dir: &std::path::Path, prefix: &str) {
    let proc_root = std::path::Path::new("/proc");
    if !proc_root.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !proc_root.join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub fn open_source(
    store: Option<&std::path::Path>,
    demo: bool,
    accounts: usize,
) -> anyhow::Result<Source> {
    use govmedia_collectors::demo::{DemoOptions, generate};
    use govmedia_collectors::import::{ImportOptions, import_paths};
    use govmedia_collectors::store::Store;
    match (demo, store) {
        (true, _) => {
            remove_abandoned_demos(&std::env::temp_dir());
            let tmp = tempfile::Builder::new()
                .prefix(&format!("{DEMO_PREFIX}{}-", std::process::id()))
                .tempdir()
                .context("creating a temporary folder")?;
            let opts = DemoOptions {
                accounts,
                ..Default::default()
            };
            let archive = tmp.path().join("archive");
            let summary = generate(&archive, &opts)?;
            let store = Store::open(tmp.path().join("store"))?;
            let report = import_paths(&store, &[archive], &ImportOptions::default())?;
            let total = report.total();
            println!(
                "demo: {} accounts, {} posts, {} comments generated; {} records imported, {} quarantined",
                summary.accounts,
                summary.posts,
                summary.comments,
                total.imported(),
                total.quarantined
            );
            Ok(Source {
                store,
                demo_as_of: Some(opts.as_of),
                _scratch: Some(tmp),
            })
        }
        (false, Some(dir)) => Ok(Source {
            store: Store::open_for_reading(dir)?,
            demo_as_of: None,
            _scratch: None,
        }),
        (false, None) => anyhow::bail!("give --store DIR or --demo"),
    }
}

/// Text for the terminal: control characters (escape sequences, newlines in a file name) are
/// shown escaped (`\u{1b}`), so a hostile name cannot move the cursor or fake a line.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

pub fn parse_date(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("not a date: {s:?} (expected YYYY-MM-DD)"))
}
/// The audit configuration: `--config FILE`, else `./govmedia.toml` when present, else defaults.
pub fn load_config(
    path: Option<&std::path::Path>,
) -> anyhow::Result<govmedia_rules::config::AuditConfig> {
    use govmedia_rules::config::AuditConfig;
    let default = std::path::Path::new("govmedia.toml");
    Ok(match path {
        Some(p) => AuditConfig::load(p)?,
        None if default.is_file() => AuditConfig::load(default)?,
        None => AuditConfig::default(),
    })
}

/// The configuration's calendar with the years of `--calendar FILE` added.
pub fn calendar_with(
    config: &govmedia_rules::config::AuditConfig,
    file: Option<&std::path::Path>,
) -> anyhow::Result<govmedia_rules::calendar::Calendar> {
    Ok(match file {
        None => config.calendar.clone(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the calendar {}", path.display()))?;
            config
                .calendar
                .extended(&text, &path.display().to_string())?
        }
    })
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Import(args) => import::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Rules(args) => rules::run_list(args),
        Command::Rule(args) => rules::run_one(args),
        Command::CheckLinks(args) => check_links::run(args),
        Command::Collect(args) => collect::run(args),
        Command::EvalLabels(args) => eval_labels::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Diff(args) => diff::run(args),
    }
}
