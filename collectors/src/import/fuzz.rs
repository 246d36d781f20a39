//! Fuzzing the parsers (proptest): arbitrary text into the quirk parsers and the JSON array
//! scanner, and mutated fixtures into every import format. The properties: nothing panics, and
//! every record read is accounted for (`read = new + updated + duplicates + quarantined`).
//!
//! CI runs a few cases each; a long run, outside CI: `scripts/fuzz PARSER_CASES IMPORT_CASES`
//! (`GOVMEDIA_FUZZ_CASES`, `GOVMEDIA_FUZZ_IMPORT_CASES`).

use proptest::prelude::*;

use super::json::scan_array_for_fuzz;
use super::quirks::{clean_id, parse_count, parse_export_time};
use super::{ImportOptions, format_by_name, formats, import_paths};
use crate::store::Store;

fn cases() -> u32 {
    std::env::var("GOVMEDIA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

/// A small valid input per format, with the file name it needs.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let text: Vec<(&str, &str, &str)> = vec![
        (
            "canonical-jsonl",
            "posts.jsonl",
            "{\"account_id\":\"weibo:1\",\"post_id\":\"a\",\"published_at\":1700000000,\"read_count\":\"3\"}\n",
        ),
        (
            "canonical-csv",
            "posts.csv",
            "account_id,post_id,published_at,links\nweibo:1,a,2024-03-01 09:30:00,x|y\n",
        ),
        (
            "weibo-crawler-posts",
            "1000000001.csv",
            "id,bid,正文,日期,点赞数,评论数,转发数,完整日期\n49\t,Mk1,通知,2023-05-04,10万+,1.2万,无,2024-03-01 09:30:00\n",
        ),
        (
            "weibo-crawler-users",
            "users.csv",
            "用户id,昵称,粉丝数,是否认证,认证类型,认证信息\n1001,某市发布,1.5万,True,1,某市政府\n",
        ),
        (
            "weibo-crawler-comments",
            "1001_comments.csv",
            "id,weibo_id,created_at,user_screen_name,text,pic_url,like_count\n5,4,2024-03-01 10:00:00,张三,请问,无,3\n",
        ),
        (
            "weibospider-csv",
            "1001.csv",
            "微博id,微博正文,发布时间,点赞数,转发数,评论数\nMk1,通知,2024-03-01 09:30,1,无,3\n",
        ),
        (
            "weibospider-csv",
            "1002.csv",
            "微博正文,发布位置,发布时间,点赞数,转发数,评论数,发布工具\n通知,无,2019-03-01 09:30\u{a0},1,无,3,网页\n",
        ),
        (
            "weibo-search-csv",
            "搜索.csv",
            "id,bid,user_id,用户昵称,微博正文,头条文章url,发布位置,艾特用户,话题,转发数,评论数,点赞数,发布时间,发布工具,微博图片url,微博视频url,retweet_id,ip,user_authentication\n49,Mk1,1001,某市发布,通知,,,,,1,2,3,2024-03-01 09:30,网页,,,,北京,蓝V\n",
        ),
        (
            "wechat-history-json",
            "history.jsonl",
            r#"{"comm_msg_info":{"id":1,"type":49,"datetime":1709256600,"fakeid":"3094757480"},"app_msg_ext_info":{"title":"t","content_url":"http://mp.weixin.qq.com/s?__biz=B&amp;mid=1&amp;idx=1","del_flag":1,"multi_app_msg_item_list":[{"title":"u","content_url":"http://mp.weixin.qq.com/s?__biz=B&amp;mid=1&amp;idx=2"}]}}"#,
        ),
        (
            "weibo-api-timeline",
            "t.json",
            r#"{"statuses":[{"created_at":"Tue May 31 17:46:55 +0800 2011","id":11,"user":{"id":1,"screen_name":"a"}},{"id":12,"deleted":"1"}]}"#,
        ),
        (
            "weibo-api-comments",
            "c.json",
            r#"{"comments":[{"created_at":"Wed Jun 01 10:00:00 +0800 2011","id":5,"user":{"id":7},"status":{"id":11,"user":{"id":1}},"reply_comment":{"id":4}}]}"#,
        ),
        (
            "weibo-api-user",
            "u.json",
            r#"{"id":1,"screen_name":"a","followers_count":"1万"}"#,
        ),
        (
            "weibo-crawler-json",
            "1.json",
            r#"{"user":{"id":"1","screen_name":"a"},"weibo":[{"id":"2","created_at":"2024-03-01","full_created_at":"2024-03-01 09:30:00"}]}"#,
        ),
        (
            "appstore-lookup",
            "l.json",
            r#"{"resultCount":1,"results":[{"trackId":1,"trackName":"x","version":"1","currentVersionReleaseDate":"2025-11-02T07:00:00Z"}]}"#,
        ),
        (
            "wechat-api-authorizer",
            "a.json",
            r#"{"authorizer_info":{"nick_name":"a","user_name":"gh_1","service_type_info":{"id":2}}}"#,
        ),
        (
            "wechat-api-articles",
            "gh_abc/f.json",
            r#"{"item":[{"article_id":"A","update_time":1709256600,"content":{"news_item":[{"title":"t","url":"https://mp.weixin.qq.com/s?__biz=B&mid=1&idx=1"}]}}]}"#,
        ),
        (
            "wechat-api-comments",
            "gh_abc/comments_1_0.json",
            r#"{"comment":[{"user_comment_id":1,"openid":"o","create_time":1709260000,"reply":{"content":"r","create_time":1709263600}}]}"#,
        ),
        (
            "wechat-api-menu",
            "gh_abc/menu.json",
            r#"{"menu":{"button":[{"name":"a","sub_button":[{"type":"view","name":"b","url":"https://x"}]}]},"conditionalmenu":[{"button":[],"menuid":1}]}"#,
        ),
        (
            "wechat-api-datacube",
            "gh_abc/total.json",
            r#"{"list":[{"msgid":"1_1","details":[{"stat_date":"2024-03-01","int_page_read_count":3}]}]}"#,
        ),
        (
            "wechat-articles-json",
            "articles.json",
            r#"[{"appmsgid":1,"itemidx":1,"link":"https://mp.weixin.qq.com/s?__biz=B&mid=1&idx=1","create_time":1709256600,"comments":[{"content_id":"c","create_time":1709260000}]}]"#,
        ),
        (
            "app-endpoint-json",
            "news/p0001.json",
            r#"{"data":{"list":[{"id":7,"publishTime":"2025-11-02 09:30","title":"t","views":"1.2万"}]}}"#,
        ),
        (
            "wechat-articles-csv",
            "spider.csv",
            "url,title,date,read_num,like_num\nhttps://mp.weixin.qq.com/s?__biz=B&mid=1&idx=1,t,2024-03-03 08:00:00,1.2万,5\n",
        ),
    ];
    let mut seeds: Vec<(&str, &str, Vec<u8>)> = text
        .into_iter()
        .map(|(f, n, t)| (f, n, t.as_bytes().to_vec()))
        .collect();
    seeds.push((
        "wechat-article-exporter-xlsx",
        "微信公众号文章.xlsx",
        xlsx_seed(),
    ));
    seeds
}

