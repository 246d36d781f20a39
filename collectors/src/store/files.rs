//! Table files on disk: fixed row groups in natural-key order, spill files, the PAR1 check and
//! atomic replacement (temporary file + rename).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use super::merge::ROW_COL;
use super::{HASH_COL, stored_hash};
use crate::Error;
use crate::layout::{self, is_partitioned};
use crate::schema::TableSpec;

/// Rows per row group of a stored table. Fixed, so the same content always gives the same bytes
/// however it was merged, and small enough that reading one key range of a large table skips
/// most of it through the row-group statistics.
pub const ROW_GROUP_ROWS: usize = 1 << 16;

/// How the Parquet files a report hands out are compressed: zstd at its fastest level. They are
/// written once per audit, and nationally they are large (two million findings, six million
/// post labels): level 1 wrote the findings 15 % faster than zstd's default level 3, for files
/// 2–6 % larger (200,000 accounts: findings 30.5 → 31.2 MB, scores 5.6 → 6.0 MB).
pub fn report_compression() -> ParquetCompression {
    ParquetCompression::Zstd(Some(
        polars::polars_utils::compression::ZstdLevel::try_new(1).expect("zstd has a level 1"),
    ))
}

/// Writes rows as row groups of exactly [`ROW_GROUP_ROWS`] rows (or as told,
/// [`RowGroupWriter::with_group_rows`]; the last one shorter), whatever the sizes of the frames
/// pushed.
pub struct RowGroupWriter<W: Write> {
    writer: polars::io::parquet::write::BatchedWriter<W>,
    pending: Option<DataFrame>,
    /// Rows per row group: [`ROW_GROUP_ROWS`] unless told otherwise.
    group_rows: usize,
    /// A report file's own choice of encodings ([`ReportEncodings`]); the store's files keep
    /// Polars' choice.
    report: Option<ReportEncodings>,
}

/// The encodings of a report file's columns, chosen from its first row group: a column more than
/// a fifth of whose values there are distinct (ids, links, instants, evidence) is written
/// plain; every other column as Polars writes it (a dictionary where that pays, which Polars
/// judges page by page). Polars estimates every page's distinct values before it settles for
/// plain, a hash of every value: for the columns that are plain anyway that was most of the
/// estimating, some 1.7 % of a 200,000-account audit's CPU. The store's files keep Polars'
/// choice: the labeller's memo recognises repeated texts by their place in a dictionary.
struct ReportEncodings {
    options: polars_parquet::write::WriteOptions,
    fields: Vec<polars_parquet::write::ParquetType>,
    /// Per column (one entry per Parquet leaf), once the first row group has been seen.
    chosen: Option<Vec<Vec<polars_parquet::write::Encoding>>>,
    /// Whether text dictionaries are made here ([`dictionary_of_texts`]) rather than by Polars
    /// (tests compare the two).
    own_dictionaries: bool,
}

impl ReportEncodings {
    /// Above this share of distinct values in the first row group a column is written plain.
    /// A dictionary hashes every value, and one of a fifth of the rows or more saves little that
    /// zstd does not: at 200,000 accounts, 0.2 instead of 0.5 made the findings' evidence,
    /// item ids and instants (a third distinct) plain, written in 0.90 s instead of 1.17 s
    /// (31.14 → 31.21 MB), and the post labels' post ids, in 1.76 s instead of 2.1 s
    /// (67.2 → 64.8 MB); rankings 2.24 → 2.07 MB (`table_bench`, three runs each).
    const PLAIN_ABOVE: f64 = 0.2;

    /// Chooses the columns' encodings from `group`, the first row group seen; kept after.
    fn choose(&mut self, group: &DataFrame) -> PolarsResult<()> {
        use polars_parquet::write::{Encoding, get_dtype_encoding};
        if self.chosen.is_none() {
            let chosen = group
                .columns()
                .iter()
                .map(|column| {
                    let polars_choice =
                        get_dtype_encoding(&column.dtype().to_arrow(CompatLevel::newest()));
                    // Instants and days are integers in the file.
                    let physical = column.dtype().to_physical();
                    let flat = physical.is_primitive() || physical.is_string();
                    // Polars never estimates a page of 128 rows or fewer either.
                    if !flat || column.len() <= 128 || polars_choice != [Encoding::RleDictionary] {
                        return Ok(polars_choice);
                    }
                    let distinct = column.n_unique()? as f64 / column.len() as f64;
                    Ok(if distinct > Self::PLAIN_ABOVE {
                        vec![Encoding::Plain]
                    } else {
                        polars_choice
                    })
                })
                .collect::<PolarsResult<Vec<_>>>()?;
            self.chosen = Some(chosen);
        }
        Ok(())
    }

