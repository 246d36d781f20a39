//! NAM — 认证规范 (naming and certification), which needs the organisation registry (`--orgs` or
//! the store's `orgs` table); without it the registry-based rules are reported as not assessed.
//! Also OPN — 集约开设 (one unit, one platform, one account).

pub mod cross_platform_name;
pub mod former_name;
pub mod internal_department;
pub mod name_mismatch;
pub mod one_account_per_platform;
pub mod uncertified;
pub mod unverified;

use chrono::NaiveDate;
use std::sync::Arc;

use polars::prelude::*;

use crate::context::AuditContext;
use crate::engine::RuleInfo;
use crate::findings::rule_output;

/// Suffixes that do not change a name's identity (`docs/checks.md`), plus the app forms.
const NAME_SUFFIXES: [&str; 9] = [
    "发布",
    "微博",
    "官微",
    "微信",
    "政务",
    "在线",
    "app",
    "客户端",
    "官方",
];

/// An org of the registry, as the naming rules use it.
#[derive(Debug, Clone, Default)]
pub struct OrgEntry {
    pub org_id: String,
    pub official_name: String,
    pub short_names: Vec<String>,
    /// Earlier names with the date they stopped being used (none: stopped before records).
    pub former_names: Vec<(String, Option<NaiveDate>)>,
    pub duty_keywords: Vec<String>,
    pub region: Option<String>,
    pub internal_dept: bool,
    /// The names and duty keywords as names are compared ([`OrgEntry::forms`]), made once.
    forms: std::sync::OnceLock<OrgForms>,
}

/// An organisation's names normalised for comparison, made once per organisation: they were made
/// again for each of its accounts and each rule comparing a name with them, an allocation per
/// name and keyword, most of the naming rules' time on a national store.
#[derive(Debug, Clone, Default)]
pub struct OrgForms {
    /// The official name, then each short name: ([`width_normalise`], [`normalise_name`] in the
    /// organisation's region).
    pub names: Vec<(String, String)>,
    /// Each duty keyword that is not empty, [`width_normalise`]d (which may leave it empty).
    pub duties: Vec<String>,
}

impl OrgEntry {
    pub fn forms(&self) -> &OrgForms {
        self.forms.get_or_init(|| OrgForms {
            names: std::iter::once(&self.official_name)
                .chain(&self.short_names)
                .map(|o| {
                    (
                        width_normalise(o),
                        normalise_name(o, self.region.as_deref()),
                    )
                })
                .collect(),
            duties: self
                .duty_keywords
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| width_normalise(k))
                .collect(),
        })
    }
}

/// What the naming rules know about one account.
#[derive(Debug, Clone)]
pub struct AccountNaming {
    pub account_id: String,
    pub platform: String,
    pub name: String,
    pub certification: Option<String>,
    pub verified: Option<bool>,
    pub verified_type: Option<i64>,
    pub org_id: Option<String>,
    /// The registry entry of `org_id`, when the registry has it: shared, not copied for every
    /// account of the organisation (the copies were a third of the naming facts' time).
    pub org: Option<Arc<OrgEntry>>,
    /// Updated in the window (for OPN001).
    pub active: bool,
    pub followers: i64,
    pub at_ms: i64,
}

/// Full-width forms to half-width, spaces removed, ASCII lowercased.
pub fn width_normalise(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c as u32 {
            0x3000 => None,
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0),
            _ if c.is_whitespace() => None,
            _ => Some(c),
        })
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A name reduced to its identity: width-normalised, the region prefix and the suffixes
/// 发布/微博/官微/微信/政务/在线 (and app forms) removed.
pub fn normalise_name(name: &str, region: Option<&str>) -> String {
    let mut n = width_normalise(name);
    if let Some(region) = region.filter(|r| !r.chars().all(|c| c.is_ascii_digit())) {
        let region = width_normalise(region);
        let bare = region.trim_end_matches(['省', '市', '区', '县']);
        for prefix in [region.as_str(), bare] {
            if !prefix.is_empty() && n.starts_with(prefix) {
                n = n[prefix.len()..].to_string();
                break;
            }
        }
    }
    loop {
        let before = n.len();
        for s in NAME_SUFFIXES {
            if let Some(stripped) = n.strip_suffix(s) {
                n = stripped.to_string();
            }
        }
        if n.len() == before {
            return n;
        }
    }
}

/// Each row's texts of a list column (empty for a null row or a column of another type). One
/// pass over the column: a series per row was most of the registry's reading (122,000 orgs).
fn lists(c: &Column) -> Vec<Vec<String>> {
    let Ok(lists) = c.list() else {
        return vec![Vec::new(); c.len()];
    };
    lists
        .amortized_iter()
        .map(|row| {
            row.and_then(|s| {
                s.as_ref()
                    .str()
                    .ok()
                    .map(|ca| ca.iter().flatten().map(String::from).collect())
            })
            .unwrap_or_default()
        })
        .collect()
}

