//! CNT004 — 与职能无关或过度娱乐化 (off-duty / entertainment content)
//!
//! # What it does
//!
//! Looks for the terms of the `off_topic` lexicon (星座运势, 明星八卦, 心灵鸡汤, 宝宝们, 么么哒 …) and
//! the `off_topic` patterns of the label pack (【夜读】 / 【晚安】 columns, profanity, venting such as
//! 啊啊啊啊啊啊, devotional chanting, fandom words) in the title and text of the window's posts.
//! One finding per post, its evidence ending with what decided it; the share of such posts per
//! account is in the measurements (`off_topic_posts`). The patterns favour precision: measured
//! on real posts (`docs/labels.md`) they flag about half of the off-topic ones and nothing else.
//!
//! # Why it matters
//!
//! The CSTC 2020 信息内容 item wants "不发布与本单位职能无关的信息"; the 2022 national rectification
//! notice lists 过度娱乐化 ("卖惨""卖萌") and content unrelated to government work.
//!
//! # Example
//!
//! A post "今日星座运势：双子座桃花运爆棚" is a finding with the term 星座运势.
//!
//! # How to fix
//!
//! Keep the account to the agency's duties and services; a light tone is fine, entertainment
//! content and "卖萌" phrasing are not.
//!
//! # 整改建议
//!
//! 聚焦本单位职能发布信息，不发布与政务无关或过度娱乐化的内容。

use polars::prelude::*;

use super::hit_findings;
use crate::context::AuditContext;
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::Severity;

pub struct OffTopic;

static INFO: RuleInfo = RuleInfo {
    code: "CNT004",
    name: "off-topic",
    severity: Severity::Deduct,
    summary: "a post is off-duty or entertainment content",
    source: include_str!("off_topic.rs"),
    params: &[],
};

impl Rule for OffTopic {
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
            "off_topic",
            "帖子内容与职能无关或过度娱乐化",
            "Off-duty or entertainment content",
        )
    }
}
