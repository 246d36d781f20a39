//! Feishu/Lark (飞书) custom bot: `POST /open-apis/bot/v2/hook/ID` with an `interactive` card
//! holding the digest as Markdown. A bot with a signing secret (签名校验) also takes body fields
//! `timestamp` (seconds) and `sign`: the Base64 of HMAC-SHA256 keyed with
//! `timestamp + "\n" + secret` over an empty message. The answer's `code` is 0 on success
//! (older deployments answer `StatusCode`), 11232 (or HTTP 429) when rate limited, 19021 for
//! a bad signature or stale timestamp, 19001 for an invalid hook.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Answer, Outgoing, Robot, code_text};

/// Feishu's message-service frequency limit.
const RATE_LIMITED: i64 = 11232;

/// The `sign` field for a timestamp in seconds.
pub fn sign(timestamp_s: i64, secret: &str) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    let mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub(super) fn request(robot: &Robot, title: &str, text: &str, now_ms: i64) -> Outgoing {
    let mut body = json!({
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": text}],
        },
    });
    if let Some(secret) = &robot.secret {
        let seconds = now_ms.div_euclid(1000);
        body["timestamp"] = json!(seconds.to_string());
        body["sign"] = json!(sign(seconds, secret.expose()));
    }
    Outgoing {
        url: format!(
            "{}/open-apis/bot/v2/hook/{}",
            robot.base_url,
            url::form_urlencoded::byte_serialize(robot.address.expose().as_bytes())
                .collect::<String>()
        ),
        body: body.to_string(),
    }
}

pub(super) fn answer(status: u16, json: &Value) -> Answer {
    let code = json["code"]
        .as_i64()
        .or_else(|| json["StatusCode"].as_i64())
        .unwrap_or(-1);
    let message = json["msg"]
        .as_str()
        .or_else(|| json["StatusMessage"].as_str());
    let text = code_text(code, message);
    match code {
        0 => Answer::Ok,
        _ if status == 429 || code == RATE_LIMITED => Answer::RateLimited(text),
        _ => Answer::Failed(text),
    }
}
