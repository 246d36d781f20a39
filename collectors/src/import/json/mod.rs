//! JSON archives: saved API responses and exporters' JSON files. Each format names the list of
//! records in the document; a record is quarantined on its own (numbered from 1 in the list),
//! and a truncated or broken file keeps every record before the break, quarantining the rest
//! with the reason.

//!
//! One file per source (`wechat.rs`, `weibo.rs`, `app.rs`); this file reads the documents they
//! share: decoding, the record list (arrays, JSON Lines, salvage of a truncated file).

mod app;
mod wechat;
mod weibo;

use std::io::Read;

use serde_json::Value as Json;

use super::{RecordSink, SourceFile};
use crate::Error;
use crate::transform::Out;

pub use app::{AppEndpointJson, AppStoreLookup};
pub(crate) use wechat::wechat_account;
pub use wechat::{
    WechatArticlesJson, WechatAuthorizerInfo, WechatComments, WechatDatacube, WechatHistoryJson,
    WechatMenu, WechatPublished,
};
pub use weibo::{WeiboComments, WeiboCrawlerJson, WeiboTimeline, WeiboUser};

/// Largest JSON file read whole; larger archives are JSON Lines (canonical) or split files.
const MAX_JSON_BYTES: u64 = 1 << 30;

/// Stands, in a decoded JSON document, for bytes that are not text in the file's encoding: a
/// record holding it is quarantined with the reason, never imported with `�`.
const BAD_BYTES: &str = "\u{E000}govmedia-bad-bytes\u{E000}";

/// The quarantine reason of a record holding bytes that were not text.
pub(super) fn bad_bytes_reason(raw: &str) -> Option<String> {
    raw.contains(BAD_BYTES).then(|| {
        "bytes that are not valid text in the file's encoding (a file mixing encodings, or a \
         damaged one): the record is not imported"
            .to_string()
    })
}

