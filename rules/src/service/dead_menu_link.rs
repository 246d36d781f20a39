//! SVC003 — 菜单链接失效 (a menu entry's link is dead)
//!
//! # What it does
//!
//! For every `view` entry of the latest menus, looks up the target URL in `link_checks` and
//! reports it when its last two checks both failed: an error (timeout, DNS, TLS, refused …) or
//! HTTP status 400 or above. One failed check is not enough (a server can be briefly down). The
//! evidence is the status or error of the last check.
//!
//! # Why it matters
//!
//! The CSTC 2020 功能可用 item: "服务功能可用，链接有效"; a dead service link fails the citizen who
//! came to do something.
//!
//! # Example
//!
//! 便民查询/政策查询 → `https://www.example.gov.cn/zcwj/old/index.html`, checked twice with HTTP 404:
//! a finding with evidence `HTTP 404 on 2 checks`.
//!
//! # How to fix
//!
//! Point the entry at the page's new address (or remove it), and re-check menu links after every
//! website revision (`govmedia check-links`).
//!
//! # 整改建议
//!
//! 修复或替换失效的菜单链接，定期检查链接可用性。

use polars::prelude::*;

use super::latest_menus;
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::{Severity, rule_output};

pub struct DeadMenuLink;

static INFO: RuleInfo = RuleInfo {
    code: "SVC003",
    name: "dead-menu-link",
    severity: Severity::Deduct,
    summary: "a menu entry's link failed on its last two checks (error or HTTP >= 400)",
    source: include_str!("dead_menu_link.rs"),
    params: &[],
};

impl Rule for DeadMenuLink {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let checks = ctx
            .latest_link_checks()?
            .clone()
            .lazy()
            .filter(col("last_failures").gt_eq(lit(2i64)));
        let message = match ctx.lang {
            Lang::Zh => concat_str([lit("菜单「"), col("path"), lit("」链接失效")], "", true),
            Lang::En => concat_str(
                [lit("Dead link in menu entry \""), col("path"), lit("\"")],
                "",
                true,
            ),
        };
        let outcome = when(col("last_error").is_not_null())
            .then(col("last_error"))
            .otherwise(concat_str(
                [lit("HTTP "), col("last_status").cast(DataType::String)],
                "",
                true,
            ));
        let evidence = concat_str(
            [
                col("target"),
                lit(": "),
                outcome,
                lit(" on "),
                col("last_failures").cast(DataType::String),
                lit(" checks"),
            ],
            "",
            true,
        );
        Ok(latest_menus(ctx)?
            .join(
                checks,
                [col("target")],
                [col("url")],
                JoinArgs::new(JoinType::Inner),
            )
            .select(rule_output(
                INFO.code,
                INFO.severity,
                col("path"),
                col("last_checked"),
                message,
                evidence,
            )))
    }
}
