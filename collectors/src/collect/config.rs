//! The collection config (`govmedia collect … --config FILE`): accounts per platform and their
//! credentials by reference. Secrets come from environment variables or a separate secrets file
//! named in the config — a secret written in the config itself is refused — and never appear in
//! logs, errors, the store or reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::http::Limits;
use crate::Error;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectConfig {
    /// A TOML file of `name = "secret"` pairs, relative to the config file.
    #[serde(default)]
    pub secrets_file: Option<PathBuf>,
    #[serde(default)]
    pub wechat: Option<WechatConfig>,
    #[serde(default)]
    pub weibo: Option<WeiboConfig>,
    #[serde(default)]
    pub app: Option<AppConfig>,
}

/// Where a secret comes from: an environment variable, or a key of the secrets file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(default)]
    pub env: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    /// API base URL (default `https://api.weixin.qq.com`): proxies, private deployments, tests.
    #[serde(default = "default_wechat_base")]
    pub api_base: String,
    /// `token` (`GET /cgi-bin/token`) or `stable_token` (`POST /cgi-bin/stable_token`).
    #[serde(default)]
    pub token_endpoint: TokenEndpoint,
    /// Also collect news material (`material/batchget_material`): mass-sent posts are only there.
    #[serde(default = "yes")]
    pub material: bool,
    /// Collect the comments of articles open to comments (`comment/list`).
    #[serde(default = "yes")]
    pub comments: bool,
    /// Collect article statistics (`datacube/getarticlesummary`, `getarticletotal`).
    #[serde(default = "yes")]
    pub datacube: bool,
    /// Days of statistics without `--since` (the endpoints only go one day per request).
    #[serde(default = "default_datacube_days")]
    pub datacube_days: u32,
    #[serde(default = "wechat_limits")]
    pub limits: Limits,
    /// Third-party platform credentials, for account identity via `api_get_authorizer_info`.
    #[serde(default)]
    pub component: Option<WechatComponent>,
    pub accounts: Vec<WechatAccount>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpoint {
    #[default]
    Token,
    StableToken,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatComponent {
    pub appid: String,
    /// The component AppSecret.
    pub secret: SecretRef,
    /// The `component_verify_ticket` WeChat pushes to the platform every ten minutes.
    pub ticket: SecretRef,
}

fn default_wechat_base() -> String {
    "https://api.weixin.qq.com".into()
}

fn default_datacube_days() -> u32 {
    7
}

fn yes() -> bool {
    true
}

fn wechat_limits() -> Limits {
    Limits {
        qps: 5.0,
        concurrency: 4,
        ..Limits::default()
    }
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
    /// Key of the AppSecret in the secrets file (default: the id).
    #[serde(default)]
    pub secret_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeiboConfig {
    /// API base URL (default `https://api.weibo.com/2`).
    #[serde(default = "default_weibo_base")]
    pub api_base: String,
    /// Statuses per timeline page (the API allows up to 100).
    #[serde(default = "default_weibo_count")]
    pub count: u32,
    /// Timeline paging: `max_id` (default) or `page`.
    #[serde(default)]
    pub paging: super::weibo::Paging,
    /// Collect the comments of each status (`comments/show`).
    #[serde(default = "yes")]
    pub comments: bool,
    /// The OAuth access token used when an account names none.
    #[serde(default)]
    pub token: Option<SecretRef>,
    #[serde(default = "weibo_limits")]
    pub limits: Limits,
    pub accounts: Vec<WeiboAccount>,
}

fn default_weibo_base() -> String {
    "https://api.weibo.com/2".into()
}

fn default_weibo_count() -> u32 {
    100
}

fn weibo_limits() -> Limits {
    Limits {
        qps: 1.0,
        concurrency: 2,
        ..Limits::default()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeiboAccount {
    /// The numeric user id: the account is `weibo:<uid>`.
    pub uid: String,
    /// The account's OAuth access token (else `[weibo].token`).
    #[serde(default)]
    pub token: Option<SecretRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// App Store lookup base (default `https://itunes.apple.com`).
    #[serde(default = "default_lookup_base")]
    pub lookup_base: String,
    /// Store country: China-only apps need `cn`.
    #[serde(default = "default_country")]
    pub country: String,
    #[serde(default = "app_limits")]
    pub limits: Limits,
    pub apps: Vec<AppEntry>,
}

fn default_lookup_base() -> String {
    "https://itunes.apple.com".into()
}

fn default_country() -> String {
    "cn".into()
}

fn app_limits() -> Limits {
    Limits {
        qps: 2.0,
        concurrency: 2,
        ..Limits::default()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    /// The App Store trackId: the account is `app:<track_id>`.
    pub track_id: u64,
    /// The app's own news list, if it has a JSON endpoint.
    #[serde(default)]
    pub news: Option<Endpoint>,
    /// The app's own service menu, if it has a JSON endpoint.
    #[serde(default)]
    pub menu: Option<Endpoint>,
}

/// An app's own JSON endpoint and how its records map to canonical columns.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// URL template; `{page}` is replaced by the page number (absent: one page).
    pub url: String,
    /// The first page's number.
    #[serde(default = "one")]
    pub first_page: u64,
    /// Pages at most (a guard against endpoints that never run dry).
    #[serde(default = "default_max_pages")]
    pub max_pages: u64,
    /// Where the list is in the response: a JSON pointer (`/data/list`) or dotted path
    /// (`data.list`); empty = the response is the list.
    #[serde(default)]
    pub list: String,
    /// chrono format of the time field; absent = the importers' lenient reading (ISO 8601,
    /// `2025-11-02 09:30`, unix seconds or milliseconds).
    #[serde(default)]
    pub time_format: Option<String>,
    /// Canonical column → field of a list element (pointer or dotted path). News: `post_id`,
    /// `published_at` required; menus: `name` required, `target`, `kind`, `parent`.
    pub fields: BTreeMap<String, String>,
}

fn one() -> u64 {
    1
}

fn default_max_pages() -> u64 {
    1000
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
        let reference = SecretRef {
            env: account.secret_env.clone(),
            key: Some(
                account
                    .secret_key
                    .clone()
                    .unwrap_or_else(|| account.id.clone()),
            ),
        };
        self.secret(&format!("account {}", account.id), &reference)
    }

    /// The access token of a Weibo account (its own, else the platform's).
    pub fn weibo_token(
        &self,
        weibo: &WeiboConfig,
        account: &WeiboAccount,
    ) -> Result<Secret, Error> {
        let reference = account.token.as_ref().or(weibo.token.as_ref()).ok_or_else(|| {
            Error::Input(format!(
                "weibo account {}: no token (set token = {{ env = \"…\" }} or {{ key = \"…\" }} on \
                 the account or in [weibo])",
                account.uid
            ))
        })?;
        self.secret(&format!("weibo account {}", account.uid), reference)
    }

    /// Resolves a secret reference: the environment variable first, then the secrets file.
    pub fn secret(&self, owner: &str, reference: &SecretRef) -> Result<Secret, Error> {
        if let Some(var) = &reference.env {
            return std::env::var(var).map(Secret).map_err(|_| {
                Error::Input(format!("{owner}: environment variable {var} is not set"))
            });
        }
        let Some(key) = &reference.key else {
            return Err(Error::Input(format!(
                "{owner}: a secret reference needs env = \"VARIABLE\" or key = \"name in the secrets file\""
            )));
        };
        let file = self.secrets_file.as_ref().ok_or_else(|| {
            Error::Input(format!(
                "{owner}: no environment variable and no secrets_file in the config"
            ))
        })?;
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let values: BTreeMap<String, String> = toml::from_str(&text).map_err(|_| {
            Error::Input(format!(
                "{}: not a TOML file of name = \"secret\" pairs",
                file.display()
            ))
        })?;
        values
            .get(key)
            .cloned()
            .map(Secret)
            .ok_or_else(|| Error::Input(format!("{owner}: no key {key:?} in {}", file.display())))
    }
}

/// Whether a parsed config carries a key that looks like an inline secret.
fn mentions_inline_secret(value: &toml::Value) -> bool {
    match value {
        toml::Value::Table(t) => t.iter().any(|(k, v)| {
            matches!(
                k.as_str(),
                "secret" | "appsecret" | "app_secret" | "access_token" | "token" | "ticket"
            ) && !v.is_table()
                || mentions_inline_secret(v)
        }),
        toml::Value::Array(a) => a.iter().any(mentions_inline_secret),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's example config is the documentation users copy: it must load as written.
    #[test]
    fn the_readme_example_config_loads() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
                .unwrap();
        let start =
            readme.find("```toml\n# collect.toml").expect("the example") + "```toml\n".len();
        let example = &readme[start..start + readme[start..].find("```").unwrap()];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("collect.toml");
        std::fs::write(&path, example).unwrap();
        let config = CollectConfig::load(&path).unwrap();
        let wechat = config.wechat.as_ref().unwrap();
        assert_eq!(wechat.token_endpoint, TokenEndpoint::Token);
        assert_eq!(wechat.limits.qps, 5.0);
        assert_eq!(
            wechat.component.as_ref().unwrap().ticket.key.as_deref(),
            Some("component_verify_ticket")
        );
        let weibo = config.weibo.as_ref().unwrap();
        assert_eq!(weibo.accounts[0].uid, "1234567890");
        assert_eq!(
            weibo.limits.qps, 1.0,
            "platform defaults when no [weibo.limits]"
        );
        let app = &config.app.as_ref().unwrap().apps[0];
        assert_eq!(
            app.news.as_ref().unwrap().fields["read_count"],
            "stats.views"
        );
        assert_eq!(app.menu.as_ref().unwrap().fields["parent"], "group");
        assert!(config.secrets_file.unwrap().ends_with("secrets.toml"));
    }

    #[test]
    fn a_config_with_an_unknown_key_is_an_error_naming_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("collect.toml");
        std::fs::write(
            &path,
            "[weibo]\npageing = \"page\"\n[[weibo.accounts]]\nuid = \"1\"\n",
        )
        .unwrap();
        let err = CollectConfig::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("collect.toml") && err.contains("pageing"),
            "{err}"
        );
    }

    #[test]
    fn a_secret_reference_resolves_from_the_environment_or_the_secrets_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), "weibo = \"from-file\"\n").unwrap();
        let config = CollectConfig {
            secrets_file: Some(dir.path().join("s.toml")),
            ..Default::default()
        };
        let by_key = SecretRef {
            env: None,
            key: Some("weibo".into()),
        };
        assert_eq!(config.secret("x", &by_key).unwrap().expose(), "from-file");
        assert_eq!(
            format!("{:?}", config.secret("x", &by_key).unwrap()),
            "Secret(***)"
        );
        let missing = SecretRef {
            env: Some("GOVMEDIA_TEST_UNSET_VARIABLE".into()),
            key: None,
        };
        let err = config
            .secret("weibo account 1", &missing)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GOVMEDIA_TEST_UNSET_VARIABLE is not set"),
            "{err}"
        );
        let unknown = SecretRef {
            env: None,
            key: Some("nope".into()),
        };
        assert!(
            config
                .secret("x", &unknown)
                .unwrap_err()
                .to_string()
                .contains("no key \"nope\"")
        );
    }
}
