//! The rule interface, selection (`--select` / `--ignore`), and the audit run that combines the
//! selected rules' lazy plans, adds the account columns once, and collects once. The rules
//! themselves are listed in `registry.rs`.

use polars::prelude::*;

use crate::Error;
use crate::context::{AuditContext, ParamValue};
use crate::exprs::stack_frames;
use crate::findings::{FINDING_COLUMNS, RULE_OUTPUT_COLUMNS, Severity, tag_utc};
use crate::measurements;
use crate::naming::{AccountNaming, accounts_naming};
use crate::registry::registry;
use crate::trace;
use crate::unit_table::{UnitSpill, UnitTable};

/// A documented parameter of a rule, with its default.
#[derive(Debug)]
pub struct ParamSpec {
    /// Key in the config: `CODE.name` or `FAMILY.name` for a family-wide parameter.
    pub key: &'static str,
    pub default: ParamValue,
    /// The values that make sense, inclusive (integers; `(0, 1)` for a switch): a value outside
    /// is a configuration error, not a silent veto of every account.
    pub range: (i64, i64),
    pub help: &'static str,
}

/// What the registry knows about a rule.
#[derive(Debug)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line for `govmedia rules`.
    pub summary: &'static str,
    /// The rule's source file; its `//!` module doc is the user documentation.
    pub source: &'static str,
    pub params: &'static [ParamSpec],
}

impl RuleInfo {
    pub fn family(&self) -> &'static str {
        &self.code[..3]
    }

    /// One section of the rule's documentation (`What it does`, `How to fix`, …), without its
    /// heading.
    pub fn doc_section(&self, heading: &str) -> Option<String> {
        let doc = self.doc();
        let mut lines = doc
            .lines()
            .skip_while(|l| l.trim() != format!("# {heading}"));
        lines.next()?;
        let text: Vec<&str> = lines.take_while(|l| !l.starts_with("# ")).collect();
        let text = text.join("\n").trim().to_string();
        (!text.is_empty()).then_some(text)
    }

    /// The rule's documentation: its module doc comment.
    pub fn doc(&self) -> String {
        module_doc(self.source)
    }
}

/// Extracts the `//!` module doc of a source file.
pub fn module_doc(source: &str) -> String {
    source
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The costly facts a rule reads beyond the base ones every audit computes (the accounts, the
/// posts' update facts, menus, link checks, organisations). A partial audit (`--select`,
/// `--ignore`) computes only what its rules read (see [`run_audit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reads {
    /// The scan of the posts' text (`AuditContext::post_scan`): lexicon and pattern hits, each
    /// post's category.
    pub post_text: bool,
    /// Each labelled post as a table (`AuditResult::post_categories`): the evidence behind a
    /// rule that judges by category.
    pub post_labels: bool,
    /// The comments and replies (`interaction::timed_comments`, `AuditContext::comment_scan`).
    pub comments: bool,
}

impl Reads {
    pub const BASE: Reads = Reads {
        post_text: false,
        post_labels: false,
        comments: false,
    };
    pub const POST_TEXT: Reads = Reads {
        post_text: true,
        ..Reads::BASE
    };
    pub const POST_LABELS: Reads = Reads {
        post_labels: true,
        ..Reads::POST_TEXT
    };
    pub const COMMENTS: Reads = Reads {
        comments: true,
        ..Reads::BASE
    };
    pub const ALL: Reads = Reads {
        comments: true,
        ..Reads::POST_LABELS
    };

    fn union(self, other: Reads) -> Reads {
        Reads {
            post_text: self.post_text || other.post_text,
            post_labels: self.post_labels || other.post_labels,
            comments: self.comments || other.comments,
        }
    }
}

/// A rule: a lazy plan yielding findings with [`RULE_OUTPUT_COLUMNS`].
pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;
    fn findings(&self, ctx: &AuditContext) -> PolarsResult<LazyFrame>;
    /// The facts the rule reads beyond the base ones; a rule that does not say reads them all.
    fn reads(&self) -> Reads {
        Reads::ALL
    }
    /// Why the rule cannot be assessed with this data (e.g. no org registry), if so.
    fn not_assessed(&self, _ctx: &AuditContext) -> Option<String> {
        None
    }
    /// Whether an account's findings depend on other accounts (e.g. every account of a unit):
    /// such a rule runs once over every account's summary, after the audit units.
    fn cross_account(&self) -> bool {
        false
    }
}

