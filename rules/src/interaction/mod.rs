//! INT — 互动效果 (interaction): reply timeliness on the official working-day calendar, unanswered
//! messages, improper replies and comments, the interaction function itself, and feedback on
//! consultations.

pub mod improper_comment_visible;
pub mod improper_reply;
pub mod late_reply;
pub mod no_interaction;
pub mod survey_without_feedback;
pub mod unanswered;

use govmedia_collectors::time::{DAY_MS, days_to_date};
use polars::prelude::*;

use crate::context::{AuditContext, ParamValue};
use crate::engine::ParamSpec;
use crate::exprs::local_day_of;
use crate::facts::rows::rows_of;
use crate::lexicon::{Hit, Matcher, Tag, context};

pub const SLA_WORKING_DAYS: ParamSpec = ParamSpec {
    key: "INT.sla_working_days",
    default: ParamValue::Int(3),
    range: (1, 60),
    help: "working days within which a comment or message must be answered",
};

/// The reply deadline in working milliseconds.
pub fn sla_ms(ctx: &AuditContext) -> i64 {
    ctx.int_param(&SLA_WORKING_DAYS) * DAY_MS
}

/// The window's comments with their timing: `account_id, platform, post_id, comment_id,
/// created_ms, reply_ms (null when unanswered at as_of), content, reply_content, is_elected,
/// is_visible, latency_ms (working time to the reply), open_ms (working time from the comment to
/// the end of as_of)`.
pub fn timed_comments(ctx: &AuditContext) -> PolarsResult<LazyFrame> {
    // Collected once: six rules and the measurements read it.
    if let Some(df) = ctx.timed_comments.get() {
        return Ok(df.clone().lazy());
    }
    let df = timed_comments_frame(ctx)?;
    Ok(ctx.timed_comments.get_or_init(|| df).clone().lazy())
}

/// The timed comments in one pass over the unit's comments: each comment's account window is
/// looked up by the account's key (the store keeps an account's comments together), and its
/// working-time positions on the calendar's clock (`calendar::WorkingClock`). Comments of an
/// account the audit does not cover are left out. A Polars plan joining the day table twice cost
/// ten times as much on a national store.
fn timed_comments_frame(ctx: &AuditContext) -> PolarsResult<DataFrame> {
    let to_err = |e: crate::Error| PolarsError::ComputeError(e.to_string().into());
    let clock = ctx
        .calendar
        .clock(days_to_date(ctx.from_day as i32), ctx.as_of)
        .map_err(to_err)?;
    let as_of_end = ctx.as_of_end_ms();
    // The end of as_of as a position: all working time up to and including as_of.
    let as_of_position = clock.end_position();
    let comments = ctx.tables.comments.clone().collect()?;
    let keys = ctx.account_keys()?;
    let mut cursor = keys.cursor();
    let accounts = comments.column("account_id")?.str()?;
    let created = comments.column("created_at")?.cast(&DataType::Int64)?;
    let replied = comments.column("reply_at")?.cast(&DataType::Int64)?;
    let rows = accounts
        .iter()
        .zip(created.i64()?.iter())
        .zip(replied.i64()?.iter());
    let mut kept: Vec<IdxSize> = Vec::new();
    let mut account_rows: Vec<IdxSize> = Vec::new();
    let mut created_ms: Vec<i64> = Vec::new();
    let mut reply_ms: Vec<Option<i64>> = Vec::new();
    let mut latency_ms: Vec<Option<i64>> = Vec::new();
    let mut open_ms: Vec<Option<i64>> = Vec::new();
    for (i, ((account, created), replied)) in rows.enumerate() {
        let (Some(key), Some(created)) = (account.and_then(|a| cursor.find(a)), created) else {
            continue;
        };
        // In the account's window and before the end of as_of.
        if local_day_of(created) < keys.from_day(key) || created >= as_of_end {
            continue;
        }
        // A reply after as_of is not known at the monitoring time point.
        let reply = replied.filter(|&r| r < as_of_end);
        let position = clock.position_within(created);
        kept.push(i as IdxSize);
        account_rows.push(key as IdxSize);
        created_ms.push(created);
        reply_ms.push(reply);
        latency_ms.push(
            reply
                .and_then(|r| clock.position_within(r))
                .zip(position)
                .map(|(r, c)| r - c),
        );
        open_ms.push(position.map(|c| as_of_position - c));
    }
    let taken = rows_of(
        &comments.select([
            "account_id",
            "post_id",
            "comment_id",
            "content",
            "reply_content",
            "is_elected",
            "is_visible",
        ])?,
        &kept,
    )?;
    let platform = ctx
        .accounts()?
        .column("platform")?
        .take(&IdxCa::from_vec("rows".into(), account_rows))?;
    let column = |name: &str| taken.column(name).cloned();
    DataFrame::new_infer_height(vec![
        column("account_id")?,
        platform,
        column("post_id")?,
        column("comment_id")?,
        Column::new("created_ms".into(), created_ms),
        Column::new("reply_ms".into(), reply_ms),
        column("content")?,
        column("reply_content")?,
        column("is_elected")?,
        column("is_visible")?,
        Column::new("latency_ms".into(), latency_ms),
        Column::new("open_ms".into(), open_ms),
    ])
}

