//! What an audit looks at: the monitoring time point, the window, the parameters, the store's
//! tables as lazy frames, and the derived frames several rules share (updates, windows), which
//! are computed once.

use std::collections::{BTreeMap, HashMap};

use chrono::{Months, NaiveDate};
use govmedia_collectors::schema::{
    ACCOUNTS, COMMENTS, LINK_CHECKS, MENUS, ORGS, PLATFORMS, POSTS, TableSpec,
};
use govmedia_collectors::store::Store;
use govmedia_collectors::time::date_to_days;
use polars::prelude::*;

use std::sync::{Arc, OnceLock};

use crate::Error;
use crate::calendar::Calendar;
use crate::content::scan::PostScan;
use crate::exprs::{local_day, local_day_of};
use crate::facts::AccountKeys;
use crate::facts::posts::{PASS_COLUMNS, PostFacts, PostPassSettings, post_facts};
use crate::facts::updates::CadenceSettings;
use crate::indices::Period;
use crate::labeller::PostClassifier;
use crate::lexicon::Lexicons;
use crate::naming::{OrgEntry, org_entries};
use govmedia_collectors::layout::bucket_of;

/// The post facts of a unit with the keys of its accounts.
pub struct UnitPostFacts {
    pub keys: Arc<AccountKeys>,
    pub posts: PostFacts,
}

/// Language of messages and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the text of this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// A rule parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Bool(bool),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The store's tables as lazy frames.
#[derive(Clone)]
pub struct Tables {
    pub accounts: LazyFrame,
    pub posts: LazyFrame,
    pub comments: LazyFrame,
    pub menus: LazyFrame,
    pub link_checks: LazyFrame,
    pub orgs: LazyFrame,
}

impl Tables {
    /// The whole store as one unit.
    pub fn from_store(store: &Store) -> Result<Tables, Error> {
        Ok(Tables {
            accounts: store.scan_table(&ACCOUNTS)?,
            posts: store.scan_table(&POSTS)?,
            comments: store.scan_table(&COMMENTS)?,
            menus: store.scan_table(&MENUS)?,
            link_checks: store.scan_table(&LINK_CHECKS)?,
            orgs: store.scan_table(&ORGS)?,
        })
    }

    /// The store split into its audit units (`Store::audit_units`): unit `u` holds the posts and
    /// comments of the buckets inside it and the rows of the small per-account tables
    /// (`accounts`, `menus`) whose account hashes into it; every unit sees the whole `orgs`
    /// registry and `link_checks` (per URL). Every account's rows are in exactly one unit.
    pub fn units_of_store(store: &Store) -> Result<Vec<Tables>, Error> {
        let units = store.audit_units()?;
        if units <= 1 {
            return Ok(vec![Tables::from_store(store)?]);
        }
        let split = |spec: &TableSpec| -> Result<Vec<LazyFrame>, Error> {
            let df = store.scan_table(spec)?.collect()?;
            Ok(split_by_unit(&df, units)?
                .into_iter()
                .map(IntoLazy::lazy)
                .collect())
        };
        let (accounts, menus) = (split(&ACCOUNTS)?, split(&MENUS)?);
        // Link checks are per URL, shared by accounts: every unit sees them all, as the
        // registry.
        let (link_checks, orgs) = (
            store.scan_table(&LINK_CHECKS)?.collect()?.lazy(),
            store.scan_table(&ORGS)?,
        );
        let (posts, comments) = (
            store.scan_units(&POSTS, units)?,
            store.scan_units(&COMMENTS, units)?,
        );
        Ok((0..units as usize)
            .map(|i| Tables {
                accounts: accounts[i].clone(),
                posts: posts[i].clone(),
                comments: comments[i].clone(),
                menus: menus[i].clone(),
                link_checks: link_checks.clone(),
                orgs: orgs.clone(),
            })
            .collect())
    }

    /// The same tables with the posts and comments read into memory: every plan of an audit unit
    /// then works on one decoded copy of its bucket files instead of decoding them again (the
    /// updates, the post scan, the measurements, the monthly mix and the index inputs each read
    /// the posts; the comment timing and the measurements the comments).
    pub fn read_into_memory(&self, comments: bool) -> PolarsResult<Tables> {
        Ok(Tables {
            posts: self.posts.clone().collect()?.lazy(),
            // A partial audit whose rules read no comments leaves them on disk.
            comments: if comments {
                // No check reads the commenter (`author`): it stays on disk, undecoded.
                let schema = self.comments.clone().collect_schema()?;
                let read: Vec<Expr> = schema
                    .iter_names()
                    .filter(|name| name.as_str() != "author")
                    .map(|name| col(name.clone()))
                    .collect();
                self.comments.clone().select(read).collect()?.lazy()
            } else {
                self.comments.clone()
            },
            ..self.clone()
        })
    }

