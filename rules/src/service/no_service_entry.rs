//! SVC001 — 无办事服务入口 (the menu has no government-service entry)
//!
//! # What it does
//!
//! Looks at the latest collected menu of each WeChat account and app and reports it when no entry
//! is a service entry: no menu name, path or target URL contains a word of the `menu_service`
//! lexicon (办事, 预约, 办理, 政务服务, 表格下载, the service platform's `zwfw` host …). An account
//! without any collected menu entry is reported too. Not assessed when the store has no menus.
//!
//! # Why it matters
//!
//! The CSTC 2020 办事服务 item (12 points on WeChat, 10 for apps): service guides, forms, online
//! booking and handling for the unit's approval items, adapted to the platform.
//!
//! # Example
//!
//! A menu with only 最新动态/工作动态, 最新动态/通知公告 and 关于我们/联系我们 is a finding.
//!
//! # How to fix
//!
//! Add a 办事服务 menu linking the unit's items on the government service platform (mobile pages
//! or its mini-program), not only news.
//!
//! # 整改建议
//!
//! 在菜单中设置办事服务入口（如网上办事、预约办理），并与政务服务平台对接。

use polars::prelude::*;

use super::{menus_missing, missing_entry_findings};
use crate::context::AuditContext;
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct NoServiceEntry;

static INFO: RuleInfo = RuleInfo {
    code: "SVC001",
    name: "no-service-entry",
    severity: Severity::Deduct,
    summary: "the menu has no government-service (办事) entry",
    source: include_str!("no_service_entry.rs"),
    params: &[],
};

impl Rule for NoServiceEntry {
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
            "is_service",
            "菜单未提供办事服务入口",
            "The menu has no government-service entry",
        )
    }
}
