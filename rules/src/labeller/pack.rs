//! The label pack (`packs/labels/post_labels.toml`): weighted patterns for the post categories
//! and the ad / off-topic flags, kept as data so users can add or replace them.

use serde::Deserialize;

use crate::Error;
use crate::lexicon::CATEGORY_ORDER;

/// The flags decided beside the category.
pub const FLAG_LABELS: [&str; 2] = ["ad", "off_topic"];

/// One pattern of the pack: a regular expression and what a match is worth for its label in the
/// post's title and in its body (0: not counted there; negative: evidence against).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabelPattern {
    pub label: String,
    pub name: String,
    #[serde(default)]
    pub title: i32,
    #[serde(default)]
    pub body: i32,
    pub regex: String,
}

/// The patterns and the score a label needs.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelPack {
    pub threshold: i32,
    pub patterns: Vec<LabelPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    threshold: Option<i32>,
    #[serde(default)]
    pattern: Vec<LabelPattern>,
}

/// The threshold a pack without one uses.
const DEFAULT_THRESHOLD: i32 = 2;

impl LabelPack {
    /// Parses and checks a pack: known labels, valid regular expressions, a positive threshold.
    /// Errors name the source and the pattern.
    pub fn parse(text: &str, source: &str) -> Result<LabelPack, Error> {
        let (threshold, patterns) = parse_file(text, source)?;
        Ok(LabelPack {
            threshold: threshold.unwrap_or(DEFAULT_THRESHOLD),
            patterns,
        })
    }

    /// Adds the patterns of another pack; its threshold, when it sets one, wins.
    pub fn extend(&mut self, text: &str, source: &str) -> Result<(), Error> {
        let (threshold, patterns) = parse_file(text, source)?;
        if let Some(t) = threshold {
            self.threshold = t;
        }
        self.patterns.extend(patterns);
        Ok(())
    }
}

/// A checked pack file: its threshold if it sets one, and its patterns.
fn parse_file(text: &str, source: &str) -> Result<(Option<i32>, Vec<LabelPattern>), Error> {
    let file: PackFile =
        toml::from_str(text).map_err(|e| Error::Config(format!("{source}: {e}")))?;
    let threshold = file.threshold.unwrap_or(DEFAULT_THRESHOLD);
    if threshold < 1 {
        return Err(Error::Config(format!(
            "{source}: threshold must be at least 1, got {threshold}"
        )));
    }
    for (i, p) in file.pattern.iter().enumerate() {
        let at = format!("{source}: pattern {} ({:?})", i + 1, p.name);
        if !is_label(&p.label) {
            return Err(Error::Config(format!(
                "{at}: unknown label {:?} (expected one of {}, {})",
                p.label,
                CATEGORY_ORDER[..CATEGORY_ORDER.len() - 1].join(", "),
                FLAG_LABELS.join(", ")
            )));
        }
        if p.title == 0 && p.body == 0 {
            return Err(Error::Config(format!(
                "{at}: `title` and `body` are both 0, so it can never count"
            )));
        }
        regex::Regex::new(&p.regex)
            .map_err(|e| Error::Config(format!("{at}: invalid regex: {e}")))?;
    }
    Ok((file.threshold, file.pattern))
}

/// A category other than 动态, or a flag.
fn is_label(label: &str) -> bool {
    CATEGORY_ORDER[..CATEGORY_ORDER.len() - 1].contains(&label) || FLAG_LABELS.contains(&label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_pack_parses() {
        let pack = LabelPack::parse(
            include_str!("../../packs/labels/post_labels.toml"),
            "built-in",
        )
        .unwrap();
        assert_eq!(pack.threshold, 2);
        for label in CATEGORY_ORDER[..5].iter().chain(FLAG_LABELS.iter()) {
            assert!(
                pack.patterns.iter().any(|p| p.label == *label),
                "no pattern for {label}"
            );
        }
    }

    #[test]
    fn bad_packs_are_errors_naming_the_pattern() {
        let err = |text: &str| LabelPack::parse(text, "mine.toml").unwrap_err().to_string();
        let e = err("[[pattern]]\nlabel = \"八卦\"\nname = \"x\"\nbody = 2\nregex = \"a\"");
        assert!(e.contains("mine.toml: pattern 1 (\"x\")") && e.contains("unknown label"));
        let e = err("[[pattern]]\nlabel = \"ad\"\nname = \"bad\"\nbody = 2\nregex = \"(\"");
        assert!(e.contains("\"bad\"") && e.contains("invalid regex"), "{e}");
        let e = err("[[pattern]]\nlabel = \"ad\"\nname = \"never\"\nregex = \"a\"");
        assert!(e.contains("never count"), "{e}");
        let e = err("threshold = 0");
        assert!(e.contains("threshold must be at least 1"), "{e}");
        let e =
            err("[[pattern]]\nlabel = \"ad\"\nname = \"x\"\nbody = 1\nregex = \"a\"\ncolour = 1");
        assert!(e.contains("mine.toml") && e.contains("colour"), "{e}");
    }

    #[test]
    fn an_added_pack_extends_and_may_set_the_threshold() {
        let mut pack = LabelPack::parse(
            "[[pattern]]\nlabel = \"ad\"\nname = \"a\"\nbody = 2\nregex = \"a\"",
            "base",
        )
        .unwrap();
        pack.extend(
            "threshold = 3\n[[pattern]]\nlabel = \"政策文件\"\nname = \"b\"\ntitle = 3\nregex = \"b\"",
            "more",
        )
        .unwrap();
        assert_eq!(pack.threshold, 3);
        assert_eq!(pack.patterns.len(), 2);
        pack.extend("", "empty").unwrap();
        assert_eq!(pack.threshold, 3);
    }
}
