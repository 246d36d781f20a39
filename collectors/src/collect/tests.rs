//! The collectors against a local mock of each platform's API (real HTTP over TCP, responses in
//! the documented shapes): full paging of every endpoint, token expiry, busy and rate-limit
//! answers, the daily quota, a run that dies midway and resumes, malformed JSON, secrets.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;
use serde_json::{Value as Json, json};

use super::*;
use crate::schema::{ACCOUNTS, COMMENTS, MENUS, POSTS, TableSpec};
use crate::testserver::{Reply, Request, RequestLog, serve_with};

const SECRET: &str = "s3cr3t-AppSecret-do-not-leak";
const TOKEN_PREFIX: &str = "ACCESS-TOKEN-";

/// 2025-11-10 12:00 Beijing time.
fn now() -> DateTime<Utc> {
    "2025-11-10T04:00:00Z".parse().unwrap()
}

fn options() -> RunOptions {
    RunOptions {
        since: None,
        progress: false,
        now: now(),
    }
}

/// Fast limits, so the tests' retries take milliseconds.
const FAST_LIMITS: &str =
    "[wechat.limits]\nqps = 500\nburst = 10\nbackoff_ms = 2\nmax_backoff_ms = 10\n";

// ---------------------------------------------------------------------------------------------
// WeChat mock

/// What the WeChat mock does beyond answering: injected faults, keyed by a request's
/// description (`freepublish offset 20`, `comment 2650000010 begin 49` …).
#[derive(Default)]
struct Faults {
    /// Answer these once with this body (then normally).
    once: BTreeMap<String, String>,
    /// Answer these with HTTP 500 while set.
    down: Vec<String>,
}

const ARTICLES: i64 = 45;

fn article_mid(i: i64) -> i64 {
    2_650_000_000 + i
}

/// Article `i` (0 = newest), one every two days back from 2025-11-09.
fn article(i: i64) -> Json {
    json!({
        "article_id": format!("ART{i}"),
        "update_time": 1_762_650_000 - i * 2 * 86_400,
        "content": {"news_item": [{
            "title": format!("工作动态{i}"),
            "author": "办公室",
            "digest": "摘要",
            "content": "<p>正文</p>",
            "url": format!("https://mp.weixin.qq.com/s?__biz=MzA&mid={}&idx=1&sn=x", article_mid(i)),
            // Every tenth article is open to comments.
            "need_open_comment": if i % 10 == 0 { 1 } else { 0 },
            "only_fans_can_comment": 0,
            "is_deleted": false
        }]}
    })
}

/// Comments per open article: 60 (two full pages of 49 would be 98: this is 49 + 11).
const COMMENTS_PER_ARTICLE: i64 = 60;

