//! OPN001 — 一单位一平台多账号 (more than one active account of a unit on a platform)
//!
//! # What it does
//!
//! Groups the accounts by sponsoring org (`org_id`) and platform and, where more than one of them
//! updated in the window, keeps the one with the most followers (then the lowest id) as the
//! unit's account and reports each other active one, listing its siblings. Uses the accounts'
//! `org_id` only, so it runs without the registry.
//!
//! # Why it matters
//!
//! 国办发〔2018〕123号: "同一单位在同一平台原则上只开设一个账号"; the CSTC 2020 集约开设 item (12
//! points on WeChat, 18 on Weibo) scores it.
//!
//! # Example
//!
//! 江苏公安 and 江苏公安服务, both WeChat accounts of 江苏省公安厅 and both posting this year: the
//! smaller one is a finding listing the other.
//!
//! # How to fix
//!
//! Merge the accounts (迁移粉丝, 合并内容) and close the extra one formally.
//!
//! # 整改建议
//!
//! 一个单位在同一平台原则上只开设一个账号，功能相近的账号应整合，多余账号按程序关停。

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{AccountNaming, account_findings, accounts_naming};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct OneAccountPerPlatform;

static INFO: RuleInfo = RuleInfo {
    code: "OPN001",
    name: "one-account-per-platform",
    severity: Severity::Deduct,
    summary: "a unit has more than one active account on the same platform",
    source: include_str!("one_account_per_platform.rs"),
    params: &[],
};

impl Rule for OneAccountPerPlatform {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    // Compares the accounts of one organisation, which live in different units.
    fn cross_account(&self) -> bool {
        true
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let accounts = accounts_naming(ctx)?;
        let mut groups: BTreeMap<(&str, &str), Vec<&AccountNaming>> = BTreeMap::new();
        for a in accounts.iter().filter(|a| a.active) {
            if let Some(org) = &a.org_id {
                groups
                    .entry((org.as_str(), a.platform.as_str()))
                    .or_default()
                    .push(a);
            }
        }
        let mut extra: BTreeMap<&str, String> = BTreeMap::new();
        for members in groups.values_mut().filter(|m| m.len() > 1) {
            members.sort_by(|a, b| {
                b.followers
                    .cmp(&a.followers)
                    .then(a.account_id.cmp(&b.account_id))
            });
            let list: Vec<String> = members
                .iter()
                .map(|m| format!("{} ({})", m.name, m.account_id))
                .collect();
            for m in &members[1..] {
                extra.insert(m.account_id.as_str(), list.join(", "));
            }
        }
        let lang = ctx.lang;
        account_findings(&INFO, accounts, |a| {
            let siblings = extra.get(a.account_id.as_str())?;
            let org = a.org_id.clone().unwrap_or_default();
            Some((
                match lang {
                    Lang::Zh => format!("同一单位在同一平台开设多个活跃账号（{org}）"),
                    Lang::En => {
                        format!("The unit {org} has several active accounts on this platform")
                    }
                },
                format!("active {} accounts of {org}: {siblings}", a.platform),
            ))
        })
    }
}
