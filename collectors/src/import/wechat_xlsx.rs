//! wechat-article-exporter's Excel export `微信公众号文章.xlsx` (read with calamine): `公众号,
//! ID(aid), 链接, 标题, 封面, 摘要, 创建时间, 发布时间, 阅读, 点赞, 分享, 喜欢, 留言, 作者, 是否原创,
//! 文章类型, 所属合集, 文章内容`. Times are the exporting machine's local time, read as Beijing
//! time. Each row goes through the same article transform as the exporter's JSON.

use calamine::{Data, Reader, open_workbook_auto};
use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value as Json};

use super::json::emit;
use super::{Format, RecordSink, SourceFile};
use crate::Error;
use crate::transform::wechat;

/// Header → the exporter JSON's field name.
const COLUMNS: [(&str, &str); 12] = [
    ("公众号", "_accountName"),
    ("ID(aid)", "aid"),
    ("链接", "link"),
    ("标题", "title"),
    ("摘要", "digest"),
    ("发布时间", "date"),
    ("阅读", "readNum"),
    ("点赞", "oldLikeNum"),
    ("喜欢", "likeNum"),
    ("分享", "shareNum"),
    ("留言", "commentNum"),
    ("文章内容", "content"),
];

/// A cell as text: integers without `.0`, Excel dates as `YYYY-MM-DD HH:MM:SS`.
fn cell_text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty | Data::Error(_) => None,
        Data::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
        Data::Float(f) => Some(f.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(d) => {
            // Excel serial days since 1899-12-30 (the 1900 leap-year bug already folded in).
            let serial = d.as_f64();
            let base = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
            let at = base + Duration::milliseconds((serial * 86_400_000.0).round() as i64);
            Some(at.format("%Y-%m-%d %H:%M:%S").to_string())
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
    }
}

pub struct WechatArticleExporterXlsx;

impl Format for WechatArticleExporterXlsx {
    fn name(&self) -> &'static str {
        "wechat-article-exporter-xlsx"
    }

    fn description(&self) -> &'static str {
        "wechat-article-exporter Excel export (公众号, ID(aid), 链接, 标题, …, 阅读, 点赞, 分享, 喜欢)"
    }

    fn detect(&self, file: &SourceFile, _head: &[u8]) -> bool {
        file.file_name().to_ascii_lowercase().ends_with(".xlsx")
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let bad = |msg: String| Error::Input(format!("{}: {msg}", file.display()));
        let mut workbook = open_workbook_auto(&file.path)
            .map_err(|e| bad(format!("not a readable workbook: {e}")))?;
        let range = workbook
            .worksheet_range_at(0)
            .ok_or_else(|| bad("the workbook has no sheet".into()))?
            .map_err(|e| bad(format!("the first sheet cannot be read: {e}")))?;
        let mut rows = range.rows();
        let header: Vec<String> = rows
            .next()
            .ok_or_else(|| bad("the sheet is empty".into()))?
            .iter()
            .map(|c| cell_text(c).unwrap_or_default())
            .collect();
        if !header.iter().any(|h| h == "链接") || !header.iter().any(|h| h == "标题") {
            return Err(bad(format!(
                "row 1: expected the wechat-article-exporter header (公众号, ID(aid), 链接, 标题, …), found {}",
                header.join(", ")
            )));
        }
        let account = super::json::wechat_account(file, sink).ok();
        if account.is_none() {
            sink.note(
                "WeChat articles without a gh_ id: accounts are wechat:biz_<__biz> from the \
                 article links"
                    .into(),
            );
        }
        for (i, cells) in rows.enumerate() {
            let line = i as u64 + 2;
            let mut record = Map::new();
            for (h, cell) in header.iter().zip(cells) {
                let Some(key) = COLUMNS.iter().find(|(name, _)| name == h).map(|(_, k)| *k) else {
                    continue;
                };
                if let Some(text) = cell_text(cell) {
                    record.insert(key.to_string(), Json::String(text));
                }
            }
            if record.is_empty() {
                continue;
            }
            let record = Json::Object(record);
            let raw = record.to_string();
            let outs =
                sink.transform(|ctx| wechat::exported_article(&record, ctx, account.as_deref()));
            emit(sink, outs, line, &raw);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::import::{ImportOptions, import_paths};
    use crate::schema::POSTS;
    use crate::store::Store;

    #[test]
    fn the_excel_export_imports_like_the_json_one() {
        let input = tempfile::tempdir().unwrap();
        let path = input.path().join("微信公众号文章.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let header = [
            "公众号",
            "ID(aid)",
            "链接",
            "标题",
            "封面",
            "摘要",
            "创建时间",
            "发布时间",
            "阅读",
            "点赞",
            "分享",
            "喜欢",
            "留言",
            "作者",
            "是否原创",
            "文章类型",
            "所属合集",
            "文章内容",
        ];
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        let link = "https://mp.weixin.qq.com/s?__biz=MzA5NjAwMDAwMQ==&mid=2650000001&idx=1&sn=a";
        sheet.write_string(1, 0, "某市发布").unwrap();
        sheet.write_string(1, 1, "2650000001_1").unwrap();
        sheet.write_string(1, 2, link).unwrap();
        sheet.write_string(1, 3, "关于印发某某办法的通知").unwrap();
        sheet.write_string(1, 7, "2024-03-01 09:30:00").unwrap();
        sheet.write_string(1, 8, "10万+").unwrap();
        sheet.write_number(1, 9, 12.0).unwrap();
        sheet.write_number(1, 11, 3.0).unwrap();
        // A row whose link names no account: quarantined, not guessed.
        sheet.write_string(2, 2, "https://example.com/x").unwrap();
        sheet.write_string(2, 3, "坏行").unwrap();
        sheet.write_string(2, 7, "2024-03-02 09:30:00").unwrap();
        book.save(&path).unwrap();

        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let report = import_paths(
            &store,
            &[input.path().to_path_buf()],
            &ImportOptions::default(),
        )
        .unwrap();
        let f = &report.files[0];
        assert_eq!(f.format.as_deref(), Some("wechat-article-exporter-xlsx"));
        assert!(f.error.is_none() && f.reconciles(), "{f:?}");
        assert_eq!((f.read, f.new, f.quarantined), (2, 1, 1));
        assert_eq!(report.quarantine[0].line, 3);
        let posts = store.read_table(&POSTS).unwrap().unwrap();
        assert_eq!(
            posts.column("read_count").unwrap().i64().unwrap().get(0),
            Some(100_001)
        );
        assert_eq!(
            posts.column("like_count").unwrap().i64().unwrap().get(0),
            Some(12)
        );
        assert_eq!(
            posts.column("watch_count").unwrap().i64().unwrap().get(0),
            Some(3)
        );
        assert_eq!(
            posts
                .column("published_at")
                .unwrap()
                .cast(&polars::prelude::DataType::Int64)
                .unwrap()
                .i64()
                .unwrap()
                .get(0),
            Some(crate::time::parse_instant_ms("2024-03-01T09:30:00+08:00").unwrap())
        );
    }
}
