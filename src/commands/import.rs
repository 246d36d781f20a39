//! `govmedia import`: files and folders into the store, with per-file accounting.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use clap::Args;
use govmedia_collectors::import::{FileCounts, ImportOptions, ImportReport, formats, import_paths};
use govmedia_collectors::store::{QUARANTINE_FILE, Store};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Files or folders to import (folders are read recursively).
    pub paths: Vec<PathBuf>,
    /// The store folder (created if needed).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Force a format instead of detecting it (see --list-formats).
    #[arg(long)]
    pub format: Option<String>,
    /// Ignore columns that are not in the canonical schema instead of refusing them.
    #[arg(long)]
    pub allow_extra: bool,
    /// Text encoding of the input files (utf-8, gbk, gb18030); default: detected per file.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Keep commenters' names and openids instead of pseudonymising them (个人信息保护法: only
    /// when you are entitled to).
    #[arg(long)]
    pub keep_identities: bool,
    /// The account saved API responses belong to when their path does not say (e.g.
    /// wechat:gh_abc123).
    #[arg(long)]
    pub account: Option<String>,
    /// List the formats the importer understands and exit.
    #[arg(long)]
    pub list_formats: bool,
    /// When another import or collection is writing the store, wait for it to finish instead
    /// of stopping with a message naming it.
    #[arg(long)]
    pub wait: bool,
    /// Follow symbolic links inside input folders (never to a target outside the folder
    /// given). By default a link is reported and not followed.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// When the files were exported (e.g. 2025-11-30T18:00:00+08:00, or 2025-11-30 18:00 in
    /// Beijing time): relative times in exported comments (3小时前, 昨天 08:00) are counted back
    /// from it. Default: each file's modification time.
    #[arg(long, value_parser = parse_exported_at)]
    pub exported_at: Option<i64>,
    /// No progress bar (it is never drawn when standard error is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_exported_at(text: &str) -> Result<i64, String> {
    govmedia_collectors::import::quirks::parse_export_time(text)
}

pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    if args.list_formats {
        for f in formats() {
            println!("{:<30} {}", f.name(), f.description());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(store_dir) = args.store else {
        bail!("--store DIR is required")
    };
    if args.paths.is_empty() {
        bail!("nothing to import: give files or folders");
    }
    crate::keep_freed_memory();
    let started = Instant::now();
    let store = Store::open(&store_dir)?;
    let opts = ImportOptions {
        format: args.format,
        allow_extra: args.allow_extra,
        encoding: args.encoding,
        keep_identities: args.keep_identities,
        account: args.account,
        wait_for_writer: args.wait,
        follow_symlinks: args.follow_symlinks,
        exported_at: args.exported_at,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        ..Default::default()
    };
    let report = import_paths(&store, &args.paths, &opts)?;
    for line in govmedia_collectors::trace::report() {
        eprintln!("trace: {line}");
    }
    print_report(&report, true);
    println!("({:.1}s)", started.elapsed().as_secs_f64());
    if report.total().quarantined > 0 {
        println!(
            "quarantined records are kept with their reasons in {}",
            store_dir.join(QUARANTINE_FILE).display()
        );
    }
    for f in &report.files {
        for note in &f.notes {
            println!(
                "note: {}: {}",
                super::printable(&f.source),
                super::printable(note)
            );
        }
    }
    let failed: Vec<&FileCounts> = report.failed_files().collect();
    if !failed.is_empty() {
        for f in &failed {
            eprintln!(
                "error: {}",
                super::printable(f.error.as_deref().unwrap_or("failed"))
            );
        }
        eprintln!(
            "{} file(s) could not be imported; the others were.",
            failed.len()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// The per-file counts and the total; with `every_file` false only the files that failed or
/// had records quarantined (a collection saves hundreds of pages).
pub fn print_report(report: &ImportReport, every_file: bool) {
    println!(
        "{:<48} {:>10} {:>10} {:>10} {:>10} {:>11}",
        "file", "read", "new", "updated", "duplicate", "quarantined"
    );
    let line = |c: &FileCounts| {
        let source = super::printable(&c.source);
        let name = if source.chars().count() > 48 {
            format!(
                "…{}",
                source
                    .chars()
                    .rev()
                    .take(47)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>()
            )
        } else {
            source.to_string()
        };
        let status = if c.error.is_some() { "  FAILED" } else { "" };
        println!(
            "{name:<48} {:>10} {:>10} {:>10} {:>10} {:>11}{status}",
            c.read, c.new, c.updated, c.duplicates, c.quarantined
        );
    };
    report
        .files
        .iter()
        .filter(|f| every_file || f.error.is_some() || f.quarantined > 0)
        .for_each(line);
    let total = report.total();
    line(&total);
    debug_assert!(total.reconciles());
}
