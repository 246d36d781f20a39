//! Lexicons (data under `packs/lexicons/`, embedded as defaults, replaceable or extendable by
//! files named in the config) and the Aho-Corasick matcher that finds all of them in one pass
//! over a text.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::Error;
use crate::labeller::LabelPack;

/// Parses a one-term-per-line list: `#` starts a comment, blank lines are skipped.
pub fn parse_terms(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Every lexicon the rules use.
#[derive(Debug, Clone)]
pub struct Lexicons {
    pub ads: Vec<String>,
    pub ads_allow: Vec<String>,
    pub commercial_domains: Vec<String>,
    pub ad_slot_markers: Vec<String>,
    pub off_topic: Vec<String>,
    pub improper: Vec<String>,
    pub comment_spam: Vec<String>,
    pub perfunctory: Vec<String>,
    /// (category, keyword): keywords that label a post outright (users' additions; the built-in
    /// labelling is the label pack).
    pub categories: Vec<(String, String)>,
    /// The weighted patterns for categories and the ad / off-topic flags
    /// (`packs/labels/post_labels.toml`).
    pub post_labels: LabelPack,
    pub menu_service: Vec<String>,
    pub menu_query: Vec<String>,
}

/// The names a config uses for the lexicons, with their embedded defaults.
pub const LEXICON_FILES: [(&str, &str); 12] = [
    ("ads", include_str!("../packs/lexicons/ads.txt")),
    ("ads_allow", include_str!("../packs/lexicons/ads_allow.txt")),
    (
        "commercial_domains",
        include_str!("../packs/lexicons/commercial_domains.txt"),
    ),
    (
        "ad_slot_markers",
        include_str!("../packs/lexicons/ad_slot_markers.txt"),
    ),
    ("off_topic", include_str!("../packs/lexicons/off_topic.txt")),
    ("improper", include_str!("../packs/lexicons/improper.txt")),
    (
        "comment_spam",
        include_str!("../packs/lexicons/comment_spam.txt"),
    ),
    (
        "perfunctory",
        include_str!("../packs/lexicons/perfunctory.txt"),
    ),
    (
        "categories",
        include_str!("../packs/lexicons/categories.txt"),
    ),
    (
        "menu_service",
        include_str!("../packs/lexicons/menu_service.txt"),
    ),
    (
        "menu_query",
        include_str!("../packs/lexicons/menu_query.txt"),
    ),
    (
        "post_labels",
        include_str!("../packs/labels/post_labels.toml"),
    ),
];

/// The post categories in priority order, which breaks ties between equal scores (a results post
/// mentions the consultation, an interpretation names the document it explains); a post reaching
/// none is `动态`.
pub const CATEGORY_ORDER: [&str; 6] = [
    "结果反馈",
    "征集调查",
    "政策解读",
    "回应关切",
    "政策文件",
    "动态",
];
pub const DEFAULT_CATEGORY: &str = "动态";

impl Default for Lexicons {
    fn default() -> Self {
        let mut lex = Lexicons {
            ads: vec![],
            ads_allow: vec![],
            commercial_domains: vec![],
            ad_slot_markers: vec![],
            off_topic: vec![],
            improper: vec![],
            comment_spam: vec![],
            perfunctory: vec![],
            categories: vec![],
            post_labels: LabelPack {
                threshold: 2,
                patterns: vec![],
            },
            menu_service: vec![],
            menu_query: vec![],
        };
        for (name, text) in LEXICON_FILES {
            lex.set(name, text, true, "built-in")
                .expect("built-in lexicons are valid (tested)");
        }
        lex
    }
}

impl Lexicons {
    /// Replaces (or extends) a lexicon with the terms of `text`.
    pub fn set(
        &mut self,
        name: &str,
        text: &str,
        replace: bool,
        source: &str,
    ) -> Result<(), Error> {
        if name == "post_labels" {
            if replace {
                self.post_labels = LabelPack::parse(text, source)?;
            } else {
                self.post_labels.extend(text, source)?;
            }
            return Ok(());
        }
        if name == "categories" {
            let mut entries = Vec::new();
            for (i, line) in parse_terms(text).iter().enumerate() {
                let Some((cat, kw)) = line.split_once('\t').or_else(|| line.split_once(',')) else {
                    return Err(Error::Config(format!(
                        "{source}: entry {}: expected `category<TAB>keyword`, got {line:?}",
                        i + 1
                    )));
                };
                let cat = cat.trim();
                if !CATEGORY_ORDER.contains(&cat) {
                    return Err(Error::Config(format!(
                        "{source}: unknown category {cat:?} (expected one of {})",
                        CATEGORY_ORDER.join(", ")
                    )));
                }
                entries.push((cat.to_string(), kw.trim().to_string()));
            }
            if replace {
                self.categories = entries;
            } else {
                self.categories.extend(entries);
            }
            return Ok(());
        }
        let terms = parse_terms(text);
        let list = match name {
            "ads" => &mut self.ads,
            "ads_allow" => &mut self.ads_allow,
            "commercial_domains" => &mut self.commercial_domains,
            "ad_slot_markers" => &mut self.ad_slot_markers,
            "off_topic" => &mut self.off_topic,
            "improper" => &mut self.improper,
            "comment_spam" => &mut self.comment_spam,
            "perfunctory" => &mut self.perfunctory,
            "menu_service" => &mut self.menu_service,
            "menu_query" => &mut self.menu_query,
            other => {
                let names: Vec<&str> = LEXICON_FILES.iter().map(|(n, _)| *n).collect();
                return Err(Error::Config(format!(
                    "unknown lexicon {other:?} (known: {})",
                    names.join(", ")
                )));
            }
        };
        if replace {
            *list = terms;
        } else {
            list.extend(terms);
        }
        Ok(())
    }
}

/// What a matched pattern means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    Ad,
    /// An allow-listed phrase: it consumes its span so an ad term inside it does not fire.
    Allowed,
    AdSlot,
    OffTopic,
    Improper,
    Spam,
    /// A currency sign that makes a price tag when digits follow (`¥99`).
    PriceSign,
    /// A sales phrase that makes a price tag when an amount in 元 follows (`仅需99元`).
    PricePhrase,
}