fn wechat_handler(
    faults: Arc<Mutex<Faults>>,
    tokens: Arc<Mutex<u32>>,
) -> impl Fn(&Request) -> Reply {
    move |r: &Request| {
        let body: Json = serde_json::from_str(&r.body).unwrap_or(Json::Null);
        let int = |k: &str| body.get(k).and_then(Json::as_i64).unwrap_or(0);
        let what = match r.path.as_str() {
            "/cgi-bin/token" => "token".to_string(),
            "/cgi-bin/freepublish/batchget" => format!("freepublish offset {}", int("offset")),
            "/cgi-bin/material/batchget_material" => format!("material offset {}", int("offset")),
            "/cgi-bin/comment/list" => {
                format!("comment {} begin {}", int("msg_data_id"), int("begin"))
            }
            "/datacube/getarticlesummary" | "/datacube/getarticletotal" => format!(
                "{} {}",
                r.path.trim_start_matches("/datacube/"),
                body["begin_date"].as_str().unwrap_or("")
            ),
            other => other.trim_start_matches('/').to_string(),
        };
        {
            let mut f = faults.lock().unwrap();
            if f.down.contains(&what) {
                return Reply::json(500, "internal error");
            }
            if let Some(answer) = f.once.remove(&what) {
                return Reply::json(200, answer);
            }
        }
        if what != "token" && !r.path.starts_with("/cgi-bin/component/") {
            let current = format!("{TOKEN_PREFIX}{}", *tokens.lock().unwrap());
            if r.param("access_token").as_deref() != Some(current.as_str()) {
                return Reply::json(200, r#"{"errcode":40001,"errmsg":"invalid credential"}"#);
            }
        }
        let answer = match r.path.as_str() {
            "/cgi-bin/token" => {
                assert_eq!(r.param("secret").as_deref(), Some(SECRET));
                let mut n = tokens.lock().unwrap();
                *n += 1;
                json!({"access_token": format!("{TOKEN_PREFIX}{n}"), "expires_in": 7200})
            }
            "/cgi-bin/freepublish/batchget" => {
                let (offset, count) = (int("offset"), int("count"));
                assert!((1..=20).contains(&count));
                let items: Vec<Json> = (offset..(offset + count).min(ARTICLES))
                    .map(article)
                    .collect();
                json!({"total_count": ARTICLES, "item_count": items.len(), "item": items})
            }
            "/cgi-bin/material/batchget_material" => {
                assert_eq!(body["type"], "news");
                let items: Vec<Json> = if int("offset") == 0 {
                    vec![json!({"media_id": "MEDIA1", "update_time": 1_762_000_000,
                        "content": {"news_item": [{"title": "群发通知", "url": "https://mp.weixin.qq.com/s?__biz=MzA&mid=2650009999&idx=1", "need_open_comment": 0}]}})]
                } else {
                    vec![]
                };
                json!({"total_count": 1, "item_count": items.len(), "item": items})
            }
            "/cgi-bin/get_current_selfmenu_info" => {
                json!({"is_menu_open": 1, "selfmenu_info": {"button": [
                    {"name": "办事", "sub_button": {"list": [{"type": "view", "name": "网上办事", "url": "https://zwfw.example.gov.cn/"}]}},
                    {"type": "view", "name": "查询", "url": "https://cx.example.gov.cn/"}
                ]}})
            }
            "/cgi-bin/menu/get" => json!({"menu": {"button": [
                {"name": "办事", "sub_button": [{"type": "view", "name": "网上办事", "url": "https://zwfw.example.gov.cn/"}]},
                {"type": "view", "name": "查询", "url": "https://cx.example.gov.cn/"}
            ]}}),
            "/cgi-bin/comment/list" => {
                let (begin, count) = (int("begin"), int("count"));
                assert!(count < 50, "comment/list count must be under 50");
                let mid = int("msg_data_id");
                let comments: Vec<Json> = (begin..(begin + count).min(COMMENTS_PER_ARTICLE))
                    .map(|c| json!({"user_comment_id": c + 1, "openid": format!("oPENID{c}"),
                        "create_time": 1_762_000_000 + c * 60, "content": format!("留言{c}"),
                        "comment_type": 0,
                        "reply": {"content": "已收到", "create_time": 1_762_000_000 + c * 60 + 3600}}))
                    .collect();
                assert!(mid > 0);
                // `total` is the page size here, as the platform sometimes answers.
                json!({"errcode": 0, "errmsg": "ok", "total": comments.len(), "comment": comments})
            }
            "/datacube/getarticlesummary" | "/datacube/getarticletotal" => {
                assert_eq!(body["begin_date"], body["end_date"], "one day per request");
                json!({"list": [{"ref_date": body["begin_date"], "msgid": format!("{}_1", article_mid(0)),
                    "title": "工作动态0", "int_page_read_user": 10, "int_page_read_count": 12,
                    "share_user": 1, "share_count": 1, "add_to_fav_user": 0, "add_to_fav_count": 0}]})
            }
            "/cgi-bin/component/api_component_token" => {
                assert_eq!(body["component_verify_ticket"], "ticket@@@x");
                json!({"component_access_token": "COMPONENT-TOKEN", "expires_in": 7200})
            }
            "/cgi-bin/component/api_get_authorizer_info" => {
                assert_eq!(
                    r.param("component_access_token").as_deref(),
                    Some("COMPONENT-TOKEN")
                );
                json!({"authorizer_info": {"nick_name": "某市发布", "user_name": "gh_abc123",
                    "principal_name": "某市人民政府办公室", "service_type_info": {"id": 2},
                    "verify_type_info": {"id": 0}, "account_status": 1}})
            }
            _ => return Reply::json(404, "{}"),
        };
        Reply::json(200, answer.to_string())
    }
}

struct WechatMock {
    addr: std::net::SocketAddr,
    log: RequestLog,
    faults: Arc<Mutex<Faults>>,
    tokens: Arc<Mutex<u32>>,
}

fn wechat_mock() -> WechatMock {
    let faults = Arc::new(Mutex::new(Faults::default()));
    let tokens = Arc::new(Mutex::new(0));
    let (addr, log) = serve_with(Arc::new(wechat_handler(faults.clone(), tokens.clone())));
    WechatMock {
        addr,
        log,
        faults,
        tokens,
    }
}

fn wechat_config(dir: &std::path::Path, addr: std::net::SocketAddr, extra: &str) -> CollectConfig {
    std::fs::write(
        dir.join("secrets.toml"),
        format!(
            "gh_abc123 = \"{SECRET}\"\ncomponent = \"component-secret\"\nticket = \"ticket@@@x\"\n"
        ),
    )
    .unwrap();
    let path = dir.join("collect.toml");
    std::fs::write(
        &path,
        format!(
            "secrets_file = \"secrets.toml\"\n[wechat]\napi_base = \"http://{addr}\"\n\
             datacube_days = 2\n{extra}\n{FAST_LIMITS}\
             [[wechat.accounts]]\nid = \"gh_abc123\"\nappid = \"wx123\"\n"
        ),
    )
    .unwrap();
    CollectConfig::load(&path).unwrap()
}

fn count_requests(log: &RequestLog, path: &str) -> usize {
    log.lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == path)
        .count()
}

