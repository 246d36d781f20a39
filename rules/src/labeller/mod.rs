//! The post labeller behind CNT001, CNT004, CNT006, INT006 and the 信息内容 rubric item: each
//! post's category (政策文件, 政策解读, 回应关切, 征集调查, 结果反馈, otherwise 动态) and its ad and
//! off-topic hits, every decision with the reason that made it.
//!
//! Two kinds of evidence, both data (`packs/`):
//! - lexicon terms (`ads`, `off_topic`, `improper`, `ad_slot_markers`, price tags, and
//!   `categories` keywords), each decisive on its own;
//! - the weighted patterns of the label pack (`packs/labels/post_labels.toml`), matched against
//!   the post's title and body separately (a headline weighs more than a passing mention) and
//!   summed per label, with negative patterns as counter-evidence (记者调查 is not a survey).
//!
//! `docs/labels.md` explains the decision and how to add patterns; `govmedia eval-labels`
//! measures it on a labelled file.

pub mod eval;
pub mod pack;
pub mod prefilter;

use regex::{Regex, RegexBuilder};

use crate::Error;
use crate::lexicon::{
    CATEGORY_ORDER, DEFAULT_CATEGORY, Hit, Lexicons, Matcher, PRICE_PHRASES, PRICE_SIGNS, Tag,
    context, price_end,
};
pub use pack::{FLAG_LABELS, LabelPack, LabelPattern};
use prefilter::{Candidates, Prefilter};

/// Characters of context kept on each side of a match.
pub const CONTEXT_CHARS: usize = 20;
/// A headline 【…】 counts as the title when it opens within this many characters of the text.
const HEADLINE_START_CHARS: usize = 40;
/// Longest headline and longest #topic# taken as a title, in characters.
const HEADLINE_MAX_CHARS: usize = 100;
const TOPIC_MAX_CHARS: usize = 40;
/// Matched text quoted in a reason is cut to this many characters.
const REASON_QUOTE_CHARS: usize = 24;

/// The stored fields a post is labelled from, in the prefilter's field order.
const FIELDS: [&str; 2] = ["title", "text"];

/// A field's place in [`FIELDS`].
fn field_slot(field: &str) -> usize {
    FIELDS.iter().position(|f| *f == field).unwrap_or(1)
}

/// A piece of a post: which stored field it comes from and where it starts in that field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment<'a> {
    pub field: &'static str,
    pub text: &'a str,
    pub offset: usize,
}

/// A post split into title segments (the title field, or a Weibo text's leading 【headline】, and
/// every #topic#) and the body (the text after the headline).
#[derive(Debug, Clone, PartialEq)]
pub struct PostParts<'a> {
    pub titles: Vec<Segment<'a>>,
    pub body: Option<Segment<'a>>,
}

/// Splits a post into its title segments and body.
pub fn split_post<'a>(title: Option<&'a str>, text: Option<&'a str>) -> PostParts<'a> {
    let mut titles = Vec::new();
    let has_title = title.is_some_and(|t| !t.trim().is_empty());
    if let Some(t) = title.filter(|_| has_title) {
        titles.push(Segment {
            field: "title",
            text: t.trim(),
            offset: t.len() - t.trim_start().len(),
        });
    }
    let Some(text) = text else {
        return PostParts { titles, body: None };
    };
    let mut body = Segment {
        field: "text",
        text,
        offset: 0,
    };
    if !has_title && let Some((start, end)) = headline(text) {
        titles.push(Segment {
            field: "text",
            text: &text[start..end],
            offset: start,
        });
        let after = end + '】'.len_utf8();
        body = Segment {
            field: "text",
            text: &text[after..],
            offset: after,
        };
    }
    titles.extend(topics(text).map(|(start, end)| Segment {
        field: "text",
        text: &text[start..end],
        offset: start,
    }));
    PostParts {
        titles,
        body: Some(body),
    }
}

/// Byte range of the inside of a leading 【headline】.
fn headline(text: &str) -> Option<(usize, usize)> {
    let (open, _) = text
        .char_indices()
        .take(HEADLINE_START_CHARS)
        .find(|(_, c)| *c == '【')?;
    let start = open + '【'.len_utf8();
    let (len, _) = text[start..]
        .char_indices()
        .take(HEADLINE_MAX_CHARS + 1)
        .find(|(_, c)| *c == '】')?;
    (len > 0).then_some((start, start + len))
}

