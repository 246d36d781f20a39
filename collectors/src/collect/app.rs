//! Government app collection, extract step. Per app:
//!
//! | step | endpoint | paging | saved as |
//! |---|---|---|---|
//! | lookup | `GET <lookup_base>/<country>/lookup?id=<trackId>` (App Store) | one | `lookup.json` |
//! | news | the app's own news endpoint (`[app.apps.news]`: URL template, list path, field mapping) | `{page}` from `first_page` until an empty page, `max_pages` or `--since` | `news/p<page>.json` + `news/app-endpoint.json` |
//! | menu | the app's own service-menu endpoint (`[app.apps.menu]`) | the same | `menu/p<page>.json` + `menu/app-endpoint.json` |
//!
//! The mapping is saved beside the pages, so the importer (`app-endpoint-json`) reads them the
//! same way later without the config. China-only apps need the `cn` store (else `resultCount`
//! is 0, which is said in the summary).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use indicatif::ProgressBar;
use serde_json::{Value as Json, json};

use super::config::{AppConfig, AppEntry, CollectConfig, Endpoint};
use super::http::{Api, ApiFault, Fetched, Verdict};
use super::landing::Landing;
use super::{
    AccountOutcome, AccountRun, AccountSteps, Halt, Platform, Progress, RunOptions,
    for_each_account,
};
use crate::Error;
use crate::transform::app_endpoint::{MAPPING_FILE, Mapping};

/// The App Store's error shape (`{"errorMessage": …}`); apps' own endpoints are judged by
/// their HTTP status.
pub fn classify(body: &Json) -> Option<ApiFault> {
    let message = body.get("errorMessage").and_then(Json::as_str)?;
    Some(ApiFault {
        code: "lookup".into(),
        message: message.to_string(),
        verdict: Verdict::Fail,
    })
}

struct Shared {
    api: Api,
    config: AppConfig,
}

pub(crate) async fn collect(
    store_dir: &Path,
    config: &CollectConfig,
    options: &RunOptions,
    progress: &Progress,
) -> Result<(Vec<AccountOutcome>, BTreeMap<String, usize>), Error> {
    let app = config
        .app
        .as_ref()
        .ok_or_else(|| Error::Input("the config has no [app] section".into()))?;
    // Mappings are checked before the first request: a typo is a config error, not 1,000
    // quarantined records.
    for entry in &app.apps {
        for (name, endpoint) in [("news", &entry.news), ("menu", &entry.menu)] {
            if let Some(endpoint) = endpoint {
                mapping(entry, name, endpoint).check().map_err(|e| {
                    Error::Input(format!(
                        "[[app.apps]] track_id {} {name}: {e}",
                        entry.track_id
                    ))
                })?;
                if !endpoint.url.starts_with("http://") && !endpoint.url.starts_with("https://") {
                    return Err(Error::Input(format!(
                        "[[app.apps]] track_id {} {name}: url must be http(s)",
                        entry.track_id
                    )));
                }
            }
        }
    }
    let shared = Arc::new(Shared {
        api: Api::new(&app.limits, classify)?,
        config: app.clone(),
    });
    let accounts: Vec<(String, AppEntry)> = app
        .apps
        .iter()
        .map(|entry| (entry.track_id.to_string(), entry.clone()))
        .collect();
    let outcomes = for_each_account(
        Platform::App,
        accounts,
        app.limits.concurrency,
        progress,
        store_dir,
        options,
        |entry, bar| Session {
            run: AccountRun {
                account: format!("app:{}", entry.track_id),
                ..Default::default()
            },
            shared: shared.clone(),
            entry,
            bar,
        },
    )
    .await;
    Ok((outcomes, shared.api.errors.snapshot()))
}

fn mapping(entry: &AppEntry, table_of: &str, endpoint: &Endpoint) -> Mapping {
    Mapping {
        account_id: format!("app:{}", entry.track_id),
        table: if table_of == "menu" { "menus" } else { "posts" }.into(),
        list: endpoint.list.clone(),
        time_format: endpoint.time_format.clone(),
        fields: endpoint.fields.clone(),
    }
}

struct Session {
    shared: Arc<Shared>,
    entry: AppEntry,
    run: AccountRun,
    bar: ProgressBar,
}

