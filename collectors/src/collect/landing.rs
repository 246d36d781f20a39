//! The landing folder of one account and its checkpoint: every raw response is saved unchanged
//! under `landing/<platform>/<account>/<run>/`, and after each saved page the checkpoint
//! (`landing/<platform>/<account>/checkpoint.json`) records, per endpoint, where to continue.
//! Both are written atomically (temp file + rename), page first: a crash at any point leaves at
//! worst a page saved whose cursor was not yet advanced, and the resumed run fetches that page
//! again under the same file name, so nothing is lost and nothing is doubled. The import that
//! follows de-duplicates by key, so importing a run folder twice changes nothing either.
//!
//! A run that finished and was imported is closed; the next `collect` starts a new run folder,
//! which keeps every earlier response for re-normalising without re-collecting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::Error;
use crate::store::write_atomic;

const CHECKPOINT: &str = "checkpoint.json";

/// Where one account's collection stands.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    /// The run folder's name (`run-20261121T093000Z`).
    pub run: String,
    pub started_at: String,
    /// The `--since` the run was started with; a resumed run keeps it.
    pub since: Option<NaiveDate>,
    /// Per endpoint ("published", "timeline", "comments" …).
    pub steps: BTreeMap<String, Step>,
    /// Every step finished.
    pub collected: bool,
    /// The run folder was imported after every step finished: the run is closed.
    pub imported: bool,
    /// Why the run paused early (e.g. the daily quota), with where it resumes.
    pub stopped: Option<String>,
}

/// One endpoint's progress.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Step {
    /// The next request's position (offset, page, max_id, date …); null before the first.
    pub cursor: Json,
    pub done: bool,
    pub pages: u64,
    pub items: u64,
}

/// One account's landing folder and checkpoint.
pub struct Landing {
    account_dir: PathBuf,
    run_dir: PathBuf,
    state: Checkpoint,
    /// The run continues one that stopped (crash, quota, error).
    pub resumed: bool,
}

