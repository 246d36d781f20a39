//! The rubric compiled for one audit: what an item's points depend on is decided once, not for
//! every account. Whether an item can be assessed (its rules ran, its measurement columns were
//! computed) is the same for every account; its columns are resolved to their values and its
//! rules to places in a table of finding counts. Scoring a national audit looked each of these up
//! by name for every account and item (200,000 accounts × some 40 items): two-string hash keys,
//! a set of rule codes, columns by name, and that was most of scoring.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use super::{Item, Measure, Scoring};
use crate::Error;

/// A measure ready to be evaluated on an account's row, its weight on the platform applied.
#[derive(Debug)]
pub(super) enum Compiled {
    /// No points from data for any account: its rules were not assessed, its columns not
    /// computed, or it is `Measure::Manual`.
    NoPoints,
    Ratio {
        weight: f64,
        numerator: usize,
        denominator: usize,
    },
    Coverage {
        weight: f64,
        columns: Vec<usize>,
    },
    Count {
        weight: f64,
        column: usize,
        full_at: f64,
    },
    Deduct {
        weight: f64,
        /// Places in [`Plan::codes`].
        codes: Vec<usize>,
        per_finding: f64,
    },
    Parts(Vec<Compiled>),
}

/// The inputs of every measure (the measurement columns, the finding counts per account row and
/// rule) and what decides whether a measure can be assessed in this audit.
pub(super) struct Plan<'m> {
    /// The measurement columns the rubric reads, each as one vector of values by row.
    values: Vec<Vec<Option<f64>>>,
    /// Each column's place in `values`.
    places: HashMap<&'m str, usize>,
    /// The rule codes any measure depends on or a veto looks for.
    codes: Vec<&'m str>,
    /// Per measurements row, its findings per code (`codes.len()` counts a row).
    counts: Vec<u32>,
    assessed_rules: &'m BTreeSet<String>,
    /// Measurement columns the audit did not compute (`AuditResult::uncomputed`).
    uncomputed: &'m [&'m str],
}

