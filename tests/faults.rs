//! Faults: runs stopped at every step that changes the disk (the fault-injection hook aborts the
//! process as `kill -9` would), a disk that fills up (injected at every step, and a real small
//! tmpfs where one can be mounted), runs killed at random moments, two writers at once, and an
//! audit during an import. After each, the store equals a clean run's or the generation before
//! it exactly, and a re-run reconciles; a report folder is the previous report whole, or absent.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{p, text};
use govmedia_collectors::fault::FAULT_ENV;
use govmedia_collectors::layout::Manifest;
use govmedia_collectors::schema::TABLES;
use govmedia_collectors::store::Store;
use polars::prelude::*;

/// The first batch: three accounts, their posts and comments, and one bad line.
fn batch_a(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let mut accounts = String::new();
    let mut posts = String::new();
    let mut comments = String::new();
    for a in 1..=3 {
        accounts.push_str(&format!(
            "{{\"account_id\":\"weibo:{a}\",\"platform\":\"weibo\",\"name\":\"某市发布{a}\",\"first_seen\":\"2025-01-01T00:00:00+08:00\"}}\n"
        ));
        for i in 0..10 {
            posts.push_str(&format!(
                "{{\"account_id\":\"weibo:{a}\",\"post_id\":\"a{a}-{i}\",\"published_at\":\"2025-11-{:02}T10:00:00+08:00\",\"text\":\"通知{i}\",\"read_count\":{i}}}\n",
                i + 1
            ));
        }
        comments.push_str(&format!(
            "{{\"account_id\":\"weibo:{a}\",\"post_id\":\"a{a}-0\",\"comment_id\":\"c{a}\",\"created_at\":\"2025-11-02T09:00:00+08:00\",\"content\":\"请问\"}}\n"
        ));
    }
    posts.push_str(
        "{\"account_id\":\"weibo:1\",\"post_id\":\"bad\",\"published_at\":\"not a time\"}\n",
    );
    fs::write(dir.join("accounts.jsonl"), accounts).unwrap();
    fs::write(dir.join("posts.jsonl"), posts).unwrap();
    fs::write(dir.join("comments.jsonl"), comments).unwrap();
}

/// The second batch: a new account, updated counters on stored posts, new posts and comments in
/// every account, and another bad line.
fn batch_b(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let mut posts = String::new();
    for a in 1..=4 {
        for i in 0..6 {
            posts.push_str(&format!(
                "{{\"account_id\":\"weibo:{a}\",\"post_id\":\"a{a}-{i}\",\"published_at\":\"2025-11-{:02}T10:00:00+08:00\",\"text\":\"通知{i}\",\"read_count\":{}}}\n",
                i + 1,
                100 + i
            ));
            posts.push_str(&format!(
                "{{\"account_id\":\"weibo:{a}\",\"post_id\":\"b{a}-{i}\",\"published_at\":\"2025-11-{:02}T15:00:00+08:00\",\"text\":\"公告{i}\"}}\n",
                i + 20
            ));
        }
    }
    posts.push_str("{\"account_id\":\"weibo:2\",\"post_id\":\"bad2\"}\n");
    fs::write(
        dir.join("accounts.jsonl"),
        "{\"account_id\":\"weibo:4\",\"platform\":\"weibo\",\"name\":\"某区发布\",\"first_seen\":\"2025-01-01T00:00:00+08:00\"}\n",
    )
    .unwrap();
    fs::write(dir.join("posts.jsonl"), posts).unwrap();
    fs::write(
        dir.join("comments.jsonl"),
        "{\"account_id\":\"weibo:4\",\"post_id\":\"b4-0\",\"comment_id\":\"c4\",\"created_at\":\"2025-11-21T09:00:00+08:00\",\"content\":\"好\"}\n",
    )
    .unwrap();
}

/// What a store holds, as a reader sees it: every table's rows in key order, the quarantine's
/// lines, how many import-log lines.
#[derive(Debug, Default)]
struct Snapshot {
    tables: Vec<(String, DataFrame)>,
    quarantine: Vec<String>,
    log_lines: usize,
}

impl PartialEq for Snapshot {
    fn eq(&self, other: &Snapshot) -> bool {
        self.quarantine == other.quarantine
            && self.log_lines == other.log_lines
            && self.tables.len() == other.tables.len()
            && self
                .tables
                .iter()
                .zip(&other.tables)
                .all(|((a, x), (b, y))| a == b && x.equals_missing(y))
    }
}