/// Reads the file's text (decoded in its encoding — `--encoding`, else sniffed — BOM removed),
/// refusing files over the cap. Bytes that are not text in that encoding become [`BAD_BYTES`].
fn read_text(file: &SourceFile, sink: &RecordSink<'_>) -> Result<String, Error> {
    let size = std::fs::metadata(&file.path)
        .map_err(|e| Error::io(&file.path, e))?
        .len();
    if size > MAX_JSON_BYTES {
        return Err(Error::Input(format!(
            "{}: {size} bytes is over the {MAX_JSON_BYTES}-byte cap for one JSON document",
            file.display()
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    std::fs::File::open(&file.path)
        .and_then(|f| super::read_once::ReadOnceFile::new(f).read_to_end(&mut bytes))
        .map_err(|e| Error::io(&file.path, e))?;
    let encoding = match sink.options().encoding.as_deref() {
        Some(name) => super::quirks::encoding_by_name(name).ok_or_else(|| {
            Error::Input(format!(
                "unknown encoding {name:?} (expected e.g. utf-8, gbk, gb18030)"
            ))
        })?,
        None => super::quirks::sniff_encoding(&bytes[..bytes.len().min(1 << 16)]),
    };
    let body = match encoding_rs::Encoding::for_bom(&bytes) {
        Some((_, bom)) => &bytes[bom..],
        None => &bytes[..],
    };
    if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(body) {
        return Ok(text.into_owned());
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(body.len() + 64);
    let mut rest = body;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        rest = &rest[read..];
        match result {
            encoding_rs::DecoderResult::InputEmpty => break,
            encoding_rs::DecoderResult::OutputFull => text.reserve(rest.len() * 3 + 64),
            encoding_rs::DecoderResult::Malformed(_, _) => text.push_str(BAD_BYTES),
        }
    }
    Ok(text)
}

/// Reads a whole JSON document (a single response such as users/show or a menu).
pub(super) fn read_document(
    file: &SourceFile,
    sink: &RecordSink<'_>,
) -> Result<(String, Json), Error> {
    let text = read_text(file, sink)?;
    if text.contains(BAD_BYTES) {
        return Err(Error::Input(format!(
            "{}: bytes that are not valid text in the file's encoding (a file mixing encodings, \
             or a damaged one); convert it, or pass --encoding",
            file.display()
        )));
    }
    let doc = serde_json::from_str(&text)
        .map_err(|e| Error::Input(format!("{}: invalid JSON: {e}", file.display())))?;
    Ok((text, doc))
}

/// The complete elements of the array that opens at `start` (the byte after `[`), and where
/// the scan stopped when the array does not close (a truncated file).
fn scan_array(text: &str, start: usize) -> (Vec<&str>, Option<usize>) {
    let bytes = text.as_bytes();
    let mut elements = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut element_start: Option<usize> = None;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                element_start.get_or_insert(i);
            }
            b'{' | b'[' => {
                element_start.get_or_insert(i);
                depth += 1;
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0
                    && let Some(s) = element_start.take()
                {
                    elements.push(&text[s..=i]);
                }
            }
            b']' => return (elements, None),
            b',' if depth == 0 => {
                if let Some(s) = element_start.take() {
                    elements.push(text[s..i].trim());
                }
            }
            b if b.is_ascii_whitespace() => {}
            _ => {
                element_start.get_or_insert(i);
            }
        }
    }
    (elements, Some(element_start.unwrap_or(bytes.len())))
}

/// The complete elements of the first array in `text`, for the fuzz tests.
#[cfg(test)]
pub(crate) fn scan_array_for_fuzz(text: &str) -> Vec<&str> {
    array_start(text, None).map_or_else(Vec::new, |start| scan_array(text, start).0)
}

/// Where the array under `key` opens (after its `[`), searching the raw text: for salvaging a
/// document that does not parse.
fn array_start(text: &str, key: Option<&str>) -> Option<usize> {
    let from = match key {
        None => 0,
        Some(k) => text.find(&format!("\"{k}\""))? + k.len() + 2,
    };
    let open = text[from..].find('[')? + from;
    Some(open + 1)
}

/// Runs `each` on every record of the list under `key` (the top-level array when `None`),
/// quarantining what cannot be parsed. `doc` is the whole document when it parsed.
pub(crate) fn for_each_json_record(
    file: &SourceFile,
    sink: &mut RecordSink<'_>,
    key: Option<&str>,
    mut each: impl FnMut(&mut RecordSink<'_>, &Json, Option<&Json>, u64, &str),
) -> Result<(), Error> {
    let text = read_text(file, sink)?;
    if key.is_none() && text.trim_start().starts_with('{') {
        // JSON Lines (or one record): a record per line.
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let number = i as u64 + 1;
            if let Some(reason) = bad_bytes_reason(line) {
                sink.reject_record(None, number, reason, line);
                continue;
            }
            match serde_json::from_str::<Json>(line) {
                Ok(record) => each(sink, &record, None, number, line),
                Err(e) => {
                    sink.reject_record(None, number, format!("invalid JSON record: {e}"), line)
                }
            }
        }
        return Ok(());
    }
    match serde_json::from_str::<Json>(&text) {
        Ok(doc) => {
            let list = match key {
                None => doc.as_array(),
                Some(k) => doc.get(k).and_then(Json::as_array),
            };
            let Some(list) = list else {
                return Err(Error::Input(format!(
                    "{}: expected {} in the JSON document",
                    file.display(),
                    key.map_or("an array".to_string(), |k| format!("a `{k}` array"))
                )));
            };
            for (i, record) in list.iter().enumerate() {
                let raw = record.to_string();
                match bad_bytes_reason(&raw) {
                    Some(reason) => sink.reject_record(None, i as u64 + 1, reason, &raw),
                    None => each(sink, record, Some(&doc), i as u64 + 1, &raw),
                }
            }
            Ok(())
        }
        Err(parse_error) => {
            let Some(start) = array_start(&text, key) else {
                return Err(Error::Input(format!(
                    "{}: not valid JSON ({parse_error}) and no record list to salvage",
                    file.display()
                )));
            };
            let (elements, stopped) = scan_array(&text, start);
            // The complete records stand in for the document, so formats that look across the
            // list (a timeline's owner) work on a salvaged file too.
            let parsed: Vec<Result<Json, serde_json::Error>> = elements
                .iter()
                .map(|e| serde_json::from_str::<Json>(e))
                .collect();
            let good: Vec<Json> = parsed
                .iter()
                .filter_map(|p| p.as_ref().ok().cloned())
                .collect();
            let salvaged = match key {
                None => Json::Array(good),
                Some(k) => serde_json::json!({ k: good }),
            };
            let mut number = 0;
            for (element, record) in elements.iter().zip(&parsed) {
                number += 1;
                match (record, bad_bytes_reason(element)) {
                    (_, Some(reason)) => sink.reject_record(None, number, reason, element),
                    (Ok(record), None) => each(sink, record, Some(&salvaged), number, element),
                    (Err(e), None) => sink.reject_record(
                        None,
                        number,
                        format!("invalid JSON record: {e}"),
                        element,
                    ),
                }
            }
            if let Some(at) = stopped {
                let rest = text[at.min(text.len())..].trim();
                if !rest.is_empty() {
                    sink.reject_record(
                        None,
                        number + 1,
                        format!(
                            "the file ends inside record {} (truncated JSON: {parse_error}); the \
                             records before it were imported",
                            number + 1
                        ),
                        rest,
                    );
                }
            }
            Ok(())
        }
    }
}

/// Hands a transform's output to the sink.
pub(crate) fn emit(sink: &mut RecordSink<'_>, outs: Vec<Out>, number: u64, raw: &str) {
    if outs.is_empty() {
        return;
    }
    for out in outs {
        match out {
            Out::Row(table, values) => sink.record(table, number, values, raw),
            Out::Derived(table, values) => sink.derived(table, values),
            Out::Bad(table, err) => sink.reject(table, number, err, raw),
        }
    }
}

/// The file's modification time, standing for when a snapshot (a menu) was collected.
pub(super) fn modified_ms(file: &SourceFile) -> Option<i64> {
    std::fs::metadata(&file.path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
}

/// The first bytes as text, for detection by keys.
pub(super) fn head_text(head: &[u8]) -> String {
    String::from_utf8_lossy(head).to_string()
}

pub(super) fn is_json(file: &SourceFile) -> bool {
    file.file_name().to_ascii_lowercase().ends_with(".json")
}

pub(super) fn is_json_lines(file: &SourceFile) -> bool {
    file.file_name().to_ascii_lowercase().ends_with(".jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_array_yields_the_complete_records() {
        let text = r#"{"statuses":[{"id":1,"text":"a,b]"},{"id":2,"t":[1,2]},{"id":3,"te"#;
        let start = array_start(text, Some("statuses")).unwrap();
        let (elements, stopped) = scan_array(text, start);
        assert_eq!(
            elements,
            [r#"{"id":1,"text":"a,b]"}"#, r#"{"id":2,"t":[1,2]}"#]
        );
        assert_eq!(&text[stopped.unwrap()..], r#"{"id":3,"te"#);
        let closed = r#"[{"a":"\"}"}, {"b":2}]"#;
        let (elements, stopped) = scan_array(closed, array_start(closed, None).unwrap());
        assert_eq!(elements.len(), 2);
        assert_eq!(stopped, None);
    }
}

#[cfg(test)]
mod import_tests {
    use std::fs;

    use crate::import::{ImportOptions, import_paths};
    use crate::schema::{ACCOUNTS, COMMENTS, POSTS};
    use crate::store::Store;

    #[test]
    fn app_endpoint_pages_name_the_bad_mapping_or_the_bad_record() {
        let input = tempfile::tempdir().unwrap();
        let news = input.path().join("news");
        fs::create_dir_all(&news).unwrap();
        fs::write(
            news.join("app-endpoint.json"),
            r#"{"account_id":"app:1","table":"posts","list":"data","fields":{"post_id":"id","published_at":"t"}}"#,
        )
        .unwrap();
        fs::write(
            news.join("p0001.json"),
            r#"{"data":[{"id":1,"t":"2025-11-02 09:30"},{"id":2,"t":"上周"},{"id":3,"t":1762047000}]}"#,
        )
        .unwrap();
        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let report = import_paths(
            &store,
            std::slice::from_ref(&news),
            &ImportOptions::default(),
        )
        .unwrap();
        let page = report
            .files
            .iter()
            .find(|f| f.source.ends_with("p0001.json"))
            .unwrap();
        assert_eq!(page.format.as_deref(), Some("app-endpoint-json"));
        assert_eq!((page.read, page.new, page.quarantined), (3, 2, 1));
        let bad = &report.quarantine[0];
        assert!(bad.source.ends_with("p0001.json"));
        assert_eq!((bad.line, bad.field.as_deref()), (2, Some("published_at")));
        assert!(bad.reason.contains("field `t`"), "{}", bad.reason);

        // A mapping naming a column posts do not have: the page fails, naming the mapping.
        fs::write(
            news.join("app-endpoint.json"),
            r#"{"account_id":"app:1","table":"posts","list":"data","fields":{"post_id":"id","published_at":"t","colour":"c"}}"#,
        )
        .unwrap();
        let report = import_paths(&store, &[news], &ImportOptions::default()).unwrap();
        let page = report
            .files
            .iter()
            .find(|f| f.source.ends_with("p0001.json"))
            .unwrap();
        let error = page.error.as_deref().unwrap();
        assert!(
            error.contains("app-endpoint.json") && error.contains("fields.colour"),
            "{error}"
        );
    }

    #[test]
    fn every_json_format_is_detected_and_reconciles_and_a_truncated_file_keeps_its_head() {
        let input = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| fs::write(input.path().join(name), text).unwrap();
        // A timeline cut off inside its third status.
        w(
            "timeline_1001.json",
            r#"{"statuses":[
              {"created_at":"Tue May 31 17:46:55 +0800 2011","id":11,"text":"通知","attitudes_count":"1.2万",
               "user":{"id":1001,"screen_name":"某市发布","verified":true,"verified_type":1}},
              {"created_at":"Wed Jun 01 08:00:00 +0800 2011","id":12,"deleted":"1","state":7,"text":"抱歉，此微博已被作者删除。"},
              {"created_at":"Wed Jun 01 09:00:00 +0800 2011","id":13,"te"#,
        );
        w(
            "comments_11.json",
            r#"{"comments":[{"created_at":"Wed Jun 01 10:00:00 +0800 2011","id":501,"text":"请问？",
                "user":{"id":7,"screen_name":"网友甲"},"status":{"id":11,"user":{"id":1001}}},
               {"created_at":"bad","id":502,"text":"?","user":{"id":8},"status":{"id":11,"user":{"id":1001}}}],
               "total_number":2}"#,
        );
        w(
            "user_1001.json",
            r#"{"id":1001,"idstr":"1001","screen_name":"某市发布","followers_count":5000,"verified_reason":"某市人民政府新闻办公室"}"#,
        );
        w(
            "2002.json",
            r#"{"user":{"id":"2002","screen_name":"某区发布","verified":false},
                "weibo":[{"id":"21","bid":"Ab1","text":"区里通知","created_at":"2024-03-01","full_created_at":"2024-03-01 09:30:00","attitudes_count":3}]}"#,
        );
        // weiboSpider's JSON: nickname, content, publish_time, up_num, retweet_num, original.
        w(
            "3003.json",
            r#"{"user":{"id":"3003","nickname":"某县发布","followers":"1.2万"},
                "weibo":[{"id":"Kx1","user_id":"3003","content":"县里通知","original":false,"publish_time":"2024-03-02 08:15",
                          "up_num":5,"retweet_num":"无","comment_num":2}]}"#,
        );
        w(
            "lookup.json",
            r#"{"resultCount":1,"results":[{"trackId":1400000026,"trackName":"某市政务服务","sellerName":"某市大数据管理局","version":"3.2.1","currentVersionReleaseDate":"2025-11-02T07:00:00Z"}]}"#,
        );
        w(
            "authorizer.json",
            r#"{"authorizer_info":{"nick_name":"某市发布","user_name":"gh_abc123","principal_name":"某市人民政府办公室","service_type_info":{"id":0},"verify_type_info":{"id":0}}}"#,
        );

        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let report = import_paths(
            &store,
            &[input.path().to_path_buf()],
            &ImportOptions::default(),
        )
        .unwrap();
        let formats: Vec<(String, Option<String>)> = report
            .files
            .iter()
            .map(|f| {
                (
                    f.source.rsplit('/').next().unwrap().to_string(),
                    f.format.clone(),
                )
            })
            .collect();
        let format_of = |name: &str| {
            formats
                .iter()
                .find(|(n, _)| n == name)
                .unwrap()
                .1
                .clone()
                .unwrap()
        };
        assert_eq!(format_of("timeline_1001.json"), "weibo-api-timeline");
        assert_eq!(format_of("comments_11.json"), "weibo-api-comments");
        assert_eq!(format_of("user_1001.json"), "weibo-api-user");
        assert_eq!(format_of("2002.json"), "weibo-crawler-json");
        assert_eq!(format_of("3003.json"), "weibo-crawler-json");
        assert_eq!(format_of("lookup.json"), "appstore-lookup");
        assert_eq!(format_of("authorizer.json"), "wechat-api-authorizer");
        for f in &report.files {
            assert!(f.error.is_none() && f.reconciles(), "{f:?}");
        }
        let timeline = report
            .files
            .iter()
            .find(|f| f.source.ends_with("timeline_1001.json"))
            .unwrap();
        assert_eq!(
            (timeline.read, timeline.new, timeline.quarantined),
            (3, 2, 1)
        );
        assert!(
            report
                .quarantine
                .iter()
                .any(|q| q.reason.contains("truncated JSON") && q.line == 3)
        );
        assert!(
            report
                .quarantine
                .iter()
                .any(|q| q.field.as_deref() == Some("created_at"))
        );

        let posts = store.read_table(&POSTS).unwrap().unwrap();
        assert_eq!(
            posts.height(),
            5,
            "2 timeline + 1 crawler + 1 spider + 1 app version"
        );
        let spider = polars::prelude::IntoLazy::lazy(posts.clone())
            .filter(polars::prelude::col("post_id").eq(polars::prelude::lit("Kx1")))
            .collect()
            .unwrap();
        assert_eq!(
            spider.column("like_count").unwrap().i64().unwrap().get(0),
            Some(5)
        );
        assert_eq!(
            spider.column("repost_count").unwrap().i64().unwrap().get(0),
            None
        );
        assert_eq!(
            spider.column("is_original").unwrap().bool().unwrap().get(0),
            Some(false)
        );
        let likes: Vec<Option<i64>> = posts
            .column("like_count")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert!(likes.contains(&Some(12_000)));
        let accounts = store.read_table(&ACCOUNTS).unwrap().unwrap();
        assert_eq!(accounts.height(), 5, "weibo 1001, 2002, 3003, app, wechat");
        let comments = store.read_table(&COMMENTS).unwrap().unwrap();
        assert_eq!(comments.height(), 1);

        // The canonical rows, as a reviewer reads them.
        let mut text = String::new();
        for (spec, df) in [(&POSTS, &posts), (&ACCOUNTS, &accounts)] {
            text.push_str(&format!("## {}\n", spec.name));
            let columns: Vec<&str> = spec
                .columns
                .iter()
                .map(|c| c.name)
                .filter(|c| !["first_seen", "last_seen", "content_html"].contains(c))
                .collect();
            for i in 0..df.height() {
                let cells: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        let column = df.column(c).unwrap();
                        if matches!(column.dtype(), polars::prelude::DataType::Datetime(..)) {
                            let ms = column.cast(&polars::prelude::DataType::Int64).unwrap();
                            return ms
                                .i64()
                                .unwrap()
                                .get(i)
                                .map_or("·".into(), crate::time::format_shanghai);
                        }
                        match column.get(i).unwrap() {
                            polars::prelude::AnyValue::Null => "·".to_string(),
                            v => v.to_string(),
                        }
                    })
                    .collect();
                text.push_str(&cells.join(" | "));
                text.push('\n');
            }
        }
        insta::assert_snapshot!("json_formats_canonical_rows", text);
    }
}

