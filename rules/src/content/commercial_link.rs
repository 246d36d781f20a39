//! CNT002 — 链接商业页面 (a post links to a commercial page)
//!
//! # What it does
//!
//! Takes every URL in a post's `links`, finds its registrable domain with the public suffix list
//! (so `item.taobao.com` and `s.click.taobao.com` are both `taobao.com`), and reports the post
//! when the domain is in the `commercial_domains` lexicon (taobao.com, tmall.com, jd.com,
//! pinduoduo.com, yangkeduo.com, weidian.com, youzan.com …). One finding per post and domain.
//!
//! # Why it matters
//!
//! Provincial rules implementing 国办发〔2018〕123号: "不得刊登商业广告或链接商业广告页面". A link
//! to a shop is an ad even when the text is neutral. Part of the CSTC 2020 信息内容 item.
//!
//! # Example
//!
//! A post linking `https://item.taobao.com/item.htm?id=600000000001` is a finding with the
//! domain `taobao.com` and the link as evidence.
//!
//! # How to fix
//!
//! Remove the link. To point citizens to a service, link the agency's own or the government
//! service platform's page instead.
//!
//! # 整改建议
//!
//! 删除指向购物、推广等商业网站的链接，改为链接政府网站或官方服务平台。

use polars::prelude::*;

use super::hit_findings;
use crate::context::AuditContext;
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct CommercialLink;

static INFO: RuleInfo = RuleInfo {
    code: "CNT002",
    name: "commercial-link",
    severity: Severity::Deduct,
    summary: "a post links to a commercial (shopping / promotion) domain",
    source: include_str!("commercial_link.rs"),
    params: &[],
};

impl Rule for CommercialLink {
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
            "commercial_link",
            "帖子链接商业网站",
            "Post links to a commercial site",
        )
    }
}
