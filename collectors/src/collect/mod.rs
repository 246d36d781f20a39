//! Live collection (`govmedia collect`): extract steps that talk to the platform APIs and save
//! raw responses to `landing/<platform>/<account>/` in the store, then the importers' transform
//! on that folder. So far: WeChat published articles.

pub mod config;
pub mod wechat;

use std::path::PathBuf;

use crate::Error;
use crate::import::{ImportOptions, ImportReport, import_paths};
use crate::store::Store;
use config::CollectConfig;

/// Collects every configured WeChat account's published articles and imports what was saved.
pub fn collect_wechat(
    store: &Store,
    config: &CollectConfig,
) -> Result<(Vec<wechat::AccountRun>, ImportReport), Error> {
    let wechat = config
        .wechat
        .as_ref()
        .ok_or_else(|| Error::Input("the config has no [wechat] section".into()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io(store.dir(), e))?;
    let mut runs = Vec::new();
    let mut folders: Vec<PathBuf> = Vec::new();
    for account in &wechat.accounts {
        let secret = config.wechat_secret(account)?;
        let landing = store.dir().join("landing").join("wechat").join(&account.id);
        let mut client = wechat::WechatClient::new(&wechat.api_base, account.clone(), secret)?;
        let mut run = runtime.block_on(client.collect_published(&landing))?;
        if run.stopped.is_none() {
            runtime.block_on(client.collect_menu(&landing, &mut run))?;
        }
        runs.push(run);
        folders.push(landing);
    }
    let report = import_paths(store, &folders, &ImportOptions::default())?;
    Ok((runs, report))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::testserver::{Request, serve};

    const SECRET: &str = "s3cr3t-AppSecret-do-not-leak";

    fn page(offset: i64) -> String {
        let ids: Vec<i64> = if offset == 0 { vec![1, 2] } else { vec![3] };
        let items: Vec<String> = ids
            .iter()
            .map(|i| {
                format!(
                    r#"{{"article_id":"A{i}","update_time":{},"content":{{"news_item":[{{"title":"第{i}篇","url":"https://mp.weixin.qq.com/s?__biz=B&mid=265000000{i}&idx=1"}}]}}}}"#,
                    1_709_256_600 + i * 86_400
                )
            })
            .collect();
        format!(
            r#"{{"total_count":3,"item_count":{},"item":[{}]}}"#,
            ids.len(),
            items.join(",")
        )
    }

    #[test]
    fn articles_are_collected_through_token_expiry_and_a_busy_answer_then_imported() {
        let tokens = Arc::new(AtomicUsize::new(0));
        let second_page_calls = Arc::new(AtomicUsize::new(0));
        let (t, s) = (tokens.clone(), second_page_calls.clone());
        let handler = move |r: &Request| -> (u16, String) {
            match r.path.as_str() {
                "/cgi-bin/token" => {
                    assert!(r.query.contains("appid=wx123") && r.query.contains(SECRET));
                    let n = t.fetch_add(1, Ordering::SeqCst) + 1;
                    (
                        200,
                        format!(r#"{{"access_token":"TOKEN{n}","expires_in":7200}}"#),
                    )
                }
                "/cgi-bin/get_current_selfmenu_info" => (
                    200,
                    r#"{"is_menu_open":1,"selfmenu_info":{"button":[{"name":"办事","sub_button":{"list":[{"type":"view","name":"网上办事","url":"https://zwfw.example.gov.cn/"}]}}]}}"#.into(),
                ),
                "/cgi-bin/freepublish/batchget" => {
                    assert_eq!(r.method, "POST");
                    let offset = if r.body.contains("\"offset\":0") {
                        0
                    } else {
                        2
                    };
                    if offset == 2 {
                        match s.fetch_add(1, Ordering::SeqCst) {
                            // The token expires mid-run, then the server is busy once.
                            0 => {
                                return (
                                    200,
                                    r#"{"errcode":42001,"errmsg":"access_token expired rid: x"}"#
                                        .into(),
                                );
                            }
                            1 => return (200, r#"{"errcode":-1,"errmsg":"system error"}"#.into()),
                            _ => assert!(r.query.contains("TOKEN2"), "the refreshed token is used"),
                        }
                    }
                    (200, page(offset))
                }
                _ => (404, "{}".into()),
            }
        };
        let (addr, log) = serve(Arc::new(handler));
        let store_dir = tempfile::tempdir().unwrap();
        let config_dir = tempfile::tempdir().unwrap();
        std::fs::write(
            config_dir.path().join("secrets.toml"),
            format!("gh_abc123 = \"{SECRET}\"\n"),
        )
        .unwrap();
        let config_path = config_dir.path().join("collect.toml");
        std::fs::write(
            &config_path,
            format!(
                "secrets_file = \"secrets.toml\"\n[wechat]\napi_base = \"http://{addr}\"\n\
                 [[wechat.accounts]]\nid = \"gh_abc123\"\nappid = \"wx123\"\n"
            ),
        )
        .unwrap();
        let config = config::CollectConfig::load(&config_path).unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let (runs, report) = collect_wechat(&store, &config).unwrap();
        assert_eq!(runs[0].pages, 2);
        assert_eq!(runs[0].articles, 3);
        assert_eq!(runs[0].token_refreshes, 1);
        assert_eq!(tokens.load(Ordering::SeqCst), 2);
        assert!(
            report
                .files
                .iter()
                .all(|f| f.error.is_none() && f.reconciles())
        );
        let posts = store.read_table(&crate::schema::POSTS).unwrap().unwrap();
        assert_eq!(posts.height(), 3);
        assert!(
            posts
                .column("account_id")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .all(|a| a == Some("wechat:gh_abc123"))
        );
        assert!(log.lock().unwrap().len() >= 6);
        let menus = store.read_table(&crate::schema::MENUS).unwrap().unwrap();
        assert_eq!(
            menus.column("path").unwrap().str().unwrap().get(0),
            Some("办事/网上办事")
        );
        // The secret and tokens are nowhere in the store (landing pages, tables, logs).
        for entry in walk(store_dir.path()) {
            let bytes = std::fs::read(&entry).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(SECRET) && !text.contains("TOKEN1"),
                "{}",
                entry.display()
            );
        }
    }

    #[test]
    fn the_daily_quota_stops_the_account_and_says_where_to_resume() {
        let handler = |r: &Request| -> (u16, String) {
            match r.path.as_str() {
                "/cgi-bin/token" => (200, r#"{"access_token":"T","expires_in":7200}"#.into()),
                _ if r.body.contains("\"offset\":0") => (200, page(0)),
                _ => (
                    200,
                    r#"{"errcode":45009,"errmsg":"reach max api daily quota limit"}"#.into(),
                ),
            }
        };
        let (addr, _) = serve(Arc::new(handler));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), format!("gh_q = \"{SECRET}\"\n")).unwrap();
        let config = config::CollectConfig {
            secrets_file: Some(dir.path().join("s.toml")),
            wechat: Some(config::WechatConfig {
                api_base: format!("http://{addr}"),
                accounts: vec![config::WechatAccount {
                    id: "gh_q".into(),
                    appid: "wx".into(),
                    secret_env: None,
                    secret_key: None,
                }],
            }),
        };
        let store = Store::open(dir.path().join("store")).unwrap();
        let (runs, report) = collect_wechat(&store, &config).unwrap();
        assert_eq!(runs[0].pages, 1);
        assert!(
            runs[0]
                .stopped
                .as_deref()
                .unwrap()
                .contains("resume at offset 2")
        );
        assert_eq!(
            report.total().new,
            2,
            "what was collected before the stop is imported"
        );
    }

    #[test]
    fn a_secret_in_the_config_is_refused_and_errors_do_not_print_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("collect.toml");
        std::fs::write(
            &path,
            format!("[wechat]\n[[wechat.accounts]]\nid = \"gh_1\"\nappid = \"wx1\"\nsecret = \"{SECRET}\"\n"),
        )
        .unwrap();
        let err = config::CollectConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("never written in the config") && !err.contains(SECRET));
        // A token error's message carries the code, never the secret or the URL.
        let handler = |_: &Request| {
            (
                200,
                r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#.to_string(),
            )
        };
        let (addr, _) = serve(Arc::new(handler));
        let account = config::WechatAccount {
            id: "gh_1".into(),
            appid: "wx1".into(),
            secret_env: None,
            secret_key: None,
        };
        std::fs::write(dir.path().join("s.toml"), format!("gh_1 = \"{SECRET}\"\n")).unwrap();
        let config = config::CollectConfig {
            secrets_file: Some(dir.path().join("s.toml")),
            wechat: Some(config::WechatConfig {
                api_base: format!("http://{addr}"),
                accounts: vec![account],
            }),
        };
        let store = Store::open(dir.path().join("store")).unwrap();
        let err = collect_wechat(&store, &config).unwrap_err().to_string();
        assert!(err.contains("40125") && !err.contains(SECRET), "{err}");
    }

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
}
