//! Sends the watch digest to the group-chat robots agencies already use: WeCom (企业微信) group
//! robots, DingTalk (钉钉) custom robots and Feishu/Lark (飞书) custom bots.
//!
//! Configured in TOML (`--notify FILE`), one `[[robot]]` table per robot. Secrets are given by
//! reference, `{ env = "NAME" }` or `{ file = "PATH" }`, never inline, and never appear in
//! messages, logs or errors (request errors are reported without their URL):
//!
//! ```toml
//! [[robot]]
//! platform = "wecom"              # wecom | dingtalk | feishu
//! name = "办公室值班群"            # how reports name the robot
//! key = { env = "WECOM_ROBOT_KEY" }
//!
//! [[robot]]
//! platform = "dingtalk"
//! access_token = { env = "DINGTALK_TOKEN" }
//! secret = { file = "/etc/govmedia/dingtalk.secret" }   # optional: signed requests
//!
//! [[robot]]
//! platform = "feishu"
//! hook = { env = "FEISHU_HOOK_ID" }
//! secret = { env = "FEISHU_SECRET" }                    # optional: signed requests
//! base_url = "https://open.larksuite.com"               # optional: Lark, a private deployment
//! accounts = ["wechat:gh_abc", "weibo:123"]             # optional: only these accounts
//! ```
//!
//! Each digest is split into messages under the platform's size limit, paced under its rate
//! limit (`interval_ms` overrides the pace), and each answer's error code is checked; a
//! rate-limited answer is retried once after `retry_after_ms`.

mod dingtalk;
mod feishu;
mod wecom;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::digest::{Digest, split_messages};

/// A secret given by reference.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SecretRef {
    Env {
        env: String,
    },
    File {
        file: PathBuf,
    },
    /// Written inline: refused with a message saying how to give it.
    Inline(String),
}

/// A secret's value, shown as `***` if ever formatted.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Wecom,
    Dingtalk,
    Feishu,
}

