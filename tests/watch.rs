//! End-to-end: `govmedia watch` on the demo, with alerts to a local WeCom robot server.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use govmedia_collectors::testserver::{Reply, Request, serve_with};

fn govmedia(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govmedia"))
        .args(args)
        .output()
        .expect("run govmedia")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

const KEY: &str = "e2e-planted-wecom-key-51c9";

#[test]
fn watch_on_the_demo_writes_warnings_and_a_digest_and_alerts_a_wecom_robot() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, log) = serve_with(Arc::new(|r: &Request| {
        if r.param("key").as_deref() != Some(KEY) {
            return Reply::json(200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#);
        }
        Reply::json(200, r#"{"errcode":0,"errmsg":"ok"}"#)
    }));
    let key_file = dir.path().join("wecom.key");
    fs::write(&key_file, KEY).unwrap();
    let config = dir.path().join("notify.toml");
    fs::write(
        &config,
        format!(
            "[[robot]]\nplatform = \"wecom\"\nname = \"办公室值班群\"\nbase_url = \"http://{addr}\"\nkey = {{ file = {:?} }}\ninterval_ms = 20\n",
            p(&key_file)
        ),
    )
    .unwrap();
    let out = dir.path().join("watch");
    let run = govmedia(&[
        "watch",
        "--demo",
        "--at",
        "2025-11-28 09:00",
        "--out",
        p(&out),
        "--notify",
        p(&config),
        "--fail-on",
        "critical",
    ]);
    let said = text(&run);
    assert_eq!(
        run.status.code(),
        Some(1),
        "critical warnings exist: {said}"
    );
    assert!(said.contains("notified 办公室值班群 (WeCom)"), "{said}");
    let csv = fs::read_to_string(out.join("warnings.csv")).unwrap();
    let header = csv.trim_start_matches('\u{feff}').lines().next().unwrap();
    assert_eq!(
        header,
        "code,level,platform,account_id,account_name,deadline,hours_left,item_id,message,evidence"
    );
    // The demo plants accounts about to be vetoed and comments about to run late.
    for code in ["UPD002", "UPD001", "INT002"] {
        assert!(
            csv.contains(&format!("\n{code},")),
            "{code} in warnings.csv"
        );
    }
    let digest = fs::read_to_string(out.join("digest.md")).unwrap();
    assert!(
        digest.starts_with("## 政务新媒体预警 · 2025-11-28 09:00"),
        "{digest}"
    );
    let requests = log.lock().unwrap().clone();
    assert!(!requests.is_empty());
    for r in &requests {
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let content = body["markdown"]["content"].as_str().unwrap();
        assert!(content.len() <= 4096);
    }
    // The key is in the request URL only: not in what the command said or wrote.
    assert!(!said.contains(KEY));
    for file in ["warnings.csv", "warnings.json", "digest.md"] {
        assert!(
            !fs::read_to_string(out.join(file)).unwrap().contains(KEY),
            "{file}"
        );
    }

    // A robot that refuses: the warnings are still written, the failure names the code, exit 2.
    fs::write(&key_file, "wrong-key").unwrap();
    let out2 = dir.path().join("watch2");
    let run = govmedia(&[
        "watch",
        "--demo",
        "--at",
        "2025-11-28 09:00",
        "--out",
        p(&out2),
        "--notify",
        p(&config),
    ]);
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("code 93000: invalid webhook url"), "{said}");
    assert!(out2.join("warnings.csv").is_file());
    assert!(!said.contains("wrong-key"), "{said}");
}

#[test]
fn watch_refuses_an_inline_secret_before_doing_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("notify.toml");
    fs::write(
        &config,
        format!("[[robot]]\nplatform = \"wecom\"\nkey = \"{KEY}\"\n"),
    )
    .unwrap();
    let run = govmedia(&[
        "watch",
        "--demo",
        "--out",
        p(&dir.path().join("w")),
        "--notify",
        p(&config),
    ]);
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("`key` is written inline"), "{said}");
    assert!(!said.contains(KEY), "{said}");
    assert!(
        !said.contains("demo:"),
        "failed before generating the demo: {said}"
    );
}
