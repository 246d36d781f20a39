//! Writes everything `govmedia audit` produces into the output folder: the findings and
//! measurements tables, one weekly-cadence chart per account, and the index page.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use govmedia_collectors::store::write_replacing;
use govmedia_collectors::time::days_to_date;
use govmedia_rules::engine::AuditResult;
use govmedia_rules::exprs::left_join_on;
use govmedia_rules::scoring::{RubricPack, ScoreTables};
use govmedia_rules::{AuditContext, Lang};
use polars::prelude::*;

use crate::charts::{WeekBar, weekly_updates_svg};
use crate::html::{IndexAccount, IndexPage, PlatformCount, platform_label, write_index};
use crate::tables::{write_csv, write_parquet, write_table_set};
use crate::xlsx::{Sheet, write_workbook};
use crate::{Error, account_file_stem};

pub const CHARTS_DIR: &str = "charts";
/// Largest table also written as CSV (beyond it, Parquet only).
const CSV_ROW_LIMIT: usize = 1_000_000;

/// What was written, for the command's summary.
#[derive(Debug, Default)]
pub struct ReportFiles {
    pub files: Vec<PathBuf>,
    pub charts: usize,
}

pub fn write_audit_report(
    out: &Path,
    ctx: &AuditContext,
    result: &AuditResult,
    scored: &ScoreTables,
    rubric: &RubricPack,
    notes: &[String],
) -> Result<ReportFiles, Error> {
    std::fs::create_dir_all(out.join(CHARTS_DIR))
        .map_err(|e| govmedia_collectors::Error::io(&out.join(CHARTS_DIR), e))?;
    let mut report = ReportFiles::default();
    report
        .files
        .extend(write_table_set(&result.findings, out, "findings")?);
    report
        .files
        .extend(write_table_set(&result.measurements, out, "measurements")?);
    report
        .files
        .extend(write_table_set(&scored.scores, out, "scores")?);
    report
        .files
        .extend(write_table_set(&scored.rankings, out, "rankings")?);
    let workbook = out.join("scores.xlsx");
    let label = |column: &str| column_label(column, rubric, ctx.lang);
    let (rankings_sheet, scores_sheet, findings_sheet) = match ctx.lang {
        Lang::Zh => ("排名", "得分", "问题清单"),
        Lang::En => ("Rankings", "Scores", "Findings"),
    };
    write_workbook(
        &workbook,
        &[
            Sheet {
                name: rankings_sheet,
                table: &scored.rankings,
                labels: &label,
            },
            Sheet {
                name: scores_sheet,
                table: &scored.scores,
                labels: &label,
            },
            Sheet {
                name: findings_sheet,
                table: &result.findings,
                labels: &label,
            },
        ],
    )?;
    report.files.push(workbook);
    // Per-post labels can run to tens of millions of rows nationally: always Parquet, CSV for
    // the sizes a person opens.
    let labels = out.join("post_categories.parquet");
    write_parquet(&result.post_categories, &labels)?;
    report.files.push(labels);
    if result.post_categories.height() <= CSV_ROW_LIMIT {
        let csv = out.join("post_categories.csv");
        write_csv(&result.post_categories, &csv)?;
        report.files.push(csv);
    }

    let accounts = index_accounts(ctx, result, &scored.scores)?;
    report.charts = write_charts(out, ctx.lang, &accounts, &result.weekly_updates)?;

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
        accounts: accounts
            .into_iter()
            .map(|mut a| {
                a.platform = platform_label(&a.platform, ctx.lang);
                a
            })
            .collect(),
    };
    let index = out.join("index.html");
    write_index(&page, ctx.lang, &index)?;
    report.files.push(index);
    Ok(report)
}

fn str_values(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.map(String::from))
        .collect())
}

/// The index rows: every audited account with its finding counts by severity.
fn index_accounts(
    ctx: &AuditContext,
    result: &AuditResult,
    scores: &DataFrame,
) -> Result<Vec<IndexAccount>, Error> {
    let counts = result
        .findings
        .clone()
        .lazy()
        .group_by([col("account_id")])
        .agg([
            col("severity")
                .eq(lit("veto"))
                .sum()
                .cast(DataType::UInt64)
                .alias("veto"),
            col("severity")
                .eq(lit("deduct"))
                .sum()
                .cast(DataType::UInt64)
                .alias("deduct"),
            col("severity")
                .eq(lit("notice"))
                .sum()
                .cast(DataType::UInt64)
                .alias("notice"),
        ]);
    let last = result
        .measurements
        .clone()
        .lazy()
        .select([col("account_id"), col("last_update").cast(DataType::String)]);
    let org_names = ctx
        .tables
        .orgs
        .clone()
        .select([col("org_id"), col("official_name")])
        .unique_stable(None, UniqueKeepStrategy::First);
    let with_org = left_join_on(ctx.accounts.clone().lazy(), org_names, &["org_id"]);
    let scores = scores.clone().lazy().select([
        col("account_id"),
        col("score").cast(DataType::String).alias("score_text"),
        col("tier"),
    ]);
    let df = left_join_on(
        left_join_on(
            left_join_on(with_org, counts, &["account_id"]),
            last,
            &["account_id"],
        ),
        scores,
        &["account_id"],
    )
    .sort(["account_id"], SortMultipleOptions::default())
    .collect()?;
    let ids = str_values(&df, "account_id")?;
    let names = str_values(&df, "account_name")?;
    let platforms = str_values(&df, "platform")?;
    let orgs = str_values(&df, "org_id")?;
    let org_names = str_values(&df, "official_name")?;
    let lasts = str_values(&df, "last_update")?;
    let score_texts = str_values(&df, "score_text")?;
    let tiers = str_values(&df, "tier")?;
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
                chart_href: format!("{CHARTS_DIR}/{}.svg", account_file_stem(&id)),
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
            }
        })
        .collect())
}