impl Platform {
    pub fn label(self) -> &'static str {
        match self {
            Platform::Wecom => "WeCom",
            Platform::Dingtalk => "DingTalk",
            Platform::Feishu => "Feishu",
        }
    }

    /// The documented default address.
    fn default_base(self) -> &'static str {
        match self {
            Platform::Wecom => "https://qyapi.weixin.qq.com",
            Platform::Dingtalk => "https://oapi.dingtalk.com",
            Platform::Feishu => "https://open.feishu.cn",
        }
    }

    /// Largest message body text in bytes (WeCom markdown: 4096; the others kept as small, a
    /// phone screen's worth).
    fn message_limit(self) -> usize {
        match self {
            Platform::Wecom | Platform::Dingtalk => 4096,
            Platform::Feishu => 8192,
        }
    }

    /// Time between messages: WeCom and DingTalk robots take 20 messages a minute, Feishu
    /// bots 100 a minute (5 a second).
    fn default_interval(self) -> Duration {
        match self {
            Platform::Wecom | Platform::Dingtalk => Duration::from_millis(3_000),
            Platform::Feishu => Duration::from_millis(600),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RobotEntry {
    platform: Platform,
    name: Option<String>,
    base_url: Option<String>,
    /// WeCom: the `key` of the webhook URL.
    key: Option<SecretRef>,
    /// DingTalk: the `access_token` of the webhook URL.
    access_token: Option<SecretRef>,
    /// Feishu: the hook id at the end of the webhook URL.
    hook: Option<SecretRef>,
    /// DingTalk and Feishu: the signing secret (加签), when the robot has one.
    secret: Option<SecretRef>,
    interval_ms: Option<u64>,
    retry_after_ms: Option<u64>,
    /// Only these accounts' warnings (a department's group chat); default: all.
    accounts: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    robot: Vec<RobotEntry>,
}

/// One robot, secrets resolved.
#[derive(Debug, Clone)]
pub struct Robot {
    pub platform: Platform,
    pub name: String,
    pub base_url: String,
    /// The key, access token or hook id.
    pub address: Secret,
    pub secret: Option<Secret>,
    pub interval: Duration,
    pub retry_after: Duration,
    /// Only these accounts' warnings go to this robot (`None`: all).
    pub accounts: Option<Vec<String>>,
}

/// Errors of the notification config and of sending.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{file}: {message}")]
    Config { file: String, message: String },
}

fn resolve(
    reference: &SecretRef,
    field: &str,
    robot: &str,
    file: &Path,
) -> Result<Secret, NotifyError> {
    let fail = |message: String| NotifyError::Config {
        file: file.display().to_string(),
        message,
    };
    let value = match reference {
        SecretRef::Inline(_) => {
            return Err(fail(format!(
                "robot {robot}: `{field}` is written inline; give it as {field} = {{ env = \"NAME\" }} \
                 or {field} = {{ file = \"PATH\" }} so the secret never sits in a config file"
            )));
        }
        SecretRef::Env { env } => std::env::var(env).map_err(|_| {
            fail(format!(
                "robot {robot}: `{field}` refers to the environment variable {env}, which is not set"
            ))
        })?,
        SecretRef::File { file: path } => std::fs::read_to_string(path).map_err(|e| {
            fail(format!(
                "robot {robot}: `{field}` refers to {}: {e}",
                path.display()
            ))
        })?,
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(fail(format!("robot {robot}: `{field}` is empty")));
    }
    Ok(Secret(value))
}

/// Reads a notification config, resolving every secret (so a missing one fails before the
/// audit runs, not after).
pub fn load_robots(path: &Path) -> Result<Vec<Robot>, NotifyError> {
    let fail = |message: String| NotifyError::Config {
        file: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let config: ConfigFile = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
    if config.robot.is_empty() {
        return Err(fail("no [[robot]] in the file".into()));
    }
    let mut robots = Vec::new();
    for (i, entry) in config.robot.iter().enumerate() {
        let name = entry
            .name
            .clone()
            .unwrap_or_else(|| format!("{} #{}", entry.platform.label(), i + 1));
        let (field, reference) = match entry.platform {
            Platform::Wecom => ("key", &entry.key),
            Platform::Dingtalk => ("access_token", &entry.access_token),
            Platform::Feishu => ("hook", &entry.hook),
        };
        let Some(reference) = reference else {
            return Err(fail(format!(
                "robot {name}: a {} robot needs `{field}`",
                entry.platform.label()
            )));
        };
        let given = [
            ("key", entry.key.is_some()),
            ("access_token", entry.access_token.is_some()),
            ("hook", entry.hook.is_some()),
            ("secret", entry.secret.is_some()),
        ];
        let allowed: &[&str] = match entry.platform {
            Platform::Wecom => &["key"],
            Platform::Dingtalk => &["access_token", "secret"],
            Platform::Feishu => &["hook", "secret"],
        };
        if let Some((other, _)) = given.iter().find(|(f, set)| *set && !allowed.contains(f)) {
            return Err(fail(format!(
                "robot {name}: `{other}` does not apply to a {} robot",
                entry.platform.label()
            )));
        }
        let address = resolve(reference, field, &name, path)?;
        let secret = entry
            .secret
            .as_ref()
            .map(|s| resolve(s, "secret", &name, path))
            .transpose()?;
        let base_url = entry
            .base_url
            .clone()
            .unwrap_or_else(|| entry.platform.default_base().to_string())
            .trim_end_matches('/')
            .to_string();
        robots.push(Robot {
            platform: entry.platform,
            name,
            base_url,
            address,
            secret,
            interval: entry
                .interval_ms
                .map_or(entry.platform.default_interval(), Duration::from_millis),
            retry_after: Duration::from_millis(entry.retry_after_ms.unwrap_or(60_000)),
            accounts: entry.accounts.clone(),
        });
    }
    Ok(robots)
}

/// What one robot did with the digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub robot: String,
    pub platform: Platform,
    pub messages: usize,
    pub sent: usize,
    /// The first failure: the platform's code and message, or the transport error.
    pub failure: Option<String>,
}

/// A request to a robot: the URL (holding the address and maybe a signature) and the JSON body.
struct Outgoing {
    url: String,
    body: String,
}

/// The platform's answer, read from its JSON.
enum Answer {
    Ok,
    /// Try again after a pause.
    RateLimited(String),
    Failed(String),
}

fn outgoing(robot: &Robot, title: &str, text: &str, now_ms: i64) -> Outgoing {
    match robot.platform {
        Platform::Wecom => wecom::request(robot, text),
        Platform::Dingtalk => dingtalk::request(robot, title, text, now_ms),
        Platform::Feishu => feishu::request(robot, title, text, now_ms),
    }
}

fn answer(platform: Platform, status: u16, body: &str) -> Answer {
    let json: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => {
            let shown: String = body.chars().take(200).collect();
            return Answer::Failed(format!("HTTP {status}: not JSON: {shown}"));
        }
    };
    match platform {
        Platform::Wecom => errcode_answer(&json, wecom::RATE_LIMITED),
        Platform::Dingtalk => errcode_answer(&json, dingtalk::RATE_LIMITED),
        Platform::Feishu => feishu::answer(status, &json),
    }
}