impl AccountSteps for Session {
    fn run_mut(&mut self) -> &mut AccountRun {
        &mut self.run
    }

    async fn steps(&mut self, landing: &mut Landing) -> Result<(), Halt> {
        if !landing.step("lookup").done {
            self.bar.set_message("App Store lookup");
            let base = self.shared.config.lookup_base.trim_end_matches('/');
            let url = format!("{base}/{}/lookup", self.shared.config.country);
            let id = self.entry.track_id.to_string();
            let page = self.get(&url, &[("id", id.as_str())], "lookup").await?;
            let found = page
                .json
                .get("resultCount")
                .and_then(Json::as_u64)
                .unwrap_or(0);
            if found == 0 {
                self.run.notes.push(format!(
                    "App Store lookup: no app {} in the {} store",
                    self.entry.track_id, self.shared.config.country
                ));
            }
            landing.save_page("lookup", "lookup.json", &page.text, found, None)?;
        }
        for name in ["news", "menu"] {
            let endpoint = match name {
                "news" => self.entry.news.clone(),
                _ => self.entry.menu.clone(),
            };
            if let Some(endpoint) = endpoint {
                self.endpoint(landing, name, &endpoint).await?;
            }
        }
        Ok(())
    }
}

impl Session {
    async fn get(
        &mut self,
        url: &str,
        params: &[(&str, &str)],
        endpoint: &str,
    ) -> Result<Fetched, Halt> {
        let shared = self.shared.clone();
        self.run.requests += 1;
        shared
            .api
            .fetch(|| shared.api.http().get(url).query(params))
            .await
            .map_err(|e| Halt::Call(endpoint.to_string(), e))
    }

    /// The app's own endpoint, page by page, with its mapping saved first.
    async fn endpoint(
        &mut self,
        landing: &mut Landing,
        name: &str,
        endpoint: &Endpoint,
    ) -> Result<(), Halt> {
        let state = landing.step(name);
        if state.done {
            return Ok(());
        }
        let mapping = mapping(&self.entry, name, endpoint);
        let mapping_path = landing.run_dir().join(name).join(MAPPING_FILE);
        if !mapping_path.exists() {
            std::fs::create_dir_all(landing.run_dir().join(name))
                .map_err(|e| Error::io(landing.run_dir(), e))?;
            let text = serde_json::to_string_pretty(&mapping)
                .map_err(|e| Error::Input(format!("{}: {e}", mapping_path.display())))?;
            crate::store::write_atomic(&mapping_path, |f| {
                std::io::Write::write_all(f, text.as_bytes())
            })?;
        }
        let since_ms = landing.since().map(crate::time::shanghai_midnight_ms);
        let paged = endpoint.url.contains("{page}");
        let last_page = endpoint.first_page + endpoint.max_pages.max(1) - 1;
        let mut page = state
            .cursor
            .get("page")
            .and_then(Json::as_u64)
            .unwrap_or(endpoint.first_page);
        loop {
            self.bar.set_message(format!("{name} page {page}"));
            let url = endpoint.url.replace("{page}", &page.to_string());
            let fetched = self.get(&url, &[], name).await?;
            let list = mapping.list(&fetched.json);
            let Some(list) = list else {
                return Err(Halt::Store(Error::Input(format!(
                    "app {} {name} page {page}: no list at {:?} in the response (the \
                     endpoint's `list`)",
                    self.entry.track_id, endpoint.list
                ))));
            };
            let n = list.len() as u64;
            let oldest = list.iter().filter_map(|e| mapping.published_ms(e)).min();
            let finished = n == 0
                || !paged
                || page >= last_page
                || matches!((since_ms, oldest), (Some(s), Some(o)) if o < s);
            let saved = landing.save_page(
                name,
                &format!("{name}/p{page:04}.json"),
                &fetched.text,
                n,
                (!finished).then(|| json!({"page": page + 1})),
            )?;
            if name == "menu" && page != endpoint.first_page {
                let first = landing
                    .run_dir()
                    .join(format!("{name}/p{:04}.json", endpoint.first_page));
                super::landing::same_snapshot_time(&first, &saved)?;
            }
            if name == "menu" {
                self.run.menus += n;
            } else {
                self.run.posts += n;
            }
            if finished {
                return Ok(());
            }
            page += 1;
        }
    }
}