    /// A row group's columns encoded and (lazily, as the file writer asks) compressed, as
    /// Polars' batched writer does with its own encodings.
    fn row_group(
        &mut self,
        group: &DataFrame,
    ) -> PolarsResult<polars::io::parquet::write::RowGroupIterColumns<'static, PolarsError>> {
        use polars_parquet::parquet::error::ParquetError;
        use polars_parquet::write::{
            Compressor, DynIter, DynStreamingIterator, FallibleStreamingIterator, array_to_columns,
        };
        self.choose(group)?;
        let (options, encodings) = (self.options, self.chosen.as_deref().unwrap_or_default());
        let batch = group
            .iter_chunks(CompatLevel::newest(), false)
            .next()
            .ok_or_else(|| polars_err!(ComputeError: "a row group without rows"))?;
        let mut columns = Vec::with_capacity(self.fields.len());
        for ((array, field), encoding) in batch.columns().iter().zip(&self.fields).zip(encodings) {
            let own = if self.own_dictionaries {
                dictionary_of_texts(array.as_ref(), encoding)?
            } else {
                None
            };
            let (array, encoding) = own
                .as_ref()
                .map_or((array, encoding), |(array, encoding)| (array, encoding));
            for pages in array_to_columns(array, field.clone(), options, encoding)? {
                let pages = pages.map(|page| {
                    page.map_err(|e| ParquetError::FeatureNotSupported(format!("{e}")))
                });
                columns.push(Ok(DynStreamingIterator::new(
                    Compressor::new_from_vec(pages, options.compression, Vec::new())
                        .map_err(PolarsError::from),
                )));
            }
        }
        Ok(DynIter::new(columns.into_iter()))
    }
}

/// A text column that is to be written as a dictionary, made into one here, as Polars would make
/// it (the values in the order first met, `u32` keys, Polars' own test for when a dictionary
/// does not pay), so the file is the one Polars writes. Polars estimates the column's distinct
/// values and then hashes every value again to build the dictionary; here each value is hashed
/// once at most, and a value equal to the one before it (a report's rows come an account at a
/// time: its id, name, organisation and platform repeat row after row) is not hashed at all.
/// The distinct count is then exact, where Polars' estimate may fall on the other side of its
/// threshold (the same rows either way, differently encoded). `None`: any other column, left
/// to Polars.
fn dictionary_of_texts(
    array: &dyn polars_arrow::array::Array,
    encoding: &[polars_parquet::write::Encoding],
) -> PolarsResult<Option<(ArrayRef, Vec<polars_parquet::write::Encoding>)>> {
    use polars_arrow::array::{
        Array, DictionaryArray, MutableBinaryViewArray, PrimitiveArray, Utf8ViewArray,
    };
    use polars_arrow::datatypes::{ArrowDataType, IntegerType};
    use polars_parquet::write::Encoding;
    // Polars' own choice for a column of 128 rows or fewer, and for an empty one.
    if encoding != [Encoding::RleDictionary] || array.len() <= 128 {
        return Ok(None);
    }
    let Some(texts) = array.as_any().downcast_ref::<Utf8ViewArray>() else {
        return Ok(None);
    };
    let mut keys: Vec<u32> = Vec::with_capacity(texts.len());
    let mut values = MutableBinaryViewArray::<str>::new();
    // Room for an eighth of the rows distinct: a report's repeated columns (accounts, their
    // names and organisations) have about that many, and each growth of the map hashed every
    // value in it again.
    let mut known: PlHashMap<&str, u32> = PlHashMap::with_capacity(texts.len() / 8);
    // The last value met, where it lies (its view) and its key.
    let mut last: Option<(&str, u128, u32)> = None;
    for (value, view) in texts.iter().zip(texts.views().iter()) {
        let Some(value) = value else {
            // A null row's key is never written (its validity is).
            keys.push(0);
            continue;
        };
        // Equal views are equal values: the same bytes held inline, or the same place in the
        // same buffer (a value repeated by a join or a gather points at one copy), so the
        // value itself is compared only when they differ.
        let view = view.as_u128();
        let key = match last {
            Some((_, place, key)) if place == view => key,
            Some((text, _, key)) if text == value => key,
            _ => *known.entry(value).or_insert_with(|| {
                values.push_value(value);
                (values.len() - 1) as u32
            }),
        };
        last = Some((value, view, key));
        keys.push(key);
    }
    // Polars' test: a dictionary of more than three quarters of the rows does not pay.
    if values.len() as f64 / texts.len() as f64 > 0.75 {
        return Ok(Some((array.to_boxed(), vec![Encoding::Plain])));
    }
    let keys = PrimitiveArray::new(
        ArrowDataType::UInt32,
        keys.into(),
        texts.validity().cloned(),
    );
    let values: Utf8ViewArray = values.into();
    let dictionary = DictionaryArray::<u32>::try_new(
        ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(array.dtype().clone()), false),
        keys,
        values.boxed(),
    )?;
    Ok(Some((dictionary.boxed(), vec![Encoding::RleDictionary])))
}