/// An `errcode`/`errmsg` answer (WeCom, DingTalk): 0 is success, `rate_limited` asks to wait.
fn errcode_answer(json: &serde_json::Value, rate_limited: i64) -> Answer {
    let code = json["errcode"].as_i64().unwrap_or(-1);
    let text = code_text(code, json["errmsg"].as_str());
    match code {
        0 => Answer::Ok,
        c if c == rate_limited => Answer::RateLimited(text),
        _ => Answer::Failed(text),
    }
}

/// The `errcode`/`code` and message of an answer as `code 93000: invalid webhook url`.
fn code_text(code: i64, message: Option<&str>) -> String {
    format!("code {code}: {}", message.unwrap_or("(no message)"))
}

/// Sends the digest to every robot, one after another; a failing robot does not stop the
/// others. `now_ms` gives the signing clock (the real time in production).
pub fn send_digest(robots: &[Robot], digest: &Digest, now_ms: impl Fn() -> i64) -> Vec<Delivery> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return robots
                .iter()
                .map(|r| Delivery {
                    robot: r.name.clone(),
                    platform: r.platform,
                    messages: 0,
                    sent: 0,
                    failure: Some(format!("cannot start the HTTP client: {e}")),
                })
                .collect();
        }
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build();
    robots
        .iter()
        .map(|robot| {
            let messages = split_messages(digest, robot.platform.message_limit());
            let mut delivery = Delivery {
                robot: robot.name.clone(),
                platform: robot.platform,
                messages: messages.len(),
                sent: 0,
                failure: None,
            };
            let client = match &client {
                Ok(c) => c,
                Err(e) => {
                    delivery.failure = Some(format!("cannot start the HTTP client: {}", e));
                    return delivery;
                }
            };
            runtime.block_on(async {
                for (i, text) in messages.iter().enumerate() {
                    if i > 0 {
                        tokio::time::sleep(robot.interval).await;
                    }
                    let mut tries = 0;
                    let outcome = loop {
                        tries += 1;
                        let request = outgoing(robot, &digest.title, text, now_ms());
                        let sent = client
                            .post(&request.url)
                            .header("Content-Type", "application/json; charset=utf-8")
                            .body(request.body)
                            .send()
                            .await;
                        let outcome = match sent {
                            // The URL holds the key: errors are reported without it.
                            Err(e) => Answer::Failed(e.without_url().to_string()),
                            Ok(resp) => {
                                let status = resp.status().as_u16();
                                match resp.text().await {
                                    Ok(body) => answer(robot.platform, status, &body),
                                    Err(e) => Answer::Failed(e.without_url().to_string()),
                                }
                            }
                        };
                        match outcome {
                            Answer::RateLimited(_) if tries < 2 => {
                                tokio::time::sleep(robot.retry_after).await;
                            }
                            other => break other,
                        }
                    };
                    match outcome {
                        Answer::Ok => delivery.sent += 1,
                        Answer::RateLimited(why) | Answer::Failed(why) => {
                            delivery.failure =
                                Some(format!("message {}/{}: {why}", i + 1, messages.len()));
                            break;
                        }
                    }
                }
            });
            delivery
        })
        .collect()
}

#[cfg(test)]
mod tests;
