//! End-to-end monitoring: `govmedia watch` on the demo with alerts to a local WeCom robot
//! server, and two audits accumulating in an audit history, compared with `govmedia diff`.

mod common;

use std::fs;
use std::sync::Arc;

use common::{govmedia, govmedia_with, p, text};
use govmedia_collectors::testserver::{Reply, Request, serve_with};

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
            "[[robot]]\nplatform = \"wecom\"\nname = \"办公室值班群\"\nbase_url = \"http://{addr}\"\nkey = {{ file = {:?} }}\ninterval_ms = 20\n\n\
             [[robot]]\nplatform = \"wecom\"\nname = \"某局群\"\nbase_url = \"http://{addr}\"\nkey = {{ file = {:?} }}\naccounts = [\"wechat:no-such-account\"]\n",
            p(&key_file),
            p(&key_file)
        ),
    )
    .unwrap();
    let out = dir.path().join("watch");
    // Every log of every crate on, the HTTP client's included.
    let run = govmedia_with(
        &[
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
        ],
        &[("RUST_LOG", "trace")],
    );
    let said = text(&run);
    assert_eq!(
        run.status.code(),
        Some(1),
        "critical warnings exist: {said}"
    );
    assert!(said.contains("notified 办公室值班群 (WeCom)"), "{said}");
    // A robot for some accounts only gets theirs: here none.
    assert!(
        said.contains("notified 某局群 (WeCom): 1 message(s), 0 warning(s)"),
        "{said}"
    );
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
    // The key is in the request URL only: not in what the command said, logged or wrote.
    assert!(said.contains("TRACE"), "the logs were on");
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
fn watch_takes_a_date_alone_as_nine_oclock_and_refuses_a_bad_time_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w");
    let run = govmedia(&["watch", "--demo", "--at", "2025-11-28", "--out", p(&out)]);
    assert!(run.status.success(), "{}", text(&run));
    let digest = fs::read_to_string(out.join("digest.md")).unwrap();
    assert!(
        digest.starts_with("## 政务新媒体预警 · 2025-11-28 09:00"),
        "{digest}"
    );
    let run = govmedia(&["watch", "--demo", "--at", "yesterday", "--out", p(&out)]);
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("--at: not a time"), "{said}");
    assert!(
        !said.contains("demo:"),
        "refused before generating the demo: {said}"
    );
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

#[test]
fn two_demo_audits_accumulate_in_a_history_and_diff_to_pages() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let audit = |as_of: &str, out: &str| {
        let run = govmedia(&[
            "audit",
            "--demo",
            "--as-of",
            as_of,
            "--out",
            p(&dir.path().join(out)),
            "--history",
            p(&history),
        ]);
        assert!(run.status.success(), "{}", text(&run));
        text(&run)
    };
    assert!(audit("2025-08-31", "earlier").contains("history: kept"));
    let said = audit("2025-11-30", "later");
    assert!(said.contains("(1 earlier audit(s)"), "{said}");
    // The same day again replaces its entry, nothing else.
    assert!(audit("2025-11-30", "later").contains("history: replaced"));
    let entries: Vec<String> = fs::read_dir(&history)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let mut entries = entries;
    entries.sort();
    assert_eq!(entries, ["2025-08-31", "2025-11-30"]);

    let later = dir.path().join("later");
    let page = fs::read_dir(later.join("accounts"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        fs::read_to_string(page)
            .unwrap()
            .contains("data-chart=\"trend\"")
    );
    assert!(
        fs::read_to_string(later.join("index.html"))
            .unwrap()
            .contains("data-chart=\"history\"")
    );

    let out = dir.path().join("diff");
    let run = govmedia(&[
        "diff",
        p(&history.join("2025-08-31")),
        p(&history.join("2025-11-30")),
        "--out",
        p(&out),
    ]);
    let said = text(&run);
    assert!(run.status.success(), "{said}");
    assert!(
        said.contains("2025-08-31 → 2025-11-30: 80 accounts"),
        "{said}"
    );
    for f in [
        "diff.csv",
        "diff_findings.csv",
        "diff_findings.parquet",
        "diff.json",
        "diff.html",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("diff.json")).unwrap()).unwrap();
    assert_eq!(json["old"]["as_of"], "2025-08-31");
    assert_eq!(json["accounts"].as_array().unwrap().len(), 80);
    let findings = fs::read_to_string(out.join("diff_findings.csv")).unwrap();
    for status in ["new", "persisting"] {
        assert!(findings.contains(&format!("\n{status},")), "{status}");
    }

    // A report folder diffed with itself: no changes.
    let run = govmedia(&[
        "diff",
        p(&later),
        p(&later),
        "--out",
        p(&dir.path().join("same")),
    ]);
    assert!(text(&run).contains("no changes"), "{}", text(&run));
    // Not an audit folder: an error naming the file.
    let run = govmedia(&[
        "diff",
        p(dir.path()),
        p(&later),
        "--out",
        p(&dir.path().join("x")),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run).contains("report.json"), "{}", text(&run));
}
