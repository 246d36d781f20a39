//! `govmedia audit`: run the checks on a store (or the built-in demo) and write the report.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use govmedia_collectors::import::read_registry_file;
use govmedia_collectors::schema::ORGS;
use govmedia_reports::history::{read_history, record};
use govmedia_reports::report::{
    PageSelection, ReportOptions, ResultFiles, write_audit_report, write_findings_files,
    write_unit_table_files,
};
use govmedia_rules::engine::{Reads, Selection, run_audit_with};
use govmedia_rules::indices::{IndexPack, Period};
use govmedia_rules::scoring::{ManualScores, RubricPack, Scoring, Tier, VetoPack, score_and_rank};
use govmedia_rules::trace;
use govmedia_rules::{AuditContext, Lang};
use polars::prelude::*;

use super::{LangArg, parse_date};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    /// Exit 1 when any veto finding exists.
    Veto,
    /// Exit 1 when any veto or deduct finding exists.
    Deduct,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The store to audit (see `govmedia import`).
    #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
    pub store: Option<PathBuf>,
    /// Audit the built-in demo archive (generated, imported into a temporary store, audited).
    #[arg(long)]
    pub demo: bool,
    /// Number of demo accounts (with --demo).
    #[arg(long, requires = "demo", default_value_t = 80)]
    pub accounts: usize,
    /// Monitoring time point (监测时间点), YYYY-MM-DD. Required with --store; the demo's own
    /// date with --demo.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Start of the audit window (default: one year before --as-of).
    #[arg(long)]
    pub from: Option<String>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// The organisation registry (CSV or JSONL with the `orgs` columns of docs/schema.md);
    /// default: the store's `orgs` table. Without one, the NAM rules that need it are reported
    /// as not assessed.
    #[arg(long)]
    pub orgs: Option<PathBuf>,
    /// Configuration file (selection, parameters, lexicons; see README). Default: ./govmedia.toml
    /// when it exists.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Rule codes or family prefixes to run (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Rule codes or family prefixes to skip (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Exit with code 1 when a finding of this severity (or worse) exists.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Report language.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: LangArg,
    /// Rubric pack (TOML) to score with instead of the built-in CSTC 2020 pack, e.g.
    /// rules/packs/rubrics/local_example.toml.
    #[arg(long)]
    pub rubric: Option<PathBuf>,
    /// Veto pack (TOML) instead of the built-in national veto items (国办秘函〔2019〕19号).
    #[arg(long)]
    pub veto_pack: Option<PathBuf>,
    /// Manual scores for items data cannot measure (CSV or JSONL: account_id, item, points,
    /// note). Without it those items are reported as not assessed.
    #[arg(long)]
    pub manual: Option<PathBuf>,
    /// Period of the influence index.
    #[arg(long, value_enum, default_value = "month")]
    pub index_period: IndexPeriod,
    /// Which accounts get a page under accounts/: all, flagged (a veto or deduct finding) or
    /// none. Default: all up to 5,000 accounts, flagged above.
    #[arg(long, value_enum)]
    pub pages: Option<PagesArg>,
    /// Keep this audit's tables in an audit history folder, under its --as-of date
    /// (DIR/YYYY-MM-DD, replacing an earlier run of the same day); pages then show each
    /// account's score and findings over the past audits. Compare entries with `govmedia diff`.
    #[arg(long)]
    pub history: Option<PathBuf>,
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
    /// No progress line (it is never drawn when standard error is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PagesArg {
    All,
    Flagged,
    None,
}

