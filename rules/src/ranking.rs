//! Rankings per platform and ranking group (部委, 省级, 计划单列市, 省会城市, 地市级, 区县 from the
//! org registry), by influence index at its published precision. Equal indices share a rank and
//! the next rank skips (competition ranking, "并列"); accounts of the same rank are listed by the
//! pinyin of their names (按首字汉语拼音升序).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::OnceLock;

use pinyin::ToPinyin;
use polars::prelude::*;

use crate::exprs::left_join_on;
use crate::{Error, Lang};

const PLACE_READINGS: &str = include_str!("../packs/pinyin_place_names.txt");

/// The ranking groups in publication order; other groups follow in name order.
pub const GROUPS: [&str; 6] = ["部委", "省级", "计划单列市", "省会城市", "地市级", "区县"];

/// The columns of the rankings table.
pub const RANKING_COLUMNS: [&str; 9] = [
    "rank",
    "tied",
    "platform",
    "level",
    "account_id",
    "account_name",
    "influence_index",
    "score",
    "tier",
];

fn place_readings() -> &'static Vec<(Vec<char>, Vec<String>)> {
    static READINGS: OnceLock<Vec<(Vec<char>, Vec<String>)>> = OnceLock::new();
    READINGS.get_or_init(|| {
        let mut v: Vec<(Vec<char>, Vec<String>)> = PLACE_READINGS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let (phrase, syllables) = l.split_once('\t')?;
                Some((
                    phrase.trim().chars().collect(),
                    syllables.split_whitespace().map(str::to_string).collect(),
                ))
            })
            .collect();
        v.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        v
    })
}

/// The sort key of a name by pinyin: one syllable per Chinese character (place names read as in
/// the place-name table), other characters lower-cased as they are.
pub fn pinyin_key(name: &str) -> Vec<String> {
    let mut key = Vec::new();
    pinyin_syllables(name, |syllable| key.push(syllable.to_string()));
    key
}

/// The syllables of [`pinyin_key`], each handed to `syllable` in order.
fn pinyin_syllables(name: &str, mut syllable: impl FnMut(&str)) {
    let chars: Vec<char> = name.chars().collect();
    let readings = place_readings_by_first_char();
    let mut i = 0;
    'outer: while i < chars.len() {
        // The longest place name starting here: only those starting with this character are
        // tried (every one of the table's, at every character, was most of ranking).
        for (phrase, syllables) in readings.get(&chars[i]).into_iter().flatten() {
            if chars[i..].starts_with(phrase) {
                syllables.iter().for_each(|s| syllable(s));
                i += phrase.len();
                continue 'outer;
            }
        }
        let c = chars[i];
        match c.to_pinyin() {
            Some(p) => syllable(p.plain()),
            None => syllable(&c.to_lowercase().collect::<String>()),
        }
        i += 1;
    }
}

/// A place name's characters and its syllables.
type PlaceReading = (Vec<char>, Vec<String>);

/// [`place_readings`] by their first character, longest first within each.
fn place_readings_by_first_char() -> &'static HashMap<char, Vec<PlaceReading>> {
    static BY_FIRST: OnceLock<HashMap<char, Vec<PlaceReading>>> = OnceLock::new();
    BY_FIRST.get_or_init(|| {
        let mut by_first: HashMap<char, Vec<PlaceReading>> = HashMap::new();
        for (phrase, syllables) in place_readings() {
            if let Some(first) = phrase.first() {
                by_first
                    .entry(*first)
                    .or_default()
                    .push((phrase.clone(), syllables.clone()));
            }
        }
        by_first
    })
}

/// [`pinyin_key`] as bytes that order as the key does: each syllable's UTF-8 bytes raised by one
/// (UTF-8 has no byte above 0xF4), then a 0 ending it, so a syllable that is a prefix of another
/// orders first, as in the list of syllables. One allocation per name instead of one per
/// character, and compared with one `memcmp`.
fn pinyin_sort_key(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() * 2);
    pinyin_syllables(name, |syllable| {
        key.extend(syllable.bytes().map(|b| b + 1));
        key.push(0);
    });
    key
}

/// Orders names by pinyin, then by the characters themselves (homophones stay apart).
pub fn pinyin_cmp(a: &str, b: &str) -> Ordering {
    pinyin_key(a).cmp(&pinyin_key(b)).then_with(|| a.cmp(b))
}

fn group_order(group: &str) -> (usize, &str) {
    (
        GROUPS
            .iter()
            .position(|g| *g == group)
            .unwrap_or(GROUPS.len()),
        group,
    )
}