    /// Tables from in-memory frames (tests, fixtures); missing tables are empty.
    pub fn from_frames(frames: Vec<(&'static TableSpec, DataFrame)>) -> Tables {
        let get = |spec: &TableSpec| {
            frames
                .iter()
                .find(|(s, _)| s.name == spec.name)
                .map(|(_, df)| df.clone().lazy())
                .unwrap_or_else(|| DataFrame::empty_with_schema(&spec.polars_schema()).lazy())
        };
        Tables {
            accounts: get(&ACCOUNTS),
            posts: get(&POSTS),
            comments: get(&COMMENTS),
            menus: get(&MENUS),
            link_checks: get(&LINK_CHECKS),
            orgs: get(&ORGS),
        }
    }
}

/// The rows of a small per-account table split by audit unit, in their order. One pass over the
/// ids and one gather per unit: a filter per unit read every row once per unit (at 200,000
/// accounts and 128 units, most of the audit's start, on one core).
fn split_by_unit(df: &DataFrame, units: u32) -> PolarsResult<Vec<DataFrame>> {
    let ids = df.column("account_id")?.str()?;
    let mut rows_of_unit: Vec<Vec<IdxSize>> = vec![Vec::new(); units as usize];
    for (row, id) in ids.iter().enumerate() {
        rows_of_unit[bucket_of(id.unwrap_or_default(), units) as usize].push(row as IdxSize);
    }
    rows_of_unit
        .into_iter()
        .map(|rows| df.take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows)))
        .collect()
}

/// The compiled post classifiers of an audit, each made on first use.
#[derive(Default)]
struct Classifiers {
    labelling: OnceLock<PostClassifier>,
    flags_only: OnceLock<PostClassifier>,
}

/// The audit units from which the labeller remembers verdicts from one unit to the next
/// (`labeller::EarlierVerdicts`, up to 196,608 posts, some 60 MB), which pays where the threads
/// run dozens of units (a national store: 128) and costs a small store's memory for little
/// (16 units: 1.1 % fewer instructions, 50 MB more at the peak, measured when each thread kept
/// its own).
pub(crate) const VERDICTS_ACROSS_UNITS_FROM: usize = 64;

pub struct AuditContext {
    pub as_of: NaiveDate,
    /// Beijing day number of as_of.
    pub as_of_day: i64,
    /// Start of the window before clipping to each account's first sighting.
    pub from_day: i64,
    pub lang: Lang,
    params: BTreeMap<String, ParamValue>,
    pub tables: Tables,
    /// Every audited account: `account_id, platform, account_kind, account_name, org_id,
    /// from_day, as_of_day` — the accounts table plus accounts only known from their posts.
    /// Gathered from the units by an audit (each unit finds its own from the posts it reads
    /// anyway), or computed on first use (`accounts()`).
    accounts: OnceLock<DataFrame>,
    /// Every update (`docs/checks.md`: published, not deleted, by the account itself; a WeChat
    /// mass-send counts once) up to as_of: `account_id, post_id, published_at, day`; computed
    /// on first use (`updates()`).
    updates: OnceLock<DataFrame>,
    /// The influence index period (the index inputs are counted per unit with the rules).
    pub index_period: Period,
    /// The store split into audit units (`Tables::units_of_store`); empty: `tables` is the one
    /// unit.
    units: Vec<Tables>,
    /// The lexicons text rules match (built-in unless the config replaces them).
    pub lexicons: Lexicons,
    /// The official calendar of working days (reply deadlines).
    pub calendar: Calendar,
    /// The organisation registry (`--orgs` or the store's `orgs` table); empty when there is none.
    pub orgs: DataFrame,
    /// The post text scan, computed on first use and shared by the content rules.
    post_scan: OnceLock<PostScan>,
    /// The lexicons and label pack compiled, once per audit (shared by its units).
    post_classifier: Arc<Classifiers>,
    /// Whether the post scan labels each post's category (`engine::Reads::post_labels`): a
    /// partial audit whose rules read no category finds the wording hits and flags only.
    post_labels: bool,
    /// The organisation registry by `org_id`, once per audit (shared by its units: every unit
    /// sees the whole registry, so building it per unit made the audit quadratic).
    org_registry: Arc<OnceLock<HashMap<String, Arc<OrgEntry>>>>,
    /// Held while a fact shared by the units (`org_registry`, `latest_link_checks`) is built, so
    /// that one unit builds it while the others wait: the first units, started together, each
    /// built the registry and the link checks, and all but one copy was dropped (about half a
    /// second of CPU each at 200,000 accounts).
    shared_build: Arc<std::sync::Mutex<()>>,
    /// The last checks of every checked URL (`service::last_link_checks`), once per audit
    /// (every unit sees every link check).
    latest_link_checks: Arc<OnceLock<DataFrame>>,
    /// The comment and reply scan, computed on first use and shared by INT003 and INT004.
    comment_scan: OnceLock<DataFrame>,
    /// The latest menu of every account (`service::latest_menus`), computed on first use and
    /// shared by the four SVC rules and the measurements: each computing it again was most of
    /// their time in a unit.
    latest_menus: OnceLock<DataFrame>,
    /// The window's comments with working-time latencies, shared by the INT rules and the
    /// measurements (see `interaction::timed_comments`).
    pub(crate) timed_comments: OnceLock<DataFrame>,
    /// The naming facts of every account, shared by the NAM and OPN rules.
    pub(crate) naming: OnceLock<Vec<crate::naming::AccountNaming>>,
    /// The facts of the unit's posts (`facts::posts`), computed on first use.
    post_facts: OnceLock<UnitPostFacts>,
    /// The integer keys of the unit's accounts (`facts::AccountKeys`), made on first use and
    /// shared by the post facts, the text scan and the comment timing.
    account_keys: OnceLock<Arc<AccountKeys>>,
    /// Accounts of the store first seen after as_of (`not_yet_seen()`), computed on first use.
    not_yet_seen: OnceLock<Vec<String>>,
    /// Threads the unit's own scans (post facts, text scan) may use: every core, or one when
    /// the engine runs units side by side.
    workers: usize,
    /// Whether the labeller's threads remember verdicts from one audit unit to the next
    /// (`labeller::EarlierVerdicts`): only where the audit runs many units.
    pub(crate) verdicts_across_units: bool,
    /// Whether the tables only account pages draw (weekly updates, reply latency, months) are
    /// made: not for a report without pages.
    pub page_tables: bool,
}