fn committed_lines(store: &Path, file: &str, manifest: &Manifest) -> Vec<String> {
    let bytes = fs::read(store.join(file)).unwrap_or_default();
    let committed = manifest.logs.get(file).map_or(bytes.len(), |n| *n as usize);
    String::from_utf8(bytes[..committed.min(bytes.len())].to_vec())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn snapshot(store: &Path) -> Snapshot {
    let manifest = Manifest::read(store).unwrap();
    if manifest.generation == 0 {
        return Snapshot::default();
    }
    let reader = Store::open_for_reading(store).unwrap();
    let mut tables = Vec::new();
    for spec in TABLES {
        if let Some(df) = reader.read_table(spec).unwrap() {
            let keys: Vec<&str> = spec.key.to_vec();
            let sorted = df.lazy().sort(keys, Default::default()).collect().unwrap();
            tables.push((spec.name.to_string(), sorted));
        }
    }
    let mut quarantine = committed_lines(store, "quarantine.jsonl", &manifest);
    quarantine.sort();
    Snapshot {
        tables,
        quarantine,
        log_lines: committed_lines(store, "import_log.jsonl", &manifest).len(),
    }
}

/// Checks that a store holds nothing but what its manifest lists: no temporary files, no table
/// file of another generation.
fn assert_clean(store: &Path) {
    let manifest = Manifest::read(store).unwrap();
    let listed: Vec<PathBuf> = manifest.files().map(|f| store.join(f)).collect();
    for file in walk(store) {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !name.starts_with(".tmp-"),
            "left behind: {}",
            file.display()
        );
        assert!(
            !file
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with(".import-")),
            "left behind: {}",
            file.display()
        );
        if name.ends_with(".parquet") {
            assert!(listed.contains(&file), "not listed: {}", file.display());
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn import(input: &Path, store: &Path, fault: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govmedia"));
    cmd.args(["import", p(input), "--store", p(store)]);
    if let Some(fault) = fault {
        cmd.env(FAULT_ENV, fault);
    }
    cmd.output().unwrap()
}

/// Stopped by the injected abort (SIGABRT on Unix), not an ordinary exit.
fn was_aborted(out: &std::process::Output) -> bool {
    out.status.code().is_none() && text(out).contains("fault injection: aborting")
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    a: PathBuf,
    b: PathBuf,
    /// The store after importing batch A.
    base: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let (a, b) = (root.join("a"), root.join("b"));
    batch_a(&a);
    batch_b(&b);
    let base = root.join("base");
    let out = import(&a, &base, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    Setup {
        _dir: dir,
        root,
        a,
        b,
        base,
    }
}

/// Stops `import input` into copies of `start` at step 1, 2, … until a run finishes; after each
/// stop the store is `before` or `after` exactly, and re-running the import gives `after` with
/// nothing left behind. Returns the number of steps of a whole run.
fn stop_at_every_step(setup: &Setup, start: Option<&Path>, input: &Path, name: &str) -> u64 {
    let clean = setup.root.join(format!("{name}-clean"));
    if let Some(start) = start {
        copy_dir(start, &clean);
    }
    let out = import(input, &clean, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = snapshot(&clean);
    let before = start.map(snapshot).unwrap_or_default();
    assert_ne!(before, after);
    for step in 1..=400u64 {
        let trial = setup.root.join(format!("{name}-{step}"));
        if let Some(start) = start {
            copy_dir(start, &trial);
        }
        let out = import(input, &trial, Some(&format!("abort@{step}")));
        if out.status.success() {
            assert_eq!(snapshot(&trial), after, "a run with no fault struck");
            fs::remove_dir_all(&trial).unwrap();
            return step - 1;
        }
        assert!(was_aborted(&out), "step {step}: {}", text(&out));
        let now = if trial.join("store.json").exists() {
            snapshot(&trial)
        } else {
            Snapshot::default()
        };
        assert!(
            now == before || now == after,
            "stopped at step {step}: the store is neither the generation before nor after"
        );
        let again = import(input, &trial, None);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        assert_reconciled(&snapshot(&trial), &before, &after, now == after, step);
        assert_clean(&trial);
        fs::remove_dir_all(&trial).unwrap();
    }
    panic!("the import never finished");
}

/// After a stopped import and its re-run the store is what a clean run leaves; the import log
/// has one more run's lines when the stopped run had committed (it was an import too).
fn assert_reconciled(
    rerun: &Snapshot,
    before: &Snapshot,
    after: &Snapshot,
    stopped_run_committed: bool,
    at: impl std::fmt::Debug,
) {
    let one_run = after.log_lines - before.log_lines;
    let expected = Snapshot {
        tables: after.tables.clone(),
        quarantine: after.quarantine.clone(),
        log_lines: after.log_lines + if stopped_run_committed { one_run } else { 0 },
    };
    if *rerun != expected {
        for ((name, x), (_, y)) in rerun.tables.iter().zip(&expected.tables) {
            for c in x.columns() {
                let other = y.column(c.name()).unwrap();
                if !c
                    .as_materialized_series()
                    .equals_missing(other.as_materialized_series())
                {
                    eprintln!("{name}.{}: {:?} vs {:?}", c.name(), c.get(0), other.get(0));
                }
            }
        }
    }
    assert!(
        *rerun == expected,
        "re-run after a stop at {at:?}: {rerun:?}"
    );
}

#[test]
fn an_import_stopped_at_any_step_leaves_the_previous_generation_or_the_next_whole() {
    let setup = setup();
    let first = stop_at_every_step(&setup, None, &setup.a, "first");
    let second = stop_at_every_step(&setup, Some(&setup.base), &setup.b, "second");
    // Every table file, the logs and the manifest: a stop between any two of them was tried.
    eprintln!("stopped at each of {first} steps (first import) and {second} (second)");
    assert!(first >= 10 && second >= 8, "steps: {first}, {second}");
}

#[test]
fn a_full_disk_at_any_step_fails_the_import_naming_the_file_and_changes_nothing() {
    let setup = setup();
    let before = snapshot(&setup.base);
    let clean = setup.root.join("clean");
    copy_dir(&setup.base, &clean);
    assert!(import(&setup.b, &clean, None).status.success());
    let after = snapshot(&clean);
    let mut failed = 0;
    for step in 1..=400u64 {
        let trial = setup.root.join(format!("full-{step}"));
        copy_dir(&setup.base, &trial);
        let out = import(&setup.b, &trial, Some(&format!("enospc@{step}")));
        let said = text(&out);
        if out.status.success() {
            // Past the commit only the clean-up is left: a full disk there is not a failure.
            assert_eq!(snapshot(&trial), after, "step {step}: {said}");
            break;
        }
        failed += 1;
        assert_eq!(out.status.code(), Some(2), "step {step}: {said}");
        assert!(
            said.contains("No space left on device") && said.contains(p(&trial)),
            "step {step}: the message names the file and the cause: {said}"
        );
        assert_eq!(snapshot(&trial), before, "step {step}: the store changed");
        let again = import(&setup.b, &trial, None);
        assert!(again.status.success(), "{}", text(&again));
        assert_eq!(snapshot(&trial), after);
        assert_clean(&trial);
        fs::remove_dir_all(&trial).unwrap();
    }
    assert!(failed >= 8, "{failed} failing steps tried");
}

/// A real full disk: a 1 MiB tmpfs (where this test may mount one: root on Linux), a store on
/// it, and an import larger than what is left.
#[cfg(target_os = "linux")]
#[test]
fn a_real_full_disk_leaves_the_store_as_it_was() {
    let setup = setup();
    let mount_point = setup.root.join("small-disk");
    fs::create_dir_all(&mount_point).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs", p(&mount_point)])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root on Linux)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount_point.clone());
    let store = mount_point.join("store");
    assert!(import(&setup.a, &store, None).status.success());
    let before = snapshot(&store);
    // Incompressible text: about 3 MB of posts.
    let big = setup.root.join("big");
    fs::create_dir_all(&big).unwrap();
    let mut posts = String::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..3000 {
        let mut body = String::new();
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body.push_str(&format!("{x:016x}"));
        }
        posts.push_str(&format!(
            "{{\"account_id\":\"weibo:{}\",\"post_id\":\"big{i}\",\"published_at\":\"2025-11-20T10:00:00+08:00\",\"text\":\"{body}\"}}\n",
            i % 3 + 1
        ));
    }
    fs::write(big.join("posts.jsonl"), posts).unwrap();
    let out = import(&big, &store, None);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert_eq!(snapshot(&store), before, "the store changed");
    // The next writer clears what the failed one left; the store then takes a small import.
    let out = import(&setup.b, &store, None);
    assert!(out.status.success(), "{}", text(&out));
    assert_clean(&store);
}

/// Runs killed at random moments (seeded, so a failure can be replayed): the store is the
/// generation before or after, and a re-run reconciles.
#[test]
fn imports_killed_at_random_moments_leave_a_whole_generation() {
    let setup = setup();
    let clean = setup.root.join("clean");
    copy_dir(&setup.base, &clean);
    let started = Instant::now();
    assert!(import(&setup.b, &clean, None).status.success());
    let took = started.elapsed();
    let (before, after) = (snapshot(&setup.base), snapshot(&clean));
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut outcomes = [0usize; 2];
    for trial in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = took.mul_f64((seed % 1000) as f64 / 1000.0);
        let store = setup.root.join(format!("killed-{trial}"));
        copy_dir(&setup.base, &store);
        let mut child = Command::new(env!("CARGO_BIN_EXE_govmedia"))
            .args(["import", p(&setup.b), "--store", p(&store)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let now = snapshot(&store);
        assert!(
            now == before || now == after,
            "trial {trial} (seed {seed:#x}, killed after {delay:?}, {status}): neither generation"
        );
        outcomes[usize::from(now == after)] += 1;
        assert!(import(&setup.b, &store, None).status.success());
        assert_reconciled(&snapshot(&store), &before, &after, now == after, trial);
        assert_clean(&store);
    }
    eprintln!(
        "killed runs: {} left the generation before, {} the next",
        outcomes[0], outcomes[1]
    );
}

fn spawn_import(
    input: &Path,
    store: &Path,
    extra: &[&str],
    fault: Option<&str>,
) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govmedia"));
    cmd.args(["import", p(input), "--store", p(store)])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(fault) = fault {
        cmd.env(FAULT_ENV, fault);
    }
    cmd.spawn().unwrap()
}

/// Waits until a child writer says it is holding still mid-transaction.
fn wait_until_sleeping(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut said = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.contains("fault injection: sleeping") {
                let _ = tx.send(());
            }
            said.push_str(&line);
            said.push('\n');
        }
        said
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the writer reached its commit");
    reader
}

#[test]
fn two_writers_take_turns_and_neither_loses_rows() {
    let setup = setup();
    let sequential = setup.root.join("sequential");
    assert!(import(&setup.a, &sequential, None).status.success());
    assert!(import(&setup.b, &sequential, None).status.success());
    let expected = snapshot(&sequential);

    // Both at once, waiting for each other: the store holds both imports.
    let store = setup.root.join("both");
    let (mut first, mut second) = (
        spawn_import(&setup.a, &store, &["--wait"], None),
        spawn_import(&setup.b, &store, &["--wait"], None),
    );
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    // Whichever ran first, the store is the two imports one after the other.
    let reversed = setup.root.join("reversed");
    assert!(import(&setup.b, &reversed, None).status.success());
    assert!(import(&setup.a, &reversed, None).status.success());
    let both = snapshot(&store);
    assert!(both == expected || both == snapshot(&reversed), "{both:?}");

    // One holding the store mid-transaction: the other stops at once, naming it, and the
    // first commits whole.
    let store = setup.root.join("busy");
    copy_dir(&setup.base, &store);
    let mut holder = spawn_import(&setup.b, &store, &[], Some("sleep@committing"));
    let holder_said = wait_until_sleeping(&mut holder);
    let out = import(&setup.a, &store, None);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("the store is being written by pid"), "{said}");
    assert!(
        holder.wait().unwrap().success(),
        "{}",
        holder_said.join().unwrap()
    );
    let clean = setup.root.join("b-on-a");
    copy_dir(&setup.base, &clean);
    assert!(import(&setup.b, &clean, None).status.success());
    assert_eq!(snapshot(&store), snapshot(&clean));
}

fn audit(store: &Path, out: &Path, fault: Option<&str>) -> std::process::Output {
    let env: Vec<(&str, &str)> = fault.map(|f| (FAULT_ENV, f)).into_iter().collect();
    common::audit_at(store, out, &[], &env)
}

fn audited_accounts(out: &Path) -> u64 {
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    summary["accounts"].as_u64().unwrap()
}

#[test]
fn an_audit_during_an_import_reads_the_generation_before_it() {
    let setup = setup();
    let store = setup.root.join("store");
    copy_dir(&setup.base, &store);
    // The import holds still with every file of its generation written, before the commit.
    let mut writer = spawn_import(&setup.b, &store, &[], Some("sleep@committing"));
    let writer_said = wait_until_sleeping(&mut writer);
    let during = setup.root.join("during");
    let out = audit(&store, &during, None);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(audited_accounts(&during), 3, "the store as it was: batch A");
    assert!(
        writer.wait().unwrap().success(),
        "{}",
        writer_said.join().unwrap()
    );
    let after = setup.root.join("after");
    let out = audit(&store, &after, None);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        audited_accounts(&after),
        4,
        "and after the commit, batch B too"
    );
}

