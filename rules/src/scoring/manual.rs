//! Manual scores (`--manual FILE`): points an evaluator gives for items data cannot measure
//! (管理保障, 安全管理, 服务评价, 搜索功能) or overrides after expert review. CSV with a header
//! row or JSON Lines, columns `account_id, item, points, note`; `item` is the rubric item's id
//! or its Chinese name. Every row is checked against the rubric: an unknown item, an item the
//! account's platform does not assess, or points outside 0..weight is an error naming the file,
//! line and field.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::pack::RubricPack;
use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct ManualScore {
    pub points: f64,
    pub note: Option<String>,
}

/// Manual scores by account_id, then item id: scoring asks for every account and item, so a
/// look-up borrows both (a key of two new strings per look-up cost seconds nationally).
#[derive(Debug, Clone, Default)]
pub struct ManualScores {
    scores: HashMap<String, HashMap<String, ManualScore>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    account_id: String,
    item: String,
    points: f64,
    #[serde(default)]
    note: Option<String>,
}

impl ManualScores {
    pub fn get(&self, account_id: &str, item_id: &str) -> Option<&ManualScore> {
        self.scores.get(account_id)?.get(item_id)
    }

    pub fn len(&self) -> usize {
        self.scores.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub fn load(path: &Path, rubric: &RubricPack) -> Result<ManualScores, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Store(govmedia_collectors::Error::io(path, e)))?;
        let source = path.display().to_string();
        let jsonl = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("json"));
        if jsonl {
            ManualScores::from_jsonl(&text, &source, rubric)
        } else {
            ManualScores::from_csv(&text, &source, rubric)
        }
    }

    pub fn from_csv(text: &str, source: &str, rubric: &RubricPack) -> Result<ManualScores, Error> {
        let text = text.trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| Error::Config(format!("{source}: line 1: {e}")))?
            .clone();
        let mut scores = ManualScores::default();
        for record in reader.records() {
            let record = record.map_err(|e| Error::Config(format!("{source}: {e}")))?;
            let line = record.position().map_or(0, |p| p.line());
            let row: Row = record
                .deserialize(Some(&headers))
                .map_err(|e| Error::Config(format!("{source}: line {line}: {e}")))?;
            scores.add(row, source, line, rubric)?;
        }
        Ok(scores)
    }

    pub fn from_jsonl(
        text: &str,
        source: &str,
        rubric: &RubricPack,
    ) -> Result<ManualScores, Error> {
        let mut scores = ManualScores::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row: Row = serde_json::from_str(line)
                .map_err(|e| Error::Config(format!("{source}: line {}: {e}", i + 1)))?;
            scores.add(row, source, i as u64 + 1, rubric)?;
        }
        Ok(scores)
    }

    fn add(&mut self, row: Row, source: &str, line: u64, rubric: &RubricPack) -> Result<(), Error> {
        let at = |field: &str, msg: String| {
            Error::Config(format!("{source}: line {line}: field `{field}`: {msg}"))
        };
        let item = rubric.item(&row.item).ok_or_else(|| {
            let known: Vec<&str> = rubric.items.iter().map(|i| i.id.as_str()).collect();
            at(
                "item",
                format!(
                    "`{}` is not an item of {} (items: {})",
                    row.item,
                    rubric.pack.label(),
                    known.join(", ")
                ),
            )
        })?;
        let platform = row.account_id.split(':').next().unwrap_or_default();
        let weight = item.weight(platform).ok_or_else(|| {
            at(
                "item",
                format!(
                    "{} ({}) is not assessed on {platform:?} accounts",
                    item.name, item.id
                ),
            )
        })?;
        if !(0.0..=weight).contains(&row.points) {
            return Err(at(
                "points",
                format!("{} is outside 0..{weight} for {}", row.points, item.name),
            ));
        }
        if self.get(&row.account_id, &item.id).is_some() {
            return Err(at(
                "item",
                format!("a second score for {} of {}", item.name, row.account_id),
            ));
        }
        self.scores.entry(row.account_id).or_default().insert(
            item.id.clone(),
            ManualScore {
                points: row.points,
                note: row.note.filter(|n| !n.is_empty()),
            },
        );
        Ok(())
    }
}