impl AuditContext {
    /// Prepares an audit at `as_of` with the window starting at `from` (default: as_of − 1 year).
    pub fn new(
        tables: Tables,
        as_of: NaiveDate,
        from: Option<NaiveDate>,
        lang: Lang,
        params: BTreeMap<String, ParamValue>,
    ) -> Result<AuditContext, Error> {
        Self::assemble(tables, Vec::new(), as_of, from, lang, params)
    }

    /// Prepares an audit of a store unit by unit (`Tables::units_of_store`): memory is bounded
    /// by a unit, not the store, and the answers are those of one whole-store unit.
    pub fn new_in_units(
        store: &Store,
        as_of: NaiveDate,
        from: Option<NaiveDate>,
        lang: Lang,
        params: BTreeMap<String, ParamValue>,
    ) -> Result<AuditContext, Error> {
        let units = Tables::units_of_store(store)?;
        let units = if units.len() > 1 { units } else { Vec::new() };
        Self::assemble(Tables::from_store(store)?, units, as_of, from, lang, params)
    }

    fn assemble(
        tables: Tables,
        units: Vec<Tables>,
        as_of: NaiveDate,
        from: Option<NaiveDate>,
        lang: Lang,
        params: BTreeMap<String, ParamValue>,
    ) -> Result<AuditContext, Error> {
        let default_from = as_of
            .checked_sub_months(Months::new(12))
            .ok_or_else(|| Error::Config(format!("as_of {as_of} is too early")))?;
        let from = from.unwrap_or(default_from);
        if from > as_of {
            return Err(Error::Config(format!(
                "--from {from} is after --as-of {as_of}"
            )));
        }
        let as_of_day = date_to_days(as_of) as i64;
        let from_day = date_to_days(from) as i64;
        let mut ctx = AuditContext {
            as_of,
            as_of_day,
            from_day,
            lang,
            params,
            tables,
            accounts: OnceLock::new(),
            updates: OnceLock::new(),
            index_period: Period::default(),
            units: Vec::new(),
            lexicons: Lexicons::default(),
            calendar: Calendar::official(),
            orgs: DataFrame::empty(),
            post_scan: OnceLock::new(),
            post_classifier: Arc::default(),
            post_labels: true,
            org_registry: Arc::default(),
            shared_build: Arc::default(),
            latest_link_checks: Arc::default(),
            comment_scan: OnceLock::new(),
            latest_menus: OnceLock::new(),
            timed_comments: OnceLock::new(),
            naming: OnceLock::new(),
            post_facts: OnceLock::new(),
            account_keys: OnceLock::new(),
            not_yet_seen: OnceLock::new(),
            workers: crate::parallel::cores(),
            verdicts_across_units: false,
            page_tables: true,
        };
        ctx.units = units;
        ctx.orgs = ctx.tables.orgs.clone().collect()?;
        Ok(ctx)
    }

    /// Every audited account (see the field): gathered from the units by an audit, else computed
    /// here (the units side by side, each reading its posts' accounts and first days).
    pub fn accounts(&self) -> PolarsResult<&DataFrame> {
        if let Some(accounts) = self.accounts.get() {
            return Ok(accounts);
        }
        let accounts = if self.units.is_empty() {
            self.unit_accounts(&self.tables)?
        } else {
            let parts = crate::parallel::map_in_order(&self.units, self.workers, |tables| {
                self.unit_accounts(tables)
            })?;
            accounts_of_units(parts)?
        };
        Ok(self.accounts.get_or_init(|| accounts))
    }

    /// The accounts of the units, each unit's as [`AuditContext::unit_accounts`] gave them, in
    /// unit order: the audit hands them over once every unit ran, unless they were computed
    /// before.
    pub(crate) fn set_accounts_of_units(&self, parts: Vec<DataFrame>) -> PolarsResult<()> {
        if self.accounts.get().is_none() {
            let accounts = accounts_of_units(parts)?;
            let _ = self.accounts.set(accounts);
        }
        Ok(())
    }

    /// The audited accounts of one unit's tables (`accounts()` of a context of these tables).
    pub(crate) fn unit_accounts(&self, tables: &Tables) -> PolarsResult<DataFrame> {
        crate::trace::stage("unit accounts", || {
            let posts = tables
                .posts
                .clone()
                .select([col("account_id"), col("published_at")])
                .collect()?;
            let from_posts = first_post_days(&posts)?;
            let listed = tables
                .accounts
                .clone()
                .select([
                    col("account_id"),
                    col("platform"),
                    col("account_kind"),
                    col("name").alias("account_name"),
                    col("org_id"),
                    local_day(col("first_seen")).alias("first_seen_day"),
                ])
                .collect()?;
            match self.accounts_in_one_pass(&listed, &from_posts)? {
                Some(accounts) => Ok(accounts),
                None => self.accounts_plan(listed, from_posts)?.collect(),
            }
        })
    }

    /// Accounts of the store first seen after as_of (by `first_seen` and their first post): not
    /// assessed at this time point. Sorted.
    pub fn not_yet_seen(&self) -> PolarsResult<&[String]> {
        if let Some(ids) = self.not_yet_seen.get() {
            return Ok(ids);
        }
        let ids = self.accounts_first_seen_later()?;
        Ok(self.not_yet_seen.get_or_init(|| ids))
    }

