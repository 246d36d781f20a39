//! dataabc/weiboSpider CSV: `微博id, 微博正文, 头条文章url, 原始图片url, [被转发微博原始图片url,
//! 是否为原创微博,] 微博视频url, 发布位置, 发布时间, 发布工具, 点赞数, 转发数, 评论数`, with `无` for
//! missing values and the header repeated where runs were appended. The file is
//! `weibo/<name>/<user_id>.csv`; when it is named after the screen name only, the account id is
//! derived from the name (stable, and said in the import log).

use super::weibo_crawler::{for_each_csv_row, weibo_file_names};
use super::{Format, RecordSink, SourceFile};
use crate::Error;
use crate::record::{FieldError, Value};
use crate::schema::{ACCOUNTS, POSTS};
use crate::transform::row;

pub struct WeiboSpiderCsv;

/// A stable account id for a screen name when no user id is known: `weibo:name-<hash>`.
pub fn derived_weibo_id(name: &str) -> String {
    let hash = blake3::hash(name.as_bytes());
    format!("weibo:name-{}", &hash.to_hex()[..12])
}

impl Format for WeiboSpiderCsv {
    fn name(&self) -> &'static str {
        "weibospider-csv"
    }

    fn description(&self) -> &'static str {
        "dataabc/weiboSpider CSV (微博id, 微博正文, …, 发布时间, 点赞数, 转发数, 评论数)"
    }

    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let text = String::from_utf8_lossy(head);
        let first = text.lines().next().unwrap_or_default();
        file.file_name().to_ascii_lowercase().ends_with(".csv")
            && first.trim_start_matches('\u{feff}').starts_with("微博id,")
            && first.contains("发布时间")
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let (account_id, name) = match weibo_file_names(file) {
            (Some(uid), folder) => (format!("weibo:{uid}"), folder),
            (None, folder) => {
                // Named after the screen name: the folder's, else the file's own.
                let name = folder
                    .filter(|f| f.bytes().any(|b| !b.is_ascii_digit()))
                    .unwrap_or_else(|| {
                        file.path
                            .file_stem()
                            .map(|s| s.to_string_lossy().to_string())
                            .unwrap_or_default()
                    });
                let id = derived_weibo_id(&name);
                sink.note(format!(
                    "no user id in the file name: account id {id} derived from the name {name:?}"
                ));
                (id, Some(name))
            }
        };
        if let Some(name) = name {
            sink.derived(
                &ACCOUNTS,
                row(
                    &ACCOUNTS,
                    vec![
                        ("account_id", Value::Str(account_id.clone())),
                        ("platform", Value::Str("weibo".into())),
                        ("name", Value::Str(name)),
                        ("account_kind", Value::Str("weibo".into())),
                    ],
                ),
            );
        }
        for_each_csv_row(file, sink, |sink, f, line, raw| {
            let built = (|| -> Result<Vec<Value>, FieldError> {
                let post_id = f
                    .id("微博id", "post_id")?
                    .ok_or_else(|| FieldError::new("post_id", "missing `微博id`"))?;
                let published = f
                    .time("发布时间", "published_at")?
                    .ok_or_else(|| FieldError::new("published_at", "missing `发布时间`"))?;
                Ok(row(
                    &POSTS,
                    vec![
                        ("account_id", Value::Str(account_id.clone())),
                        ("post_id", Value::Str(post_id)),
                        ("published_at", Value::Time(published)),
                        ("text", f.string("微博正文")),
                        ("links", f.list(&["头条文章url"])),
                        ("position", Value::Int(0)),
                        (
                            "is_original",
                            if f.has("是否为原创微博") {
                                f.flag("是否为原创微博")
                            } else {
                                Value::Null
                            },
                        ),
                        ("like_count", f.count("点赞数", "like_count")?),
                        ("repost_count", f.count("转发数", "repost_count")?),
                        ("comment_count", f.count("评论数", "comment_count")?),
                    ],
                ))
            })();
            sink.accept(&POSTS, line, built, raw)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::import::{ImportOptions, import_paths};
    use crate::schema::{ACCOUNTS, POSTS};
    use crate::store::Store;

    #[test]
    fn both_header_variants_repeated_headers_and_a_derived_id() {
        let input = tempfile::tempdir().unwrap();
        let short = "微博id,微博正文,头条文章url,原始图片url,微博视频url,发布位置,发布时间,发布工具,点赞数,转发数,评论数";
        let long = "微博id,微博正文,头条文章url,原始图片url,被转发微博原始图片url,是否为原创微博,微博视频url,发布位置,发布时间,发布工具,点赞数,转发数,评论数";
        fs::create_dir_all(input.path().join("weibo/某市发布")).unwrap();
        fs::write(
            input.path().join("weibo/某市发布/1000000001.csv"),
            format!(
                "{short}\nMk1,通知,无,无,无,无,2024-03-01 09:30,iPhone,10万+,无,3\n\
                 {short}\nMk2,第二次运行追加,无,无,无,无,2024-03-02 10:00,网页,1,2,3\n"
            ),
        )
        .unwrap();
        fs::create_dir_all(input.path().join("weibo/某县发布")).unwrap();
        fs::write(
            input.path().join("weibo/某县发布/某县发布.csv"),
            format!("{long}\nNn1,转发,无,无,无,False,无,无,2024-03-03 11:00,网页,0,0,0\n"),
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
        for f in &report.files {
            assert!(
                f.error.is_none() && f.reconciles() && f.quarantined == 0,
                "{f:?}"
            );
            assert_eq!(f.format.as_deref(), Some("weibospider-csv"));
        }
        assert_eq!(report.total().new, 3, "the repeated header is not a record");
        let named = report
            .files
            .iter()
            .find(|f| f.source.ends_with("某县发布.csv"))
            .unwrap();
        assert!(
            named.notes[0].contains("derived from the name \"某县发布\""),
            "{:?}",
            named.notes
        );
        let posts = store.read_table(&POSTS).unwrap().unwrap();
        let likes: Vec<Option<i64>> = posts
            .column("like_count")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert!(likes.contains(&Some(100_001)));
        let reposts: Vec<Option<i64>> = posts
            .column("repost_count")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert!(reposts.contains(&None), "无 is missing, not 0");
        let accounts = store.read_table(&ACCOUNTS).unwrap().unwrap();
        let ids: Vec<&str> = accounts
            .column("account_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert!(ids.contains(&super::derived_weibo_id("某县发布").as_str()));
    }
}
