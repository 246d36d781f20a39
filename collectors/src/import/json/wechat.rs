//! WeChat's JSON: saved API responses (authorizer, articles, comments, menus, statistics) and
//! the exporters' article files (wechat-article-exporter, wechat_articles_spider).

use serde_json::Value as Json;

use super::{
    emit, for_each_json_record, head_text, is_json, is_json_lines, modified_ms, read_document,
};
use crate::Error;
use crate::import::{Format, RecordSink, SourceFile};
use crate::transform::wechat;

/// WeChat `component/api_get_authorizer_info` responses.
pub struct WechatAuthorizerInfo;

impl Format for WechatAuthorizerInfo {
    fn name(&self) -> &'static str {
        "wechat-api-authorizer"
    }
    fn description(&self) -> &'static str {
        "WeChat API component/api_get_authorizer_info response (nick_name, principal_name…)"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        is_json(file) && head_text(head).contains("\"authorizer_info\"")
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let (text, doc) = read_document(file, sink)?;
        emit(sink, wechat::authorizer_info(&doc), 1, &text);
        Ok(())
    }
}

/// wechat-article-exporter JSON (an array of articles with their comments) and
/// wechat_articles_spider dict-JSON (the same field family): one record per article.
pub struct WechatArticlesJson;

impl Format for WechatArticlesJson {
    fn name(&self) -> &'static str {
        "wechat-articles-json"
    }
    fn description(&self) -> &'static str {
        "wechat-article-exporter JSON array / wechat_articles_spider dicts (aid, appmsgid, itemidx, link…)"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        (is_json(file) || is_json_lines(file))
            && h.contains("\"appmsgid\"")
            && (h.contains("\"link\"") || h.contains("\"url\""))
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let account = wechat_account(file, sink).ok();
        if account.is_none() {
            sink.note(
                "WeChat articles without a gh_ id: accounts are wechat:biz_<__biz> from the \
                 article links"
                    .into(),
            );
        }
        let stem = file
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut stem_account_sent = false;
        for_each_json_record(file, sink, None, |sink, article, _, n, raw| {
            // Links without `__biz` (a stripped or short link): the exporter's account name,
            // else the file's name, stands for the account, said once per file.
            let fallback = match (&account, wechat::article_biz(article)) {
                (None, None) => {
                    let (name, from) = match article.get("_accountName").and_then(Json::as_str) {
                        Some(name) if !name.trim().is_empty() => {
                            (name.trim().to_string(), "_accountName")
                        }
                        _ => (stem.clone(), "the file name"),
                    };
                    let id = wechat::derived_name_account_id(&name);
                    sink.note(format!(
                        "articles whose links carry no __biz: account {id} derived from \
                         {from} {name:?} (pass --account to name it)"
                    ));
                    if from == "the file name" && !stem_account_sent {
                        stem_account_sent = true;
                        sink.derived(
                            &crate::schema::ACCOUNTS,
                            crate::transform::row(
                                &crate::schema::ACCOUNTS,
                                vec![
                                    ("account_id", crate::record::Value::Str(id.clone())),
                                    ("platform", crate::record::Value::Str("wechat".into())),
                                    ("name", crate::record::Value::Str(name)),
                                ],
                            ),
                        );
                    }
                    Some(id)
                }
                _ => None,
            };
            let account = account.as_deref().or(fallback.as_deref());
            let outs = sink.transform(|ctx| wechat::exported_article(article, ctx, account));
            emit(sink, outs, n, raw);
        })
    }
}

/// wechat_articles_spider's raw items of the mobile history page (`getmsg`): one message per
/// element (`comm_msg_info` + `app_msg_ext_info`), as a JSON array or JSON Lines.
pub struct WechatHistoryJson;

impl Format for WechatHistoryJson {
    fn name(&self) -> &'static str {
        "wechat-history-json"
    }
    fn description(&self) -> &'static str {
        "wechat_articles_spider getmsg items (comm_msg_info + app_msg_ext_info), JSON array or JSON Lines"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        (is_json(file) || is_json_lines(file)) && head_text(head).contains("\"comm_msg_info\"")
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let account = wechat_account(file, sink).ok();
        for_each_json_record(file, sink, None, |sink, item, _, n, raw| {
            emit(
                sink,
                wechat::history_message(item, account.as_deref()),
                n,
                raw,
            );
        })
    }
}