fn platform_order(platform: &str) -> usize {
    ["wechat", "weibo", "app"]
        .iter()
        .position(|p| *p == platform)
        .unwrap_or(3)
}

struct Entry<'a> {
    row: usize,
    platform: &'a str,
    level: &'a str,
    name: &'a str,
    index: f64,
    /// [`platform_order`] and [`group_order`], found once per entry.
    order: (usize, (usize, &'a str)),
    key: Vec<u8>,
}

/// Ranks the scored accounts. `scores` has the scores table's columns, `indices` the indices
/// table's, `orgs` the registry (`org_id`, `group`); accounts without a group are ranked in an
/// "未分组" (ungrouped) list.
pub fn rank(
    scores: &DataFrame,
    indices: &DataFrame,
    orgs: &DataFrame,
    lang: Lang,
) -> Result<DataFrame, Error> {
    let ungrouped = lang.pick("未分组", "ungrouped");
    let groups = if orgs.height() > 0 && orgs.column("group").is_ok() {
        orgs.clone()
            .lazy()
            .select([col("org_id"), col("group").alias("level")])
    } else {
        DataFrame::new_infer_height(vec![
            Column::new("org_id".into(), Vec::<String>::new()),
            Column::new("level".into(), Vec::<String>::new()),
        ])?
        .lazy()
    };
    let joined = scores.clone().lazy().select([
        col("account_id"),
        col("platform"),
        col("account_name"),
        col("org_id"),
        col("score"),
        col("tier"),
        col("rubric"),
    ]);
    let joined = left_join_on(joined, groups, &["org_id"]);
    let joined = left_join_on(
        joined,
        indices.clone().lazy().select([
            col("account_id"),
            col("influence_index"),
            col("index_name"),
        ]),
        &["account_id"],
    )
    .with_column(col("level").fill_null(lit(ungrouped)))
    .collect()?;

    let platforms = joined.column("platform")?.str()?;
    let levels = joined.column("level")?.str()?;
    let names = joined.column("account_name")?.str()?;
    let index = joined.column("influence_index")?.f64()?;
    let mut entries: Vec<Entry> = (0..joined.height())
        .map(|row| {
            let name = names.get(row).unwrap_or_default();
            let (platform, level) = (
                platforms.get(row).unwrap_or_default(),
                levels.get(row).unwrap_or_default(),
            );
            Entry {
                row,
                platform,
                level,
                order: (platform_order(platform), group_order(level)),
                key: pinyin_sort_key(name),
                name,
                index: index.get(row).unwrap_or(0.0),
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        a.order
            .cmp(&b.order)
            .then_with(|| b.index.total_cmp(&a.index))
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.name.cmp(b.name))
    });

    // Competition ranking within each (platform, level): equal published values share a rank.
    let mut ranks = vec![0u32; entries.len()];
    let mut tied = vec![false; entries.len()];
    let mut start = 0;
    while start < entries.len() {
        let mut end = start;
        while end < entries.len()
            && entries[end].platform == entries[start].platform
            && entries[end].level == entries[start].level
        {
            end += 1;
        }
        let mut i = start;
        while i < end {
            let mut j = i;
            while j < end && entries[j].index == entries[i].index {
                j += 1;
            }
            for k in i..j {
                ranks[k] = (i - start + 1) as u32;
                tied[k] = j - i > 1;
            }
            i = j;
        }
        start = end;
    }

    let order: Vec<IdxSize> = entries.iter().map(|e| e.row as IdxSize).collect();
    let order = IdxCa::from_vec("order".into(), order);
    let ordered = joined.take(&order)?;
    let mut counts: HashMap<(&str, &str), usize> = HashMap::new();
    for e in &entries {
        *counts.entry((e.platform, e.level)).or_default() += 1;
    }
    let n = ordered.height();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("rank".into(), ranks),
            Column::new("tied".into(), tied),
            ordered.column("platform")?.clone(),
            ordered.column("level")?.clone(),
            ordered.column("account_id")?.clone(),
            ordered.column("account_name")?.clone(),
            ordered.column("influence_index")?.clone(),
            ordered.column("score")?.clone(),
            ordered.column("tier")?.clone(),
            Column::new(
                "group_size".into(),
                entries
                    .iter()
                    .map(|e| counts[&(e.platform, e.level)] as u32)
                    .collect::<Vec<_>>(),
            ),
            ordered.column("index_name")?.clone(),
            ordered.column("rubric")?.clone(),
        ],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte key orders every pair of names as the list of syllables does: a syllable that
    /// begins another (西安 xi·an against 先 xian), place names read from the table, Latin
    /// letters, digits, empty names and characters without a reading.
    #[test]
    fn byte_keys_order_names_as_their_syllables_do() {
        let names = [
            "西安",
            "先",
            "西",
            "长沙市人民政府",
            "长沙",
            "重庆市",
            "重庆",
            "Aa",
            "aA",
            "a",
            "ab",
            "",
            "1号",
            "１号",
            "北京",
            "北京市",
            "北",
            "😀",
            "乐山",
            "厦门",
            "单县",
            "Δ",
            "x",
            "xi",
            "xian",
            "xi an",
        ];
        for a in names {
            assert_eq!(
                pinyin_sort_key(a).iter().filter(|b| **b == 0).count(),
                pinyin_key(a).len(),
                "{a}"
            );
            for b in names {
                assert_eq!(
                    pinyin_sort_key(a).cmp(&pinyin_sort_key(b)),
                    pinyin_key(a).cmp(&pinyin_key(b)),
                    "{a} against {b}"
                );
            }
        }
        assert!(pinyin_sort_key("西安") < pinyin_sort_key("先"));
    }

    #[test]
    fn provinces_sort_by_the_pinyin_of_their_names() {
        let mut names = vec!["广东", "重庆", "北京", "安徽"];
        names.sort_by(|a, b| pinyin_cmp(a, b));
        assert_eq!(names, ["安徽", "北京", "重庆", "广东"]);
        assert_eq!(
            pinyin_key("长沙市人民政府"),
            ["chang", "sha", "shi", "ren", "min", "zheng", "fu"]
        );
        assert_eq!(pinyin_key("重要"), ["zhong", "yao"]);
    }

    fn scores(rows: &[(&str, &str, &str, &str)]) -> DataFrame {
        let col_of = |i: usize| {
            rows.iter()
                .map(|r| [r.0, r.1, r.2, r.3][i])
                .collect::<Vec<_>>()
        };
        let n = rows.len();
        DataFrame::new(
            n,
            vec![
                Column::new("account_id".into(), col_of(0)),
                Column::new("platform".into(), col_of(1)),
                Column::new("account_name".into(), col_of(2)),
                Column::new("org_id".into(), col_of(3)),
                Column::new("score".into(), vec![Some(80.0); n]),
                Column::new("tier".into(), vec![Some("优秀"); n]),
                Column::new("rubric".into(), vec!["cstc2020 2020.1"; n]),
            ],
        )
        .unwrap()
    }

    #[test]
    fn equal_indices_share_a_rank_and_the_next_rank_skips() {
        let s = scores(&[
            ("weibo:1", "weibo", "潍坊发布", "o1"),
            ("weibo:2", "weibo", "宜昌发布", "o1"),
            ("weibo:3", "weibo", "安庆发布", "o1"),
            ("weibo:4", "weibo", "北海发布", "o1"),
            ("weibo:5", "weibo", "省政府", "o2"),
        ]);
        let idx = DataFrame::new(
            5,
            vec![
                Column::new(
                    "account_id".into(),
                    ["weibo:1", "weibo:2", "weibo:3", "weibo:4", "weibo:5"],
                ),
                Column::new(
                    "influence_index".into(),
                    [500.25, 700.0, 800.5, 700.0, 10.0],
                ),
                Column::new("index_name".into(), ["BCI"; 5]),
            ],
        )
        .unwrap();
        let orgs = DataFrame::new(
            2,
            vec![
                Column::new("org_id".into(), ["o1", "o2"]),
                Column::new("group".into(), ["地市级", "省级"]),
            ],
        )
        .unwrap();
        let r = rank(&s, &idx, &orgs, Lang::Zh).unwrap();
        let names: Vec<&str> = r
            .column("account_name")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        let ranks: Vec<u32> = r
            .column("rank")
            .unwrap()
            .u32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let tied: Vec<bool> = r
            .column("tied")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        // 省级 before 地市级; within 地市级 宜昌 (yi) and 北海 (bei) tie for 2nd, listed by pinyin.
        assert_eq!(
            names,
            ["省政府", "安庆发布", "北海发布", "宜昌发布", "潍坊发布"]
        );
        assert_eq!(ranks, [1, 1, 2, 2, 4]);
        assert_eq!(tied, [false, false, true, true, false]);
    }
}
