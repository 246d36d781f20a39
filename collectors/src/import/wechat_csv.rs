//! wechat_articles_spider CSV: the dict columns (`aid, appmsgid, itemidx, title, digest, link,
//! cover, update_time, read_num, like_num, old_like_num`) or the simple `url, title, date,
//! read_num, like_num`. Each row goes through the same transform as the JSON exports.

use super::weibo_crawler::{csv_header, for_each_csv_row};
use super::{Format, RecordSink, SourceFile, json::emit};
use crate::Error;
use crate::transform::wechat;

pub struct WechatArticlesSpiderCsv;

impl Format for WechatArticlesSpiderCsv {
    fn name(&self) -> &'static str {
        "wechat-articles-csv"
    }

    fn description(&self) -> &'static str {
        "wechat_articles_spider CSV (aid, appmsgid, itemidx, …, read_num or url, title, date, read_num, like_num)"
    }

    fn detect(&self, file: &SourceFile, head: &[u8]) -> bool {
        csv_header(file, head).is_some_and(|first| {
            let fields: Vec<&str> = first.split(',').map(str::trim).collect();
            fields.contains(&"read_num") && (fields.contains(&"url") || fields.contains(&"link"))
        })
    }

    fn read(&self, file: &SourceFile, sink: &mut RecordSink<'_>) -> Result<(), Error> {
        let account = super::json::wechat_account(file, sink).ok();
        if account.is_none() {
            sink.note(
                "WeChat articles without a gh_ id: accounts are wechat:biz_<__biz> from the \
                 article links"
                    .into(),
            );
        }
        for_each_csv_row(file, sink, |sink, fields, line, raw| {
            let record = fields.to_json();
            let outs =
                sink.transform(|ctx| wechat::exported_article(&record, ctx, account.as_deref()));
            emit(sink, outs, line, raw);
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::import::{ImportOptions, import_paths};
    use crate::schema::{COMMENTS, POSTS};
    use crate::store::Store;

    #[test]
    fn exporter_json_and_spider_csvs_import_into_the_same_account() {
        let input = tempfile::tempdir().unwrap();
        fs::write(
            input.path().join("articles.json"),
            r#"[{"aid":"2650000001_1","appmsgid":2650000001,"itemidx":1,"title":"头条",
                 "link":"https://mp.weixin.qq.com/s?__biz=MzA5NjAwMDAwMQ==&amp;mid=2650000001&amp;idx=1&amp;sn=a",
                 "create_time":1709256600,"_accountName":"某市发布","readNum":"10万+","likeNum":3,
                 "comments":[{"content_id":"c1","content":"好","create_time":1709260000,"nick_name":"李四"}]}]"#,
        )
        .unwrap();
        fs::write(
            input.path().join("spider.csv"),
            "aid,appmsgid,itemidx,title,digest,link,cover,update_time,read_num,like_num,old_like_num\n\
             2650000002_1,2650000002,1,次日,摘要,https://mp.weixin.qq.com/s?__biz=MzA5NjAwMDAwMQ==&mid=2650000002&idx=1,无,1709343000,120,4,9\n",
        )
        .unwrap();
        fs::write(
            input.path().join("simple.csv"),
            "url,title,date,read_num,like_num\n\
             https://mp.weixin.qq.com/s?__biz=MzA5NjAwMDAwMQ==&mid=2650000003&idx=1,第三篇,2024-03-03 08:00:00,1.2万,5\n\
             https://example.com/no-biz,坏链接,2024-03-03 09:00:00,1,1\n",
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
        let fmt = |n: &str| {
            report
                .files
                .iter()
                .find(|f| f.source.ends_with(n))
                .unwrap()
                .format
                .clone()
                .unwrap()
        };
        assert_eq!(fmt("articles.json"), "wechat-articles-json");
        assert_eq!(fmt("spider.csv"), "wechat-articles-csv");
        assert_eq!(fmt("simple.csv"), "wechat-articles-csv");
        for f in &report.files {
            assert!(f.error.is_none() && f.reconciles(), "{f:?}");
        }
        let total = report.total();
        assert_eq!(
            (total.read, total.new, total.quarantined),
            (5, 4, 1),
            "3 posts + 1 comment; the link without __biz quarantined"
        );
        assert!(report.quarantine[0].reason.contains("__biz"));
        let posts = store.read_table(&POSTS).unwrap().unwrap();
        let ids: Vec<&str> = posts
            .column("account_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert!(ids.iter().all(|i| *i == "wechat:biz_MzA5NjAwMDAwMQ"));
        let reads: Vec<Option<i64>> = posts
            .column("read_count")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(reads, [Some(100_001), Some(120), Some(12_000)]);
        let watches: Vec<Option<i64>> = posts
            .column("watch_count")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(watches, [Some(3), Some(4), Some(5)], "like_num is 在看");
        assert_eq!(store.read_table(&COMMENTS).unwrap().unwrap().height(), 1);
    }
}
