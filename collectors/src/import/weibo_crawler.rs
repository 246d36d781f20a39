//! dataabc/weibo-crawler CSV output: posts `weibo/<name>/<user_id>.csv` in every header version
//! (完整日期 since 2024-01, Live Photo视频url since 2025-11, 是否编辑过/编辑次数 since 2025-12, and the
//! 是否原创/源用户id/源微博… columns when retweets were crawled), `users.csv`, and the comments CSV.
//! Columns are found by name, so any version and any order reads; ragged rows read what they
//! have.

use std::collections::HashMap;

use super::quirks::{clean_id, open_lines, overlong_reason, parse_count, parse_export_time};
use super::{Format, RecordSink, SourceFile};
use crate::Error;
use crate::record::{FieldError, Value};
use crate::schema::{ACCOUNTS, COMMENTS, POSTS};
use crate::transform::row;

/// The header of a CSV export, BOM and spaces removed.
fn header_fields(head: &[u8]) -> Vec<String> {
    header_line(head)
        .split(',')
        .map(|h| h.trim().to_string())
        .collect()
}

/// The first line of a file's first bytes, BOM removed: a CSV export's header row.
pub(crate) fn header_line(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(head);
    let first = text.lines().next().unwrap_or_default();
    first.trim_start_matches('\u{feff}').to_string()
}

/// The header row of a `.csv` file, `None` for any other file.
pub(crate) fn csv_header(file: &SourceFile, head: &[u8]) -> Option<String> {
    file.file_name()
        .to_ascii_lowercase()
        .ends_with(".csv")
        .then(|| header_line(head))
}

/// Reads a CSV export row by row: header positions by name, each record with its line and raw
/// text for quarantine. Repeated header rows (appended files) are skipped.
pub(crate) fn for_each_csv_row(
    file: &SourceFile,
    sink: &mut RecordSink<'_>,
    mut each: impl FnMut(&mut RecordSink<'_>, &Fields, u64, &str),
) -> Result<(), Error> {
    let encoding = sink.options().encoding.clone();
    let exported_ms = sink.options().exported_at.or_else(|| {
        std::fs::metadata(&file.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
    });
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(open_lines(file, encoding.as_deref())?);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Input(format!("{}: line 1: {e}", file.display())))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let positions: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                sink.reject_record(None, line, format!("unreadable CSV record: {e}"), "");
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if let Some(reason) = record.get(0).and_then(overlong_reason) {
            sink.reject_record(None, line, reason, "");
            continue;
        }
        let cells: Vec<&str> = record.iter().collect();
        if cells.iter().zip(&header).all(|(c, h)| c.trim() == h) {
            continue;
        }
        let raw = cells.join(",");
        let fields = Fields {
            positions: &positions,
            cells,
            exported_ms,
        };
        each(sink, &fields, line, &raw);
    }
    Ok(())
}

/// One CSV record's cells by header name.
pub(crate) struct Fields<'a> {
    positions: &'a HashMap<String, usize>,
    cells: Vec<&'a str>,
    /// When the file was exported (its modification time): what relative times (`3小时前`)
    /// are counted back from.
    exported_ms: Option<i64>,
}