fn table(store: &Store, spec: &TableSpec) -> DataFrame {
    store.read_table(spec).unwrap().unwrap()
}

/// Every file of a folder, recursively.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn assert_no_secret(dir: &std::path::Path, secrets: &[&str]) {
    for file in walk(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).to_string();
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {}", file.display());
        }
    }
}

#[test]
fn wechat_collects_every_endpoint_through_token_expiry_and_busy_answers() {
    let mock = wechat_mock();
    {
        let mut f = mock.faults.lock().unwrap();
        // The token expires mid-run, the server is busy once, and the minute quota is hit once.
        f.once.insert(
            "freepublish offset 20".into(),
            r#"{"errcode":42001,"errmsg":"access_token expired rid: 1"}"#.into(),
        );
        f.once.insert(
            "freepublish offset 40".into(),
            r#"{"errcode":-1,"errmsg":"system error"}"#.into(),
        );
        f.once.insert(
            format!("comment {} begin 49", article_mid(10)),
            r#"{"errcode":45011,"errmsg":"api minute-quota reach limit"}"#.into(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let config = wechat_config(
        dir.path(),
        mock.addr,
        "[wechat.component]\nappid = \"wxcomponent\"\nsecret = { key = \"component\" }\nticket = { key = \"ticket\" }\n",
    );
    let store = Store::open(dir.path().join("store")).unwrap();
    let summary = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    let run = &summary.accounts[0];
    assert_eq!(run.error, None);
    assert_eq!(run.token_refreshes, 1);
    assert_eq!(*mock.tokens.lock().unwrap(), 2, "one token, one refresh");
    assert_eq!(run.posts, 46, "45 published + 1 news material");
    assert_eq!(
        run.comments,
        5 * 60,
        "five articles open to comments, 60 each"
    );
    assert_eq!(run.stats, 2 * 2, "two days, summary + total");
    assert_eq!(summary.errors.get("42001"), Some(&1));
    assert_eq!(summary.errors.get("-1"), Some(&1));
    assert_eq!(summary.errors.get("45011"), Some(&1));

    // Paging: offsets 0, 20, 40 (+ the retried 20 and 40); comments 0, 49, 98 per article.
    assert_eq!(
        count_requests(&mock.log, "/cgi-bin/freepublish/batchget"),
        5
    );
    assert_eq!(
        count_requests(&mock.log, "/cgi-bin/material/batchget_material"),
        1
    );
    assert_eq!(
        count_requests(&mock.log, "/cgi-bin/comment/list"),
        5 * 3 + 1
    );
    assert_eq!(count_requests(&mock.log, "/datacube/getarticlesummary"), 2);
    assert_eq!(count_requests(&mock.log, "/datacube/getarticletotal"), 2);
    assert_eq!(
        count_requests(&mock.log, "/cgi-bin/component/api_component_token"),
        1
    );

    for f in &summary.import.files {
        assert!(f.error.is_none() && f.reconciles(), "{f:?}");
    }
    let posts = table(&store, &POSTS);
    assert_eq!(posts.height(), 46);
    let comments = table(&store, &COMMENTS);
    assert_eq!(comments.height(), 300);
    let authors = comments.column("author").unwrap().str().unwrap();
    assert!(
        authors.iter().all(|a| !a.unwrap_or("").contains("oPENID")),
        "commenters are pseudonymised"
    );
    // Both menu endpoints read the same menu as one snapshot: two entries, not four.
    let menus = table(&store, &MENUS);
    assert_eq!(menus.height(), 2, "{menus}");
    let menu_files: Vec<_> = summary
        .import
        .files
        .iter()
        .filter(|f| f.source.ends_with("menu.json"))
        .map(|f| (f.read, f.new, f.duplicates))
        .collect();
    assert_eq!(
        menu_files,
        [(2, 2, 0), (2, 0, 2)],
        "menu.json, then selfmenu.json"
    );
    // The statistics reached the article they name.
    let reads = posts
        .clone()
        .lazy()
        .filter(col("post_id").eq(lit(format!("{}_1", article_mid(0)))))
        .select([col("read_count")])
        .collect()
        .unwrap();
    assert!(
        reads
            .column("read_count")
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap()
            > 0
    );
    let accounts = table(&store, &ACCOUNTS);
    assert_eq!(
        accounts
            .column("certification")
            .unwrap()
            .str()
            .unwrap()
            .get(0),
        Some("某市人民政府办公室")
    );
    // Raw responses are kept under the run folder; nothing secret is anywhere in the store.
    let landing = dir.path().join("store/landing/wechat/gh_abc123");
    assert!(
        walk(&landing)
            .iter()
            .any(|p| p.ends_with("published-000040.json"))
    );
    assert_no_secret(
        store.dir(),
        &[
            SECRET,
            "component-secret",
            "ticket@@@x",
            TOKEN_PREFIX,
            "COMPONENT-TOKEN",
        ],
    );
    // A second run starts a new run folder; only the menu is new (a later snapshot of it).
    let again = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    assert!(!again.accounts[0].resumed);
    assert_eq!(again.import.total().new, 2);
    assert_eq!(
        walk(&landing)
            .iter()
            .filter(|p| p.ends_with("selfmenu.json"))
            .count(),
        2
    );
    assert_eq!(table(&store, &POSTS).height(), 46);
}

/// The tables of a store that a collection fills, menus without their snapshot time (which is
/// the time of collection and so differs between two runs by design).
fn tables_of(store: &Store) -> Vec<(String, DataFrame)> {
    [&POSTS, &COMMENTS, &ACCOUNTS, &MENUS]
        .iter()
        .filter_map(|spec| {
            store
                .read_table(spec)
                .unwrap()
                .map(|df| (spec.name.to_string(), df))
        })
        .map(|(name, df)| {
            if df
                .get_column_names()
                .iter()
                .any(|c| c.as_str() == "collected_at")
            {
                (name, df.drop("collected_at").unwrap())
            } else {
                (name, df)
            }
        })
        .collect()
}

/// The collected tables of `store` equal those of the same collection run without faults.
fn assert_same_as_uninterrupted(store: &Store) {
    let reference = tempfile::tempdir().unwrap();
    let uninterrupted = uninterrupted_wechat_store(reference.path(), store);
    let (left, right) = (tables_of(store), tables_of(&uninterrupted));
    assert_eq!(left.len(), right.len());
    for ((name, l), (_, r)) in left.iter().zip(&right) {
        assert!(l.equals_missing(r), "{name} differs:\n{l:?}\n{r:?}");
    }
}

/// The same collection without faults, into a store sharing `like`'s pseudonym key (so the
/// commenters' pseudonyms compare).
fn uninterrupted_wechat_store(dir: &std::path::Path, like: &Store) -> Store {
    let mock = wechat_mock();
    let config = wechat_config(dir, mock.addr, "");
    let store = Store::open(dir.join("store")).unwrap();
    std::fs::copy(
        like.dir().join("secret.key"),
        store.dir().join("secret.key"),
    )
    .unwrap();
    let summary = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    assert_eq!(summary.failed().count(), 0);
    store
}

#[test]
fn the_daily_quota_stops_the_account_and_the_next_run_resumes_there() {
    let mock = wechat_mock();
    mock.faults.lock().unwrap().once.insert(
        "freepublish offset 20".into(),
        r#"{"errcode":45009,"errmsg":"reach max api daily quota limit"}"#.into(),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = wechat_config(dir.path(), mock.addr, "");
    let store = Store::open(dir.path().join("store")).unwrap();
    let first = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    let stopped = first.accounts[0].stopped.as_deref().unwrap();
    assert!(
        stopped.contains("45009") && stopped.contains("published at {\"offset\":20}"),
        "{stopped}"
    );
    assert_eq!(first.accounts[0].error, None);
    assert_eq!(
        table(&store, &POSTS).height(),
        20,
        "what came before the stop is imported"
    );

    let before = mock.log.lock().unwrap().len();
    let second = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    assert!(second.accounts[0].resumed);
    let log = mock.log.lock().unwrap();
    let first_page = log[before..]
        .iter()
        .find(|r| r.path == "/cgi-bin/freepublish/batchget")
        .unwrap();
    assert!(
        first_page.body.contains("\"offset\":20"),
        "resumed at offset 20: {}",
        first_page.body
    );
    drop(log);
    assert_same_as_uninterrupted(&store);
}

#[test]
fn a_run_that_fails_midway_resumes_to_the_same_store_as_an_uninterrupted_run() {
    let mock = wechat_mock();
    let broken = format!("comment {} begin 49", article_mid(20));
    mock.faults.lock().unwrap().down.push(broken.clone());
    let dir = tempfile::tempdir().unwrap();
    let config = wechat_config(dir.path(), mock.addr, "");
    let store = Store::open(dir.path().join("store")).unwrap();
    let first = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    let error = first.accounts[0].error.as_deref().unwrap();
    assert!(
        error.contains("gh_abc123") && error.contains("comment/list") && error.contains("500"),
        "{error}"
    );
    assert!(!error.contains(TOKEN_PREFIX) && !error.contains(SECRET));
    assert_eq!(
        first.errors.get("HTTP 500"),
        Some(&5),
        "tried, then four retries"
    );

    mock.faults.lock().unwrap().down.clear();
    let before = mock.log.lock().unwrap().len();
    // A different --since does not change an open run: it keeps its own, and says so.
    let later = RunOptions {
        since: NaiveDate::from_ymd_opt(2025, 11, 1),
        ..options()
    };
    let second = collect(&store, &config, Platform::Wechat, &later).unwrap();
    assert!(second.accounts[0].resumed);
    assert!(
        second.accounts[0].notes.contains(
            &"resumed an open run, which keeps the --since it started with (none)".into()
        ),
        "{:?}",
        second.accounts[0].notes
    );
    assert_eq!(second.accounts[0].error, None);
    let log = mock.log.lock().unwrap();
    let resumed: Vec<&Request> = log[before..].iter().collect();
    assert!(
        resumed
            .iter()
            .all(|r| r.path != "/cgi-bin/freepublish/batchget"),
        "finished steps are not fetched again"
    );
    let first_comment = resumed
        .iter()
        .find(|r| r.path == "/cgi-bin/comment/list")
        .unwrap();
    assert!(
        first_comment.body.contains("\"begin\":49"),
        "{}",
        first_comment.body
    );
    drop(log);
    assert_same_as_uninterrupted(&store);
}

#[test]
fn malformed_json_is_retried_then_fails_the_account_naming_the_endpoint() {
    let mock = wechat_mock();
    mock.faults.lock().unwrap().once.insert(
        "cgi-bin/get_current_selfmenu_info".into(),
        r#"{"is_menu_open":1,"selfmenu_info":{"button":[{"name":"办"#.into(),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = wechat_config(dir.path(), mock.addr, "");
    let store = Store::open(dir.path().join("store")).unwrap();
    // One truncated answer is retried away.
    let summary = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    assert_eq!(summary.accounts[0].error, None);
    assert_eq!(summary.errors.get("invalid JSON"), Some(&1));

    // Always truncated: the account fails naming the endpoint; no panic, nothing half-written.
    let (addr, _) = serve_with(Arc::new(|r: &Request| match r.path.as_str() {
        "/cgi-bin/token" => Reply::json(200, r#"{"access_token":"T","expires_in":7200}"#),
        _ => Reply::json(200, r#"{"total_count":3,"item":[{"article_id":"A1","#),
    }));
    let dir = tempfile::tempdir().unwrap();
    let config = wechat_config(dir.path(), addr, "");
    let store = Store::open(dir.path().join("store")).unwrap();
    let summary = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    let error = summary.accounts[0].error.as_deref().unwrap();
    assert!(
        error.contains("freepublish/batchget") && error.contains("invalid JSON"),
        "{error}"
    );
    assert!(store.read_table(&POSTS).unwrap().is_none());
}

#[test]
fn a_secret_in_the_config_is_refused_and_token_errors_do_not_print_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collect.toml");
    std::fs::write(
        &path,
        format!(
            "[wechat]\n[[wechat.accounts]]\nid = \"gh_1\"\nappid = \"wx1\"\nsecret = \"{SECRET}\"\n"
        ),
    )
    .unwrap();
    let err = CollectConfig::load(&path).unwrap_err().to_string();
    assert!(err.contains("never written in the config") && !err.contains(SECRET));
    let (addr, _) = serve_with(Arc::new(|_: &Request| {
        Reply::json(200, r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#)
    }));
    let config = wechat_config(dir.path(), addr, "");
    let store = Store::open(dir.path().join("store")).unwrap();
    let summary = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    let err = summary.accounts[0].error.as_deref().unwrap();
    assert!(
        err.contains("40125") && err.contains("token") && !err.contains(SECRET),
        "{err}"
    );
    assert_no_secret(store.dir(), &[SECRET]);
}

#[test]
fn stable_token_is_asked_with_force_refresh_only_after_a_token_error() {
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(Mutex::new(Vec::<bool>::new()));
    let seen = calls.clone();
    let (addr, _) = serve_with(Arc::new(move |r: &Request| {
        if r.path == "/cgi-bin/stable_token" {
            let body: Json = serde_json::from_str(&r.body).unwrap();
            assert_eq!(body["secret"], SECRET);
            seen.lock()
                .unwrap()
                .push(body["force_refresh"].as_bool().unwrap());
            let n = seen.lock().unwrap().len();
            return Reply::json(
                200,
                format!(r#"{{"access_token":"S{n}","expires_in":7200}}"#),
            );
        }
        if r.param("access_token").as_deref() == Some("S1") {
            return Reply::json(200, r#"{"errcode":40014,"errmsg":"invalid access_token"}"#);
        }
        Reply::json(200, r#"{"total_count":0,"item_count":0,"item":[]}"#)
    }));
    let config = wechat_config(
        dir.path(),
        addr,
        "token_endpoint = \"stable_token\"\nmaterial = false\ncomments = false\ndatacube = false\n",
    );
    let store = Store::open(dir.path().join("store")).unwrap();
    let summary = collect(&store, &config, Platform::Wechat, &options()).unwrap();
    assert_eq!(*calls.lock().unwrap(), vec![false, true]);
    assert_eq!(summary.accounts[0].token_refreshes, 1);
}

// ---------------------------------------------------------------------------------------------
// Weibo mock

const WEIBO_TOKEN: &str = "2.00weibo-oauth-token";
const STATUSES: i64 = 250;

fn weibo_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%a %b %d %H:%M:%S %z %Y")
        .to_string()
}

/// Status `i` (0 = newest), one every 12 hours back from 2025-11-09; ids fall with age.
fn status(i: i64) -> Json {
    let id = 5_000_000_000 - i * 1000;
    let ms = 1_762_650_000_000 - i * 43_200_000;
    if i == 7 {
        return json!({"created_at": weibo_time(ms), "id": id, "idstr": id.to_string(), "deleted": "1",
            "state": 7, "text": "抱歉，此微博已被作者删除。"});
    }
    json!({"created_at": weibo_time(ms), "id": id, "idstr": id.to_string(), "mid": id.to_string(),
        "text": format!("第{i}条 政务发布"), "source": "<a href=\"x\">微博 weibo.com</a>",
        "reposts_count": 1, "comments_count": if i % 50 == 0 { 3 } else { 0 }, "attitudes_count": 2,
        "pic_urls": [], "isLongText": false,
        "user": {"id": 1234567890, "idstr": "1234567890", "screen_name": "某市发布"}})
}

fn weibo_handler(rate_limited: Arc<Mutex<u32>>) -> impl Fn(&Request) -> Reply {
    move |r: &Request| {
        if r.param("access_token").as_deref() != Some(WEIBO_TOKEN) {
            return Reply::json(
                403,
                r#"{"request":"/2/x","error_code":"21332","error":"invalid_access_token"}"#,
            );
        }
        let answer = match r.path.as_str() {
            "/2/users/show.json" => json!({"id": 1234567890, "idstr": "1234567890",
                "screen_name": "某市发布", "name": "某市发布", "followers_count": 123456,
                "statuses_count": STATUSES, "created_at": "Tue May 31 17:46:55 +0800 2011",
                "verified": true, "verified_type": 1, "verified_reason": "某市人民政府新闻办公室官方微博"}),
            "/2/statuses/user_timeline.json" => {
                {
                    let mut left = rate_limited.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        return Reply::json(
                            403,
                            r#"{"request":"/2/statuses/user_timeline.json","error_code":10023,"error":"User requests out of rate limit!"}"#,
                        );
                    }
                }
                let count: i64 = r.param("count").unwrap().parse().unwrap();
                let max_id: Option<i64> = r.param("max_id").map(|m| m.parse().unwrap());
                let page: usize = r.param("page").map_or(1, |p| p.parse().unwrap());
                let statuses: Vec<Json> = (0..STATUSES)
                    .map(status)
                    .filter(|s| max_id.is_none_or(|m| s["id"].as_i64().unwrap() <= m))
                    .skip((page - 1) * count as usize)
                    .take(count as usize)
                    .collect();
                json!({"statuses": statuses, "total_number": STATUSES, "previous_cursor": 0, "next_cursor": 0})
            }
            "/2/comments/show.json" => {
                let id: i64 = r.param("id").unwrap().parse().unwrap();
                let page: i64 = r.param("page").unwrap().parse().unwrap();
                let comments: Vec<Json> = if page == 1 {
                    (0..3)
                        .map(|c| json!({"created_at": "Sun Nov 09 10:00:00 +0800 2025", "id": id * 10 + c,
                            "idstr": (id * 10 + c).to_string(), "text": format!("评论{c}"),
                            "user": {"id": 99 + c, "screen_name": format!("网友{c}")},
                            "status": {"id": id, "user": {"id": 1234567890}}}))
                        .collect()
                } else {
                    vec![]
                };
                json!({"comments": comments, "total_number": 3})
            }
            _ => return Reply::json(404, "{}"),
        };
        Reply::json(200, answer.to_string())
    }
}

fn weibo_config(dir: &std::path::Path, addr: std::net::SocketAddr, extra: &str) -> CollectConfig {
    std::fs::write(
        dir.join("secrets.toml"),
        format!("weibo = \"{WEIBO_TOKEN}\"\n"),
    )
    .unwrap();
    let path = dir.join("collect.toml");
    std::fs::write(
        &path,
        format!(
            "secrets_file = \"secrets.toml\"\n[weibo]\napi_base = \"http://{addr}/2\"\n\
             token = {{ key = \"weibo\" }}\n{extra}\n\
             [weibo.limits]\nqps = 50\nbackoff_ms = 20\nmax_backoff_ms = 40\n\
             [[weibo.accounts]]\nuid = \"1234567890\"\n"
        ),
    )
    .unwrap();
    CollectConfig::load(&path).unwrap()
}

#[test]
fn weibo_pages_the_timeline_by_max_id_and_backs_off_on_rate_limits_under_the_qps() {
    let rate_limited = Arc::new(Mutex::new(2));
    let (addr, log) = serve_with(Arc::new(weibo_handler(rate_limited)));
    let dir = tempfile::tempdir().unwrap();
    let config = weibo_config(dir.path(), addr, "");
    let store = Store::open(dir.path().join("store")).unwrap();
    let summary = collect(&store, &config, Platform::Weibo, &options()).unwrap();
    let run = &summary.accounts[0];
    assert_eq!(run.error, None);
    assert_eq!(run.posts, STATUSES as u64);
    assert_eq!(
        summary.errors.get("10023"),
        Some(&2),
        "rate limited twice, backed off"
    );
    let log = log.lock().unwrap();
    let timeline: Vec<&Request> = log
        .iter()
        .filter(|r| r.path == "/2/statuses/user_timeline.json")
        .collect();
    // 100 + 100 + 50, then an empty page; plus the two rate-limited tries.
    assert_eq!(timeline.len(), 4 + 2);
    assert_eq!(timeline[0].param("max_id"), None);
    let last = timeline.last().unwrap();
    assert_eq!(
        last.param("max_id").as_deref(),
        Some(&*(5_000_000_000i64 - 249 * 1000 - 1).to_string())
    );
    // Comments only for statuses that have them: 0, 50, 100, 150, 200 — one page each (total 3).
    let comment_ids: Vec<String> = log
        .iter()
        .filter(|r| r.path == "/2/comments/show.json")
        .map(|r| r.param("id").unwrap())
        .collect();
    assert_eq!(comment_ids.len(), 5);
    // The configured 50 requests a second hold as the server saw them.
    let times: Vec<std::time::Instant> = log.iter().map(|r| r.at).collect();
    for (i, start) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .filter(|t| t.duration_since(*start) < std::time::Duration::from_secs(1))
            .count();
        assert!(within <= 51, "{within} requests in a second");
    }
    drop(log);
    let posts = table(&store, &POSTS);
    assert_eq!(posts.height(), STATUSES as usize);
    assert_eq!(table(&store, &COMMENTS).height(), 15);
    let accounts = table(&store, &ACCOUNTS);
    assert_eq!(
        accounts
            .column("verified_type")
            .unwrap()
            .i64()
            .unwrap()
            .get(0),
        Some(1)
    );
    assert_no_secret(store.dir(), &[WEIBO_TOKEN]);
}

#[test]
fn weibo_since_stops_paging_and_an_expired_token_says_to_renew_it() {
    let (addr, log) = serve_with(Arc::new(weibo_handler(Arc::new(Mutex::new(0)))));
    let dir = tempfile::tempdir().unwrap();
    let config = weibo_config(dir.path(), addr, "count = 20\ncomments = false\n");
    let store = Store::open(dir.path().join("store")).unwrap();
    let since = RunOptions {
        since: Some(NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()),
        ..options()
    };
    let summary = collect(&store, &config, Platform::Weibo, &since).unwrap();
    // Two a day back from 11-09: 11-01 is reached within the first page of 20.
    assert_eq!(summary.accounts[0].posts, 20);
    assert_eq!(count_requests(&log, "/2/statuses/user_timeline.json"), 1);

    // Page paging: 100, 100, 50 — the third page reaches total_number.
    let (addr, log) = serve_with(Arc::new(weibo_handler(Arc::new(Mutex::new(0)))));
    let paged = weibo_config(dir.path(), addr, "paging = \"page\"\ncomments = false\n");
    let store = Store::open(dir.path().join("paged")).unwrap();
    let summary = collect(&store, &paged, Platform::Weibo, &options()).unwrap();
    assert_eq!(summary.accounts[0].posts, STATUSES as u64);
    let pages: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == "/2/statuses/user_timeline.json")
        .map(|r| r.param("page").unwrap())
        .collect();
    assert_eq!(pages, ["1", "2", "3"]);
    assert_eq!(table(&store, &POSTS).height(), STATUSES as usize);

    std::fs::write(dir.path().join("secrets.toml"), "weibo = \"expired\"\n").unwrap();
    let other = Store::open(dir.path().join("other")).unwrap();
    let summary = collect(&other, &config, Platform::Weibo, &options()).unwrap();
    let error = summary.accounts[0].error.as_deref().unwrap();
    assert!(
        error.contains("21332") && error.contains("renew"),
        "{error}"
    );
    assert!(!error.contains("expired\""));
}

// ---------------------------------------------------------------------------------------------
// Apps

#[test]
fn an_app_is_looked_up_and_its_own_news_and_menu_endpoints_read_through_the_mapping() {
    let (addr, log) = serve_with(Arc::new(|r: &Request| {
        let answer = match r.path.as_str() {
            "/cn/lookup" => {
                assert_eq!(r.param("id").as_deref(), Some("1400000026"));
                json!({"resultCount": 1, "results": [{"trackId": 1400000026, "trackName": "某市政务服务",
                    "sellerName": "某市大数据管理局", "version": "3.2.1",
                    "currentVersionReleaseDate": "2025-11-02T07:00:00Z",
                    "trackViewUrl": "https://apps.apple.com/cn/app/id1400000026"}]})
            }
            "/api/news" => {
                let page: i64 = r.param("page").unwrap().parse().unwrap();
                let items: Vec<Json> = if page <= 3 {
                    (0..10)
                        .map(|i| {
                            let n = (page - 1) * 10 + i;
                            json!({"id": n, "title": format!("通知{n}"), "link": format!("https://app.example.gov.cn/n/{n}"),
                                "publishTime": format!("2025-10-{:02} 09:30", 28 - n % 28)})
                        })
                        .collect()
                } else {
                    vec![]
                };
                json!({"code": 0, "data": {"list": items}})
            }
            "/api/services" => json!({"data": [
                {"title": "社保查询", "url": "https://app.example.gov.cn/s/1", "group": "查询"},
                {"title": "公积金提取", "url": "https://app.example.gov.cn/s/2", "group": "办事"}
            ]}),
            _ => return Reply::json(404, "{}"),
        };
        Reply::json(200, answer.to_string())
    }));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collect.toml");
    std::fs::write(
        &path,
        format!(
            r#"[app]
lookup_base = "http://{addr}"
[app.limits]
qps = 100
[[app.apps]]
track_id = 1400000026
[app.apps.news]
url = "http://{addr}/api/news?page={{page}}&size=10"
list = "data.list"
time_format = "%Y-%m-%d %H:%M"
fields = {{ post_id = "id", published_at = "publishTime", title = "title", url = "link" }}
[app.apps.menu]
url = "http://{addr}/api/services"
list = "/data"
fields = {{ name = "title", target = "url", parent = "group" }}
"#
        ),
    )
    .unwrap();
    let config = CollectConfig::load(&path).unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let summary = collect(&store, &config, Platform::App, &options()).unwrap();
    assert_eq!(summary.accounts[0].error, None);
    assert_eq!(summary.accounts[0].posts, 30);
    assert_eq!(
        count_requests(&log, "/api/news"),
        4,
        "three pages, then an empty one"
    );
    assert!(
        summary
            .import
            .files
            .iter()
            .all(|f| f.error.is_none() && f.reconciles())
    );
    let posts = table(&store, &POSTS);
    assert_eq!(posts.height(), 31, "30 news + the App Store version");
    let menus = table(&store, &MENUS);
    let paths: Vec<&str> = menus
        .column("path")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(paths, ["办事/公积金提取", "查询/社保查询"]);
    // The saved pages import again on their own, with the mapping beside them.
    let landing = dir.path().join("store/landing/app/1400000026");
    let again = crate::import::import_paths(&store, &[landing], &Default::default()).unwrap();
    assert_eq!(again.total().new, 0);
    assert!(again.total().duplicates >= 33);

    // A mapping naming a column the table does not have is a config error before any request.
    let bad = std::fs::read_to_string(&path)
        .unwrap()
        .replace("title = \"title\"", "colour = \"title\"");
    std::fs::write(&path, bad).unwrap();
    let config = CollectConfig::load(&path).unwrap();
    let before = log.lock().unwrap().len();
    let err = collect(&store, &config, Platform::App, &options())
        .unwrap_err()
        .to_string();
    assert!(err.contains("fields.colour"), "{err}");
    assert_eq!(log.lock().unwrap().len(), before);
}