impl<W: Write> RowGroupWriter<W> {
    /// A writer of the store's row groups, LZ4-compressed (`LZ4_RAW`). Every audit decodes the
    /// whole store, so its codec is chosen for decoding: LZ4 decodes several times faster than
    /// zstd. Measured on the demo's stores: 200,000 accounts take 1.1 GB instead of 684 MB, and
    /// a `--pages none` audit of 10,000 accounts runs 5 % fewer instructions (21.9 → 20.8
    /// billion); at 200,000 accounts five pairs run alternately were 1.4–3.3 s faster.
    pub fn new(sink: W, schema: &Schema) -> PolarsResult<Self> {
        RowGroupWriter::with_compression(sink, schema, ParquetCompression::Lz4Raw)
    }

    /// A writer of a report's row groups: compressed as a report's files are
    /// ([`report_compression`]), each column encoded as [`ReportEncodings`] chooses.
    pub fn for_report(sink: W, schema: &Schema) -> PolarsResult<Self> {
        let mut writer = RowGroupWriter::with_compression(sink, schema, report_compression())?;
        writer.report = Some(ReportEncodings {
            options: polars_parquet::write::WriteOptions {
                statistics: polars_parquet::write::StatisticsOptions::default(),
                version: polars_parquet::write::Version::V1,
                compression: report_compression().into(),
                data_page_size: None,
            },
            fields: writer.writer.parquet_schema().fields().to_vec(),
            chosen: None,
            own_dictionaries: true,
        });
        Ok(writer)
    }

    pub fn with_compression(
        sink: W,
        schema: &Schema,
        compression: ParquetCompression,
    ) -> PolarsResult<Self> {
        let writer = ParquetWriter::new(sink)
            .with_compression(compression)
            .batched(schema)?;
        Ok(RowGroupWriter {
            writer,
            pending: None,
            group_rows: ROW_GROUP_ROWS,
            report: None,
        })
    }

    /// Row groups of `rows` rows instead of [`ROW_GROUP_ROWS`] (at least one row).
    pub fn with_group_rows(mut self, rows: usize) -> Self {
        self.group_rows = rows.max(1);
        self
    }

    pub fn push(&mut self, rows: &DataFrame) -> PolarsResult<()> {
        let mut pending = match self.pending.take() {
            None => rows.clone(),
            Some(mut pending) => {
                pending.vstack_mut(rows)?;
                pending
            }
        };
        let group_rows = self.group_rows;
        while pending.height() >= group_rows {
            let mut group = pending.slice(0, group_rows);
            group.rechunk_mut_par();
            self.write_group(&group)?;
            pending = pending.slice(group_rows as i64, pending.height() - group_rows);
        }
        self.pending = Some(pending);
        Ok(())
    }

    /// Writes one row group (every column one chunk).
    fn write_group(&mut self, group: &DataFrame) -> PolarsResult<()> {
        match &mut self.report {
            None => self.writer.write_batch(group),
            Some(report) => {
                let columns = report.row_group(group)?;
                self.writer.write_row_groups(vec![columns])
            }
        }
    }

    pub fn finish(mut self) -> PolarsResult<()> {
        if let Some(mut rest) = self.pending.take().filter(|p| p.height() > 0) {
            rest.rechunk_mut_par();
            self.write_group(&rest)?;
        }
        self.writer.finish()?;
        Ok(())
    }
}