    /// The same audit (time point, window, parameters, lexicons, calendar, registry) over one
    /// audit unit's tables and accounts.
    pub(crate) fn for_unit(&self, tables: Tables, accounts: DataFrame) -> AuditContext {
        AuditContext {
            as_of: self.as_of,
            as_of_day: self.as_of_day,
            from_day: self.from_day,
            lang: self.lang,
            params: self.params.clone(),
            tables,
            accounts: OnceLock::from(accounts),
            updates: OnceLock::new(),
            lexicons: self.lexicons.clone(),
            calendar: self.calendar.clone(),
            orgs: self.orgs.clone(),
            index_period: self.index_period,
            units: Vec::new(),
            post_scan: OnceLock::new(),
            post_classifier: Arc::clone(&self.post_classifier),
            post_labels: self.post_labels,
            org_registry: Arc::clone(&self.org_registry),
            shared_build: Arc::clone(&self.shared_build),
            latest_link_checks: Arc::clone(&self.latest_link_checks),
            comment_scan: OnceLock::new(),
            latest_menus: OnceLock::new(),
            timed_comments: OnceLock::new(),
            naming: OnceLock::new(),
            post_facts: OnceLock::new(),
            account_keys: OnceLock::new(),
            not_yet_seen: OnceLock::new(),
            workers: self.workers,
            verdicts_across_units: self.units.len() >= VERDICTS_ACROSS_UNITS_FROM,
            page_tables: self.page_tables,
        }
    }

    /// The costly facts computed so far: a test checks that a rule reads no more than it says
    /// (`Rule::reads`).
    #[cfg(test)]
    pub(crate) fn facts_computed(&self) -> crate::engine::Reads {
        let text = self.post_scan.get().is_some();
        crate::engine::Reads {
            post_text: text,
            post_labels: text,
            comments: self.comment_scan.get().is_some() || self.timed_comments.get().is_some(),
        }
    }

    /// This context without the tables only account pages draw (`AuditResult::weekly_updates`,
    /// `reply_latency` and `monthly` are then empty).
    pub fn without_page_tables(mut self) -> Self {
        self.page_tables = false;
        self
    }

    /// This context with its scans on `workers` threads.
    pub(crate) fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Threads the unit's scans may use.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The audit units' tables; empty for an audit without units, which is one unit, its own
    /// tables.
    pub fn units(&self) -> &[Tables] {
        &self.units
    }

    /// The audit unit holding an account's rows (`units_of_store`): `None` for a store in one
    /// unit.
    pub fn unit_of(&self, account_id: &str) -> Option<usize> {
        (!self.units.is_empty()).then(|| bucket_of(account_id, self.units.len() as u32) as usize)
    }

    /// The naming facts of every account, gathered from the units.
    pub(crate) fn set_naming(&self, naming: Vec<crate::naming::AccountNaming>) {
        let _ = self.naming.set(naming);
    }

    /// Counts the influence index inputs over this period.
    pub fn with_index_period(mut self, period: Period) -> Self {
        self.index_period = period;
        self.post_facts = OnceLock::new();
        self
    }

    /// The updates up to as_of (see the field), computed once.
    pub fn updates(&self) -> PolarsResult<&DataFrame> {
        if let Some(u) = self.updates.get() {
            return Ok(u);
        }
        let u = self.updates_plan().collect()?;
        Ok(self.updates.get_or_init(|| u))
    }

    /// The lock a fact shared by the units is built under (see `shared_build`); a unit that
    /// panicked while holding it left nothing half-built (the fact is set whole or not at all).
    fn building_shared(&self) -> std::sync::MutexGuard<'_, ()> {
        self.shared_build
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The organisation registry by `org_id` (computed once per audit).
    pub fn org_registry(&self) -> PolarsResult<&HashMap<String, Arc<OrgEntry>>> {
        if let Some(r) = self.org_registry.get() {
            return Ok(r);
        }
        let _building = self.building_shared();
        if let Some(r) = self.org_registry.get() {
            return Ok(r);
        }
        let r = org_entries(&self.orgs)?
            .into_iter()
            .map(|o| (o.org_id.clone(), Arc::new(o)))
            .collect();
        Ok(self.org_registry.get_or_init(|| r))
    }

    /// The latest menu of every account of the unit (`service::latest_menus`), computed once.
    pub fn latest_menus(&self) -> PolarsResult<&DataFrame> {
        if let Some(m) = self.latest_menus.get() {
            return Ok(m);
        }
        let m = crate::service::latest_menus_plan(self)?.collect()?;
        Ok(self.latest_menus.get_or_init(|| m))
    }

    /// The last checks of every checked URL up to now (computed once per audit).
    pub fn latest_link_checks(&self) -> PolarsResult<&DataFrame> {
        if let Some(c) = self.latest_link_checks.get() {
            return Ok(c);
        }
        let _building = self.building_shared();
        if let Some(c) = self.latest_link_checks.get() {
            return Ok(c);
        }
        let c = crate::service::last_link_checks(self, None).collect()?;
        Ok(self.latest_link_checks.get_or_init(|| c))
    }

    /// The integer keys of the unit's accounts, made once.
    pub fn account_keys(&self) -> PolarsResult<&Arc<AccountKeys>> {
        if let Some(k) = self.account_keys.get() {
            return Ok(k);
        }
        let keys = Arc::new(AccountKeys::new(self.accounts()?)?);
        Ok(self.account_keys.get_or_init(|| keys))
    }

