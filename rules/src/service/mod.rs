//! SVC — 服务质量 (service menus): service and query entries, dead links, bare portal jumps.
//! Judged for WeChat accounts and apps, which have menus; Weibo has none ("—" in the rubric).

pub mod dead_menu_link;
pub mod no_query_entry;
pub mod no_service_entry;
pub mod portal_root_jump;

use polars::prelude::*;

use crate::context::{AuditContext, Lang};
use crate::engine::RuleInfo;
use crate::exprs::{contains_any, day_start};
use crate::findings::rule_output;

/// The latest menu snapshot of every account: `account_id, path, name, kind, target,
/// collected_at, is_service, is_query` (computed once per unit, `AuditContext::latest_menus`).
pub fn latest_menus(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    Ok(ctx.latest_menus()?.clone().lazy())
}

/// The plan of [`latest_menus`].
pub(crate) fn latest_menus_plan(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    let text = concat_str(
        [
            col("path"),
            col("name").fill_null(lit("")),
            col("target").fill_null(lit("")),
        ],
        " ",
        true,
    );
    Ok(ctx
        .tables
        .menus
        .clone()
        .with_column(
            col("collected_at")
                .cast(DataType::Int64)
                .fill_null(lit(0i64))
                .alias("collected_ms"),
        )
        .filter(col("collected_ms").eq(col("collected_ms").max().over([col("account_id")])?))
        .with_columns([
            contains_any(text.clone(), &ctx.lexicons.menu_service).alias("is_service"),
            contains_any(text, &ctx.lexicons.menu_query).alias("is_query"),
        ]))
}

/// Whether a `link_checks` row failed: an error (timeout, DNS, TLS, refused …), no status, or
/// HTTP 400 and above.
fn link_check_failed() -> Expr {
    col("error")
        .is_not_null()
        .or(col("status").fill_null(lit(0i64)).gt_eq(lit(400i64)))
        .or(col("status").is_null())
}

/// Per checked URL, its last checks (those before `before_ms` when given): `url,
/// last_failures` (failed among the last two), `last_failing, checks, last_status, last_error,
/// last_checked` (epoch ms). What SVC003 and its early warning read.
pub fn last_link_checks(ctx: &AuditContext, before_ms: Option<i64>) -> LazyFrame {
    let mut checks = ctx.tables.link_checks.clone();
    if let Some(before) = before_ms {
        checks = checks.filter(col("checked_at").cast(DataType::Int64).lt(lit(before)));
    }
    checks
        .sort(["url", "checked_at"], SortMultipleOptions::default())
        .with_column(link_check_failed().alias("failing"))
        .group_by([col("url")])
        .agg([
            col("failing")
                .tail(Some(2))
                .sum()
                .cast(DataType::Int64)
                .alias("last_failures"),
            col("failing").last().alias("last_failing"),
            len().cast(DataType::Int64).alias("checks"),
            col("status").last().alias("last_status"),
            col("error").last().alias("last_error"),
            col("checked_at")
                .last()
                .cast(DataType::Int64)
                .alias("last_checked"),
        ])
}

/// Why the menu rules cannot run: no menu data at all.
pub(crate) fn menus_missing(ctx: &AuditContext) -> Option<String> {
    let rows = ctx
        .tables
        .menus
        .clone()
        .select([len().alias("n")])
        .collect()
        .ok()?;
    let n = rows
        .column("n")
        .ok()?
        .cast(&DataType::UInt64)
        .ok()?
        .u64()
        .ok()?
        .get(0)
        .unwrap_or(0);
    (n == 0).then(|| {
        ctx.lang
            .pick(
                "存储中没有菜单数据（请采集或导入 menus）",
                "no menu data in the store (collect or import menus)",
            )
            .to_string()
    })
}

/// Account-level findings for WeChat accounts and apps whose latest menu lacks an entry kind.
pub(crate) fn missing_entry_findings(
    ctx: &AuditContext,
    info: &RuleInfo,
    flag: &str,
    message_zh: &str,
    message_en: &str,
) -> PolarsResult<LazyFrame> {
    let per_account = latest_menus(ctx)?.group_by([col("account_id")]).agg([
        len().cast(DataType::Int64).alias("entries"),
        col(flag).sum().cast(DataType::Int64).alias("matching"),
        col("path")
            .sort(SortOptions::default())
            .first()
            .alias("first_path"),
    ]);
    let message = lit(match ctx.lang {
        Lang::Zh => message_zh,
        Lang::En => message_en,
    });
    let evidence = when(col("entries").fill_null(lit(0i64)).eq(lit(0i64)))
        .then(lit("no menu entries collected for the account"))
        .otherwise(concat_str(
            [
                lit("none of "),
                col("entries").cast(DataType::String),
                lit(" menu entries matches (e.g. "),
                col("first_path"),
                lit(")"),
            ],
            "",
            true,
        ));
    Ok(ctx
        .accounts()?
        .clone()
        .lazy()
        .filter(
            col("platform")
                .eq(lit("wechat"))
                .or(col("platform").eq(lit("app"))),
        )
        .select([col("account_id"), col("as_of_day")])
        .join(
            per_account,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .filter(col("matching").fill_null(lit(0i64)).eq(lit(0i64)))
        .select(rule_output(
            info.code,
            info.severity,
            lit(NULL).cast(DataType::String),
            day_start(col("as_of_day")),
            message,
            evidence,
        )))
}

#[cfg(test)]
mod tests;