/// Anchors of price tags, found in the same pass as the lexicons.
pub const PRICE_SIGNS: [&str; 2] = ["¥", "￥"];
pub const PRICE_PHRASES: [&str; 5] = ["仅需", "只需", "低至", "原价", "秒杀价"];

/// Where a price tag that starts with an anchor ending at `from` ends: optional spaces, digits,
/// an optional decimal part, and for a phrase an optional space and 元.
pub fn price_end(text: &str, from: usize, needs_yuan: bool) -> Option<usize> {
    let rest = &text[from..];
    let trimmed = rest.trim_start_matches(' ');
    let mut end = from + (rest.len() - trimmed.len());
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(&text[end..]);
    if n == 0 {
        return None;
    }
    end += n;
    if text[end..].starts_with('.') && digits(&text[end + 1..]) > 0 {
        end += 1 + digits(&text[end + 1..]);
    }
    if needs_yuan {
        let after = &text[end..];
        let spaced = after.trim_start_matches(' ');
        if !spaced.starts_with('元') {
            return None;
        }
        end += after.len() - spaced.len() + '元'.len_utf8();
    }
    Some(end)
}

impl Tag {
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Ad => "ad",
            Tag::Allowed => "allowed",
            Tag::AdSlot => "ad_slot",
            Tag::OffTopic => "off_topic",
            Tag::Improper => "improper",
            Tag::Spam => "spam",
            Tag::PriceSign | Tag::PricePhrase => "price",
        }
    }
}

/// One match in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub tag: Tag,
    pub term: String,
    pub start: usize,
    pub end: usize,
}