/// The WeChat account a saved response belongs to: `--account`, or a `gh_…` folder or file name
/// in its path (responses do not name their account).
pub(crate) fn wechat_account(file: &SourceFile, sink: &RecordSink<'_>) -> Result<String, Error> {
    if let Some(account) = &sink.options().account {
        return Ok(if account.contains(':') {
            account.clone()
        } else {
            format!("wechat:{account}")
        });
    }
    let shown = file.display();
    for part in std::path::Path::new(&shown).components().rev() {
        let part = part.as_os_str().to_string_lossy();
        if let Some(at) = part.find("gh_") {
            let id: String = part[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if id.len() > 3 {
                return Ok(format!("wechat:{id}"));
            }
        }
    }
    Err(Error::Input(format!(
        "{shown}: a saved WeChat API response does not name its account; put it in a folder \
         named after the account's gh_ id (e.g. gh_abc123/freepublish-1.json) or pass --account"
    )))
}

/// WeChat `freepublish/batchget` and `material/batchget_material` (news) responses.
pub struct WechatPublished;

impl Format for WechatPublished {
    fn name(&self) -> &'static str {
        "wechat-api-articles"
    }
    fn description(&self) -> &'static str {
        "WeChat API freepublish/batchget or material/batchget_material response (item[].content.news_item)"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        // An empty page (`"item":[]`) has no news_item; its item_count says what it is.
        is_json(file)
            && h.contains("\"item\"")
            && (h.contains("\"news_item\"") || h.contains("\"item_count\""))
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let account = wechat_account(file, sink)?;
        for_each_json_record(file, sink, Some("item"), |sink, item, _, n, raw| {
            emit(sink, wechat::news_group(item, &account), n, raw);
        })
    }
}

/// WeChat `comment/list` responses, saved as `…<msg_data_id>_<index>.json` (the request's
/// article: index as the API counts, from 0).
pub struct WechatComments;

impl Format for WechatComments {
    fn name(&self) -> &'static str {
        "wechat-api-comments"
    }
    fn description(&self) -> &'static str {
        "WeChat API comment/list response, file named …<msg_data_id>_<index>.json"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        // An empty page has no comment to recognise: its name and keys say what it is.
        let empty_page = file.display().contains("comment")
            && h.contains("\"comment\"")
            && h.contains("\"total\"");
        is_json(file) && (h.contains("\"user_comment_id\"") || empty_page)
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let account = wechat_account(file, sink)?;
        let stem = file
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let numbers: Vec<&str> = stem
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .collect();
        let post_id = match numbers.as_slice() {
            [.., msg, index] => match index.parse::<i64>() {
                Ok(i) => format!("{msg}_{}", i + 1),
                Err(_) => String::new(),
            },
            _ => String::new(),
        };
        if post_id.is_empty() {
            return Err(Error::Input(format!(
                "{}: name a saved comment/list response after its article, \
                 e.g. comments_<msg_data_id>_<index>.json",
                file.display()
            )));
        }
        for_each_json_record(file, sink, Some("comment"), |sink, c, _, n, raw| {
            let outs = sink.transform(|ctx| wechat::comment(c, &account, &post_id, ctx));
            emit(sink, outs, n, raw);
        })
    }
}

/// WeChat menu responses: `get_current_selfmenu_info` and `menu/get` (with conditional menus).
/// The snapshot time is the file's modification time, said in the import log.
pub struct WechatMenu;

impl Format for WechatMenu {
    fn name(&self) -> &'static str {
        "wechat-api-menu"
    }
    fn description(&self) -> &'static str {
        "WeChat API get_current_selfmenu_info or menu/get response"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        is_json(file)
            && (h.contains("\"selfmenu_info\"")
                || (h.contains("\"menu\"") && h.contains("\"button\"")))
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let account = wechat_account(file, sink)?;
        let (_, doc) = read_document(file, sink)?;
        let collected = modified_ms(file);
        sink.note("menu snapshot time taken from the file's modification time".into());
        let outs = wechat::menus(&doc, &account, collected);
        for (i, out) in outs.into_iter().enumerate() {
            emit(sink, vec![out], i as u64 + 1, "");
        }
        Ok(())
    }
}

/// WeChat `datacube/getarticlesummary` (daily figures) and `getarticletotal` (cumulative
/// `details`) responses. Statistics name articles only by `msgid` (`<msg_data_id>_<index>`), so
/// they are matched to articles already in the store and add their counters (reads, shares,
/// favourites); a statistic whose article is not in the store is quarantined with the reason —
/// import the articles first. Daily figures of one article in one file are summed.
pub struct WechatDatacube;

