//! The report folder as a set: an audit writes into a temporary folder beside `--out` and swaps
//! it in whole when done, so a killed audit leaves the previous report untouched and a re-run
//! never leaves a larger earlier run's pages behind.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// A report being written: `dir()` while writing, [`StagedOutput::commit`] to put it in place.
pub struct StagedOutput {
    target: PathBuf,
    staging: tempfile::TempDir,
}

/// Whether a folder holds a govmedia report (or nothing): only such a folder is replaced.
fn replaceable(dir: &Path) -> anyhow::Result<bool> {
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    if entries.next().is_none() {
        return Ok(true);
    }
    Ok(dir.join("report.json").is_file()
        || (dir.join("index.html").is_file() && dir.join("findings.csv").is_file()))
}

impl StagedOutput {
    /// Checks `--out` and prepares its temporary sibling. Refused: a file, a folder holding
    /// something other than a govmedia report, a folder inside the store.
    pub fn prepare(target: &Path, store: Option<&Path>) -> anyhow::Result<StagedOutput> {
        if target.is_file() {
            bail!("--out {}: is a file; give a folder", target.display());
        }
        let absolute =
            |p: &Path| -> PathBuf { std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()) };
        if let Some(store) = store {
            let (out, store) = (absolute(target), absolute(store));
            if out.starts_with(&store) {
                bail!(
                    "--out {}: is inside the store {}; write reports outside it",
                    target.display(),
                    store.display()
                );
            }
        }
        if target.is_dir() && !replaceable(target)? {
            bail!(
                "--out {}: the folder holds files that are not a govmedia report; give a new or empty folder",
                target.display()
            );
        }
        let parent = absolute(target)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        // What killed audits left beside their reports (named with their pid).
        super::remove_abandoned(&parent, STAGING_PREFIX);
        let staging = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
            .tempdir_in(&parent)
            .with_context(|| format!("creating a temporary folder in {}", parent.display()))?;
        Ok(StagedOutput {
            target: target.to_path_buf(),
            staging,
        })
    }

    /// Where the report is written until it is committed.
    pub fn dir(&self) -> &Path {
        self.staging.path()
    }

    /// Puts the report in place of `--out`. On Linux the new folder and the old report change
    /// places in one step (`renameat2` with `RENAME_EXCHANGE`), so `--out` is at every moment
    /// one whole report; elsewhere (or on a file system without it) the old report is moved
    /// aside, the new one renamed in. The old report is then removed.
    pub fn commit(self) -> anyhow::Result<()> {
        let staged = self.staging.keep();
        #[cfg(unix)]
        {
            // A temporary folder is owner-only; a report folder is an ordinary folder.
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755));
        }
        govmedia_collectors::fault::step("putting the report in place")
            .with_context(|| format!("putting the report in {}", self.target.display()))?;
        if !self.target.exists() {
            std::fs::rename(&staged, &self.target)
                .with_context(|| format!("putting the report in {}", self.target.display()))?;
            return Ok(());
        }
        if exchange(&staged, &self.target).is_err() {
            // `staged` keeps its name, now holding the old report, in both cases below.
            let aside = staged.with_extension("old");
            std::fs::rename(&self.target, &aside).with_context(|| {
                format!("moving the old report {} aside", self.target.display())
            })?;
            std::fs::rename(&staged, &self.target)
                .with_context(|| format!("putting the report in {}", self.target.display()))?;
            std::fs::rename(&aside, &staged)
                .with_context(|| format!("moving the old report to {}", staged.display()))?;
        }
        std::fs::remove_dir_all(&staged)
            .with_context(|| format!("removing the old report {}", staged.display()))?;
        Ok(())
    }
}

/// The prefix of an audit's temporary report folder, followed by its pid.
const STAGING_PREFIX: &str = ".govmedia-report-";

/// Swaps two paths in one step.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths that outlive the call; AT_FDCWD resolves
    // relative paths as every other file call of the process does.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}