    /// The facts of the posts of this context's accounts, from one pass (computed once).
    pub fn post_facts(&self) -> PolarsResult<&UnitPostFacts> {
        if let Some(f) = self.post_facts.get() {
            return Ok(f);
        }
        let keys = Arc::clone(self.account_keys()?);
        let posts = self
            .tables
            .posts
            .clone()
            .select(PASS_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
            .collect()?;
        let settings = PostPassSettings {
            workers: self.workers,
            as_of_end_ms: self.as_of_end_ms(),
            as_of_day: self.as_of_day,
            from_day: self.from_day,
            count_reposts: self.bool_param(&crate::update::COUNT_REPOSTS),
            index_first_day: self.as_of_day - self.index_period.days() + 1,
        };
        let posts = post_facts(&posts, &keys, &settings)?;
        Ok(self
            .post_facts
            .get_or_init(|| UnitPostFacts { keys, posts }))
    }

    /// The cadence parameters (`UPD001.*`) of this audit.
    pub fn cadence_settings(&self) -> CadenceSettings {
        CadenceSettings {
            min_required: crate::update::min_required(self),
            period_weeks: self.int_param(&crate::update::PERIOD_WEEKS).max(1),
            service_period_weeks: self.int_param(&crate::update::SERVICE_PERIOD_WEEKS).max(1),
            from_day: self.from_day,
            as_of_day: self.as_of_day,
        }
    }

    /// Uses this calendar of working days instead of the official one.
    pub fn with_calendar(mut self, calendar: Calendar) -> Self {
        self.calendar = calendar;
        self.timed_comments = OnceLock::new();
        self
    }

    /// Uses this organisation registry instead of the store's `orgs` table.
    pub fn with_orgs(mut self, orgs: DataFrame) -> Self {
        self.orgs = orgs;
        self.naming = OnceLock::new();
        self.org_registry = Arc::default();
        self
    }

    /// Replaces the lexicons (before any rule ran).
    pub fn with_lexicons(mut self, lexicons: Lexicons) -> Self {
        self.lexicons = lexicons;
        self.post_scan = OnceLock::new();
        self.post_classifier = Arc::default();
        self.comment_scan = OnceLock::new();
        self.latest_menus = OnceLock::new();
        self
    }

    /// The scan of the window's posts for lexicon hits and categories (computed once).
    pub fn post_scan(&self) -> PolarsResult<&PostScan> {
        if let Some(scan) = self.post_scan.get() {
            return Ok(scan);
        }
        let scan = crate::content::scan::scan_posts(self)?;
        Ok(self.post_scan.get_or_init(|| scan))
    }

    /// The lexicons and the label pack compiled (once per audit, shared by its units), without
    /// the category patterns when this context labels no category.
    pub fn post_classifier(&self) -> Result<&PostClassifier, Error> {
        let cell = if self.post_labels {
            &self.post_classifier.labelling
        } else {
            &self.post_classifier.flags_only
        };
        if let Some(c) = cell.get() {
            return Ok(c);
        }
        let c = if self.post_labels {
            PostClassifier::new(&self.lexicons)?
        } else {
            PostClassifier::without_categories(&self.lexicons)?
        };
        Ok(cell.get_or_init(|| c))
    }

    /// Forgets the verdicts the classifiers remembered from unit to unit
    /// (`labeller::EarlierVerdicts`): called once the units have run.
    pub(crate) fn forget_earlier_verdicts(&self) {
        for cell in [
            &self.post_classifier.labelling,
            &self.post_classifier.flags_only,
        ] {
            if let Some(classifier) = cell.get() {
                classifier.forget_earlier_units();
            }
        }
    }

    /// This context with its post scan labelling each post's category or not (the scan's
    /// `categories` are then empty and every post counts as 动态).
    pub(crate) fn with_post_labels(mut self, labels: bool) -> Self {
        if labels != self.post_labels {
            self.post_labels = labels;
            self.post_scan = OnceLock::new();
        }
        self
    }

    /// Lexicon hits in the window's comments and replies (computed once).
    pub fn comment_scan(&self) -> PolarsResult<&DataFrame> {
        if let Some(scan) = self.comment_scan.get() {
            return Ok(scan);
        }
        let scan = crate::interaction::comment_hits(self)?;
        Ok(self.comment_scan.get_or_init(|| scan))
    }

    /// A parameter's value: the user's override (`CODE.name` or `FAMILY.name`) or the default.
    fn param(&self, key: &str, default: ParamValue) -> ParamValue {
        self.params.get(key).cloned().unwrap_or(default)
    }

    /// An integer parameter through its declaration: the user's value (checked against the
    /// declared range when the configuration was read) or the declared default.
    pub fn int_param(&self, spec: &crate::engine::ParamSpec) -> i64 {
        let default = match spec.default {
            ParamValue::Int(i) => i,
            ParamValue::Bool(b) => i64::from(b),
        };
        match self.param(spec.key, spec.default.clone()) {
            ParamValue::Int(i) => i,
            ParamValue::Bool(_) => default,
        }
    }

    /// A switch parameter through its declaration.
    pub fn bool_param(&self, spec: &crate::engine::ParamSpec) -> bool {
        let default = matches!(spec.default, ParamValue::Bool(true));
        match self.param(spec.key, spec.default.clone()) {
            ParamValue::Bool(b) => b,
            ParamValue::Int(_) => default,
        }
    }

    /// The end of as_of (Beijing) in UTC milliseconds: posts after it are not looked at.
    pub fn as_of_end_ms(&self) -> i64 {
        govmedia_collectors::time::shanghai_midnight_ms(self.as_of + chrono::Duration::days(1))
    }

    fn updates_plan(&self) -> LazyFrame {
        let count_reposts = self.bool_param(&crate::update::COUNT_REPOSTS);
        let platforms = self
            .tables
            .accounts
            .clone()
            .select([col("account_id"), col("platform")]);
        let mut posts = self
            .tables
            .posts
            .clone()
            .filter(
                col("published_at")
                    .cast(DataType::Int64)
                    .lt(lit(self.as_of_end_ms())),
            )
            .filter(col("is_deleted").fill_null(lit(false)).not());
        if !count_reposts {
            posts = posts.filter(col("is_original").fill_null(lit(true)));
        }
        posts
            .join(
                platforms,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                local_day(col("published_at")).alias("day"),
                // A WeChat mass-send (several articles at one time) is one update.
                when(platform_of(col("account_id")).eq(lit("wechat")))
                    .then(
                        col("published_at")
                            .cast(DataType::Int64)
                            .cast(DataType::String),
                    )
                    .otherwise(col("post_id"))
                    .alias("update_key"),
            ])
            // The store keeps posts in (account_id, post_id) order, so the first row of a
            // mass-send is its first article (`<msgid>_1`): deterministic without a sort.
            .unique_stable(
                Some(cols(["account_id", "update_key"])),
                UniqueKeepStrategy::First,
            )
            .select([
                col("account_id"),
                col("post_id"),
                col("published_at"),
                col("day"),
            ])
    }