/// One SVG per account, drawn on all cores.
fn write_charts(
    out: &Path,
    lang: Lang,
    accounts: &[IndexAccount],
    weekly: &DataFrame,
) -> Result<usize, Error> {
    let ids = str_values(weekly, "account_id")?;
    let starts: Vec<Option<i32>> = weekly
        .column("week_start")?
        .cast(&DataType::Int32)?
        .i32()?
        .iter()
        .collect();
    let updates: Vec<Option<i64>> = weekly.column("updates")?.i64()?.iter().collect();
    let judged: Vec<Option<bool>> = weekly.column("judged")?.bool()?.iter().collect();
    let thresholds: Vec<Option<f64>> = weekly.column("min_per_week")?.f64()?.iter().collect();
    let mut by_account: HashMap<&str, (Vec<WeekBar>, f64)> = HashMap::new();
    for i in 0..weekly.height() {
        let Some(id) = ids[i].as_deref() else {
            continue;
        };
        let entry = by_account
            .entry(id)
            .or_insert_with(|| (Vec::new(), thresholds[i].unwrap_or(1.0)));
        entry.0.push(WeekBar {
            week_start: days_to_date(starts[i].unwrap_or(0)),
            updates: updates[i].unwrap_or(0),
            judged: judged[i].unwrap_or(false),
        });
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = accounts.len().div_ceil(workers).max(1);
    let charts_dir = out.join(CHARTS_DIR);
    std::thread::scope(|scope| -> Result<usize, Error> {
        let handles: Vec<_> = accounts
            .chunks(chunk)
            .map(|part| {
                let by_account = &by_account;
                let charts_dir = &charts_dir;
                scope.spawn(move || -> Result<usize, Error> {
                    for a in part {
                        let (weeks, threshold) = by_account
                            .get(a.account_id.as_str())
                            .map(|(w, t)| (w.as_slice(), *t))
                            .unwrap_or((&[], 1.0));
                        let title = match lang {
                            Lang::Zh => format!("{}：每周更新次数", a.name),
                            Lang::En => format!("{}: updates per week", a.name),
                        };
                        let svg = weekly_updates_svg(&title, weeks, threshold, lang)?;
                        let path =
                            charts_dir.join(format!("{}.svg", account_file_stem(&a.account_id)));
                        write_replacing(&path, |f| std::io::Write::write_all(f, svg.as_bytes()))?;
                    }
                    Ok(part.len())
                })
            })
            .collect();
        let mut written = 0;
        for h in handles {
            written += h
                .join()
                .map_err(|_| Error::Chart("worker".into(), "panicked".into()))??;
        }
        Ok(written)
    })
}

/// The header of a table column in the workbook: rubric items by their names, the fixed columns
/// by a label in the report's language.
fn column_label(column: &str, rubric: &RubricPack, lang: Lang) -> String {
    if let Some(item) = rubric.items.iter().find(|i| i.id == column) {
        return item.label(lang == Lang::En).to_string();
    }
    let (zh, en) = match column {
        "rank" => ("排名", "Rank"),
        "tied" => ("并列", "Tied"),
        "platform" => ("平台", "Platform"),
        "level" => ("排名组别", "Group"),
        "account_id" => ("账号 ID", "Account ID"),
        "account_name" => ("账号名称", "Account"),
        "org_id" => ("主办单位 ID", "Org ID"),
        "influence_index" => ("影响力指数", "Influence index"),
        "index_name" => ("指数版本", "Index"),
        "score" => ("得分", "Score"),
        "score_exact" => ("得分（未舍入）", "Score (exact)"),
        "tier" => ("等级", "Tier"),
        "veto" => ("单项否决", "Veto"),
        "veto_rules" => ("否决规则", "Veto rules"),
        "assessed_weight" => ("已评估权重", "Assessed weight"),
        "not_assessed" => ("未评估指标", "Not assessed"),
        "rubric" => ("评分规则包", "Rubric pack"),
        "veto_pack" => ("否决规则包", "Veto pack"),
        "group_size" => ("组内账号数", "Group size"),
        "posts_in_period" => ("统计周期发文数", "Posts in period"),
        "index_missing" => ("指数缺失输入", "Missing index inputs"),
        "code" => ("规则", "Code"),
        "severity" => ("严重程度", "Severity"),
        "item_id" => ("对象", "Item"),
        "occurred_at" => ("发生时间", "Occurred at"),
        "message" => ("问题描述", "Message"),
        "evidence" => ("证据", "Evidence"),
        _ => return column.to_string(),
    };
    lang.pick(zh, en).to_string()
}