/// Byte ranges of the insides of the #topics# of a text.
fn topics(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            let open = from + text[from..].find('#')?;
            let start = open + 1;
            let close = start + text[start..].find('#')?;
            let inside = &text[start..close];
            let chars = inside.chars().count();
            if chars == 0 || chars > TOPIC_MAX_CHARS || inside.contains('\n') {
                // Not a topic: the second # may open the next one.
                from = start;
                continue;
            }
            from = close + 1;
            return Some((start, close));
        }
    })
}

struct CompiledPattern {
    label: usize,
    name: String,
    title: i32,
    body: i32,
    regex: Regex,
}

/// What one label scored on a post, with the patterns that made the score.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelScore {
    pub score: i32,
    /// `name(field「matched」±weight)` per pattern, in pack order; empty below the threshold.
    pub reason: String,
    /// The strongest positive match: its field and byte range in that field.
    pub anchor: Option<(&'static str, usize, usize)>,
}

/// The labels in scoring order: the categories (priority order), then the flags.
fn label_names() -> impl Iterator<Item = &'static str> {
    CATEGORY_ORDER[..CATEGORY_ORDER.len() - 1]
        .iter()
        .chain(FLAG_LABELS.iter())
        .copied()
}
const LABELS: usize = CATEGORY_ORDER.len() - 1 + FLAG_LABELS.len();

/// The label pack compiled: the patterns, and the automaton that tells which of them can match
/// a post (`prefilter`).
pub struct PostLabeller {
    threshold: i32,
    patterns: Vec<CompiledPattern>,
    prefilter: Prefilter,
}

impl PostLabeller {
    /// Compiles the pack, with each `categories` keyword as a decisive pattern of its category.
    pub fn new(pack: &LabelPack, keywords: &[(String, String)]) -> Result<PostLabeller, Error> {
        PostLabeller::with_terms(pack, keywords, &[])
    }

    /// [`PostLabeller::new`] whose prefilter also tells where the lexicon `terms` occur.
    fn with_terms(
        pack: &LabelPack,
        keywords: &[(String, String)],
        terms: &[&str],
    ) -> Result<PostLabeller, Error> {
        let label_index = |label: &str| label_names().position(|l| l == label);
        // The lazy DFA gives up (and the regex falls back to a far slower engine) when its cache
        // fills: Unicode classes with bounded repeats need room.
        let compile = |name: &str, regex: &str| {
            RegexBuilder::new(regex)
                .size_limit(64 << 20)
                .dfa_size_limit(64 << 20)
                .build()
                .map_err(|e| Error::Config(format!("label pack: {name:?}: {e}")))
        };
        let mut patterns = Vec::new();
        for p in &pack.patterns {
            let label = label_index(&p.label)
                .ok_or_else(|| Error::Config(format!("label pack: unknown label {:?}", p.label)))?;
            patterns.push(CompiledPattern {
                label,
                name: p.name.clone(),
                title: p.title,
                body: p.body,
                regex: compile(&p.name, &p.regex)?,
            });
        }
        for (category, keyword) in keywords {
            let label = label_index(category).ok_or_else(|| {
                Error::Config(format!("categories: unknown category {category:?}"))
            })?;
            patterns.push(CompiledPattern {
                label,
                name: format!("keyword {keyword}"),
                title: pack.threshold,
                body: pack.threshold,
                regex: Regex::new(&regex::escape(keyword)).expect("an escaped literal is valid"),
            });
        }
        let prefilter = Prefilter::new(
            patterns.iter().map(|p| p.regex.as_str()),
            terms.iter().copied(),
        )?;
        Ok(PostLabeller {
            threshold: pack.threshold,
            patterns,
            prefilter,
        })
    }

