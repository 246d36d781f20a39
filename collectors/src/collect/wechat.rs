//! WeChat Official Account collection, extract step. Per account, in order, each endpoint
//! checkpointed page by page:
//!
//! | step | endpoint | paging | saved as |
//! |---|---|---|---|
//! | token | `GET /cgi-bin/token` or `POST /cgi-bin/stable_token` | cached until expiry; refreshed once on 40001/40014/42001 | never saved |
//! | published | `POST /cgi-bin/freepublish/batchget` | offset, 20 a page, until `total_count` (or `--since`) | `published-<offset>.json` |
//! | material | `POST /cgi-bin/material/batchget_material` (news) | the same | `material-<offset>.json` |
//! | menu_current | `GET /cgi-bin/get_current_selfmenu_info` | one | `selfmenu.json` |
//! | menu | `GET /cgi-bin/menu/get` (46003 = no API menu) | one | `menu.json` |
//! | comments | `POST /cgi-bin/comment/list` per article open to comments | `begin`, 49 a page, until an empty page | `comments/b<begin>_<msg_data_id>_<index>.json` |
//! | datacube | `POST /datacube/getarticlesummary`, `/datacube/getarticletotal` | one day per request (the endpoints' span) | `datacube/{summary,total}-<date>.json` |
//! | authorizer | `POST /cgi-bin/component/api_component_token`, `api_get_authorizer_info` | one (when `[wechat.component]` is set) | `authorizer.json` |
//!
//! `-1` (busy) and 45011 (minute quota) are retried with backoff; 45009 (daily quota) stops the
//! account, its checkpoint saying where the next run resumes. The transform is the importers'.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use indicatif::ProgressBar;
use serde_json::{Value as Json, json};

use super::config::{CollectConfig, Secret, TokenEndpoint, WechatAccount, WechatConfig};
use super::http::{Api, ApiFault, CallError, Fetched, Verdict};
use super::landing::Landing;
use super::{
    AccountOutcome, AccountRun, AccountSteps, Halt, Platform, Progress, RunOptions,
    for_each_account,
};
use crate::Error;
use crate::transform::wechat::link_ids;

const PAGE: i64 = 20;
/// `comment/list` takes fewer than 50 a page.
const COMMENT_PAGE: i64 = 49;
/// The menu was made in the web console, not through the API: `menu/get` has nothing.
const NO_API_MENU: &str = "46003";
/// The account may not manage comments (not opened, or not permitted).
const NO_COMMENT_PERMISSION: [&str; 2] = ["88000", "88010"];

/// WeChat's `{"errcode","errmsg"}` errors and what each asks of the client.
pub fn classify(body: &Json) -> Option<ApiFault> {
    let code = body.get("errcode").and_then(Json::as_i64)?;
    if code == 0 {
        return None;
    }
    let verdict = match code {
        -1 | 45011 => Verdict::Retry,
        40001 | 40014 | 42001 => Verdict::Token,
        45009 => Verdict::Quota,
        _ => Verdict::Fail,
    };
    Some(ApiFault {
        code: code.to_string(),
        message: body
            .get("errmsg")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string(),
        verdict,
    })
}

