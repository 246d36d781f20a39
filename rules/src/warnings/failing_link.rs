//! SVC003 ahead of time: a menu entry whose link failed its last check but not the one before
//! (or was checked once): one more failure makes it a "dead menu link" finding. No clock: the
//! deadline is the next `govmedia check-links`.

use polars::prelude::*;

use super::{Level, Warning, WatchOptions, instant_text};
use crate::Error;
use crate::context::{AuditContext, Lang};
use crate::service::{last_link_checks, latest_menus};

pub(super) fn warnings(ctx: &AuditContext, opts: &WatchOptions) -> Result<Vec<Warning>, Error> {
    // Failed on the last check, not on the one before (or checked once).
    let checks = last_link_checks(ctx, Some(opts.at_ms))
        .filter(col("last_failing").and(col("last_failures").eq(lit(1i64))));
    let found = latest_menus(ctx)?
        .join(
            checks,
            [col("target")],
            [col("url")],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col("account_id"),
            col("path"),
            col("target"),
            col("last_status"),
            col("last_error"),
            col("last_checked"),
        ])
        .sort(["account_id", "path"], SortMultipleOptions::default())
        .collect()?;
    let (accounts, paths, targets) = (
        found.column("account_id")?.str()?,
        found.column("path")?.str()?,
        found.column("target")?.str()?,
    );
    let status = found.column("last_status")?.cast(&DataType::Int64)?;
    let status = status.i64()?;
    let errors = found.column("last_error")?.str()?;
    let checked = found.column("last_checked")?.i64()?;
    let mut out = Vec::new();
    for i in 0..found.height() {
        let (Some(account_id), Some(path), Some(target)) =
            (accounts.get(i), paths.get(i), targets.get(i))
        else {
            continue;
        };
        let outcome = match (errors.get(i), status.get(i)) {
            (Some(e), _) => e.to_string(),
            (None, Some(s)) => format!("HTTP {s}"),
            (None, None) => "no answer".to_string(),
        };
        let message = match ctx.lang {
            Lang::Zh => format!(
                "菜单「{path}」链接最近一次检查失败（{outcome}），再失败一次即计入“菜单链接失效”"
            ),
            Lang::En => format!(
                "Menu entry \"{path}\" failed its last link check ({outcome}); one more failure makes it a dead link"
            ),
        };
        let when = checked.get(i).map(instant_text).unwrap_or_default();
        out.push(Warning {
            code: "SVC003",
            level: Level::Warn,
            account_id: account_id.to_string(),
            item_id: Some(path.to_string()),
            deadline_ms: None,
            message,
            evidence: format!("{target}: {outcome} at {when} (the first failed check in a row)"),
        });
    }
    Ok(out)
}