/// Pushes a frame's rows in natural-key order. Rows are gathered through a sort index in
/// batches: the sorted copy of a large frame never exists whole in memory.
pub(super) fn write_sorted_rows<W: Write>(
    spec: &TableSpec,
    df: &DataFrame,
    writer: &mut RowGroupWriter<W>,
) -> PolarsResult<()> {
    const BATCH_ROWS: usize = 1 << 20;
    let keys: Vec<Expr> = spec.key.iter().map(|k| col(*k)).collect();
    let order = df
        .clone()
        .lazy()
        .with_row_index(ROW_COL, None)
        .select(
            keys.iter()
                .cloned()
                .chain([col(ROW_COL)])
                .collect::<Vec<_>>(),
        )
        .sort_by_exprs(
            keys,
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .select([col(ROW_COL)])
        .collect()?;
    let order = order.column(ROW_COL)?.idx()?;
    let mut offset = 0;
    while offset < order.len() {
        let chunk = order.slice(offset as i64, BATCH_ROWS);
        writer.push(&df.take(&chunk)?)?;
        offset += BATCH_ROWS;
    }
    Ok(())
}

/// Writes rows atomically to a Parquet file in natural-key order, as fixed row groups.
pub(super) fn write_sorted_file(
    spec: &TableSpec,
    df: &DataFrame,
    path: &Path,
) -> Result<(), Error> {
    let schema = df.schema().as_ref().clone();
    write_atomic(path, |file| {
        let to_io = std::io::Error::other;
        let mut writer = RowGroupWriter::new(file, &schema).map_err(to_io)?;
        write_sorted_rows(spec, df, &mut writer).map_err(to_io)?;
        writer.finish().map_err(to_io)
    })
}

/// Rows of a large table read at a time when it is rewritten as buckets.
pub(super) const SPILL_SLICE_ROWS: usize = 1 << 20;

/// Writes incoming rows (with [`FILE_COL`] and [`SEQ_COL`]) to a temporary Parquet file for
/// [`Store::merge_in_ranges`]: sorted by key in small row groups, so each key range reads little
/// of it; for a partitioned table by the account hash alone (rows of one hash in the order they
/// came), so each bucket is a range. A bucket's rows are sorted by key when the bucket is
/// written, so sorting them by key here as well was a string sort of every row for nothing.
/// Returns the rows per first-key value.
///
/// Takes the rows, so that only their sorted copy is held while it is written: an import
/// spills on a thread of its own while the next batch is read, and the unsorted batch kept to
/// the end (2.9 GB at 200,000 accounts, against 2.5 GB) was its peak memory.
pub fn write_spill_file(
    spec: &TableSpec,
    rows: DataFrame,
    path: &Path,
) -> Result<HashMap<String, u64>, Error> {
    let at = |e: PolarsError| Error::polars(path, e);
    let counts = rows_per_key(rows.clone().lazy(), spec.key[0])
        .map_err(at)?
        .into_iter()
        .collect();
    let mut keys: Vec<Expr> = spec.key.iter().map(|k| col(*k)).collect();
    let mut rows = rows;
    if is_partitioned(spec) {
        let hashes: Vec<i64> = rows
            .column("account_id")
            .and_then(|c| c.str().cloned())
            .map_err(at)?
            .iter()
            .map(|id| stored_hash(layout::account_hash(id.unwrap_or_default())))
            .collect();
        rows.with_column(Column::new(HASH_COL.into(), hashes))
            .map_err(at)?;
        keys = vec![col(HASH_COL)];
    }
    let mut sorted = rows
        .lazy()
        .sort_by_exprs(
            keys,
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
        .map_err(at)?;
    let file = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Lz4Raw)
        .with_row_group_size(Some(ROW_GROUP_ROWS / 4))
        .finish(&mut sorted)
        .map_err(at)?;
    Ok(counts)
}

/// Rows per value of a key column.
pub(super) fn rows_per_key(rows: LazyFrame, key: &str) -> PolarsResult<Vec<(String, u64)>> {
    let counts = rows
        .group_by([col(key)])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let keys = counts.column(key)?.str()?.clone();
    let ns = counts.column("n")?.u64()?.clone();
    Ok(keys
        .iter()
        .zip(ns.iter())
        .map(|(k, n)| (k.unwrap_or_default().to_string(), n.unwrap_or(0)))
        .collect())
}

/// Cuts the sorted first-key values into inclusive ranges of about `range_rows` rows each; a
/// value with more rows than that is a range of its own.
pub(super) fn key_ranges(
    counts: &BTreeMap<String, u64>,
    range_rows: usize,
) -> Vec<(String, String)> {
    let mut ranges = Vec::new();
    let mut current: Option<(String, String, u64)> = None;
    for (key, &n) in counts {
        match &mut current {
            Some((_, hi, rows)) if *rows + n <= range_rows as u64 => {
                *hi = key.clone();
                *rows += n;
            }
            _ => {
                if let Some((lo, hi, _)) = current.take() {
                    ranges.push((lo, hi));
                }
                current = Some((key.clone(), key.clone(), n));
            }
        }
    }
    ranges.extend(current.map(|(lo, hi, _)| (lo, hi)));
    ranges
}

/// Checks that a table file is a whole Parquet file (it begins and ends with `PAR1`), so a
/// truncated or corrupt file is named before a scan fails deep inside the engine without naming
/// it.
pub fn check_parquet_file(path: &Path) -> Result<(), Error> {
    use std::io::{Read, Seek, SeekFrom};
    let corrupt = || {
        Error::Input(format!(
            "{}: not a complete Parquet file (it must begin and end with PAR1): the table file is \
             truncated or corrupt; restore it from a backup or import its sources again",
            path.display()
        ))
    };
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len < 12 {
        return Err(corrupt());
    }
    let (mut head, mut tail) = ([0u8; 4], [0u8; 4]);
    file.read_exact(&mut head)
        .and_then(|_| file.seek(SeekFrom::End(-4)))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| Error::io(path, e))?;
    if &head != b"PAR1" || &tail != b"PAR1" {
        return Err(corrupt());
    }
    Ok(())
}

