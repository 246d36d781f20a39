//! `.zip` archives of any importable files. Entries are extracted to a temporary folder, with
//! the checks an archive from elsewhere needs: an entry with an absolute path or `..` is refused
//! (zip-slip), and the decompressed size and compression ratio are capped (zip bombs), each with
//! an error naming the archive and the entry. Sizes are enforced while copying, not trusted from
//! the archive's headers.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::Error;

/// Caps on what one archive may expand to.
#[derive(Debug, Clone, Copy)]
pub struct ZipLimits {
    /// Total decompressed bytes.
    pub max_total_bytes: u64,
    /// Decompressed / compressed size of one entry (beyond 1 MiB).
    pub max_ratio: u64,
    pub max_entries: usize,
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_total_bytes: 16 << 30,
            max_ratio: 200,
            max_entries: 200_000,
        }
    }
}

/// Extracts the archive's files under `into`; returns (extracted path, name inside the archive)
/// in archive order.
pub fn extract_zip(
    archive_path: &Path,
    into: &Path,
    limits: ZipLimits,
) -> Result<Vec<(PathBuf, String)>, Error> {
    let bad = |msg: String| Error::Input(format!("{}: {msg}", archive_path.display()));
    let file = fs::File::open(archive_path).map_err(|e| Error::io(archive_path, e))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| bad(format!("not a readable zip archive: {e}")))?;
    if archive.len() > limits.max_entries {
        return Err(bad(format!(
            "{} entries, over the cap of {}",
            archive.len(),
            limits.max_entries
        )));
    }
    let mut total: u64 = 0;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| bad(format!("entry {}: {e}", i + 1)))?;
        let name = entry.name().to_string();
        if entry.is_dir() {
            continue;
        }
        let Some(relative) = entry.enclosed_name() else {
            return Err(bad(format!(
                "entry {name:?} has an absolute path or `..`: refused (it would write outside \
                 the extraction folder)"
            )));
        };
        let compressed = entry.compressed_size().max(1);
        let declared = entry.size();
        if declared > 1 << 20 && declared / compressed > limits.max_ratio {
            return Err(bad(format!(
                "entry {name:?} expands {}× ({declared} bytes from {compressed}): refused as a \
                 likely zip bomb",
                declared / compressed
            )));
        }
        let target = into.join(&relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let mut writer = fs::File::create(&target).map_err(|e| Error::io(&target, e))?;
        let allowance = limits.max_total_bytes.saturating_sub(total);
        let mut limited = (&mut entry).take(allowance + 1);
        let mut buf = vec![0u8; 1 << 16];
        let mut written: u64 = 0;
        loop {
            let n = limited
                .read(&mut buf)
                .map_err(|e| bad(format!("entry {name:?}: {e}")))?;
            if n == 0 {
                break;
            }
            written += n as u64;
            if written > allowance {
                return Err(bad(format!(
                    "expands past {} bytes (at entry {name:?}): refused as a likely zip bomb",
                    limits.max_total_bytes
                )));
            }
            if written > 1 << 20 && written / compressed > limits.max_ratio {
                return Err(bad(format!(
                    "entry {name:?} expands over {}× its compressed size: refused as a likely \
                     zip bomb",
                    limits.max_ratio
                )));
            }
            writer
                .write_all(&buf[..n])
                .map_err(|e| Error::io(&target, e))?;
        }
        total += written;
        out.push((target, name));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn make_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(fs::File::create(path).unwrap());
        for (name, bytes) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn zip_slip_entries_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("evil.zip");
        make_zip(&zip, &[("ok.csv", b"a"), ("../../etc/passwd.csv", b"x")]);
        let into = dir.path().join("out");
        let err = extract_zip(&zip, &into, ZipLimits::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("evil.zip") && err.contains("../../etc/passwd.csv"),
            "{err}"
        );
        assert!(!dir.path().join("etc").exists());
    }

    #[test]
    fn a_zip_bomb_is_refused_while_copying() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("bomb.zip");
        let zeros = vec![0u8; 8 << 20];
        make_zip(&zip, &[("posts.jsonl", &zeros)]);
        let err = extract_zip(&zip, &dir.path().join("out"), ZipLimits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("zip bomb"), "{err}");
        let small = ZipLimits {
            max_total_bytes: 1000,
            max_ratio: 1_000_000,
            ..Default::default()
        };
        make_zip(&zip, &[("a.csv", &[b'x'; 800]), ("b.csv", &[b'y'; 800])]);
        let err = extract_zip(&zip, &dir.path().join("out2"), small)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expands past 1000 bytes") && err.contains("b.csv"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod import_tests {
    use std::fs;
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use crate::import::{ImportOptions, import_paths};
    use crate::store::Store;

    #[test]
    fn a_zip_of_several_formats_imports_and_a_refused_zip_does_not_stop_the_rest() {
        let input = tempfile::tempdir().unwrap();
        let mut w =
            zip::ZipWriter::new(fs::File::create(input.path().join("archive.zip")).unwrap());
        let files: [(&str, &str); 3] = [
            (
                "weibo/某市发布/1000000001.csv",
                "\u{feff}id,bid,正文,头条文章url,原始图片url,视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户\n\
                 4900000000000001\t,Mk1,通知,无,无,无,无,2023-05-04,微博,1,2,3,无,无\n",
            ),
            (
                "api/user_1000000001.json",
                r#"{"id":1000000001,"screen_name":"某市发布","followers_count":10,"verified":true}"#,
            ),
            (
                "canonical/posts.jsonl",
                "{\"account_id\":\"weibo:1000000001\",\"post_id\":\"x1\",\"published_at\":\"2024-01-01T08:00:00+08:00\"}\n",
            ),
        ];
        for (name, text) in files {
            w.start_file(name, SimpleFileOptions::default()).unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        w.finish().unwrap();
        let mut evil =
            zip::ZipWriter::new(fs::File::create(input.path().join("evil.zip")).unwrap());
        evil.start_file("../escape.csv", SimpleFileOptions::default())
            .unwrap();
        evil.write_all(b"x").unwrap();
        evil.finish().unwrap();

        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let report = import_paths(
            &store,
            &[input.path().to_path_buf()],
            &ImportOptions::default(),
        )
        .unwrap();
        let labels: Vec<&str> = report.files.iter().map(|f| f.source.as_str()).collect();
        assert!(
            labels
                .iter()
                .any(|l| l.ends_with("archive.zip!/weibo/某市发布/1000000001.csv")),
            "{labels:?}"
        );
        let evil = report
            .files
            .iter()
            .find(|f| f.source.ends_with("evil.zip"))
            .unwrap();
        assert!(evil.error.as_ref().unwrap().contains("../escape.csv"));
        let ok: Vec<_> = report.files.iter().filter(|f| f.error.is_none()).collect();
        assert_eq!(ok.len(), 3);
        assert!(ok.iter().all(|f| f.reconciles() && f.quarantined == 0));
        assert_eq!(report.total().imported(), 3);
        assert!(!input.path().parent().unwrap().join("escape.csv").exists());
        let leftovers = fs::read_dir(store_dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".extract-")
            })
            .count();
        assert_eq!(leftovers, 0);
    }
}
