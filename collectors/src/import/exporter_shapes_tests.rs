//! The exporters' other shapes: wechat_articles_spider's raw `getmsg` and `appmsg` items (JSON
//! arrays and JSON Lines), exporter JSON whose links carry no `__biz`, and JSON files with bytes
//! that are not text in their encoding.

use std::fs;
use std::path::Path;

use polars::prelude::*;

use crate::import::{ImportOptions, ImportReport, import_paths};
use crate::schema::{ACCOUNTS, POSTS};
use crate::store::Store;

fn import_dir(input: &Path) -> (tempfile::TempDir, Store, ImportReport) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let report = import_paths(&store, &[input.to_path_buf()], &ImportOptions::default()).unwrap();
    (dir, store, report)
}

fn column(store: &Store, spec: &'static crate::schema::TableSpec, name: &str) -> Vec<String> {
    let df = store.read_table(spec).unwrap().unwrap();
    let sorted = df
        .lazy()
        .sort(spec.key.to_vec(), Default::default())
        .collect()
        .unwrap();
    let c = sorted
        .column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    c.str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or("∅").to_string())
        .collect()
}

const BIZ: &str = "MzA5NDc1NzQ4MA==";

fn history_item(id: u64, datetime: i64, mid: u64, extra_articles: usize) -> String {
    let link = |idx: usize| {
        format!("http://mp.weixin.qq.com/s?__biz={BIZ}&amp;mid={mid}&amp;idx={idx}&amp;sn=abc#rd")
    };
    let multi: Vec<String> = (0..extra_articles)
        .map(|i| {
            format!(
                r#"{{"title":"副条{i}","digest":"摘要","content_url":"{}","cover":"","author":"","copyright_stat":100,"del_flag":1}}"#,
                link(i + 2)
            )
        })
        .collect();
    format!(
        r#"{{"comm_msg_info":{{"id":{id},"type":49,"datetime":{datetime},"fakeid":"3094757480","status":2,"content":""}},"app_msg_ext_info":{{"title":"头条","digest":"今日要闻","content_url":"{}","source_url":"","cover":"","author":"","copyright_stat":11,"del_flag":1,"is_multi":1,"multi_app_msg_item_list":[{}]}}}}"#,
        link(1),
        multi.join(",")
    )
}

