//! The collection config (`govmedia collect … --config FILE`): accounts per platform and their
//! credentials by reference. Secrets come from environment variables or a separate secrets file
//! named in the config — a secret written in the config itself is refused — and never appear in
//! logs, errors, the store or reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectConfig {
    /// A TOML file of `name = "secret"` pairs, relative to the config file.
    #[serde(default)]
    pub secrets_file: Option<PathBuf>,
    #[serde(default)]
    pub wechat: Option<WechatConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    /// API base URL (default `https://api.weixin.qq.com`): proxies, private deployments, tests.
    #[serde(default = "default_wechat_base")]
    pub api_base: String,
    pub accounts: Vec<WechatAccount>,
}

fn default_wechat_base() -> String {
    "https://api.weixin.qq.com".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatAccount {
    /// The original id (`gh_…`), which names the account in the store.
    pub id: String,
    pub appid: String,
    /// Environment variable holding the AppSecret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Key of the AppSecret in the secrets file.
    #[serde(default)]
    pub secret_key: Option<String>,
}

/// A secret value that never prints itself.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl CollectConfig {
    pub fn load(path: &Path) -> Result<CollectConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        if let Ok(raw) = toml::from_str::<toml::Value>(&text)
            && mentions_inline_secret(&raw)
        {
            return Err(Error::Input(format!(
                "{}: secrets are never written in the config; name an environment variable \
                 (secret_env) or a key of the secrets file (secret_key)",
                path.display()
            )));
        }
        let mut config: CollectConfig = toml::from_str(&text).map_err(|e| {
            Error::Input(format!("{}: {}", path.display(), e.to_string().trim_end()))
        })?;
        if let Some(secrets) = &config.secrets_file
            && secrets.is_relative()
        {
            config.secrets_file = Some(path.parent().unwrap_or(Path::new(".")).join(secrets));
        }
        Ok(config)
    }

    /// The AppSecret of a WeChat account, from its environment variable or the secrets file.
    pub fn wechat_secret(&self, account: &WechatAccount) -> Result<Secret, Error> {
        if let Some(var) = &account.secret_env {
            return std::env::var(var).map(Secret).map_err(|_| {
                Error::Input(format!(
                    "account {}: environment variable {var} is not set",
                    account.id
                ))
            });
        }
        let key = account.secret_key.as_deref().unwrap_or(&account.id);
        let file = self.secrets_file.as_ref().ok_or_else(|| {
            Error::Input(format!(
                "account {}: no secret_env and no secrets_file in the config",
                account.id
            ))
        })?;
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let values: BTreeMap<String, String> = toml::from_str(&text).map_err(|_| {
            Error::Input(format!(
                "{}: not a TOML file of name = \"secret\" pairs",
                file.display()
            ))
        })?;
        values.get(key).cloned().map(Secret).ok_or_else(|| {
            Error::Input(format!(
                "account {}: no key {key:?} in {}",
                account.id,
                file.display()
            ))
        })
    }
}

/// Whether a parsed config carries a key that looks like an inline secret.
fn mentions_inline_secret(value: &toml::Value) -> bool {
    match value {
        toml::Value::Table(t) => t.iter().any(|(k, v)| {
            matches!(
                k.as_str(),
                "secret" | "appsecret" | "app_secret" | "access_token" | "token"
            ) || mentions_inline_secret(v)
        }),
        toml::Value::Array(a) => a.iter().any(mentions_inline_secret),
        _ => false,
    }
}
