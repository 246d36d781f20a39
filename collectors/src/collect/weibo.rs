//! Weibo open API collection, extract step. Per account, each endpoint checkpointed page by
//! page:
//!
//! | step | endpoint | paging | saved as |
//! |---|---|---|---|
//! | user | `GET users/show.json?uid=` | one | `user.json` |
//! | timeline | `GET statuses/user_timeline.json?uid=&count=` | `max_id` (or `page`) until an empty page or `--since` | `timeline/p<page>.json` |
//! | comments | `GET comments/show.json?id=&page=&count=200` per status with comments | page until empty or `total_number` | `comments/<status id>-p<page>.json` |
//!
//! The OAuth access token goes in the `access_token` parameter. Rate limits (10022 IP, 10023
//! user, 10024 per API; usually under HTTP 403) are backed off and retried; an expired or
//! invalid token (21327, 21332 …) stops the account with a message saying to renew it. The
//! transform is the importers' (`weibo-api-*`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use indicatif::ProgressBar;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::config::{CollectConfig, Secret, WeiboAccount, WeiboConfig};
use super::http::{Api, ApiFault, Fetched, Verdict};
use super::landing::Landing;
use super::{
    AccountOutcome, AccountRun, AccountSteps, Halt, Platform, Progress, RunOptions,
    for_each_account,
};
use crate::Error;

/// `comments/show` allows up to 200 a page.
const COMMENT_PAGE: u64 = 200;
/// Token errors: expired (21327), invalid (21332), and their OAuth siblings.
const TOKEN_ERRORS: [i64; 8] = [21301, 21314, 21315, 21316, 21317, 21319, 21327, 21332];

/// How the timeline is paged.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Paging {
    /// `max_id` = the oldest id seen minus one: stable while new statuses arrive.
    #[default]
    MaxId,
    /// `page` = 1, 2, 3 …
    Page,
}

/// Weibo's `{"request","error_code","error"}` errors and what each asks of the client.
pub fn classify(body: &Json) -> Option<ApiFault> {
    let code = body.get("error_code").and_then(|c| {
        c.as_i64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    })?;
    let verdict = match code {
        10022..=10024 => Verdict::Retry,
        _ => Verdict::Fail,
    };
    let mut message = body
        .get("error")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    if TOKEN_ERRORS.contains(&code) {
        message = format!(
            "{message} — the access token has expired or is invalid: renew it (OAuth) and run \
             again; the run resumes where it stopped"
        );
    }
    Some(ApiFault {
        code: code.to_string(),
        message,
        verdict,
    })
}

struct Shared {
    api: Api,
    config: WeiboConfig,
    base: String,
}

pub(crate) async fn collect(
    store_dir: &Path,
    config: &CollectConfig,
    options: &RunOptions,
    progress: &Progress,
) -> Result<(Vec<AccountOutcome>, BTreeMap<String, usize>), Error> {
    let weibo = config
        .weibo
        .as_ref()
        .ok_or_else(|| Error::Input("the config has no [weibo] section".into()))?;
    let mut accounts = Vec::new();
    for account in &weibo.accounts {
        if account.uid.is_empty() || !account.uid.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::Input(format!(
                "weibo account uid {:?}: a Weibo uid is a number",
                account.uid
            )));
        }
        accounts.push((
            account.uid.clone(),
            (account.clone(), config.weibo_token(weibo, account)?),
        ));
    }
    let shared = Arc::new(Shared {
        api: Api::new(&weibo.limits, classify)?,
        config: weibo.clone(),
        base: weibo.api_base.trim_end_matches('/').to_string(),
    });
    let outcomes = for_each_account(
        Platform::Weibo,
        accounts,
        weibo.limits.concurrency,
        progress,
        store_dir,
        options,
        |(account, token), bar| Session {
            run: AccountRun {
                account: format!("weibo:{}", account.uid),
                ..Default::default()
            },
            shared: shared.clone(),
            account,
            token,
            bar,
        },
    )
    .await;
    Ok((outcomes, shared.api.errors.snapshot()))
}

struct Session {
    shared: Arc<Shared>,
    account: WeiboAccount,
    token: Secret,
    run: AccountRun,
    bar: ProgressBar,
}

impl AccountSteps for Session {
    fn run_mut(&mut self) -> &mut AccountRun {
        &mut self.run
    }

    async fn steps(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        if !landing.step("user").done {
            self.bar.set_message("users/show");
            let user = self
                .get("users/show.json", &[("uid", self.account.uid.clone())])
                .await?;
            landing.save_page("user", "user.json", &user.text, 1, None)?;
        }
        self.timeline(landing).await?;
        if self.shared.config.comments {
            self.comments(landing).await?;
        }
        Ok(())
    }
}

impl Session {
    async fn get(&mut self, endpoint: &str, params: &[(&str, String)]) -> Result<Fetched, Halt> {
        let shared = self.shared.clone();
        let url = format!("{}/{endpoint}", shared.base);
        let token = self.token.expose();
        self.run.requests += 1;
        shared
            .api
            .fetch(|| {
                shared
                    .api
                    .http()
                    .get(&url)
                    .query(&[("access_token", token)])
                    .query(params)
            })
            .await
            .map_err(|e| Halt::Call(endpoint.trim_end_matches(".json").to_string(), e))
    }