impl Fields<'_> {
    /// The trimmed text of a column, `None` when absent, empty or `无`.
    pub fn text(&self, name: &str) -> Option<&str> {
        let cell = self.cells.get(*self.positions.get(name)?)?.trim();
        (!cell.is_empty() && cell != "无").then_some(cell)
    }

    /// The record as a JSON object of its non-empty cells, for formats whose CSV and JSON
    /// share field names (one transform for both).
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (name, &i) in self.positions {
            if let Some(cell) = self
                .cells
                .get(i)
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
            {
                map.insert(name.clone(), serde_json::Value::String(cell.to_string()));
            }
        }
        serde_json::Value::Object(map)
    }

    pub fn has(&self, name: &str) -> bool {
        self.positions.contains_key(name)
    }

    pub fn string(&self, name: &str) -> Value {
        self.text(name)
            .map_or(Value::Null, |t| Value::Str(t.to_string()))
    }

    pub fn count(&self, name: &str, field: &str) -> Result<Value, FieldError> {
        match self.text(name).map(parse_count) {
            None => Ok(Value::Null),
            Some(Ok(v)) => Ok(v.map_or(Value::Null, Value::Int)),
            Some(Err(e)) => Err(FieldError::new(field, e)),
        }
    }

    pub fn id(&self, name: &str, field: &str) -> Result<Option<String>, FieldError> {
        match self
            .cells
            .get(self.positions.get(name).copied().unwrap_or(usize::MAX))
        {
            None => Ok(None),
            Some(cell) => clean_id(cell).map_err(|e| FieldError::new(field, e)),
        }
    }

    pub fn time(&self, name: &str, field: &str) -> Result<Option<i64>, FieldError> {
        self.text(name)
            .map(|t| {
                parse_export_time(t).or_else(|e| {
                    self.exported_ms
                        .and_then(|at| super::quirks::parse_relative_time(t, at))
                        .ok_or_else(|| FieldError::new(field, e))
                })
            })
            .transpose()
    }

    /// Whether a column holds a relative time (`3小时前`) rather than a date.
    pub fn is_relative_time(&self, name: &str) -> bool {
        self.text(name).is_some_and(|t| {
            parse_export_time(t).is_err()
                && self
                    .exported_ms
                    .is_some_and(|at| super::quirks::parse_relative_time(t, at).is_some())
        })
    }

    pub fn flag(&self, name: &str) -> Value {
        match self.text(name).map(|t| t.to_ascii_lowercase()) {
            Some(t) if ["true", "1", "是"].contains(&t.as_str()) => Value::Bool(true),
            Some(t) if ["false", "0", "否"].contains(&t.as_str()) => Value::Bool(false),
            _ => Value::Null,
        }
    }

    pub fn list(&self, names: &[&str]) -> Value {
        let items: Vec<String> = names
            .iter()
            .filter_map(|n| self.text(n))
            .flat_map(|t| t.split([',', ';']))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if items.is_empty() {
            Value::Null
        } else {
            Value::List(items)
        }
    }
}

/// Posts CSV `weibo/<name>/<user_id>.csv`.
pub struct WeiboCrawlerPosts;

impl WeiboCrawlerPosts {
    /// The account behind a posts file: the user id is the file name, the screen name the
    /// folder (weibo/<name>/<user_id>.csv).
    fn account(file: &SourceFile) -> Result<(String, Option<String>), Error> {
        match weibo_file_names(file) {
            (Some(uid), name) => Ok((uid, name)),
            (None, _) => Err(Error::Input(format!(
                "{}: a weibo-crawler posts file is named after the user id \
                 (weibo/<name>/<user_id>.csv); cannot tell whose posts these are",
                file.display()
            ))),
        }
    }
}

/// What the exporters' `weibo/<name>/<user_id>.csv` layout says: the user id when the file is
/// named after one, and the screen name from the folder (not the top `weibo` folder).
pub(crate) fn weibo_file_names(file: &SourceFile) -> (Option<String>, Option<String>) {
    let stem = file
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    let folder = file
        .path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string())
        .filter(|n| n != "weibo" && !n.is_empty());
    (stem, folder)
}

impl Format for WeiboCrawlerPosts {
    fn name(&self) -> &'static str {
        "weibo-crawler-posts"
    }

    fn description(&self) -> &'static str {
        "dataabc/weibo-crawler posts CSV weibo/<name>/<user_id>.csv (every header version)"
    }

    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        let h = header_fields(head);
        file.file_name().to_ascii_lowercase().ends_with(".csv")
            && h.first().is_some_and(|f| f == "id")
            && h.iter().any(|f| f == "正文")
            && h.iter().any(|f| f == "日期")
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let (uid, name) = Self::account(file)?;
        let account_id = format!("weibo:{uid}");
        if let Some(name) = &name {
            sink.derived(
                &ACCOUNTS,
                row(
                    &ACCOUNTS,
                    vec![
                        ("account_id", Value::Str(account_id.clone())),
                        ("platform", Value::Str("weibo".into())),
                        ("name", Value::Str(name.clone())),
                        ("account_kind", Value::Str("weibo".into())),
                        ("url", Value::Str(format!("https://weibo.com/u/{uid}"))),
                    ],
                ),
            );
        }
        for_each_csv_row(file, sink, |sink, f, line, raw| {
            let built = (|| -> Result<Vec<Value>, FieldError> {
                let post_id = f
                    .id("id", "post_id")?
                    .ok_or_else(|| FieldError::new("post_id", "missing `id`"))?;
                // 完整日期 (since 2024-01) has the time; older files only 日期.
                let published = match f.time("完整日期", "published_at")? {
                    Some(t) => Some(t),
                    None => f.time("日期", "published_at")?,
                }
                .ok_or_else(|| FieldError::new("published_at", "missing `日期`"))?;
                let url = f.text("bid").map_or(Value::Null, |bid| {
                    Value::Str(format!("https://weibo.com/{uid}/{bid}"))
                });
                let is_original = if f.has("是否原创") {
                    f.flag("是否原创")
                } else {
                    Value::Null
                };
                Ok(row(
                    &POSTS,
                    vec![
                        ("account_id", Value::Str(account_id.clone())),
                        ("post_id", Value::Str(post_id)),
                        ("published_at", Value::Time(published)),
                        ("text", f.string("正文")),
                        ("url", url),
                        ("links", f.list(&["头条文章url"])),
                        ("position", Value::Int(0)),
                        ("is_original", is_original),
                        ("like_count", f.count("点赞数", "like_count")?),
                        ("comment_count", f.count("评论数", "comment_count")?),
                        ("repost_count", f.count("转发数", "repost_count")?),
                    ],
                ))
            })();
            sink.accept(&POSTS, line, built, raw)
        })
    }
}