#[cfg(test)]
mod wechat_api_tests {
    use std::fs;

    use crate::import::{ImportOptions, import_paths};
    use crate::schema::{COMMENTS, MENUS, POSTS};
    use crate::store::Store;

    #[test]
    fn saved_wechat_responses_import_under_the_account_their_folder_names() {
        let input = tempfile::tempdir().unwrap();
        let dir = input.path().join("gh_abc123");
        fs::create_dir_all(&dir).unwrap();
        let w = |name: &str, text: &str| fs::write(dir.join(name), text).unwrap();
        w(
            "freepublish-1.json",
            r#"{"total_count":1,"item_count":1,"item":[{"article_id":"AID1","update_time":1709256600,
               "content":{"news_item":[{"title":"头条","url":"https://mp.weixin.qq.com/s?__biz=B&mid=2650000001&idx=1","need_open_comment":1},
                                       {"title":"次条","url":"https://mp.weixin.qq.com/s?__biz=B&mid=2650000001&idx=2"}]}}]}"#,
        );
        w(
            "comments_2650000001_0.json",
            r#"{"errcode":0,"total":2,"comment":[
                {"user_comment_id":1,"openid":"oABC","create_time":1709260000,"content":"请问？","comment_type":1,
                 "reply":{"content":"您好","create_time":1709263600}},
                {"user_comment_id":2,"openid":"oDEF","content":"没有时间"}]}"#,
        );
        w(
            "selfmenu.json",
            r#"{"is_menu_open":1,"selfmenu_info":{"button":[{"name":"办事","sub_button":{"list":[{"type":"view","name":"网上办事","url":"https://zwfw.example.gov.cn/"}]}}]}}"#,
        );
        fs::write(
            input.path().join("stray-freepublish.json"),
            r#"{"item":[{"article_id":"X","update_time":1,"content":{"news_item":[]}}]}"#,
        )
        .unwrap();

        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let report = import_paths(
            &store,
            &[input.path().to_path_buf()],
            &ImportOptions::default(),
        )
        .unwrap();
        let stray = report
            .files
            .iter()
            .find(|f| f.source.ends_with("stray-freepublish.json"))
            .unwrap();
        assert!(
            stray.error.as_ref().unwrap().contains("--account"),
            "{stray:?}"
        );
        for f in report.files.iter().filter(|f| f.error.is_none()) {
            assert!(f.reconciles(), "{f:?}");
        }
        let total = report.total();
        assert_eq!((total.new, total.quarantined), (2 + 1 + 1, 1));
        let posts = store.read_table(&POSTS).unwrap().unwrap();
        let ids: Vec<&str> = posts
            .column("post_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(ids, ["2650000001_1", "2650000001_2"]);
        let comments = store.read_table(&COMMENTS).unwrap().unwrap();
        assert_eq!(
            comments.column("post_id").unwrap().str().unwrap().get(0),
            Some("2650000001_1")
        );
        let author = comments
            .column("author")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .unwrap()
            .to_string();
        assert!(
            author.starts_with("u_"),
            "openids are pseudonymised: {author}"
        );
        let menus = store.read_table(&MENUS).unwrap().unwrap();
        assert_eq!(
            menus.column("path").unwrap().str().unwrap().get(0),
            Some("办事/网上办事")
        );
        assert_eq!(
            menus.column("account_id").unwrap().str().unwrap().get(0),
            Some("wechat:gh_abc123")
        );

        // Statistics add their counters to the stored articles; an unknown msgid is quarantined.
        fs::write(
            dir.join("getarticletotal-20240301.json"),
            r#"{"list":[{"ref_date":"2024-03-01","msgid":"2650000001_1","title":"头条","details":[
                  {"stat_date":"2024-03-01","int_page_read_count":100,"share_count":2,"add_to_fav_count":1},
                  {"stat_date":"2024-03-02","int_page_read_count":150,"share_count":3,"add_to_fav_count":1}]},
                {"ref_date":"2024-03-01","msgid":"9999_1","title":"别处","details":[]}]}"#,
        )
        .unwrap();
        let report = import_paths(
            &store,
            &[dir.join("getarticletotal-20240301.json")],
            &ImportOptions::default(),
        )
        .unwrap();
        let f = &report.files[0];
        assert_eq!(f.format.as_deref(), Some("wechat-api-datacube"));
        assert_eq!((f.read, f.updated, f.quarantined), (2, 1, 1), "{f:?}");
        assert!(
            report.quarantine[0]
                .reason
                .contains("import the articles first")
        );
        let posts = store.read_table(&POSTS).unwrap().unwrap();
        let reads: Vec<Option<i64>> = posts
            .column("read_count")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(reads, [Some(150), None]);
        let before: Vec<Option<i64>> = posts
            .column("published_at")
            .unwrap()
            .cast(&polars::prelude::DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            before[0],
            Some(1_709_256_600_000),
            "the publish time is the article's, not the stat date"
        );

        // --account attributes a response whose path does not say.
        let report = import_paths(
            &store,
            &[input.path().join("stray-freepublish.json")],
            &ImportOptions {
                account: Some("gh_other".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(report.files[0].error.is_none());
    }
}
