//! Which label patterns can match a post and whether any lexicon term occurs in it, from one
//! pass of one Aho-Corasick automaton over the post's title and text.
//!
//! Most posts of a national store are news that no pattern matches. Running every pattern (a
//! regex set of Unicode classes and bounded repeats) and the lexicon automaton over each of them
//! was a quarter of a 200,000-account audit. Almost every pattern needs a literal: every match of
//! `(印发|出台)…《…》` contains 印发 or 出台. The automaton holds those literals and the lexicon
//! terms; a pattern is tried on a post only when one of its literals occurs in the post's title or
//! text (or when it has none), and the lexicon matcher runs on a field only when a term occurs in
//! it. Neither changes an answer: a pattern that matches a segment of a post contains one of its
//! literals, which then occurs in the field the segment is part of; a term found by the lexicon
//! matcher is an occurrence the automaton also reports (both fold ASCII case).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::Error;

/// A character class of at most this many characters counts as that many one-character
/// literals (`[，,]`); a larger one (`\d`, `[^。]`) gives none.
const CLASS_CHARS: usize = 8;
/// A pattern whose literal set would be larger than this is tried on every post.
const MAX_LITERALS: usize = 64;

/// Literals of which every match of `hir` contains at least one (`None`: no such set is known,
/// as for `.*` or `\d+`).
pub fn necessary_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let set = match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(literal) => Some(vec![literal.0.to_vec()]),
        HirKind::Class(Class::Unicode(class)) => small_class(
            class
                .ranges()
                .iter()
                .map(|r| (r.start() as u32, r.end() as u32)),
            |c| char::from_u32(c).map(|c| c.to_string().into_bytes()),
        ),
        HirKind::Class(Class::Bytes(class)) => small_class(
            class
                .ranges()
                .iter()
                .map(|r| (r.start() as u32, r.end() as u32)),
            |b| u8::try_from(b).ok().map(|b| vec![b]),
        ),
        // `啊{6,}`: six 啊 in a row, far rarer than one.
        HirKind::Repetition(rep) if rep.min >= 1 => {
            repeated_literals(&rep.sub, rep.min).or_else(|| necessary_literals(&rep.sub))
        }
        HirKind::Repetition(_) => None,
        HirKind::Capture(capture) => necessary_literals(&capture.sub),
        // Any one part's literals will do: the most selective is kept (longest shortest
        // literal, then fewest literals).
        HirKind::Concat(parts) => parts
            .iter()
            .filter_map(necessary_literals)
            .max_by_key(|set| {
                let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
                (shortest, usize::MAX - set.len())
            }),
        // Every branch must bring literals of its own.
        HirKind::Alternation(branches) => {
            let mut union = Vec::new();
            for branch in branches {
                union.extend(necessary_literals(branch)?);
            }
            Some(union)
        }
    }?;
    let usable = !set.is_empty() && set.len() <= MAX_LITERALS && set.iter().all(|l| !l.is_empty());
    usable.then_some(set)
}

/// The texts `times` matches in a row of `hir` can be, when every match of `hir` is one of a
/// few literals (a literal or a small class, captured or not): each sequence of `times` of
/// them (fewer in a row when that would be more than [`MAX_LITERALS`] sequences; any match of
/// the repetition contains them). `None` for anything else, or a single repeat.
fn repeated_literals(hir: &Hir, times: u32) -> Option<Vec<Vec<u8>>> {
    let members = match hir.kind() {
        HirKind::Capture(capture) => return repeated_literals(&capture.sub, times),
        HirKind::Literal(_) | HirKind::Class(_) => necessary_literals(hir)?,
        _ => return None,
    };
    let mut run = 1;
    while run < times && members.len().pow(run + 1) <= MAX_LITERALS {
        run += 1;
    }
    if run == 1 {
        return None;
    }
    let mut sequences: Vec<Vec<u8>> = vec![Vec::new()];
    for _ in 0..run {
        sequences = sequences
            .iter()
            .flat_map(|prefix| {
                members.iter().map(move |m| {
                    let mut s = prefix.clone();
                    s.extend_from_slice(m);
                    s
                })
            })
            .collect();
    }
    Some(sequences)
}

