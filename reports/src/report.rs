//! Writes everything `govmedia audit` produces into the output folder: the findings and
//! measurements tables, one weekly-cadence chart per account, and the index page.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

// Maps keyed by account ids and other text, hashed with Polars' fast hasher (SipHash's share
// of drawing pages was about 1 %).
use polars::prelude::PlHashMap as HashMap;

use govmedia_collectors::time::days_to_date;
use govmedia_rules::engine::{AuditResult, UnitTables};
use govmedia_rules::exprs::left_join_on;
use govmedia_rules::scoring::{RubricPack, ScoreTables};
use govmedia_rules::unit_table::UnitTable;
use govmedia_rules::{AuditContext, Lang};
use polars::prelude::*;

use crate::account_page::{
    AccountHeader, FindingRow, MonthRow, PageInputs, or_dash, safe_link, strings,
    write_account_pages,
};
use crate::charts::WeekBar;
use crate::directory::CodeCounts;
use crate::history::{HistoryPoint, TrendPoint};
use crate::index_page::{
    IndexAccount, IndexPage, PlatformCount, RankingGroup, RankingRow, TopFinding, write_index,
};
use crate::labels::label;
use crate::labels::platform_label;
use crate::tables::{TimeTexts, write_csv, write_json, write_parquet, write_unit_table};
use crate::xlsx::{Sheet, write_workbook};
use crate::{Error, account_file_stem};
use govmedia_rules::measurements::{CATEGORY_COLUMNS, LATENCY_BUCKET_HOURS, MONTHLY_COUNTERS};
use govmedia_rules::trace;

pub use crate::account_page::ACCOUNTS_DIR;
/// Largest table also written as CSV (beyond it, Parquet only).
const CSV_ROW_LIMIT: usize = 1_000_000;

/// What `report.json` says of an audit (written next to its tables): what `diff` and the
/// history read back.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct AuditSummary {
    pub as_of: String,
    pub window_from: String,
    pub rules_run: Vec<String>,
    pub accounts: u64,
    pub findings: u64,
    pub veto_accounts: u64,
    pub lang: String,
    pub govmedia: String,
}

/// What was written, for the command's summary.
#[derive(Debug, Default)]
pub struct ReportFiles {
    pub files: Vec<PathBuf>,
    /// Account pages written (each with its charts inline).
    pub pages: usize,
    /// Wall time spent drawing and writing the account pages.
    pub pages_seconds: f64,
}

/// Which accounts get a page of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSelection {
    All,
    /// Accounts with a veto or deduct finding: what an evaluator opens at national scale.
    Flagged,
    None,
}

impl PageSelection {
    /// Up to this many accounts every account gets a page by default; above, flagged ones.
    pub const ALL_UP_TO: usize = 5_000;

    /// The default for an audit of `accounts` accounts.
    pub fn default_for(accounts: usize) -> PageSelection {
        if accounts <= Self::ALL_UP_TO {
            PageSelection::All
        } else {
            PageSelection::Flagged
        }
    }
}

/// What the report shows besides the audit's tables.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions<'a> {
    /// Lines for the index page (not-assessed rules, packs used, page selection).
    pub notes: &'a [String],
    pub pages: PageSelection,
    /// The past audits (empty without `--history`): trend charts.
    pub history: &'a [HistoryPoint],
    /// Account pages made at a time (their inputs held together); `None`:
    /// [`PAGE_GROUP_ACCOUNTS`]. The pages do not depend on it.
    pub page_group_accounts: Option<usize>,
    /// Whether the report writes the files drawn from the audit's result alone, or the caller
    /// already wrote them with [`write_result_files`] (while it scored).
    pub result_files: ResultFiles,
}

/// Who writes the report files that need only the audit's result (findings, measurements,
/// post labels): see [`ReportOptions::result_files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFiles {
    /// The report writes them.
    Write,
    /// The caller wrote them with [`write_result_files`] into the same folder; the index lists
    /// them.
    WrittenByCaller,
}

/// Writes the report files drawn from the audit's result alone: the findings and measurements
/// tables and the post labels. A caller may write them while it scores (they are the largest
/// files), then pass [`ResultFiles::WrittenByCaller`] to [`write_audit_report`].
pub fn write_result_files(out: &Path, result: &AuditResult) -> Result<Vec<PathBuf>, Error> {
    let mut files = write_unit_table_files(
        out,
        &UnitTables {
            measurements: &result.measurements,
            post_categories: result.post_categories.as_ref(),
        },
    )?;
    files.extend(write_findings_files(out, &result.findings)?);
    Ok(files)
}

/// The measurements' files and the post labels' of [`write_result_files`], which need no
/// finding: an audit writes them as soon as its units are done
/// (`govmedia_rules::engine::run_audit_with`), beside the cross-account rules.
pub fn write_unit_table_files(out: &Path, tables: &UnitTables) -> Result<Vec<PathBuf>, Error> {
    write_jobs(
        out,
        unit_table_file_jobs(out, tables),
        govmedia_rules::parallel::cores(),
    )
}

/// The findings' files of [`write_result_files`], each on a thread of its own: they are written
/// beside the scoring and the report's own files, and with a job per core the last of the
/// three started late and ran alone at the end of a national audit.
pub fn write_findings_files(out: &Path, findings: &DataFrame) -> Result<Vec<PathBuf>, Error> {
    let jobs: Vec<FileJob> = table_file_jobs(findings, out, "findings").into();
    let workers = jobs.len();
    write_jobs(out, jobs, workers)
}

/// Runs `jobs` writing files into `out` (made first), `workers` at a time; the files they write.
fn write_jobs(out: &Path, jobs: Vec<FileJob>, workers: usize) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(out).map_err(|e| govmedia_collectors::Error::io(out, e))?;
    let files = jobs.iter().flat_map(|j| j.files.iter().cloned()).collect();
    trace::stage("report: result files", || run_file_jobs_on(jobs, workers))?;
    Ok(files)
}

/// The jobs writing the files of [`write_result_files`].
struct ResultFileJobs<'a> {
    /// The findings' and the measurements' files.
    tables: Vec<FileJob<'a>>,
    /// The post labels, unless a partial audit labelled none.
    labels: Option<FileJob<'a>>,
}

fn result_file_jobs<'a>(out: &'a Path, result: &'a AuditResult) -> ResultFileJobs<'a> {
    let mut tables: Vec<FileJob> = table_file_jobs(&result.findings, out, "findings").into();
    tables.extend(table_file_jobs(&result.measurements, out, "measurements"));
    ResultFileJobs {
        tables,
        labels: result
            .post_categories
            .as_ref()
            .map(|labels| post_label_job(out, labels)),
    }
}

/// The jobs of [`write_unit_table_files`].
fn unit_table_file_jobs<'a>(out: &Path, tables: &UnitTables<'a>) -> Vec<FileJob<'a>> {
    let mut jobs: Vec<FileJob> = table_file_jobs(tables.measurements, out, "measurements").into();
    jobs.extend(
        tables
            .post_categories
            .map(|labels| post_label_job(out, labels)),
    );
    jobs
}

/// The job writing the post labels. Per-post labels can run to tens of millions of rows
/// nationally: always Parquet, CSV for the sizes a person opens. Reading them back from the
/// audit units' file is long.
fn post_label_job<'a>(out: &Path, post_categories: &'a UnitTable) -> FileJob<'a> {
    let parquet = out.join("post_categories.parquet");
    let csv = out.join("post_categories.csv");
    let whole_csv = post_categories.height() <= CSV_ROW_LIMIT;
    FileJob {
        files: if whole_csv {
            vec![parquet.clone(), csv.clone()]
        } else {
            vec![parquet.clone()]
        },
        long: true,
        write: Box::new(move || {
            trace::stage("report: post labels", || {
                if !whole_csv {
                    // The audit units' file as it is, rows grouped by unit (`unit_table`).
                    return write_unit_table(post_categories, &parquet);
                }
                let table = post_categories.collect()?;
                write_parquet(&table, &parquet)?;
                write_csv(&table, &csv)
            })
        }),
    }
}

