//! The store's layout (version 3): every table is a folder. The tables that grow with posts
//! (`posts`, `comments`) are Hive-style partitions `TABLE/bucket=NN/part-GGGGGGGG.parquet`, one
//! bucket per account hash range; the small tables are one file `TABLE/part-GGGGGGGG.parquet`.
//! `GGGGGGGG` is the generation that wrote the file. `store.json`, the manifest, records the
//! layout version, the hash, the current generation, and per table its bucket count, rows and
//! the files that make it up; a file it does not list is not part of the store.
//!
//! Layout 1 kept every table in one file (`posts.parquet`); layout 2 had the buckets but kept
//! the small tables as `TABLE.parquet` and listed no files. Both are upgraded when opened.
//!
//! A bucket is the top `log2(buckets)` bits of the 64-bit FNV-1a hash of the account id's UTF-8
//! bytes (`buckets` a power of two; bucket 0 when there is one): stable across runs, machines
//! and platforms, and contiguous in hash order, so rows sorted by hash fall into buckets in one
//! pass whatever the count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::schema::TableSpec;

pub const LAYOUT_VERSION: u32 = 3;
pub const MANIFEST_FILE: &str = "store.json";
pub const BUCKET_HASH: &str = "top log2(buckets) bits of FNV-1a-64(account_id as UTF-8)";
/// A new partitioned table gets about this many rows per bucket. An audit holds two buckets'
/// units at a time: 2^18 rows measured as fast as 2^19 with a quarter less memory (20,000
/// accounts: 0.80 GB, was 1.06 GB); 2^17 was slower.
pub const TARGET_BUCKET_ROWS: u64 = 1 << 18;
pub const MAX_BUCKETS: u32 = 1 << 10;
/// The file a generation writes for a table or one of its buckets.
pub fn part_file(generation: u64) -> String {
    format!("part-{generation:08}.parquet")
}

/// Whether a table is stored in buckets (it grows with the posts) or as one file.
pub fn is_partitioned(spec: &TableSpec) -> bool {
    matches!(spec.name, "posts" | "comments")
}

/// 64-bit FNV-1a.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The hash an account's rows are bucketed by.
pub fn account_hash(account_id: &str) -> u64 {
    fnv1a64(account_id.as_bytes())
}

/// The bucket of a hash among `buckets` (a power of two).
pub fn bucket_of_hash(hash: u64, buckets: u32) -> u32 {
    debug_assert!(buckets.is_power_of_two());
    let bits = buckets.trailing_zeros();
    if bits == 0 {
        0
    } else {
        (hash >> (64 - bits)) as u32
    }
}

pub fn bucket_of(account_id: &str, buckets: u32) -> u32 {
    bucket_of_hash(account_hash(account_id), buckets)
}

/// The inclusive hash range of a bucket.
pub fn bucket_hash_range(bucket: u32, buckets: u32) -> (u64, u64) {
    let bits = buckets.trailing_zeros();
    if bits == 0 {
        return (0, u64::MAX);
    }
    let lo = u64::from(bucket) << (64 - bits);
    (lo, lo | (u64::MAX >> bits))
}

/// The bucket count for a new partitioned table of about `rows` rows, `target` rows a bucket.
pub fn buckets_for(rows: u64, target: u64) -> u32 {
    let wanted = rows.div_ceil(target.max(1)).max(1);
    wanted.next_power_of_two().min(u64::from(MAX_BUCKETS)) as u32
}

/// `TABLE/bucket=NN`: two digits at least, as many as the largest bucket needs.
pub fn bucket_dir(store: &Path, table: &str, bucket: u32, buckets: u32) -> PathBuf {
    let width = (buckets.saturating_sub(1)).to_string().len().max(2);
    store.join(table).join(format!("bucket={bucket:0width$}"))
}

/// What `store.json` says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub layout_version: u32,
    pub hash: String,
    /// Counts the commits: each import, collection or link check that changed the store.
    #[serde(default)]
    pub generation: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub committed_at: Option<String>,
    #[serde(default)]
    pub tables: BTreeMap<String, TableEntry>,
    /// The committed length in bytes of each append-only log (`quarantine.jsonl`,
    /// `import_log.jsonl`): what a writer killed before its commit appended beyond it is cut
    /// off by the next writer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub logs: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    /// The bucket count of a partitioned table.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub buckets: Option<u32>,
    pub rows: u64,
    /// The table's files, relative to the store with `/` separators, in bucket order.
    #[serde(default)]
    pub files: Vec<String>,
}

