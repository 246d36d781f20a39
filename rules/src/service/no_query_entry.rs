//! SVC002 — 无查询服务入口 (the menu has no query entry)
//!
//! # What it does
//!
//! Like SVC001 for query services: reports a WeChat account or app whose latest menu has no entry
//! whose name, path or target contains a word of the `menu_query` lexicon (查询, 进度, 便民,
//! 公积金, 社保, 违章, `query` …). Not assessed when the store has no menus.
//!
//! # Why it matters
//!
//! The CSTC 2020 查询服务 item (6 points on WeChat, 8 for apps): convenience and data queries from
//! the same source as the portal, adapted to the platform.
//!
//! # Example
//!
//! A menu without 便民查询 or any `query` link is a finding.
//!
//! # How to fix
//!
//! Add the queries citizens ask for most (办件进度, 社保, 公积金, 违章) as menu entries.
//!
//! # 整改建议
//!
//! 在菜单中设置查询服务入口（如进度查询、便民查询）。

use polars::prelude::*;

use super::{menus_missing, missing_entry_findings};
use crate::context::AuditContext;
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct NoQueryEntry;

static INFO: RuleInfo = RuleInfo {
    code: "SVC002",
    name: "no-query-entry",
    severity: Severity::Deduct,
    summary: "the menu has no query (查询) entry",
    source: include_str!("no_query_entry.rs"),
    params: &[],
};

impl Rule for NoQueryEntry {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn not_assessed(&self, ctx: &AuditContext) -> Option<String> {
        menus_missing(ctx)
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        missing_entry_findings(
            ctx,
            &INFO,
            "is_query",
            "菜单未提供查询服务入口",
            "The menu has no query entry",
        )
    }
}
