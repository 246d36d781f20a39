//! WeCom (企业微信) group robot: `POST /cgi-bin/webhook/send?key=KEY` with a `markdown` message
//! (content at most 4096 bytes); the answer's `errcode` is 0 on success, 45009 when the robot's
//! 20 messages a minute are used up, 93000 for an invalid key.

use serde_json::json;

use super::{Outgoing, Robot};

/// WeCom's "API frequency out of limit".
pub(super) const RATE_LIMITED: i64 = 45009;

pub(super) fn request(robot: &Robot, text: &str) -> Outgoing {
    let mut url = url::Url::parse(&format!("{}/cgi-bin/webhook/send", robot.base_url))
        .expect("a configured base URL is an absolute URL");
    url.query_pairs_mut()
        .append_pair("key", robot.address.expose());
    Outgoing {
        url: url.to_string(),
        body: json!({"msgtype": "markdown", "markdown": {"content": text}}).to_string(),
    }
}
