//! `govmedia diff OLD NEW`: what changed between two audits (report folders or entries of an
//! audit history folder).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use govmedia_reports::diff::{FindingStatus, diff_audits, read_audit};
use govmedia_reports::diff_page::write_diff;
use govmedia_rules::Lang;

use super::LangArg;

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier audit: a report folder of `govmedia audit`, or an entry of an
    /// `audit --history` folder (HISTORY/YYYY-MM-DD).
    pub old: PathBuf,
    /// The later audit.
    pub new: PathBuf,
    /// Output folder for diff.csv, diff_findings.csv/.parquet, diff.json and diff.html.
    #[arg(long)]
    pub out: PathBuf,
    /// Report language.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: LangArg,
    /// Write CSV text cells exactly as they are. By default a cell beginning with `=`, `+`,
    /// `-`, `@`, a tab or a carriage return gets a leading `'` so Excel and WPS never run it as a
    /// formula; use this only when a program, not a person, reads the CSV.
    #[arg(long)]
    pub csv_raw: bool,
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    govmedia_reports::tables::set_raw_csv(args.csv_raw);
    let old = read_audit(&args.old)?;
    let new = read_audit(&args.new)?;
    if old.summary.as_of > new.summary.as_of {
        eprintln!(
            "note: OLD ({}) is later than NEW ({}); the diff reads OLD → NEW as given",
            old.summary.as_of, new.summary.as_of
        );
    }
    let lang: Lang = args.lang.into();
    let diff = diff_audits(&old, &new);
    let files = write_diff(&args.out, &diff, lang)?;
    let count = |s: FindingStatus| diff.findings.iter().filter(|f| f.status == s).count();
    let all = diff.totals.first().cloned().unwrap_or_default();
    println!(
        "{} → {}: {} accounts; findings {} new, {} resolved, {} persisting, {} left the window; \
         vetoes {} gained, {} lost; tiers {} up, {} down",
        diff.old.as_of,
        diff.new.as_of,
        diff.accounts.len(),
        count(FindingStatus::New),
        count(FindingStatus::Resolved),
        count(FindingStatus::Persisting),
        count(FindingStatus::AgedOut),
        all.vetoes_gained,
        all.vetoes_lost,
        all.tier_up,
        all.tier_down
    );
    if diff.is_unchanged() {
        println!("no changes");
    }
    println!("written to {} ({} files)", args.out.display(), files.len());
    Ok(ExitCode::SUCCESS)
}