/// The registry as a list of entries.
pub fn org_entries(orgs: &DataFrame) -> PolarsResult<Vec<OrgEntry>> {
    let s = |name: &str| -> PolarsResult<StringChunked> { Ok(orgs.column(name)?.str()?.clone()) };
    let (ids, official, region) = (s("org_id")?, s("official_name")?, s("region")?);
    let (shorts, former, duty) = (
        lists(orgs.column("short_names")?),
        lists(orgs.column("former_names")?),
        lists(orgs.column("duty_keywords")?),
    );
    let internal = orgs.column("internal_dept")?.bool()?.clone();
    Ok(shorts
        .into_iter()
        .zip(former)
        .zip(duty)
        .enumerate()
        .map(|(i, ((short_names, former), duty_keywords))| OrgEntry {
            org_id: ids.get(i).unwrap_or_default().to_string(),
            official_name: official.get(i).unwrap_or_default().to_string(),
            short_names,
            former_names: former
                .into_iter()
                .map(|f| match f.rsplit_once('@') {
                    Some((name, date)) => (
                        name.trim().to_string(),
                        NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok(),
                    ),
                    None => (f.trim().to_string(), None),
                })
                .collect(),
            duty_keywords,
            region: region.get(i).map(String::from),
            internal_dept: internal.get(i).unwrap_or(false),
            forms: Default::default(),
        })
        .collect())
}

/// Every audited account with its naming facts (computed once per audit).
pub fn accounts_naming(ctx: &AuditContext) -> PolarsResult<&[AccountNaming]> {
    if let Some(v) = ctx.naming.get() {
        return Ok(v);
    }
    let v = compute_accounts_naming(ctx)?;
    Ok(ctx.naming.get_or_init(|| v))
}

fn compute_accounts_naming(ctx: &AuditContext) -> PolarsResult<Vec<AccountNaming>> {
    let registry = ctx.org_registry()?;
    // Updates in each account's window, from the unit's post facts.
    let facts = ctx.post_facts()?;
    let active = DataFrame::new_infer_height(vec![
        facts.keys.id_column(
            "account_id",
            &(0..facts.keys.len() as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "updates_in_window".into(),
            facts
                .posts
                .accounts
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    let from_day = facts.keys.from_day(k as u32);
                    f.window_update_days(from_day).count() as i64
                })
                .collect::<Vec<_>>(),
        ),
    ])?
    .lazy();
    let listed = ctx.tables.accounts.clone().select([
        col("account_id"),
        col("certification"),
        col("verified"),
        col("verified_type"),
        col("followers"),
    ]);
    let df = ctx
        .accounts()?
        .clone()
        .lazy()
        .join(
            listed,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            active,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .collect()?;
    let s = |name: &str| -> PolarsResult<StringChunked> { Ok(df.column(name)?.str()?.clone()) };
    let (ids, platforms, names, certs, orgs) = (
        s("account_id")?,
        s("platform")?,
        s("account_name")?,
        s("certification")?,
        s("org_id")?,
    );
    let verified = df.column("verified")?.bool()?.clone();
    let verified_type = df.column("verified_type")?.i64()?.clone();
    let followers = df.column("followers")?.i64()?.clone();
    let updates = df.column("updates_in_window")?.cast(&DataType::Int64)?;
    let updates = updates.i64()?;
    let as_of_ms = govmedia_collectors::time::shanghai_midnight_ms(ctx.as_of);
    Ok((0..df.height())
        .map(|i| {
            let org_id = orgs.get(i).map(String::from);
            AccountNaming {
                account_id: ids.get(i).unwrap_or_default().to_string(),
                platform: platforms.get(i).unwrap_or_default().to_string(),
                name: names.get(i).unwrap_or_default().to_string(),
                certification: certs
                    .get(i)
                    .map(String::from)
                    .filter(|c| !c.trim().is_empty()),
                verified: verified.get(i),
                verified_type: verified_type.get(i),
                org: org_id.as_ref().and_then(|o| registry.get(o).cloned()),
                org_id,
                active: updates.get(i).unwrap_or(0) > 0,
                followers: followers.get(i).unwrap_or(0),
                at_ms: as_of_ms,
            }
        })
        .collect())
}

/// Whether `text` names the org: its official or a short name, width and suffixes aside.
pub fn names_org(text: &str, org: &OrgEntry) -> bool {
    let plain = width_normalise(text);
    let normal = normalise_name(text, org.region.as_deref());
    org.forms().names.iter().any(|(o_plain, o_normal)| {
        (!o_plain.is_empty() && plain.contains(o_plain.as_str()))
            || (!o_normal.is_empty() && normal.contains(o_normal.as_str()))
    })
}

/// Findings from a per-account check returning (message, evidence).
pub(crate) fn account_findings(
    info: &RuleInfo,
    accounts: &[AccountNaming],
    check: impl Fn(&AccountNaming) -> Option<(String, String)>,
) -> PolarsResult<LazyFrame> {
    let mut ids = Vec::new();
    let mut at = Vec::new();
    let mut messages = Vec::new();
    let mut evidence = Vec::new();
    for a in accounts {
        if let Some((m, e)) = check(a) {
            ids.push(a.account_id.clone());
            at.push(a.at_ms);
            messages.push(m);
            evidence.push(e);
        }
    }
    let df = DataFrame::new_infer_height(vec![
        Column::new("account_id".into(), ids),
        Column::new("at".into(), at),
        Column::new("message".into(), messages),
        Column::new("evidence".into(), evidence),
    ])?;
    Ok(df.lazy().select(rule_output(
        info.code,
        info.severity,
        lit(NULL).cast(DataType::String),
        col("at"),
        col("message"),
        col("evidence"),
    )))
}

/// Why a registry-based rule cannot run.
pub(crate) fn registry_missing(ctx: &AuditContext) -> Option<String> {
    (ctx.orgs.height() == 0).then(|| {
        ctx.lang
            .pick(
                "缺少主办单位登记表，请用 --orgs FILE 提供或导入 orgs.csv（见 docs/schema.md）",
                "no organisation registry: give --orgs FILE or import orgs.csv (see docs/schema.md)",
            )
            .to_string()
    })
}

#[cfg(test)]
mod tests;