impl Format for WechatDatacube {
    fn name(&self) -> &'static str {
        "wechat-api-datacube"
    }
    fn description(&self) -> &'static str {
        "WeChat API datacube/getarticlesummary or getarticletotal response (list[].msgid), matched to stored articles"
    }
    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = head_text(head);
        // A day without statistics is `{"list":[]}`: the collector's datacube folder says it.
        is_json(file)
            && h.contains("\"list\"")
            && (h.contains("\"msgid\"") || file.display().contains("datacube"))
    }
    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        use polars::prelude::*;

        use crate::record::{FieldError, Value};
        use crate::schema::POSTS;
        use crate::transform::{JsonExt, row};

        let account = wechat_account(file, sink).ok();
        let (_, doc) = read_document(file, sink)?;
        let list: Vec<Json> = doc
            .get("list")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let msgids: Vec<String> = list.iter().filter_map(|r| r.text("msgid")).collect();
        // The stored articles these statistics name: (post_id → [(account, published_at)]).
        let mut stored: std::collections::HashMap<String, Vec<(String, i64)>> = Default::default();
        if !msgids.is_empty() {
            let wanted =
                DataFrame::new_infer_height(vec![Column::new("post_id".into(), msgids.clone())])
                    .map_err(|e| Error::polars(&file.path, e))?
                    .lazy()
                    .unique(None, UniqueKeepStrategy::First);
            let found = sink
                .store()
                .scan_table(&POSTS)?
                .select([
                    col("account_id"),
                    col("post_id"),
                    col("published_at").cast(DataType::Int64),
                ])
                .filter(col("account_id").str().starts_with(lit("wechat:")))
                .join(
                    wanted,
                    [col("post_id")],
                    [col("post_id")],
                    JoinArgs::new(JoinType::Inner),
                )
                .collect()
                .map_err(|e| Error::polars(&file.path, e))?;
            let ids = found.column("account_id").and_then(|c| c.str().cloned());
            let posts = found.column("post_id").and_then(|c| c.str().cloned());
            let times = found.column("published_at").and_then(|c| c.i64().cloned());
            if let (Ok(ids), Ok(posts), Ok(times)) = (ids, posts, times) {
                for ((a, p), t) in ids.iter().zip(posts.iter()).zip(times.iter()) {
                    if let (Some(a), Some(p), Some(t)) = (a, p, t) {
                        stored
                            .entry(p.to_string())
                            .or_default()
                            .push((a.to_string(), t));
                    }
                }
            }
        }
        let mut running: std::collections::HashMap<String, [i64; 3]> = Default::default();
        for (i, record) in list.iter().enumerate() {
            let number = i as u64 + 1;
            let raw = record.to_string();
            let Some(msgid) = record.text("msgid") else {
                sink.reject(
                    Some(&POSTS),
                    number,
                    FieldError::new("post_id", "missing `msgid`"),
                    &raw,
                );
                continue;
            };
            let candidates: Vec<&(String, i64)> = stored
                .get(&msgid)
                .map(|v| {
                    v.iter()
                        .filter(|(a, _)| account.as_ref().is_none_or(|acc| acc == a))
                        .collect()
                })
                .unwrap_or_default();
            let (account_id, published) = match candidates.as_slice() {
                [one] => (one.0.clone(), one.1),
                [] => {
                    sink.reject(
                        Some(&POSTS),
                        number,
                        FieldError::new(
                            "post_id",
                            format!("no article with msgid {msgid} in the store: import the articles first"),
                        ),
                        &raw,
                    );
                    continue;
                }
                _ => {
                    sink.reject(
                        Some(&POSTS),
                        number,
                        FieldError::new(
                            "post_id",
                            format!(
                                "msgid {msgid} names articles of several accounts: pass --account"
                            ),
                        ),
                        &raw,
                    );
                    continue;
                }
            };
            // Cumulative details: the latest stat_date; daily rows: summed over the file.
            let figures = match record.get("details").and_then(Json::as_array) {
                Some(details) => {
                    let latest = details
                        .iter()
                        .max_by_key(|d| d.text("stat_date").unwrap_or_default());
                    let pick = |k: &str| latest.and_then(|d| d.int(k)).unwrap_or(0);
                    [
                        pick("int_page_read_count"),
                        pick("share_count"),
                        pick("add_to_fav_count"),
                    ]
                }
                None => {
                    let sum = running.entry(msgid.clone()).or_insert([0; 3]);
                    for (slot, k) in sum.iter_mut().zip([
                        "int_page_read_count",
                        "share_count",
                        "add_to_fav_count",
                    ]) {
                        *slot += record.int(k).unwrap_or(0);
                    }
                    *sum
                }
            };
            let values = row(
                &POSTS,
                vec![
                    ("account_id", Value::Str(account_id)),
                    ("post_id", Value::Str(msgid)),
                    ("published_at", Value::Time(published)),
                    ("read_count", Value::Int(figures[0])),
                    ("share_count", Value::Int(figures[1])),
                    ("fav_count", Value::Int(figures[2])),
                ],
            );
            sink.record(&POSTS, number, values, &raw);
        }
        Ok(())
    }
}