/// `users.csv`: one account per user.
pub struct WeiboCrawlerUsers;

impl Format for WeiboCrawlerUsers {
    fn name(&self) -> &'static str {
        "weibo-crawler-users"
    }

    fn description(&self) -> &'static str {
        "dataabc/weibo-crawler users.csv (用户id, 昵称, …, 是否认证, 认证类型, 认证信息)"
    }

    fn detect(&self, _file: &SourceFile, head: &[u8]) -> bool {
        let h = header_fields(head);
        h.first().is_some_and(|f| f == "用户id") && h.iter().any(|f| f == "昵称")
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        for_each_csv_row(file, sink, |sink, f, line, raw| {
            let built = (|| -> Result<Vec<Value>, FieldError> {
                let uid = f
                    .id("用户id", "account_id")?
                    .ok_or_else(|| FieldError::new("account_id", "missing `用户id`"))?;
                let verified_type = match f.text("认证类型").map(str::parse::<i64>) {
                    None => Value::Null,
                    Some(Ok(v)) => Value::Int(v),
                    Some(Err(_)) => {
                        return Err(FieldError::new(
                            "verified_type",
                            "`认证类型` is not a number",
                        ));
                    }
                };
                Ok(row(
                    &ACCOUNTS,
                    vec![
                        ("account_id", Value::Str(format!("weibo:{uid}"))),
                        ("platform", Value::Str("weibo".into())),
                        ("name", f.string("昵称")),
                        ("account_kind", Value::Str("weibo".into())),
                        ("certification", f.string("认证信息")),
                        ("verified", f.flag("是否认证")),
                        ("verified_type", verified_type),
                        ("followers", f.count("粉丝数", "followers")?),
                        ("url", Value::Str(format!("https://weibo.com/u/{uid}"))),
                    ],
                ))
            })();
            sink.accept(&ACCOUNTS, line, built, raw)
        })
    }
}

/// Comments CSV: `id, weibo_id, created_at, user_screen_name, text, pic_url, like_count`. The
/// rows do not say whose posts they comment on, so the file is named after the account's user
/// id (`<user_id>_comments.csv`); a file that is not is an error naming it, never a guess.
/// Commenters' names are pseudonymised unless `--keep-identities`.
pub struct WeiboCrawlerComments;