pub fn write_audit_report(
    out: &Path,
    ctx: &AuditContext,
    result: &AuditResult,
    scored: &ScoreTables,
    rubric: &RubricPack,
    options: ReportOptions,
) -> Result<ReportFiles, Error> {
    let result_files = options.result_files;
    std::fs::create_dir_all(out).map_err(|e| govmedia_collectors::Error::io(out, e))?;
    let workbook = out.join("scores.xlsx");
    let label = |column: &str| column_label(column, rubric, ctx.lang);
    let (rankings_sheet, scores_sheet, findings_sheet, summary_sheet) = match ctx.lang {
        Lang::Zh => ("排名", "得分", "问题清单", "问题汇总"),
        Lang::En => ("Rankings", "Scores", "Findings", "Findings by rule"),
    };
    // A national audit's findings outgrow a sheet: a list cut at Excel's row limit would show
    // some accounts' findings and silently not others', and compressing it took longer than the
    // whole audit. The workbook then counts findings per rule; the CSV and Parquet list them.
    let findings_summary = (result.findings.height() > crate::xlsx::MAX_DATA_ROWS)
        .then(|| findings_by_rule(&result.findings))
        .transpose()?;
    let ResultFileJobs { tables, labels } = result_file_jobs(out, result);
    let mut scored_jobs: Vec<FileJob> =
        [(&scored.scores, "scores"), (&scored.rankings, "rankings")]
            .into_iter()
            .flat_map(|(table, name)| table_file_jobs(table, out, name))
            .collect();
    // The workbook: the longest job on a national audit.
    scored_jobs.push(FileJob {
        files: vec![workbook.clone()],
        long: true,
        write: Box::new(|| {
            write_workbook(
                &workbook,
                &[
                    Sheet {
                        name: rankings_sheet,
                        table: &scored.rankings,
                        labels: &label,
                        note: None,
                    },
                    Sheet {
                        name: scores_sheet,
                        table: &scored.scores,
                        labels: &label,
                        note: None,
                    },
                    match &findings_summary {
                        None => Sheet {
                            name: findings_sheet,
                            table: &result.findings,
                            labels: &label,
                            note: None,
                        },
                        Some(summary) => Sheet {
                            name: summary_sheet,
                            table: summary,
                            labels: &label,
                            note: Some(findings_summary_note(result.findings.height(), ctx.lang)),
                        },
                    },
                ],
            )
        }),
    });
    // The index lists the files in a fixed order, known before they are written.
    let files: Vec<PathBuf> = tables
        .iter()
        .chain(&scored_jobs)
        .chain(&labels)
        .flat_map(|job| job.files.iter().cloned())
        .collect();
    let mut jobs = scored_jobs;
    if result_files == ResultFiles::Write {
        jobs.extend(tables.into_iter().chain(labels));
    }
    // The table files are independent of the pages and the index: written on every core while
    // this thread gathers the index, draws the pages and writes the directory (each of which
    // leaves a core idle much of the time).
    std::thread::scope(|scope| {
        let table_files =
            scope.spawn(|| trace::stage("report: table files", || run_file_jobs(jobs)));
        let run = Report {
            out,
            ctx,
            result,
            scored,
            rubric,
            options,
        };
        let pages_and_index = write_pages_and_index(&run, files);
        let tables_written = table_files.join().expect("the table file writers panicked");
        // Which side's error came back first depended on the threads' timing: a full disk met
        // by a page was now and then reported as a table file's.
        match (pages_and_index, tables_written) {
            (Err(pages), Err(tables)) => Err(Error::PagesAndTables {
                pages: Box::new(pages),
                tables: Box::new(tables),
            }),
            (pages_and_index, tables_written) => {
                tables_written?;
                pages_and_index
            }
        }
    })
}

/// What a report is made of: where it goes, the audit, its scores and the options.
#[derive(Clone, Copy)]
struct Report<'a> {
    out: &'a Path,
    ctx: &'a AuditContext,
    result: &'a AuditResult,
    scored: &'a ScoreTables,
    rubric: &'a RubricPack,
    options: ReportOptions<'a>,
}

/// The account pages, the directory, the index page and `report.json`; `files` are the table
/// files written beside them.
fn write_pages_and_index(run: &Report, files: Vec<PathBuf>) -> Result<ReportFiles, Error> {
    let (ctx, result, scored) = (run.ctx, run.result, run.scored);
    let report = ReportFiles {
        files,
        ..ReportFiles::default()
    };
    let accounts = trace::stage("report: index accounts", || {
        index_accounts(ctx, result, &scored.scores, &scored.rankings)
    });
    let mut accounts = accounts?;
    let paged: HashSet<String> = accounts
        .iter()
        .filter(|a| match run.options.pages {
            PageSelection::All => true,
            PageSelection::Flagged => a.veto + a.deduct > 0,
            PageSelection::None => false,
        })
        .map(|a| a.account_id.clone())
        .collect();
    // No link points at a page that was not written.
    for a in &mut accounts {
        if !paged.contains(&a.account_id) {
            a.chart_href.clear();
        }
    }
    // The pages are drawn beside the directory and the index, which do not read them.
    std::thread::scope(|scope| {
        let pages = scope.spawn(|| {
            let started = std::time::Instant::now();
            let written = write_pages(run, &paged)?;
            Ok::<_, Error>((written, started.elapsed().as_secs_f64()))
        });
        let index = write_index_and_summary(run, &accounts, &paged, report);
        let (pages, pages_seconds) = pages.join().expect("the page writers panicked")?;
        let mut report = index?;
        report.pages = pages;
        report.pages_seconds = if pages > 0 { pages_seconds } else { 0.0 };
        Ok(report)
    })
}

/// The directory, the index page, the stylesheet and `report.json`, added to `report`'s files.
fn write_index_and_summary(
    run: &Report,
    accounts: &[IndexAccount],
    paged: &HashSet<String>,
    mut report: ReportFiles,
) -> Result<ReportFiles, Error> {
    let (out, ctx, result, scored, rubric) = (run.out, run.ctx, run.result, run.scored, run.rubric);
    let ReportOptions { notes, history, .. } = run.options;
    let mut platforms: Vec<PlatformCount> = Vec::new();
    for p in ["wechat", "weibo", "app"] {
        let count = accounts.iter().filter(|a| a.platform == p).count() as u64;
        if count > 0 {
            platforms.push(PlatformCount {
                label: platform_label(p, ctx.lang),
                count,
            });
        }
    }
    let (tier_names, failing_tier) = tier_order(scored, rubric, ctx.lang)?;
    let as_of = ctx.as_of.to_string();
    // Groups in the rankings' order (platforms, then levels from 部委 down).
    let rankings = trace::stage("index: ranking groups", || {
        ranking_groups(&scored.rankings, ctx.lang, paged)
    })?;
    let mut group_order: Vec<String> = Vec::new();
    for g in &rankings {
        let name = format!("{} · {}", g.platform, g.level);
        if !group_order.contains(&name) {
            group_order.push(name);
        }
    }
    // The directory's pages are written beside the finding codes, the league tables, the vetoed
    // accounts' order and the top findings, which do not need them (the groups' table links to
    // each group's first page, filled in after).
    let (directory, veto_codes, mut league_regions, mut league_groups, vetoed, top) =
        std::thread::scope(|scope| {
            let directory = scope.spawn(|| {
                trace::stage("index: directory", || {
                    crate::directory::write_directory(out, accounts, &group_order, &as_of, ctx.lang)
                })
            });
            let beside = || -> Result<_, Error> {
                let (codes, veto_codes) =
                    trace::stage("index: finding codes", || finding_codes(&result.findings))?;
                let league = |key: &dyn Fn(&IndexAccount) -> Option<String>| {
                    crate::directory::league_table(
                        accounts,
                        key,
                        |_| String::new(),
                        &codes,
                        &tier_names,
                        &failing_tier,
                    )
                };
                let league_regions = league(&crate::directory::region_key(accounts, ctx.lang));
                let league_groups = league(&|a: &IndexAccount| Some(a.group.clone()));
                // Vetoed accounts in the groups' order, then by name.
                let place: HashMap<&str, usize> = group_order
                    .iter()
                    .enumerate()
                    .map(|(i, g)| (g.as_str(), i))
                    .collect();
                let mut vetoed: Vec<(usize, &IndexAccount)> = accounts
                    .iter()
                    .filter(|a| a.veto > 0)
                    .map(|a| {
                        (
                            place.get(a.group.as_str()).copied().unwrap_or(usize::MAX),
                            a,
                        )
                    })
                    .collect();
                vetoed.sort_by(|(pa, a), (pb, b)| pa.cmp(pb).then(a.name.cmp(&b.name)));
                let vetoed: Vec<&IndexAccount> = vetoed.into_iter().map(|(_, a)| a).collect();
                let top = trace::stage("index: top findings", || {
                    top_findings(&result.findings, ctx.lang)
                })?;
                Ok((veto_codes, league_regions, league_groups, vetoed, top))
            };
            let beside = beside();
            let (directory, _directory_files) =
                directory.join().expect("the directory writer panicked")?;
            let (veto_codes, league_regions, league_groups, vetoed, top) = beside?;
            Ok::<_, Error>((
                directory,
                veto_codes,
                league_regions,
                league_groups,
                vetoed,
                top,
            ))
        })?;
    let first_page: HashMap<String, String> = directory
        .iter()
        .filter(|d| d.page == 1)
        .map(|d| (d.group.clone(), d.href.clone()))
        .collect();
    for row in &mut league_groups {
        row.href = first_page.get(&row.name).cloned().unwrap_or_default();
    }
    crate::directory::sort_by_order(&mut league_groups, |r| &r.name, &group_order);
    let league_regions_more =
        crate::directory::keep_largest(&mut league_regions, crate::directory::LEAGUE_REGION_ROWS);
    crate::directory::sort_by_order(
        &mut league_regions,
        |r| &r.name,
        &crate::directory::region_order(accounts, ctx.lang),
    );
    let vetoed_more = vetoed
        .len()
        .saturating_sub(crate::directory::VETO_LIST_ROWS) as u64;
    let vetoed: Vec<crate::directory::VetoRow> = vetoed
        .into_iter()
        .take(crate::directory::VETO_LIST_ROWS)
        .map(|a| crate::directory::VetoRow {
            name: a.name.clone(),
            account_id: a.account_id.clone(),
            org_name: a.org_name.clone(),
            group: a.group.clone(),
            rules: veto_codes
                .get(a.account_id.as_str())
                .map(|c| c.join(", "))
                .unwrap_or_default(),
            href: a.chart_href.clone(),
        })
        .collect();
    let page = IndexPage {
        as_of: ctx.as_of.to_string(),
        window_from: days_to_date(ctx.from_day as i32).to_string(),
        rules_run: result.rules_run.join(", "),
        platforms,
        veto_accounts: accounts.iter().filter(|a| a.veto > 0).count() as u64,
        findings_total: result.findings.height() as u64,
        files: report
            .files
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
            .collect(),
        notes: notes.to_vec(),
        tier_chart: tier_chart(scored, &tier_names, &failing_tier, ctx.lang)?,
        trend_chart: index_trend(history, scored, ctx)?,
        top_findings: top,
        rankings,
        accounts_total: accounts.len() as u64,
        league_groups,
        league_regions,
        league_regions_more,
        vetoed,
        vetoed_more,
        directory,
    };
    let index = out.join("index.html");
    trace::stage("index: write", || write_index(&page, ctx.lang, &index))?;
    report.files.push(index);
    report.files.push(crate::html::write_stylesheet(out)?);

    let summary = AuditSummary {
        as_of: ctx.as_of.to_string(),
        window_from: days_to_date(ctx.from_day as i32).to_string(),
        rules_run: result.rules_run.iter().map(|c| c.to_string()).collect(),
        accounts: ctx.accounts()?.height() as u64,
        findings: result.findings.height() as u64,
        veto_accounts: page.veto_accounts,
        lang: ctx.lang.pick("zh", "en").to_string(),
        govmedia: env!("CARGO_PKG_VERSION").to_string(),
    };
    let summary_path = out.join("report.json");
    let json = serde_json::to_string_pretty(&summary).expect("a summary serialises");
    govmedia_collectors::store::write_atomic(&summary_path, |f| {
        std::io::Write::write_all(f, json.as_bytes())
    })?;
    report.files.push(summary_path);
    Ok(report)
}

