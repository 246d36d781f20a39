//! CNT001 — 商业广告用语 (commercial-ad wording in a post)
//!
//! # What it does
//!
//! Looks for the terms of the `ads` lexicon (限时抢购, 优惠券, 点击购买, 扫码领取红包, 代理加盟,
//! 招商加盟 …), for price tags (`¥99`, `仅需99元`) and for the `ad` patterns of the label pack (a
//! product at a price: `59元获300万元保障`, `只要199元`, `到手价`) in the title and text of every
//! post in the window that is not deleted. A match inside a phrase of the `ads_allow` lexicon
//! (公益广告, 招聘公告, 政府采购公告 …) never fires. One finding per post; the evidence ends with
//! what decided it (`[lexicon ads]`, `[price tag]`, `[pattern ad 3: price-for-cover(…)]`).
//! `docs/labels.md` explains the patterns and their measured precision.
//!
//! # Why it matters
//!
//! 国办发〔2018〕123号 forbids commercial ads on government new media; provincial rules spell it
//! out as "不得刊登商业广告或链接商业广告页面". The CSTC 2020 rubric's 信息内容 item (16 points on
//! WeChat, 20 on Weibo) deducts for commercial ads.
//!
//! # Example
//!
//! A post "限时抢购！本地特产礼盒仅需99元，点击购买还送优惠券" is a finding with the evidence
//! `text: 【限时抢购】！本地特产礼盒仅需99元，点击购买还送优… [lexicon ads]`. A post
//! "【公益广告】文明出行" is not, nor a 消费券 notice "满100元减20元".
//!
//! # How to fix
//!
//! Delete or edit the post; do not accept paid placements or promote products, even local
//! specialities. Public-service announcements should say 公益广告 so reviewers can tell them apart.
//!
//! # 整改建议
//!
//! 删除商业广告内容和价格信息；确需发布的公益广告、招聘公告、采购公告应注明性质。

use polars::prelude::*;

use super::hit_findings;
use crate::context::AuditContext;
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct AdWording;

static INFO: RuleInfo = RuleInfo {
    code: "CNT001",
    name: "ad-wording",
    severity: Severity::Deduct,
    summary: "a post contains commercial-ad wording or a price tag",
    source: include_str!("ad_wording.rs"),
    params: &[],
};

impl Rule for AdWording {
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
            "ad",
            "帖子含商业广告用语",
            "Post contains commercial-ad wording",
        )
    }
}
