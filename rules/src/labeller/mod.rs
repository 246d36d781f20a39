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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::{Arc, Mutex};

use polars::prelude::PlRandomState;

use regex_automata::meta::{self, Regex};
use regex_automata::{Input, MatchKind};

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
    /// The regular expression as written.
    source: String,
    /// Searched with a cache of the scan's own ([`LabelScratch`]): `regex::Regex` shares its
    /// caches between threads through a pool, which the scan's second thread paid for on every
    /// search.
    regex: Regex,
}

/// Compiles a pattern as `regex::Regex::new` would (leftmost-first, Unicode, UTF-8), with room
/// for the lazy DFA: it gives up (and the search falls back to a far slower engine) when its
/// cache fills, and Unicode classes with bounded repeats need room.
fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(true)
                .nfa_size_limit(Some(64 << 20))
                .hybrid_cache_capacity(64 << 20),
        )
        .syntax(regex_automata::util::syntax::Config::new().utf8(true))
        .build(pattern)
        .map_err(|e| e.to_string())
}

/// A labeller's working memory for one thread: the patterns' search caches and the per-post
/// buffers, reused from post to post.
pub struct LabelScratch {
    caches: Vec<meta::Cache>,
    candidates: Candidates,
    /// Per matched pattern: (pattern, weight, segment, start, end) — see `score_among`.
    best: Vec<(usize, i32, usize, usize, usize)>,
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
        let compile = |name: &str, regex: &str| {
            compile_pattern(regex).map_err(|e| Error::Config(format!("label pack: {name:?}: {e}")))
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
                source: p.regex.clone(),
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
                source: regex::escape(keyword),
                regex: compile_pattern(&regex::escape(keyword))
                    .expect("an escaped literal is valid"),
            });
        }
        let prefilter = Prefilter::new(
            patterns.iter().map(|p| p.source.as_str()),
            terms.iter().copied(),
        )?;
        Ok(PostLabeller {
            threshold: pack.threshold,
            patterns,
            prefilter,
        })
    }

    /// A working memory for labelling posts on one thread.
    pub fn scratch(&self) -> LabelScratch {
        LabelScratch {
            caches: self
                .patterns
                .iter()
                .map(|p| p.regex.create_cache())
                .collect(),
            candidates: self.prefilter.candidates(FIELDS.len()),
            best: Vec::new(),
        }
    }

    /// Every label's score on a post.
    pub fn score<'a>(&self, parts: &PostParts<'a>) -> [LabelScore; LABELS] {
        let mut scratch = self.scratch();
        for seg in parts.titles.iter().chain(&parts.body) {
            self.prefilter
                .scan_into(seg.text, field_slot(seg.field), &mut scratch.candidates);
        }
        self.score_among(parts, &mut scratch)
    }

    /// Every label's score on a post, trying only the patterns the prefilter let through
    /// (`scratch.candidates`). A label's `reason` is written only when its score reaches the
    /// threshold: only those labels are ever reported (category and flags), and formatting the
    /// reasons of every weak match cost more than the matching on a national store.
    fn score_among(&self, parts: &PostParts, scratch: &mut LabelScratch) -> [LabelScore; LABELS] {
        let LabelScratch {
            caches,
            candidates,
            best,
        } = scratch;
        let candidates: &Candidates = candidates;
        // The segments: the titles, then the body.
        let segment = |k: usize| {
            if k < parts.titles.len() {
                parts.titles[k]
            } else {
                parts.body.expect("the body segment")
            }
        };
        // The best (largest in magnitude) contribution of each pattern that matched and where
        // it came from, as (pattern, weight, segment, start, end). Few patterns match a post: a
        // short list searched linearly, where a slot per pattern cost a fill of the whole table
        // per post.
        best.clear();
        let mut consider = |i: usize, weight: i32, k: usize| {
            let slot = best.iter().position(|b| b.0 == i);
            if slot.is_some_and(|j| best[j].1.abs() >= weight.abs()) {
                return;
            }
            let text = segment(k).text;
            if let Some(m) = self.patterns[i]
                .regex
                .search_with(&mut caches[i], &Input::new(text))
            {
                let found = (i, weight, k, m.start(), m.end());
                match slot {
                    Some(j) => best[j] = found,
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
        for (k, seg) in parts.titles.iter().enumerate() {
            for i in tried(seg.field) {
                if self.patterns[i].title != 0 {
                    consider(i, self.patterns[i].title, k);
                }
            }
        }
        if let Some(seg) = parts.body {
            let k = parts.titles.len();
            for i in tried(seg.field) {
                if self.patterns[i].body != 0 {
                    consider(i, self.patterns[i].body, k);
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
        for &(i, weight, k, start, end) in best.iter() {
            let p = &self.patterns[i];
            let s = &mut scores[p.label];
            s.score += weight;
            if weight > anchor_weight[p.label] {
                anchor_weight[p.label] = weight;
                let seg = segment(k);
                s.anchor = Some((seg.field, seg.offset + start, seg.offset + end));
            }
        }
        for &(i, weight, k, start, end) in best.iter() {
            let p = &self.patterns[i];
            let s = &mut scores[p.label];
            if s.score < self.threshold {
                continue;
            }
            if !s.reason.is_empty() {
                s.reason.push(' ');
            }
            let part = if k == parts.titles.len() {
                "body"
            } else {
                "title"
            };
            let _ = write!(
                s.reason,
                "{}({part}「{}」{weight:+})",
                p.name,
                quote(&segment(k).text[start..end])
            );
        }
        scores
    }

    /// The category of a post, its score and why (`None` for 动态), from its scores (the
    /// category's reason is moved out of them).
    pub fn category(
        &self,
        scores: &mut [LabelScore; LABELS],
    ) -> (&'static str, i32, Option<String>) {
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
                Some(std::mem::take(&mut scores[c].reason)),
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

/// The verdicts of the posts one thread has labelled, by their title and text: a verdict is a
/// pure function of the two, and a national store repeats texts (one notice reposted by many
/// accounts; the demo's templates), so a repeated post costs a hash lookup instead of the
/// automaton and the patterns.
///
/// A repeated text is usually the very same bytes: a Parquet column chunk keeps each distinct
/// value once (its dictionary), and the columns read from it point every repeat at that one
/// copy. So a post is first looked up by where its texts lie ([`TextPlace`]: a few machine words,
/// not the whole text hashed and compared), and only then by the texts themselves: hashed once
/// for this memo and the verdicts of earlier units ([`EarlierVerdicts`]) alike.
///
/// The index by text holds the texts' hashes, not the texts: growing, it hashed every text again
/// at each step (200,000 accounts: 1.5 % of the audit's CPU time).
///
/// Where texts seldom repeat, remembering them costs more than it saves: after
/// [`VerdictMemo::PROBE`] posts with fewer than one in [`VerdictMemo::MIN_REUSE`] repeated, the
/// memo stops remembering (the verdicts are the same either way). It holds at most
/// [`VerdictMemo::CAPACITY`] posts and then starts again.
pub struct VerdictMemo<'t> {
    verdicts: Vec<Arc<Verdict>>,
    /// Each verdict's title and text.
    texts: Vec<(Option<&'t str>, Option<&'t str>)>,
    /// Index into `verdicts` by the hash of the title and text ([`PostClassifier::text_hash`]);
    /// of two texts with one hash, the first.
    by_text: HashMap<u64, usize, BuildHasherDefault<HashIsKey>>,
    /// Index into `verdicts` by where the title and text lie.
    by_place: HashMap<[u64; 4], u32, PlRandomState>,
    looked_up: usize,
    reused: usize,
    /// Whether a post this memo has not seen is looked up among the verdicts the classifier
    /// made for earlier units ([`EarlierVerdicts`]; [`VerdictMemo::across_units`]).
    earlier_units: bool,
    /// Posts found there.
    from_earlier: usize,
    off: bool,
    /// The verdict of the last post labelled while the memo is off.
    last: Option<Arc<Verdict>>,
}

/// The verdicts labelled for the audit units run so far, shared by the threads that run them:
/// a unit's memo starts empty, yet the posts of one unit recur in the next (one notice reposted
/// in every province; the demo's templates). A unit's memo asks here for a post it has not seen,
/// before labelling it. The verdicts belong to the classifier that owns the store, so another
/// classifier (another audit in the process, other lexicons) never sees them.
///
/// One store for all the unit threads, not one per thread: each thread's own store labelled
/// again what the others had labelled, and on a national store the texts one thread sees
/// between two clears outgrow its share. Simulated over the 200,000-account demo's units
/// (2,159,209 texts looked up, 135,246 distinct), three threads with 65,536 posts each labelled
/// 867,649 of them; one store of the same 196,608 posts labels each distinct text once.
///
/// Split in [`EarlierVerdicts::SHARDS`] parts by the texts' hash, each behind its own lock, held
/// only to look up or add (never while labelling); a full part starts again.
struct EarlierVerdicts {
    shards: Box<[Mutex<EarlierShard>]>,
    /// Posts a part holds before it starts again.
    shard_capacity: usize,
}

#[derive(Default)]
struct EarlierShard {
    /// Per hash of (title, text): the posts with it and their verdicts.
    posts: HashMap<u64, Vec<EarlierPost>, PlRandomState>,
    len: usize,
}

type EarlierPost = (Option<Box<str>>, Option<Box<str>>, Arc<Verdict>);

impl Default for EarlierVerdicts {
    fn default() -> Self {
        EarlierVerdicts {
            shards: (0..Self::SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity: Self::CAPACITY / Self::SHARDS,
        }
    }
}

impl EarlierVerdicts {
    /// Posts kept at most (their texts copied: some 60 MB on the demo): what three unit threads
    /// kept when each had its own.
    const CAPACITY: usize = 3 << 16;
    const SHARDS: usize = 16;

    fn shard(&self, hash: u64) -> std::sync::MutexGuard<'_, EarlierShard> {
        // A thread that panicked while holding a part left it whole (a lookup or a push).
        self.shards[(hash >> 60) as usize % Self::SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The verdict remembered for (title, text), whose [`PostClassifier::text_hash`] is `hash`,
    /// or `label`'s, then remembered; and whether it was remembered.
    fn get_or_label(
        &self,
        hash: u64,
        title: Option<&str>,
        text: Option<&str>,
        label: impl FnOnce() -> Verdict,
    ) -> (Arc<Verdict>, bool) {
        let find = |shard: &EarlierShard| {
            shard.posts.get(&hash).and_then(|posts| {
                posts
                    .iter()
                    .find(|(t, x, _)| t.as_deref() == title && x.as_deref() == text)
                    .map(|(_, _, verdict)| Arc::clone(verdict))
            })
        };
        if let Some(verdict) = find(&self.shard(hash)) {
            return (verdict, true);
        }
        let verdict = Arc::new(label());
        let mut shard = self.shard(hash);
        // Another thread may have labelled it meanwhile: the same verdict, kept once.
        if find(&shard).is_none() {
            if shard.len >= self.shard_capacity {
                *shard = EarlierShard::default();
            }
            shard.posts.entry(hash).or_default().push((
                title.map(Box::from),
                text.map(Box::from),
                Arc::clone(&verdict),
            ));
            shard.len += 1;
        }
        (verdict, false)
    }

    /// Forgets every verdict, giving back the memory.
    fn forget(&self) {
        for shard in self.shards.iter() {
            *shard.lock().unwrap_or_else(|e| e.into_inner()) = EarlierShard::default();
        }
    }
}

/// Where a text lies, as a key: its length, and its address, or for a text of at most 12 bytes
/// (which Arrow's string views hold inline, at an address of each row's own) its bytes. Two
/// texts borrowed for the memo's whole life with equal places are equal: the length tells which
/// of the two the rest is, and memory that stays borrowed is not reused.
///
/// Two words: the bytes of a short text and its length in the last four, or the address of a
/// long one and its length with the top bit set. Half the size of a (length, 128 bits) pair,
/// so twice the posts' places fit in the cache (200,000 accounts: 27 million look-ups).
type TextPlace = [u64; 2];

/// The longest text whose place is its bytes.
const INLINE_TEXT: usize = 12;

/// The top bit of the second word: the place is an address.
const PLACE_IS_ADDRESS: u64 = 1 << 63;

fn text_place(text: Option<&str>) -> TextPlace {
    match text {
        None => [u64::MAX, u64::MAX],
        Some(t) if t.len() <= INLINE_TEXT => {
            let mut bytes = [0u8; 16];
            bytes[..t.len()].copy_from_slice(t.as_bytes());
            bytes[12..].copy_from_slice(&(t.len() as u32).to_le_bytes());
            let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
            [word(0), word(8)]
        }
        Some(t) => [
            t.as_ptr() as usize as u64,
            t.len() as u64 | PLACE_IS_ADDRESS,
        ],
    }
}

/// The place of a post's title and text, one key.
fn post_place(title: Option<&str>, text: Option<&str>) -> [u64; 4] {
    let ([a, b], [c, d]) = (text_place(title), text_place(text));
    [a, b, c, d]
}

impl Default for VerdictMemo<'_> {
    fn default() -> Self {
        VerdictMemo {
            verdicts: Vec::new(),
            texts: Vec::new(),
            by_text: HashMap::default(),
            by_place: HashMap::with_hasher(PlRandomState::default()),
            looked_up: 0,
            reused: 0,
            earlier_units: false,
            from_earlier: 0,
            off: false,
            last: None,
        }
    }
}

impl VerdictMemo<'_> {
    /// Posts remembered at most (a few MB of verdicts).
    pub const CAPACITY: usize = 1 << 16;
    /// Posts looked up before the memo judges whether it pays.
    pub const PROBE: usize = 1 << 12;
    /// The memo pays when at least one post in this many is a repeat.
    pub const MIN_REUSE: usize = 8;

    /// A memo that also asks the verdicts its classifier made for earlier audit units (on any
    /// thread), and adds its own to them.
    pub fn across_units() -> Self {
        VerdictMemo {
            earlier_units: true,
            ..VerdictMemo::default()
        }
    }

    /// Whether the memo still remembers posts.
    pub fn is_on(&self) -> bool {
        !self.off
    }

    fn forget(&mut self) {
        self.verdicts.clear();
        self.texts.clear();
        self.by_text.clear();
        self.by_place.clear();
    }
}

/// A hasher for keys that are hashes already ([`VerdictMemo`]'s index by text).
#[derive(Default)]
struct HashIsKey(u64);

impl std::hash::Hasher for HashIsKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is meant; any other key is still hashed, if poorly.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// The lexicons and the label pack compiled for labelling posts.
pub struct PostClassifier {
    labeller: PostLabeller,
    terms: Matcher,
    /// The verdicts labelled for earlier audit units ([`VerdictMemo::across_units`]).
    earlier: EarlierVerdicts,
    /// Hashes posts' titles and texts for the memos and `earlier` ([`PostClassifier::text_hash`]).
    text_hasher: PlRandomState,
}

impl PostClassifier {
    /// Labels each post's category and flags.
    pub fn new(lex: &Lexicons) -> Result<PostClassifier, Error> {
        PostClassifier::with_pack(lex, &lex.post_labels, &lex.categories)
    }

    /// Finds the wording hits and the flags (`ad`, `off_topic`) only: every post is labelled
    /// [`DEFAULT_CATEGORY`]. Its hits are those of [`PostClassifier::new`], since a flag's score
    /// sums its own patterns only; the category patterns (most of the pack) are never tried.
    pub fn without_categories(lex: &Lexicons) -> Result<PostClassifier, Error> {
        let flags = LabelPack {
            threshold: lex.post_labels.threshold,
            patterns: lex
                .post_labels
                .patterns
                .iter()
                .filter(|p| FLAG_LABELS.contains(&p.label.as_str()))
                .cloned()
                .collect(),
        };
        PostClassifier::with_pack(lex, &flags, &[])
    }

    fn with_pack(
        lex: &Lexicons,
        pack: &LabelPack,
        keywords: &[(String, String)],
    ) -> Result<PostClassifier, Error> {
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
            labeller: PostLabeller::with_terms(pack, keywords, &all_terms)?,
            terms,
            earlier: EarlierVerdicts::default(),
            text_hasher: PlRandomState::default(),
        })
    }

    /// This classifier remembering at most `posts` posts for earlier units (a test's store that
    /// fills quickly).
    #[cfg(test)]
    fn with_earlier_capacity(mut self, posts: usize) -> Self {
        self.earlier.shard_capacity = posts.div_ceil(EarlierVerdicts::SHARDS).max(1);
        self
    }

    /// Forgets the verdicts remembered for earlier audit units ([`VerdictMemo::across_units`]),
    /// giving back their memory: once the units have run, nothing asks for them.
    pub fn forget_earlier_units(&self) {
        self.earlier.forget();
    }

    /// A working memory for classifying posts on one thread ([`PostClassifier::classify_with`]).
    pub fn scratch(&self) -> LabelScratch {
        self.labeller.scratch()
    }

    /// Labels a post from its title and text.
    pub fn classify(&self, title: Option<&str>, text: Option<&str>) -> Verdict {
        self.classify_with(&mut self.scratch(), title, text)
    }

    /// The hash of a post's title and text by which memos find it ([`VerdictMemo`]).
    fn text_hash(&self, title: Option<&str>, text: Option<&str>) -> u64 {
        self.text_hasher.hash_one((title, text))
    }

    /// [`PostClassifier::classify_with`], labelling a (title, text) already in `memo` only once.
    /// The verdict is shared: a post labelled as an earlier one was gets that post's verdict
    /// itself, so a caller can tell repeats by the verdict's address (`Arc::as_ptr`) as long as
    /// it holds the verdicts it has seen.
    pub fn classify_memo<'m, 't>(
        &self,
        scratch: &mut LabelScratch,
        memo: &'m mut VerdictMemo<'t>,
        title: Option<&'t str>,
        text: Option<&'t str>,
    ) -> &'m Arc<Verdict> {
        if !memo.off {
            memo.looked_up += 1;
            if memo.looked_up == VerdictMemo::PROBE
                && memo.reused * VerdictMemo::MIN_REUSE < memo.looked_up
            {
                memo.off = true;
                memo.forget();
                memo.verdicts.shrink_to_fit();
                memo.texts = Vec::new();
                memo.by_text = HashMap::default();
                memo.by_place = HashMap::default();
            }
        }
        if memo.off {
            return memo
                .last
                .insert(Arc::new(self.classify_with(scratch, title, text)));
        }
        if memo.by_place.len() >= VerdictMemo::CAPACITY {
            memo.forget();
        }
        let place = post_place(title, text);
        if let Some(&known) = memo.by_place.get(&place) {
            memo.reused += 1;
            return &memo.verdicts[known as usize];
        }
        let hash = self.text_hash(title, text);
        let by_text = memo.by_text.entry(hash);
        let known = match by_text {
            Entry::Occupied(ref known) if memo.texts[*known.get()] == (title, text) => {
                memo.reused += 1;
                *known.get()
            }
            _ => {
                let mut label = || self.classify_with(scratch, title, text);
                let verdict = if memo.earlier_units {
                    let (verdict, remembered) = self.earlier.get_or_label(hash, title, text, label);
                    memo.from_earlier += usize::from(remembered);
                    memo.reused += usize::from(remembered);
                    verdict
                } else {
                    Arc::new(label())
                };
                let known = memo.verdicts.len();
                memo.verdicts.push(verdict);
                memo.texts.push((title, text));
                // Another text with this hash keeps its entry: this one is found by its place.
                if let Entry::Vacant(new) = by_text {
                    new.insert(known);
                }
                known
            }
        };
        // At most `CAPACITY` verdicts: an index fits in 32 bits.
        memo.by_place.insert(place, known as u32);
        &memo.verdicts[known]
    }

    /// [`PostClassifier::classify`] with a working memory of this classifier's, reused from post
    /// to post.
    pub fn classify_with(
        &self,
        scratch: &mut LabelScratch,
        title: Option<&str>,
        text: Option<&str>,
    ) -> Verdict {
        let mut hits: Vec<TextHit> = Vec::new();
        let mut push = |hit: TextHit| {
            if !hits.iter().any(|h| h.tag == hit.tag && h.term == hit.term) {
                hits.push(hit);
            }
        };
        self.labeller
            .prefilter
            .scan_reusing(&[title, text], &mut scratch.candidates);
        for (f, (field, value)) in FIELDS.into_iter().zip([title, text]).enumerate() {
            // No term occurs in the field: the lexicon matcher would find nothing.
            let Some(value) = value.filter(|_| scratch.candidates.term_in(f)) else {
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
        let mut scores = self.labeller.score_among(&parts, scratch);
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
        let (category, category_score, category_reason) = self.labeller.category(&mut scores);
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
