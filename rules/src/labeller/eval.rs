//! Measuring the labeller on labelled posts: per-label precision and recall, the confusion
//! matrix, the required kinds together (CNT006), and the ad and off-topic flags.
//!
//! The labelled file is a CSV with the columns `category` (one of the six categories), `ad`
//! and `offtopic` (`0`/`1`) and `text`; other columns (`source`, `post_id`, …) are carried into
//! the list of mistakes when present. A post's `title` column is used when there is one.

use std::fmt;
use std::path::Path;

use super::PostClassifier;
use crate::Error;
use crate::lexicon::CATEGORY_ORDER;

/// The categories CNT006 asks for.
pub const REQUIRED_KINDS: [&str; 3] = ["政策文件", "政策解读", "回应关切"];

/// One labelled post.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledPost {
    /// Where it came from, for the list of mistakes: `source#post_id`, or `line N`.
    pub id: String,
    pub category: String,
    pub ad: bool,
    pub off_topic: bool,
    pub title: Option<String>,
    pub text: String,
}

/// Reads a labelled CSV; errors name the file, the line and the field.
pub fn read_labelled(path: &Path) -> Result<Vec<LabelledPost>, Error> {
    let file = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| Error::Config(format!("{file}: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| Error::Config(format!("{file}: header: {e}")))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    };
    let required = |name: &str| {
        column(name).ok_or_else(|| {
            Error::Config(format!(
                "{file}: line 1: missing column `{name}` (need category, ad, offtopic, text)"
            ))
        })
    };
    let (category, ad, off_topic, text) = (
        required("category")?,
        required("ad")?,
        required("offtopic")?,
        required("text")?,
    );
    let (source, post_id, title) = (column("source"), column("post_id"), column("title"));
    let mut posts = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::Config(format!("{file}: {e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |i: usize| record.get(i).unwrap_or_default();
        let flag = |i: usize, name: &str| match get(i).trim() {
            "1" => Ok(true),
            "0" => Ok(false),
            other => Err(Error::Config(format!(
                "{file}: line {line}: field `{name}`: expected 0 or 1, got {other:?}"
            ))),
        };
        let cat = get(category).trim();
        if !CATEGORY_ORDER.contains(&cat) {
            return Err(Error::Config(format!(
                "{file}: line {line}: field `category`: unknown category {cat:?} (expected one of {})",
                CATEGORY_ORDER.join(", ")
            )));
        }
        let id = match (source.map(get), post_id.map(get)) {
            (Some(s), Some(p)) if !p.is_empty() => format!("{s}#{p}"),
            (None, Some(p)) if !p.is_empty() => p.to_string(),
            _ => format!("line {line}"),
        };
        posts.push(LabelledPost {
            id,
            category: cat.to_string(),
            ad: flag(ad, "ad")?,
            off_topic: flag(off_topic, "offtopic")?,
            title: title.map(get).filter(|t| !t.is_empty()).map(String::from),
            text: get(text).to_string(),
        });
    }
    Ok(posts)
}

/// Counts of a yes/no decision against the labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_pos: usize,
    pub false_pos: usize,
    pub false_neg: usize,
}

impl Counts {
    fn add(&mut self, truth: bool, predicted: bool, n: usize) {
        match (truth, predicted) {
            (true, true) => self.true_pos += n,
            (false, true) => self.false_pos += n,
            (true, false) => self.false_neg += n,
            (false, false) => {}
        }
    }
    /// `None` when nothing was predicted.
    pub fn precision(&self) -> Option<f64> {
        let predicted = self.true_pos + self.false_pos;
        (predicted > 0).then(|| self.true_pos as f64 / predicted as f64)
    }
    /// `None` when nothing is labelled so.
    pub fn recall(&self) -> Option<f64> {
        let actual = self.true_pos + self.false_neg;
        (actual > 0).then(|| self.true_pos as f64 / actual as f64)
    }
}

/// A post the labeller got wrong, with its reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Mistake {
    pub id: String,
    /// `category`, `ad` or `offtopic`.
    pub what: &'static str,
    pub expected: String,
    pub got: String,
    pub reason: String,
    pub text: String,
}

/// The figures of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub posts: usize,
    /// `confusion[expected][predicted]`, indices into [`CATEGORY_ORDER`].
    pub confusion: [[usize; 6]; 6],
    /// The three required kinds as one class.
    pub required: Counts,
    pub ad: Counts,
    pub off_topic: Counts,
    pub mistakes: Vec<Mistake>,
}

fn category_index(category: &str) -> usize {
    CATEGORY_ORDER
        .iter()
        .position(|c| *c == category)
        .unwrap_or(CATEGORY_ORDER.len() - 1)
}