/// Draws and writes the pages of the `paged` accounts, a group of audit units at a time, and
/// returns how many were written. A group's inputs are gathered (one core's work) while the pages
/// of the group before are drawn, so both cores stay busy.
fn write_pages(run: &Report, paged: &HashSet<String>) -> Result<usize, Error> {
    let (ctx, result, scored) = (run.ctx, run.result, run.scored);
    let (history, rubric) = (run.options.history, run.rubric);
    if paged.is_empty() {
        return Ok(0);
    }
    let mut trends = if history.is_empty() {
        HashMap::default()
    } else {
        account_trends(history, &scored.scores, &result.findings, ctx)?
    };
    // A group of audit units at a time: the pages' inputs (every finding as text, weeks,
    // months) of a national audit held at once were 2.5 GB; two groups are held at a time.
    let group_accounts = (run.options.page_group_accounts)
        .unwrap_or(PAGE_GROUP_ACCOUNTS)
        .max(1);
    let groups = page_groups(ctx, paged, group_accounts)?;
    let headers = trace::stage("report: page inputs", || page_headers(ctx, result, scored))?;
    let tables = trace::stage("report: page inputs", || {
        GroupedTables::new(
            [
                &headers,
                &scored.scores,
                &result.reply_latency,
                &result.monthly,
                &result.findings,
                &result.weekly_updates,
                &result.finding_links,
            ],
            &groups,
        )
    })?;
    let (tables, groups) = (&tables, &groups);
    let inputs_of = |g: usize, trend: HashMap<String, Vec<TrendPoint>>| {
        let mut inputs = trace::stage("report: page inputs", || {
            page_inputs(ctx, rubric, tables, g as u32)
        })?;
        inputs.trend = trend;
        trace::stage("report: finding links", || {
            let links = tables.rows(LINKS, g as u32)?;
            crate::item_links::link_findings(ctx, &mut inputs.findings, &groups[g], &links)
        })?;
        Ok::<_, Error>(inputs)
    };
    let mut trend_of = |g: usize| -> HashMap<String, Vec<TrendPoint>> {
        groups[g]
            .iter()
            .filter_map(|a| trends.remove_entry(a))
            .collect()
    };
    // The next group's inputs are made while the pages of the one before are drawn.
    let groups = (0..groups.len()).map(|g| inputs_of(g, trend_of(g)));
    trace::stage("report: account pages", || {
        write_account_pages(run.out, groups)
    })
}

/// The findings' codes with their counts per account (those of the scoring's
/// [`finding_counts`](govmedia_rules::scoring::finding_counts)), each code where the account's
/// findings first name it, and the veto codes per account (sorted); the text borrowed from the
/// findings. Counted run by run ([`finding_runs`](govmedia_rules::scoring::finding_runs)): a
/// code met again later adds its run to the same entry, so any order gives the same counts. No
/// map of counts: an account's few codes are looked through.
fn finding_codes(
    findings: &DataFrame,
) -> Result<(CodeCounts<'_>, HashMap<&str, Vec<&str>>), Error> {
    let mut all: CodeCounts = HashMap::default();
    for ((id, code), n) in govmedia_rules::scoring::finding_runs(findings)? {
        let list = all.entry(id).or_default();
        match list.iter_mut().find(|(c, _)| *c == code) {
            Some((_, count)) => *count += u64::from(n),
            None => list.push((code, u64::from(n))),
        }
    }
    let ids = findings.column("account_id")?.str()?;
    let codes = findings.column("code")?.str()?;
    let severities = findings.column("severity")?.str()?;
    let mut veto: HashMap<&str, Vec<&str>> = HashMap::default();
    for ((id, code), severity) in ids.iter().zip(codes.iter()).zip(severities.iter()) {
        let (Some(id), Some(code), Some("veto")) = (id, code, severity) else {
            continue;
        };
        let list = veto.entry(id).or_default();
        if let Err(at) = list.binary_search(&code) {
            list.insert(at, code);
        }
    }
    Ok((all, veto))
}

/// Each account's findings by severity (`account_id, veto, deduct, notice`), counting the
/// run of each account at once (the findings come in account order; any order gives the same
/// counts, an account's rows then adding up across its runs).
fn severity_counts(findings: &DataFrame) -> Result<DataFrame, Error> {
    const SEVERITIES: [&str; 3] = ["veto", "deduct", "notice"];
    let ids = findings.column("account_id")?.str()?;
    let severities = findings.column("severity")?.str()?;
    let mut row_of: HashMap<&str, usize> = HashMap::default();
    let mut accounts: Vec<&str> = Vec::new();
    let mut counts: [Vec<u64>; 3] = Default::default();
    let mut last: Option<(&str, usize)> = None;
    for (id, severity) in ids.iter().zip(severities.iter()) {
        let Some(id) = id else { continue };
        let row = match last {
            Some((previous, row)) if previous == id => row,
            _ => *row_of.entry(id).or_insert_with(|| {
                accounts.push(id);
                counts.iter_mut().for_each(|c| c.push(0));
                accounts.len() - 1
            }),
        };
        last = Some((id, row));
        if let Some(s) = SEVERITIES.iter().position(|s| Some(*s) == severity) {
            counts[s][row] += 1;
        }
    }
    let [veto, deduct, notice] = counts;
    Ok(DataFrame::new(
        accounts.len(),
        vec![
            Column::new("account_id".into(), accounts),
            Column::new("veto".into(), veto),
            Column::new("deduct".into(), deduct),
            Column::new("notice".into(), notice),
        ],
    )?)
}