impl<'m> Plan<'m> {
    /// Resolves every column any item reads, on any platform (a column the audit does not produce
    /// is an error even when no account's platform uses the item), and counts the findings of
    /// every rule a measure or a veto names per measurements row.
    pub fn new(
        scoring: &'m Scoring,
        measurements: &'m DataFrame,
        findings: &'m DataFrame,
        assessed_rules: &'m BTreeSet<String>,
        uncomputed: &'m [&'m str],
    ) -> Result<Plan<'m>, Error> {
        let rubric = &scoring.rubric;
        let mut places: HashMap<&'m str, usize> = HashMap::new();
        let mut values = Vec::new();
        let mut codes: Vec<&'m str> = Vec::new();
        let vetoes = scoring.veto.vetoes.iter().map(|v| v.rule.as_str());
        for item in &rubric.items {
            let measures = std::iter::once(&item.measure).chain(item.platform_measures.values());
            for measure in measures {
                codes.extend(measure.rules());
                for column in measure.columns() {
                    if places.contains_key(column) {
                        continue;
                    }
                    let found = measurements.column(column).map_err(|_| {
                        Error::Config(format!(
                            "rubric pack {}: item {} reads the measurement `{column}`, which the \
                             audit does not produce",
                            rubric.pack.label(),
                            item.id
                        ))
                    })?;
                    places.insert(column, values.len());
                    values.push(found.cast(&DataType::Float64)?.f64()?.iter().collect());
                }
            }
        }
        codes.extend(vetoes);
        let mut seen = BTreeSet::new();
        codes.retain(|c| seen.insert(*c));
        let counts = row_counts(measurements, findings, &codes)?;
        Ok(Plan {
            values,
            places,
            codes,
            counts,
            assessed_rules,
            uncomputed,
        })
    }

    /// The place of `code` in the counted codes: every rule a measure or a veto names has one.
    pub fn code_place(&self, code: &str) -> usize {
        self.codes
            .iter()
            .position(|c| *c == code)
            .expect("every rule a measure or a veto names is counted")
    }

    /// The findings of the code at `place` for measurements row `row`.
    pub fn count(&self, row: usize, place: usize) -> u32 {
        self.counts[row * self.codes.len() + place]
    }

    /// `item` on `platform`: its weight there and its compiled measure, or `None` when the item
    /// is not part of that platform's rubric.
    pub fn item(&self, item: &Item, platform: &str) -> Option<(f64, Compiled)> {
        let weight = item.weight(platform)?;
        Some((weight, self.compile(item.measure_for(platform), weight)))
    }

    fn compile(&self, measure: &Measure, weight: f64) -> Compiled {
        let rules_assessed =
            |rules: &[String]| rules.iter().all(|r| self.assessed_rules.contains(r));
        let computed = |columns: &[&String]| {
            !columns
                .iter()
                .any(|c| self.uncomputed.contains(&c.as_str()))
        };
        let place = |column: &String| self.places[column.as_str()];
        match measure {
            Measure::Ratio {
                numerator,
                denominator,
                rules,
            } => {
                if !rules_assessed(rules) || !computed(&[numerator, denominator]) {
                    return Compiled::NoPoints;
                }
                Compiled::Ratio {
                    weight,
                    numerator: place(numerator),
                    denominator: place(denominator),
                }
            }
            Measure::Coverage { columns, rules } => {
                if !rules_assessed(rules) || !computed(&columns.iter().collect::<Vec<_>>()) {
                    return Compiled::NoPoints;
                }
                Compiled::Coverage {
                    weight,
                    columns: columns.iter().map(place).collect(),
                }
            }
            Measure::Count {
                column,
                full_at,
                rules,
            } => {
                if !rules_assessed(rules) || !computed(&[column]) {
                    return Compiled::NoPoints;
                }
                Compiled::Count {
                    weight,
                    column: place(column),
                    full_at: *full_at,
                }
            }
            Measure::Deduct {
                rules,
                share_per_finding,
                points_per_finding,
            } => {
                if !rules_assessed(rules) {
                    return Compiled::NoPoints;
                }
                Compiled::Deduct {
                    weight,
                    codes: rules.iter().map(|r| self.code_place(r)).collect(),
                    per_finding: share_per_finding
                        .map_or(points_per_finding.unwrap_or(0.0), |s| s * weight),
                }
            }
            Measure::Manual => Compiled::NoPoints,
            Measure::Parts { parts } => Compiled::Parts(
                parts
                    .iter()
                    .map(|p| self.compile(&p.measure, p.share * weight))
                    .collect(),
            ),
        }
    }

    /// Points out of the compiled weight for measurements row `row`, or `None` when the measure
    /// cannot be assessed for the account. The arithmetic is the one of the rubric's definition,
    /// operation for operation (the same floating-point results).
    pub fn points(&self, measure: &Compiled, row: usize) -> Option<f64> {
        let value = |column: usize| self.values[column][row];
        match measure {
            Compiled::NoPoints => None,
            Compiled::Ratio {
                weight,
                numerator,
                denominator,
            } => {
                let den = value(*denominator).filter(|d| *d > 0.0)?;
                let num = value(*numerator)?;
                Some(weight * (num / den).clamp(0.0, 1.0))
            }
            Compiled::Coverage { weight, columns } => {
                let present = columns
                    .iter()
                    .filter(|c| value(**c).unwrap_or(0.0) > 0.0)
                    .count();
                Some(weight * present as f64 / columns.len() as f64)
            }
            Compiled::Count {
                weight,
                column,
                full_at,
            } => {
                let v = value(*column).unwrap_or(0.0).max(0.0);
                Some(weight * v.min(*full_at) / full_at)
            }
            Compiled::Deduct {
                weight,
                codes,
                per_finding,
            } => {
                let findings: u32 = codes.iter().map(|c| self.count(row, *c)).sum();
                Some((weight - findings as f64 * per_finding).max(0.0))
            }
            Compiled::Parts(parts) => parts.iter().map(|p| self.points(p, row)).sum(),
        }
    }
}

/// Findings per measurements row and code (`codes.len()` counts a row, in `codes`' order): a
/// finding counts for every row of its account (an id absent from the findings, or a null one,
/// reads as the empty id, as it did when counts were looked up by id). The findings come an
/// account at a time, so an account is looked up once per run of its rows.
pub(super) fn row_counts(
    measurements: &DataFrame,
    findings: &DataFrame,
    codes: &[&str],
) -> Result<Vec<u32>, Error> {
    let ids = measurements.column("account_id")?.str()?;
    let mut rows_of: HashMap<&str, Vec<usize>, PlRandomState> = HashMap::default();
    for (row, id) in ids.iter().enumerate() {
        rows_of.entry(id.unwrap_or_default()).or_default().push(row);
    }
    let width = codes.len();
    let mut counts = vec![0u32; ids.len() * width];
    // The account of the current runs and its counts by code, added to its rows when the next
    // account begins (an account met again adds to them).
    let mut account: Option<(&str, Vec<u32>)> = None;
    let mut add = |account: Option<(&str, Vec<u32>)>| {
        if let Some(rows) = account.and_then(|(id, n)| Some((rows_of.get(id)?, n))) {
            let (rows, account_counts) = rows;
            for row in rows {
                let row_counts = &mut counts[row * width..(row + 1) * width];
                for (count, n) in row_counts.iter_mut().zip(&account_counts) {
                    *count += n;
                }
            }
        }
    };
    for ((id, code), n) in super::finding_runs(findings)? {
        let Some(place) = codes.iter().position(|c| *c == code) else {
            continue;
        };
        if account.as_ref().is_none_or(|(current, _)| *current != id) {
            add(account.replace((id, vec![0; width])));
        }
        if let Some((_, account_counts)) = &mut account {
            account_counts[place] += n;
        }
    }
    add(account);
    Ok(counts)
}
