//! Each robot against a local HTTP server that checks the request the way the platform does
//! (address, signature, size) and answers with the platform's documented codes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use govmedia_collectors::testserver::{Reply, Request, serve_with};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::*;

const KEY: &str = "planted-KEY-6f1d0c";
const SECRET: &str = "SECplanted-secret-93a7";
const NOW_MS: i64 = 1_764_208_800_000;

fn robot(platform: Platform, base: &str, secret: Option<&str>) -> Robot {
    Robot {
        platform,
        name: "值班群".into(),
        base_url: base.into(),
        address: Secret(KEY.into()),
        secret: secret.map(|s| Secret(s.into())),
        interval: Duration::from_millis(120),
        retry_after: Duration::from_millis(50),
        accounts: None,
    }
}

/// A digest of `accounts` blocks of about 300 bytes each.
fn digest(accounts: usize) -> Digest {
    Digest {
        title: "政务新媒体预警 · 2025-11-27 10:00".into(),
        blocks: std::iter::once(format!("共 {accounts} 个账号\n"))
            .chain((0..accounts).map(|i| {
                format!(
                    "### 账号{i}（微信公众号）\n- **紧急** UPD002 {}\n",
                    "距否决还剩1天".repeat(12)
                )
            }))
            .collect(),
        warnings: accounts,
        critical: accounts,
    }
}

fn body(r: &Request) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap()
}

fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// WeCom as the platform answers: the key, the message type, the 4096-byte limit.
fn wecom_server(
    rate_limited_first: usize,
) -> (String, govmedia_collectors::testserver::RequestLog) {
    let limited = Arc::new(AtomicUsize::new(rate_limited_first));
    let (addr, log) = serve_with(Arc::new(move |r: &Request| {
        if r.path != "/cgi-bin/webhook/send" || r.param("key").as_deref() != Some(KEY) {
            return Reply::json(200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#);
        }
        let b = body(r);
        let content = b["markdown"]["content"].as_str().unwrap_or("");
        if b["msgtype"] != "markdown" || content.is_empty() {
            return Reply::json(200, r#"{"errcode":40008,"errmsg":"invalid message type"}"#);
        }
        if content.len() > 4096 {
            return Reply::json(
                200,
                r#"{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}"#,
            );
        }
        if limited.load(Ordering::SeqCst) > 0 {
            limited.fetch_sub(1, Ordering::SeqCst);
            return Reply::json(200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#);
        }
        Reply::json(200, r#"{"errcode":0,"errmsg":"ok"}"#)
    }));
    (format!("http://{addr}"), log)
}

#[test]
fn wecom_gets_the_digest_split_under_4096_bytes_and_paced() {
    let (base, log) = wecom_server(0);
    let d = digest(40);
    let deliveries = send_digest(&[robot(Platform::Wecom, &base, None)], &d, || NOW_MS);
    let delivery = &deliveries[0];
    assert_eq!(delivery.failure, None);
    assert!(delivery.messages > 2, "{delivery:?}");
    assert_eq!(delivery.sent, delivery.messages);
    let requests = log.lock().unwrap().clone();
    assert_eq!(requests.len(), delivery.messages);
    // Every account block arrived once, in order.
    let all: String = requests
        .iter()
        .map(|r| body(r)["markdown"]["content"].as_str().unwrap().to_string())
        .collect();
    for i in 0..40 {
        assert_eq!(all.matches(&format!("### 账号{i}（")).count(), 1);
    }
    for pair in requests.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_millis(110), "messages {gap:?} apart");
    }
}

#[test]
fn wecom_rate_limits_are_waited_out_and_an_invalid_key_is_reported_with_its_code() {
    let (base, log) = wecom_server(1);
    let deliveries = send_digest(&[robot(Platform::Wecom, &base, None)], &digest(1), || {
        NOW_MS
    });
    assert_eq!(deliveries[0].failure, None);
    assert_eq!(deliveries[0].sent, 1);
    assert_eq!(log.lock().unwrap().len(), 2, "one retry after 45009");

    let mut wrong = robot(Platform::Wecom, &base, None);
    wrong.address = Secret("not-the-key".into());
    let deliveries = send_digest(&[wrong], &digest(1), || NOW_MS);
    assert_eq!(
        deliveries[0].failure.as_deref(),
        Some("message 1/1: code 93000: invalid webhook url")
    );
}

/// DingTalk as the platform answers: the token, and with 加签 the timestamp within an hour and
/// the signature recomputed from the secret.
fn dingtalk_server() -> (String, govmedia_collectors::testserver::RequestLog) {
    let (addr, log) = serve_with(Arc::new(|r: &Request| {
        if r.path != "/robot/send" || r.param("access_token").as_deref() != Some(KEY) {
            return Reply::json(200, r#"{"errcode":300001,"errmsg":"token is not exist"}"#);
        }
        let (Some(ts), Some(sign)) = (r.param("timestamp"), r.param("sign")) else {
            return Reply::json(200, r#"{"errcode":310000,"errmsg":"sign not match"}"#);
        };
        let ts: i64 = ts.parse().unwrap_or(0);
        if (NOW_MS - ts).abs() > 3_600_000 {
            return Reply::json(200, r#"{"errcode":310000,"errmsg":"invalid timestamp"}"#);
        }
        let expected = hmac_base64(SECRET.as_bytes(), format!("{ts}\n{SECRET}").as_bytes());
        if sign != expected {
            return Reply::json(200, r#"{"errcode":310000,"errmsg":"sign not match"}"#);
        }
        let b = body(r);
        if b["msgtype"] != "markdown" || b["markdown"]["title"].as_str().is_none() {
            return Reply::json(200, r#"{"errcode":40035,"errmsg":"缺少参数 json"}"#);
        }
        Reply::json(200, r#"{"errcode":0,"errmsg":"ok"}"#)
    }));
    (format!("http://{addr}"), log)
}

#[test]
fn dingtalk_signs_each_request_as_the_platform_verifies_it() {
    let (base, log) = dingtalk_server();
    let deliveries = send_digest(
        &[robot(Platform::Dingtalk, &base, Some(SECRET))],
        &digest(20),
        || NOW_MS,
    );
    assert_eq!(deliveries[0].failure, None, "{deliveries:?}");
    assert!(deliveries[0].sent >= 2);
    // The sign travels URL-encoded (Base64 has + / =).
    let raw = log.lock().unwrap()[0].query.clone();
    assert!(raw.contains("sign=") && !raw.contains("sign=+"), "{raw}");

    let wrong = robot(Platform::Dingtalk, &base, Some("SECsomething-else"));
    let deliveries = send_digest(&[wrong], &digest(1), || NOW_MS);
    assert_eq!(
        deliveries[0].failure.as_deref(),
        Some("message 1/1: code 310000: sign not match")
    );
    let stale = robot(Platform::Dingtalk, &base, Some(SECRET));
    let deliveries = send_digest(&[stale], &digest(1), || NOW_MS - 2 * 3_600_000);
    assert_eq!(
        deliveries[0].failure.as_deref(),
        Some("message 1/1: code 310000: invalid timestamp")
    );
}

#[test]
fn dingtalk_signature_matches_the_documented_example_shape() {
    // The signature is Base64 of a 32-byte HMAC: 44 characters ending in '='.
    let s = dingtalk::sign(1_577_808_000_000, "SEC000");
    assert_eq!(s.len(), 44);
    assert!(s.ends_with('='));
    assert_eq!(
        s,
        hmac_base64(b"SEC000", b"1577808000000\nSEC000"),
        "keyed with the secret over timestamp\\nsecret"
    );
}

/// Feishu as the platform answers: the hook id in the path, and with 签名校验 the body's
/// timestamp (seconds, within an hour) and sign (HMAC keyed with `timestamp\nsecret` over
/// nothing).
fn feishu_server(limit_always: bool) -> (String, govmedia_collectors::testserver::RequestLog) {
    let (addr, log) = serve_with(Arc::new(move |r: &Request| {
        if r.path != format!("/open-apis/bot/v2/hook/{KEY}") {
            return Reply::json(
                200,
                r#"{"code":19001,"msg":"param invalid: incoming webhook access token invalid","data":{}}"#,
            );
        }
        let b = body(r);
        let ts: i64 = b["timestamp"].as_str().unwrap_or("0").parse().unwrap_or(0);
        let expected = hmac_base64(format!("{ts}\n{SECRET}").as_bytes(), b"");
        if (NOW_MS / 1000 - ts).abs() > 3600 || b["sign"].as_str() != Some(expected.as_str()) {
            return Reply::json(
                200,
                r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time","data":{}}"#,
            );
        }
        if b["msg_type"] != "interactive" || b["card"]["elements"][0]["content"].as_str().is_none()
        {
            return Reply::json(200, r#"{"code":9499,"msg":"Bad Request","data":{}}"#);
        }
        if limit_always {
            return Reply::json(400, r#"{"code":11232,"msg":"frequency limited","data":{}}"#);
        }
        Reply::json(200, r#"{"code":0,"msg":"success","data":{}}"#)
    }));
    (format!("http://{addr}"), log)
}

#[test]
fn feishu_signs_the_body_and_reports_rate_limits_after_one_retry() {
    let (base, _) = feishu_server(false);
    let deliveries = send_digest(
        &[robot(Platform::Feishu, &base, Some(SECRET))],
        &digest(3),
        || NOW_MS,
    );
    assert_eq!(deliveries[0].failure, None, "{deliveries:?}");
    assert_eq!(deliveries[0].sent, 1);

    let unsigned = robot(Platform::Feishu, &base, None);
    let deliveries = send_digest(&[unsigned], &digest(1), || NOW_MS);
    assert!(
        deliveries[0]
            .failure
            .as_deref()
            .unwrap()
            .contains("code 19021: sign match fail")
    );

    let (base, log) = feishu_server(true);
    let deliveries = send_digest(
        &[robot(Platform::Feishu, &base, Some(SECRET))],
        &digest(1),
        || NOW_MS,
    );
    assert_eq!(
        deliveries[0].failure.as_deref(),
        Some("message 1/1: code 11232: frequency limited")
    );
    assert_eq!(log.lock().unwrap().len(), 2, "retried once");
}

#[test]
fn one_failing_robot_does_not_stop_the_others_and_no_failure_shows_a_secret() {
    // Nothing listens on the first robot's port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (base, _) = wecom_server(0);
    let deliveries = send_digest(
        &[
            robot(Platform::Dingtalk, &dead, Some(SECRET)),
            robot(Platform::Wecom, &base, None),
        ],
        &digest(1),
        || NOW_MS,
    );
    let failure = deliveries[0].failure.clone().unwrap();
    assert!(
        !failure.contains(KEY) && !failure.contains(SECRET),
        "{failure}"
    );
    assert_eq!(deliveries[1].sent, 1);
    let shown = format!(
        "{deliveries:?} {:?}",
        robot(Platform::Dingtalk, &dead, Some(SECRET))
    );
    assert!(!shown.contains(KEY) && !shown.contains(SECRET), "{shown}");
}

#[test]
fn secrets_are_given_by_reference_never_inline() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("wecom.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let config = dir.path().join("notify.toml");
    let write = |text: &str| std::fs::write(&config, text).unwrap();

    write(&format!(
        "[[robot]]\nplatform = \"wecom\"\nname = \"值班群\"\nkey = {{ file = {:?} }}\ninterval_ms = 10\naccounts = [\"wechat:a\"]\n",
        key_file.display().to_string()
    ));
    let robots = load_robots(&config).unwrap();
    assert_eq!(
        robots[0].accounts.as_deref(),
        Some(&["wechat:a".to_string()][..])
    );
    assert_eq!(robots[0].address.expose(), KEY, "trailing newline trimmed");
    assert_eq!(robots[0].base_url, "https://qyapi.weixin.qq.com");
    assert_eq!(robots[0].interval, Duration::from_millis(10));

    write(&format!(
        "[[robot]]\nplatform = \"wecom\"\nkey = \"{KEY}\"\n"
    ));
    let err = load_robots(&config).unwrap_err().to_string();
    assert!(err.contains("`key` is written inline"), "{err}");
    assert!(!err.contains(KEY), "{err}");

    write(
        "[[robot]]\nplatform = \"dingtalk\"\naccess_token = { env = \"GOVMEDIA_TEST_UNSET_TOKEN\" }\n",
    );
    let err = load_robots(&config).unwrap_err().to_string();
    assert!(
        err.contains("environment variable GOVMEDIA_TEST_UNSET_TOKEN, which is not set"),
        "{err}"
    );

    write("[[robot]]\nplatform = \"wecom\"\nkey = { env = \"X\" }\nsecret = { env = \"Y\" }\n");
    let err = load_robots(&config).unwrap_err().to_string();
    assert!(
        err.contains("`secret` does not apply to a WeCom robot"),
        "{err}"
    );

    write("[[robot]]\nplatform = \"slack\"\n");
    assert!(load_robots(&config).is_err());
}