impl From<PagesArg> for PageSelection {
    fn from(p: PagesArg) -> PageSelection {
        match p {
            PagesArg::All => PageSelection::All,
            PagesArg::Flagged => PageSelection::Flagged,
            PagesArg::None => PageSelection::None,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IndexPeriod {
    /// 7 days.
    Week,
    /// 30 days.
    Month,
    /// 365 days.
    Year,
}

impl From<IndexPeriod> for Period {
    fn from(p: IndexPeriod) -> Period {
        match p {
            IndexPeriod::Week => Period::Week,
            IndexPeriod::Month => Period::Month,
            IndexPeriod::Year => Period::Year,
        }
    }
}

/// What a partial audit (`--select`, `--ignore`) did not compute, if anything.
fn partial_audit_note(computed: Reads, lang: Lang) -> Option<String> {
    let skipped: Vec<&str> = [
        (
            computed.post_text,
            lang.pick(
                "帖子文本扫描（内容构成、广告与离题计数）",
                "the post text scan (content mix, ad and off-topic counts)",
            ),
        ),
        (
            computed.post_labels,
            lang.pick(
                "帖子分类（post_categories 表与各类帖子数）",
                "the post labels (the post_categories table and the posts per category)",
            ),
        ),
        (
            computed.comments,
            lang.pick("留言与回复", "comments and replies"),
        ),
    ]
    .into_iter()
    .filter(|(done, _)| !done)
    .map(|(_, what)| what)
    .collect();
    if skipped.is_empty() {
        return None;
    }
    Some(match lang {
        Lang::Zh => format!(
            "部分检查（--select/--ignore）：只计算所选规则需要的数据，未计算{}；依赖它们的评分项未评估",
            skipped.join("、")
        ),
        Lang::En => format!(
            "Partial audit (--select/--ignore): only what the selected rules read was computed, not {}; rubric items reading them are not assessed",
            skipped.join(", ")
        ),
    })
}

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    govmedia_reports::tables::set_raw_csv(args.csv_raw);
    let config = super::load_config(args.config.as_deref())?;
    // Selectors on the command line replace the configuration's.
    let selection = Selection {
        select: if args.select.is_empty() {
            config.selection.select.clone()
        } else {
            args.select.clone()
        },
        ignore: if args.ignore.is_empty() {
            config.selection.ignore.clone()
        } else {
            args.ignore.clone()
        },
    };
    selection.validate()?;
    // Packs and manual scores are read before the long work, so a typo fails fast.
    let rubric = match &args.rubric {
        Some(path) => RubricPack::load(path)?,
        None => RubricPack::builtin(),
    };
    let manual = match &args.manual {
        Some(path) => ManualScores::load(path, &rubric)?,
        None => ManualScores::default(),
    };
    let scoring = Scoring {
        rubric,
        veto: match &args.veto_pack {
            Some(path) => VetoPack::load(path)?,
            None => VetoPack::builtin(),
        },
        manual,
    };
    let from = args.from.as_deref().map(parse_date).transpose()?;
    let calendar = super::calendar_with(&config, args.calendar.as_deref())?;
    let orgs = args
        .orgs
        .as_deref()
        .map(|path| read_registry_file(&ORGS, path, "org_id"))
        .transpose()?;

    // The label spills of audits that were killed (their process is gone).
    super::remove_abandoned(
        &std::env::temp_dir(),
        govmedia_rules::unit_table::UNIT_SPILL_PREFIX,
    );
    let progress = Phases::start(!args.quiet && std::io::stderr().is_terminal());
    progress.phase(if args.demo {
        "generating and importing the demo"
    } else {
        "opening the store"
    });
    let source = trace::stage("open store", || {
        super::open_source(args.store.as_deref(), args.demo, args.accounts)
    })?;
    let as_of = match (&args.as_of, source.demo_as_of) {
        (Some(d), _) => parse_date(d)?,
        (None, Some(demo)) => demo,
        (None, None) => bail!("--as-of YYYY-MM-DD is required with --store"),
    };
    let store = &source.store;
    // Checked before the long work: a wrong --out fails at once.
    let staged = super::output::StagedOutput::prepare(&args.out, args.store.as_deref())?;

    let lang: Lang = args.lang.into();
    let mut ctx = trace::stage("audit context", || {
        AuditContext::new_in_units(store, as_of, from, lang, config.params.clone())
    })?
    .with_lexicons(config.lexicons.clone())
    .with_calendar(calendar)
    .with_index_period(args.index_period.into());
    if let Some(orgs) = orgs {
        ctx = ctx.with_orgs(orgs);
    }
    let chosen_pages: Option<PageSelection> = args.pages.map(Into::into);
    if chosen_pages == Some(PageSelection::None) {
        // The weekly, reply-latency and monthly tables feed account pages only.
        ctx = ctx.without_page_tables();
    }
    let checked = Instant::now();
    progress.phase("checking");
    // The measurements' and the post labels' files are written as soon as the units are done,
    // beside the cross-account rules (which keep one core busy).
    let unit_files = std::sync::OnceLock::new();
    let result = trace::stage("checks", || {
        run_audit_with(&ctx, &selection, &|tables| {
            let _ = unit_files.set(write_unit_table_files(staged.dir(), tables));
        })
    })?;
    unit_files
        .into_inner()
        .context("the audit handed over no per-account tables")??;
    let check_secs = checked.elapsed().as_secs_f64();
    // The default needs the number of audited accounts, which the audit gathers from its units
    // (both defaults draw the same tables).
    let mut page_note: Option<String> = None;
    let pages = match chosen_pages {
        Some(p) => p,
        None => {
            let default = PageSelection::default_for(ctx.accounts()?.height());
            if default == PageSelection::Flagged {
                let note = match lang {
                    Lang::Zh => format!(
                        "账号超过 {} 个：仅为有否决项或扣分项的账号生成单独页面（--pages all 生成全部）",
                        PageSelection::ALL_UP_TO
                    ),
                    Lang::En => format!(
                        "More than {} accounts: pages only for accounts with a veto or deduct finding (--pages all writes every page)",
                        PageSelection::ALL_UP_TO
                    ),
                };
                page_note = Some(note);
            }
            default
        }
    };
    let written = Instant::now();
    // One line per reason, listing the rules it applies to.
    let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for (code, why) in &result.not_assessed {
        match by_reason.iter_mut().find(|(w, _)| *w == why.as_str()) {
            Some((_, codes)) => codes.push(code),
            None => by_reason.push((why.as_str(), vec![code])),
        }
    }
    let past = match &args.history {
        Some(dir) => read_history(dir, &as_of.to_string())?,
        None => Vec::new(),
    };
    // The notes besides the scoring's own, which come after the not-assessed rules.
    let reason_notes: Vec<String> = by_reason
        .iter()
        .map(|(why, codes)| match lang {
            Lang::Zh => format!("{} 未评估：{why}", codes.join("、")),
            Lang::En => format!("{} not assessed: {why}", codes.join(", ")),
        })
        .collect();
    let mut later_notes: Vec<String> = partial_audit_note(result.computed, lang)
        .into_iter()
        .collect();
    let not_yet_seen = ctx.not_yet_seen()?;
    if !not_yet_seen.is_empty() {
        let shown: Vec<&str> = not_yet_seen.iter().take(5).map(String::as_str).collect();
        let more = if not_yet_seen.len() > shown.len() {
            lang.pick(" 等", " …")
        } else {
            ""
        };
        later_notes.push(match lang {
            Lang::Zh => format!(
                "{} 个账号在监测时间点 {as_of} 之后才首次出现（first_seen 与首条发文均晚于它），未评估：{}{more}",
                not_yet_seen.len(),
                shown.join("、")
            ),
            Lang::En => format!(
                "{} account(s) first seen after the time point {as_of} (first_seen and first post both later) were not assessed: {}{more}",
                not_yet_seen.len(),
                shown.join(", ")
            ),
        });
    }
    let window_from = govmedia_collectors::time::days_to_date(ctx.from_day as i32);
    later_notes.extend(
        ctx.calendar
            .outside_note(window_from, as_of, matches!(lang, Lang::Zh)),
    );
    later_notes.extend(page_note);
    // The findings' files need no scores: they are written while the accounts are scored
    // (scoring leaves a core idle much of the time) and beside the report.
    let (scored, notes, report) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let writing = scope.spawn(|| write_findings_files(staged.dir(), &result.findings));
        progress.phase("scoring and ranking");
        let scored = trace::stage("scores and rankings", || {
            score_and_rank(&ctx, &result, &scoring, &IndexPack::builtin())
        })?;
        let notes = [reason_notes, scored.notes.clone(), later_notes].concat();
        progress.phase("writing the report");
        let report = trace::stage("report", || {
            write_audit_report(
                staged.dir(),
                &ctx,
                &result,
                &scored,
                &scoring.rubric,
                ReportOptions {
                    notes: &notes,
                    pages,
                    history: &past,
                    page_group_accounts: None,
                    result_files: ResultFiles::WrittenByCaller,
                },
            )
        })?;
        // The report lists these files already (their names are fixed).
        writing.join().expect("the result file writers panicked")?;
        Ok((scored, notes, report))
    })?;
    staged.commit()?;
    drop(progress);
    for line in trace::report() {
        eprintln!("trace: {line}");
    }
    let write_secs = written.elapsed().as_secs_f64();