/// Writes a file through a temporary file in the same directory, flushes it to disk and renames
/// it into place: readers see the old file or the whole new one, even after a crash.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    replace_file(path, true, write)
}

/// [`write_atomic`] for a large file that the run writing it does not read back (report
/// tables): its bytes go to disk past the page cache where the file system
/// allows ([`super::direct`]). `write` gets a buffered writer; the bytes are the same.
pub fn write_atomic_direct(
    path: &Path,
    write: impl FnOnce(&mut super::direct::DirectWriter) -> std::io::Result<()>,
) -> Result<(), Error> {
    write_atomic(path, |file| {
        let mut writer = super::direct::DirectWriter::new(file);
        write(&mut writer)?;
        writer.finish()
    })
}

/// Like [`write_atomic`] without forcing the data to disk before the rename: for outputs that
/// can be regenerated (report pages and charts), where thousands of flushes would dominate.
pub fn write_replacing(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    replace_file(path, false, write)
}

fn replace_file(
    path: &Path,
    durable: bool,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    replace_file_with_mode(path, durable, 0o644, write)
}

pub(super) fn replace_file_with_mode(
    path: &Path,
    durable: bool,
    mode: u32,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    // Temporary files are created owner-only; tables and reports are ordinary files, readable
    // by whoever may read the folder (the store's secret key narrows it again itself).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    crate::fault::step("writing a temporary file").map_err(|e| Error::io(path, e))?;
    write(tmp.as_file_mut()).map_err(|e| Error::io(path, e))?;
    if durable {
        tmp.as_file_mut()
            .sync_all()
            .map_err(|e| Error::io(path, e))?;
    }
    crate::fault::step("renaming it into place").map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Flushes a folder's entries (names created, renamed or removed in it) to disk. Where folders
/// cannot be opened as files (Windows), renames are flushed by the file system itself.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether each column of each row group has a dictionary page, by column name.
    fn dictionary_pages(bytes: &[u8]) -> Vec<Vec<(String, bool)>> {
        let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
        let metadata = reader.get_metadata().unwrap();
        metadata
            .row_groups
            .iter()
            .map(|g| {
                g.parquet_columns()
                    .iter()
                    .map(|c| {
                        let name = c.descriptor().path_in_schema[0].to_string();
                        (name, c.dictionary_page_offset().is_some())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_report_file_writes_its_mostly_distinct_columns_plain_and_reads_back_the_same() {
        let rows = 1000;
        let df = df!(
            "id" => (0..rows).map(|i| format!("wechat:gh_{i:06}")).collect::<Vec<_>>(),
            "kind" => (0..rows).map(|i| ["UPD001", "CNT002", "INT003"][i % 3]).collect::<Vec<_>>(),
            "n" => (0..rows as i64).map(|i| i * 7919).collect::<Vec<_>>(),
            "small" => (0..rows as i64).map(|i| Some(i % 4).filter(|_| i % 10 != 0)).collect::<Vec<_>>(),
            "note" => (0..rows).map(|i| (i % 5 != 0).then(|| format!("第{}周未更新", i % 7))).collect::<Vec<_>>(),
            // Two thirds distinct in a group of 300: Polars would make it a dictionary.
            "mostly" => (0..rows).map(|i| format!("post-{}", i % 200)).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_columns([
            col("n").cast(DataType::Datetime(TimeUnit::Milliseconds, None)).alias("at"),
            concat_list([col("kind"), col("id")]).unwrap().alias("tags"),
        ])
        .collect()
        .unwrap();
        let mut bytes = Vec::new();
        let mut writer = RowGroupWriter::for_report(&mut bytes, df.schema())
            .unwrap()
            .with_group_rows(300);
        // Pushed in uneven pieces, as the units put theirs.
        for (offset, len) in [(0, 10), (10, 450), (460, 540)] {
            writer.push(&df.slice(offset, len)).unwrap();
        }
        writer.finish().unwrap();
        let back = ParquetReader::new(std::io::Cursor::new(&bytes))
            .finish()
            .unwrap();
        assert!(back.equals_missing(&df), "{back}\n{df}");
        let groups = dictionary_pages(&bytes);
        assert_eq!(groups.len(), 4);
        for group in &groups {
            let has = |name: &str| group.iter().any(|(n, d)| n == name && *d);
            // All or mostly distinct: plain.
            assert!(
                !has("id") && !has("n") && !has("at") && !has("mostly"),
                "{group:?}"
            );
            // Few values: a dictionary, as Polars writes them.
            assert!(has("kind") && has("small") && has("note"), "{group:?}");
        }
        // Polars' own writer gives the same rows.
        let mut polars_bytes = Vec::new();
        ParquetWriter::new(&mut polars_bytes)
            .with_compression(report_compression())
            .finish(&mut df.clone())
            .unwrap();
        let polars_back = ParquetReader::new(std::io::Cursor::new(&polars_bytes))
            .finish()
            .unwrap();
        assert!(back.equals_missing(&polars_back));
    }

    #[test]
    fn text_dictionaries_made_here_give_the_file_polars_gives() {
        let rows = 2000;
        let df = df!(
            // Runs of one account, as a report's rows come.
            "account" => (0..rows).map(|i| format!("weibo:{:08}", i / 7)).collect::<Vec<_>>(),
            // Few values, not in runs, some missing; short and long texts.
            "status" => (0..rows).map(|i| match i % 4 {
                0 => None,
                1 => Some("deduct".to_string()),
                2 => Some("一个超过十二字节的较长的说明文字".to_string()),
                _ => Some(format!("v{}", i % 3)),
            }).collect::<Vec<_>>(),
            // A dictionary in the first row group, then every value distinct: plain there.
            "late" => (0..rows).map(|i| if i < 300 { format!("t{}", i % 50) } else { format!("row-{i}") }).collect::<Vec<_>>(),
            "n" => (0..rows as i64).map(|i| i % 9).collect::<Vec<_>>(),
        )
        .unwrap();
        // Values gathered from a few (as a join gives an account's name to each of its rows):
        // repeats point at one copy, in runs and not.
        let names = StringChunked::from_iter_values(
            "pool".into(),
            (0..40).map(|i| format!("一个较长的账号名称第{i}号")),
        );
        let rows_of_names: Vec<IdxSize> =
            (0..rows as IdxSize).map(|i| (i / 5 + i % 3) % 40).collect();
        let joined = names
            .take(&IdxCa::from_vec("rows".into(), rows_of_names))
            .unwrap()
            .into_series()
            .with_name("joined".into());
        let mut df = df;
        df.with_column(joined.into_column()).unwrap();
        let write = |own: bool| {
            let mut bytes = Vec::new();
            let mut writer = RowGroupWriter::for_report(&mut bytes, df.schema())
                .unwrap()
                .with_group_rows(300);
            if let Some(report) = writer.report.as_mut() {
                report.own_dictionaries = own;
            }
            writer.push(&df).unwrap();
            writer.finish().unwrap();
            bytes
        };
        let (ours, polars) = (write(true), write(false));
        assert!(ours == polars, "the files differ");
        let back = ParquetReader::new(std::io::Cursor::new(&ours))
            .finish()
            .unwrap();
        assert!(back.equals_missing(&df));
        let groups = dictionary_pages(&ours);
        let has = |g: usize, name: &str| groups[g].iter().any(|(n, d)| n == name && *d);
        assert!(has(0, "account") && has(0, "status") && has(0, "late") && has(0, "joined"));
        assert!(has(3, "account") && !has(3, "late"), "{:?}", groups[3]);
    }
}