/// The texts of the window's comments, for the passes over them in Rust (the lexicon scan,
/// INT003's reused replies): `account_id, post_id, comment_id, created_ms, content,
/// reply_content, reply_ms`.
pub(crate) fn timed_comment_texts(ctx: &AuditContext) -> PolarsResult<DataFrame> {
    timed_comments(ctx)?
        .select([
            col("account_id"),
            col("post_id"),
            col("comment_id"),
            col("created_ms"),
            col("content"),
            col("reply_content"),
            col("reply_ms"),
        ])
        .collect()
}

/// Working milliseconds as hours, one decimal, for messages.
pub fn hours_text(ms: Expr) -> Expr {
    // Whole tenths, written as text: dividing a float by ten printed float noise
    // (`143.20000000000002`) depending on how the engine evaluated the division.
    let tenths = (ms.cast(DataType::Float64) / lit(360_000.0))
        .round(0, RoundMode::HalfToEven)
        .cast(DataType::Int64);
    concat_str(
        [
            tenths.clone().floor_div(lit(10i64)).cast(DataType::String),
            lit("."),
            (tenths % lit(10i64)).cast(DataType::String),
        ],
        "",
        false,
    )
}

/// Lexicon hits in comments and replies: `account_id, post_id, comment_id, created_ms, field,
/// tag, term, context` and `row` (the comment's row among the [`timed_comments`], where its other
/// columns are read), plus `perfunctory` rows for replies that are boilerplate only.
pub fn comment_hits(ctx: &AuditContext) -> PolarsResult<DataFrame> {
    let to_err = |e: crate::Error| PolarsError::ComputeError(e.to_string().into());
    let lex = &ctx.lexicons;
    let matcher = Matcher::new(&[
        (Tag::Improper, &lex.improper),
        (Tag::Spam, &lex.comment_spam),
    ])
    .map_err(to_err)?;
    let perfunctory: std::collections::HashSet<String> =
        lex.perfunctory.iter().map(|p| normalise_reply(p)).collect();
    // A reply with more word characters than the longest boilerplate phrase cannot be one: most
    // replies are told so after a few characters, without being normalised.
    let longest_phrase = perfunctory
        .iter()
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0);
    let df = timed_comment_texts(ctx)?;
    let account = df.column("account_id")?.str()?;
    let post = df.column("post_id")?.str()?;
    let comment = df.column("comment_id")?.str()?;
    let created = df.column("created_ms")?.i64()?;
    let content = df.column("content")?.str()?;
    let reply = df.column("reply_content")?.str()?;
    let reply_ms = df.column("reply_ms")?.i64()?;
    let mut rows: [Vec<String>; 6] = Default::default();
    let mut at: Vec<i64> = Vec::new();
    let mut tags: Vec<&'static str> = Vec::new();
    let mut hit_rows: Vec<IdxSize> = Vec::new();
    // The lexicon hits of each distinct comment text met in the unit: comments repeat (the same
    // question to many accounts). Replies do not (nearly all distinct, and long): remembering
    // them too cost more in hashing than the scan it saved.
    let mut content_hits: PlHashMap<&str, Vec<Hit>> = PlHashMap::default();
    // The texts read in order (`ChunkedArray::get` searched the chunks for every cell); the ids
    // of the few rows with a hit are looked up by row.
    let texts = content.iter().zip(reply.iter().zip(reply_ms.iter()));
    for (i, (content, (reply, reply_ms))) in texts.enumerate() {
        let mut push = |field: &str, tag: &'static str, term: &str, ctx_text: String| {
            rows[0].push(account.get(i).unwrap_or_default().to_string());
            rows[1].push(post.get(i).unwrap_or_default().to_string());
            rows[2].push(comment.get(i).unwrap_or_default().to_string());
            rows[3].push(field.to_string());
            rows[4].push(term.to_string());
            rows[5].push(ctx_text);
            at.push(created.get(i).unwrap_or(0));
            tags.push(tag);
            hit_rows.push(i as IdxSize);
        };
        if let Some(text) = content {
            let hits = content_hits
                .entry(text)
                .or_insert_with(|| matcher.find(text));
            for h in hits.iter() {
                push(
                    "content",
                    h.tag.as_str(),
                    &h.term,
                    context(text, h.start, h.end, 20),
                );
            }
        }
        if let (Some(text), Some(_)) = (reply, reply_ms) {
            for h in matcher
                .find(text)
                .into_iter()
                .filter(|h| h.tag == Tag::Improper)
            {
                push(
                    "reply",
                    h.tag.as_str(),
                    &h.term,
                    context(text, h.start, h.end, 20),
                );
            }
            if word_chars_at_most(text, longest_phrase)
                && perfunctory.contains(&normalise_reply(text))
            {
                push("reply", "perfunctory", text.trim(), text.trim().to_string());
            }
        }
    }
    let [accounts, posts, comments, fields, terms, contexts] = rows;
    DataFrame::new_infer_height(vec![
        Column::new("account_id".into(), accounts),
        Column::new("post_id".into(), posts),
        Column::new("comment_id".into(), comments),
        Column::new("created_ms".into(), at),
        Column::new("field".into(), fields),
        Column::new("tag".into(), tags),
        Column::new("term".into(), terms),
        Column::new("context".into(), contexts),
        Column::new("row".into(), hit_rows),
    ])
}