impl Format for WeiboCrawlerComments {
    fn name(&self) -> &'static str {
        "weibo-crawler-comments"
    }

    fn description(&self) -> &'static str {
        "dataabc/weibo-crawler comments CSV (id, weibo_id, created_at, user_screen_name, text, …)"
    }

    fn detect(&self, _file: &SourceFile, head: &[u8]) -> bool {
        let h = header_fields(head);
        h.first().is_some_and(|f| f == "id")
            && h.iter().any(|f| f == "weibo_id")
            && h.iter().any(|f| f == "user_screen_name")
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let owner = file
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .and_then(|s| {
                s.split(['_', '-'])
                    .find(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    .map(String::from)
            })
            .ok_or_else(|| {
                Error::Input(format!(
                    "{}: name the comments file after the account's user id \
                     (e.g. <user_id>_comments.csv) so the comments can be attached to it",
                    file.display()
                ))
            })?;
        let account_id = format!("weibo:{owner}");
        let mut relative_noted = false;
        for_each_csv_row(file, sink, |sink, f, line, raw| {
            if !relative_noted && f.is_relative_time("created_at") {
                relative_noted = true;
                let from = if sink.options().exported_at.is_some() {
                    "the export time given (--exported-at)"
                } else {
                    "the file's modification time (when it was exported)"
                };
                sink.note(format!(
                    "comment times such as `3小时前` or `昨天 08:00` were counted back from {from}"
                ));
            }
            let built = (|| -> Result<Vec<Value>, FieldError> {
                let comment_id = f
                    .id("id", "comment_id")?
                    .ok_or_else(|| FieldError::new("comment_id", "missing `id`"))?;
                let post_id = f
                    .id("weibo_id", "post_id")?
                    .ok_or_else(|| FieldError::new("post_id", "missing `weibo_id`"))?;
                let created = f
                    .time("created_at", "created_at")?
                    .ok_or_else(|| FieldError::new("created_at", "missing `created_at`"))?;
                let author = sink.pseudonym(f.text("user_screen_name"));
                Ok(row(
                    &COMMENTS,
                    vec![
                        ("account_id", Value::Str(account_id.clone())),
                        ("post_id", Value::Str(post_id)),
                        ("comment_id", Value::Str(comment_id)),
                        ("created_at", Value::Time(created)),
                        ("content", f.string("text")),
                        ("author", author),
                    ],
                ))
            })();
            sink.accept(&COMMENTS, line, built, raw)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use polars::prelude::*;

    use crate::import::{ImportOptions, import_paths};
    use crate::schema::{ACCOUNTS, COMMENTS, POSTS};
    use crate::store::Store;

    /// Header versions of the posts CSV, oldest first.
    const HEADER_2023: &str = "id,bid,正文,头条文章url,原始图片url,视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户";
    const HEADER_2024: &str = "id,bid,正文,头条文章url,原始图片url,视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户,完整日期";
    const HEADER_2025_12: &str = "id,bid,正文,头条文章url,原始图片url,视频url,Live Photo视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户,完整日期,是否编辑过,编辑次数,是否原创,源用户id,源用户昵称,源微博id,源微博正文";

    fn write(dir: &Path, rel: &str, bytes: &[u8]) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn import(
        dir: &Path,
        opts: &ImportOptions,
    ) -> (Store, crate::import::ImportReport, tempfile::TempDir) {
        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let report = import_paths(&store, &[dir.to_path_buf()], opts).unwrap();
        (store, report, store_dir)
    }

    fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
        df.column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(String::from))
            .collect()
    }

    fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
        df.column(name).unwrap().i64().unwrap().iter().collect()
    }

    #[test]
    fn every_posts_header_version_imports_with_its_quirks() {
        let input = tempfile::tempdir().unwrap();
        // 2023: date-only 日期, id with the trailing tab, 无 for missing, a ragged row.
        let old = format!(
            "\u{feff}{HEADER_2023}\n\
             4900000000000001\t,Mk1,今天发布通知,无,无,无,无,2023-05-04,微博 weibo.com,10万+,1.2万,3,无,无\n\
             4900000000000002\t,Mk2,短行,无,无,无,无,2023-05-05,微博 weibo.com,5\n"
        );
        write(
            input.path(),
            "weibo/某市发布/1000000001.csv",
            old.as_bytes(),
        );
        // 2024: 完整日期 has the time.
        let mid = format!(
            "\u{feff}{HEADER_2024}\n\
             4990000000000001\t,Nn1,通知,https://weibo.com/ttarticle/p/show?id=1,无,无,无,2024-03-01T09:30:00,iPhone,1,2,3,无,无,2024-03-01 09:30:00\n"
        );
        write(
            input.path(),
            "weibo/某市发布/1000000001-2024.csv",
            mid.as_bytes(),
        );
        // 2025-12 with the retweet columns; the original flag is present.
        let new = format!(
            "\u{feff}{HEADER_2025_12}\n\
             5100000000000001\t,Pp1,转发:好政策,无,无,无,无,无,2025-12-02T08:00:00,网页,7,8,9,无,无,2025-12-02 08:00:00,False,0,False,2000000002,某省发布,5099999999999999,原文\n"
        );
        write(
            input.path(),
            "weibo/某区发布/1000000002.csv",
            new.as_bytes(),
        );

        let (store, report, _d) = import(input.path(), &ImportOptions::default());
        // The 2024 file is named `<uid>-2024.csv`: its stem is not a user id, an error naming it.
        let failed: Vec<_> = report.failed_files().collect();
        assert_eq!(failed.len(), 1, "{:?}", report.files);
        assert!(
            failed[0]
                .error
                .as_ref()
                .unwrap()
                .contains("named after the user id")
        );
        for f in report.files.iter().filter(|f| f.error.is_none()) {
            assert!(f.reconciles(), "{f:?}");
            assert_eq!(f.quarantined, 0, "{f:?}");
        }
        let posts = store.read_table(&POSTS).unwrap().unwrap();
        assert_eq!(
            strs(&posts, "post_id"),
            [
                Some("4900000000000001".into()),
                Some("4900000000000002".into()),
                Some("5100000000000001".into())
            ]
        );
        assert_eq!(
            ints(&posts, "like_count"),
            [Some(100_001), Some(5), Some(7)]
        );
        assert_eq!(ints(&posts, "comment_count"), [Some(12_000), None, Some(8)]);
        assert_eq!(
            strs(&posts, "url")[0].as_deref(),
            Some("https://weibo.com/1000000001/Mk1")
        );
        let original: Vec<Option<bool>> = posts
            .column("is_original")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            original,
            [None, None, Some(false)],
            "no column → unknown, never guessed"
        );
        let accounts = store.read_table(&ACCOUNTS).unwrap().unwrap();
        assert_eq!(
            strs(&accounts, "name"),
            [Some("某市发布".into()), Some("某区发布".into())]
        );
        let verified: Vec<Option<bool>> = accounts
            .column("verified")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            verified,
            [None, None],
            "a posts file says nothing about verification"
        );

        // Named after its user id, the 2024 version imports and its time is kept.
        let only = tempfile::tempdir().unwrap();
        write(only.path(), "weibo/某市发布/1000000001.csv", mid.as_bytes());
        let (store, report, _d) = import(only.path(), &ImportOptions::default());
        assert!(
            report
                .files
                .iter()
                .all(|f| f.error.is_none() && f.reconciles())
        );
        let posts = store.read_table(&POSTS).unwrap().unwrap();
        let at = posts
            .column("published_at")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        assert_eq!(
            at.i64().unwrap().get(0),
            Some(crate::time::parse_instant_ms("2024-03-01T09:30:00+08:00").unwrap())
        );
    }

    #[test]
    fn users_and_gbk_comments_import_with_commenters_pseudonymised() {
        let input = tempfile::tempdir().unwrap();
        write(
            input.path(),
            "users.csv",
            "\u{feff}用户id,昵称,性别,生日,所在地,IP属地,学习经历,公司,注册时间,阳光信用,微博数,粉丝数,关注数,简介,主页,头像,高清头像,微博等级,会员等级,是否认证,认证类型,认证信息,上次记录微博信息\n\
             1000000001,某市发布,m,无,某市,某省,无,无,2012-01-01,极好,12000,1.5万,100,简介,https://weibo.com/u/1000000001,无,无,10,0,True,1,某市人民政府新闻办公室官方微博,无\n"
                .as_bytes(),
        );
        let comments = "id,weibo_id,created_at,user_screen_name,text,pic_url,like_count\n\
                        5200000000000001,4900000000000001,2024-03-01 10:00:00,张三,请问办事地点在哪里？,无,3\n\
                        5200000000000002,4900000000000001,not a time,李四,谢谢,无,0\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(comments);
        write(input.path(), "1000000001_comments.csv", &gbk);

        let (store, report, dir) = import(input.path(), &ImportOptions::default());
        let total = report.total();
        assert!(total.reconciles());
        assert_eq!((total.read, total.new, total.quarantined), (3, 2, 1));
        assert_eq!(report.quarantine[0].field.as_deref(), Some("created_at"));
        assert_eq!(report.quarantine[0].line, 3);

        let accounts = store.read_table(&ACCOUNTS).unwrap().unwrap();
        assert_eq!(ints(&accounts, "followers"), [Some(15_000)]);
        assert_eq!(ints(&accounts, "verified_type"), [Some(1)]);
        assert_eq!(
            strs(&accounts, "certification")[0].as_deref(),
            Some("某市人民政府新闻办公室官方微博")
        );
        let rows = store.read_table(&COMMENTS).unwrap().unwrap();
        assert_eq!(
            strs(&rows, "content")[0].as_deref(),
            Some("请问办事地点在哪里？"),
            "GBK decoded"
        );
        let author = strs(&rows, "author")[0].clone().unwrap();
        assert!(author.starts_with("u_") && author.len() == 18 && !author.contains("张三"));
        assert!(dir.path().join(crate::store::SECRET_FILE).exists());

        // The same store gives the same pseudonym; --keep-identities keeps the name.
        let again = import_paths(
            &store,
            &[input.path().to_path_buf()],
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(again.total().duplicates, 2);
        let (store, _, _d) = import(
            input.path(),
            &ImportOptions {
                keep_identities: true,
                ..Default::default()
            },
        );
        let rows = store.read_table(&COMMENTS).unwrap().unwrap();
        assert_eq!(strs(&rows, "author")[0].as_deref(), Some("张三"));
    }

    #[test]
    fn relative_comment_times_count_back_from_the_export_with_a_note() {
        let input = tempfile::tempdir().unwrap();
        let comments = "id,weibo_id,created_at,user_screen_name,text,pic_url,like_count\n\
                        5200000000000001,4900000000000001,3小时前,张三,请问,无,0\n\
                        5200000000000002,4900000000000001,昨天 08:00,李四,谢谢,无,0\n\
                        5200000000000003,4900000000000001,很久以前,王五,嗯,无,0\n";
        write(input.path(), "1000000001_comments.csv", comments.as_bytes());
        // Exported on 2024-03-01 at 09:30 Beijing time.
        let exported = crate::time::parse_instant_ms("2024-03-01T09:30:00+08:00").unwrap();
        std::fs::File::options()
            .write(true)
            .open(input.path().join("1000000001_comments.csv"))
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_millis(exported as u64))
            .unwrap();
        let (store, report, _d) = import(input.path(), &ImportOptions::default());
        let total = report.total();
        assert_eq!((total.read, total.new, total.quarantined), (3, 2, 1));
        assert!(
            report.files[0]
                .notes
                .iter()
                .any(|n| n.contains("counted back from the file's modification time")),
            "{:?}",
            report.files[0].notes
        );
        assert_eq!(
            comment_times(&store),
            [
                Some(crate::time::parse_instant_ms("2024-03-01T06:30:00+08:00").unwrap()),
                Some(crate::time::parse_instant_ms("2024-02-29T08:00:00+08:00").unwrap()),
            ]
        );
    }

    /// The stored comments' times (epoch ms), in comment id order.
    fn comment_times(store: &Store) -> Vec<Option<i64>> {
        let rows = store
            .read_table(&COMMENTS)
            .unwrap()
            .unwrap()
            .lazy()
            .sort(["comment_id"], Default::default())
            .collect()
            .unwrap();
        rows.column("created_at")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn exported_at_given_overrides_the_files_modification_time() {
        let input = tempfile::tempdir().unwrap();
        let comments = "id,weibo_id,created_at,user_screen_name,text,pic_url,like_count\n\
                        5200000000000001,4900000000000001,16分钟前,张三,请问,无,0\n\
                        5200000000000002,4900000000000001,11-20,李四,谢谢,无,0\n";
        write(input.path(), "1000000001_comments.csv", comments.as_bytes());
        let options = ImportOptions {
            exported_at: Some(crate::time::parse_instant_ms("2025-11-30T18:00:00+08:00").unwrap()),
            ..Default::default()
        };
        let (store, report, _d) = import(input.path(), &options);
        assert_eq!(report.total().new, 2);
        assert!(
            report.files[0]
                .notes
                .iter()
                .any(|n| n.contains("counted back from the export time given (--exported-at)")),
            "{:?}",
            report.files[0].notes
        );
        assert_eq!(
            comment_times(&store),
            [
                Some(crate::time::parse_instant_ms("2025-11-30T17:44:00+08:00").unwrap()),
                Some(crate::time::parse_instant_ms("2025-11-20T00:00:00+08:00").unwrap()),
            ]
        );
    }
}