impl Default for Manifest {
    fn default() -> Manifest {
        Manifest {
            layout_version: LAYOUT_VERSION,
            hash: BUCKET_HASH.into(),
            generation: 0,
            committed_at: None,
            tables: BTreeMap::new(),
            logs: BTreeMap::new(),
        }
    }
}

impl Manifest {
    /// Reads `store.json`; the default for a store without one.
    pub fn read(store: &Path) -> Result<Manifest, Error> {
        Ok(Manifest::read_if_present(store)?.unwrap_or_default())
    }

    /// Reads `store.json`, `None` when there is none.
    pub fn read_if_present(store: &Path) -> Result<Option<Manifest>, Error> {
        let path = store.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        if manifest.layout_version > LAYOUT_VERSION {
            return Err(Error::Input(format!(
                "{}: layout version {} is newer than this govmedia reads ({LAYOUT_VERSION}); \
                 upgrade govmedia",
                path.display(),
                manifest.layout_version
            )));
        }
        Ok(Some(manifest))
    }

    /// Writes `store.json` atomically.
    pub fn write(&self, store: &Path) -> Result<(), Error> {
        let path = store.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        crate::store::write_atomic(&path, |f| {
            std::io::Write::write_all(f, text.as_bytes())?;
            std::io::Write::write_all(f, b"\n")
        })?;
        // The rename itself must be on disk before anyone is told the commit happened.
        crate::store::sync_dir(store)
    }

    /// Every file of every table, relative to the store.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.tables
            .values()
            .flat_map(|t| t.files.iter().map(String::as_str))
    }

    pub fn buckets(&self, table: &str) -> Option<u32> {
        self.tables.get(table).and_then(|t| t.buckets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a_64_and_buckets_are_stable() {
        // Reference values of FNV-1a-64.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        // Written down once: the same account lands in the same bucket on every machine.
        assert_eq!(bucket_of("wechat:gh_5a1700000000", 1), 0);
        let pinned: Vec<u32> = ["wechat:gh_a", "weibo:1", "app:2", "weibo:甲", "weibo:乙"]
            .iter()
            .map(|a| bucket_of(a, 64))
            .collect();
        assert_eq!(pinned, PINNED_BUCKETS_OF_64);
    }

    const PINNED_BUCKETS_OF_64: [u32; 5] = [30, 25, 61, 13, 20];

    #[test]
    fn buckets_split_the_hash_range_into_contiguous_parts() {
        for buckets in [1u32, 2, 4, 64, 1024] {
            let mut next = 0u64;
            for b in 0..buckets {
                let (lo, hi) = bucket_hash_range(b, buckets);
                assert_eq!(lo, next);
                assert_eq!(bucket_of_hash(lo, buckets), b);
                assert_eq!(bucket_of_hash(hi, buckets), b);
                next = hi.wrapping_add(1);
            }
            assert_eq!(next, 0, "the last range ends at u64::MAX");
        }
        // A bucket of 2^k is the union of two buckets of 2^(k+1): a split keeps every row.
        let h = account_hash("weibo:1");
        assert_eq!(bucket_of_hash(h, 128) / 2, bucket_of_hash(h, 64));
    }

    #[test]
    fn bucket_counts_follow_the_data_size() {
        let t = TARGET_BUCKET_ROWS;
        assert_eq!(buckets_for(0, t), 1);
        assert_eq!(buckets_for(t, t), 1);
        assert_eq!(buckets_for(t + 1, t), 2);
        assert_eq!(buckets_for(28_000_000, t), 128);
        assert_eq!(buckets_for(u64::MAX / 2, t), MAX_BUCKETS);
        assert_eq!(buckets_for(40, 4), 16);
        assert_eq!(
            bucket_dir(Path::new("s"), "posts", 7, 64),
            Path::new("s/posts/bucket=07")
        );
        assert_eq!(
            bucket_dir(Path::new("s"), "posts", 7, 1024),
            Path::new("s/posts/bucket=0007")
        );
    }
}