/// What every account task shares: the platform client and the component token.
struct Shared {
    api: Api,
    config: WechatConfig,
    base: String,
    options: RunOptions,
    component: Option<(String, Secret, Secret)>,
    component_token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

pub(crate) async fn collect(
    store_dir: &Path,
    config: &CollectConfig,
    options: &RunOptions,
    progress: &Progress,
) -> Result<(Vec<AccountOutcome>, BTreeMap<String, usize>), Error> {
    let wechat = config
        .wechat
        .as_ref()
        .ok_or_else(|| Error::Input("the config has no [wechat] section".into()))?;
    // Every secret is resolved before the first request: a missing one stops the run early.
    let mut accounts = Vec::new();
    for account in &wechat.accounts {
        super::landing::check_folder_name(&account.id)?;
        accounts.push((
            account.id.clone(),
            (account.clone(), config.wechat_secret(account)?),
        ));
    }
    let component = match &wechat.component {
        Some(c) => Some((
            c.appid.clone(),
            config.secret("[wechat.component] secret", &c.secret)?,
            config.secret("[wechat.component] ticket", &c.ticket)?,
        )),
        None => None,
    };
    let shared = Arc::new(Shared {
        api: Api::new(&wechat.limits, classify)?,
        config: wechat.clone(),
        base: wechat.api_base.trim_end_matches('/').to_string(),
        options: options.clone(),
        component,
        component_token: tokio::sync::Mutex::new(None),
    });
    let outcomes = for_each_account(
        Platform::Wechat,
        accounts,
        wechat.limits.concurrency,
        progress,
        store_dir,
        options,
        |(account, secret), bar| Session::new(shared.clone(), account, secret, bar),
    )
    .await;
    Ok((outcomes, shared.api.errors.snapshot()))
}

struct Session {
    shared: Arc<Shared>,
    account: WechatAccount,
    secret: Secret,
    token: Option<(String, Instant)>,
    /// After a token error, ask `stable_token` for a new one rather than the cached one.
    force_refresh: bool,
    run: AccountRun,
    bar: ProgressBar,
}

impl AccountSteps for Session {
    fn run_mut(&mut self) -> &mut AccountRun {
        &mut self.run
    }

    async fn steps(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        self.news(landing, "published", "cgi-bin/freepublish/batchget", None)
            .await?;
        if self.shared.config.material {
            self.news(
                landing,
                "material",
                "cgi-bin/material/batchget_material",
                Some("news"),
            )
            .await?;
        }
        self.menus(landing).await?;
        if self.shared.config.comments {
            self.comments(landing).await?;
        }
        if self.shared.config.datacube {
            self.datacube(landing).await?;
        }
        if self.shared.component.is_some() {
            self.authorizer(landing).await?;
        }
        Ok(())
    }
}

impl Session {
    fn new(
        shared: Arc<Shared>,
        account: WechatAccount,
        secret: Secret,
        bar: ProgressBar,
    ) -> Session {
        let run = AccountRun {
            account: format!("wechat:{}", account.id),
            ..Default::default()
        };
        Session {
            shared,
            account,
            secret,
            token: None,
            force_refresh: false,
            run,
            bar,
        }
    }

    /// The access token, fetched when missing or about to expire.
    async fn token(&mut self) -> Result<String, Halt> {
        if let Some((token, until)) = &self.token
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let shared = self.shared.clone();
        let http = shared.api.http();
        let appid = self.account.appid.as_str();
        let secret = self.secret.expose();
        self.run.requests += 1;
        let fetched = match shared.config.token_endpoint {
            TokenEndpoint::Token => {
                let url = format!("{}/cgi-bin/token", shared.base);
                shared
                    .api
                    .fetch(|| {
                        http.get(&url).query(&[
                            ("grant_type", "client_credential"),
                            ("appid", appid),
                            ("secret", secret),
                        ])
                    })
                    .await
            }
            TokenEndpoint::StableToken => {
                let url = format!("{}/cgi-bin/stable_token", shared.base);
                let body = json!({"grant_type": "client_credential", "appid": appid,
                    "secret": secret, "force_refresh": self.force_refresh});
                shared.api.fetch(|| http.post(&url).json(&body)).await
            }
        }
        .map_err(|e| Halt::Call("token".into(), e))?;
        let token = fetched
            .json
            .get("access_token")
            .and_then(Json::as_str)
            .ok_or_else(|| {
                Halt::Store(Error::Input(format!(
                    "wechat {}: token: the answer has no access_token",
                    self.account.id
                )))
            })?
            .to_string();
        let lifetime = fetched
            .json
            .get("expires_in")
            .and_then(Json::as_u64)
            .unwrap_or(7200);
        // Renew five minutes early, so a token never expires between check and use.
        let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(300).max(1));
        self.token = Some((token.clone(), until));
        self.force_refresh = false;
        Ok(token)
    }