/// A one-row workbook in the exporter's layout.
fn xlsx_seed() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["公众号", "链接", "标题", "发布时间", "阅读"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in [
        "某市发布",
        "https://mp.weixin.qq.com/s?__biz=B&mid=1&idx=1",
        "t",
        "2024-03-01 09:30:00",
        "10万+",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// Applies byte edits (position, byte, kind) to a seed.
fn mutate(seed: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for &(at, byte, kind) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let i = at % bytes.len();
        match kind % 4 {
            0 => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            2 => {
                bytes.remove(i);
            }
            _ => bytes.truncate(i),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_quirk_parsers_never_panic(text in "\\PC{0,40}") {
        let _ = parse_count(&text);
        let _ = clean_id(&text);
        let _ = parse_export_time(&text);
    }

    #[test]
    fn fuzz_json_array_scanner_returns_slices_of_its_input(text in "[\\[\\]{}\",:\\\\a-z0-9 ]{0,80}") {
        for element in scan_array_for_fuzz(&text) {
            prop_assert!(text.contains(element));
        }
    }

}

/// Cases of the import target (a whole import each, so far slower than the parsers'):
/// `GOVMEDIA_FUZZ_IMPORT_CASES`, else the parsers' count.
fn import_cases() -> u32 {
    std::env::var("GOVMEDIA_FUZZ_IMPORT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(cases)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: import_cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_every_format_accounts_for_every_record(
        which in 0usize..64,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6),
    ) {
        let seeds = seeds();
        let (format, name, seed) = &seeds[which % seeds.len()];
        let (format, name) = (*format, *name);
        prop_assert!(format_by_name(format).is_some(), "seed for unknown format {}", format);
        let input = tempfile::tempdir().unwrap();
        let path = input.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, mutate(seed, &edits)).unwrap();
        if format == "app-endpoint-json" {
            // The mapping the collector saves beside the pages (not mutated: it is ours).
            std::fs::write(
                path.with_file_name(crate::transform::app_endpoint::MAPPING_FILE),
                r#"{"account_id":"app:1","table":"posts","list":"data.list","fields":{"post_id":"id","published_at":"publishTime","title":"title","read_count":"views"}}"#,
            )
            .unwrap();
        }
        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let opts = ImportOptions { format: Some(format.to_string()), ..Default::default() };
        let report = import_paths(&store, &[path], &opts).unwrap();
        for f in &report.files {
            prop_assert!(f.reconciles(), "{:?}", f);
        }
    }
}

#[test]
fn every_format_has_a_fuzz_seed() {
    let seeded: Vec<&str> = seeds().iter().map(|s| s.0).collect();
    for f in formats() {
        if f.name() != "demo-manifest" {
            assert!(seeded.contains(&f.name()), "{} has no fuzz seed", f.name());
        }
    }
}
