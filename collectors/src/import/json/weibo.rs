//! Weibo's JSON: saved API responses (timeline, comments, users) and weibo-crawler's `<uid>.json`.

use serde_json::Value as Json;

use super::{emit, for_each_json_record, head_text, is_json, read_document};
use crate::Error;
use crate::import::{Format, RecordSink, SourceFile};
use crate::transform::{Out, weibo};

/// Weibo `statuses/user_timeline` responses.
pub struct WeiboTimeline;

impl Format for WeiboTimeline {
    fn name(&self) -> &'static str {
        "weibo-api-timeline"
    }
    fn description(&self) -> &'static str {
        "Weibo API statuses/user_timeline response ({statuses:[…], total_number})"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        is_json(file) && h.contains("\"statuses\"")
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let mut owner: Option<String> = None;
        for_each_json_record(file, sink, Some("statuses"), |sink, status, doc, n, raw| {
            if owner.is_none() {
                owner = doc
                    .and_then(|d| d.get("statuses"))
                    .and_then(Json::as_array)
                    .and_then(|list| weibo::timeline_owner(list));
            }
            emit(sink, weibo::status(status, owner.as_deref()), n, raw);
        })
    }
}

/// Weibo `comments/show` responses.
pub struct WeiboComments;

impl Format for WeiboComments {
    fn name(&self) -> &'static str {
        "weibo-api-comments"
    }
    fn description(&self) -> &'static str {
        "Weibo API comments/show response ({comments:[…], total_number})"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        is_json(file)
            && h.trim_start_matches('\u{feff}')
                .trim_start()
                .starts_with('{')
            && h.contains("\"comments\"")
            // An empty page has no status to show, only its total.
            && (h.contains("\"status\"") || h.contains("\"total_number\""))
            && !h.contains("\"statuses\"")
            && !h.contains("\"appmsgid\"")
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        for_each_json_record(file, sink, Some("comments"), |sink, comment, _, n, raw| {
            let outs = sink.transform(|ctx| weibo::comment(comment, ctx));
            emit(sink, outs, n, raw);
        })
    }
}

/// Weibo `users/show` responses (one user per file, or an array of them).
pub struct WeiboUser;

impl Format for WeiboUser {
    fn name(&self) -> &'static str {
        "weibo-api-user"
    }
    fn description(&self) -> &'static str {
        "Weibo API users/show response (screen_name, followers_count, verified_reason…)"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        is_json(file)
            && h.contains("\"screen_name\"")
            && (h.contains("\"followers_count\"") || h.contains("\"verified_type\""))
            && !h.contains("\"statuses\"")
            && !h.contains("\"weibo\"")
            && !h.contains("\"comments\"")
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let (_, doc) = read_document(file, sink)?;
        let users: Vec<&Json> = match &doc {
            Json::Array(list) => list.iter().collect(),
            other => vec![other],
        };
        for (i, user) in users.into_iter().enumerate() {
            let outs = vec![Out::from_result(
                &crate::schema::ACCOUNTS,
                weibo::account(user),
            )];
            emit(sink, outs, i as u64 + 1, &user.to_string());
        }
        Ok(())
    }
}

/// dataabc/weibo-crawler `<uid>.json`: `{user:{…}, weibo:[…]}`.
pub struct WeiboCrawlerJson;

impl Format for WeiboCrawlerJson {
    fn name(&self) -> &'static str {
        "weibo-crawler-json"
    }
    fn description(&self) -> &'static str {
        "dataabc/weibo-crawler or dataabc/weiboSpider <uid>.json ({user:{…}, weibo:[…]})"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        is_json(file) && h.contains("\"weibo\"") && h.contains("\"user\"")
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        // The owner: the user object when the document parses, else the file name (<uid>.json).
        let stem_uid = file
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
        let mut user_done = false;
        for_each_json_record(file, sink, Some("weibo"), |sink, post, doc, n, raw| {
            let user = doc.and_then(|d| d.get("user"));
            if !user_done && let Some(user) = user {
                user_done = true;
                let outs = vec![Out::from_result(
                    &crate::schema::ACCOUNTS,
                    weibo::account(user),
                )];
                emit(sink, outs, 0, &user.to_string());
            }
            let owner = user
                .and_then(|u| {
                    use crate::transform::JsonExt;
                    u.text("id")
                })
                .or_else(|| stem_uid.clone());
            emit(sink, weibo::status(post, owner.as_deref()), n, raw);
        })
    }
}
