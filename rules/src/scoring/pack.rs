//! Rubric and veto packs: the data that turns findings and measurements into scores
//! (`rules/packs/rubrics/`). A pack is a TOML file; the built-in ones are embedded and a user's
//! file replaces them without a code change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::Error;

pub const CSTC2020: &str = include_str!("../../packs/rubrics/cstc2020.toml");
pub const NATIONAL_VETO: &str = include_str!("../../packs/rubrics/national_veto_2019.toml");
pub const LOCAL_EXAMPLE: &str = include_str!("../../packs/rubrics/local_example.toml");

const PLATFORMS: [&str; 3] = ["wechat", "weibo", "app"];

/// Name, version and provenance of a pack, shown in every output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackInfo {
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub veto_tier: Option<String>,
    #[serde(default)]
    pub veto_tier_en: Option<String>,
}

impl PackInfo {
    /// `id version`, the label written beside every score.
    pub fn label(&self) -> String {
        format!("{} {}", self.id, self.version)
    }
}

/// A tier: accounts whose score / 100 is at least `min` (and below the next tier up).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub min: f64,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
}

/// How an item's points are computed from one account's measurements and findings.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Measure {
    /// weight × numerator / denominator.
    Ratio {
        numerator: String,
        denominator: String,
        #[serde(default)]
        rules: Vec<String>,
    },
    /// weight × (columns with a count above 0) / (number of columns).
    Coverage {
        columns: Vec<String>,
        #[serde(default)]
        rules: Vec<String>,
    },
    /// weight × min(column, full_at) / full_at.
    Count {
        column: String,
        full_at: f64,
        #[serde(default)]
        rules: Vec<String>,
    },
    /// max(0, weight − findings × per finding).
    Deduct {
        rules: Vec<String>,
        #[serde(default)]
        share_per_finding: Option<f64>,
        #[serde(default)]
        points_per_finding: Option<f64>,
    },
    /// Only from the manual-scores file.
    Manual,
    /// The sum of sub-measures over shares of the weight.
    Parts { parts: Vec<Part> },
}

#[derive(Debug, Clone, Deserialize)]
pub struct Part {
    pub share: f64,
    #[serde(flatten)]
    pub measure: Measure,
}

impl Measure {
    /// The rules whose findings or assessment the measure depends on.
    pub fn rules(&self) -> Vec<&str> {
        match self {
            Measure::Ratio { rules, .. }
            | Measure::Coverage { rules, .. }
            | Measure::Count { rules, .. }
            | Measure::Deduct { rules, .. } => rules.iter().map(String::as_str).collect(),
            Measure::Manual => Vec::new(),
            Measure::Parts { parts } => parts.iter().flat_map(|p| p.measure.rules()).collect(),
        }
    }

    /// The measurement columns the measure reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Measure::Ratio {
                numerator,
                denominator,
                ..
            } => vec![numerator, denominator],
            Measure::Coverage { columns, .. } => columns.iter().map(String::as_str).collect(),
            Measure::Count { column, .. } => vec![column],
            Measure::Deduct { .. } | Measure::Manual => Vec::new(),
            Measure::Parts { parts } => parts.iter().flat_map(|p| p.measure.columns()).collect(),
        }
    }

    fn validate(&self, at: &str) -> Result<(), String> {
        match self {
            Measure::Count { full_at, .. } if *full_at <= 0.0 => {
                Err(format!("{at}: full_at must be above 0"))
            }
            Measure::Coverage { columns, .. } if columns.is_empty() => {
                Err(format!("{at}: coverage needs at least one column"))
            }
            Measure::Deduct {
                rules,
                share_per_finding,
                points_per_finding,
            } => {
                if rules.is_empty() {
                    return Err(format!("{at}: deduct needs at least one rule"));
                }
                match (share_per_finding, points_per_finding) {
                    (Some(v), None) | (None, Some(v)) if *v > 0.0 => Ok(()),
                    _ => Err(format!(
                        "{at}: deduct needs exactly one of share_per_finding or \
                         points_per_finding, above 0"
                    )),
                }
            }
            Measure::Parts { parts } => {
                let total: f64 = parts.iter().map(|p| p.share).sum();
                if parts.is_empty() || (total - 1.0).abs() > 1e-9 {
                    return Err(format!(
                        "{at}: the parts' shares must add up to 1 (got {total})"
                    ));
                }
                for (i, part) in parts.iter().enumerate() {
                    if matches!(part.measure, Measure::Parts { .. } | Measure::Manual) {
                        return Err(format!("{at}: part {} cannot be parts or manual", i + 1));
                    }
                    part.measure.validate(&format!("{at}: part {}", i + 1))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// One rubric item.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// Weight per platform; a platform absent here does not assess the item.
    pub weights: BTreeMap<String, f64>,
    pub measure: Measure,
    #[serde(default)]
    pub platform_measures: BTreeMap<String, Measure>,
}

impl Item {
    pub fn weight(&self, platform: &str) -> Option<f64> {
        self.weights.get(platform).copied()
    }

    pub fn measure_for(&self, platform: &str) -> &Measure {
        self.platform_measures
            .get(platform)
            .unwrap_or(&self.measure)
    }

    pub fn label(&self, english: bool) -> &str {
        match (&self.name_en, english) {
            (Some(en), true) => en,
            _ => &self.name,
        }
    }
}

/// A rubric pack: items with weights per platform and how each is computed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricPack {
    pub pack: PackInfo,
    pub items: Vec<Item>,
}

/// A veto pack: rules whose findings fail an account whatever its score.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VetoPack {
    pub pack: PackInfo,
    pub vetoes: Vec<Veto>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Veto {
    pub rule: String,
    pub item: String,
}

fn known_rule(code: &str) -> bool {
    crate::registry().iter().any(|r| r.info().code == code)
}

impl RubricPack {
    /// Parses and checks a rubric pack; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<RubricPack, Error> {
        let pack: RubricPack = toml::from_str(text)
            .map_err(|e| Error::Config(format!("{source}: {}", e.to_string().trim_end())))?;
        pack.validate()
            .map_err(|e| Error::Config(format!("{source}: {e}")))?;
        Ok(pack)
    }

    pub fn load(path: &Path) -> Result<RubricPack, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Store(govmedia_collectors::Error::io(path, e)))?;
        RubricPack::parse(&text, &path.display().to_string())
    }

    pub fn builtin() -> RubricPack {
        RubricPack::parse(CSTC2020, "cstc2020.toml").expect("the built-in rubric pack is valid")
    }

    pub fn item(&self, id_or_name: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.id == id_or_name || i.name == id_or_name)
    }

    fn validate(&self) -> Result<(), String> {
        validate_tiers(&self.pack.tiers)?;
        let mut ids = BTreeSet::new();
        for item in &self.items {
            let at = format!("item {}", item.id);
            if !ids.insert(item.id.as_str()) {
                return Err(format!("{at}: the id is used twice"));
            }
            if item.weights.is_empty() {
                return Err(format!("{at}: no platform weights"));
            }
            for (platform, weight) in &item.weights {
                if !PLATFORMS.contains(&platform.as_str()) {
                    return Err(format!(
                        "{at}: unknown platform `{platform}` (expected wechat, weibo or app)"
                    ));
                }
                if weight.is_nan() || *weight <= 0.0 {
                    return Err(format!("{at}: the {platform} weight must be above 0"));
                }
            }
            for platform in item.platform_measures.keys() {
                if !item.weights.contains_key(platform) {
                    return Err(format!(
                        "{at}: a measure for {platform}, which has no weight for this item"
                    ));
                }
            }
            for measure in std::iter::once(&item.measure).chain(item.platform_measures.values()) {
                measure.validate(&at)?;
                if let Some(code) = measure.rules().into_iter().find(|c| !known_rule(c)) {
                    return Err(format!("{at}: unknown rule code `{code}`"));
                }
            }
        }
        Ok(())
    }
}