    /// The accounts table's accounts that are not audited because they were first seen after
    /// as_of (the audited accounts are `self.accounts()`).
    fn accounts_first_seen_later(&self) -> PolarsResult<Vec<String>> {
        let listed = self
            .tables
            .accounts
            .clone()
            .select([col("account_id")])
            .join(
                self.accounts()?.clone().lazy().select([col("account_id")]),
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Anti),
            )
            .sort(["account_id"], SortMultipleOptions::default())
            .collect()?;
        Ok(listed
            .column("account_id")?
            .str()?
            .iter()
            .flatten()
            .map(String::from)
            .collect())
    }

    /// [`AuditContext::accounts_plan`] in one pass over the two small tables, where every listed
    /// account is listed once and every account has an id (as in any store an import wrote):
    /// the plan's union, two joins and sort cost some 16 ms a unit of 1,500 accounts, 2 s of a
    /// 200,000-account audit summed over its units. `None` where the plan must decide (a listed
    /// account twice, an account without an id, a column of another type).
    fn accounts_in_one_pass(
        &self,
        listed: &DataFrame,
        from_posts: &DataFrame,
    ) -> PolarsResult<Option<DataFrame>> {
        let text = |df: &DataFrame, name: &str| -> PolarsResult<Option<StringChunked>> {
            Ok(df.column(name)?.str().ok().cloned())
        };
        let (Some(ids), Some(platforms), Some(kinds), Some(names), Some(orgs), Some(post_ids)) = (
            text(listed, "account_id")?,
            text(listed, "platform")?,
            text(listed, "account_kind")?,
            text(listed, "account_name")?,
            text(listed, "org_id")?,
            text(from_posts, "account_id")?,
        ) else {
            return Ok(None);
        };
        let (Ok(first_seen), Ok(first_post)) = (
            listed.column("first_seen_day")?.i64(),
            from_posts.column("first_post_day")?.i64(),
        ) else {
            return Ok(None);
        };
        if ids.null_count() > 0 || post_ids.null_count() > 0 {
            return Ok(None);
        }
        let first_post_of: PlHashMap<&str, Option<i64>> =
            post_ids.iter().flatten().zip(first_post.iter()).collect();
        // (id, its listed row, its first post's day)
        let mut rows: Vec<(&str, Option<usize>, Option<i64>)> =
            Vec::with_capacity(listed.height() + from_posts.height());
        let mut listed_ids: PlHashSet<&str> = PlHashSet::with_capacity(listed.height());
        for (row, id) in ids.iter().flatten().enumerate() {
            if !listed_ids.insert(id) {
                return Ok(None);
            }
            rows.push((id, Some(row), first_post_of.get(id).copied().flatten()));
        }
        for (id, day) in post_ids.iter().flatten().zip(first_post.iter()) {
            if !listed_ids.contains(id) {
                rows.push((id, None, day));
            }
        }
        let from_day = |row: Option<usize>, first_post: Option<i64>| {
            let first_seen = row.and_then(|r| first_seen.get(r));
            let first = match (first_seen, first_post) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            first.map_or(self.from_day, |day| day.max(self.from_day))
        };
        let mut kept: Vec<(&str, Option<usize>, i64)> = rows
            .into_iter()
            .map(|(id, row, first_post)| (id, row, from_day(row, first_post)))
            // First seen after the time point: not assessed (`not_yet_seen`).
            .filter(|&(_, _, from)| from <= self.as_of_day)
            .collect();
        // Ids are distinct: the order is the plan's whatever the sort.
        kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
        fn listed_text(ca: &StringChunked, row: Option<usize>) -> Option<&str> {
            row.and_then(|r| ca.get(r))
        }
        let column = |name: &str, values: Vec<Option<&str>>| Column::new(name.into(), values);
        let accounts = DataFrame::new_infer_height(vec![
            column("account_id", kept.iter().map(|k| Some(k.0)).collect()),
            column(
                "platform",
                kept.iter()
                    .map(|&(id, row, _)| {
                        listed_text(&platforms, row).or_else(|| platform_prefix(id))
                    })
                    .collect(),
            ),
            column(
                "account_kind",
                kept.iter().map(|k| listed_text(&kinds, k.1)).collect(),
            ),
            column(
                "account_name",
                kept.iter()
                    .map(|&(id, row, _)| listed_text(&names, row).or(Some(id)))
                    .collect(),
            ),
            column(
                "org_id",
                kept.iter().map(|k| listed_text(&orgs, k.1)).collect(),
            ),
            Column::new(
                "from_day".into(),
                kept.iter().map(|k| k.2).collect::<Vec<i64>>(),
            ),
            Column::new("as_of_day".into(), vec![self.as_of_day; kept.len()]),
        ])?;
        Ok(Some(accounts))
    }

    /// The audited accounts from the listed ones (`account_id, platform, account_kind,
    /// account_name, org_id, first_seen_day`) and the posts' accounts with their first days
    /// ([`first_post_days`]): every listed account and every account only known from its posts
    /// (its id as its name), its window starting a year before as_of or at its first sighting or
    /// first post, whichever is later; an account first seen after as_of is left out. Sorted by
    /// `account_id`.
    fn accounts_plan(&self, listed: DataFrame, from_posts: DataFrame) -> PolarsResult<LazyFrame> {
        let (listed, from_posts) = (listed.lazy(), from_posts.lazy());
        let ids = concat(
            [
                listed.clone().select([col("account_id")]),
                from_posts.clone().select([col("account_id")]),
            ],
            UnionArgs::default(),
        )?
        .unique_stable(None, UniqueKeepStrategy::First);
        Ok(ids
            .join(
                listed,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                from_posts,
                [col("account_id")],
                [col("account_id")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                coalesce(&[col("platform"), platform_of(col("account_id"))]).alias("platform"),
                coalesce(&[col("account_name"), col("account_id")]).alias("account_name"),
                // The window starts a year before as_of, or at the account's first sighting.
                polars::lazy::dsl::max_horizontal([
                    lit(self.from_day),
                    polars::lazy::dsl::min_horizontal([
                        col("first_seen_day"),
                        col("first_post_day"),
                    ])?
                    .fill_null(lit(self.from_day)),
                ])?
                .alias("from_day"),
                // Typed: an untyped integer literal becomes a 32-bit column.
                lit(self.as_of_day).cast(DataType::Int64).alias("as_of_day"),
            ])
            // An account first seen after the time point did not exist then: it is not
            // assessed (listed in `not_yet_seen`), never vetoed for having no update.
            .filter(col("from_day").lt_eq(col("as_of_day")))
            .select([
                col("account_id"),
                col("platform"),
                col("account_kind"),
                col("account_name"),
                col("org_id"),
                col("from_day"),
                col("as_of_day"),
            ])
            .sort(["account_id"], SortMultipleOptions::default()))
    }
}

