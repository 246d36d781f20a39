//! NAM001 — 名称与单位不符 (the name does not show the sponsoring unit or its duties)
//!
//! # What it does
//!
//! Checks that the account name contains the sponsoring org's official name, one of its
//! registered short names, or one of its duty keywords, after normalising both: full/half width,
//! spaces, the suffixes 发布/微博/官微/微信/政务/在线 and the region prefix. Needs the org registry;
//! an account without `org_id` or whose org is not in the registry is reported as such.
//!
//! # Why it matters
//!
//! 国办发〔2018〕123号: names are "简洁规范，与主办单位职能相符"; the CSTC 2020 认证规范 item checks
//! that the account is named after the institution or its duties.
//!
//! # Example
//!
//! The account 阳光小助手 of 南京市民政局 (short name 南京民政, duty keyword 民政) is a finding;
//! 南京民政发布 and ＮＪ民政 in full width are not.
//!
//! # How to fix
//!
//! Rename the account after the unit (全称 or registered 简称) or its core duty, through the
//! platform's renaming procedure, and record the new name with the supervising office.
//!
//! # 整改建议
//!
//! 账号名称应体现主办单位全称、规范简称或其职能，报主管部门备案后变更。

use polars::prelude::*;

use super::{account_findings, accounts_naming, names_org, registry_missing, width_normalise};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct NameMismatch;

static INFO: RuleInfo = RuleInfo {
    code: "NAM001",
    name: "name-mismatch",
    severity: Severity::Deduct,
    summary: "the account name shows neither the sponsoring unit nor its duties",
    source: include_str!("name_mismatch.rs"),
    params: &[],
};

impl Rule for NameMismatch {
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
        let lang = ctx.lang;
        account_findings(&INFO, accounts_naming(ctx)?, |a| {
            let Some(org) = &a.org else {
                let why = match &a.org_id {
                    None => "no org_id",
                    Some(_) => "org_id not in the registry",
                };
                return Some((
                    lang.pick(
                        "账号未关联登记的主办单位，无法核对名称",
                        "Account not linked to a registered sponsoring unit",
                    )
                    .to_string(),
                    format!("name {}: {why}", a.name),
                ));
            };
            let plain = width_normalise(&a.name);
            let duty = org
                .forms()
                .duties
                .iter()
                .any(|k| plain.contains(k.as_str()));
            if names_org(&a.name, org) || duty {
                return None;
            }
            Some((
                match lang {
                    Lang::Zh => format!(
                        "账号名称「{}」未体现主办单位「{}」的名称或职能",
                        a.name, org.official_name
                    ),
                    Lang::En => format!(
                        "Name \"{}\" shows neither the unit \"{}\" nor its duties",
                        a.name, org.official_name
                    ),
                },
                format!(
                    "name {}; org {} (short names: {}; duty keywords: {})",
                    a.name,
                    org.official_name,
                    org.short_names.join("、"),
                    org.duty_keywords.join("、")
                ),
            ))
        })
    }
}