/// Labels every post and compares.
pub fn evaluate(classifier: &PostClassifier, posts: &[LabelledPost]) -> Evaluation {
    let mut e = Evaluation {
        posts: posts.len(),
        confusion: [[0; 6]; 6],
        required: Counts::default(),
        ad: Counts::default(),
        off_topic: Counts::default(),
        mistakes: Vec::new(),
    };
    for post in posts {
        let verdict = classifier.classify(post.title.as_deref(), Some(&post.text));
        e.confusion[category_index(&post.category)][category_index(verdict.category)] += 1;
        e.required.add(
            REQUIRED_KINDS.contains(&post.category.as_str()),
            REQUIRED_KINDS.contains(&verdict.category),
            1,
        );
        let reason_of = |tag: &str| {
            verdict
                .hits
                .iter()
                .filter(|h| h.tag == tag)
                .map(|h| format!("{}「{}」", h.reason, h.term))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut mistake = |what: &'static str, expected: String, got: String, reason: String| {
            e.mistakes.push(Mistake {
                id: post.id.clone(),
                what,
                expected,
                got,
                reason,
                text: post.text.clone(),
            })
        };
        if verdict.category != post.category {
            mistake(
                "category",
                post.category.clone(),
                verdict.category.to_string(),
                verdict
                    .category_reason
                    .as_ref()
                    .map(|r| format!("{} {}: {r}", verdict.category, verdict.category_score))
                    .unwrap_or_default(),
            );
        }
        for (what, truth, tag, counts) in [
            ("ad", post.ad, "ad", &mut e.ad),
            ("offtopic", post.off_topic, "off_topic", &mut e.off_topic),
        ] {
            let predicted = verdict.has(tag);
            counts.add(truth, predicted, 1);
            if truth != predicted {
                mistake(
                    what,
                    u8::from(truth).to_string(),
                    u8::from(predicted).to_string(),
                    reason_of(tag),
                );
            }
        }
    }
    e
}

impl Evaluation {
    /// Counts for one category against all others.
    pub fn category(&self, category: &str) -> Counts {
        let c = category_index(category);
        let mut counts = Counts::default();
        for (expected, row) in self.confusion.iter().enumerate() {
            for (predicted, n) in row.iter().enumerate() {
                counts.add(expected == c, predicted == c, *n);
            }
        }
        counts
    }

    /// 动态 posts given another category, as a share of the 动态 posts.
    pub fn news_mislabelled(&self) -> (usize, usize) {
        let news = &self.confusion[CATEGORY_ORDER.len() - 1];
        let total: usize = news.iter().sum();
        (total - news[CATEGORY_ORDER.len() - 1], total)
    }
}

/// `text` padded with spaces to `width` terminal columns (a CJK character takes two), on the
/// right (`left_align`) or the left.
fn pad(text: &str, width: usize, left_align: bool) -> String {
    let columns: usize = text
        .chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum();
    let fill = " ".repeat(width.saturating_sub(columns));
    if left_align {
        format!("{text}{fill}")
    } else {
        format!("{fill}{text}")
    }
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |v| format!("{v:.2}"))
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} labelled posts\n", self.posts)?;
        writeln!(
            f,
            "{:<10} {:>8} {:>8} {:>8} {:>9} {:>7}",
            "label", "in set", "labelled", "correct", "precision", "recall"
        )?;
        let mut row = |name: &str, c: Counts| {
            writeln!(
                f,
                "{} {:>8} {:>8} {:>8} {:>9} {:>7}",
                pad(name, 10, true),
                c.true_pos + c.false_neg,
                c.true_pos + c.false_pos,
                c.true_pos,
                ratio(c.precision()),
                ratio(c.recall())
            )
        };
        for category in CATEGORY_ORDER.iter().rev().skip(1).rev() {
            row(category, self.category(category))?;
        }
        row("动态", self.category("动态"))?;
        row("required", self.required)?;
        row("ad", self.ad)?;
        row("off-topic", self.off_topic)?;
        let (wrong, news) = self.news_mislabelled();
        writeln!(
            f,
            "\nrequired = 政策文件 + 政策解读 + 回应关切 as one class (CNT006).\n动态 posts given another category: {wrong} of {news} ({:.1}%).",
            if news > 0 {
                100.0 * wrong as f64 / news as f64
            } else {
                0.0
            }
        )?;
        writeln!(f, "\nconfusion (rows: labelled, columns: labeller)")?;
        write!(f, "{}", pad("", 10, true))?;
        for c in CATEGORY_ORDER {
            write!(f, " {}", pad(c, 8, false))?;
        }
        writeln!(f)?;
        for (i, c) in CATEGORY_ORDER.iter().enumerate() {
            write!(f, "{}", pad(c, 10, true))?;
            for n in self.confusion[i] {
                write!(f, " {n:>8}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