/// An audit reading a generation keeps its files on disk while an import commits the next one
/// and removes them the moment it lets go.
#[test]
fn a_commit_during_an_audit_keeps_the_audits_files_until_it_is_done() {
    let setup = setup();
    let store = setup.root.join("store");
    copy_dir(&setup.base, &store);
    let reader = Store::open_for_reading(&store).unwrap();
    assert!(import(&setup.b, &store, None).status.success());
    let posts = reader
        .read_table(&govmedia_collectors::schema::POSTS)
        .unwrap()
        .unwrap();
    assert_eq!(posts.height(), 30, "the reader's generation, whole");
    drop(reader);
    assert_clean(&store);
}

/// A store of batch A for an audit to read, and where its report goes (not there yet).
fn store_and_report(setup: &Setup) -> (PathBuf, PathBuf) {
    let store = setup.root.join("store");
    copy_dir(&setup.base, &store);
    (store, setup.root.join("report"))
}

/// A disk that fills while the account pages are written fails the audit with the page's name
/// (exit code 2), every page thread stops (the drawers waiting to hand a page over, too), and
/// no report is put in place.
#[test]
fn a_full_disk_while_the_pages_are_written_fails_the_audit_naming_the_page() {
    let setup = setup();
    let (store, out) = store_and_report(&setup);
    let run = audit(&store, &out, Some("enospc@writing a page"));
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    let named = said
        .lines()
        .any(|l| l.starts_with("error:") && l.contains("accounts") && l.contains(".html"));
    assert!(named, "the error names the page: {said}");
    assert!(!out.exists(), "no report put in place");
}