/// The members of a class of at most [`CLASS_CHARS`] members (given as inclusive ranges of code
/// points or bytes), each as a literal.
fn small_class(
    ranges: impl Iterator<Item = (u32, u32)> + Clone,
    literal: impl Fn(u32) -> Option<Vec<u8>>,
) -> Option<Vec<Vec<u8>>> {
    let members: u32 = ranges.clone().map(|(start, end)| end - start + 1).sum();
    if members as usize > CLASS_CHARS {
        return None;
    }
    ranges
        .flat_map(|(start, end)| start..=end)
        .map(literal)
        .collect()
}

/// The literals of a regex as `regex::Regex::new` would parse it.
fn regex_literals(pattern: &str) -> Result<Option<Vec<Vec<u8>>>, Error> {
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| Error::Config(format!("label pack: {e}")))?;
    Ok(necessary_literals(&hir))
}

/// What the automaton found in a post, field by field. Reused from post to post by a scan
/// ([`Prefilter::reset`]): a fresh one per post cost four allocations.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates {
    /// Words of pattern bits per field.
    words: usize,
    /// Per field, `words` words, one bit per pattern: it may match in that field.
    patterns: Vec<u64>,
    /// Per field: a lexicon term occurs in it.
    terms: Vec<bool>,
}

impl Candidates {
    /// Whether pattern `i` may match somewhere in field `field`.
    pub fn pattern_in(&self, field: usize, i: usize) -> bool {
        self.patterns
            .get(field * self.words + i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Whether pattern `i` may match somewhere in the post.
    #[cfg(test)]
    fn pattern(&self, i: usize) -> bool {
        (0..self.terms.len()).any(|f| self.pattern_in(f, i))
    }

    /// Whether a lexicon term occurs in field `field`.
    pub fn term_in(&self, field: usize) -> bool {
        self.terms.get(field).copied().unwrap_or(false)
    }
}

/// The automaton of every pattern's literals and every lexicon term.
pub struct Prefilter {
    automaton: AhoCorasick,
    /// Per literal of the automaton: the patterns it is a literal of.
    owners: Vec<Vec<usize>>,
    /// Per literal of the automaton: it is a lexicon term.
    is_term: Vec<bool>,
    /// The bits of the patterns with no literal: tried on every post.
    always: Vec<u64>,
}

impl Prefilter {
    /// The prefilter of `patterns` (regexes, in their order) and the lexicon `terms`.
    pub fn new<'a>(
        patterns: impl IntoIterator<Item = &'a str>,
        terms: impl IntoIterator<Item = &'a str>,
    ) -> Result<Prefilter, Error> {
        // The automaton's literals, each once, with the patterns it belongs to and whether it is
        // a lexicon term.
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut is_term: Vec<bool> = Vec::new();
        let mut index: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        let mut slot = |literal: Vec<u8>| -> usize {
            *index.entry(literal).or_insert_with_key(|l| {
                literals.push(l.clone());
                owners.push(Vec::new());
                is_term.push(false);
                literals.len() - 1
            })
        };
        let mut always_on = Vec::new();
        let mut owned: Vec<(usize, usize)> = Vec::new();
        let mut count = 0;
        for (i, pattern) in patterns.into_iter().enumerate() {
            count = i + 1;
            match regex_literals(pattern)? {
                Some(set) => owned.extend(set.into_iter().map(|literal| (slot(literal), i))),
                None => always_on.push(i),
            }
        }
        let terms: Vec<usize> = terms
            .into_iter()
            .filter(|t| !t.is_empty())
            .map(|t| slot(t.as_bytes().to_vec()))
            .collect();
        for (k, i) in owned {
            if !owners[k].contains(&i) {
                owners[k].push(i);
            }
        }
        for k in terms {
            is_term[k] = true;
        }
        let mut always = vec![0u64; count.div_ceil(64).max(1)];
        for i in always_on {
            always[i / 64] |= 1 << (i % 64);
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            // The lexicon matcher folds ASCII case: so must the automaton that stands in for it.
            // For a pattern's literal it only lets more posts through.
            .ascii_case_insensitive(true)
            .build(&literals)
            .map_err(|e| Error::Config(format!("label prefilter: {e}")))?;
        Ok(Prefilter {
            automaton,
            owners,
            is_term,
            always,
        })
    }

    /// Nothing found yet in `fields` fields: only the patterns without a literal may match.
    pub fn candidates(&self, fields: usize) -> Candidates {
        let mut found = Candidates {
            words: self.always.len(),
            patterns: Vec::new(),
            terms: Vec::new(),
        };
        self.reset(&mut found, fields);
        found
    }

    /// Makes `found` say nothing was found yet in `fields` fields, keeping its memory.
    pub fn reset(&self, found: &mut Candidates, fields: usize) {
        found.words = self.always.len();
        found.patterns.clear();
        for _ in 0..fields {
            found.patterns.extend_from_slice(&self.always);
        }
        found.terms.clear();
        found.terms.resize(fields, false);
    }

    /// Adds what `text`, a part of field `field`, holds to `found`.
    pub fn scan_into(&self, text: &str, field: usize, found: &mut Candidates) {
        let words = found.words;
        let bits = &mut found.patterns[field * words..(field + 1) * words];
        for m in self.automaton.find_overlapping_iter(text) {
            let k = m.pattern().as_usize();
            found.terms[field] |= self.is_term[k];
            for &i in &self.owners[k] {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
    }

    /// The patterns that may match in each of `fields`, and the fields with a term.
    #[cfg(test)]
    fn scan(&self, fields: &[Option<&str>]) -> Candidates {
        let mut found = self.candidates(fields.len());
        self.scan_reusing(fields, &mut found);
        found
    }

    /// [`Prefilter::scan`] into `found`, which is reset first.
    pub fn scan_reusing(&self, fields: &[Option<&str>], found: &mut Candidates) {
        self.reset(found, fields.len());
        for (f, field) in fields.iter().enumerate() {
            if let Some(text) = field {
                self.scan_into(text, f, found);
            }
        }
    }

    /// How many patterns are tried on every post (no literal found).
    #[cfg(test)]
    fn always_tried(&self) -> usize {
        self.always.iter().map(|w| w.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(pattern: &str) -> Option<Vec<String>> {
        regex_literals(pattern).unwrap().map(|set| {
            let mut v: Vec<String> = set
                .into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect();
            v.sort();
            v
        })
    }

    #[test]
    fn the_literals_every_match_contains() {
        assert_eq!(literals("解读"), Some(vec!["解读".into()]));
        assert_eq!(
            literals("^【?(政策解读|图解)"),
            Some(vec!["图解".into(), "政策解读".into()])
        );
        // The most selective part of a sequence.
        assert_eq!(
            literals("关于[^，。！？]{2,50}的(通知|通告)"),
            Some(vec!["关于".into()])
        );
        assert_eq!(literals("对此[，,]"), Some(vec!["对此".into()]));
        // A repeat of a literal or a small class: as many in a row as stay few.
        assert_eq!(
            literals("啊{6,}|(退){3}"),
            Some(vec!["啊".repeat(6), "退".repeat(3)])
        );
        let bangs = literals("[！!]{5,}").unwrap();
        assert_eq!(bangs.len(), 32);
        assert!(
            bangs.contains(&"！!！!！".to_string()) && bangs.iter().all(|b| b.chars().count() == 5)
        );
        assert_eq!(
            literals("[a-f]{3}").unwrap().len(),
            36,
            "six members: two in a row"
        );
        assert_eq!(literals("(ab|cd){2}"), Some(vec!["ab".into(), "cd".into()]));
        assert_eq!(literals("啊{1,}"), Some(vec!["啊".into()]));
        // A branch without a literal, an optional part, a wide class: no set.
        assert_eq!(
            literals("解读|\\d+元"),
            Some(vec!["元".into(), "解读".into()])
        );
        assert_eq!(literals("解读|\\d+"), None);
        assert_eq!(literals("(解读)?"), None);
        assert_eq!(literals("[^。]{1,3}"), None);
    }

    #[test]
    fn a_pattern_is_a_candidate_when_a_literal_occurs_and_terms_are_told_per_field() {
        let filter = Prefilter::new(["(发布|印发)[^。]{0,9}通知", "\\d+"], ["限时抢购"]).unwrap();
        assert_eq!(filter.always_tried(), 1);
        let found = filter.scan(&[Some("市政府印发的通知"), Some("限时抢购")]);
        assert!(found.pattern(0) && found.pattern(1));
        assert!(
            found.pattern_in(0, 0) && !found.pattern_in(1, 0),
            "per field"
        );
        assert!(!found.term_in(0) && found.term_in(1));
        let none = filter.scan(&[Some("我市召开会议"), None]);
        assert!(!none.pattern(0) && none.pattern(1));
        assert!(!none.term_in(0) && !none.term_in(1));
        // ASCII case folds, as in the lexicon matcher.
        let filter = Prefilter::new(["TMD"], ["App下载"]).unwrap();
        let found = filter.scan(&[Some("tmd，app下载")]);
        assert!(found.pattern(0) && found.term_in(0));
    }
}
