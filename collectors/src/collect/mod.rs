//! Live collection (`govmedia collect <wechat|weibo|app>`): extract steps that talk to the
//! platform APIs through one rate-limited, retrying client per platform ([`http::Api`]) and
//! save every raw response unchanged to `landing/<platform>/<account>/<run>/` with a checkpoint
//! after each page ([`landing`]); then the importers' transform on those folders, so a saved
//! response means the same whether collected or imported, and a crashed run resumes where its
//! checkpoint says.

pub mod app;
pub mod config;
pub mod http;
pub mod landing;
pub mod wechat;
pub mod weibo;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Error;
use crate::import::{ImportOptions, ImportReport, import_paths_in};
use crate::store::Store;
use config::CollectConfig;
use landing::Landing;

/// The platforms `collect` speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Wechat,
    Weibo,
    App,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Wechat => "wechat",
            Platform::Weibo => "weibo",
            Platform::App => "app",
        }
    }
}

/// How a collection runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Collect nothing published before this day (Asia/Shanghai): timelines stop paging there,
    /// statistics start there. A resumed run keeps the `since` it started with.
    pub since: Option<NaiveDate>,
    /// Draw progress bars on the terminal (never drawn when stderr is not a terminal).
    pub progress: bool,
    /// The run's clock (tests fix it).
    pub now: DateTime<Utc>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            since: None,
            progress: false,
            now: Utc::now(),
        }
    }
}

/// What one account's collection did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountRun {
    pub account: String,
    /// This run continued one that had stopped.
    pub resumed: bool,
    pub requests: u64,
    pub posts: u64,
    pub comments: u64,
    pub menus: u64,
    pub stats: u64,
    pub token_refreshes: u64,
    /// Set when the account stopped early on purpose (daily quota), with where to resume.
    pub stopped: Option<String>,
    /// Set when the account failed; its checkpoint stays open, so the next run resumes.
    pub error: Option<String>,
    /// What the collector decided along the way (an endpoint without permission …).
    pub notes: Vec<String>,
}

/// The end of a run: per account, the import of what was saved, and errors by code.
#[derive(Debug, Default)]
pub struct CollectSummary {
    pub platform: &'static str,
    pub accounts: Vec<AccountRun>,
    pub import: ImportReport,
    /// Every error answer seen (retried or not), by platform code / HTTP status.
    pub errors: BTreeMap<String, usize>,
}

impl CollectSummary {
    pub fn failed(&self) -> impl Iterator<Item = &AccountRun> {
        self.accounts.iter().filter(|a| a.error.is_some())
    }

    pub fn totals(&self) -> AccountRun {
        let mut t = AccountRun {
            account: "total".into(),
            ..Default::default()
        };
        for a in &self.accounts {
            t.requests += a.requests;
            t.posts += a.posts;
            t.comments += a.comments;
            t.menus += a.menus;
            t.stats += a.stats;
            t.token_refreshes += a.token_refreshes;
        }
        t
    }
}

/// One account's result, handed back to the driver for the import.
pub struct AccountOutcome {
    pub run: AccountRun,
    pub landing: Option<Landing>,
}

/// Collects every configured account of `platform`, then imports what was saved.
pub fn collect(
    store: &Store,
    config: &CollectConfig,
    platform: Platform,
    options: &RunOptions,
) -> Result<CollectSummary, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io(store.dir(), e))?;
    let progress = Progress::new(options.progress);
    let (outcomes, errors) = runtime.block_on(async {
        match platform {
            Platform::Wechat => wechat::collect(store.dir(), config, options, &progress).await,
            Platform::Weibo => weibo::collect(store.dir(), config, options, &progress).await,
            Platform::App => app::collect(store.dir(), config, options, &progress).await,
        }
    })?;
    drop(runtime);
    import_outcomes(store, platform, outcomes, errors)
}

