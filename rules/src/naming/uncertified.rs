//! NAM003 — 认证信息未体现主办单位 (certification missing or not naming the unit)
//!
//! # What it does
//!
//! Checks the public certification text — Weibo `verified_reason`, WeChat `principal_name`, the
//! App Store `sellerName` — and reports it when it is missing, or when it names neither the
//! sponsoring org's official name nor a registered short name (width and spaces aside).
//!
//! # Why it matters
//!
//! 国办发〔2018〕123号: "在显著位置展示主办单位名称"; the CSTC 2020 认证规范 item: the certification
//! shows the sponsoring unit.
//!
//! # Example
//!
//! A Weibo account certified "江苏省卫生健康委员会官方微博" for the org 江苏省卫生健康委员会 is fine;
//! no certification, or "某某文化传媒有限公司", is a finding.
//!
//! # How to fix
//!
//! Certify the account in the sponsoring unit's name (政府机构认证), or correct the principal
//! (主体) through the platform's procedure.
//!
//! # 整改建议
//!
//! 在平台认证信息中写明主办单位名称，机构改革后及时更新。

use polars::prelude::*;

use super::{account_findings, accounts_naming, names_org, registry_missing};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct Uncertified;

static INFO: RuleInfo = RuleInfo {
    code: "NAM003",
    name: "uncertified",
    severity: Severity::Deduct,
    summary: "the certification text is missing or does not name the sponsoring unit",
    source: include_str!("uncertified.rs"),
    params: &[],
};

impl Rule for Uncertified {
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
            let org = a.org.as_ref()?;
            match &a.certification {
                None => Some((
                    lang.pick(
                        "账号缺少认证信息，未展示主办单位",
                        "No certification text: the sponsoring unit is not shown",
                    )
                    .to_string(),
                    format!("certification missing; org {}", org.official_name),
                )),
                Some(cert) if !names_org(cert, org) => Some((
                    match lang {
                        Lang::Zh => {
                            format!("认证信息「{cert}」未体现主办单位「{}」", org.official_name)
                        }
                        Lang::En => format!(
                            "Certification \"{cert}\" does not name the unit \"{}\"",
                            org.official_name
                        ),
                    },
                    format!("certification {cert}; org {}", org.official_name),
                )),
                Some(_) => None,
            }
        })
    }
}
