//! DingTalk (钉钉) custom robot: `POST /robot/send?access_token=TOKEN` with a `markdown` message
//! (`title`, `text`). A robot with a signing secret (加签) also takes `timestamp` (milliseconds)
//! and `sign`: the URL-encoded Base64 of HMAC-SHA256, keyed with the secret, over
//! `timestamp + "\n" + secret`. The answer's `errcode` is 0 on success, 130101 when sending
//! too fast (20 messages a minute), 310000 for a bad signature or keyword, 300001 for a bad
//! token.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{Outgoing, Robot};

/// DingTalk's "send too fast".
pub(super) const RATE_LIMITED: i64 = 130101;

/// The `sign` parameter (before URL encoding) for a timestamp in milliseconds.
pub fn sign(timestamp_ms: i64, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub(super) fn request(robot: &Robot, title: &str, text: &str, now_ms: i64) -> Outgoing {
    let mut url = url::Url::parse(&format!("{}/robot/send", robot.base_url))
        .expect("a configured base URL is an absolute URL");
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("access_token", robot.address.expose());
        if let Some(secret) = &robot.secret {
            query.append_pair("timestamp", &now_ms.to_string());
            query.append_pair("sign", &sign(now_ms, secret.expose()));
        }
    }
    Outgoing {
        url: url.to_string(),
        body: json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}})
            .to_string(),
    }
}