    /// GET (no body) or POST (a JSON body) with the token, refreshing it once on a token error.
    async fn call(&mut self, endpoint: &str, body: Option<&Json>) -> Result<Fetched, Halt> {
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            let shared = self.shared.clone();
            let http = shared.api.http();
            let url = format!("{}/{endpoint}", shared.base);
            self.run.requests += 1;
            let result = shared
                .api
                .fetch(|| {
                    let request = match body {
                        Some(body) => http.post(&url).json(body),
                        None => http.get(&url),
                    };
                    request.query(&[("access_token", token.as_str())])
                })
                .await;
            match result {
                Err(e) if e.verdict() == Some(Verdict::Token) && !refreshed => {
                    refreshed = true;
                    self.run.token_refreshes += 1;
                    self.token = None;
                    self.force_refresh = true;
                }
                Err(e) => return Err(Halt::Call(endpoint_name(endpoint), e)),
                Ok(fetched) => return Ok(fetched),
            }
        }
    }

    /// `freepublish/batchget` or `material/batchget_material`: paged by offset until the total
    /// (or until a page reaches back past `--since`).
    async fn news(
        &mut self,
        landing: &mut Landing,
        step: &str,
        endpoint: &str,
        material_type: Option<&str>,
    ) -> Result<(), Halt> {
        let state = landing.step(step);
        if state.done {
            return Ok(());
        }
        let since = landing.since().map(start_of_day_unix);
        let mut offset = state
            .cursor
            .get("offset")
            .and_then(Json::as_i64)
            .unwrap_or(0);
        loop {
            self.bar.set_message(format!("{step} offset {offset}"));
            let mut body = json!({"offset": offset, "count": PAGE, "no_content": 0});
            if let Some(kind) = material_type {
                body = json!({"type": kind, "offset": offset, "count": PAGE});
            }
            let page = self.call(endpoint, Some(&body)).await?;
            let items = page
                .json
                .get("item")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default();
            let total = page
                .json
                .get("total_count")
                .and_then(Json::as_i64)
                .unwrap_or(0);
            let articles: u64 = items
                .iter()
                .map(|i| {
                    i.pointer("/content/news_item")
                        .and_then(Json::as_array)
                        .map_or(0, |a| a.len() as u64)
                })
                .sum();
            let oldest = items
                .iter()
                .filter_map(|i| i.get("update_time").and_then(Json::as_i64))
                .min();
            let next = offset + items.len() as i64;
            let finished = items.is_empty()
                || next >= total
                || matches!((since, oldest), (Some(s), Some(o)) if o < s);
            landing.save_page(
                step,
                &format!("{step}-{offset:06}.json"),
                &page.text,
                articles,
                (!finished).then(|| json!({"offset": next})),
            )?;
            self.run.posts += articles;
            if finished {
                return Ok(());
            }
            offset = next;
        }
    }

    /// Both menu endpoints, saved with one modification time: the importer takes that as the
    /// snapshot time, so the two readings of one menu are one snapshot.
    async fn menus(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        self.bar.set_message("menus");
        if !landing.step("menu_current").done {
            let page = self.call("cgi-bin/get_current_selfmenu_info", None).await?;
            let buttons = count_buttons(page.json.pointer("/selfmenu_info/button"));
            landing.save_page("menu_current", "selfmenu.json", &page.text, buttons, None)?;
            self.run.menus += buttons;
        }
        if !landing.step("menu").done {
            match self.call("cgi-bin/menu/get", None).await {
                Ok(page) => {
                    let buttons = count_buttons(page.json.pointer("/menu/button"));
                    let path = landing.save_page("menu", "menu.json", &page.text, buttons, None)?;
                    let current = landing.run_dir().join("selfmenu.json");
                    super::landing::same_snapshot_time(&current, &path)?;
                }
                Err(Halt::Call(_, CallError::Api { code, .. })) if code == NO_API_MENU => {
                    self.run
                        .notes
                        .push("menu/get: no menu made through the API (46003)".into());
                    landing.advance("menu", None)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// `comment/list` for every article of this run that is open to comments.
    async fn comments(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        let state = landing.step("comments");
        if state.done {
            return Ok(());
        }
        let articles = commentable_articles(landing.run_dir())?;
        let mut article = state
            .cursor
            .get("article")
            .and_then(Json::as_u64)
            .unwrap_or(0) as usize;
        let mut begin = state
            .cursor
            .get("begin")
            .and_then(Json::as_i64)
            .unwrap_or(0);
        while let Some((msg_data_id, index)) = articles.get(article) {
            self.bar.set_message(format!(
                "comments {}/{} (begin {begin})",
                article + 1,
                articles.len()
            ));
            let body = json!({"msg_data_id": msg_data_id.parse::<i64>().unwrap_or(0),
                "index": index, "begin": begin, "count": COMMENT_PAGE, "type": 0});
            let page = match self.call("cgi-bin/comment/list", Some(&body)).await {
                Ok(page) => page,
                Err(Halt::Call(_, CallError::Api { code, message, .. }))
                    if NO_COMMENT_PERMISSION.contains(&code.as_str()) =>
                {
                    self.run.notes.push(format!(
                        "comment/list: {code} {message}: the account's comments cannot be read"
                    ));
                    return Ok(landing.advance("comments", None)?);
                }
                Err(e) => return Err(e),
            };
            let n = page
                .json
                .get("comment")
                .and_then(Json::as_array)
                .map_or(0, Vec::len) as i64;
            // `total` is sometimes the page size: page until a page comes back empty.
            let (next_article, next_begin) = if n == 0 {
                (article + 1, 0)
            } else {
                (article, begin + n)
            };
            let more = next_article < articles.len();
            landing.save_page(
                "comments",
                &format!("comments/b{begin:06}_{msg_data_id}_{index}.json"),
                &page.text,
                n as u64,
                more.then(|| json!({"article": next_article, "begin": next_begin})),
            )?;
            self.run.comments += n as u64;
            article = next_article;
            begin = next_begin;
        }
        // No post with comments, or a cursor already past the last one: the step is done.
        if !landing.step("comments").done {
            landing.advance("comments", None)?;
        }
        Ok(())
    }

    /// Article statistics, one day per request, from `--since` (else `datacube_days` ago) to
    /// yesterday: the endpoints answer for finished days only.
    async fn datacube(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        let state = landing.step("datacube");
        if state.done {
            return Ok(());
        }
        let today = crate::time::shanghai_date(self.shared.options.now);
        let last = today - Days::new(1);
        let first = landing.since().unwrap_or_else(|| {
            today - Days::new(u64::from(self.shared.config.datacube_days.max(1)))
        });
        let mut day = state
            .cursor
            .get("date")
            .and_then(Json::as_str)
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .unwrap_or(first);
        let mut part = state
            .cursor
            .get("part")
            .and_then(Json::as_str)
            .unwrap_or("summary")
            .to_string();
        if day > last {
            return Ok(landing.advance("datacube", None)?);
        }
        while day <= last {
            self.bar.set_message(format!("datacube {day} {part}"));
            let date = day.format("%Y-%m-%d").to_string();
            let body = json!({"begin_date": date, "end_date": date});
            let endpoint = format!("datacube/getarticle{part}");
            let page = self.call(&endpoint, Some(&body)).await?;
            let rows = page
                .json
                .get("list")
                .and_then(Json::as_array)
                .map_or(0, |l| l.len() as u64);
            let (next_day, next_part) = if part == "summary" {
                (day, "total")
            } else {
                (day + Days::new(1), "summary")
            };
            landing.save_page(
                "datacube",
                &format!("datacube/{part}-{date}.json"),
                &page.text,
                rows,
                (next_day <= last).then(
                    || json!({"date": next_day.format("%Y-%m-%d").to_string(), "part": next_part}),
                ),
            )?;
            self.run.stats += rows;
            day = next_day;
            part = next_part.to_string();
        }
        Ok(())
    }

    /// The account's identity and certification through the third-party platform.
    async fn authorizer(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        if landing.step("authorizer").done {
            return Ok(());
        }
        self.bar.set_message("authorizer info");
        let token = self.component_token().await?;
        let shared = self.shared.clone();
        let Some((component_appid, _, _)) = &shared.component else {
            return Ok(());
        };
        let url = format!("{}/cgi-bin/component/api_get_authorizer_info", shared.base);
        let body =
            json!({"component_appid": component_appid, "authorizer_appid": self.account.appid});
        self.run.requests += 1;
        let page = shared
            .api
            .fetch(|| {
                shared
                    .api
                    .http()
                    .post(&url)
                    .query(&[("component_access_token", token.as_str())])
                    .json(&body)
            })
            .await
            .map_err(|e| Halt::Call("component/api_get_authorizer_info".into(), e))?;
        landing.save_page("authorizer", "authorizer.json", &page.text, 1, None)?;
        Ok(())
    }

    /// The component access token, shared by every account and cached until expiry.
    async fn component_token(&mut self) -> Result<String, Halt> {
        let shared = self.shared.clone();
        let Some((appid, secret, ticket)) = &shared.component else {
            return Err(Halt::Store(Error::Input("no [wechat.component]".into())));
        };
        let mut cached = shared.component_token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let url = format!("{}/cgi-bin/component/api_component_token", shared.base);
        let body = json!({"component_appid": appid, "component_appsecret": secret.expose(),
            "component_verify_ticket": ticket.expose()});
        self.run.requests += 1;
        let page = shared
            .api
            .fetch(|| shared.api.http().post(&url).json(&body))
            .await
            .map_err(|e| Halt::Call("component/api_component_token".into(), e))?;
        let token = page
            .json
            .get("component_access_token")
            .and_then(Json::as_str)
            .ok_or_else(|| {
                Halt::Store(Error::Input(
                    "component/api_component_token: the answer has no component_access_token"
                        .into(),
                ))
            })?
            .to_string();
        let lifetime = page
            .json
            .get("expires_in")
            .and_then(Json::as_u64)
            .unwrap_or(7200);
        *cached = Some((
            token.clone(),
            Instant::now() + Duration::from_secs(lifetime.saturating_sub(300).max(1)),
        ));
        Ok(token)
    }
}

/// `cgi-bin/freepublish/batchget` → `freepublish/batchget` (as the errors name endpoints).
fn endpoint_name(endpoint: &str) -> String {
    endpoint
        .strip_prefix("cgi-bin/")
        .unwrap_or(endpoint)
        .to_string()
}

/// Midnight of a day in Asia/Shanghai as unix seconds.
fn start_of_day_unix(day: NaiveDate) -> i64 {
    crate::time::shanghai_midnight_ms(day) / 1000
}

/// Buttons and sub-buttons of a menu (`sub_button` an object with `list`, or an array).
fn count_buttons(buttons: Option<&Json>) -> u64 {
    let Some(list) = buttons.and_then(Json::as_array) else {
        return 0;
    };
    list.iter()
        .map(|b| {
            let sub = b
                .get("sub_button")
                .map(|s| s.get("list").unwrap_or(s))
                .and_then(Json::as_array)
                .map_or(0, |l| l.len() as u64);
            1 + sub
        })
        .sum()
}

/// The articles of this run open to comments, as (msg_data_id, index from 0), in the order of
/// the saved pages (read back from the landing folder, so a resumed run sees the same list).
fn commentable_articles(run_dir: &Path) -> Result<Vec<(String, i64)>, Error> {
    let mut pages: Vec<std::path::PathBuf> = std::fs::read_dir(run_dir)
        .map_err(|e| Error::io(run_dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string());
            name.is_some_and(|n| {
                (n.starts_with("published-") || n.starts_with("material-")) && n.ends_with(".json")
            })
        })
        .collect();
    pages.sort();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).map_err(|e| Error::io(&page, e))?;
        let Ok(json) = serde_json::from_str::<Json>(&text) else {
            continue;
        };
        for item in json
            .get("item")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            for news in item
                .pointer("/content/news_item")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let open = news.get("need_open_comment").and_then(Json::as_i64) != Some(0);
                let deleted = news
                    .get("is_deleted")
                    .or_else(|| news.get("is_delete"))
                    .and_then(Json::as_bool)
                    .unwrap_or(false);
                let Some(url) = news.get("url").and_then(Json::as_str) else {
                    continue;
                };
                if let (_, Some(mid), Some(idx)) = link_ids(url)
                    && open
                    && !deleted
                    && seen.insert((mid.clone(), idx))
                {
                    out.push((mid, idx - 1));
                }
            }
        }
    }
    Ok(out)
}
