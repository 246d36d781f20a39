//! NAM004 — 机构调整后未及时更名 (a former name still in use)
//!
//! # What it does
//!
//! Reports an account whose name or certification still contains a former name of its org after
//! the date that name stopped being used (`former_names` entries `名称@YYYY-MM-DD` in the
//! registry; an entry without a date counts as stopped). A former name used before its end date
//! is not a finding.
//!
//! # Why it matters
//!
//! After the 2018 institutional restructuring many units changed names; the CSTC 2020 认证规范
//! item checks that the certification is "机构调整后及时更新".
//!
//! # Example
//!
//! Certification 江苏省卫生和计划生育委员会 at as_of 2025-11-30, with the former name ending
//! 2018-11-01, is a finding; the same text at as_of 2018-10-01 is not.
//!
//! # How to fix
//!
//! Update the name and the certification (主体变更 / 认证信息修改) to the unit's current name.
//!
//! # 整改建议
//!
//! 机构更名后及时更新账号名称和认证信息，不再使用旧称。

use polars::prelude::*;

use super::{account_findings, accounts_naming, registry_missing, width_normalise};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct FormerName;

static INFO: RuleInfo = RuleInfo {
    code: "NAM004",
    name: "former-name",
    severity: Severity::Deduct,
    summary: "the name or certification still uses a former name of the unit",
    source: include_str!("former_name.rs"),
    params: &[],
};

impl Rule for FormerName {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn not_assessed(&self, ctx: &AuditContext) -> Option<String> {
        registry_missing(ctx)
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let (lang, as_of) = (ctx.lang, ctx.as_of);
        account_findings(&INFO, accounts_naming(ctx)?, |a| {
            let org = a.org.as_ref()?;
            let current = width_normalise(&org.official_name);
            for (former, until) in &org.former_names {
                let f = width_normalise(former);
                // A former name inside the current one (e.g. a shorter stem) proves nothing.
                if f.is_empty() || current.contains(&f) || until.is_some_and(|u| as_of < u) {
                    continue;
                }
                for (field, text) in [
                    ("name", Some(&a.name)),
                    ("certification", a.certification.as_ref()),
                ] {
                    if text.is_some_and(|t| width_normalise(t).contains(&f)) {
                        let until = until.map_or("—".to_string(), |u| u.to_string());
                        return Some((
                            match lang {
                                Lang::Zh => format!(
                                    "名称或认证信息仍使用机构调整前的旧名称「{former}」（{until}起停用）"
                                ),
                                Lang::En => format!(
                                    "Still uses the former name \"{former}\" (stopped {until})"
                                ),
                            },
                            format!(
                                "{field} {}; former name {former} until {until}; current {}",
                                text.map_or("", |s| s.as_str()),
                                org.official_name
                            ),
                        ));
                    }
                }
            }
            None
        })
    }
}