impl Landing {
    /// Opens the account's open run, or starts a new one.
    pub fn open(
        store_dir: &Path,
        platform: &str,
        account: &str,
        since: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<Landing, Error> {
        check_folder_name(account)?;
        let account_dir = store_dir.join("landing").join(platform).join(account);
        let path = account_dir.join(CHECKPOINT);
        let previous = match std::fs::read_to_string(&path) {
            Ok(text) => Some(serde_json::from_str::<Checkpoint>(&text).map_err(|e| {
                Error::Input(format!(
                    "{}: unreadable checkpoint ({e}); move it away to start a new run",
                    path.display()
                ))
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(&path, e)),
        };
        let (state, resumed) = match previous {
            Some(open) if !open.imported => (open, true),
            _ => {
                let mut run = format!("run-{}", now.format("%Y%m%dT%H%M%SZ"));
                let mut n = 1;
                while account_dir.join(&run).exists() {
                    n += 1;
                    run = format!("run-{}-{n}", now.format("%Y%m%dT%H%M%SZ"));
                }
                (
                    Checkpoint {
                        run,
                        started_at: now.to_rfc3339(),
                        since,
                        ..Default::default()
                    },
                    false,
                )
            }
        };
        let run_dir = account_dir.join(&state.run);
        std::fs::create_dir_all(&run_dir).map_err(|e| Error::io(&run_dir, e))?;
        let mut landing = Landing {
            account_dir,
            run_dir,
            state,
            resumed,
        };
        landing.state.stopped = None;
        landing.persist()?;
        Ok(landing)
    }

    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.state
    }

    pub fn since(&self) -> Option<NaiveDate> {
        self.state.since
    }

    pub fn step(&self, name: &str) -> Step {
        self.state.steps.get(name).cloned().unwrap_or_default()
    }

    /// Saves one raw response under the run folder (`file` may name a sub-folder), then moves
    /// the step's cursor to `next` (`None` = the step is done).
    pub fn save_page(
        &mut self,
        step: &str,
        file: &str,
        text: &str,
        items: u64,
        next: Option<Json>,
    ) -> Result<PathBuf, Error> {
        let path = self.run_dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        write_atomic(&path, |f| std::io::Write::write_all(f, text.as_bytes()))?;
        let entry = self.state.steps.entry(step.to_string()).or_default();
        entry.pages += 1;
        entry.items += items;
        match next {
            Some(cursor) => entry.cursor = cursor,
            None => entry.done = true,
        }
        self.persist()?;
        Ok(path)
    }

    /// Moves a step's cursor without a saved page (e.g. past an article without comments).
    pub fn advance(&mut self, step: &str, next: Option<Json>) -> Result<(), Error> {
        let entry = self.state.steps.entry(step.to_string()).or_default();
        match next {
            Some(cursor) => entry.cursor = cursor,
            None => entry.done = true,
        }
        self.persist()
    }

    /// The first unfinished step and its cursor (`published at {"offset":20}`), for messages.
    pub fn resume_point(&self) -> String {
        match self.state.steps.iter().find(|(_, s)| !s.done) {
            Some((name, step)) if !step.cursor.is_null() => format!("{name} at {}", step.cursor),
            Some((name, _)) => format!("{name} from its start"),
            None => "the next step".into(),
        }
    }

    /// Records why the run stops early; the checkpoint keeps where to resume.
    pub fn stop(&mut self, why: String) -> Result<(), Error> {
        self.state.stopped = Some(why);
        self.persist()
    }

    pub fn mark_collected(&mut self) -> Result<(), Error> {
        self.state.collected = true;
        self.persist()
    }

    /// Closes the run once its folder is in the store.
    pub fn mark_imported(&mut self) -> Result<(), Error> {
        if self.state.collected {
            self.state.imported = true;
            self.persist()?;
        }
        Ok(())
    }

    fn persist(&self) -> Result<(), Error> {
        let path = self.account_dir.join(CHECKPOINT);
        let text = serde_json::to_string_pretty(&self.state)
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        write_atomic(&path, |f| std::io::Write::write_all(f, text.as_bytes()))
    }
}

/// Gives `later` the modification time of `first`: the importers take a menu file's time as its
/// snapshot time, so the pages or readings of one menu stay one snapshot.
pub fn same_snapshot_time(first: &Path, later: &Path) -> Result<(), Error> {
    let Ok(modified) = std::fs::metadata(first).and_then(|m| m.modified()) else {
        return Ok(());
    };
    let file = std::fs::File::options()
        .write(true)
        .open(later)
        .map_err(|e| Error::io(later, e))?;
    file.set_modified(modified).map_err(|e| Error::io(later, e))
}

/// Account ids name folders: refuse anything that could leave the landing folder.
pub fn check_folder_name(id: &str) -> Result<(), Error> {
    let fine = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if fine {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "account id {id:?}: use letters, digits, '_', '-' or '.' only (it names a folder)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stopped_run_resumes_and_a_closed_run_starts_a_new_folder() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let mut first = Landing::open(dir.path(), "weibo", "123", None, now).unwrap();
        assert!(!first.resumed);
        first
            .save_page(
                "timeline",
                "timeline/p0001.json",
                "{}",
                3,
                Some(json!({"page": 2})),
            )
            .unwrap();
        let run = first.checkpoint().run.clone();
        drop(first);
        let mut again = Landing::open(dir.path(), "weibo", "123", None, now).unwrap();
        assert!(again.resumed);
        assert_eq!(again.checkpoint().run, run);
        assert_eq!(again.step("timeline").cursor, json!({"page": 2}));
        assert_eq!(again.step("timeline").items, 3);
        again.mark_imported().unwrap();
        assert!(!again.checkpoint().imported, "not collected: still open");
        again.mark_collected().unwrap();
        again.mark_imported().unwrap();
        let next = Landing::open(dir.path(), "weibo", "123", None, now).unwrap();
        assert!(!next.resumed);
        assert_ne!(next.checkpoint().run, run, "a new run folder");
        assert!(
            dir.path()
                .join("landing/weibo/123")
                .join(&run)
                .join("timeline/p0001.json")
                .exists()
        );
    }

    #[test]
    fn account_ids_cannot_leave_the_landing_folder() {
        for bad in ["..", "a/b", "", "x\\y", "é"] {
            assert!(check_folder_name(bad).is_err(), "{bad}");
        }
        assert!(check_folder_name("gh_abc123").is_ok());
    }
}
