//! `govmedia watch`: early warnings at a time point (default: now), written as
//! `warnings.csv` / `warnings.json` / `digest.md` and optionally sent to group-chat robots.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use govmedia_collectors::time::{DAY_MS, SHANGHAI_OFFSET_MS, days_to_date, parse_instant_ms};
use govmedia_reports::digest::{digest as digest_of, write_watch_outputs};
use govmedia_reports::notify::{load_robots, send_digest};
use govmedia_rules::warnings::{WatchOptions, warnings_frame, watch};
use govmedia_rules::{AuditContext, Lang};
use polars::prelude::BooleanChunked;

use super::LangArg;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOnWarning {
    /// Exit 1 when any warning exists.
    Warn,
    /// Exit 1 when a critical warning exists.
    Critical,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// The store to watch (see `govmedia import`).
    #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
    pub store: Option<PathBuf>,
    /// Watch the built-in demo (its time point: the demo's date, 10:00 Beijing time).
    #[arg(long)]
    pub demo: bool,
    /// Number of demo accounts (with --demo).
    #[arg(long, requires = "demo", default_value_t = 80)]
    pub accounts: usize,
    /// The time point: `YYYY-MM-DD HH:MM` (Beijing time), RFC 3339 or unix seconds; a date
    /// alone is 09:00 that day. Default: now.
    #[arg(long)]
    pub at: Option<String>,
    /// Warn this many days before an update deadline (UPD001 period end, UPD002 veto).
    #[arg(long, default_value_t = 3)]
    pub days: i64,
    /// Warn this many days before the 180-day dormancy mark (UPD003).
    #[arg(long, default_value_t = 30)]
    pub dormant_days: i64,
    /// Warn this many working hours before a reply deadline (INT002).
    #[arg(long, default_value_t = 24)]
    pub reply_hours: i64,
    /// Output folder for warnings.csv, warnings.json and digest.md.
    #[arg(long)]
    pub out: PathBuf,
    /// Send the digest to the group-chat robots of this TOML file (see README: alerts).
    #[arg(long)]
    pub notify: Option<PathBuf>,
    /// Exit with code 1 when a warning of this level (or worse) exists.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOnWarning>,
    /// Configuration file (parameters, lexicons, calendar). Default: ./govmedia.toml.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Report language.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: LangArg,
    /// Write CSV text cells exactly as they are. By default a cell beginning with `=`, `+`,
    /// `-`, `@`, a tab or a carriage return gets a leading `'` so Excel and WPS never run it as a
    /// formula; use this only when a program, not a person, reads the CSV.
    #[arg(long)]
    pub csv_raw: bool,
    /// A holiday calendar file adding years to the official one (same TOML format as
    /// rules/packs/calendar/cn_holidays.toml: `[2027]` with `holidays` and `workdays`), for a
    /// year whose State Council notice the tool does not ship yet.
    #[arg(long)]
    pub calendar: Option<PathBuf>,
}

/// `--at`: a time (`YYYY-MM-DD HH:MM` in Beijing time, RFC 3339, unix seconds), or a date alone
/// for 09:00 that day, the start of office hours.
fn parse_at(text: &str) -> anyhow::Result<i64> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(govmedia_collectors::time::shanghai_midnight_ms(date) + 9 * 3_600_000);
    }
    parse_instant_ms(text)
        .map_err(anyhow::Error::msg)
        .context("--at")
}

pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    govmedia_reports::tables::set_raw_csv(args.csv_raw);
    for (name, value) in [
        ("--days", args.days),
        ("--dormant-days", args.dormant_days),
        ("--reply-hours", args.reply_hours),
    ] {
        if !(0..=3650).contains(&value) {
            bail!("{name} {value} is out of range (0 to 3650)");
        }
    }
    let config = super::load_config(args.config.as_deref())?;
    let calendar = super::calendar_with(&config, args.calendar.as_deref())?;
    // Secrets are resolved before the work, so a missing one fails fast.
    let robots = args.notify.as_deref().map(load_robots).transpose()?;
    // Read before the work, so a typo fails at once.
    let at = args.at.as_deref().map(parse_at).transpose()?;
    let source = super::open_source(args.store.as_deref(), args.demo, args.accounts)?;
    let at_ms = match (at, source.demo_as_of) {
        (Some(at), _) => at,
        (None, Some(demo)) => {
            govmedia_collectors::time::shanghai_midnight_ms(demo) + 10 * 3_600_000
        }
        (None, None) => chrono::Utc::now().timestamp_millis(),
    };
    let today = days_to_date(((at_ms + SHANGHAI_OFFSET_MS).div_euclid(DAY_MS)) as i32);
    let lang: Lang = args.lang.into();
    let ctx = AuditContext::new_in_units(&source.store, today, None, lang, config.params.clone())?
        .with_lexicons(config.lexicons.clone())
        .with_calendar(calendar);
    let opts = WatchOptions {
        at_ms,
        days: args.days,
        dormant_days: args.dormant_days,
        reply_hours: args.reply_hours,
    };
    let window_from = days_to_date(ctx.from_day as i32);
    if let Some(note) = ctx.calendar.outside_note(
        window_from,
        today + chrono::Duration::days(45),
        matches!(lang, Lang::Zh),
    ) {
        eprintln!("note: {note}");
    }
    let warnings = watch(&ctx, &opts)?;
    let table = warnings_frame(&ctx, &opts, &warnings)?;
    let digest = digest_of(&table, at_ms, lang)?;
    let files = write_watch_outputs(&args.out, &table, &digest)?;
    println!(
        "watched {} accounts at {}: {} warnings ({} critical) written to {} ({} files)",
        ctx.accounts()?.height(),
        govmedia_collectors::time::format_shanghai(at_ms),
        digest.warnings,
        digest.critical,
        args.out.display(),
        files.len()
    );
    if let Some(summary) = digest.blocks.first() {
        print!("{summary}");
    }
    let mut failed = Vec::new();
    if let Some(robots) = &robots {
        for robot in robots {
            // A robot for some accounts gets the digest of their warnings only.
            let digest = match &robot.accounts {
                None => digest.clone(),
                Some(ids) => {
                    let wanted: std::collections::HashSet<&str> =
                        ids.iter().map(String::as_str).collect();
                    let mask: BooleanChunked = table
                        .column("account_id")?
                        .str()?
                        .iter()
                        .map(|id| id.is_some_and(|id| wanted.contains(id)))
                        .collect();
                    digest_of(&table.filter(&mask)?, at_ms, lang)?
                }
            };
            let deliveries = send_digest(std::slice::from_ref(robot), &digest, || {
                chrono::Utc::now().timestamp_millis()
            });
            for d in deliveries {
                match &d.failure {
                    None => println!(
                        "notified {} ({}): {} message(s), {} warning(s)",
                        d.robot,
                        d.platform.label(),
                        d.sent,
                        digest.warnings
                    ),
                    Some(why) => {
                        eprintln!(
                            "notification to {} ({}) failed after {} of {} message(s): {why}",
                            d.robot,
                            d.platform.label(),
                            d.sent,
                            d.messages
                        );
                        failed.push(d.robot.clone());
                    }
                }
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "notification failed for {} (the warnings are in {})",
            failed.join(", "),
            args.out.display()
        );
    }
    let failing = match args.fail_on {
        None => false,
        Some(FailOnWarning::Warn) => digest.warnings > 0,
        Some(FailOnWarning::Critical) => digest.critical > 0,
    };
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