/// Finds the terms of several lexicons in one leftmost-longest pass.
pub struct Matcher {
    automaton: AhoCorasick,
    patterns: Vec<(Tag, String)>,
    /// A SIMD search (Teddy) for any of the terms, every ASCII case spelt out, that tells most
    /// texts have none before the automaton reads them byte by byte. The automaton's own
    /// prefilter is given up on such lexicons: their terms begin with the commonest ideographs
    /// (中, 人, 国), and Chinese text starts a candidate every few characters. `None` for a
    /// lexicon too large for it.
    gate: Option<aho_corasick::packed::Searcher>,
}

/// Terms spelt out with every ASCII case at most this many times in all for a [`Matcher`]'s gate.
const GATE_PATTERNS: usize = 64;

/// Every ASCII-case spelling of the terms, `None` past [`GATE_PATTERNS`] spellings.
fn case_spellings<'a>(terms: impl Iterator<Item = &'a str>) -> Option<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for term in terms {
        let mut spellings: Vec<Vec<u8>> = vec![Vec::with_capacity(term.len())];
        for b in term.bytes() {
            if b.is_ascii_alphabetic() {
                let upper: Vec<Vec<u8>> = spellings
                    .iter()
                    .map(|s| [s.as_slice(), &[b.to_ascii_uppercase()]].concat())
                    .collect();
                spellings
                    .iter_mut()
                    .for_each(|s| s.push(b.to_ascii_lowercase()));
                spellings.extend(upper);
            } else {
                spellings.iter_mut().for_each(|s| s.push(b));
            }
            if out.len() + spellings.len() > GATE_PATTERNS {
                return None;
            }
        }
        out.extend(spellings);
    }
    Some(out)
}

impl Matcher {
    pub fn new(lexicons: &[(Tag, &[String])]) -> Result<Matcher, Error> {
        let patterns: Vec<(Tag, String)> = lexicons
            .iter()
            .flat_map(|(tag, terms)| terms.iter().map(move |t| (*tag, t.clone())))
            .collect();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(patterns.iter().map(|(_, t)| t.as_str()))
            .map_err(|e| Error::Config(format!("lexicon: {e}")))?;
        let gate = case_spellings(patterns.iter().map(|(_, t)| t.as_str()))
            .filter(|spellings| !spellings.is_empty() && spellings.iter().all(|s| !s.is_empty()))
            .and_then(|spellings| {
                aho_corasick::packed::Config::new()
                    .builder()
                    .extend(spellings)
                    .build()
            });
        Ok(Matcher {
            automaton,
            patterns,
            gate,
        })
    }

    /// Every non-overlapping match, allow-listed spans removed.
    pub fn find(&self, text: &str) -> Vec<Hit> {
        if self.gate.as_ref().is_some_and(|g| g.find(text).is_none()) {
            return Vec::new();
        }
        self.automaton
            .find_iter(text)
            .filter_map(|m| {
                let (tag, term) = &self.patterns[m.pattern().as_usize()];
                (*tag != Tag::Allowed).then(|| Hit {
                    tag: *tag,
                    term: term.clone(),
                    start: m.start(),
                    end: m.end(),
                })
            })
            .collect()
    }
}

