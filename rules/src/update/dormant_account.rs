//! UPD003 — 僵尸账号 (dormant: no update for 180 days or more)
//!
//! # What it does
//!
//! Reports an account whose last update is `days` days (default 180) or more before as_of, or
//! that has no update on record: a candidate for closing or merging. A notice, not scored: the
//! account already fails UPD002.
//!
//! # Why it matters
//!
//! 国办发〔2018〕123号 asks that accounts which cannot be maintained be closed, and that accounts
//! with similar functions and little use be merged ("僵尸""睡眠" accounts); the 2022 national
//! notice lists stopped accounts that were never formally closed.
//!
//! # Example
//!
//! as_of is 2025-11-30 and the last post was on 2025-05-14 (200 days earlier): the finding's
//! evidence is `last update 2025-05-14, 200 days before 2025-11-30`.
//!
//! # How to fix
//!
//! Decide whether the account still has a purpose. If so, give it an editor and a posting plan;
//! if not, close it through the platform's formal procedure and record the closure with the
//! supervising office (备案注销).
//!
//! # 整改建议
//!
//! 长期未更新的“僵尸”账号应尽快恢复更新，或按规定程序注销、关停并向社会公告。

use polars::prelude::*;

use super::no_update_in_two_weeks::{silence_output, silent_accounts};
use crate::context::{AuditContext, ParamValue};
use crate::engine::{ParamSpec, Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct DormantAccount;

pub const DAYS: ParamSpec = ParamSpec {
    key: "UPD003.days",
    default: ParamValue::Int(180),
    range: (15, 3650),
    help: "days without an update after which an account counts as dormant",
};

static INFO: RuleInfo = RuleInfo {
    code: "UPD003",
    name: "dormant-account",
    severity: Severity::Notice,
    summary: "dormant account: no update for 180 days or more (僵尸账号)",
    source: include_str!("dormant_account.rs"),
    params: &[DAYS, super::COUNT_REPOSTS],
};

impl Rule for DormantAccount {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let days = ctx.int_param(&DAYS);
        Ok(silent_accounts(ctx, days)?.select(silence_output(ctx, INFO.code, INFO.severity, days)))
    }
}