    let severity_counts = count_by_severity(&result.findings)?;
    let count = |s: &str| severity_counts.get(s).copied().unwrap_or(0);
    println!(
        "audited {} accounts at {}: {} findings ({} veto, {} deduct, {} notice)",
        ctx.accounts()?.height(),
        as_of,
        result.findings.height(),
        count("veto"),
        count("deduct"),
        count("notice"),
    );
    let pages_rate = if report.pages > 0 {
        format!(
            " in {:.1}s, {:.0}/s",
            report.pages_seconds,
            report.pages as f64 / report.pages_seconds.max(1e-3)
        )
    } else {
        String::new()
    };
    println!(
        "report written to {} ({} files, {} account pages{pages_rate}); checks {:.1}s, report {:.1}s, total {:.1}s",
        args.out.display(),
        report.files.len(),
        report.pages,
        check_secs,
        write_secs,
        started.elapsed().as_secs_f64()
    );
    println!(
        "tiers: {}",
        tier_summary(&scored.scores, &scoring.rubric.pack.tiers)?
    );
    for note in &notes {
        println!("{note}");
    }
    if let Some(dir) = &args.history {
        let (entry, replaced) = record(dir, &args.out, &as_of.to_string())?;
        println!(
            "history: {} {} ({} earlier audit(s) in {})",
            if replaced { "replaced" } else { "kept" },
            entry.display(),
            past.len(),
            dir.display()
        );
    }
    let failing = match args.fail_on {
        None => false,
        Some(FailOn::Veto) => count("veto") > 0,
        Some(FailOn::Deduct) => count("veto") + count("deduct") > 0,
    };
    // The program ends after this: the context (every account's names, facts and memos), the
    // findings and the scores are left to the operating system, which takes the heap back at
    // once. Freed one allocation at a time they took half a second of a national audit, after
    // its last line.
    // They hold no file, lock or temporary folder: the result's post labels (a temporary file)
    // are dropped as usual, and so is the store's read pin.
    let mut result = result;
    drop(result.post_categories.take());
    std::mem::forget((ctx, scored, result));
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// "卓越 3, 优秀 10, …, 不合格 2": accounts per tier in the pack's order, vetoed last.
fn tier_summary(scores: &DataFrame, tiers: &[Tier]) -> anyhow::Result<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for tier in scores.column("tier")?.str()?.iter() {
        *counts.entry(tier.unwrap_or("—").to_string()).or_default() += 1;
    }
    let order = |name: &str| {
        tiers
            .iter()
            .position(|t| t.name == name || t.name_en.as_deref() == Some(name))
            .unwrap_or(tiers.len())
    };
    let mut list: Vec<(String, usize)> = counts.into_iter().collect();
    list.sort_by_key(|(name, _)| order(name));
    Ok(list
        .iter()
        .map(|(tier, n)| format!("{tier} {n}"))
        .collect::<Vec<_>>()
        .join(", "))
}

fn count_by_severity(findings: &DataFrame) -> anyhow::Result<BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    for s in findings.column("severity")?.str()?.iter().flatten() {
        *counts.entry(s.to_string()).or_insert(0) += 1;
    }
    Ok(counts)
}

/// The audit's progress line on a terminal: a spinner with the phase and the time so far,
/// cleared when the audit is done (or fails).
struct Phases {
    bar: indicatif::ProgressBar,
}

impl Phases {
    fn start(visible: bool) -> Phases {
        if !visible {
            return Phases {
                bar: indicatif::ProgressBar::hidden(),
            };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} audit: {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Phases { bar }
    }

    fn phase(&self, what: &'static str) {
        self.bar.set_message(what);
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
