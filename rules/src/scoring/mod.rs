//! Scores and tiers: a rubric pack applied to the audit's measurements and findings, a veto pack
//! on top, and manual scores for what data cannot measure (`docs/scoring.md`).
//!
//! Per account and item: the item's weight on the account's platform (an item without one is not
//! part of that platform's rubric), its points from the pack's measure — or from the manual file,
//! which has the last word — or "not assessed". The score is the points over the assessed weight,
//! × 100; `assessed_weight` says how much weight that was. Vetoes make the tier the veto pack's
//! failing tier whatever the score.

pub mod manual;
pub mod pack;
mod plan;

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use crate::{Error, Lang};
pub use manual::ManualScores;
pub use pack::{Item, Measure, PackInfo, RubricPack, Tier, VetoPack};

/// The fixed leading columns of the scores table.
pub const SCORE_COLUMNS: [&str; 8] = [
    "account_id",
    "platform",
    "account_name",
    "org_id",
    "score",
    "tier",
    "veto",
    "assessed_weight",
];

/// Tolerance when comparing a score with a tier boundary: the sum of item points can land a
/// hair under a boundary it reaches exactly (0.1 + 0.2 ≠ 0.3 in binary).
const BOUNDARY_EPSILON: f64 = 1e-9;

/// Everything scoring needs besides the audit result.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub rubric: RubricPack,
    pub veto: VetoPack,
    pub manual: ManualScores,
}

impl Scoring {
    pub fn builtin() -> Scoring {
        Scoring {
            rubric: RubricPack::builtin(),
            veto: VetoPack::builtin(),
            manual: ManualScores::default(),
        }
    }
}

/// The tier of a score (0–100) by the pack's tiers, lower bounds inclusive.
pub fn tier_for(tiers: &[Tier], score: f64) -> Option<&Tier> {
    let fraction = score / 100.0;
    tiers.iter().find(|t| fraction + BOUNDARY_EPSILON >= t.min)
}

/// The runs of equal (account, rule code) in the findings' order, each with its length; rows
/// without either are skipped. A key met again after another adds another run.
pub fn finding_runs(
    findings: &DataFrame,
) -> Result<impl Iterator<Item = ((&str, &str), u32)>, Error> {
    let accounts = findings.column("account_id")?.str()?;
    let codes = findings.column("code")?.str()?;
    let mut rows = accounts
        .iter()
        .zip(codes.iter())
        .filter_map(|(account, code)| Some((account?, code?)))
        .peekable();
    Ok(std::iter::from_fn(move || {
        let key = rows.next()?;
        let mut n = 1;
        while rows.next_if_eq(&key).is_some() {
            n += 1;
        }
        Some((key, n))
    }))
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Scores every account of the measurements table. `assessed_rules` are the codes that ran and
/// could be assessed: an item depending on another rule is not assessed.
pub fn score_accounts(
    scoring: &Scoring,
    measurements: &DataFrame,
    findings: &DataFrame,
    assessed_rules: &BTreeSet<String>,
    lang: Lang,
) -> Result<DataFrame, Error> {
    score_accounts_computed(scoring, measurements, findings, assessed_rules, &[], lang)
}

/// [`score_accounts`] where the `uncomputed` measurement columns were not computed (a partial
/// audit): the items reading them are not assessed.
pub fn score_accounts_computed(
    scoring: &Scoring,
    measurements: &DataFrame,
    findings: &DataFrame,
    assessed_rules: &BTreeSet<String>,
    uncomputed: &[&str],
    lang: Lang,
) -> Result<DataFrame, Error> {
    let rubric = &scoring.rubric;
    let plan = plan::Plan::new(scoring, measurements, findings, assessed_rules, uncomputed)?;
    // Per platform met, each item's weight and measure there (`None`: not in its rubric).
    let mut platform_items: HashMap<&str, Vec<Option<(f64, plan::Compiled)>>> = HashMap::new();
    let veto_codes: Vec<(usize, &str)> = scoring
        .veto
        .vetoes
        .iter()
        .map(|v| (plan.code_place(&v.rule), v.rule.as_str()))
        .collect();
    let english = lang == Lang::En;
    let veto_tier = scoring
        .veto
        .pack
        .veto_tier
        .clone()
        .unwrap_or_else(|| "不合格".into());
    let veto_tier = match (&scoring.veto.pack.veto_tier_en, english) {
        (Some(en), true) => en.clone(),
        _ => veto_tier,
    };

    let ids = measurements.column("account_id")?.str()?;
    let platforms = measurements.column("platform")?.str()?;
    let n = measurements.height();
    let mut item_points: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(n); rubric.items.len()];
    let mut score = Vec::with_capacity(n);
    let mut score_exact = Vec::with_capacity(n);
    let mut tier = Vec::with_capacity(n);
    let mut veto = Vec::with_capacity(n);
    let mut veto_rules = Vec::with_capacity(n);
    let mut assessed_weight = Vec::with_capacity(n);
    let mut not_assessed = Vec::with_capacity(n);
    for index in 0..n {
        let account_id = ids.get(index).unwrap_or_default();
        let platform = platforms.get(index).unwrap_or_default();
        let items = platform_items.entry(platform).or_insert_with(|| {
            rubric
                .items
                .iter()
                .map(|item| plan.item(item, platform))
                .collect()
        });
        let (mut points_sum, mut weight_sum) = (0.0, 0.0);
        let mut missing: Vec<&str> = Vec::new();
        for (i, (item, compiled)) in rubric.items.iter().zip(items.iter()).enumerate() {
            let Some((weight, measure)) = compiled else {
                item_points[i].push(None);
                continue;
            };
            let weight = *weight;
            let points = match scoring.manual.get(account_id, &item.id) {
                Some(manual) => Some(manual.points),
                None => plan.points(measure, index),
            };
            match points {
                Some(p) => {
                    points_sum += p;
                    weight_sum += weight;
                }
                None => missing.push(item.label(english)),
            }
            item_points[i].push(points.map(|p| round_to(p, 4)));
        }
        let exact = (weight_sum > 0.0).then(|| points_sum / weight_sum * 100.0);
        let hits: Vec<&str> = veto_codes
            .iter()
            .filter(|(place, _)| plan.count(index, *place) > 0)
            .map(|(_, code)| *code)
            .collect();
        let tier_name = if !hits.is_empty() {
            Some(veto_tier.clone())
        } else {
            exact
                .and_then(|s| tier_for(&rubric.pack.tiers, s))
                .map(|t| match (&t.name_en, english) {
                    (Some(en), true) => en.clone(),
                    _ => t.name.clone(),
                })
        };
        score.push(exact.map(|s| round_to(s, 1)));
        score_exact.push(exact);
        tier.push(tier_name);
        veto.push(!hits.is_empty());
        veto_rules.push((!hits.is_empty()).then(|| hits.join("|")));
        assessed_weight.push(round_to(weight_sum, 4));
        not_assessed.push((!missing.is_empty()).then(|| missing.join("|")));
    }

    let mut out: Vec<Column> = vec![
        measurements.column("account_id")?.clone(),
        measurements.column("platform")?.clone(),
        measurements.column("account_name")?.clone(),
        measurements.column("org_id")?.clone(),
        Column::new("score".into(), score),
        Column::new("tier".into(), tier),
        Column::new("veto".into(), veto),
        Column::new("assessed_weight".into(), assessed_weight),
    ];
    for (item, points) in rubric.items.iter().zip(item_points) {
        out.push(Column::new(item.id.as_str().into(), points));
    }
    out.extend([
        Column::new("score_exact".into(), score_exact),
        Column::new("veto_rules".into(), veto_rules),
        Column::new("not_assessed".into(), not_assessed),
        Column::new("rubric".into(), vec![rubric.pack.label(); n]),
        Column::new("veto_pack".into(), vec![scoring.veto.pack.label(); n]),
    ]);
    Ok(DataFrame::new(n, out)?)
}

