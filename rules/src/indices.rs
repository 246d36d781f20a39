//! Influence indices (spec `indices.md`, pack `rules/packs/indices/indices.toml`): WCI V14.2 for
//! WeChat, a BCI-style index for Weibo and our app index, over a period of d days ending at the
//! monitoring time point. The period's counters are aggregated in one Polars plan; the formulas
//! run on those per-account aggregates (one row per account), so each is a few lines an
//! evaluator can check against `docs/scoring.md`.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::Deserialize;

use crate::context::AuditContext;
use crate::exprs::left_join_on;
use crate::facts::posts::IndexInputs;
use crate::{Error, Lang};

pub const INDEX_PACK: &str = include_str!("../packs/indices/indices.toml");

/// The engagement counters the indices read.
/// (the ones the post facts sum, `facts::posts::INDEX_COUNTERS`).
const COUNTERS: [&str; 6] = crate::facts::posts::INDEX_COUNTERS;

/// The columns of the indices table.
pub const INDEX_COLUMNS: [&str; 7] = [
    "account_id",
    "index_name",
    "influence_index",
    "index_exact",
    "period_days",
    "posts_in_period",
    "index_missing",
];

/// Period of an index: 7, 30 or 365 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    Week,
    #[default]
    Month,
    Year,
}

impl Period {
    pub fn days(self) -> i64 {
        match self {
            Period::Week => 7,
            Period::Month => 30,
            Period::Year => 365,
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            "year" => Some(Period::Year),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WciSpec {
    pub name: String,
    pub version: String,
    pub inner: BTreeMap<String, f64>,
    pub inner_scale: BTreeMap<String, f64>,
    pub outer: BTreeMap<String, f64>,
    pub square_scale: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BciSpec {
    pub name: String,
    pub version: String,
    pub w1: f64,
    pub w2: f64,
    pub engagement: BTreeMap<String, f64>,
    pub scale: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    pub name: String,
    pub version: String,
    pub cadence_weight: f64,
    pub recency_weight: f64,
    pub recency_days: f64,
    pub scale: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexPack {
    pub wci: WciSpec,
    pub bci: BciSpec,
    pub app: AppSpec,
}

impl IndexPack {
    pub fn builtin() -> IndexPack {
        IndexPack::parse(INDEX_PACK, "indices.toml").expect("the built-in index pack is valid")
    }

    pub fn parse(text: &str, source: &str) -> Result<IndexPack, Error> {
        let pack: IndexPack = toml::from_str(text)
            .map_err(|e| Error::Config(format!("{source}: {}", e.to_string().trim_end())))?;
        let wci_inputs = ["read_count", "watch_count", "like_count", "share_count"];
        for (table, keys) in [
            ("wci.inner", pack.wci.inner.keys()),
            ("wci.inner_scale", pack.wci.inner_scale.keys()),
        ] {
            if let Some(k) = keys.into_iter().find(|k| !wci_inputs.contains(&k.as_str())) {
                return Err(Error::Config(format!(
                    "{source}: {table}: unknown counter `{k}`"
                )));
            }
        }
        if let Some(k) = pack
            .bci
            .engagement
            .keys()
            .find(|k| !COUNTERS.contains(&k.as_str()))
        {
            return Err(Error::Config(format!(
                "{source}: bci.engagement: unknown counter `{k}`"
            )));
        }
        for term in ["overall", "average", "headline", "peak"] {
            if !pack.wci.outer.contains_key(term) {
                return Err(Error::Config(format!(
                    "{source}: wci.outer: missing `{term}`"
                )));
            }
        }
        Ok(pack)
    }

    pub fn label(&self, platform: &str) -> String {
        match platform {
            "wechat" => format!("{} {}", self.wci.name, self.wci.version),
            "weibo" => format!("{} {}", self.bci.name, self.bci.version),
            _ => format!("{} {}", self.app.name, self.app.version),
        }
    }
}

/// One WeChat account's counters over the period: totals, headline totals and single-article
/// maxima per counter, and the number of articles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WciInputs {
    pub days: f64,
    pub articles: f64,
    pub total: BTreeMap<&'static str, f64>,
    pub headline: BTreeMap<&'static str, f64>,
    pub peak: BTreeMap<&'static str, f64>,
}

/// WCI = (Σ outer_t · f(term_t))² × square_scale, f(x) = Σ inner_c · ln(scale_c · x_c + 1).
pub fn wci(spec: &WciSpec, x: &WciInputs) -> f64 {
    if x.articles <= 0.0 {
        return 0.0;
    }
    let f = |values: &dyn Fn(&str) -> f64| -> f64 {
        spec.inner
            .iter()
            .map(|(c, w)| {
                let scale = spec.inner_scale.get(c).copied().unwrap_or(1.0);
                w * (scale * values(c) + 1.0).ln()
            })
            .sum()
    };
    let get = |m: &BTreeMap<&str, f64>, c: &str| m.get(c).copied().unwrap_or(0.0);
    let overall = f(&|c| get(&x.total, c) / x.days);
    let average = f(&|c| get(&x.total, c) / x.articles);
    let headline = f(&|c| get(&x.headline, c) / x.days);
    let peak = f(&|c| get(&x.peak, c));
    let outer = |t: &str| spec.outer.get(t).copied().unwrap_or(0.0);
    let inner = outer("overall") * overall
        + outer("average") * average
        + outer("headline") * headline
        + outer("peak") * peak;
    inner * inner * spec.square_scale
}

/// BCI = (w1 · ln(posts + 1) + w2 · Σ e_c · ln(total_c + 1)) × scale.
pub fn bci(spec: &BciSpec, posts: f64, total: &BTreeMap<&str, f64>) -> f64 {
    let w1 = (posts + 1.0).ln();
    let w2: f64 = spec
        .engagement
        .iter()
        .map(|(c, w)| w * (total.get(c.as_str()).copied().unwrap_or(0.0) + 1.0).ln())
        .sum();
    (spec.w1 * w1 + spec.w2 * w2) * spec.scale
}

/// APP = scale × (cadence_weight · active weeks / weeks + recency_weight · e^(−days since the
/// last update / recency_days)); no update ever gives recency 0.
pub fn app_index(
    spec: &AppSpec,
    active_weeks: f64,
    weeks: f64,
    days_since_update: Option<f64>,
) -> f64 {
    let cadence = if weeks > 0.0 {
        (active_weeks / weeks).min(1.0)
    } else {
        0.0
    };
    let recency = days_since_update.map_or(0.0, |d| (-d.max(0.0) / spec.recency_days).exp());
    spec.scale * (spec.cadence_weight * cadence + spec.recency_weight * recency)
}

/// Per-account counters over the index period `(as_of − days, as_of]` (Beijing days), deleted
/// posts left out: `account_id, n, active_weeks`, then per counter `_total, _peak, _headline,
/// _known`. From the unit's post facts (`facts::posts::IndexInputs`), accounts with a post in
/// the period only.
pub fn period_counters(ctx: &AuditContext) -> PolarsResult<DataFrame> {
    let facts = ctx.post_facts()?;
    let with_posts: Vec<(u32, &IndexInputs)> = facts
        .posts
        .accounts
        .iter()
        .enumerate()
        .filter_map(|(k, f)| f.index.as_ref().map(|i| (k as u32, i)))
        .collect();
    let keys: Vec<u32> = with_posts.iter().map(|(k, _)| *k).collect();
    let column = |name: String, value: &dyn Fn(&IndexInputs) -> Option<f64>| {
        Column::new(
            name.into(),
            with_posts
                .iter()
                .map(|(_, i)| value(i))
                .collect::<Vec<Option<f64>>>(),
        )
    };
    let count = |name: &str, value: &dyn Fn(&IndexInputs) -> i64| {
        Column::new(
            name.into(),
            with_posts
                .iter()
                .map(|(_, i)| value(i))
                .collect::<Vec<i64>>(),
        )
    };
    let mut columns = vec![
        facts.keys.id_column("account_id", &keys),
        count("n", &|i| i.posts),
        count("active_weeks", &|i| i.weeks.len() as i64),
    ];
    for (c, name) in COUNTERS.iter().enumerate() {
        columns.push(column(format!("{name}_total"), &|i| Some(i.total[c])));
        columns.push(column(format!("{name}_peak"), &|i| i.peak[c]));
        columns.push(column(format!("{name}_headline"), &|i| Some(i.headline[c])));
        columns.push(count(&format!("{name}_known"), &|i| i.known[c]));
    }
    DataFrame::new_infer_height(columns)
}

/// The influence index of every account: `account_id, index_name, influence_index` (rounded to
/// two decimals, the published precision), `index_exact`, `period_days`, `posts_in_period`,
/// `index_missing` (inputs the period's posts never carried, `|`-separated).
pub fn influence(
    ctx: &AuditContext,
    pack: &IndexPack,
    period: Period,
    counters: &DataFrame,
    days_since_update: &DataFrame,
) -> Result<DataFrame, Error> {
    let days = period.days();
    let accounts = ctx
        .accounts()?
        .clone()
        .lazy()
        .select([col("account_id"), col("platform")]);
    let joined = left_join_on(accounts, counters.clone().lazy(), &["account_id"]);
    let joined = left_join_on(
        joined,
        days_since_update.clone().lazy().select([
            col("account_id"),
            col("days_since_update").cast(DataType::Float64),
        ]),
        &["account_id"],
    )
    .sort(["account_id"], SortMultipleOptions::default())
    .collect()?;

    let f64_col = |name: &str| -> Result<Float64Chunked, Error> {
        Ok(joined
            .column(name)?
            .cast(&DataType::Float64)?
            .f64()?
            .clone())
    };
    let platforms = joined.column("platform")?.str()?.clone();
    let n = f64_col("n")?;
    let active_weeks = f64_col("active_weeks")?;
    let since = f64_col("days_since_update")?;
    let mut per_counter = BTreeMap::new();
    for c in COUNTERS {
        per_counter.insert(
            c,
            [
                f64_col(&format!("{c}_total"))?,
                f64_col(&format!("{c}_headline"))?,
                f64_col(&format!("{c}_peak"))?,
                f64_col(&format!("{c}_known"))?,
            ],
        );
    }

    let wci_wanted: Vec<&str> = pack.wci.inner.keys().map(String::as_str).collect();
    let bci_wanted: Vec<&str> = pack.bci.engagement.keys().map(String::as_str).collect();
    // Each platform's index label, made once.
    let mut labels: HashMap<&str, String> = HashMap::new();
    let rows = joined.height();
    let mut names = Vec::with_capacity(rows);
    let mut rounded = Vec::with_capacity(rows);
    let mut exact = Vec::with_capacity(rows);
    let mut posts = Vec::with_capacity(rows);
    let mut missing = Vec::with_capacity(rows);
    for i in 0..rows {
        let platform = platforms.get(i).unwrap_or_default();
        let articles = n.get(i).unwrap_or(0.0);
        // The counters' names are the table's own: no string is made per account.
        let pick = |which: usize| -> BTreeMap<&'static str, f64> {
            per_counter
                .iter()
                .map(|(c, cols)| (*c, cols[which].get(i).unwrap_or(0.0)))
                .collect()
        };
        let never_known = |inputs: &[&str]| -> Vec<String> {
            inputs
                .iter()
                .filter(|c| articles > 0.0 && per_counter[**c][3].get(i).unwrap_or(0.0) == 0.0)
                .map(|c| c.to_string())
                .collect()
        };
        let (value, gaps) = match platform {
            "wechat" => {
                let inputs = WciInputs {
                    days: days as f64,
                    articles,
                    total: pick(0),
                    headline: pick(1),
                    peak: pick(2),
                };
                (wci(&pack.wci, &inputs), never_known(&wci_wanted))
            }
            "weibo" => (bci(&pack.bci, articles, &pick(0)), never_known(&bci_wanted)),
            _ => (
                app_index(
                    &pack.app,
                    active_weeks.get(i).unwrap_or(0.0),
                    (days as f64 / 7.0).ceil(),
                    since.get(i),
                ),
                vec!["rating_count".into(), "average_rating".into()],
            ),
        };
        let label = labels
            .entry(platform)
            .or_insert_with(|| pack.label(platform));
        names.push(label.clone());
        exact.push(value);
        rounded.push((value * 100.0).round() / 100.0);
        posts.push(articles as i64);
        missing.push((!gaps.is_empty()).then(|| gaps.join("|")));
    }
    Ok(DataFrame::new(
        rows,
        vec![
            joined.column("account_id")?.clone(),
            Column::new("index_name".into(), names),
            Column::new("influence_index".into(), rounded),
            Column::new("index_exact".into(), exact),
            Column::new("period_days".into(), vec![days; rows]),
            Column::new("posts_in_period".into(), posts),
            Column::new("index_missing".into(), missing),
        ],
    )?)
}

/// Describes the index of a platform for the report notes.
pub fn describe(pack: &IndexPack, period: Period, lang: Lang) -> String {
    let days = period.days();
    match lang {
        Lang::Zh => format!(
            "影响力指数：微信 {}，微博 {}，App {}；统计周期 {days} 天（截至监测时间点）",
            pack.label("wechat"),
            pack.label("weibo"),
            pack.label("app")
        ),
        Lang::En => format!(
            "Influence index: WeChat {}, Weibo {}, apps {}; period of {days} days up to the \
             monitoring time point",
            pack.label("wechat"),
            pack.label("weibo"),
            pack.label("app")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, f64)]) -> BTreeMap<&'static str, f64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn wci_matches_a_hand_computation() {
        let pack = IndexPack::builtin();
        // Two articles over a 7-day week: A (headline) R=1000 Z=10 L=20 RE=5; B R=100001
        // ("10万+") Z=0 L=30 RE=0.
        let x = WciInputs {
            days: 7.0,
            articles: 2.0,
            total: map(&[
                ("read_count", 101001.0),
                ("watch_count", 10.0),
                ("like_count", 50.0),
                ("share_count", 5.0),
            ]),
            headline: map(&[
                ("read_count", 1000.0),
                ("watch_count", 10.0),
                ("like_count", 20.0),
                ("share_count", 5.0),
            ]),
            peak: map(&[
                ("read_count", 100001.0),
                ("watch_count", 10.0),
                ("like_count", 30.0),
                ("share_count", 5.0),
            ]),
        };
        let f = |r: f64, z: f64, l: f64, re: f64| {
            0.70 * (r + 1.0).ln()
                + 0.09 * (10.0 * z + 1.0).ln()
                + 0.06 * (10.0 * l + 1.0).ln()
                + 0.15 * (10.0 * re + 1.0).ln()
        };
        let o = f(101001.0 / 7.0, 10.0 / 7.0, 50.0 / 7.0, 5.0 / 7.0);
        let a = f(101001.0 / 2.0, 10.0 / 2.0, 50.0 / 2.0, 5.0 / 2.0);
        let h = f(1000.0 / 7.0, 10.0 / 7.0, 20.0 / 7.0, 5.0 / 7.0);
        let p = f(100001.0, 10.0, 30.0, 5.0);
        let expected = (0.6 * o + 0.2 * a + 0.1 * h + 0.1 * p).powi(2) * 1.2 * 10.0;
        // Worked by hand: O = 7.5209, A = 8.7549, H = 4.2414, P = 9.4066 → WCI = 698.29.
        assert!((wci(&pack.wci, &x) - expected).abs() < 1e-9);
        // The same figure from an independent computation (Python's math.log).
        assert!((wci(&pack.wci, &x) - 698.2944851318384).abs() < 1e-9);
        assert_eq!(wci(&pack.wci, &WciInputs::default()), 0.0);
    }

    #[test]
    fn bci_matches_a_hand_computation() {
        let pack = IndexPack::builtin();
        let totals = map(&[
            ("repost_count", 120.0),
            ("comment_count", 45.0),
            ("like_count", 800.0),
        ]);
        let w1 = (30.0f64 + 1.0).ln();
        let w2 = 0.4 * 121f64.ln() + 0.4 * 46f64.ln() + 0.2 * 801f64.ln();
        let expected = (0.2 * w1 + 0.8 * w2) * 160.0;
        assert!((bci(&pack.bci, 30.0, &totals) - expected).abs() < 1e-9);
        assert!((bci(&pack.bci, 30.0, &totals) - 722.6165462232696).abs() < 1e-9);
    }

    #[test]
    fn app_index_weighs_cadence_and_recency() {
        let pack = IndexPack::builtin();
        assert!((app_index(&pack.app, 5.0, 5.0, Some(0.0)) - 100.0).abs() < 1e-9);
        let v = app_index(&pack.app, 2.0, 5.0, Some(30.0));
        assert!((v - 100.0 * (0.5 * 0.4 + 0.5 * (-1.0f64).exp())).abs() < 1e-9);
        assert_eq!(app_index(&pack.app, 0.0, 5.0, None), 0.0);
    }
}