    /// `statuses/user_timeline`, newest first, until an empty page or a page reaching back
    /// past `--since`.
    async fn timeline(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        let state = landing.step("timeline");
        if state.done {
            return Ok(());
        }
        let since_ms = landing.since().map(crate::time::shanghai_midnight_ms);
        let count = self.shared.config.count.clamp(1, 100);
        let paging = self.shared.config.paging;
        let mut page = state.cursor.get("page").and_then(Json::as_u64).unwrap_or(1);
        let mut max_id = state.cursor.get("max_id").and_then(Json::as_i64);
        loop {
            self.bar.set_message(format!("user_timeline page {page}"));
            let mut params = vec![
                ("uid", self.account.uid.clone()),
                ("count", count.to_string()),
            ];
            match paging {
                Paging::Page => params.push(("page", page.to_string())),
                Paging::MaxId => {
                    params.push(("page", "1".into()));
                    if let Some(m) = max_id {
                        params.push(("max_id", m.to_string()));
                    }
                }
            }
            let fetched = self.get("statuses/user_timeline.json", &params).await?;
            let statuses = fetched
                .json
                .get("statuses")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default();
            let ids: Vec<i64> = statuses.iter().filter_map(status_id).collect();
            let oldest_id = ids.iter().min().copied();
            let oldest_time = statuses
                .iter()
                .filter_map(|s| s.get("created_at").and_then(Json::as_str))
                .filter_map(|t| crate::import::quirks::parse_export_time(t).ok())
                .min();
            let total = fetched.json.get("total_number").and_then(Json::as_u64);
            let stalled = paging == Paging::MaxId
                && match (oldest_id, max_id) {
                    (Some(o), Some(m)) => o > m,
                    (None, _) => true,
                    _ => false,
                };
            let finished = statuses.is_empty()
                || stalled
                || (paging == Paging::Page && total.is_some_and(|t| page * u64::from(count) >= t))
                || matches!((since_ms, oldest_time), (Some(s), Some(o)) if o < s);
            let next_max = oldest_id.map(|o| o - 1);
            landing.save_page(
                "timeline",
                &format!("timeline/p{page:04}.json"),
                &fetched.text,
                statuses.len() as u64,
                (!finished).then(|| json!({"page": page + 1, "max_id": next_max})),
            )?;
            self.run.posts += statuses.len() as u64;
            if finished {
                return Ok(());
            }
            page += 1;
            max_id = next_max;
        }
    }

    /// `comments/show` for every status of this run that has comments.
    async fn comments(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        let state = landing.step("comments");
        if state.done {
            return Ok(());
        }
        let statuses = statuses_with_comments(landing.run_dir())?;
        let mut index = state
            .cursor
            .get("status")
            .and_then(Json::as_u64)
            .unwrap_or(0) as usize;
        let mut page = state.cursor.get("page").and_then(Json::as_u64).unwrap_or(1);
        while let Some(id) = statuses.get(index) {
            self.bar.set_message(format!(
                "comments {}/{} page {page}",
                index + 1,
                statuses.len()
            ));
            let fetched = self
                .get(
                    "comments/show.json",
                    &[
                        ("id", id.to_string()),
                        ("page", page.to_string()),
                        ("count", COMMENT_PAGE.to_string()),
                    ],
                )
                .await?;
            let n = fetched
                .json
                .get("comments")
                .and_then(Json::as_array)
                .map_or(0, Vec::len) as u64;
            let total = fetched.json.get("total_number").and_then(Json::as_u64);
            let last_page = n == 0 || total.is_some_and(|t| page * COMMENT_PAGE >= t);
            let (next_index, next_page) = if last_page {
                (index + 1, 1)
            } else {
                (index, page + 1)
            };
            landing.save_page(
                "comments",
                &format!("comments/{id}-p{page:04}.json"),
                &fetched.text,
                n,
                (next_index < statuses.len())
                    .then(|| json!({"status": next_index, "page": next_page})),
            )?;
            self.run.comments += n;
            index = next_index;
            page = next_page;
        }
        // No post with comments, or a cursor already past the last one: the step is done.
        if !landing.step("comments").done {
            landing.advance("comments", None)?;
        }
        Ok(())
    }
}

fn status_id(status: &Json) -> Option<i64> {
    status.get("id").and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

/// The statuses of this run's timeline pages that are not deleted and have comments (or do not
/// say), in page order — read back from the landing folder, so a resumed run sees the same list.
fn statuses_with_comments(run_dir: &Path) -> Result<Vec<i64>, Error> {
    let folder = run_dir.join("timeline");
    let mut pages: Vec<std::path::PathBuf> = match std::fs::read_dir(&folder) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(_) => return Ok(Vec::new()),
    };
    pages.sort();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).map_err(|e| Error::io(&page, e))?;
        let Ok(json) = serde_json::from_str::<Json>(&text) else {
            continue;
        };
        for status in json
            .get("statuses")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let deleted = status.get("deleted").is_some_and(|d| d != "0" && d != 0);
            let comments = status.get("comments_count").and_then(Json::as_i64);
            if let Some(id) = status_id(status)
                && !deleted
                && comments != Some(0)
                && seen.insert(id)
            {
                out.push(id);
            }
        }
    }
    Ok(out)
}
