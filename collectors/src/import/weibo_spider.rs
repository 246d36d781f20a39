//! dataabc/weiboSpider CSV: `微博id, 微博正文, 头条文章url, 原始图片url, [被转发微博原始图片url,
//! 是否为原创微博,] 微博视频url, 发布位置, 发布时间, 发布工具, 点赞数, 转发数, 评论数`, with `无` for
//! missing values and the header repeated where runs were appended. Its oldest versions wrote
//! seven columns and no `微博id` (`微博正文, 发布位置, 发布时间, 点赞数, 转发数, 评论数, 发布工具`):
//! each post then gets a stable id derived from its time and text (said in the import log).
//! The file is
//! `weibo/<name>/<user_id>.csv`; when it is named after the screen name only, the account id is
//! derived from the name (stable, and said in the import log).

use super::weibo_crawler::{csv_header, for_each_csv_row, weibo_file_names};
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

/// A stable post id for a post exported without one: `derived-` and 16 hex digits of a hash of
/// its time (epoch ms) and text.
pub fn derived_post_id(published_ms: i64, text: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(published_ms.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(text.as_bytes());
    format!("derived-{}", &hasher.finalize().to_hex()[..16])
}

impl Format for WeiboSpiderCsv {
    fn name(&self) -> &'static str {
        "weibospider-csv"
    }

    fn description(&self) -> &'static str {
        "dataabc/weiboSpider CSV (微博id, 微博正文, …, 发布时间, 点赞数, 转发数, 评论数; the oldest 7 columns without 微博id)"
    }

    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        csv_header(file, head).is_some_and(|first| {
            (first.starts_with("微博id,") || first.starts_with("微博正文,"))
                && first.contains("发布时间")
        })
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
        let mut derived_noted = false;
        for_each_csv_row(file, sink, |sink, f, line, raw| {
            if !f.has("微博id") && !derived_noted {
                derived_noted = true;
                sink.note(
                    "the oldest weiboSpider CSV has no `微博id`: each post's id is derived from \
                     its time and text (`derived-` + hash), stable across re-imports"
                        .into(),
                );
            }
            let built = (|| -> Result<Vec<Value>, FieldError> {
                let published = f
                    .time("发布时间", "published_at")?
                    .ok_or_else(|| FieldError::new("published_at", "missing `发布时间`"))?;
                let post_id = if f.has("微博id") {
                    f.id("微博id", "post_id")?
                        .ok_or_else(|| FieldError::new("post_id", "missing `微博id`"))?
                } else {
                    derived_post_id(published, f.text("微博正文").unwrap_or_default())
                };
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

    #[test]
    fn the_oldest_seven_columns_without_an_id_get_stable_derived_ids() {
        let input = tempfile::tempdir().unwrap();
        fs::create_dir_all(input.path().join("weibo/某市发布")).unwrap();
        let header = "微博正文,发布位置,发布时间,点赞数,转发数,评论数,发布工具";
        fs::write(
            input.path().join("weibo/某市发布/1000000001.csv"),
            format!(
                "{header}\n通知一,无,2019-03-01 09:30\u{a0},1,2,3,iPhone\n\
                 通知二,某市,2019-03-02 10:00,0,0,0,网页\n\
                 通知二,某市,2019-03-02 10:00,0,0,0,网页\n\
                 ,无,不是时间,0,0,0,网页\n"
            ),
        )
        .unwrap();
        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let import = || {
            import_paths(
                &store,
                &[input.path().to_path_buf()],
                &ImportOptions::default(),
            )
            .unwrap()
        };
        let report = import();
        let f = &report.files[0];
        assert_eq!(f.format.as_deref(), Some("weibospider-csv"));
        assert_eq!(
            (f.read, f.new, f.duplicates, f.quarantined),
            (4, 2, 1, 1),
            "{f:?}"
        );
        assert!(f.reconciles());
        assert!(
            f.notes
                .iter()
                .any(|n| n.contains("derived from its time and text"))
        );
        assert_eq!(report.quarantine[0].field.as_deref(), Some("published_at"));
        let posts = store.read_table(&POSTS).unwrap().unwrap();
        let mut ids: Vec<String> = posts
            .column("post_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(String::from)
            .collect();
        ids.sort();
        let published = crate::import::quirks::parse_export_time("2019-03-01 09:30").unwrap();
        assert!(ids.contains(&super::derived_post_id(published, "通知一")));
        assert!(
            ids.iter()
                .all(|id| id.starts_with("derived-") && id.len() == 24)
        );
        // Re-importing finds the same ids: nothing new.
        assert_eq!(import().total().new, 0);
    }
}