/// The matched term with up to `radius` characters on each side: `…前文【term】后文…`.
pub fn context(text: &str, start: usize, end: usize, radius: usize) -> String {
    let before: String = {
        let chars: Vec<char> = text[..start].chars().rev().take(radius).collect();
        chars.into_iter().rev().collect()
    };
    let after: String = text[end..].chars().take(radius).collect();
    let lead = if text[..start].chars().count() > radius {
        "…"
    } else {
        ""
    };
    let tail = if text[end..].chars().count() > radius {
        "…"
    } else {
        ""
    };
    format!("{lead}{before}【{}】{after}{tail}", &text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_lexicons_load() {
        let lex = Lexicons::default();
        assert!(lex.ads.contains(&"限时抢购".to_string()));
        assert!(lex.ads_allow.contains(&"公益广告".to_string()));
        assert!(lex.categories.is_empty());
        assert!(
            lex.post_labels
                .patterns
                .iter()
                .any(|p| p.label == "政策解读" && p.regex.contains("一图"))
        );
    }

    /// The gate never hides a match the automaton finds: ASCII terms in any case, terms at the
    /// very start or end, short texts; a lexicon past the gate's size is searched without one.
    #[test]
    fn the_gate_lets_every_match_through() {
        let terms: Vec<String> = ["加V", "Vx号", "刷单", "中华人民共合国", "a"]
            .map(String::from)
            .to_vec();
        let gated = Matcher::new(&[(Tag::Spam, &terms)]).unwrap();
        assert!(gated.gate.is_some());
        let many: Vec<String> = (0..40)
            .map(|i| format!("term{i}"))
            .chain(terms.clone())
            .collect();
        let ungated = Matcher::new(&[(Tag::Spam, &many)]).unwrap();
        assert!(ungated.gate.is_none(), "2^4 spellings of each of 40 terms");
        let texts = [
            "加v了解",
            "请加V",
            "VX号",
            "vX号码",
            "刷单",
            "这是中华人民共合国的",
            "A",
            "b",
            "",
            "您好，已转交相关部门办理",
            "中华人民共和国",
        ];
        let plain = Matcher {
            gate: None,
            ..Matcher::new(&[(Tag::Spam, &terms)]).unwrap()
        };
        for text in texts {
            let found = |m: &Matcher| -> Vec<(usize, usize)> {
                m.find(text).iter().map(|h| (h.start, h.end)).collect()
            };
            assert_eq!(found(&gated), found(&plain), "{text}");
            let expected = !matches!(
                text,
                "b" | "" | "您好，已转交相关部门办理" | "中华人民共和国"
            );
            assert_eq!(!found(&gated).is_empty(), expected, "{text}");
        }
    }

    #[test]
    fn allow_listed_phrases_consume_the_ad_term_inside_them() {
        let mut lex = Lexicons::default();
        lex.set("ads", "广告", false, "test").unwrap();
        let m = Matcher::new(&[(Tag::Ad, &lex.ads), (Tag::Allowed, &lex.ads_allow)]).unwrap();
        assert!(m.find("【公益广告】文明出行").is_empty());
        let hits = m.find("本号承接广告，限时抢购");
        assert_eq!(
            hits.iter().map(|h| h.term.as_str()).collect::<Vec<_>>(),
            ["广告", "限时抢购"]
        );
    }

    #[test]
    fn price_tags_need_an_amount() {
        let t = "礼盒仅需 99.9 元，原价199元，¥59，低至元";
        let at = |needle: &str| t.find(needle).unwrap() + needle.len();
        assert_eq!(
            &t[t.find("仅需").unwrap()..price_end(t, at("仅需"), true).unwrap()],
            "仅需 99.9 元"
        );
        assert_eq!(
            &t[t.find("¥").unwrap()..price_end(t, at("¥"), false).unwrap()],
            "¥59"
        );
        assert_eq!(price_end(t, at("低至"), true), None);
    }

    #[test]
    fn context_keeps_twenty_characters_each_side() {
        let text = format!("{}限时抢购{}", "前".repeat(25), "后".repeat(25));
        let start = text.find("限时抢购").unwrap();
        let c = context(&text, start, start + "限时抢购".len(), 20);
        assert_eq!(
            c,
            format!("…{}【限时抢购】{}…", "前".repeat(20), "后".repeat(20))
        );
    }

    #[test]
    fn unknown_lexicons_and_categories_are_errors() {
        let mut lex = Lexicons::default();
        assert!(
            lex.set("nope", "x", true, "f")
                .unwrap_err()
                .to_string()
                .contains("unknown lexicon")
        );
        assert!(
            lex.set("categories", "八卦\t明星", true, "f")
                .unwrap_err()
                .to_string()
                .contains("unknown category")
        );
    }
}
