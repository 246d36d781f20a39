//! WeChat Official Account collection, extract step: the access token (`/cgi-bin/token`,
//! cached, refreshed once on 40001/40014/42001), published articles (`freepublish/batchget`,
//! paged by offset until `total_count`), each response saved unchanged to the store's landing
//! folder `landing/wechat/<gh_id>/`. The transform is the importer's (`wechat-api-articles`), so a
//! saved response means the same whether collected or imported.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value as Json, json};

use super::config::{Secret, WechatAccount};
use crate::Error;

/// Token errors after which the token is fetched again (invalid, invalid, expired).
const TOKEN_ERRORS: [i64; 3] = [40001, 40014, 42001];
/// The system is busy: retry after a pause.
const BUSY: i64 = -1;
/// Daily quota exhausted: stop this account, resume tomorrow.
const QUOTA: i64 = 45009;
const PAGE: i64 = 20;

/// What one account's collection did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountRun {
    pub account: String,
    pub pages: usize,
    pub articles: usize,
    pub token_refreshes: usize,
    /// Set when the account stopped early (quota), with where to resume.
    pub stopped: Option<String>,
}

pub struct WechatClient {
    http: reqwest::Client,
    base: String,
    account: WechatAccount,
    secret: Secret,
    token: Option<String>,
    retry_pause: Duration,
}

/// An API error without the request URL (it carries the token).
fn api_error(account: &str, endpoint: &str, e: reqwest::Error) -> Error {
    Error::Input(format!("wechat {account}: {endpoint}: {}", e.without_url()))
}

impl WechatClient {
    pub fn new(base: &str, account: WechatAccount, secret: Secret) -> Result<WechatClient, Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Input(format!("cannot start the HTTP client: {e}")))?;
        Ok(WechatClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            account,
            secret,
            token: None,
            retry_pause: Duration::from_millis(500),
        })
    }

    /// Shortens the pause before retrying a busy (-1) answer (tests).
    pub fn with_retry_pause(mut self, pause: Duration) -> WechatClient {
        self.retry_pause = pause;
        self
    }

    async fn fetch_token(&mut self) -> Result<String, Error> {
        let id = self.account.id.clone();
        let response: Json = self
            .http
            .get(format!("{}/cgi-bin/token", self.base))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", self.account.appid.as_str()),
                ("secret", self.secret.expose()),
            ])
            .send()
            .await
            .map_err(|e| api_error(&id, "token", e))?
            .json()
            .await
            .map_err(|e| api_error(&id, "token", e))?;
        match response.get("access_token").and_then(Json::as_str) {
            Some(token) => {
                self.token = Some(token.to_string());
                Ok(token.to_string())
            }
            None => Err(Error::Input(format!(
                "wechat {id}: token: errcode {} {}",
                response.get("errcode").and_then(Json::as_i64).unwrap_or(0),
                response.get("errmsg").and_then(Json::as_str).unwrap_or("")
            ))),
        }
    }

    /// POSTs to an endpoint with the token, refreshing it once on a token error and retrying
    /// busy answers a few times with growing pauses. Returns the response body as text (saved
    /// unchanged) and parsed.
    async fn post(
        &mut self,
        endpoint: &str,
        body: &Json,
        run: &mut AccountRun,
    ) -> Result<(String, Json), Error> {
        self.call(endpoint, Some(body), run).await
    }

    /// GET (no body) or POST (a JSON body) with the token; see [`WechatClient::post`].
    async fn call(
        &mut self,
        endpoint: &str,
        body: Option<&Json>,
        run: &mut AccountRun,
    ) -> Result<(String, Json), Error> {
        let id = self.account.id.clone();
        let mut refreshed = false;
        let mut busy_tries = 0;
        loop {
            let token = match &self.token {
                Some(t) => t.clone(),
                None => self.fetch_token().await?,
            };
            let url = format!("{}/cgi-bin/{endpoint}", self.base);
            let request = match body {
                Some(body) => self.http.post(url).json(body),
                None => self.http.get(url),
            };
            let text = request
                .query(&[("access_token", token.as_str())])
                .send()
                .await
                .map_err(|e| api_error(&id, endpoint, e))?
                .text()
                .await
                .map_err(|e| api_error(&id, endpoint, e))?;
            let parsed: Json = serde_json::from_str(&text).map_err(|e| {
                Error::Input(format!(
                    "wechat {id}: {endpoint}: the server sent invalid JSON ({e})"
                ))
            })?;
            let code = parsed.get("errcode").and_then(Json::as_i64).unwrap_or(0);
            match code {
                0 => return Ok((text, parsed)),
                c if TOKEN_ERRORS.contains(&c) && !refreshed => {
                    refreshed = true;
                    run.token_refreshes += 1;
                    self.token = None;
                }
                BUSY if busy_tries < 3 => {
                    busy_tries += 1;
                    tokio::time::sleep(self.retry_pause * (1 << busy_tries)).await;
                }
                c => {
                    return Err(Error::Input(format!(
                        "wechat {id}: {endpoint}: errcode {c} {}",
                        parsed.get("errmsg").and_then(Json::as_str).unwrap_or("")
                    )));
                }
            }
        }
    }

    /// Saves the current menu (`get_current_selfmenu_info`) into `landing/selfmenu.json`.
    pub async fn collect_menu(
        &mut self,
        landing: &Path,
        run: &mut AccountRun,
    ) -> Result<(), Error> {
        std::fs::create_dir_all(landing).map_err(|e| Error::io(landing, e))?;
        let (text, _) = self.call("get_current_selfmenu_info", None, run).await?;
        let path = landing.join("selfmenu.json");
        crate::store::write_atomic(&path, |f| std::io::Write::write_all(f, text.as_bytes()))
    }

    /// Collects every published article into `landing`, one file per page.
    pub async fn collect_published(&mut self, landing: &Path) -> Result<AccountRun, Error> {
        let mut run = AccountRun {
            account: self.account.id.clone(),
            ..Default::default()
        };
        std::fs::create_dir_all(landing).map_err(|e| Error::io(landing, e))?;
        let mut offset = 0i64;
        loop {
            let body = json!({"offset": offset, "count": PAGE, "no_content": 0});
            let (text, page) = match self.post("freepublish/batchget", &body, &mut run).await {
                Ok(r) => r,
                Err(e) if e.to_string().contains(&format!("errcode {QUOTA}")) => {
                    run.stopped = Some(format!(
                        "daily quota exhausted (45009); resume at offset {offset}"
                    ));
                    return Ok(run);
                }
                Err(e) => return Err(e),
            };
            let path: PathBuf = landing.join(format!("freepublish-{offset:06}.json"));
            crate::store::write_atomic(&path, |f| std::io::Write::write_all(f, text.as_bytes()))?;
            run.pages += 1;
            let items = page.get("item_count").and_then(Json::as_i64).unwrap_or(0);
            let total = page.get("total_count").and_then(Json::as_i64).unwrap_or(0);
            run.articles += page
                .get("item")
                .and_then(Json::as_array)
                .map_or(0, |items| {
                    items
                        .iter()
                        .map(|i| {
                            i.pointer("/content/news_item")
                                .and_then(Json::as_array)
                                .map_or(0, Vec::len)
                        })
                        .sum()
                });
            offset += items;
            if items == 0 || offset >= total {
                return Ok(run);
            }
        }
    }
}
