//! NAM002 — 多平台名称不一致 (the same unit's accounts carry different names)
//!
//! # What it does
//!
//! Takes each sponsoring org's account per platform (the most followed one, when a unit has
//! several on one platform: that is OPN001) and compares their names across platforms after
//! normalising (full/half width, spaces, the suffixes 发布/微博/官微/微信/政务/在线 and app forms,
//! the region prefix). When they differ, every account whose name differs from the most common
//! one (on a tie: the WeChat name, then the first) is a finding naming the others.
//!
//! # Why it matters
//!
//! 国办发〔2018〕123号: "同一主办单位在不同平台开设的政务新媒体名称原则上应保持一致"; part of the
//! CSTC 2020 认证规范 item.
//!
//! # Example
//!
//! 江苏公安 on WeChat and 江苏公安微博 on Weibo are the same name; 江苏之声 on Weibo is a finding.
//!
//! # How to fix
//!
//! Use one name on every platform, platform suffixes aside, and rename the odd one out.
//!
//! # 整改建议
//!
//! 同一单位在各平台的账号名称原则上保持一致，统一更名并同步更新认证信息。

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{AccountNaming, account_findings, accounts_naming, normalise_name, registry_missing};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct CrossPlatformName;

static INFO: RuleInfo = RuleInfo {
    code: "NAM002",
    name: "cross-platform-name",
    severity: Severity::Deduct,
    summary: "the same unit's accounts carry different names on different platforms",
    source: include_str!("cross_platform_name.rs"),
    params: &[],
};

fn normal(a: &AccountNaming) -> String {
    normalise_name(&a.name, a.org.as_ref().and_then(|o| o.region.as_deref()))
}

impl Rule for CrossPlatformName {
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

    fn not_assessed(&self, ctx: &AuditContext) -> Option<String> {
        registry_missing(ctx)
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let accounts = accounts_naming(ctx)?;
        // One account per org and platform (the most followed): a second account on the same
        // platform is OPN001's finding, not a naming one.
        let mut ranked: Vec<&AccountNaming> = accounts.iter().collect();
        ranked.sort_by(|a, b| {
            b.followers
                .cmp(&a.followers)
                .then(a.account_id.cmp(&b.account_id))
        });
        let mut by_org: BTreeMap<&str, Vec<&AccountNaming>> = BTreeMap::new();
        for a in ranked {
            if let Some(org) = &a.org_id {
                let members = by_org.entry(org.as_str()).or_default();
                if !members.iter().any(|m| m.platform == a.platform) {
                    members.push(a);
                }
            }
        }
        // The reference name of each org with accounts on more than one platform.
        let mut reference: BTreeMap<String, String> = BTreeMap::new();
        for (org, members) in &by_org {
            let platforms: std::collections::BTreeSet<&str> =
                members.iter().map(|a| a.platform.as_str()).collect();
            if platforms.len() < 2 {
                continue;
            }
            let mut counts: BTreeMap<String, (usize, bool)> = BTreeMap::new();
            for a in members {
                let e = counts.entry(normal(a)).or_default();
                e.0 += 1;
                e.1 |= a.platform == "wechat";
            }
            if counts.len() > 1
                && let Some((name, _)) = counts
                    .iter()
                    .max_by_key(|(n, (c, wechat))| (*c, *wechat, std::cmp::Reverse((*n).clone())))
            {
                reference.insert(org.to_string(), name.clone());
            }
        }
        let lang = ctx.lang;
        account_findings(&INFO, accounts, |a| {
            let org = a.org_id.as_deref()?;
            let expected = reference.get(org)?;
            if !by_org[org].iter().any(|m| m.account_id == a.account_id) {
                return None;
            }
            if &normal(a) == expected {
                return None;
            }
            let others: Vec<String> = by_org[org]
                .iter()
                .filter(|o| o.account_id != a.account_id)
                .map(|o| format!("{} ({})", o.name, o.platform))
                .collect();
            Some((
                match lang {
                    Lang::Zh => format!(
                        "同一单位在不同平台的账号名称不一致：「{}」与{}",
                        a.name,
                        others.join("、")
                    ),
                    Lang::En => format!(
                        "Name \"{}\" differs from the unit's other accounts: {}",
                        a.name,
                        others.join(", ")
                    ),
                },
                format!("{} ({}) vs {}", a.name, a.platform, others.join(", ")),
            ))
        })
    }
}