#[test]
fn an_audit_stopped_at_any_step_leaves_the_previous_report_whole() {
    let setup = setup();
    let (store, out) = store_and_report(&setup);
    // Stopped before it ever finished: no report at all, never half of one.
    let first = audit(&store, &out, Some("abort@3"));
    assert!(was_aborted(&first), "{}", text(&first));
    assert!(!out.exists());
    assert!(audit(&store, &out, None).status.success());
    let previous: Vec<(PathBuf, Vec<u8>)> = walk(&out)
        .into_iter()
        .map(|f| {
            (
                f.strip_prefix(&out).unwrap().to_path_buf(),
                fs::read(&f).unwrap(),
            )
        })
        .collect();
    assert!(import(&setup.b, &store, None).status.success());
    let snapshot_of_report = |out: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        walk(out)
            .into_iter()
            .map(|f| {
                (
                    f.strip_prefix(out).unwrap().to_path_buf(),
                    fs::read(&f).unwrap(),
                )
            })
            .collect()
    };
    // The last step: the new report whole and ready, the swap not done.
    let run = audit(&store, &out, Some("abort@putting the report in place"));
    assert!(was_aborted(&run), "{}", text(&run));
    assert!(snapshot_of_report(&out) == previous);
    // Steps spread over the whole run (a step per file written), then the last ones.
    let mut tried = 0;
    let (mut a, mut b) = (1u64, 2u64);
    loop {
        let run = audit(&store, &out, Some(&format!("abort@{a}")));
        if run.status.success() {
            break;
        }
        assert!(was_aborted(&run), "step {a}: {}", text(&run));
        let now = snapshot_of_report(&out);
        assert!(
            now == previous,
            "stopped at step {a}: the report is not the previous one"
        );
        tried += 1;
        (a, b) = (b, a + b);
    }
    assert!(tried >= 5, "{tried} stops tried");
    assert_eq!(audited_accounts(&out), 4);
    let leftovers: Vec<String> = fs::read_dir(&setup.root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".govmedia-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "killed audits' folders left: {leftovers:?}"
    );
}