/// The index rows: every audited account with its finding counts by severity, its ranking
/// group and its org's region.
fn index_accounts(
    ctx: &AuditContext,
    result: &AuditResult,
    scores: &DataFrame,
    rankings: &DataFrame,
) -> Result<Vec<IndexAccount>, Error> {
    let counts = severity_counts(&result.findings)?.lazy();
    let last = result
        .measurements
        .clone()
        .lazy()
        .select([col("account_id"), col("last_update").cast(DataType::String)]);
    let org_names = ctx
        .tables
        .orgs
        .clone()
        .select([
            col("org_id"),
            col("official_name"),
            col("region").cast(DataType::String),
        ])
        .unique_stable(None, UniqueKeepStrategy::First);
    let levels = rankings
        .clone()
        .lazy()
        .select([col("account_id"), col("level")]);
    let with_org = left_join_on(ctx.accounts()?.clone().lazy(), org_names, &["org_id"]);
    let scores = scores.clone().lazy().select([
        col("account_id"),
        col("score").cast(DataType::String).alias("score_text"),
        col("score").cast(DataType::Float64).alias("score_value"),
        col("tier"),
    ]);
    let df = left_join_on(
        left_join_on(
            left_join_on(
                left_join_on(with_org, counts, &["account_id"]),
                last,
                &["account_id"],
            ),
            scores,
            &["account_id"],
        ),
        levels,
        &["account_id"],
    )
    .sort(["account_id"], SortMultipleOptions::default())
    .collect()?;
    let ids = strings(&df, "account_id")?;
    let names = strings(&df, "account_name")?;
    let platforms = strings(&df, "platform")?;
    let orgs = strings(&df, "org_id")?;
    let org_names = strings(&df, "official_name")?;
    let lasts = strings(&df, "last_update")?;
    let score_texts = strings(&df, "score_text")?;
    let tiers = strings(&df, "tier")?;
    let regions = strings(&df, "region")?;
    let levels = strings(&df, "level")?;
    let score_values: Vec<Option<f64>> = df.column("score_value")?.f64()?.iter().collect();
    let count = |name: &str| -> PolarsResult<Vec<u64>> {
        Ok(df
            .column(name)?
            .u64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (veto, deduct, notice) = (count("veto")?, count("deduct")?, count("notice")?);
    Ok((0..df.height())
        .map(|i| {
            let id = ids[i].clone().unwrap_or_default();
            IndexAccount {
                chart_href: format!("{ACCOUNTS_DIR}/{}.html", account_file_stem(&id)),
                name: names[i].clone().unwrap_or_else(|| id.clone()),
                account_id: id,
                platform: platforms[i].clone().unwrap_or_default(),
                org_id: orgs[i].clone().unwrap_or_default(),
                org_name: org_names[i]
                    .clone()
                    .or_else(|| orgs[i].clone())
                    .unwrap_or_default(),
                veto: veto[i],
                deduct: deduct[i],
                notice: notice[i],
                last_update: lasts[i].clone().unwrap_or_else(|| "—".into()),
                score: score_texts[i].clone().unwrap_or_else(|| "—".into()),
                tier: tiers[i].clone().unwrap_or_else(|| "—".into()),
                score_value: score_values[i],
                group: format!(
                    "{} · {}",
                    platform_label(platforms[i].as_deref().unwrap_or_default(), ctx.lang),
                    levels[i].as_deref().unwrap_or("—")
                ),
                region: regions[i].clone().unwrap_or_default(),
            }
        })
        .collect())
}

/// Accounts per tier in the pack's order, the veto tier last.
fn tier_chart(
    scored: &ScoreTables,
    order: &[String],
    failing: &str,
    lang: Lang,
) -> Result<String, Error> {
    let tiers = strings(&scored.scores, "tier")?;
    let counts: Vec<(String, u64)> = order
        .iter()
        .map(|name| {
            let n = tiers.iter().filter(|t| t.as_deref() == Some(name)).count() as u64;
            (name.clone(), n)
        })
        .collect();
    crate::account_charts::tier_distribution_svg(
        label("chart_tiers_title", lang),
        &counts,
        failing,
        lang,
    )
}

/// The tiers in the pack's order (in the page's language), the failing tier last; and the
/// failing tier's name ("" when no account failed).
fn tier_order(
    scored: &ScoreTables,
    rubric: &RubricPack,
    lang: Lang,
) -> Result<(Vec<String>, String), Error> {
    let tiers = strings(&scored.scores, "tier")?;
    let veto: Vec<Option<bool>> = scored.scores.column("veto")?.bool()?.iter().collect();
    let mut order: Vec<String> = rubric
        .pack
        .tiers
        .iter()
        .map(|t| match (&t.name_en, lang) {
            (Some(en), Lang::En) => en.clone(),
            _ => t.name.clone(),
        })
        .collect();
    let failing = tiers
        .iter()
        .zip(&veto)
        .find(|(_, v)| v.unwrap_or(false))
        .and_then(|(t, _)| t.clone())
        .unwrap_or_default();
    if !failing.is_empty() && !order.contains(&failing) {
        order.push(failing.clone());
    }
    Ok((order, failing))
}

/// Each account's (as_of, score, findings) over the past audits and this one.
fn account_trends(
    history: &[HistoryPoint],
    scores: &DataFrame,
    findings: &DataFrame,
    ctx: &AuditContext,
) -> Result<HashMap<String, Vec<TrendPoint>>, Error> {
    let mut counts: HashMap<String, u64> = HashMap::default();
    for id in strings(findings, "account_id")?.into_iter().flatten() {
        *counts.entry(id).or_default() += 1;
    }
    let ids = strings(scores, "account_id")?;
    let score = scores.column("score")?.cast(&DataType::Float64)?;
    let score = score.f64()?;
    let mut trends = HashMap::default();
    for (i, id) in ids.into_iter().enumerate() {
        let Some(id) = id else { continue };
        let mut points: Vec<TrendPoint> = history
            .iter()
            .filter_map(|h| {
                h.accounts.get(&id).map(|(s, n)| TrendPoint {
                    as_of: h.as_of.clone(),
                    score: *s,
                    findings: *n,
                })
            })
            .collect();
        points.push(TrendPoint {
            as_of: ctx.as_of.to_string(),
            score: score.get(i),
            findings: counts.get(&id).copied().unwrap_or(0),
        });
        trends.insert(id, points);
    }
    Ok(trends)
}

/// Vetoed accounts and accounts per tier over the past audits and this one (empty without a
/// history).
fn index_trend(
    history: &[HistoryPoint],
    scored: &ScoreTables,
    ctx: &AuditContext,
) -> Result<String, Error> {
    if history.is_empty() {
        return Ok(String::new());
    }
    let mut current = BTreeMap::new();
    for tier in strings(&scored.scores, "tier")? {
        *current
            .entry(tier.unwrap_or_else(|| "—".into()))
            .or_insert(0u64) += 1;
    }
    let vetoes = scored
        .scores
        .column("veto")?
        .bool()?
        .iter()
        .filter(|v| v.unwrap_or(false))
        .count() as u64;
    let mut dates: Vec<String> = history.iter().map(|h| h.as_of.clone()).collect();
    dates.push(ctx.as_of.to_string());
    let mut tier_names: Vec<String> = history
        .iter()
        .flat_map(|h| h.tiers.keys().cloned())
        .chain(current.keys().cloned())
        .collect();
    tier_names.sort();
    tier_names.dedup();
    let mut series = vec![(
        label("chart_vetoed", ctx.lang).to_string(),
        history
            .iter()
            .map(|h| h.vetoes as f64)
            .chain([vetoes as f64])
            .collect::<Vec<f64>>(),
    )];
    for tier in tier_names {
        let values = history
            .iter()
            .map(|h| h.tiers.get(&tier).copied().unwrap_or(0) as f64)
            .chain([current.get(&tier).copied().unwrap_or(0) as f64])
            .collect();
        series.push((tier, values));
    }
    crate::account_charts::line_chart_svg(
        label("chart_history_title", ctx.lang),
        &dates,
        &series,
        label("chart_accounts", ctx.lang),
    )
}

/// The ten rules with the most findings, with how many accounts they concern.
fn top_findings(findings: &DataFrame, lang: Lang) -> Result<Vec<TopFinding>, Error> {
    let top = findings
        .clone()
        .lazy()
        .group_by([col("code")])
        .agg([
            len().cast(DataType::UInt64).alias("findings"),
            col("account_id")
                .n_unique()
                .cast(DataType::UInt64)
                .alias("accounts"),
        ])
        .sort_by_exprs(
            [col("findings"), col("code")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(10)
        .collect()?;
    let codes = strings(&top, "code")?;
    let counts: Vec<u64> = top
        .column("findings")?
        .u64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let accounts: Vec<u64> = top
        .column("accounts")?
        .u64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    Ok(codes
        .into_iter()
        .enumerate()
        .map(|(i, code)| {
            let code = code.unwrap_or_default();
            let summary = govmedia_rules::registry()
                .iter()
                .find(|r| r.info().code == code)
                .map_or("", |r| r.info().summary);
            TopFinding {
                title: crate::labels::rule_title(&code, summary, lang),
                code,
                findings: counts[i],
                accounts: accounts[i],
            }
        })
        .collect())
}

/// The first 20 of every ranking list (the CSV/XLSX have them all).
fn ranking_groups(
    rankings: &DataFrame,
    lang: Lang,
    paged: &HashSet<String>,
) -> Result<Vec<RankingGroup>, Error> {
    const SHOWN: usize = 20;
    let platforms = strings(rankings, "platform")?;
    let levels = strings(rankings, "level")?;
    let ids = strings(rankings, "account_id")?;
    let names = strings(rankings, "account_name")?;
    let ranks: Vec<Option<u32>> = rankings.column("rank")?.u32()?.iter().collect();
    let tied: Vec<Option<bool>> = rankings.column("tied")?.bool()?.iter().collect();
    let index = strings(rankings, "influence_index")?;
    let score = strings(rankings, "score")?;
    let tier = strings(rankings, "tier")?;
    let mut groups: Vec<RankingGroup> = Vec::new();
    for i in 0..rankings.height() {
        let platform = platform_label(platforms[i].as_deref().unwrap_or(""), lang);
        let level = levels[i].clone().unwrap_or_default();
        if groups
            .last()
            .is_none_or(|g| g.platform != platform || g.level != level)
        {
            groups.push(RankingGroup {
                platform: platform.clone(),
                level: level.clone(),
                total: 0,
                rows: Vec::new(),
            });
        }
        let group = groups.last_mut().expect("pushed above");
        group.total += 1;
        if group.rows.len() < SHOWN {
            let tie = if tied[i].unwrap_or(false) {
                label("tied_suffix", lang)
            } else {
                ""
            };
            let id = ids[i].clone().unwrap_or_default();
            let tier_text = tier[i].clone().unwrap_or_default();
            group.rows.push(RankingRow {
                rank: format!("{}{tie}", ranks[i].unwrap_or(0)),
                name: names[i].clone().unwrap_or_else(|| id.clone()),
                href: if paged.contains(&id) {
                    format!("{ACCOUNTS_DIR}/{}.html", account_file_stem(&id))
                } else {
                    String::new()
                },
                influence: or_dash(index[i].clone()),
                score: or_dash(score[i].clone()),
                failed: tier_text == lang.pick("不合格", "failed"),
                tier: or_dash(Some(tier_text)),
            });
        }
    }
    Ok(groups)
}

/// The runs of rows of one account id (an account's rows are consecutive in the per-account
/// tables): each id with its rows, so that it is copied and looked up once per run rather than
/// once per row. Rows without an id are skipped.
fn id_runs<'a>(
    ids: &'a [Option<&'a str>],
) -> impl Iterator<Item = (&'a str, std::ops::Range<usize>)> + 'a {
    let mut at = 0;
    ids.chunk_by(|a, b| a == b).filter_map(move |run| {
        let rows = at..at + run.len();
        at = rows.end;
        run[0].map(|id| (id, rows))
    })
}

/// Weekly bars and the cadence threshold per account. Read in one pass over the columns, an
/// account's run of rows at a time: a national audit's flagged pages read ten million weekly
/// rows, and collecting every column first, then making a date per row, was a twentieth of the
/// pages' time. The weeks' dates repeat from account to account: each is made once.
fn weeks_by_account(weekly: &DataFrame) -> Result<HashMap<String, (Vec<WeekBar>, f64)>, Error> {
    let ids: Vec<Option<&str>> = weekly.column("account_id")?.str()?.iter().collect();
    let starts = weekly.column("week_start")?.cast(&DataType::Int32)?;
    let mut dates: HashMap<i32, chrono::NaiveDate> = HashMap::default();
    let mut rows = starts
        .i32()?
        .iter()
        .zip(weekly.column("updates")?.i64()?.iter())
        .zip(weekly.column("judged")?.bool()?.iter())
        .zip(weekly.column("min_per_week")?.f64()?.iter());
    let mut by_account: HashMap<String, (Vec<WeekBar>, f64)> = HashMap::default();
    let mut at = 0;
    for (id, run) in id_runs(&ids) {
        // Rows without an id, skipped.
        if run.start > at {
            rows.nth(run.start - at - 1);
        }
        at = run.end;
        let mut bars =
            rows.by_ref()
                .take(run.len())
                .map(|(((start, updates), judged), threshold)| {
                    let bar = WeekBar {
                        week_start: *dates
                            .entry(start.unwrap_or(0))
                            .or_insert_with_key(|&day| days_to_date(day)),
                        updates: updates.unwrap_or(0),
                        judged: judged.unwrap_or(false),
                    };
                    (bar, threshold)
                });
        let Some((first, threshold)) = bars.next() else {
            continue;
        };
        let entry = by_account
            .entry(id.to_string())
            .or_insert_with(|| (Vec::new(), threshold.unwrap_or(1.0)));
        entry.0.push(first);
        entry.0.extend(bars.map(|(bar, _)| bar));
    }
    Ok(by_account)
}

fn i64_values(df: &DataFrame, name: &str) -> PolarsResult<Vec<i64>> {
    Ok(df
        .column(name)?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

/// Groups of audit units in which account pages are made, each with up to about
/// `group_accounts` paged accounts (the paged accounts of its units), the first ones smaller
/// ([`growing_unit_runs`]). Fewer pages, or a store in one unit, are one group.
fn page_groups(
    ctx: &AuditContext,
    paged: &HashSet<String>,
    group_accounts: usize,
) -> Result<Vec<HashSet<String>>, Error> {
    let units = ctx.units();
    let groups = page_group_count(paged.len(), group_accounts, units.len());
    if groups <= 1 {
        return Ok(vec![paged.clone()]);
    }
    let group_of_unit = growing_unit_runs(units.len(), units.len().div_ceil(groups));
    let mut groups: Vec<HashSet<String>> =
        vec![HashSet::new(); group_of_unit.last().map_or(0, |g| g + 1)];
    for account in paged {
        let unit = ctx.unit_of(account).unwrap_or_default();
        groups[group_of_unit[unit]].insert(account.clone());
    }
    groups.retain(|g| !g.is_empty());
    Ok(groups)
}

/// The page group of each of `units` audit units: runs of units in unit order, the first
/// [`FIRST_GROUP_SHARE`] of `per_group` units long, each next one twice the one before, up to
/// `per_group`. The drawers cannot start before the first group's inputs are made, on one core:
/// a national audit's first group of 50,000 accounts kept the other core idle for about three
/// seconds. A small first group is drawn while the larger next one is made, and so on, each
/// group's inputs taking about a third of the time its pages take to draw.
fn growing_unit_runs(units: usize, per_group: usize) -> Vec<usize> {
    let mut group_of_unit = Vec::with_capacity(units);
    let mut run = (per_group / FIRST_GROUP_SHARE).max(1);
    let mut group = 0;
    while group_of_unit.len() < units {
        let take = run.min(units - group_of_unit.len());
        group_of_unit.extend(std::iter::repeat_n(group, take));
        group += 1;
        run = (run * 2).min(per_group.max(1));
    }
    group_of_unit
}

/// The first page group is this fraction of a full one ([`growing_unit_runs`]).
const FIRST_GROUP_SHARE: usize = 8;

/// How many page groups `paged` pages make, of about `group_accounts` each: at least two above
/// [`PAGE_GROUP_SPLIT`] pages, at most one per audit unit.
fn page_group_count(paged: usize, group_accounts: usize, units: usize) -> usize {
    let at_least = if paged > PAGE_GROUP_SPLIT { 2 } else { 1 };
    paged
        .div_ceil(group_accounts.max(1))
        .max(at_least)
        .min(units)
}

/// Paged accounts made at a time at most (the first groups are smaller: [`growing_unit_runs`]):
/// the inputs of 200,000 pages held at once were 2.5 GB (200,000 accounts: 100.0 s / 6.3 GB in
/// one group, 108.8-110.0 s / 4.3-4.7 GB in groups of 25,000 or 50,000, on a machine whose runs
/// spread by ±5 s).
pub const PAGE_GROUP_ACCOUNTS: usize = 50_000;

/// Paged accounts above which the pages are made in two groups at least: the first group's
/// inputs are made while the table files are written, the memory peak of a mid-sized audit.
/// 20,000 accounts with flagged pages (19,526 pages) peaked at 953-1,007 MB in one group,
/// 877-899 MB in two, in the same time (5.7-5.8 s), the same pages.
pub const PAGE_GROUP_SPLIT: usize = 10_000;

/// The per-account tables the pages read, with each row's page group worked out once (a
/// national audit's ten million weekly rows are not looked up again for every group).
struct GroupedTables<'t> {
    tables: [&'t DataFrame; 7],
    /// Per table, the group of each row (`u32::MAX`: no page).
    row_groups: [Vec<u32>; 7],
}

const HEADERS: usize = 0;
const SCORES: usize = 1;
const LATENCY: usize = 2;
const MONTHLY: usize = 3;
const FINDINGS: usize = 4;
const WEEKLY: usize = 5;
const LINKS: usize = 6;

impl<'t> GroupedTables<'t> {
    fn new(tables: [&'t DataFrame; 7], groups: &[HashSet<String>]) -> PolarsResult<Self> {
        let group_of: HashMap<&str, u32> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, accounts)| accounts.iter().map(move |a| (a.as_str(), g as u32)))
            .collect();
        let mut row_groups: [Vec<u32>; 7] = Default::default();
        for (rows, df) in row_groups.iter_mut().zip(tables) {
            if df.width() == 0 {
                continue;
            }
            *rows = df
                .column("account_id")?
                .str()?
                .iter()
                .map(|a| a.and_then(|a| group_of.get(a)).copied().unwrap_or(u32::MAX))
                .collect();
        }
        Ok(GroupedTables { tables, row_groups })
    }

    /// The rows of table `table` in group `group`.
    fn rows(&self, table: usize, group: u32) -> PolarsResult<DataFrame> {
        let df = self.tables[table];
        if df.width() == 0 {
            return Ok(df.clone());
        }
        let mask: BooleanChunked = self.row_groups[table].iter().map(|&g| g == group).collect();
        df.filter(&mask)
    }
}

/// Every account's page header fields (profile, organisation, score, rank, reply rate), one
/// row per account in account order: joined once, then cut per group of pages.
fn page_headers(
    ctx: &AuditContext,
    result: &AuditResult,
    scored: &ScoreTables,
) -> Result<DataFrame, Error> {
    let profile = ctx
        .tables
        .accounts
        .clone()
        .select([
            col("account_id"),
            col("certification"),
            col("verified"),
            col("url"),
        ])
        .unique_stable(Some(cols(["account_id"])), UniqueKeepStrategy::First);
    let org_names = ctx
        .tables
        .orgs
        .clone()
        .select([col("org_id"), col("official_name")])
        .unique_stable(None, UniqueKeepStrategy::First);
    let scores = scored.scores.clone().lazy().select([
        col("account_id"),
        col("score"),
        col("tier"),
        col("veto"),
        col("veto_rules"),
        col("assessed_weight"),
        col("not_assessed"),
        col("influence_index"),
        col("index_name"),
    ]);
    let ranks = scored.rankings.clone().lazy().select([
        col("account_id"),
        col("rank"),
        col("tied"),
        col("level"),
        col("group_size"),
    ]);
    let rates = result
        .measurements
        .clone()
        .lazy()
        .select([col("account_id"), col("reply_rate")]);
    let mut lf = ctx.accounts()?.clone().lazy().select([
        col("account_id"),
        col("platform"),
        col("account_kind"),
        col("account_name"),
        col("org_id"),
    ]);
    lf = left_join_on(lf, profile, &["account_id"]);
    lf = left_join_on(lf, org_names, &["org_id"]);
    for other in [scores, ranks, rates] {
        lf = left_join_on(lf, other, &["account_id"]);
    }
    Ok(lf
        .sort(["account_id"], SortMultipleOptions::default())
        .collect()?)
}

/// The inputs of the pages of group `group` of `tables`.
fn page_inputs<'a>(
    ctx: &AuditContext,
    rubric: &'a RubricPack,
    tables: &GroupedTables,
    group: u32,
) -> Result<PageInputs<'a>, Error> {
    let lang = ctx.lang;
    let df = tables.rows(HEADERS, group)?;
    let text = |name: &str| strings(&df, name);
    let (ids, platforms, kinds, names) = (
        text("account_id")?,
        text("platform")?,
        text("account_kind")?,
        text("account_name")?,
    );
    let (orgs, org_names, certs, urls) = (
        text("org_id")?,
        text("official_name")?,
        text("certification")?,
        text("url")?,
    );
    let verified: Vec<Option<bool>> = df.column("verified")?.bool()?.iter().collect();
    let (score, tier, veto_rules, weight) = (
        text("score")?,
        text("tier")?,
        text("veto_rules")?,
        text("assessed_weight")?,
    );
    let vetoes: Vec<Option<bool>> = df.column("veto")?.bool()?.iter().collect();
    let (missing, influence, index_names, level) = (
        text("not_assessed")?,
        text("influence_index")?,
        text("index_name")?,
        text("level")?,
    );
    let (rank, group_size, rate) = (text("rank")?, text("group_size")?, text("reply_rate")?);
    let tied: Vec<Option<bool>> = df.column("tied")?.bool()?.iter().collect();
    let rule_name = |code: &str| {
        govmedia_rules::registry()
            .iter()
            .find(|r| r.info().code == code)
            .map_or(code.to_string(), |r| {
                let info = r.info();
                format!(
                    "{code} {}",
                    crate::labels::rule_title(code, info.summary, lang)
                )
            })
    };
    let headers: Vec<AccountHeader> = (0..df.height())
        .map(|i| {
            let id = ids[i].clone().unwrap_or_default();
            let veto = vetoes[i].unwrap_or(false);
            AccountHeader {
                name: names[i].clone().unwrap_or_else(|| id.clone()),
                platform_label: platform_label(platforms[i].as_deref().unwrap_or(""), lang),
                kind: kinds[i]
                    .as_deref()
                    .map(|k| crate::labels::kind_label(k, lang)),
                org_name: or_dash(org_names[i].clone().or_else(|| orgs[i].clone())),
                certification: certs[i].clone(),
                verified: match verified[i] {
                    Some(true) => label("verified_yes", lang).into(),
                    Some(false) => label("verified_no", lang).into(),
                    None => label("verified_unknown", lang).into(),
                },
                home_url: urls[i].as_deref().and_then(safe_link),
                score: or_dash(score[i].clone()),
                tier: or_dash(tier[i].clone()),
                veto,
                veto_reasons: veto_rules[i]
                    .as_deref()
                    .unwrap_or("")
                    .split('|')
                    .filter(|c| !c.is_empty())
                    .map(rule_name)
                    .collect::<Vec<_>>()
                    .join("；"),
                assessed_weight: or_dash(weight[i].clone()),
                not_assessed: missing[i].clone().map(|m| m.replace('|', "、")),
                influence: or_dash(influence[i].clone()),
                index_name: or_dash(index_names[i].clone()),
                rank: match (&rank[i], &group_size[i]) {
                    (Some(r), Some(n)) => {
                        let tie = if tied[i].unwrap_or(false) {
                            label("tied_suffix", lang)
                        } else {
                            ""
                        };
                        format!("{r}/{n}{tie}")
                    }
                    _ => "—".into(),
                },
                level: or_dash(level[i].clone()),
                findings_total: 0,
                reply_rate: rate[i]
                    .as_deref()
                    .and_then(|r| r.parse::<f64>().ok())
                    .map(|r| format!("{:.1}%", r * 100.0)),
                account_id: id,
            }
        })
        .collect();

    let mut items: HashMap<String, (String, Vec<Option<f64>>)> = HashMap::default();
    {
        let scores = tables.rows(SCORES, group)?;
        let ids = strings(&scores, "account_id")?;
        let platforms = strings(&scores, "platform")?;
        let columns: Vec<Vec<Option<f64>>> = rubric
            .items
            .iter()
            .map(|item| -> PolarsResult<Vec<Option<f64>>> {
                Ok(scores
                    .column(&item.id)?
                    .cast(&DataType::Float64)?
                    .f64()?
                    .iter()
                    .collect())
            })
            .collect::<PolarsResult<_>>()?;
        for (r, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                items.insert(
                    id.clone(),
                    (
                        platforms[r].clone().unwrap_or_default(),
                        columns.iter().map(|c| c[r]).collect(),
                    ),
                );
            }
        }
    }

    let mut latency: HashMap<String, Vec<i64>> = HashMap::default();
    {
        let latencies = tables.rows(LATENCY, group)?;
        let ids = strings(&latencies, "account_id")?;
        let buckets = i64_values(&latencies, "bucket")?;
        let replies = i64_values(&latencies, "replies")?;
        for (i, id) in ids.into_iter().enumerate() {
            let Some(id) = id else { continue };
            let entry = latency
                .entry(id)
                .or_insert_with(|| vec![0; LATENCY_BUCKET_HOURS.len() + 1]);
            if let Some(slot) = entry.get_mut(buckets[i] as usize) {
                *slot = replies[i];
            }
        }
    }

    let mut monthly: HashMap<String, Vec<MonthRow>> = HashMap::default();
    {
        let m = &tables.rows(MONTHLY, group)?;
        let ids = strings(m, "account_id")?;
        let months = strings(m, "month")?;
        let cats: Vec<Vec<i64>> = CATEGORY_COLUMNS
            .iter()
            .map(|(_, c)| i64_values(m, c))
            .collect::<PolarsResult<_>>()?;
        let counters: Vec<Vec<i64>> = MONTHLY_COUNTERS
            .iter()
            .map(|(_, c)| i64_values(m, c))
            .collect::<PolarsResult<_>>()?;
        for (i, id) in ids.into_iter().enumerate() {
            let Some(id) = id else { continue };
            let mut row = MonthRow {
                month: months[i].clone().unwrap_or_default(),
                categories: [0; 6],
                counters: [0; 6],
            };
            for c in 0..6 {
                row.categories[c] = cats[c][i];
                row.counters[c] = counters[c][i];
            }
            monthly.entry(id).or_default().push(row);
        }
    }

    let mut findings: HashMap<String, Vec<FindingRow>> = HashMap::default();
    {
        let f = &tables.rows(FINDINGS, group)?;
        // The findings' texts borrowed from the table and copied once, into the rows.
        let text = |name: &str| -> PolarsResult<Vec<Option<&str>>> {
            Ok(f.column(name)?.str()?.iter().collect())
        };
        let (ids, codes, severities) = (text("account_id")?, text("code")?, text("severity")?);
        let (messages, evidence, item_ids) =
            (text("message")?, text("evidence")?, text("item_id")?);
        let occurred_ms: Vec<Option<i64>> = f
            .column("occurred_at")?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .collect();
        // The instants as a page shows them (`2024-03-01 09:30`), each made once while it is
        // met again: a national audit's findings are two million rows, most of them weeks.
        let mut shown = TimeTexts::with(finding_time_text);
        let owned = |t: Option<&str>| t.unwrap_or_default().to_string();
        for (id, rows) in id_runs(&ids) {
            let entry = findings.entry(id.to_string()).or_default();
            entry.extend(rows.map(|i| {
                FindingRow {
                    code: owned(codes[i]),
                    severity: owned(severities[i]),
                    occurred: occurred_ms[i]
                        .map(|ms| shown.text(ms).to_string())
                        .unwrap_or_default(),
                    message: owned(messages[i]),
                    evidence: owned(evidence[i]),
                    item_id: item_ids[i].map(str::to_string),
                    link: None,
                }
            }));
        }
    }

    Ok(PageInputs {
        lang,
        rubric,
        as_of: ctx.as_of,
        headers,
        items,
        weeks: weeks_by_account(&tables.rows(WEEKLY, group)?)?,
        latency,
        monthly,
        findings,
        sla_hours: govmedia_rules::interaction::sla_ms(ctx) as f64 / 3_600_000.0,
        trend: HashMap::default(),
    })
}

/// An instant as an account page lists a finding's: Beijing time to the minute, a space for the
/// `T` (`2024-03-01 09:30`).
fn finding_time_text(ms: i64) -> String {
    govmedia_collectors::time::format_shanghai(ms)
        .replace('T', " ")
        .chars()
        .take(16)
        .collect()
}

/// The header of a table column in the workbook: rubric items by their names, the fixed columns
/// by a label in the report's language.
fn column_label(column: &str, rubric: &RubricPack, lang: Lang) -> String {
    if let Some(item) = rubric.items.iter().find(|i| i.id == column) {
        return item.label(lang == Lang::En).to_string();
    }
    crate::labels::column_label(column, lang)
        .unwrap_or(column)
        .to_string()
}

/// Findings per rule and severity, with the accounts they concern: `code, severity,
/// finding_count, account_count`, in code order.
fn findings_by_rule(findings: &DataFrame) -> PolarsResult<DataFrame> {
    let codes = findings.column("code")?.str()?;
    let severities = findings.column("severity")?.str()?;
    let accounts = findings.column("account_id")?.str()?;
    let mut per_rule: BTreeMap<(&str, &str), (u64, PlHashSet<&str>)> = BTreeMap::new();
    let rows = codes.iter().zip(severities.iter()).zip(accounts.iter());
    let rows = rows.map(|((code, severity), account)| {
        (
            code.unwrap_or_default(),
            severity.unwrap_or_default(),
            account.unwrap_or_default(),
        )
    });
    // The findings come an account and a rule at a time: a run of equal rows is counted, then
    // looked up once (2.1 million findings at 200,000 accounts, a look-up each before).
    let mut rows = rows.peekable();
    while let Some(row) = rows.next() {
        let mut run = 1;
        while rows.next_if_eq(&row).is_some() {
            run += 1;
        }
        let (code, severity, account) = row;
        let entry = per_rule.entry((code, severity)).or_default();
        entry.0 += run;
        entry.1.insert(account);
    }
    DataFrame::new_infer_height(vec![
        Column::new(
            "code".into(),
            per_rule.keys().map(|k| k.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "severity".into(),
            per_rule.keys().map(|k| k.1).collect::<Vec<_>>(),
        ),
        Column::new(
            "finding_count".into(),
            per_rule.values().map(|v| v.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "account_count".into(),
            per_rule
                .values()
                .map(|v| v.1.len() as u64)
                .collect::<Vec<_>>(),
        ),
    ])
}

/// The line below the per-rule counts saying where the whole list is.
fn findings_summary_note(findings: usize, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!(
            "问题清单共 {findings} 行，超出 Excel 行数上限，此处按规则汇总；完整清单见 findings.csv / findings.parquet"
        ),
        Lang::En => format!(
            "{findings} findings exceed Excel's row limit: counted here by rule; the whole list is in findings.csv / findings.parquet"
        ),
    }
}

/// A job of [`run_on_workers`].
type Job<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// A job writing report files: the files it writes are known before it runs, so the index can
/// list them while they are written.
struct FileJob<'a> {
    files: Vec<PathBuf>,
    write: Job<'a, Result<(), Error>>,
    /// Started before the others: the longest jobs started last kept one core busy alone.
    long: bool,
}

/// Runs file jobs on every core, the long ones first; the first error, if any.
fn run_file_jobs(jobs: Vec<FileJob>) -> Result<(), Error> {
    run_file_jobs_on(jobs, govmedia_rules::parallel::cores())
}

/// [`run_file_jobs`] with `workers` jobs at a time.
fn run_file_jobs_on(jobs: Vec<FileJob>, workers: usize) -> Result<(), Error> {
    let first: Vec<usize> = (0..jobs.len()).filter(|&i| jobs[i].long).collect();
    let writes = jobs.into_iter().map(|job| job.write).collect();
    run_on_workers(writes, &first, workers)
        .into_iter()
        .collect()
}

/// A job per file of a table: `<name>.csv`, `<name>.json` and `<name>.parquet` in `dir`.
fn table_file_jobs<'a>(df: &'a DataFrame, dir: &Path, name: &str) -> [FileJob<'a>; 3] {
    type Write = fn(&DataFrame, &Path) -> Result<(), Error>;
    let formats: [(&str, &'static str, Write); 3] = [
        ("csv", "report: csv", write_csv),
        ("json", "report: json", write_json),
        ("parquet", "report: parquet", write_parquet),
    ];
    formats.map(|(extension, stage, write)| {
        let path = dir.join(format!("{name}.{extension}"));
        FileJob {
            files: vec![path.clone()],
            long: false,
            write: Box::new(move || trace::stage(stage, || write(df, &path))),
        }
    })
}

/// Runs independent jobs, `workers` at a time (a job per worker), and returns their results in
/// job order. The jobs listed in `first` (their places in `jobs`) start first, then the others in
/// list order: the longest jobs started last kept one core busy alone at the end.
fn run_on_workers<'a, T: Send>(jobs: Vec<Job<'a, T>>, first: &[usize], workers: usize) -> Vec<T> {
    let order: Vec<usize> = first
        .iter()
        .copied()
        .filter(|&i| i < jobs.len())
        .chain((0..jobs.len()).filter(|i| !first.contains(i)))
        .collect();
    // Each job is taken out of its slot by the worker that runs it.
    let slots: Vec<std::sync::Mutex<Option<Job<'a, T>>>> = jobs
        .into_iter()
        .map(|job| std::sync::Mutex::new(Some(job)))
        .collect();
    let run = |&i: &usize| {
        let job = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take();
        Ok::<T, std::convert::Infallible>(job.expect("each job is taken once")())
    };
    let results = match govmedia_rules::parallel::map_in_order(&order, workers, run) {
        Ok(results) => results,
        Err(never) => match never {},
    };
    let mut in_job_order: Vec<Option<T>> = (0..order.len()).map(|_| None).collect();
    for (i, result) in order.into_iter().zip(results) {
        in_job_order[i] = Some(result);
    }
    in_job_order
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each account's weeks in row order with its first row's threshold; rows without an id
    /// are skipped, and an account met again (in another run) adds to its weeks.
    #[test]
    fn weeks_are_gathered_per_account_in_row_order() {
        let ids = [
            None,
            Some("a"),
            Some("a"),
            None,
            None,
            Some("b"),
            Some("a"),
            Some("c"),
            None,
        ];
        let weekly = df!(
            "account_id" => ids,
            "week_start" => (0..9).map(|i| 20_000 + 7 * (i % 4)).collect::<Vec<i32>>(),
            "updates" => (0..9).map(|i| Some(i as i64)).collect::<Vec<_>>(),
            "judged" => (0..9).map(|i| (i % 3 != 0).then_some(i % 2 == 0)).collect::<Vec<_>>(),
            "min_per_week" => (0..9).map(|i| Some(1.0 + i as f64)).collect::<Vec<_>>(),
        )
        .unwrap();
        let weekly = weekly
            .lazy()
            .with_column(col("week_start").cast(DataType::Date))
            .collect()
            .unwrap();
        let weeks = weeks_by_account(&weekly).unwrap();
        let summary = |id: &str| {
            let (bars, threshold) = &weeks[id];
            let bars: Vec<(String, i64, bool)> = bars
                .iter()
                .map(|b| (b.week_start.to_string(), b.updates, b.judged))
                .collect();
            (bars, *threshold)
        };
        assert_eq!(weeks.len(), 3);
        let day = |i: i32| days_to_date(20_000 + 7 * (i % 4)).to_string();
        assert_eq!(
            summary("a"),
            (
                vec![(day(1), 1, false), (day(2), 2, true), (day(6), 6, false)],
                2.0
            )
        );
        assert_eq!(summary("b"), (vec![(day(5), 5, false)], 6.0));
        assert_eq!(summary("c"), (vec![(day(7), 7, false)], 8.0));
    }

    #[test]
    fn id_runs_cover_every_row_with_an_id_in_order() {
        let ids = [Some("a"), Some("a"), None, Some("b"), Some("a"), None, None];
        let runs: Vec<(&str, std::ops::Range<usize>)> = id_runs(&ids).collect();
        assert_eq!(runs, vec![("a", 0..2), ("b", 3..4), ("a", 4..5)]);
        assert_eq!(id_runs(&[]).count(), 0);
    }

    #[test]
    fn pages_above_the_split_come_in_two_groups_at_least_and_never_more_than_units() {
        // Few pages: one group, whatever the units.
        assert_eq!(page_group_count(80, PAGE_GROUP_ACCOUNTS, 32), 1);
        assert_eq!(
            page_group_count(PAGE_GROUP_SPLIT, PAGE_GROUP_ACCOUNTS, 32),
            1
        );
        // A mid-sized audit: two groups, unless its store is one unit.
        assert_eq!(page_group_count(19_526, PAGE_GROUP_ACCOUNTS, 32), 2);
        assert_eq!(page_group_count(19_526, PAGE_GROUP_ACCOUNTS, 1), 1);
        // A national one: a group per `group_accounts` pages, at most one per unit.
        assert_eq!(page_group_count(195_502, PAGE_GROUP_ACCOUNTS, 128), 4);
        assert_eq!(page_group_count(195_502, 1_000, 128), 128);
        assert_eq!(page_group_count(30, 10, 8), 3);
        assert_eq!(page_group_count(30, 0, 8), 8);
    }

    #[test]
    fn page_groups_grow_from_an_eighth_to_a_full_run_of_units_and_cover_every_unit() {
        // 128 units in four groups of 32 at most: 4, 8, 16, 32, 32, 32 and the last 4.
        let groups = growing_unit_runs(128, 32);
        let runs: Vec<usize> = (0..=*groups.last().unwrap())
            .map(|g| groups.iter().filter(|&&x| x == g).count())
            .collect();
        assert_eq!(runs, vec![4, 8, 16, 32, 32, 32, 4]);
        assert!(groups.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1));
        // Groups smaller than eight units start at one unit.
        assert_eq!(growing_unit_runs(5, 3), vec![0, 1, 1, 2, 2]);
        assert_eq!(growing_unit_runs(1, 1), vec![0]);
        assert!(growing_unit_runs(0, 4).is_empty());
    }

    #[test]
    fn jobs_started_first_still_report_in_job_order() {
        let ran = std::sync::Mutex::new(Vec::new());
        let jobs: Vec<Job<'_, usize>> = (0..6)
            .map(|i| -> Job<'_, usize> {
                let ran = &ran;
                Box::new(move || {
                    ran.lock().unwrap().push(i);
                    i * 10
                })
            })
            .collect();
        // Out-of-range places are ignored; every job runs once.
        assert_eq!(run_on_workers(jobs, &[4, 1, 9], 2), [0, 10, 20, 30, 40, 50]);
        let mut ran = ran.into_inner().unwrap();
        ran.sort();
        assert_eq!(ran, [0, 1, 2, 3, 4, 5]);
    }

    /// The index's counts over findings in account and code order, and over findings out of
    /// order (an account's and a code's rows in two runs): the same counts either way.
    #[test]
    fn finding_codes_and_severities_are_counted_whatever_the_order() {
        let findings = df!(
            "account_id" => ["a", "a", "a", "b", "a", "b"],
            "code" => ["UPD001", "UPD001", "NAM004", "INT002", "UPD001", "INT002"],
            "severity" => ["deduct", "deduct", "veto", "deduct", "deduct", "notice"],
        )
        .unwrap();
        let (codes, veto) = finding_codes(&findings).unwrap();
        assert_eq!(codes["a"], [("UPD001", 3), ("NAM004", 1)]);
        assert_eq!(codes["b"], [("INT002", 2)]);
        assert_eq!(veto["a"], ["NAM004"]);
        assert!(!veto.contains_key("b"));
        let counts = severity_counts(&findings).unwrap();
        let expected = df!(
            "account_id" => ["a", "b"],
            "veto" => [1u64, 0],
            "deduct" => [3u64, 1],
            "notice" => [0u64, 1],
        )
        .unwrap();
        assert!(counts.equals(&expected), "{counts}");
    }

    #[test]
    fn findings_are_counted_per_rule_with_the_accounts_they_concern() {
        let findings = df!(
            // Runs of one rule and account, and rule UPD001 met again after others, for an
            // account it counted already.
            "account_id" => ["a", "a", "b", "b", "c", "a", "a"],
            "code" => ["UPD001", "UPD001", "UPD001", "CNT001", "UPD002", "UPD001", "UPD002"],
            "severity" => ["deduct", "deduct", "deduct", "veto", "deduct", "deduct", "deduct"],
        )
        .unwrap();
        let summary = findings_by_rule(&findings).unwrap();
        let expected = df!(
            "code" => ["CNT001", "UPD001", "UPD002"],
            "severity" => ["veto", "deduct", "deduct"],
            "finding_count" => [1u64, 4, 2],
            "account_count" => [1u64, 2, 2],
        )
        .unwrap();
        assert!(summary.equals(&expected), "{summary}");
        assert!(findings_summary_note(2_136_020, Lang::Zh).contains("findings.csv"));
        assert!(findings_summary_note(2_136_020, Lang::En).starts_with("2136020 findings"));
    }
}