    /// Every label's score on a post.
    pub fn score<'a>(&self, parts: &PostParts<'a>) -> [LabelScore; LABELS] {
        let mut candidates = self.prefilter.candidates(FIELDS.len());
        for seg in parts.titles.iter().chain(&parts.body) {
            self.prefilter
                .scan_into(seg.text, field_slot(seg.field), &mut candidates);
        }
        self.score_among(parts, &candidates)
    }

    /// Every label's score on a post, trying only the patterns the prefilter let through. A
    /// label's `reason` is written only when its score reaches the threshold: only those labels
    /// are ever reported (category and flags), and formatting the reasons of every weak match
    /// cost more than the matching on a national store.
    fn score_among<'a>(
        &self,
        parts: &PostParts<'a>,
        candidates: &Candidates,
    ) -> [LabelScore; LABELS] {
        // The best (largest in magnitude) contribution of each pattern that matched and where
        // it came from, as (pattern, weight, segment, start, end). Few patterns match a post: a
        // short list searched linearly, where a slot per pattern cost an allocation and a fill
        // of the whole table per post.
        let mut best: Vec<(usize, i32, Segment<'a>, usize, usize)> = Vec::new();
        let mut consider = |i: usize, weight: i32, seg: Segment<'a>| {
            let slot = best.iter().position(|b| b.0 == i);
            if slot.is_some_and(|k| best[k].1.abs() >= weight.abs()) {
                return;
            }
            if let Some(m) = self.patterns[i].regex.find(seg.text) {
                let found = (i, weight, seg, m.start(), m.end());
                match slot {
                    Some(k) => best[k] = found,
                    None => best.push(found),
                }
            }
        };
        // Segment by segment, patterns in pack order (the order a regex set reported them in),
        // each tried where one of its literals occurs in the field the segment is part of.
        let tried = |field: &str| {
            let slot = field_slot(field);
            (0..self.patterns.len()).filter(move |&i| candidates.pattern_in(slot, i))
        };
        for seg in &parts.titles {
            for i in tried(seg.field) {
                if self.patterns[i].title != 0 {
                    consider(i, self.patterns[i].title, *seg);
                }
            }
        }
        if let Some(seg) = parts.body {
            for i in tried(seg.field) {
                if self.patterns[i].body != 0 {
                    consider(i, self.patterns[i].body, seg);
                }
            }
        }
        // Pack order: the reasons list their patterns in it.
        best.sort_unstable_by_key(|b| b.0);
        let mut scores: [LabelScore; LABELS] = std::array::from_fn(|_| LabelScore {
            score: 0,
            reason: String::new(),
            anchor: None,
        });
        let mut anchor_weight = [0i32; LABELS];
        for &(i, weight, seg, start, end) in &best {
            let p = &self.patterns[i];
            let s = &mut scores[p.label];
            s.score += weight;
            if weight > anchor_weight[p.label] {
                anchor_weight[p.label] = weight;
                s.anchor = Some((seg.field, seg.offset + start, seg.offset + end));
            }
        }
        for &(i, weight, seg, start, end) in &best {
            let p = &self.patterns[i];
            let s = &mut scores[p.label];
            if s.score < self.threshold {
                continue;
            }
            if !s.reason.is_empty() {
                s.reason.push(' ');
            }
            let is_body = parts.body.is_some_and(|b| {
                b.field == seg.field && b.offset == seg.offset && b.text.len() == seg.text.len()
            });
            let part = if is_body { "body" } else { "title" };
            s.reason.push_str(&format!(
                "{}({part}「{}」{weight:+})",
                p.name,
                quote(&seg.text[start..end])
            ));
        }
        scores
    }

    /// The category of a post, its score and why (`None` for 动态), from its scores.
    pub fn category(&self, scores: &[LabelScore; LABELS]) -> (&'static str, i32, Option<String>) {
        let mut chosen: Option<usize> = None;
        for (c, s) in scores.iter().enumerate().take(CATEGORY_ORDER.len() - 1) {
            // Ties go to the earlier category in priority order.
            if s.score >= self.threshold && chosen.is_none_or(|b| s.score > scores[b].score) {
                chosen = Some(c);
            }
        }
        match chosen {
            Some(c) => (
                CATEGORY_ORDER[c],
                scores[c].score,
                Some(scores[c].reason.clone()),
            ),
            None => (DEFAULT_CATEGORY, 0, None),
        }
    }

    /// The flags (`ad`, `off_topic`) whose score reaches the threshold, with their scores.
    pub fn flags<'s>(
        &self,
        scores: &'s [LabelScore; LABELS],
    ) -> impl Iterator<Item = (&'static str, &'s LabelScore)> + 's {
        let threshold = self.threshold;
        FLAG_LABELS
            .iter()
            .zip(&scores[CATEGORY_ORDER.len() - 1..])
            .filter(move |(_, s)| s.score >= threshold && s.anchor.is_some())
            .map(|(l, s)| (*l, s))
    }
}

fn quote(matched: &str) -> String {
    let mut q: String = matched.chars().take(REASON_QUOTE_CHARS).collect();
    if matched.chars().count() > REASON_QUOTE_CHARS {
        q.push('…');
    }
    q
}

/// One ad, off-topic, improper or ad-slot finding in a post's title or text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextHit {
    pub field: &'static str,
    /// `ad`, `off_topic`, `improper`, `ad_slot`.
    pub tag: &'static str,
    /// The matched term or text.
    pub term: String,
    /// The term with ±20 characters: `…前文【term】后文…`.
    pub context: String,
    /// What decided it: `lexicon ads`, `price tag`, `pattern price-for-cover (ad 3: …)`.
    pub reason: String,
}

