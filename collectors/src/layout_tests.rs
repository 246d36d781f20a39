//! The bucketed store end to end: imports into many small buckets give the same table as one
//! bucket, each account lives in its own bucket, re-imports change no byte, a layout-1 store is
//! upgraded with nothing lost (also after an upgrade that was stopped), and other engines read
//! the layout as a Hive-partitioned dataset.

use std::fs;
use std::path::Path;

use polars::prelude::*;

use crate::import::{ImportOptions, frame_from_jsonl, import_paths};
use crate::layout::{MANIFEST_FILE, Manifest, bucket_of};
use crate::schema::{ACCOUNTS, COMMENTS, POSTS};
use crate::store::Store;

/// 40 posts of 7 accounts (with ids differing only in non-ASCII characters) and 12 comments.
fn archive(dir: &Path) {
    let accounts = [
        "weibo:1",
        "weibo:2",
        "weibo:3",
        "weibo:甲",
        "weibo:乙",
        "app:x",
        "wechat:gh_q",
    ];
    let mut posts = String::new();
    for i in 0..40 {
        posts.push_str(&format!(
            "{{\"account_id\":\"{}\",\"post_id\":\"p{i}\",\"published_at\":{},\"read_count\":{i}}}\n",
            accounts[i % 7],
            1_700_000_000 + i * 3600
        ));
    }
    let mut comments = String::new();
    for i in 0..12 {
        comments.push_str(&format!(
            "{{\"account_id\":\"{}\",\"post_id\":\"p{i}\",\"comment_id\":\"c{i}\",\"created_at\":{},\"content\":\"好\"}}\n",
            accounts[i % 7],
            1_700_000_100 + i * 3600
        ));
    }
    fs::write(dir.join("posts.jsonl"), posts).unwrap();
    fs::write(dir.join("comments.jsonl"), comments).unwrap();
}

fn sorted(df: DataFrame) -> DataFrame {
    df.lazy()
        .sort(["account_id", "post_id"], Default::default())
        .collect()
        .unwrap()
}

fn import(store: &Store, input: &Path, batch_rows: Option<usize>) {
    let opts = ImportOptions {
        batch_rows,
        ..Default::default()
    };
    import_paths(store, &[input.to_path_buf()], &opts).unwrap();
}

fn bucket_bytes(store: &Store) -> Vec<Vec<u8>> {
    [&POSTS, &COMMENTS]
        .iter()
        .flat_map(|t| store.partition_files(t).unwrap())
        .map(|p| fs::read(p).unwrap())
        .collect()
}

