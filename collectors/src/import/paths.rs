//! The inputs of an import: files, folders walked in name order (links, special files and
//! unreadable entries reported one by one) and archives expanded.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::Error;

/// Expands files, folders (recursively, in name order, hidden entries skipped) and `.zip`
/// archives (extracted under `scratch`, nested archives too). A refused archive is a file with a
/// problem, reported like any file that cannot be read; the others still import.
///
/// Inside a folder, a symbolic link is not followed unless `follow_symlinks`, and then only to
/// a target inside the folder named on the command line; a FIFO, socket or device, a dangling
/// link or an unreadable entry is reported as that entry's problem while the rest imports.
pub fn expand_paths(
    paths: &[PathBuf],
    scratch: &Path,
    follow_symlinks: bool,
) -> Result<Vec<SourceFile>, Error> {
    pub(super) fn is_zip(path: &Path) -> bool {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    }
    /// Why a folder entry is not walked, if it is not: links, special files, unreadable.
    pub(super) fn entry_problem(
        entry: &Path,
        root: &Path,
        follow_symlinks: bool,
    ) -> Option<String> {
        let shown = entry.display();
        let meta = match fs::symlink_metadata(entry) {
            Ok(m) => m,
            Err(e) => return Some(format!("{shown}: cannot be read: {e}")),
        };
        if meta.file_type().is_symlink() {
            if !follow_symlinks {
                return Some(format!(
                    "{shown}: a symbolic link, not followed (--follow-symlinks imports links \
                     that stay inside the input folder)"
                ));
            }
            return match (fs::canonicalize(entry), fs::canonicalize(root)) {
                (Ok(target), Ok(root)) if target.starts_with(&root) => None,
                (Ok(target), _) => Some(format!(
                    "{shown}: a symbolic link to {}, outside the input folder: not followed",
                    target.display()
                )),
                (Err(e), _) => Some(format!("{shown}: a dangling symbolic link: {e}")),
            };
        }
        if !meta.is_file() && !meta.is_dir() {
            return Some(format!(
                "{shown}: not a regular file (a FIFO, socket or device): skipped"
            ));
        }
        None
    }
    #[allow(clippy::too_many_arguments)]
    pub(super) fn walk(
        path: &Path,
        label: Option<String>,
        scratch: &Path,
        depth: usize,
        root: &Path,
        follow_symlinks: bool,
        out: &mut Vec<SourceFile>,
    ) -> Result<(), Error> {
        let label_of = |p: &Path| -> Option<String> {
            label.as_ref().map(|l| {
                format!(
                    "{l}/{}",
                    p.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                )
            })
        };
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    !p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            entries.sort();
            for entry in entries {
                let entry_label = label_of(&entry);
                if let Some(problem) = entry_problem(&entry, root, follow_symlinks) {
                    out.push(SourceFile {
                        path: entry,
                        label: entry_label,
                        problem: Some(problem),
                    });
                    continue;
                }
                walk(
                    &entry,
                    entry_label,
                    scratch,
                    depth,
                    root,
                    follow_symlinks,
                    out,
                )?;
            }
            Ok(())
        } else if path.is_file() && is_zip(path) {
            let shown = label.clone().unwrap_or_else(|| path.display().to_string());
            let into = scratch.join(format!("zip-{}", out.len()));
            let refused = |problem: String| SourceFile {
                path: path.to_path_buf(),
                label: label.clone(),
                problem: Some(problem),
            };
            if depth >= 3 {
                out.push(refused(format!(
                    "{shown}: archives nested deeper than 3 levels are refused"
                )));
                return Ok(());
            }
            match archive::extract_zip(path, &into, archive::ZipLimits::default()) {
                Ok(entries) => {
                    for (extracted, name) in entries {
                        walk(
                            &extracted,
                            Some(format!("{shown}!/{name}")),
                            scratch,
                            depth + 1,
                            &into,
                            false,
                            out,
                        )?;
                    }
                }
                Err(e) => out.push(refused(e.to_string())),
            }
            Ok(())
        } else if path.is_file() {
            out.push(SourceFile {
                path: path.to_path_buf(),
                label,
                problem: None,
            });
            Ok(())
        } else {
            Err(Error::Input(format!(
                "{}: no such file or folder",
                path.display()
            )))
        }
    }
    let mut out = Vec::new();
    for p in paths {
        // A path named on the command line is the user's choice: followed as given.
        walk(p, None, scratch, 0, p, follow_symlinks, &mut out)?;
    }
    Ok(out)
}