/// A reply reduced to its words: punctuation, symbols and spaces removed.
pub fn normalise_reply(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalise_reply_into(text, &mut out);
    out
}

/// [`normalise_reply`] into `out` (cleared first): a pass over every reply reuses one buffer.
pub fn normalise_reply_into(text: &str, out: &mut String) {
    out.clear();
    // Replies are ASCII and CJK ideographs almost always: those take a table-free path (the
    // Unicode tables cost most of the comment scan); a reply with any other character is done
    // again the general way. One pass over the bytes: a run of kept bytes (lowercase letters,
    // digits, ideographs) is copied at once, where copying character by character was most of
    // INT003.
    let bytes = text.as_bytes();
    let (mut at, mut run) = (0, 0);
    while at < bytes.len() {
        let byte = bytes[at];
        // U+4E00..=U+9FFF: lead byte E4 (second byte B8 or above) to E9, three bytes.
        let ideograph = matches!(byte, 0xE5..=0xE9) || (byte == 0xE4 && bytes[at + 1] >= 0xB8);
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
            at += 1;
            continue;
        }
        if ideograph {
            at += 3;
            continue;
        }
        out.push_str(&text[run..at]);
        if byte.is_ascii() {
            if byte.is_ascii_uppercase() {
                out.push(byte.to_ascii_lowercase() as char);
            }
            at += 1;
        } else {
            let c = text[at..].chars().next().expect("a character starts here");
            if !is_common_cjk_punctuation(c) {
                out.clear();
                let kept: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
                out.push_str(&kept.to_lowercase());
                return;
            }
            at += c.len_utf8();
        }
        run = at;
    }
    out.push_str(&text[run..]);
}

/// Whether `text` has at most `limit` alphanumeric characters: [`normalise_reply`] keeps each of
/// them as one character or more (lowercasing never removes one), so a text with more cannot
/// normalise to a phrase of `limit` characters. Stops counting past the limit.
fn word_chars_at_most(text: &str, limit: usize) -> bool {
    // CJK ideographs are alphanumeric and Chinese punctuation is not: both checked first, the
    // Unicode tables cost more (the full-width comma took most of them).
    let word = |c: char| {
        c.is_ascii_alphanumeric()
            || ('\u{4E00}'..='\u{9FFF}').contains(&c)
            || (!c.is_ascii() && !is_common_cjk_punctuation(c) && c.is_alphanumeric())
    };
    text.chars().filter(|c| word(*c)).nth(limit).is_none()
}

/// Punctuation common in Chinese text (none of it alphanumeric): a `match`, where searching a
/// string of them for every character cost a fifth of INT003.
fn is_common_cjk_punctuation(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '！'
            | '？'
            | '、'
            | '；'
            | '：'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '（'
            | '）'
            | '《'
            | '》'
            | '【'
            | '】'
            | '…'
            | '—'
            | '·'
            | '～'
            | '「'
            | '」'
            | '『'
            | '』'
            | '〔'
            | '〕'
            | '\u{3000}'
    )
}

#[cfg(test)]
mod tests;