/// [`platform_of`] of one id.
fn platform_prefix(account_id: &str) -> Option<&'static str> {
    PLATFORMS.into_iter().find(|platform| {
        account_id
            .strip_prefix(platform)
            .is_some_and(|rest| rest.starts_with(':'))
    })
}

/// The platform prefix of an `account_id` (`weibo:123` → `weibo`).
pub fn platform_of(account_id: Expr) -> Expr {
    PLATFORMS
        .iter()
        .rev()
        .fold(lit(NULL).cast(DataType::String), |otherwise, platform| {
            when(
                account_id
                    .clone()
                    .str()
                    .starts_with(lit(format!("{platform}:"))),
            )
            .then(lit(*platform))
            .otherwise(otherwise)
        })
}

/// The accounts of every unit as one table sorted by account (each account is in one unit).
fn accounts_of_units(parts: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let parts: Vec<LazyFrame> = parts.into_iter().map(DataFrame::lazy).collect();
    if parts.is_empty() {
        return Ok(DataFrame::empty());
    }
    concat(parts, UnionArgs::default())?
        .sort(["account_id"], SortMultipleOptions::default())
        .collect()
}

/// Each account of these posts with the Beijing day of its first post: `account_id,
/// first_post_day` (empty when no post has a time), in the order the accounts first appear. One
/// pass: the store keeps an account's posts together, so most rows only compare their account
/// with the row before (a group-by hashed every post's account id).
fn first_post_days(posts: &DataFrame) -> PolarsResult<DataFrame> {
    let accounts = posts.column("account_id")?.str()?;
    let published = posts.column("published_at")?.cast(&DataType::Int64)?;
    let mut ids: Vec<Option<&str>> = Vec::new();
    let mut days: Vec<Option<i64>> = Vec::new();
    let mut index: HashMap<Option<&str>, usize> = HashMap::new();
    let mut current: Option<(Option<&str>, usize)> = None;
    for (account, at) in accounts.iter().zip(published.i64()?.iter()) {
        let slot = match current {
            Some((id, slot)) if id == account => slot,
            _ => {
                let slot = *index.entry(account).or_insert_with(|| {
                    ids.push(account);
                    days.push(None);
                    ids.len() - 1
                });
                current = Some((account, slot));
                slot
            }
        };
        if let Some(at) = at {
            let day = local_day_of(at);
            days[slot] = Some(days[slot].map_or(day, |d: i64| d.min(day)));
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("account_id".into(), ids),
        Column::new("first_post_day".into(), days),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An account whose posts come back after another's is one account; posts without a time
    /// do not count; an account without any timed post has no first day.
    use govmedia_collectors::time::{DAY_MS, SHANGHAI_OFFSET_MS};

    #[test]
    fn first_post_days_are_per_account_whatever_the_row_order() {
        let day = |d: i64| d * DAY_MS - SHANGHAI_OFFSET_MS;
        let posts = df!(
            "account_id" => [Some("b"), Some("b"), Some("a"), Some("b"), Some("c"), None],
            // b: days 20, 12 (at 23:00 Beijing), then 9 after a's post; c: no time.
            "published_at" => [
                Some(day(20)),
                Some(day(12) + 23 * 3_600_000),
                Some(day(5)),
                Some(day(9)),
                None,
                Some(day(1)),
            ],
        )
        .unwrap();
        let expected = df!(
            "account_id" => [Some("b"), Some("a"), Some("c"), None],
            "first_post_day" => [Some(9i64), Some(5), None, Some(1)],
        )
        .unwrap();
        let days = first_post_days(&posts).unwrap();
        assert!(days.equals_missing(&expected), "{days}");
    }

    /// Each row goes to the unit its account hashes into, in the table's order, and no row is
    /// lost or doubled: the same frames as one filter per unit.
    #[test]
    fn split_by_unit_keeps_every_row_in_its_accounts_unit_in_order() {
        let ids: Vec<Option<String>> = (0..500)
            .map(|i| (i % 37 != 0).then(|| format!("weibo:{}", i % 90)))
            .collect();
        let df = df!(
            "account_id" => &ids,
            "row" => (0..500i64).collect::<Vec<_>>(),
        )
        .unwrap();
        for units in [1u32, 2, 8, 64] {
            let split = split_by_unit(&df, units).unwrap();
            assert_eq!(split.len(), units as usize);
            assert_eq!(split.iter().map(DataFrame::height).sum::<usize>(), 500);
            for (u, part) in split.iter().enumerate() {
                let mask: BooleanChunked = ids
                    .iter()
                    .map(|id| bucket_of(id.as_deref().unwrap_or_default(), units) == u as u32)
                    .collect();
                let expected = df.filter(&mask).unwrap();
                assert!(part.equals_missing(&expected), "unit {u} of {units}");
            }
        }
    }

    /// The one pass gives the plan's accounts, edge cases included, and leaves to the plan what
    /// only it decides.
    #[test]
    fn accounts_in_one_pass_are_the_plans() {
        let ctx = crate::testing::Fixture::at("2025-11-30").context();
        let (from, as_of) = (ctx.from_day, ctx.as_of_day);
        let listed = df!(
            "account_id" => ["wechat:b", "weibo:a", "app:c", "x:d", "wechat:late", "wechat:e"],
            "platform" => [Some("wechat"), None, Some("app"), None, Some("wechat"), Some("weibo")],
            "account_kind" => [Some("服务号"), None, Some("app"), None, None, Some("订阅号")],
            "account_name" => [Some("乙"), Some("甲"), None, Some("丁"), Some("迟"), Some("戊")],
            "org_id" => [Some("o1"), None, Some("o2"), None, None, Some("o1")],
            // Seen before the window, in it, never, after a post, after as_of, after as_of but
            // posting before it.
            "first_seen_day" => [
                Some(from - 40), Some(from + 10), None, Some(from + 30), Some(as_of + 2),
                Some(as_of + 5),
            ],
        )
        .unwrap();
        let from_posts = df!(
            "account_id" => ["weibo:a", "x:d", "wechat:zz", "weibo:only", "appx:1", "wechat:e"],
            "first_post_day" => [
                Some(from + 20), Some(from + 3), Some(from + 1), None, Some(as_of), Some(from + 7),
            ],
        )
        .unwrap();
        let plan = |listed: &DataFrame, posts: &DataFrame| {
            ctx.accounts_plan(listed.clone(), posts.clone())
                .unwrap()
                .collect()
                .unwrap()
        };
        let one_pass = ctx
            .accounts_in_one_pass(&listed, &from_posts)
            .unwrap()
            .expect("taken in one pass");
        let expected = plan(&listed, &from_posts);
        assert!(one_pass.equals_missing(&expected), "{one_pass}\n{expected}");
        // Six listed and three known from posts only; the one first seen after as_of left out.
        assert_eq!(one_pass.height(), 8, "{one_pass}");
        // No posts, no accounts: the same.
        let none = from_posts.clear();
        let one_pass = ctx.accounts_in_one_pass(&listed, &none).unwrap().unwrap();
        assert!(one_pass.equals_missing(&plan(&listed, &none)));
        let one_pass = ctx
            .accounts_in_one_pass(&listed.clear(), &none)
            .unwrap()
            .unwrap();
        assert!(one_pass.equals_missing(&plan(&listed.clear(), &none)));
        // A listed account twice, or a post without an account: the plan's to decide.
        let twice = listed.vstack(&listed.slice(0, 1)).unwrap();
        assert!(
            ctx.accounts_in_one_pass(&twice, &from_posts)
                .unwrap()
                .is_none()
        );
        let no_id = df!(
            "account_id" => [None::<&str>],
            "first_post_day" => [Some(from)],
        )
        .unwrap();
        assert!(ctx.accounts_in_one_pass(&listed, &no_id).unwrap().is_none());
    }
}
