//! CNT003 — 平台广告位 (the post carries a platform ad slot)
//!
//! # What it does
//!
//! Looks for the markers of the `ad_slot_markers` lexicon — WeChat 流量主 ad markup in the article
//! HTML (`js_ad_area`, `mp-common-ad`, `data-ad-type` …) and Weibo promoted-post labels in the
//! text (`#推广#`, `【广告】`) — where the source data exposes them. Posts without HTML cannot be
//! judged for WeChat ad slots; they are not findings.
//!
//! # Why it matters
//!
//! An account that enables 流量主 earns money from ads shown under government articles: a
//! commercial ad in the sense of 国办发〔2018〕123号, deducted under the CSTC 2020 信息内容 item.
//!
//! # Example
//!
//! Article HTML containing `<mp-common-ad class="js_ad_area" data-ad-type="流量主">` is a finding
//! with that markup as evidence.
//!
//! # How to fix
//!
//! Switch off 流量主 (广告主/流量主 settings of the official account platform) and do not join
//! Weibo's promotion programmes.
//!
//! # 整改建议
//!
//! 在公众号后台关闭流量主等广告功能，微博关闭推广，确保页面不出现商业广告位。

use polars::prelude::*;

use super::hit_findings;
use crate::context::AuditContext;
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct AdSlot;

static INFO: RuleInfo = RuleInfo {
    code: "CNT003",
    name: "ad-slot",
    severity: Severity::Deduct,
    summary: "a post carries a platform ad slot (WeChat 流量主, Weibo promotion)",
    source: include_str!("ad_slot.rs"),
    params: &[],
};

impl Rule for AdSlot {
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
            "ad_slot",
            "帖子带有平台广告位",
            "Post carries a platform ad slot",
        )
    }
}
