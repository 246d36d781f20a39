//! SVC004 — 服务入口简单跳转门户首页 (a service entry only jumps to a portal's home page)
//!
//! # What it does
//!
//! Reports a service or query entry (see SVC001, SVC002) of the latest menu whose target is the
//! bare home page of a website — an http(s) URL with no path beyond `/`, no query — instead of a
//! page adapted to the platform. A notice: a reviewer confirms that the site is a general portal.
//!
//! # Why it matters
//!
//! The CSTC 2020 办事服务 and 查询服务 items: "适配平台，而非简单跳转门户网站".
//!
//! # Example
//!
//! 办事服务/网上办事 → `https://www.gov.cn/` is a notice.
//!
//! # How to fix
//!
//! Link the specific service page or mini-program of the government service platform for each
//! item, in its mobile version.
//!
//! # 整改建议
//!
//! 服务入口应直达具体事项办理页面并适配移动端，不应仅跳转门户网站首页。

use polars::prelude::*;

use super::latest_menus;
use crate::context::{AuditContext, Lang};
use crate::engine::{Reads, Rule, RuleInfo};
use crate::findings::{Severity, rule_output};

pub struct PortalRootJump;

static INFO: RuleInfo = RuleInfo {
    code: "SVC004",
    name: "portal-root-jump",
    severity: Severity::Notice,
    summary: "a service entry only jumps to the home page of a web portal",
    source: include_str!("portal_root_jump.rs"),
    params: &[],
};

/// Whether a URL is a bare home page: http(s), no path beyond `/`, no query or fragment.
pub fn is_site_root(target: &str) -> bool {
    let target = target.trim();
    !has_plain_path(target) && parses_to_site_root(target)
}

/// [`is_site_root`] by the URL parser alone, without the shortcut.
pub(super) fn parses_to_site_root(target: &str) -> bool {
    url::Url::parse(target.trim()).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.path() == "/"
            && u.query().is_none()
            && u.fragment().is_none()
    })
}

/// Whether an http(s) URL visibly has a path beyond `/`: its first path segment starts with a
/// letter or digit, and nothing after it could make parsing drop it (a `..` segment, a percent
/// escape, a backslash, or a tab or line break, which the parser removes and so could join two
/// dots). Such a URL is no home page whatever its host; most menu targets are such URLs, and
/// parsing each (its host through IDNA) was most of this rule's time on a national store.
pub(super) fn has_plain_path(target: &str) -> bool {
    let Some(rest) = target
        .strip_prefix("https://")
        .or_else(|| target.strip_prefix("http://"))
    else {
        return false;
    };
    // The authority ends at the first of these (for http and https); the parser skips slashes
    // before it ("http:///a" is the home page of the host `a`).
    let Some(end) = rest.find(['/', '\\', '?', '#']).filter(|&end| end > 0) else {
        return false;
    };
    let path = &rest.as_bytes()[end..];
    path[0] == b'/'
        && path.get(1).is_some_and(u8::is_ascii_alphanumeric)
        && !path
            .iter()
            .any(|b| matches!(b, b'%' | b'\\' | b'\t' | b'\n' | b'\r'))
        && !path.windows(3).any(|w| w == b"/..")
}

impl Rule for PortalRootJump {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn reads(&self) -> Reads {
        Reads::BASE
    }

    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame> {
        let root = col("target").map(
            |c: Column| {
                let out: BooleanChunked = c
                    .str()?
                    .iter()
                    .map(|t| Some(t.is_some_and(is_site_root)))
                    .collect();
                Ok(out.with_name(c.name().clone()).into_column())
            },
            |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
        );
        let message = match ctx.lang {
            Lang::Zh => concat_str(
                [
                    lit("服务入口「"),
                    col("path"),
                    lit("」仅简单跳转门户网站首页"),
                ],
                "",
                true,
            ),
            Lang::En => concat_str(
                [
                    lit("Service entry \""),
                    col("path"),
                    lit("\" only jumps to a portal's home page"),
                ],
                "",
                true,
            ),
        };
        Ok(latest_menus(ctx)?
            .filter(col("is_service").or(col("is_query")).and(root))
            .select(rule_output(
                INFO.code,
                INFO.severity,
                col("path"),
                col("collected_ms"),
                message,
                concat_str([col("path"), lit(" → "), col("target")], "", true),
            )))
    }
}