#[cfg(test)]
mod tests;

/// The scoring outputs of one audit.
#[derive(Debug, Clone)]
pub struct ScoreTables {
    /// [`SCORE_COLUMNS`], one column per rubric item, then `score_exact, veto_rules,
    /// not_assessed, rubric, veto_pack`, and the influence index columns.
    pub scores: DataFrame,
    /// [`crate::ranking::RANKING_COLUMNS`] and `group_size, index_name, rubric`.
    pub rankings: DataFrame,
    /// Lines for the report's notes: the packs and the index used.
    pub notes: Vec<String>,
}

/// Scores, influence indices and rankings for an audit result.
pub fn score_and_rank(
    ctx: &crate::AuditContext,
    result: &crate::AuditResult,
    scoring: &Scoring,
    index_pack: &crate::indices::IndexPack,
) -> Result<ScoreTables, Error> {
    let period = result.index_period;
    let not_assessed: BTreeSet<&str> = result.not_assessed.iter().map(|(c, _)| *c).collect();
    let assessed_rules: BTreeSet<String> = result
        .rules_run
        .iter()
        .filter(|c| !not_assessed.contains(*c))
        .map(|c| c.to_string())
        .collect();
    let scores = crate::trace::stage("scores: accounts", || {
        score_accounts_computed(
            scoring,
            &result.measurements,
            &result.findings,
            &assessed_rules,
            &result.uncomputed,
            ctx.lang,
        )
    })?;
    let indices = crate::trace::stage("scores: indices", || {
        crate::indices::influence(
            ctx,
            index_pack,
            period,
            &result.index_counters,
            &result.measurements,
        )
    })?;
    let rankings = crate::trace::stage("scores: rankings", || {
        crate::ranking::rank(&scores, &indices, &ctx.orgs, ctx.lang)
    })?;
    let scores = crate::exprs::left_join_on(
        scores.lazy(),
        indices.lazy().select([
            col("account_id"),
            col("influence_index"),
            col("index_exact"),
            col("index_name"),
            col("posts_in_period"),
            col("index_missing"),
        ]),
        &["account_id"],
    )
    .collect()?;
    let (rubric, veto) = (&scoring.rubric.pack, &scoring.veto.pack);
    let mut notes = vec![match ctx.lang {
        Lang::Zh => format!(
            "评分：{}（{}）；否决项：{}（{}）；人工评分 {} 条",
            rubric.name,
            rubric.label(),
            veto.name,
            veto.label(),
            scoring.manual.len()
        ),
        Lang::En => format!(
            "Scores: {} ({}); vetoes: {} ({}); {} manual scores",
            rubric.name,
            rubric.label(),
            veto.name,
            veto.label(),
            scoring.manual.len()
        ),
    }];
    notes.push(crate::indices::describe(index_pack, period, ctx.lang));
    Ok(ScoreTables {
        scores,
        rankings,
        notes,
    })
}
