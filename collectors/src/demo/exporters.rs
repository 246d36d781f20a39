//! Demo accounts written in exporters' formats, so that importing the demo archive exercises
//! those importers end to end: dataabc/weibo-crawler posts CSV (latest header version, id with
//! its trailing tab, `无` for missing) and wechat-article-exporter JSON in a folder named after
//! the account's gh_ id.

use std::io::Write;
use std::path::Path;

use chrono::DateTime;

use super::accounts::{AccountRow, PostRow};
use crate::Error;

const WEIBO_CRAWLER_HEADER: [&str; 23] = [
    "id",
    "bid",
    "正文",
    "头条文章url",
    "原始图片url",
    "视频url",
    "Live Photo视频url",
    "位置",
    "日期",
    "工具",
    "点赞数",
    "评论数",
    "转发数",
    "话题",
    "@用户",
    "完整日期",
    "是否编辑过",
    "编辑次数",
    "是否原创",
    "源用户id",
    "源用户昵称",
    "源微博id",
    "源微博正文",
];

fn local(rfc3339: &str, format: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

fn or_none(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "无".into())
}

/// `weibo/<name>/<uid>.csv` with the account's posts that are not deleted (the exporter does
/// not see deleted posts). Returns the file's path inside the archive.
pub fn write_weibo_crawler_csv(
    out: &Path,
    account: &AccountRow,
    posts: &[PostRow],
) -> Result<Option<String>, Error> {
    let uid = account.account_id.trim_start_matches("weibo:");
    let relative = format!("weibo/{}/{uid}.csv", account.name);
    let path = out.join(&relative);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::io(&path, std::io::Error::other(e));
    writer.write_record(WEIBO_CRAWLER_HEADER).map_err(err)?;
    for p in posts.iter().filter(|p| !p.is_deleted) {
        let links = p.links.as_ref().map(|l| l.join(","));
        writer
            .write_record([
                format!("{}\t", p.post_id),
                p.post_id.clone(),
                p.text.clone(),
                or_none(links),
                "无".into(),
                "无".into(),
                "无".into(),
                "无".into(),
                local(&p.published_at, "%Y-%m-%dT%H:%M:%S"),
                "微博 weibo.com".into(),
                p.like_count.to_string(),
                p.comment_count.to_string(),
                or_none(p.repost_count.map(|r| r.to_string())),
                "无".into(),
                "无".into(),
                local(&p.published_at, "%Y-%m-%d %H:%M:%S"),
                "False".into(),
                "0".into(),
                if p.is_original { "True" } else { "False" }.into(),
                "无".into(),
                "无".into(),
                "无".into(),
                "无".into(),
            ])
            .map_err(err)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::io(&path, e.into_error()))?;
    std::fs::create_dir_all(path.parent().expect("a file in a folder"))
        .map_err(|e| Error::io(&path, e))?;
    crate::store::write_replacing(&path, |f| {
        f.write_all("\u{feff}".as_bytes())?;
        f.write_all(&bytes)
    })?;
    Ok(Some(relative))
}

/// `wechat/<gh_id>/articles.json`: the account's articles as wechat-article-exporter writes
/// them (reads of 100,001 as "10万+").
pub fn write_article_exporter_json(
    out: &Path,
    account: &AccountRow,
    posts: &[PostRow],
) -> Result<Option<String>, Error> {
    let gh = account.account_id.trim_start_matches("wechat:");
    let relative = format!("wechat/{gh}/articles.json");
    let path = out.join(&relative);
    let articles: Vec<serde_json::Value> = posts
        .iter()
        .filter_map(|p| {
            let (msgid, idx) = p.post_id.split_once('_')?;
            let created = DateTime::parse_from_rfc3339(&p.published_at)
                .ok()?
                .timestamp();
            let reads = p.read_count.map(|r| {
                if r >= 100_001 {
                    serde_json::Value::String("10万+".into())
                } else {
                    r.into()
                }
            });
            Some(serde_json::json!({
                "aid": p.post_id,
                "appmsgid": msgid,
                "itemidx": idx.parse::<i64>().ok()?,
                "title": p.title,
                "digest": p.text,
                "link": p.url,
                "create_time": created,
                "is_deleted": p.is_deleted,
                "_accountName": account.name,
                "readNum": reads,
                "oldLikeNum": p.like_count,
                "likeNum": p.watch_count,
                "shareNum": p.share_count,
                "commentNum": p.comment_count,
            }))
        })
        .collect();
    let text = serde_json::to_string_pretty(&articles).expect("articles serialise");
    std::fs::create_dir_all(path.parent().expect("a file in a folder"))
        .map_err(|e| Error::io(&path, e))?;
    crate::store::write_replacing(&path, |f| f.write_all(text.as_bytes()))?;
    Ok(Some(relative))
}