#[test]
fn many_small_buckets_hold_the_same_table_as_one_and_each_account_in_its_bucket() {
    let input = tempfile::tempdir().unwrap();
    archive(input.path());
    let (one_dir, many_dir, spilled_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let one = Store::open(one_dir.path()).unwrap();
    let many = Store::open_sized(many_dir.path(), 4).unwrap();
    let spilled = Store::open_sized(spilled_dir.path(), 4).unwrap();
    import(&one, input.path(), None);
    import(&many, input.path(), None);
    // A row budget of 6 spills the import and merges it bucket by bucket from the spill files.
    import(&spilled, input.path(), Some(6));

    let manifest = many.manifest().unwrap();
    assert_eq!(manifest.layout_version, crate::layout::LAYOUT_VERSION);
    assert_eq!(manifest.buckets("posts"), Some(16));
    assert_eq!(manifest.tables["posts"].rows, 40);
    assert_eq!(manifest.tables["comments"].rows, 12);
    assert_eq!(one.manifest().unwrap().buckets("posts"), Some(1));
    let table = |s: &Store| sorted(s.read_table(&POSTS).unwrap().unwrap());
    assert!(table(&one).equals_missing(&table(&many)));
    assert_eq!(bucket_bytes(&many), bucket_bytes(&spilled));

    // Every bucket file holds the accounts of that bucket only.
    for file in many.partition_files(&POSTS).unwrap() {
        let folder = file
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let bucket: u32 = folder.trim_start_matches("bucket=").parse().unwrap();
        let df = ParquetReader::new(fs::File::open(&file).unwrap())
            .finish()
            .unwrap();
        for id in df
            .column("account_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
        {
            assert_eq!(bucket_of(id, 16), bucket, "{id} in {folder}");
        }
    }
    assert_ne!(bucket_of("weibo:甲", 16), bucket_of("weibo:乙", 16));

    // A re-import, in memory or spilled, changes no byte.
    let before = bucket_bytes(&many);
    import(&many, input.path(), None);
    import(&many, input.path(), Some(6));
    assert_eq!(bucket_bytes(&many), before);
}

/// Writes a layout-1 store: one file per table, as before buckets.
fn v1_store(dir: &Path, input: &Path) -> DataFrame {
    let posts = frame_from_jsonl(
        &POSTS,
        &fs::read_to_string(input.join("posts.jsonl")).unwrap(),
        "posts.jsonl",
    )
    .unwrap();
    let mut sorted_posts = sorted(posts);
    ParquetWriter::new(fs::File::create(dir.join("posts.parquet")).unwrap())
        .finish(&mut sorted_posts)
        .unwrap();
    let mut accounts = frame_from_jsonl(
        &ACCOUNTS,
        "{\"account_id\":\"weibo:1\",\"platform\":\"weibo\",\"name\":\"某市发布\"}\n{\"account_id\":\"weibo:甲\",\"platform\":\"weibo\",\"name\":\"某市发布\"}\n",
        "accounts.jsonl",
    )
    .unwrap();
    ParquetWriter::new(fs::File::create(dir.join("accounts.parquet")).unwrap())
        .finish(&mut accounts)
        .unwrap();
    sorted_posts
}

#[test]
fn a_layout_1_store_is_upgraded_in_place_with_nothing_lost() {
    let input = tempfile::tempdir().unwrap();
    archive(input.path());
    let dir = tempfile::tempdir().unwrap();
    let original = v1_store(dir.path(), input.path());
    // An upgrade that was stopped left a stray bucket behind: the next open starts again.
    let stray = dir.path().join("posts/bucket=03");
    fs::create_dir_all(&stray).unwrap();
    fs::write(stray.join("part-0.parquet"), b"half written").unwrap();

    let store = Store::open_sized(dir.path(), 4).unwrap();
    assert!(!dir.path().join("posts.parquet").exists());
    assert!(dir.path().join(MANIFEST_FILE).is_file());
    let upgraded = sorted(store.read_table(&POSTS).unwrap().unwrap());
    assert!(upgraded.equals_missing(&original));
    let manifest = Manifest::read(dir.path()).unwrap();
    assert_eq!(manifest.buckets("posts"), Some(16));
    assert_eq!(manifest.tables["posts"].rows, 40);
    assert_eq!(manifest.tables["accounts"].rows, 2);
    // Opening again changes nothing; an audit-style open of the existing store works too.
    let again = Store::open_existing(dir.path()).unwrap();
    assert!(sorted(again.read_table(&POSTS).unwrap().unwrap()).equals_missing(&original));
}

#[test]
fn a_store_from_a_newer_govmedia_is_refused_naming_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(MANIFEST_FILE),
        r#"{"layout_version": 99, "hash": "x", "tables": {}}"#,
    )
    .unwrap();
    let err = Store::open(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("store.json") && err.contains("layout version 99"),
        "{err}"
    );
}

#[test]
fn polars_reads_the_store_as_a_hive_partitioned_dataset() {
    let input = tempfile::tempdir().unwrap();
    archive(input.path());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sized(dir.path(), 4).unwrap();
    import(&store, input.path(), None);
    // What docs/schema.md tells users of other engines to write.
    let pattern = format!("{}/posts/**/*.parquet", dir.path().display());
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_enabled(),
        ..Default::default()
    };
    let df = LazyFrame::scan_parquet(PlRefPath::new(pattern.as_str()), args)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(df.height(), 40);
    let buckets = df
        .column("bucket")
        .unwrap()
        .cast(&DataType::UInt32)
        .unwrap();
    let ids = df.column("account_id").unwrap().str().unwrap().clone();
    for (id, bucket) in ids.iter().zip(buckets.u32().unwrap().iter()) {
        assert_eq!(bucket_of(id.unwrap(), 16), bucket.unwrap());
    }
}

/// A store has one bucket count for all its partitioned tables (comments adopt the posts'), so
/// an audit unit is one bucket of each table; the units' rows are the tables' rows, each once.
#[test]
fn the_audit_units_split_every_partitioned_table_by_account() {
    let input = tempfile::tempdir().unwrap();
    archive(input.path());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sized(dir.path(), 4).unwrap();
    import(&store, input.path(), None);
    let manifest = store.manifest().unwrap();
    // 12 comments alone would make 4 buckets of 4 rows; they share the posts' 16.
    assert_eq!(manifest.buckets("posts"), Some(16));
    assert_eq!(manifest.buckets("comments"), Some(16));
    let units = store.audit_units().unwrap();
    assert_eq!(units, 16);
    for (spec, key) in [(&POSTS, "post_id"), (&COMMENTS, "comment_id")] {
        let mut seen = Vec::new();
        for (unit, scan) in (0..).zip(store.scan_units(spec, units).unwrap()) {
            let df = scan.collect().unwrap();
            let ids = df.column("account_id").unwrap().str().unwrap().clone();
            let keys = df.column(key).unwrap().str().unwrap().clone();
            for (id, k) in ids.iter().zip(keys.iter()) {
                assert_eq!(bucket_of(id.unwrap(), units), unit);
                seen.push(k.unwrap().to_string());
            }
        }
        seen.sort();
        let mut all: Vec<String> = store
            .read_table(spec)
            .unwrap()
            .unwrap()
            .column(key)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|k| k.unwrap().to_string())
            .collect();
        all.sort();
        assert_eq!(seen, all, "{}", spec.name);
    }
    // Fewer units than buckets: a unit is several whole buckets.
    let halves: usize = store
        .scan_units(&POSTS, 2)
        .unwrap()
        .into_iter()
        .map(|scan| scan.collect().unwrap().height())
        .sum();
    assert_eq!(halves, 40);
}