/// Imports the run folders, each saved response with the format its endpoint answers in (not
/// left to detection: an empty page or a sparse answer is still what it is), statistics last
/// (they name articles that must already be in the store); then closes the runs that finished.
fn import_outcomes(
    store: &Store,
    platform: Platform,
    mut outcomes: Vec<AccountOutcome>,
    errors: BTreeMap<String, usize>,
) -> Result<CollectSummary, Error> {
    let mut groups: BTreeMap<usize, (&'static str, Vec<PathBuf>)> = BTreeMap::new();
    for landing in outcomes.iter().filter_map(|o| o.landing.as_ref()) {
        for file in saved_responses(landing.run_dir())? {
            let relative = file.strip_prefix(landing.run_dir()).unwrap_or(&file);
            let (order, format) = landing_format(platform, relative);
            groups
                .entry(order)
                .or_insert((format, Vec::new()))
                .1
                .push(file);
        }
    }
    let mut report = ImportReport::default();
    // What was collected is landed already: wait for a running import, never drop it. The
    // saved responses of every endpoint are one commit: accounts never without their posts.
    let tx = store.begin(true)?;
    for (format, files) in groups.into_values() {
        let options = ImportOptions {
            format: Some(format.to_string()),
            ..Default::default()
        };
        let part = import_paths_in(&tx, &files, &options)?;
        report.files.extend(part.files);
        report.quarantine.extend(part.quarantine);
    }
    tx.commit()?;
    if report.failed_files().next().is_none() {
        for landing in outcomes.iter_mut().filter_map(|o| o.landing.as_mut()) {
            landing.mark_imported()?;
        }
    }
    Ok(CollectSummary {
        platform: platform.name(),
        accounts: outcomes.into_iter().map(|o| o.run).collect(),
        import: report,
        errors,
    })
}

/// The import format of a saved response, from where the collector saved it, with its place in
/// the import order.
fn landing_format(platform: Platform, relative: &Path) -> (usize, &'static str) {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .unwrap_or_default();
    let name = first.as_str();
    match platform {
        Platform::Wechat => match name {
            "authorizer.json" => (0, "wechat-api-authorizer"),
            "selfmenu.json" | "menu.json" => (2, "wechat-api-menu"),
            "comments" => (3, "wechat-api-comments"),
            "datacube" => (4, "wechat-api-datacube"),
            _ => (1, "wechat-api-articles"),
        },
        Platform::Weibo => match name {
            "user.json" => (0, "weibo-api-user"),
            "comments" => (2, "weibo-api-comments"),
            _ => (1, "weibo-api-timeline"),
        },
        Platform::App => match name {
            "lookup.json" => (0, "appstore-lookup"),
            _ => (1, "app-endpoint-json"),
        },
    }
}

/// Every saved response of a run folder, sorted; half-written temp files of a crashed run are
/// not responses.
fn saved_responses(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        if path.is_dir() {
            out.extend(saved_responses(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Why an account's steps ended early: a request that failed (with its endpoint), or the store.
pub(crate) enum Halt {
    Call(String, http::CallError),
    Store(Error),
}

impl From<Error> for Halt {
    fn from(e: Error) -> Halt {
        Halt::Store(e)
    }
}

/// One account's collection: its steps, run against its landing folder by [`drive`].
pub(crate) trait AccountSteps: Send {
    /// What the account's run has done so far.
    fn run_mut(&mut self) -> &mut AccountRun;
    /// Every endpoint in order, each skipping what its checkpoint says is done.
    fn steps(&mut self, landing: &mut Landing) -> impl Future<Output = Result<(), Halt>> + Send;
}

/// Opens the account's landing folder (resuming an open run), runs its steps and records how
/// they ended: collected, stopped by a quota (with where the next run resumes), or failed
/// (checkpoint kept open).
pub(crate) async fn drive<S: AccountSteps>(
    mut session: S,
    store_dir: &Path,
    platform: Platform,
    folder: &str,
    options: &RunOptions,
) -> AccountOutcome {
    let opened = Landing::open(
        store_dir,
        platform.name(),
        folder,
        options.since,
        options.now,
    );
    let mut landing = match opened {
        Ok(landing) => landing,
        Err(e) => {
            session.run_mut().error = Some(e.to_string());
            return AccountOutcome {
                run: std::mem::take(session.run_mut()),
                landing: None,
            };
        }
    };
    session.run_mut().resumed = landing.resumed;
    if landing.resumed && landing.since() != options.since {
        let kept = landing
            .since()
            .map_or("none".to_string(), |d| d.to_string());
        session.run_mut().notes.push(format!(
            "resumed an open run, which keeps the --since it started with ({kept})"
        ));
    }
    let result = session.steps(&mut landing).await;
    let run = session.run_mut();
    let bookkeeping = match result {
        Ok(()) => landing.mark_collected(),
        Err(Halt::Call(endpoint, e)) if e.verdict() == Some(http::Verdict::Quota) => {
            let why = format!(
                "daily quota exhausted ({}) at {endpoint}; the next run resumes at {}",
                e.code(),
                landing.resume_point()
            );
            run.stopped = Some(why.clone());
            landing.stop(why)
        }
        Err(Halt::Call(endpoint, e)) => {
            run.error = Some(format!("{} {folder}: {endpoint}: {e}", platform.name()));
            Ok(())
        }
        Err(Halt::Store(e)) => Err(e),
    };
    if let Err(e) = bookkeeping {
        run.error = Some(e.to_string());
    }
    AccountOutcome {
        run: std::mem::take(run),
        landing: Some(landing),
    }
}

/// Collects every (folder, account) — the folder names the account's landing folder — at most
/// `concurrency` at once, each session made by `session_of` and run by [`drive`], with the
/// platform's progress bar and a spinner per account; results in input order.
pub(crate) async fn for_each_account<T, S>(
    platform: Platform,
    accounts: Vec<(String, T)>,
    concurrency: usize,
    progress: &Progress,
    store_dir: &Path,
    options: &RunOptions,
    session_of: impl Fn(T, ProgressBar) -> S,
) -> Vec<AccountOutcome>
where
    S: AccountSteps + 'static,
{
    let overall = progress.platform(platform.name(), accounts.len());
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (folder, account)) in accounts.into_iter().enumerate() {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let bar = progress.account(&folder);
        let session = session_of(account, bar.clone());
        let (overall, store_dir, options) =
            (overall.clone(), store_dir.to_path_buf(), options.clone());
        tasks.spawn(async move {
            let outcome = drive(session, &store_dir, platform, &folder, &options).await;
            bar.finish_and_clear();
            overall.inc(1);
            drop(permit);
            (i, outcome)
        });
    }
    let mut done: Vec<(usize, AccountOutcome)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(pair) => done.push(pair),
            // A panicking account task is a bug; say so rather than lose the account quietly.
            Err(e) => done.push((
                usize::MAX,
                AccountOutcome {
                    run: AccountRun {
                        account: "?".into(),
                        error: Some(format!("internal error: {e}")),
                        ..Default::default()
                    },
                    landing: None,
                },
            )),
        }
    }
    overall.finish_and_clear();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, o)| o).collect()
}

/// Progress bars: one per platform (accounts done) and one per account being collected.
#[derive(Clone)]
pub struct Progress {
    bars: MultiProgress,
}

impl Progress {
    pub fn new(visible: bool) -> Progress {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            bars: MultiProgress::with_draw_target(target),
        }
    }

    /// The platform's bar, counting finished accounts.
    pub fn platform(&self, platform: &str, accounts: usize) -> ProgressBar {
        let bar = self.bars.add(ProgressBar::new(accounts as u64));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} accounts {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(platform.to_string());
        bar
    }

    /// A spinner for one account; its message says the endpoint and page.
    pub fn account(&self, account: &str) -> ProgressBar {
        let bar = self.bars.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {prefix}: {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(account.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }
}

#[cfg(test)]
mod tests;
