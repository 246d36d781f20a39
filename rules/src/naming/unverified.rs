//! NAM005 — 未认证 (the account is not verified on its platform)
//!
//! # What it does
//!
//! Reports a Weibo account with `verified` false or a `verified_type` other than 1 (government),
//! and a WeChat account with `verified` false or `verified_type` −1 (`verify_type_info.id`).
//! Apps have no platform verification and are not judged. Uses the platform's own data only, so
//! it runs without the org registry.
//!
//! # Why it matters
//!
//! 国办发〔2018〕123号 asks for government certification (政务认证) so citizens can tell official
//! accounts from imitations; part of the CSTC 2020 认证规范 item.
//!
//! # Example
//!
//! A Weibo account with `verified_type` 0 (personal) is a finding with evidence
//! `verified=true, verified_type=0 (1 = government expected)`.
//!
//! # How to fix
//!
//! Apply for government-agency verification on the platform with the unit's credentials.
//!
//! # 整改建议
//!
//! 向平台申请政务认证（微博政府认证、公众号微信认证）。

use polars::prelude::*;

use super::{account_findings, accounts_naming};
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct Unverified;

static INFO: RuleInfo = RuleInfo {
    code: "NAM005",
    name: "unverified",
    severity: Severity::Deduct,
    summary: "the account is not verified (Weibo: not government-verified) on its platform",
    source: include_str!("unverified.rs"),
    params: &[],
};

impl Rule for Unverified {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let lang = ctx.lang;
        account_findings(&INFO, accounts_naming(ctx)?, |a| {
            let fails = match a.platform.as_str() {
                "weibo" => a.verified == Some(false) || a.verified_type.is_some_and(|t| t != 1),
                "wechat" => a.verified == Some(false) || a.verified_type == Some(-1),
                _ => false,
            };
            let show = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
            fails.then(|| {
                (
                    match (lang, a.platform.as_str()) {
                        (Lang::Zh, "weibo") => "账号未通过政务认证".to_string(),
                        (Lang::Zh, _) => "账号未通过平台认证".to_string(),
                        (Lang::En, _) => "Account not verified on its platform".to_string(),
                    },
                    format!(
                        "verified={}, verified_type={}{}",
                        show(a.verified.map(|v| v.to_string())),
                        show(a.verified_type.map(|v| v.to_string())),
                        if a.platform == "weibo" {
                            " (1 = government expected)"
                        } else {
                            " (-1 = unverified)"
                        }
                    ),
                )
            })
        })
    }
}
