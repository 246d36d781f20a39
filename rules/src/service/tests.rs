//! SVC fixtures: a complete menu first, then the violations.

use govmedia_collectors::schema::{ACCOUNTS, LINK_CHECKS, MENUS};

use super::portal_root_jump::{has_plain_path, is_site_root, parses_to_site_root};
use crate::engine::AuditResult;
use crate::testing::{Fixture, finding_keys};

const ACCOUNTS_JSONL: &str = r#"
{"account_id":"wechat:gh_ok","platform":"wechat","name":"好","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"wechat:gh_news","platform":"wechat","name":"只有新闻","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"wechat:gh_none","platform":"wechat","name":"没有菜单","first_seen":"2025-01-01T00:00:00+08:00"}
{"account_id":"weibo:1","platform":"weibo","name":"微博无菜单","first_seen":"2025-01-01T00:00:00+08:00"}
"#;

const MENUS_JSONL: &str = r#"
{"account_id":"wechat:gh_ok","path":"办事服务/网上办事","name":"网上办事","kind":"view","target":"https://zwfw.example.gov.cn/mobile/items","collected_at":"2025-11-30T10:00:00+08:00"}
{"account_id":"wechat:gh_ok","path":"便民查询/进度查询","name":"进度查询","kind":"view","target":"https://zwfw.example.gov.cn/mobile/query","collected_at":"2025-11-30T10:00:00+08:00"}
{"account_id":"wechat:gh_ok","path":"便民查询/旧链接","name":"旧链接","kind":"view","target":"https://www.example.gov.cn/old/a.html","collected_at":"2025-11-30T10:00:00+08:00"}
{"account_id":"wechat:gh_ok","path":"便民查询/偶发故障","name":"偶发故障","kind":"view","target":"https://www.example.gov.cn/flaky.html","collected_at":"2025-11-30T10:00:00+08:00"}
{"account_id":"wechat:gh_news","path":"办事服务/网上办事","name":"网上办事","kind":"view","target":"https://www.gov.cn/","collected_at":"2025-06-01T10:00:00+08:00"}
{"account_id":"wechat:gh_news","path":"最新动态/工作动态","name":"工作动态","kind":"view","target":"https://www.example.gov.cn/xwdt/","collected_at":"2025-11-30T10:00:00+08:00"}
{"account_id":"wechat:gh_news","path":"办事服务/网上办事","name":"网上办事","kind":"view","target":"https://www.gov.cn/","collected_at":"2025-11-30T10:00:00+08:00"}
"#;

const CHECKS_JSONL: &str = r#"
{"url":"https://zwfw.example.gov.cn/mobile/items","checked_at":"2025-11-30T11:00:00+08:00","status":200}
{"url":"https://www.example.gov.cn/old/a.html","checked_at":"2025-11-30T11:00:00+08:00","status":404}
{"url":"https://www.example.gov.cn/old/a.html","checked_at":"2025-11-30T11:10:00+08:00","error":"timeout"}
{"url":"https://www.example.gov.cn/flaky.html","checked_at":"2025-11-30T11:00:00+08:00","status":503}
{"url":"https://www.example.gov.cn/flaky.html","checked_at":"2025-11-30T11:10:00+08:00","status":200}
"#;

fn audit(with_menus: bool) -> AuditResult {
    let mut fixture = Fixture::at("2025-11-30")
        .jsonl(&ACCOUNTS, ACCOUNTS_JSONL)
        .jsonl(&LINK_CHECKS, CHECKS_JSONL);
    if with_menus {
        fixture = fixture.jsonl(&MENUS, MENUS_JSONL);
    }
    fixture.audit(&["SVC"])
}

#[test]
fn a_complete_menu_only_has_its_dead_link() {
    let k = finding_keys(&audit(true));
    let ok: Vec<_> = k.iter().filter(|x| x.contains("gh_ok")).collect();
    assert_eq!(
        ok,
        ["SVC003 wechat:gh_ok 便民查询/旧链接"],
        "one failure then success is not dead: {k:?}"
    );
}

#[test]
fn the_latest_menu_snapshot_is_judged() {
    let k = finding_keys(&audit(true));
    // gh_news's latest menu has a 办事 entry (to the portal root) but no query entry.
    assert!(!k.contains(&"SVC001 wechat:gh_news -".to_string()), "{k:?}");
    assert!(k.contains(&"SVC002 wechat:gh_news -".to_string()));
    assert!(k.contains(&"SVC004 wechat:gh_news 办事服务/网上办事".to_string()));
}

#[test]
fn accounts_without_menu_entries_and_weibo() {
    let k = finding_keys(&audit(true));
    assert!(k.contains(&"SVC001 wechat:gh_none -".to_string()));
    assert!(
        !k.iter().any(|x| x.contains("weibo:1")),
        "Weibo has no service menus: {k:?}"
    );
}

#[test]
fn without_menu_data_the_entry_rules_are_not_assessed() {
    let r = audit(false);
    let codes: Vec<&str> = r.not_assessed.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, ["SVC001", "SVC002"]);
}

#[test]
fn site_roots() {
    assert!(is_site_root("https://www.gov.cn/"));
    assert!(is_site_root("http://www.example.gov.cn"));
    assert!(!is_site_root("https://www.gov.cn/zhengce/"));
    assert!(!is_site_root("https://www.gov.cn/?from=wx"));
    assert!(!is_site_root("wx1234:pages/index"));
}

/// The shortcut for URLs with a visible path (`has_plain_path`) answers as parsing does, on
/// URLs made to trip it: dot segments, escapes, tabs, backslashes, odd slashes and hosts.
#[test]
fn site_roots_without_parsing_agree_with_the_parser() {
    let hosts = [
        "www.gov.cn",
        "a.b.gov.cn:8080",
        "user@h.cn",
        "[::1]",
        "bad host",
        "",
        "xn--fiqs8s.cn",
        "中国.cn",
    ];
    let paths = [
        "",
        "/",
        "//",
        "/a",
        "/a/",
        "/a/..",
        "/a/../",
        "/a/./",
        "/a/.",
        "/abc/..x",
        "/a/%2e%2e",
        "/a/%2E%2E/",
        "/a/.\t.",
        "/a\\..",
        "/a/\t",
        "/a?x",
        "/a#f",
        "/?x",
        "/#f",
        "/index.html",
        "/a/b.c/..",
        "/.a",
        "/..",
        "/-a",
        "/a b",
        "/a/\n..",
        "/a/.%2e",
    ];
    for scheme in ["http://", "https://", "https:///", "HTTP://", "ftp://"] {
        for host in hosts {
            for path in paths {
                let url = format!("{scheme}{host}{path}");
                for target in [url.clone(), format!("  {url} ")] {
                    assert_eq!(
                        is_site_root(&target),
                        parses_to_site_root(&target),
                        "{target:?}"
                    );
                }
            }
        }
    }
    assert!(
        is_site_root("https://www.gov.cn/a/.."),
        "a dot segment back to the root"
    );
    // Deep links, most menu targets, are answered without parsing.
    assert!(has_plain_path("https://www.gov.cn/xwdt/"));
    assert!(has_plain_path(
        "https://zwfw.gov.cn/mobile/index.html?from=wx"
    ));
    assert!(!has_plain_path("https://www.gov.cn/"));
}
