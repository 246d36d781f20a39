//! CNT005 — 错敏词 (improper wording, for human review)
//!
//! # What it does
//!
//! Looks for the terms of the `improper` lexicon — misspelt names of the state, the Party and
//! institutions, wrong political expressions (中华人民共合国, 两学一作 …) — in the window's posts.
//! A notice for human review: a lexicon cannot judge intent, so it never vetoes.
//!
//! # Why it matters
//!
//! 国办秘函〔2019〕19号 makes 严重表述错误 a veto item of the national inspection; evaluators check
//! 错敏词 first. A reviewer decides whether a hit is an error.
//!
//! # Example
//!
//! A post containing "中华人民共合国" is a notice with the term in context.
//!
//! # How to fix
//!
//! Correct the post; put a second reader (三审三校) on every post before publishing.
//!
//! # 整改建议
//!
//! 人工复核疑似错敏词，确有错误的立即更正，并完善“三审三校”制度。

use polars::prelude::*;

use super::hit_findings;
use crate::context::AuditContext;
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct ImproperWording;

static INFO: RuleInfo = RuleInfo {
    code: "CNT005",
    name: "improper-wording",
    severity: Severity::Notice,
    summary: "a post contains improper wording (错敏词) — for human review",
    source: include_str!("improper_wording.rs"),
    params: &[],
};

impl Rule for ImproperWording {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::POST_TEXT
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        hit_findings(
            ctx,
            &INFO,
            "improper",
            "帖子疑似含错敏词，请人工复核",
            "Possible improper wording, review needed",
        )
    }
}