/// A file the manifest does not list is not part of the store (the next writer removes it); a
/// listed bucket beyond the bucket count is an error naming it, never skipped.
#[test]
fn a_bucket_beyond_the_manifest_is_an_error_naming_its_file() {
    let input = tempfile::tempdir().unwrap();
    archive(input.path());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sized(dir.path(), 4).unwrap();
    import(&store, input.path(), None);
    let stray = dir.path().join("posts/bucket=99");
    fs::create_dir_all(&stray).unwrap();
    fs::copy(
        &store.partition_files(&POSTS).unwrap()[0],
        stray.join("part-0.parquet"),
    )
    .unwrap();
    let rows: usize = store
        .scan_units(&POSTS, 16)
        .unwrap()
        .into_iter()
        .map(|scan| scan.collect().unwrap().height())
        .sum();
    assert_eq!(rows, 40, "an unlisted file is not read");

    let mut manifest = Manifest::read(dir.path()).unwrap();
    manifest
        .tables
        .get_mut("posts")
        .unwrap()
        .files
        .push("posts/bucket=99/part-0.parquet".into());
    manifest.write(dir.path()).unwrap();
    let store = Store::open_existing(dir.path()).unwrap();
    let Err(err) = store.scan_units(&POSTS, 16) else {
        panic!("a stray bucket was read");
    };
    let err = err.to_string();
    assert!(
        err.contains("bucket=99") && err.contains("store.json"),
        "{err}"
    );
}

/// The codec of every row group's columns in a Parquet file.
fn codecs(path: &Path) -> Vec<String> {
    let mut reader = ParquetReader::new(fs::File::open(path).unwrap());
    let metadata = reader.get_metadata().unwrap();
    metadata
        .row_groups
        .iter()
        .flat_map(|g| {
            g.parquet_columns()
                .iter()
                .map(|c| format!("{:?}", c.compression()))
        })
        .collect()
}

/// The store writes LZ4. A store an earlier govmedia wrote with zstd is read as it is, and an
/// import rewrites (as LZ4) only the bucket its records change, with nothing lost.
#[test]
fn a_store_written_with_zstd_is_read_and_imported_into_with_nothing_lost() {
    let input = tempfile::tempdir().unwrap();
    archive(input.path());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sized(dir.path(), 4).unwrap();
    import(&store, input.path(), None);
    let original = sorted(store.read_table(&POSTS).unwrap().unwrap());
    let files = store.partition_files(&POSTS).unwrap();
    assert!(
        codecs(&files[0]).iter().all(|c| c == "Lz4Raw"),
        "{:?}",
        codecs(&files[0])
    );
    // The buckets as an earlier govmedia wrote them: zstd.
    for file in &files {
        let mut df = ParquetReader::new(fs::File::open(file).unwrap())
            .finish()
            .unwrap();
        ParquetWriter::new(fs::File::create(file).unwrap())
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .unwrap();
        assert!(codecs(file).iter().all(|c| c == "Zstd"));
    }
    let store = Store::open_existing(dir.path()).unwrap();
    assert!(sorted(store.read_table(&POSTS).unwrap().unwrap()).equals_missing(&original));

    // One more post of weibo:1: its bucket is rewritten as LZ4, the others stay as they were.
    let more = tempfile::tempdir().unwrap();
    fs::write(
        more.path().join("posts.jsonl"),
        "{\"account_id\":\"weibo:1\",\"post_id\":\"p99\",\"published_at\":1700500000}\n",
    )
    .unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(&store, more.path(), None);
    let after = sorted(store.read_table(&POSTS).unwrap().unwrap());
    assert_eq!(after.height(), 41);
    let kept = after
        .clone()
        .lazy()
        .filter(col("post_id").neq(lit("p99")))
        .collect()
        .unwrap();
    assert!(kept.equals_missing(&original));
    let bucket = format!("bucket={:02}", bucket_of("weibo:1", 16));
    for file in store.partition_files(&POSTS).unwrap() {
        let rewritten = file.to_string_lossy().contains(&bucket);
        let expected = if rewritten { "Lz4Raw" } else { "Zstd" };
        assert!(
            codecs(&file).iter().all(|c| c == expected),
            "{}",
            file.display()
        );
    }
}