/// Which rules run: codes or family prefixes to select and ignore. The more specific (longer)
/// matching selector wins; on a tie, ignore wins.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl Selection {
    /// Checks that every selector matches at least one rule.
    pub fn validate(&self) -> Result<(), Error> {
        for s in self.select.iter().chain(&self.ignore) {
            let s_up = s.to_ascii_uppercase();
            if !registry().iter().any(|r| r.info().code.starts_with(&s_up)) {
                return Err(Error::Config(format!(
                    "unknown rule code or prefix {s:?}; `govmedia rules` lists them"
                )));
            }
        }
        Ok(())
    }

    pub fn is_selected(&self, code: &str) -> bool {
        let best = |selectors: &[String]| {
            selectors
                .iter()
                .map(|s| s.to_ascii_uppercase())
                .filter(|s| code.starts_with(s.as_str()))
                .map(|s| s.len() as i64)
                .max()
        };
        let selected = if self.select.is_empty() {
            Some(0)
        } else {
            best(&self.select)
        };
        match (selected, best(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }
}

/// The tables an audit produces.
pub struct AuditResult {
    /// [`FINDING_COLUMNS`], in a deterministic order.
    pub findings: DataFrame,
    /// One row per account (`measurements` module).
    pub measurements: DataFrame,
    /// Updates per account and ISO week over the window (for charts).
    pub weekly_updates: DataFrame,
    /// Replies per account and latency bucket (`measurements::reply_latency_buckets`).
    pub reply_latency: DataFrame,
    /// Posts by category and engagement per account and month (`measurements::monthly`).
    pub monthly: DataFrame,
    /// Codes of the rules that ran.
    pub rules_run: Vec<&'static str>,
    /// Selected rules that could not be assessed, with the reason (reported, never guessed).
    pub not_assessed: Vec<(&'static str, String)>,
    /// The labeller's label of every post in the window labelled other than `动态` (CNT006,
    /// INT006): `account_id, post_id, url, published_at, category, score, reason`. On disk
    /// when the audit ran in units (`unit_table`). `None` in a partial audit none of whose
    /// rules judges by category.
    pub post_categories: Option<UnitTable>,
    /// What the audit computed ([`Reads`]): everything, unless it was partial.
    pub computed: Reads,
    /// The measurement columns a partial audit left empty, the facts behind them not computed
    /// (`measurements::uncomputed`): the rubric items reading them are not assessed.
    pub uncomputed: Vec<&'static str>,
    /// The period the influence index inputs were counted over.
    pub index_period: crate::indices::Period,
    /// The influence index inputs per account over that period (`indices::period_counters`).
    pub index_counters: DataFrame,
    /// The URL of the post each post or comment finding names (`finding_links`), for the account
    /// pages; empty (no columns) when the report has no pages.
    pub finding_links: DataFrame,
}

/// Runs the selected rules: the per-account rules and the measurements unit by unit (each unit
/// a pure function of its tables, `docs/architecture.md`), then the cross-account rules on the
/// gathered per-account summaries.
pub fn run_audit(ctx: &AuditContext, selection: &Selection) -> Result<AuditResult, Error> {
    run_audit_with(ctx, selection, &|_| {})
}

/// The per-account tables of an audit whose units are done, which no cross-account rule changes:
/// [`AuditResult::measurements`] and [`AuditResult::post_categories`].
pub struct UnitTables<'a> {
    pub measurements: &'a DataFrame,
    pub post_categories: Option<&'a UnitTable>,
}

/// [`run_audit`], handing `units_done` the [`UnitTables`] as soon as they are gathered, on a
/// thread of their own beside the cross-account rules: what only needs them (their files) is
/// done there. The tail of a national audit runs the cross-account rules on one core, and the
/// other core idled.
pub fn run_audit_with(
    ctx: &AuditContext,
    selection: &Selection,
    units_done: &(dyn Fn(&UnitTables<'_>) + Sync),
) -> Result<AuditResult, Error> {
    selection.validate()?;
    let mut rules: Vec<&dyn Rule> = Vec::new();
    let mut not_assessed = Vec::new();
    for rule in registry()
        .iter()
        .copied()
        .filter(|r| selection.is_selected(r.info().code))
    {
        match rule.not_assessed(ctx) {
            Some(reason) => not_assessed.push((rule.info().code, reason)),
            None => rules.push(rule),
        }
    }
    let (cross_account, per_account): (Vec<&dyn Rule>, Vec<&dyn Rule>) =
        rules.iter().partition(|r| r.cross_account());
    // A partial audit computes only the facts its rules read: the subset an agency runs before
    // an inspection should not pay for the comment timing and the post labels of a whole
    // audit. Account pages draw every fact.
    let partial = registry()
        .iter()
        .any(|r| !selection.is_selected(r.info().code));
    let reads = if partial && !ctx.page_tables {
        rules
            .iter()
            .fold(Reads::BASE, |all, r| all.union(r.reads()))
    } else {
        Reads::ALL
    };
    // A single-unit audit computes the naming facts in `ctx` itself; units hand theirs over.
    let gather_naming = !cross_account.is_empty() && !ctx.units().is_empty();
    // The post labels of a store in units go to disk unit by unit (`unit_table`).
    let label_spill = if ctx.units().is_empty() || !reads.post_labels {
        None
    } else {
        Some(UnitSpill::new(ctx.units().len())?)
    };
    let mut parts = if ctx.units().is_empty() {
        vec![run_unit(ctx, &per_account, gather_naming, reads)?]
    } else {
        // Units side by side, each on one thread: much of a unit's work (its rules' plans, the
        // comment scan, the measurements) is serial, so one unit at a time with its scans on
        // every core left a core idle half the time. One unit more than cores: a unit's thread
        // waits at times (on the Polars jobs of its plans, on the label spill's writer), and
        // with one unit per core a core idled a tenth of the unit phase. Measured at 200,000
        // accounts: 24.3-24.6 s with two units at once, 22.6-23.4 s with three, 23.5 s with
        // four; peak memory unchanged (2.6 GB).
        let side_by_side = (ctx.workers() + 1).min(ctx.units().len());
        let unit_workers = if side_by_side > 1 { 1 } else { ctx.workers() };
        let units: Vec<usize> = (0..ctx.units().len()).collect();
        crate::parallel::map_in_order(&units, side_by_side, |&i| {
            let tables = &ctx.units()[i];
            let tables = trace::stage("unit read", || tables.read_into_memory(reads.comments))?;
            // The unit's accounts from the posts just read (their first posts), not from a read
            // of its posts beforehand.
            let accounts = ctx.unit_accounts(&tables)?;
            let unit = ctx
                .for_unit(tables, accounts)
                .with_workers(unit_workers)
                .with_post_labels(reads.post_labels);
            let mut result = run_unit(&unit, &per_account, gather_naming, reads)?;
            result.accounts = unit.accounts()?.clone();
            if let Some(spill) = &label_spill {
                let labels = std::mem::take(&mut result.tables[POST_CATEGORIES]);
                trace::stage("unit labels to disk", || spill.put(i, &labels))?;
            }
            Ok::<_, Error>(result)
        })?
    };
    ctx.forget_earlier_verdicts();
    if !ctx.units().is_empty() {
        ctx.set_accounts_of_units(parts.iter().map(|p| p.accounts.clone()).collect())?;
    }
    let mut unit_naming: Vec<Vec<AccountNaming>> = parts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.naming))
        .collect();
    // The units' findings and tables are gathered beside the cross-account rules, which read
    // only the accounts and their naming facts: both are the serial tail of a national audit.
    let (mut findings, tables, post_categories) = std::thread::scope(|scope| {
        let gathering = scope.spawn(move || -> Result<_, Error> {
            let mut unit_findings = Vec::with_capacity(parts.len());
            let mut gathered = Gathered::default();
            for part in parts {
                unit_findings.push(part.findings);
                gathered.add(part.tables);
            }
            let mut tables = trace::stage("gather: tables", || gathered.finish())?;
            let post_categories = match label_spill {
                _ if !reads.post_labels => None,
                None => Some(UnitTable::Frame(std::mem::take(
                    &mut tables[POST_CATEGORIES],
                ))),
                Some(spill) => Some(spill.finish(UNIT_TABLES[POST_CATEGORIES])?),
            };
            // The unit tables' own work beside the gathering of the findings.
            let findings = std::thread::scope(|inner| {
                inner.spawn(|| {
                    trace::stage("units done: hand-over", || {
                        units_done(&UnitTables {
                            measurements: &tables[MEASUREMENTS],
                            post_categories: post_categories.as_ref(),
                        })
                    })
                });
                trace::stage("gather: findings", || {
                    AccountRuns::of(unit_findings, &FINDING_ORDER)
                })
            })?;
            Ok((findings, tables, post_categories))
        });
        let cross = (|| -> Result<Option<DataFrame>, Error> {
            if gather_naming {
                trace::stage("gather: naming", || {
                    let mut naming: Vec<AccountNaming> = unit_naming.drain(..).flatten().collect();
                    naming.sort_by(|a, b| a.account_id.cmp(&b.account_id));
                    ctx.set_naming(naming);
                });
            }
            if cross_account.is_empty() {
                return Ok(None);
            }
            let cross = trace::stage("cross-account rules", || findings_of(ctx, &cross_account))?;
            Ok(Some(sorted(cross, &FINDING_ORDER)?))
        })();
        let (unit_findings, tables, post_categories) =
            gathering.join().expect("the gathering panicked")?;
        let findings = trace::stage("gather: cross-account findings", || {
            unit_findings.with_sorted_first(cross?, &FINDING_ORDER)
        })?;
        Ok::<_, Error>((findings, tables, post_categories))
    })?;
    if findings.height() == 0 {
        findings = empty_findings();
    }
    let [
        measurements,
        weekly_updates,
        reply_latency,
        monthly,
        _post_categories,
        index_counters,
        finding_links,
    ] = tables;
    tag_utc(&mut findings, "occurred_at")?;
    Ok(AuditResult {
        findings,
        measurements,
        weekly_updates,
        reply_latency,
        monthly,
        rules_run: rules.iter().map(|r| r.info().code).collect(),
        not_assessed,
        post_categories,
        computed: reads,
        uncomputed: measurements::uncomputed(reads),
        index_period: ctx.index_period,
        index_counters,
        finding_links,
    })
}

/// What one audit unit yields: its findings (with the account columns) and its per-account
/// tables, each sorted within the unit.
struct UnitResult {
    findings: DataFrame,
    tables: [DataFrame; UNIT_TABLES.len()],
    /// The naming facts of the unit's accounts, when the cross-account rules gather them.
    naming: Vec<AccountNaming>,
    /// The unit's accounts (`AuditContext::accounts` of the unit).
    accounts: DataFrame,
}

/// The place of the measurements among [`UNIT_TABLES`].
const MEASUREMENTS: usize = 0;

/// The place of the post labels among [`UNIT_TABLES`].
const POST_CATEGORIES: usize = 4;

/// The per-account tables of a unit, with the columns the gathered table is sorted by.
const UNIT_TABLES: [&[&str]; 7] = [
    &["account_id"],
    &["account_id", "week_start"],
    &["account_id", "bucket"],
    &["account_id", "month"],
    &["account_id", "published_at", "post_id"],
    &["account_id"],
    &["account_id", "code", "item_id"],
];

/// The per-account tables of every unit, gathered.
#[derive(Default)]
struct Gathered {
    parts: Vec<Vec<DataFrame>>,
}

impl Gathered {
    fn add(&mut self, tables: [DataFrame; UNIT_TABLES.len()]) {
        if self.parts.is_empty() {
            self.parts = vec![Vec::new(); UNIT_TABLES.len()];
        }
        for (all, df) in self.parts.iter_mut().zip(tables) {
            all.push(df);
        }
    }

    /// One table each, in the order a single-unit audit gives (units hold disjoint accounts).
    fn finish(self) -> Result<[DataFrame; UNIT_TABLES.len()], Error> {
        let mut out: Vec<DataFrame> = Vec::with_capacity(UNIT_TABLES.len());
        for (parts, keys) in self.parts.into_iter().zip(UNIT_TABLES) {
            if parts.len() == 1 {
                out.extend(parts);
                continue;
            }
            out.push(merged_by_account(parts, keys)?);
        }
        out.try_into()
            .map_err(|_| Error::Config("an audit without units".into()))
    }
}

/// The order findings are listed in.
const FINDING_ORDER: [&str; 4] = ["account_id", "code", "occurred_at", "item_id"];

/// Tables of disjoint accounts, each sorted by some keys (the account first), concatenated, with
/// the order of rows that sorts them by those keys: each account's run of rows moved whole into
/// account order, where sorting the gathered rows by every key cost seconds on a national audit's
/// ten million weekly rows.
struct AccountRuns {
    all: DataFrame,
    /// The rows of `all` in order; `None` when an account turned up in two tables (which
    /// disjoint units never give) or without an id: then the rows are sorted after all.
    order: Option<Vec<IdxSize>>,
}

impl AccountRuns {
    fn of(parts: Vec<DataFrame>, keys: &[&str]) -> Result<AccountRuns, Error> {
        if parts.iter().all(|p| p.width() == 0) {
            // A table not made (`page_table`).
            return Ok(AccountRuns {
                all: DataFrame::empty(),
                order: Some(Vec::new()),
            });
        }
        // (account, first row in the gathered table, rows)
        let mut runs: Vec<(&str, IdxSize, IdxSize)> = Vec::new();
        let mut offset: IdxSize = 0;
        let mut only_runs = true;
        for part in &parts {
            let accounts = part.column(keys[0])?.str()?;
            let mut previous: Option<&str> = None;
            for (i, account) in accounts.iter().enumerate() {
                let Some(account) = account else {
                    only_runs = false;
                    break;
                };
                match runs.last_mut() {
                    Some(run) if previous == Some(account) => run.2 += 1,
                    _ => runs.push((account, offset + i as IdxSize, 1)),
                }
                previous = Some(account);
            }
            offset += part.height() as IdxSize;
        }
        // Stable: equal accounts (which disjoint units never have) keep their tables' order.
        runs.sort_by(|a, b| a.0.cmp(b.0));
        only_runs &= runs.windows(2).all(|w| w[0].0 != w[1].0);
        let order = only_runs.then(|| {
            runs.iter()
                .flat_map(|&(_, start, rows)| start..start + rows)
                .collect()
        });
        let empty = parts.first().map(DataFrame::clear).unwrap_or_default();
        // The parts' chunks side by side, not yet copied into one: the rows are copied once,
        // into one chunk, by whatever comes next (`finish`, `with_sorted_first`), where a copy
        // here was copied again with the cross-account findings (a national audit's two
        // million findings, each copy some 300 MB of fresh memory).
        Ok(AccountRuns {
            all: stack_frames(parts, || Ok(empty))?,
            order,
        })
    }

    /// The rows in order.
    fn finish(mut self, keys: &[&str]) -> Result<DataFrame, Error> {
        match self.order {
            Some(order) => {
                // One chunk: the take is several times slower over many.
                self.all.rechunk_mut_par();
                Ok(self.all.take(&IdxCa::from_vec("order".into(), order))?)
            }
            None => sorted(self.all, keys),
        }
    }

    /// The rows and those of `first` (sorted by `keys`; of equal rows, those of `first` come
    /// first), in order: each row of `first` is placed by a binary search among the others.
    fn with_sorted_first(
        self,
        first: Option<DataFrame>,
        keys: &[&str],
    ) -> Result<DataFrame, Error> {
        let Some(first) = first.filter(|f| f.height() > 0) else {
            return self.finish(keys);
        };
        if self.all.height() == 0 {
            return Ok(first);
        }
        let Some(order) = self.order else {
            let all = stack_frames(vec![first, self.all], || Ok(DataFrame::empty()))?;
            return sorted(all, keys);
        };
        let base = self.all.height() as IdxSize;
        let added = first.height() as IdxSize;
        let mut all = self.all;
        all.vstack_mut_owned(first)?;
        // One chunk: both the row look-ups and the take are several times slower over two.
        all.rechunk_mut_par();
        let rows = RowOrder::new(&all, keys)?;
        let mut merged: Vec<IdxSize> = Vec::with_capacity(all.height());
        let mut next = 0;
        for row in base..base + added {
            let at = next + order[next..].partition_point(|&other| rows.less(other, row));
            merged.extend_from_slice(&order[next..at]);
            merged.push(row);
            next = at;
        }
        merged.extend_from_slice(&order[next..]);
        Ok(all.take(&IdxCa::from_vec("order".into(), merged))?)
    }
}

/// Tables of disjoint accounts, each sorted by `keys` (the account first), as one table sorted by
/// `keys` ([`AccountRuns`]).
fn merged_by_account(parts: Vec<DataFrame>, keys: &[&str]) -> Result<DataFrame, Error> {
    AccountRuns::of(parts, keys)?.finish(keys)
}

/// The order of a frame's rows by some key columns (text, or numbers and instants), nulls last,
/// as [`sorted`] orders them.
struct RowOrder {
    keys: Vec<KeyColumn>,
}

enum KeyColumn {
    Text(StringChunked),
    Number(Int64Chunked),
}

impl RowOrder {
    fn new(df: &DataFrame, keys: &[&str]) -> PolarsResult<RowOrder> {
        let keys = keys
            .iter()
            .map(|k| {
                let column = df.column(k)?;
                Ok(match column.dtype() {
                    DataType::String => KeyColumn::Text(column.str()?.clone()),
                    _ => KeyColumn::Number(column.cast(&DataType::Int64)?.i64()?.clone()),
                })
            })
            .collect::<PolarsResult<_>>()?;
        Ok(RowOrder { keys })
    }

    fn less(&self, a: IdxSize, b: IdxSize) -> bool {
        fn nulls_last<T: Ord>(a: Option<T>, b: Option<T>) -> std::cmp::Ordering {
            match (a, b) {
                (Some(a), Some(b)) => a.cmp(&b),
                (a, b) => a.is_none().cmp(&b.is_none()),
            }
        }
        let (a, b) = (a as usize, b as usize);
        for key in &self.keys {
            let order = match key {
                KeyColumn::Text(c) => nulls_last(c.get(a), c.get(b)),
                KeyColumn::Number(c) => nulls_last(c.get(a), c.get(b)),
            };
            if order.is_ne() {
                return order.is_lt();
            }
        }
        false
    }
}

/// The rules, measurements and labels of one unit.
fn run_unit(
    ctx: &AuditContext,
    rules: &[&dyn Rule],
    gather_naming: bool,
    reads: Reads,
) -> Result<UnitResult, Error> {
    if trace::enabled() {
        // The shared scans first, so that each shows as its own stage.
        trace::stage("post facts", || ctx.post_facts().map(|_| ()))?;
        if reads.post_text {
            trace::stage("post scan", || ctx.post_scan().map(|_| ()))?;
        }
        if reads.comments {
            trace::stage("comment scan", || ctx.comment_scan().map(|_| ()))?;
        }
    }
    let findings = trace::stage("rules", || findings_of(ctx, rules))?;
    // Sorted here, in the unit, so that gathering moves each account's findings whole.
    let findings = sorted(findings, &FINDING_ORDER)?;
    let post_categories = if reads.post_labels {
        post_labels(ctx)?
    } else {
        DataFrame::empty()
    };
    let naming = if gather_naming {
        accounts_naming(ctx)?.to_vec()
    } else {
        Vec::new()
    };
    // A table only account pages read.
    let finding_links = if ctx.page_tables {
        trace::stage("finding links", || {
            crate::finding_links::finding_links(ctx, &findings)
        })?
    } else {
        DataFrame::empty()
    };
    Ok(UnitResult {
        accounts: DataFrame::empty(),
        findings,
        tables: [
            trace::stage("per-account measurements", || {
                measurements::per_account(ctx, reads)?.collect()
            })?,
            page_table(ctx, "weekly updates", measurements::weekly_updates)?,
            page_table(ctx, "reply latency", measurements::reply_latency_buckets)?,
            page_table(ctx, "monthly", measurements::monthly)?,
            post_categories,
            trace::stage("index inputs", || crate::indices::period_counters(ctx))?,
            finding_links,
        ],
        naming,
    })
}

/// The unit's labelled posts, in account and time order.
fn post_labels(ctx: &AuditContext) -> Result<DataFrame, Error> {
    let labels = ctx
        .post_scan()?
        .categories
        .clone()
        .lazy()
        .select([
            col("account_id"),
            col("post_id"),
            col("url"),
            col("occurred_at").alias("published_at"),
            col("category"),
            col("score"),
            col("reason"),
        ])
        .collect()?;
    let mut post_categories = match order_within_account_runs(&labels)? {
        Some(order) if order.windows(2).all(|w| w[0] < w[1]) => labels,
        Some(order) => labels.take(&IdxCa::from_vec("order".into(), order))?,
        None => labels
            .lazy()
            .sort(
                ["account_id", "published_at", "post_id"],
                SortMultipleOptions::default(),
            )
            .collect()?,
    };
    tag_utc(&mut post_categories, "published_at")?;
    Ok(post_categories)
}

/// The order of labelled posts (`account_id, published_at, post_id`) when each account's rows
/// are together and the accounts ascending, as a unit's labels come (in the store's order: by
/// account, then post id): each account's run sorted by time and post on its own, a few dozen
/// rows with an integer first, where a sort of the whole unit encoded every row's account id.
/// `None` when the rows are not so, or a key is missing: then they are sorted whole.
fn order_within_account_runs(labels: &DataFrame) -> PolarsResult<Option<Vec<IdxSize>>> {
    let at = labels.column("published_at")?.cast(&DataType::Int64)?;
    let (Some(accounts), Some(at), Some(posts)) = (
        labels
            .column("account_id")?
            .str()?
            .iter()
            .collect::<Option<Vec<&str>>>(),
        at.i64()?.iter().collect::<Option<Vec<i64>>>(),
        labels
            .column("post_id")?
            .str()?
            .iter()
            .collect::<Option<Vec<&str>>>(),
    ) else {
        return Ok(None);
    };
    if !accounts.windows(2).all(|w| w[0] <= w[1]) {
        return Ok(None);
    }
    let mut order: Vec<IdxSize> = (0..accounts.len() as IdxSize).collect();
    for run in order.chunk_by_mut(|&a, &b| accounts[a as usize] == accounts[b as usize]) {
        run.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            at[a].cmp(&at[b]).then_with(|| posts[a].cmp(posts[b]))
        });
    }
    Ok(Some(order))
}

