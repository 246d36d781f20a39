//! dataabc/weibo-search CSV: the results of a keyword search, many accounts in one file.
//! Header `id, bid, user_id, 用户昵称, 微博正文, 头条文章url, 发布位置, 艾特用户, 话题, 转发数, 评论数,
//! 点赞数, 发布时间, 发布工具, 微博图片url, 微博视频url, retweet_id`; newer versions add `ip` and
//! `user_authentication` (蓝V / 黄V / 红V / 金V / 普通用户).
//!
//! Each row is a post of the account `weibo:<user_id>`, named `用户昵称` (a derived account row,
//! once per account and file). `user_authentication` maps to `verified`: 蓝V is an organisation's
//! verification (its kind, government or not, the file does not say: `verified_type` stays
//! empty); 黄V, 红V and 金V are personal (`verified_type` 0); 普通用户 is not verified. A row with
//! a `retweet_id` is a repost (`is_original` false).

use std::collections::HashSet;

use super::weibo_crawler::{csv_header, for_each_csv_row};
use super::{Format, RecordSink, SourceFile};
use crate::Error;
use crate::record::{FieldError, Value};
use crate::schema::{ACCOUNTS, POSTS};
use crate::transform::row;

pub struct WeiboSearchCsv;

/// `verified` and `verified_type` of a `user_authentication` value.
fn verification(value: Option<&str>) -> (Value, Value) {
    match value {
        Some("蓝V") => (Value::Bool(true), Value::Null),
        Some("黄V" | "红V" | "金V") => (Value::Bool(true), Value::Int(0)),
        Some("普通用户") => (Value::Bool(false), Value::Null),
        _ => (Value::Null, Value::Null),
    }
}

impl Format for WeiboSearchCsv {
    fn name(&self) -> &'static str {
        "weibo-search-csv"
    }

    fn description(&self) -> &'static str {
        "dataabc/weibo-search CSV (id, bid, user_id, 用户昵称, 微博正文, …; many accounts in one file)"
    }

    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        csv_header(file, head).is_some_and(|first| {
            first.starts_with("id,bid,user_id,")
                && first.contains("用户昵称")
                && first.contains("发布时间")
        })
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let mut accounts_seen: HashSet<String> = HashSet::new();
        for_each_csv_row(file, sink, |sink, f, line, raw| {
            let built = (|| -> Result<(String, Vec<Value>), FieldError> {
                let uid = f
                    .id("user_id", "account_id")?
                    .ok_or_else(|| FieldError::new("account_id", "missing `user_id`"))?;
                let post_id = f
                    .id("id", "post_id")?
                    .ok_or_else(|| FieldError::new("post_id", "missing `id`"))?;
                let published = f
                    .time("发布时间", "published_at")?
                    .ok_or_else(|| FieldError::new("published_at", "missing `发布时间`"))?;
                let url = f.text("bid").map_or(Value::Null, |bid| {
                    Value::Str(format!("https://weibo.com/{uid}/{bid}"))
                });
                let is_original = if f.has("retweet_id") {
                    Value::Bool(f.text("retweet_id").is_none())
                } else {
                    Value::Null
                };
                let post = row(
                    &POSTS,
                    vec![
                        ("account_id", Value::Str(format!("weibo:{uid}"))),
                        ("post_id", Value::Str(post_id)),
                        ("published_at", Value::Time(published)),
                        ("text", f.string("微博正文")),
                        ("url", url),
                        ("links", f.list(&["头条文章url"])),
                        ("position", Value::Int(0)),
                        ("is_original", is_original),
                        ("like_count", f.count("点赞数", "like_count")?),
                        ("repost_count", f.count("转发数", "repost_count")?),
                        ("comment_count", f.count("评论数", "comment_count")?),
                    ],
                );
                Ok((uid, post))
            })();
            if let Ok((uid, _)) = &built
                && let Some(name) = f.text("用户昵称")
                && accounts_seen.insert(uid.clone())
            {
                let (verified, verified_type) = verification(f.text("user_authentication"));
                sink.derived(
                    &ACCOUNTS,
                    row(
                        &ACCOUNTS,
                        vec![
                            ("account_id", Value::Str(format!("weibo:{uid}"))),
                            ("platform", Value::Str("weibo".into())),
                            ("name", Value::Str(name.to_string())),
                            ("account_kind", Value::Str("weibo".into())),
                            ("verified", verified),
                            ("verified_type", verified_type),
                            ("url", Value::Str(format!("https://weibo.com/u/{uid}"))),
                        ],
                    ),
                );
            }
            sink.accept(&POSTS, line, built.map(|(_, post)| post), raw)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use polars::prelude::*;

    use crate::import::{ImportOptions, import_paths};
    use crate::schema::{ACCOUNTS, POSTS};
    use crate::store::Store;

    const HEADER: &str = "id,bid,user_id,用户昵称,微博正文,头条文章url,发布位置,艾特用户,话题,转发数,评论数,点赞数,发布时间,发布工具,微博图片url,微博视频url,retweet_id,ip,user_authentication";

    #[test]
    fn many_accounts_in_one_search_file_with_their_verification() {
        let input = tempfile::tempdir().unwrap();
        fs::write(
            input.path().join("疫苗接种.csv"),
            format!(
                "\u{feff}{HEADER}\n\
                 4900000000000001,Mk1,1000000001,某市发布,接种点公布,无,某市,,#接种#,1,2,30,2024-03-01 09:30,iPhone,,,,北京,蓝V\n\
                 4900000000000002,Mk2,1000000001,某市发布,转发通知,,,,,0,0,0,2024-03-02 10:00,网页,,,4899999999999999,北京,蓝V\n\
                 4900000000000003,Mk3,2000000002,某网友,我也去,,,,,0,1,2,2024-03-02 11:00,Android,,,,上海,普通用户\n\
                 4900000000000004,Mk4,3000000003,某博主,科普,,,,,5,5,5,2024-03-03 08:00,网页,,,,广东,黄V\n\
                 4900000000000005,Mk5,,无名,没有用户,,,,,0,0,0,2024-03-03 08:00,网页,,,,,\n"
            ),
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
        let f = &report.files[0];
        assert_eq!(f.format.as_deref(), Some("weibo-search-csv"));
        assert_eq!((f.read, f.new, f.quarantined), (5, 4, 1), "{f:?}");
        assert!(f.reconciles());
        assert_eq!(report.quarantine[0].field.as_deref(), Some("account_id"));

        let accounts = store
            .read_table(&ACCOUNTS)
            .unwrap()
            .unwrap()
            .lazy()
            .sort(["account_id"], Default::default())
            .collect()
            .unwrap();
        let ids: Vec<Option<&str>> = accounts
            .column("account_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            ids,
            [
                Some("weibo:1000000001"),
                Some("weibo:2000000002"),
                Some("weibo:3000000003")
            ]
        );
        let verified: Vec<Option<bool>> = accounts
            .column("verified")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(verified, [Some(true), Some(false), Some(true)]);
        let kinds: Vec<Option<i64>> = accounts
            .column("verified_type")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(kinds, [None, None, Some(0)]);

        let posts = store
            .read_table(&POSTS)
            .unwrap()
            .unwrap()
            .lazy()
            .sort(["post_id"], Default::default())
            .collect()
            .unwrap();
        let original: Vec<Option<bool>> = posts
            .column("is_original")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(original, [Some(true), Some(false), Some(true), Some(true)]);
        let url = posts.column("url").unwrap().str().unwrap().get(0).unwrap();
        assert_eq!(url, "https://weibo.com/1000000001/Mk1");
    }
}
