//! NAM006 — 以内设机构名义开设 (an account of an internal department)
//!
//! # What it does
//!
//! Reports an account whose sponsoring org is marked `internal_dept` in the registry: an internal
//! department (内设机构: a 科, 处 or office of a unit) rather than the unit itself. A notice:
//! accounts opened before 2021 may be kept while they are merged.
//!
//! # Why it matters
//!
//! 国办公开办函〔2021〕31号: no new government new-media accounts in the name of an internal
//! department; existing ones are to be integrated into the unit's account.
//!
//! # Example
//!
//! 公安部网安局宣传科 (org marked internal_dept, parent 公安部) is a notice naming the parent.
//!
//! # How to fix
//!
//! Merge the account into the unit's own account (账号整合) and close it formally.
//!
//! # 整改建议
//!
//! 不以内设机构名义新开设账号，已开设的应整合到单位主账号。

use polars::prelude::*;

use super::{account_findings, accounts_naming, registry_missing};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct InternalDepartment;

static INFO: RuleInfo = RuleInfo {
    code: "NAM006",
    name: "internal-department",
    severity: Severity::Notice,
    summary: "the account belongs to an internal department (内设机构)",
    source: include_str!("internal_department.rs"),
    params: &[],
};

impl Rule for InternalDepartment {
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
            let org = a.org.as_ref().filter(|o| o.internal_dept)?;
            Some((
                match lang {
                    Lang::Zh => format!("账号以内设机构「{}」名义开设", org.official_name),
                    Lang::En => format!(
                        "Account of an internal department: \"{}\"",
                        org.official_name
                    ),
                },
                format!(
                    "org {} ({}) is marked internal_dept",
                    org.official_name, org.org_id
                ),
            ))
        })
    }
}