#[test]
fn getmsg_items_as_an_array_and_as_json_lines_make_one_post_per_article() {
    let input = tempfile::tempdir().unwrap();
    let array = format!(
        "[{},\n{}]",
        history_item(1000000001, 1_732_500_000, 2650000001, 2),
        history_item(1000000002, 1_732_600_000, 2650000002, 0)
    );
    fs::write(input.path().join("history.json"), array).unwrap();
    // The same messages again as JSON Lines, plus a text message (no link: the account comes
    // from `fakeid`), a deleted article and a message without a time.
    let lines = [
        history_item(1000000001, 1_732_500_000, 2650000001, 2),
        r#"{"comm_msg_info":{"id":1000000003,"type":1,"datetime":1732700000,"fakeid":"3094757480","status":2,"content":"今晚停水通知"}}"#.to_string(),
        history_item(1000000004, 1_732_800_000, 2650000004, 0).replace(r#""del_flag":1,"is_multi""#, r#""del_flag":4,"is_multi""#),
        r#"{"comm_msg_info":{"id":1000000005,"type":49,"fakeid":"3094757480"}}"#.to_string(),
    ];
    fs::write(input.path().join("history.jsonl"), lines.join("\n")).unwrap();
    let (_dir, store, report) = import_dir(input.path());
    for f in &report.files {
        assert_eq!(f.format.as_deref(), Some("wechat-history-json"), "{f:?}");
        assert!(f.reconciles(), "{f:?}");
    }
    let total = report.total();
    // 4 + 3 + 1 + 1 posts read and 1 message without a time; the repeated message is 3 duplicates.
    assert_eq!(
        (total.read, total.new, total.duplicates, total.quarantined),
        (10, 6, 3, 1)
    );
    assert_eq!(report.quarantine[0].field.as_deref(), Some("published_at"));
    let account = format!("wechat:biz_{}", BIZ.trim_end_matches('='));
    assert!(
        column(&store, &POSTS, "account_id")
            .iter()
            .all(|a| *a == account)
    );
    assert_eq!(
        column(&store, &POSTS, "post_id"),
        [
            "2650000001_1",
            "2650000001_2",
            "2650000001_3",
            "2650000002_1",
            "2650000004_1",
            "msg1000000003"
        ]
    );
    assert_eq!(
        column(&store, &POSTS, "position"),
        ["0", "1", "2", "0", "0", "0"]
    );
    assert_eq!(
        column(&store, &POSTS, "is_deleted"),
        ["false", "false", "false", "false", "true", "∅"]
    );
    assert_eq!(
        column(&store, &POSTS, "is_original"),
        ["true", "false", "false", "true", "true", "∅"]
    );
    assert_eq!(column(&store, &POSTS, "text")[5], "今晚停水通知");
}

#[test]
fn the_account_id_of_a_fakeid_is_the_base64_biz() {
    assert_eq!(crate::transform::wechat::biz_of_fakeid("3094757480"), BIZ);
    assert_eq!(crate::transform::wechat::biz_of_fakeid("1"), "MQ==");
    assert_eq!(crate::transform::wechat::biz_of_fakeid("12"), "MTI=");
}

#[test]
fn appmsg_items_without_biz_fall_back_to_the_account_name_then_the_file_name() {
    let input = tempfile::tempdir().unwrap();
    // appmsg list_ex items (web backend) whose links are short links without __biz.
    let item = |aid: &str, name: Option<&str>| {
        let name = name.map_or(String::new(), |n| format!(r#","_accountName":"{n}""#));
        format!(
            r#"{{"aid":"{aid}","appmsgid":{},"itemidx":1,"title":"通知","digest":"摘要","link":"https://mp.weixin.qq.com/s/AbCdEf{aid}","cover":"","create_time":1732500000,"update_time":1732500100{name}}}"#,
            &aid[..10]
        )
    };
    fs::write(
        input.path().join("某市发布.jsonl"),
        format!(
            "{}\n{}\n",
            item("2650000011_1", Some("某市发布")),
            item("2650000012_1", Some("某市发布"))
        ),
    )
    .unwrap();
    fs::write(
        input.path().join("某县融媒.json"),
        format!("[{}]", item("2650000021_1", None)),
    )
    .unwrap();
    let (_dir, store, report) = import_dir(input.path());
    let total = report.total();
    assert_eq!(
        (total.read, total.new, total.quarantined),
        (3, 3, 0),
        "{report:?}"
    );
    let by_name = crate::transform::wechat::derived_name_account_id("某市发布");
    let by_file = crate::transform::wechat::derived_name_account_id("某县融媒");
    let named = report
        .files
        .iter()
        .find(|f| f.source.ends_with("某市发布.jsonl"))
        .unwrap();
    assert!(
        named
            .notes
            .iter()
            .any(|n| n.contains(&by_name) && n.contains("_accountName")),
        "{:?}",
        named.notes
    );
    let unnamed = report
        .files
        .iter()
        .find(|f| f.source.ends_with("某县融媒.json"))
        .unwrap();
    assert!(
        unnamed
            .notes
            .iter()
            .any(|n| n.contains(&by_file) && n.contains("the file name")),
        "{:?}",
        unnamed.notes
    );
    let mut ids = column(&store, &ACCOUNTS, "account_id");
    ids.sort();
    let mut expected = vec![by_name.clone(), by_file.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let names = column(&store, &ACCOUNTS, "name");
    assert!(names.contains(&"某县融媒".to_string()));
}

#[test]
fn a_json_record_with_bytes_that_are_not_text_is_quarantined_and_the_rest_imports() {
    let input = tempfile::tempdir().unwrap();
    let good = |aid: &str| {
        format!(
            r#"{{"aid":"{aid}","appmsgid":{},"itemidx":1,"title":"政务公开通知","link":"http://mp.weixin.qq.com/s?__biz={BIZ}&mid={}&idx=1","create_time":1732500000}}"#,
            &aid[..10],
            &aid[..10]
        )
    };
    let mut bytes = b"[".to_vec();
    bytes.extend(good("2650000031_1").as_bytes());
    bytes.extend(b",\n");
    // A title in GBK inside a UTF-8 file.
    let gbk_title = encoding_rs::GBK.encode("政务新媒体").0.into_owned();
    bytes.extend(
        format!(
            r#"{{"aid":"2650000032_1","appmsgid":2650000032,"itemidx":1,"link":"http://mp.weixin.qq.com/s?__biz={BIZ}&mid=2650000032&idx=1","create_time":1732500000,"title":""#
        )
        .as_bytes(),
    );
    bytes.extend(&gbk_title);
    bytes.extend(b"\"}");
    for i in 0..18 {
        bytes.extend(b",\n");
        bytes.extend(good(&format!("26500001{i:02}_1")).as_bytes());
    }
    bytes.extend(b"]");
    fs::write(input.path().join("articles.json"), bytes).unwrap();
    let (_dir, store, report) = import_dir(input.path());
    let f = &report.files[0];
    assert_eq!((f.read, f.new, f.quarantined), (20, 19, 1), "{f:?}");
    assert!(
        report.quarantine[0].reason.contains("not valid text"),
        "{:?}",
        report.quarantine[0]
    );
    assert_eq!(
        report.quarantine[0].line, 2,
        "the record's number in the list"
    );
    assert!(
        column(&store, &POSTS, "title")
            .iter()
            .all(|t| !t.contains('\u{fffd}')),
        "never stored with replacement characters"
    );
}