/// What the labeller says of one post.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub category: &'static str,
    /// The category's score (0 for 动态).
    pub category_score: i32,
    /// The patterns that made the score: `notice-issued(title「发布通告」+3) …`; `None` for 动态.
    pub category_reason: Option<String>,
    /// Each (tag, term) once.
    pub hits: Vec<TextHit>,
}

impl Verdict {
    pub fn has(&self, tag: &str) -> bool {
        self.hits.iter().any(|h| h.tag == tag)
    }
}

/// The lexicons and the label pack compiled for labelling posts.
pub struct PostClassifier {
    labeller: PostLabeller,
    terms: Matcher,
}

impl PostClassifier {
    pub fn new(lex: &Lexicons) -> Result<PostClassifier, Error> {
        let price_signs: Vec<String> = PRICE_SIGNS.iter().map(|s| s.to_string()).collect();
        let price_phrases: Vec<String> = PRICE_PHRASES.iter().map(|s| s.to_string()).collect();
        let lexicons: [(Tag, &[String]); 7] = [
            (Tag::Ad, &lex.ads),
            (Tag::Allowed, &lex.ads_allow),
            (Tag::OffTopic, &lex.off_topic),
            (Tag::Improper, &lex.improper),
            (Tag::AdSlot, &lex.ad_slot_markers),
            (Tag::PriceSign, &price_signs),
            (Tag::PricePhrase, &price_phrases),
        ];
        let terms = Matcher::new(&lexicons)?;
        let all_terms: Vec<&str> = lexicons
            .iter()
            .flat_map(|(_, terms)| terms.iter().map(String::as_str))
            .collect();
        Ok(PostClassifier {
            labeller: PostLabeller::with_terms(&lex.post_labels, &lex.categories, &all_terms)?,
            terms,
        })
    }

    /// Labels a post from its title and text.
    pub fn classify(&self, title: Option<&str>, text: Option<&str>) -> Verdict {
        let mut hits: Vec<TextHit> = Vec::new();
        let mut push = |hit: TextHit| {
            if !hits.iter().any(|h| h.tag == hit.tag && h.term == hit.term) {
                hits.push(hit);
            }
        };
        let candidates = self.labeller.prefilter.scan(&[title, text]);
        for (f, (field, value)) in FIELDS.into_iter().zip([title, text]).enumerate() {
            // No term occurs in the field: the lexicon matcher would find nothing.
            let Some(value) = value.filter(|_| candidates.term_in(f)) else {
                continue;
            };
            for Hit {
                tag,
                term,
                start,
                end,
            } in self.terms.find(value)
            {
                // A price anchor is ad wording only when an amount follows it.
                let (tag, term, end, reason) = match tag {
                    Tag::PriceSign | Tag::PricePhrase => {
                        match price_end(value, end, tag == Tag::PricePhrase) {
                            Some(e) => (Tag::Ad, value[start..e].to_string(), e, "price tag"),
                            None => continue,
                        }
                    }
                    Tag::Ad => (tag, term, end, "lexicon ads"),
                    Tag::OffTopic => (tag, term, end, "lexicon off_topic"),
                    Tag::Improper => (tag, term, end, "lexicon improper"),
                    Tag::AdSlot => (tag, term, end, "lexicon ad_slot_markers"),
                    _ => (tag, term, end, "lexicon"),
                };
                push(TextHit {
                    field,
                    tag: tag.as_str(),
                    term,
                    context: context(value, start, end, CONTEXT_CHARS),
                    reason: reason.to_string(),
                });
            }
        }
        let parts = split_post(title, text);
        let scores = self.labeller.score_among(&parts, &candidates);
        for (flag, s) in self.labeller.flags(&scores) {
            let Some((field, start, end)) = s.anchor else {
                continue;
            };
            let value = if field == "title" { title } else { text }.unwrap_or_default();
            push(TextHit {
                field,
                tag: flag,
                term: value[start..end].to_string(),
                context: context(value, start, end, CONTEXT_CHARS),
                reason: format!("pattern {flag} {}: {}", s.score, s.reason),
            });
        }
        let (category, category_score, category_reason) = self.labeller.category(&scores);
        Verdict {
            category,
            category_score,
            category_reason,
            hits,
        }
    }
}

#[cfg(test)]
mod tests;