/// A table only account pages draw, or an empty frame when the report has no pages.
fn page_table(
    ctx: &AuditContext,
    stage: &'static str,
    table: fn(&AuditContext) -> PolarsResult<LazyFrame>,
) -> PolarsResult<DataFrame> {
    if !ctx.page_tables {
        return Ok(DataFrame::empty());
    }
    trace::stage(stage, || table(ctx)?.collect())
}

/// The findings of these rules over the context's accounts, with the account columns.
fn findings_of(ctx: &AuditContext, rules: &[&dyn Rule]) -> Result<DataFrame, Error> {
    if trace::enabled() {
        // Each rule's plan on its own, so that each shows as a stage of its own.
        for rule in rules {
            trace::stage(rule.info().code, || rule.findings(ctx)?.collect())?;
        }
    }
    let plans = rules
        .iter()
        .map(|r| {
            r.findings(ctx).map(|lf| {
                lf.select(
                    RULE_OUTPUT_COLUMNS
                        .iter()
                        .map(|c| col(*c))
                        .collect::<Vec<_>>(),
                )
            })
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    if plans.is_empty() {
        return Ok(empty_findings());
    }
    let accounts = ctx.accounts()?.clone().lazy().select([
        col("account_id"),
        col("platform"),
        col("account_name"),
        col("org_id"),
    ]);
    // Findings of audited accounts only: an account first seen after as_of is not assessed,
    // whatever its menus or link checks say.
    Ok(concat(plans, UnionArgs::default())?
        .join(
            accounts,
            [col("account_id")],
            [col("account_id")],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Inner)
            },
        )
        .select(FINDING_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .collect()?)
}

/// A frame sorted by these columns, nulls last, ties in their order.
pub(crate) fn sorted(df: DataFrame, keys: &[&str]) -> Result<DataFrame, Error> {
    Ok(df
        .lazy()
        .sort_by_exprs(
            keys.iter().map(|k| col(*k)).collect::<Vec<_>>(),
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .collect()?)
}

/// An empty findings table with the canonical column types.
pub fn empty_findings() -> DataFrame {
    let schema: Schema = FINDING_COLUMNS
        .iter()
        .map(|c| {
            let dtype = if *c == "occurred_at" {
                DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
            } else {
                DataType::String
            };
            Field::new(PlSmallStr::from_static(c), dtype)
        })
        .collect();
    DataFrame::empty_with_schema(&schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exprs::concat_frames;
    use crate::testing::{Fixture, finding_rows};
    use govmedia_collectors::schema::{ACCOUNTS, COMMENTS, MENUS, POSTS};

    /// Two accounts with posts of every kind the scans look at (a policy document, an ad, news),
    /// comments answered late, on time and not at all, and a menu.
    fn fixture() -> Fixture {
        Fixture::at("2024-11-30")
            .jsonl(
                &ACCOUNTS,
                r#"
{"account_id":"wechat:gh_a","platform":"wechat","name":"某市发布","first_seen":"2024-01-01T00:00:00+08:00"}
{"account_id":"weibo:2","platform":"weibo","name":"某县发布","first_seen":"2024-01-01T00:00:00+08:00"}
"#,
            )
            .jsonl(
                &POSTS,
                r#"
{"account_id":"wechat:gh_a","post_id":"p1","published_at":"2024-11-04T10:00:00+08:00","title":"关于调整城区限行措施的通告","text":"现将有关事宜通告如下：一、限行时间……","comments_open":true}
{"account_id":"wechat:gh_a","post_id":"p2","published_at":"2024-11-12T10:00:00+08:00","title":"年货节","text":"精选礼盒到手价199元，名额有限！","comments_open":true}
{"account_id":"weibo:2","post_id":"w1","published_at":"2024-11-20T10:00:00+08:00","text":"【我县召开防汛会议】","comments_open":true}
"#,
            )
            .jsonl(
                &COMMENTS,
                r#"
{"account_id":"wechat:gh_a","post_id":"p1","comment_id":"c1","created_at":"2024-11-04T11:00:00+08:00","content":"何时开始？","reply_content":"您好，下周一起。","reply_at":"2024-11-04T15:00:00+08:00","is_elected":true}
{"account_id":"wechat:gh_a","post_id":"p1","comment_id":"c2","created_at":"2024-11-05T11:00:00+08:00","content":"外地车呢？","reply_content":"感谢关注！","reply_at":"2024-11-20T15:00:00+08:00","is_elected":true}
{"account_id":"weibo:2","post_id":"w1","comment_id":"c3","created_at":"2024-11-20T12:00:00+08:00","content":"哪些路段？"}
"#,
            )
            .jsonl(
                &MENUS,
                r#"
{"account_id":"wechat:gh_a","path":"互动/在线咨询","name":"在线咨询","kind":"view","target":"https://app.example.gov.cn/ask"}
"#,
            )
    }

    #[test]
    fn every_rule_reads_no_more_than_it_declares() {
        for rule in registry() {
            let ctx = fixture().context();
            rule.findings(&ctx).unwrap().collect().unwrap();
            let (read, declared) = (ctx.facts_computed(), rule.reads());
            let code = rule.info().code;
            assert!(
                !read.post_text || declared.post_text,
                "{code} scans post text"
            );
            assert!(!read.comments || declared.comments, "{code} reads comments");
        }
    }

    #[test]
    fn a_partial_audit_computes_only_what_its_rules_read() {
        let select = |codes: &[&str]| Selection {
            select: codes.iter().map(|c| c.to_string()).collect(),
            ignore: vec![],
        };
        let audit = |selection: &Selection| {
            run_audit(&fixture().context().without_page_tables(), selection).unwrap()
        };
        let whole = audit(&Selection::default());
        assert_eq!(whole.computed, Reads::ALL);
        assert!(whole.uncomputed.is_empty());
        assert!(whole.post_categories.is_some());

        let updates = audit(&select(&["UPD"]));
        assert_eq!(updates.computed, Reads::BASE);
        assert!(
            updates.post_categories.is_none(),
            "no rule judges by category"
        );
        let m = &updates.measurements;
        for column in [
            "posts_in_window",
            "posts_policy_document",
            "ad_posts",
            "comments",
        ] {
            assert!(updates.uncomputed.contains(&column), "{column}");
            assert_eq!(
                m.column(column).unwrap().null_count(),
                m.height(),
                "{column}"
            );
        }
        // What was computed is the same as in the whole audit.
        let whole_m = &whole.measurements;
        for column in ["updates", "periods_compliant", "menu_entries"] {
            assert!(
                m.column(column)
                    .unwrap()
                    .equals_missing(whole_m.column(column).unwrap()),
                "{column}"
            );
        }
        // The same columns in the same order: a partial audit's table reads like a whole one's.
        assert_eq!(m.get_column_names(), whole_m.get_column_names());

        // CNT001 scans the text but judges no category; INT006 judges by category; INT002 reads
        // the comments. Each finds what the whole audit finds.
        for (codes, computed) in [
            (&["CNT001"][..], Reads::POST_TEXT),
            (&["INT006"][..], Reads::POST_LABELS),
            (&["INT002", "UPD001"][..], Reads::COMMENTS),
        ] {
            let partial = audit(&select(codes));
            assert_eq!(partial.computed, computed, "{codes:?}");
            assert_eq!(partial.post_categories.is_some(), computed.post_labels);
            let of = |r: &AuditResult| -> Vec<String> {
                finding_rows(r)
                    .into_iter()
                    .filter(|row| codes.iter().any(|c| row.starts_with(c)))
                    .collect()
            };
            assert!(
                !of(&partial).is_empty() || codes == ["INT006"],
                "{codes:?} finds"
            );
            assert_eq!(of(&partial), of(&whole), "{codes:?}");
            // Posts are counted per category only when they were labelled.
            let m = &partial.measurements;
            let categories = m.column("posts_policy_document").unwrap();
            assert_eq!(
                categories.null_count() == m.height(),
                !computed.post_labels,
                "{codes:?}"
            );
            if computed.post_text {
                let posts = m.column("posts_in_window").unwrap();
                assert!(
                    posts.equals_missing(whole.measurements.column("posts_in_window").unwrap())
                );
            }
        }
        // Account pages draw every fact.
        let paged = run_audit(&fixture().context(), &select(&["UPD"])).unwrap();
        assert_eq!(paged.computed, Reads::ALL);
    }

    #[test]
    fn tables_of_disjoint_accounts_are_merged_in_key_order_and_sorted_otherwise() {
        let keys = ["account_id", "week_start"];
        let a = df!("account_id" => ["b", "b", "d"], "week_start" => [1, 2, 1]).unwrap();
        let b = df!("account_id" => ["a", "c", "c"], "week_start" => [5, 1, 3]).unwrap();
        let merged = merged_by_account(vec![a.clone(), b.clone()], &keys).unwrap();
        let expected = df!(
            "account_id" => ["a", "b", "b", "c", "c", "d"],
            "week_start" => [5, 1, 2, 1, 3, 1],
        )
        .unwrap();
        assert!(merged.equals(&expected), "{merged}");
        // An account in both tables: sorted row by row after all.
        let c = df!("account_id" => ["b"], "week_start" => [0]).unwrap();
        let sorted_rows = merged_by_account(vec![a, b, c], &keys).unwrap();
        let weeks: Vec<i32> = sorted_rows
            .column("week_start")
            .unwrap()
            .i32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(weeks, [5, 0, 1, 2, 1, 3, 1]);
        let none = merged_by_account(vec![DataFrame::empty(), DataFrame::empty()], &keys).unwrap();
        assert_eq!(none.width(), 0);
    }

    #[test]
    fn labels_sorted_account_by_account_are_the_labels_sorted_whole() {
        // Accounts together and ascending, as a unit's labels come; within each, post ids in
        // text order ("p10" before "p2"), times out of order, and two posts at one instant.
        let mut rows: Vec<(&str, String, i64)> = Vec::new();
        for (a, account) in ["app:1", "weibo:2", "weibo:3"].into_iter().enumerate() {
            let mut posts: Vec<String> = (0..40).map(|p| format!("p{p}")).collect();
            posts.sort();
            for (p, post) in posts.into_iter().enumerate() {
                rows.push((account, post, ((p * 7 + a * 3) % 11) as i64 * 60_000));
            }
        }
        let labels = df!(
            "account_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "post_id" => rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            "published_at" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "row" => (0..rows.len() as i64).collect::<Vec<_>>(),
        )
        .unwrap();
        let whole = labels
            .clone()
            .lazy()
            .sort(
                ["account_id", "published_at", "post_id"],
                SortMultipleOptions::default(),
            )
            .collect()
            .unwrap();
        let order = order_within_account_runs(&labels).unwrap().unwrap();
        let by_runs = labels
            .take(&IdxCa::from_vec("order".into(), order))
            .unwrap();
        assert!(by_runs.equals(&whole), "{by_runs}\n{whole}");
        assert!(!by_runs.equals(&labels), "the test needs rows out of order");
        // An account met again after another, or a missing key: sorted whole instead.
        let apart = df!(
            "account_id" => ["b", "a", "b"],
            "post_id" => ["1", "1", "2"],
            "published_at" => [1i64, 2, 3],
        )
        .unwrap();
        assert!(order_within_account_runs(&apart).unwrap().is_none());
        let missing = df!(
            "account_id" => ["a", "a"],
            "post_id" => [Some("1"), None],
            "published_at" => [1i64, 2],
        )
        .unwrap();
        assert!(order_within_account_runs(&missing).unwrap().is_none());
    }

    /// The cross-account findings placed among the units' gathered findings give the rows a
    /// sort of everything gives: nulls last, an account of its own before, between and after
    /// the units' accounts, and a cross-account row before a unit row equal to it in every key.
    #[test]
    fn sorted_rows_placed_among_account_runs_are_the_rows_sorted() {
        let at = |ms: Option<i64>| ms.map(|v| v * 86_400_000);
        // (account, code, day, item, where the row came from)
        type Row<'a> = (&'a str, &'a str, Option<i64>, Option<&'a str>, &'a str);
        let frame = |rows: &[Row]| {
            let mut df = df!(
                "account_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                "code" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                "occurred_at" => rows.iter().map(|r| at(r.2)).collect::<Vec<_>>(),
                "item_id" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
                "from" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            )
            .unwrap();
            tag_utc(&mut df, "occurred_at").unwrap();
            sorted(df, &FINDING_ORDER).unwrap()
        };
        let unit_one = frame(&[
            ("b", "NAM001", Some(3), Some("x"), "u1"),
            ("b", "UPD001", None, Some("p"), "u1"),
            ("b", "UPD001", Some(2), None, "u1"),
            ("b", "UPD001", Some(2), Some("q"), "u1"),
            ("d", "INT002", Some(1), Some("c1"), "u1"),
        ]);
        let unit_two = frame(&[
            ("c", "CNT001", Some(5), Some("p9"), "u2"),
            ("c", "UPD001", Some(1), Some("w"), "u2"),
        ]);
        let cross = frame(&[
            ("a", "NAM002", None, None, "cross"),
            ("b", "NAM002", Some(1), Some("x"), "cross"),
            ("b", "UPD001", Some(2), Some("q"), "cross"),
            ("c", "AAA000", None, None, "cross"),
            ("cc", "NAM002", None, None, "cross"),
            ("e", "OPN001", Some(9), Some("z"), "cross"),
        ]);
        let expected = sorted(
            concat_frames(
                vec![cross.clone(), unit_one.clone(), unit_two.clone()],
                || unreachable!(),
            )
            .unwrap(),
            &FINDING_ORDER,
        )
        .unwrap();
        let placed = AccountRuns::of(vec![unit_one.clone(), unit_two.clone()], &FINDING_ORDER)
            .unwrap()
            .with_sorted_first(Some(cross.clone()), &FINDING_ORDER)
            .unwrap();
        assert!(placed.equals_missing(&expected), "{placed}\n{expected}");
        assert_eq!(
            crate::testing::texts(&placed, "from"),
            [
                "cross", "u1", "cross", "cross", "u1", "u1", "u1", "cross", "u2", "u2", "cross",
                "u1", "cross"
            ]
        );
        // Nothing to place, or nothing to place among.
        let alone = AccountRuns::of(vec![unit_two.clone()], &FINDING_ORDER)
            .unwrap()
            .with_sorted_first(None, &FINDING_ORDER)
            .unwrap();
        assert!(alone.equals_missing(&unit_two));
        let only_cross = AccountRuns::of(vec![unit_one.clear()], &FINDING_ORDER)
            .unwrap()
            .with_sorted_first(Some(cross.clone()), &FINDING_ORDER)
            .unwrap();
        assert!(only_cross.equals_missing(&cross));
        // Units that share an account: everything sorted after all.
        let shared = AccountRuns::of(vec![unit_one.clone(), unit_one.clone()], &FINDING_ORDER)
            .unwrap()
            .with_sorted_first(Some(cross.clone()), &FINDING_ORDER)
            .unwrap();
        let expected = sorted(
            concat_frames(vec![cross, unit_one.clone(), unit_one], || unreachable!()).unwrap(),
            &FINDING_ORDER,
        )
        .unwrap();
        assert!(shared.equals_missing(&expected));
    }

    #[test]
    fn more_specific_selector_wins_and_ignore_wins_ties() {
        let s = Selection {
            select: vec!["UPD".into()],
            ignore: vec!["UPD00".into()],
        };
        assert!(!s.is_selected("UPD001"));
        let s = Selection {
            select: vec!["UPD001".into()],
            ignore: vec!["UPD".into()],
        };
        assert!(s.is_selected("UPD001"));
        assert!(!s.is_selected("UPD002"));
        let s = Selection {
            select: vec!["UPD002".into()],
            ignore: vec!["UPD002".into()],
        };
        assert!(!s.is_selected("UPD002"));
        let s = Selection::default();
        assert!(s.is_selected("UPD003"));
    }

    #[test]
    fn unknown_selectors_are_errors_naming_them() {
        let s = Selection {
            select: vec!["XYZ9".into()],
            ignore: vec![],
        };
        assert!(s.validate().unwrap_err().to_string().contains("XYZ9"));
    }

    #[test]
    fn every_rule_doc_has_the_required_sections() {
        for rule in registry() {
            let doc = rule.info().doc();
            for section in [
                "# What it does",
                "# Why it matters",
                "# Example",
                "# How to fix",
                "# 整改建议",
            ] {
                assert!(
                    doc.contains(section),
                    "{} lacks {section}",
                    rule.info().code
                );
            }
        }
    }
}