fn validate_tiers(tiers: &[Tier]) -> Result<(), String> {
    if tiers.is_empty() {
        return Err("[pack] tiers: at least one tier is needed".into());
    }
    if tiers.windows(2).any(|w| w[0].min <= w[1].min) {
        return Err("[pack] tiers: list them from the highest `min` down".into());
    }
    if tiers.last().is_some_and(|t| t.min > 0.0) {
        return Err("[pack] tiers: the last tier must start at 0".into());
    }
    Ok(())
}

impl VetoPack {
    pub fn parse(text: &str, source: &str) -> Result<VetoPack, Error> {
        let pack: VetoPack = toml::from_str(text)
            .map_err(|e| Error::Config(format!("{source}: {}", e.to_string().trim_end())))?;
        if let Some(v) = pack.vetoes.iter().find(|v| !known_rule(&v.rule)) {
            return Err(Error::Config(format!(
                "{source}: unknown rule code `{}`",
                v.rule
            )));
        }
        if pack.pack.veto_tier.is_none() {
            return Err(Error::Config(format!(
                "{source}: [pack] needs veto_tier (the tier of a vetoed account)"
            )));
        }
        Ok(pack)
    }

    pub fn load(path: &Path) -> Result<VetoPack, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Store(govmedia_collectors::Error::io(path, e)))?;
        VetoPack::parse(&text, &path.display().to_string())
    }

    pub fn builtin() -> VetoPack {
        VetoPack::parse(NATIONAL_VETO, "national_veto_2019.toml")
            .expect("the built-in veto pack is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_cstc_weights_sum_to_100_per_platform() {
        let pack = RubricPack::builtin();
        assert_eq!(pack.items.len(), 14);
        for platform in PLATFORMS {
            let total: f64 = pack.items.iter().filter_map(|i| i.weight(platform)).sum();
            assert_eq!(total, 100.0, "{platform}");
        }
        assert_eq!(pack.item("信息更新").unwrap().weight("weibo"), Some(20.0));
        assert_eq!(pack.item("搜索功能").unwrap().weight("wechat"), None);
    }

    #[test]
    fn the_example_local_pack_is_valid_and_sums_to_100() {
        let pack = RubricPack::parse(LOCAL_EXAMPLE, "local_example.toml").unwrap();
        for platform in PLATFORMS {
            let total: f64 = pack.items.iter().filter_map(|i| i.weight(platform)).sum();
            assert_eq!(total, 100.0, "{platform}");
        }
    }

    #[test]
    fn a_bad_pack_is_an_error_naming_the_item() {
        let bad = CSTC2020.replace("rules = [\"OPN001\"]", "rules = [\"OPN999\"]");
        let err = RubricPack::parse(&bad, "my.toml").unwrap_err().to_string();
        assert!(err.contains("my.toml") && err.contains("intensive") && err.contains("OPN999"));
        let bad = CSTC2020.replace(
            "share = 0.4, kind = \"ratio\", numerator = \"replied\"",
            "share = 0.5, kind = \"ratio\", numerator = \"replied\"",
        );
        let err = RubricPack::parse(&bad, "my.toml").unwrap_err().to_string();
        assert!(err.contains("add up to 1"), "{err}");
    }
}
