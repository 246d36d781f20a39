//! Columns read row by row. The passes below the rules visit every post once and read a dozen
//! columns of each: `ChunkedArray::get` searches the chunk and checks bounds and validity on
//! every call, which was a twentieth of a small audit's CPU. These views take one chunk of a
//! column and read a row of it (counted from the chunk's start) as a slice index and a validity
//! bit. The pass goes chunk by chunk: making its columns one chunk each copied a dozen columns
//! of every unit, a tenth of the audit's fresh memory.

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;

/// Chunk `k` of a column (`None` past its last chunk).
fn nth_chunk<T: PolarsDataType>(ca: &ChunkedArray<T>, k: usize) -> Option<&T::Array> {
    ca.downcast_iter().nth(k)
}

#[inline]
fn valid(validity: Option<&Bitmap>, row: usize) -> bool {
    validity.is_none_or(|bits| bits.get_bit(row))
}

/// An integer column's rows.
pub struct I64Rows<'a> {
    values: &'a [i64],
    validity: Option<&'a Bitmap>,
}

impl<'a> I64Rows<'a> {
    /// The rows of chunk `k`.
    pub fn new(ca: &'a Int64Chunked, k: usize) -> Self {
        let array: Option<&'a PrimitiveArray<i64>> = nth_chunk(ca, k);
        I64Rows {
            values: array.map_or(&[], |a| a.values().as_slice()),
            validity: array.and_then(|a| a.validity()),
        }
    }

    #[inline]
    pub fn get(&self, row: usize) -> Option<i64> {
        let value = self.values[row];
        valid(self.validity, row).then_some(value)
    }
}

/// A boolean column's rows.
pub struct BoolRows<'a> {
    array: Option<&'a BooleanArray>,
}

impl<'a> BoolRows<'a> {
    /// The rows of chunk `k`.
    pub fn new(ca: &'a BooleanChunked, k: usize) -> Self {
        BoolRows {
            array: nth_chunk(ca, k),
        }
    }

    #[inline]
    pub fn get(&self, row: usize) -> Option<bool> {
        let array = self.array.expect("a row of a column with rows");
        valid(array.validity(), row).then(|| array.values().get_bit(row))
    }
}

/// A text column's rows.
pub struct StrRows<'a> {
    array: Option<&'a Utf8ViewArray>,
}

impl<'a> StrRows<'a> {
    /// The rows of chunk `k`.
    pub fn new(ca: &'a StringChunked, k: usize) -> Self {
        StrRows {
            array: nth_chunk(ca, k),
        }
    }

    #[inline]
    pub fn get(&self, row: usize) -> Option<&'a str> {
        let array = self.array.expect("a row of a column with rows");
        valid(array.validity(), row).then(|| array.value(row))
    }
}

/// The rows `rows` of `df`, in the order given. Most of a frame's rows in ascending order are
/// kept by a mask: a take over a column of several chunks (a bucket read row group by row group)
/// copies the text of every row it takes, while a filter copies only the texts' 16-byte views
/// and shares the chunks' buffers. Nationally the comments' texts and the labelled posts' links
/// were copied that way, some 5 % of a 200,000-account audit's CPU. A few rows (under a
/// sixteenth) are taken: their copies are cheap, and the result does not keep the whole frame's
/// texts alive (the text scan's hits become findings, which live to the end of the audit).
pub fn rows_of(df: &DataFrame, rows: &[IdxSize]) -> PolarsResult<DataFrame> {
    let ascending = rows.windows(2).all(|w| w[0] < w[1])
        && rows
            .last()
            .is_none_or(|&last| (last as usize) < df.height());
    if !ascending || rows.len() < df.height() / 16 {
        return df.take(&IdxCa::from_slice("rows".into(), rows));
    }
    if rows.len() == df.height() {
        return Ok(df.clone());
    }
    let mut keep = vec![false; df.height()];
    for &row in rows {
        keep[row as usize] = true;
    }
    df.filter(&BooleanChunked::from_slice("keep".into(), &keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_as_chunked_array_get_does_nulls_included() {
        let ints = Int64Chunked::from_iter([Some(3), None, Some(-7)]);
        let bools = BooleanChunked::from_iter([None, Some(true), Some(false)]);
        let texts = StringChunked::from_iter([Some("甲"), Some(""), None]);
        let (i, b, s) = (
            I64Rows::new(&ints, 0),
            BoolRows::new(&bools, 0),
            StrRows::new(&texts, 0),
        );
        for row in 0..3 {
            assert_eq!(i.get(row), ints.get(row));
            assert_eq!(b.get(row), bools.get(row));
            assert_eq!(s.get(row), texts.get(row));
        }
        // A slice keeps its offset into the chunk's values and validity.
        let sliced = ints.slice(1, 2).rechunk().into_owned();
        let rows = I64Rows::new(&sliced, 0);
        assert_eq!((rows.get(0), rows.get(1)), (None, Some(-7)));
        let empty = Int64Chunked::from_iter(std::iter::empty::<Option<i64>>());
        assert!(I64Rows::new(&empty, 0).values.is_empty());
        // The second chunk's rows count from its own start.
        let mut two = Int64Chunked::from_iter([Some(1), Some(2)]);
        two.append(&Int64Chunked::from_iter([None, Some(4)]))
            .unwrap();
        let second = I64Rows::new(&two, 1);
        assert_eq!((second.get(0), second.get(1)), (None, Some(4)));
        let mut words = StringChunked::from_iter([Some("一")]);
        words
            .append(&StringChunked::from_iter([Some("二"), None]))
            .unwrap();
        let second = StrRows::new(&words, 1);
        assert_eq!((second.get(0), second.get(1)), (Some("二"), None));
    }
    #[test]
    fn rows_of_a_frame_of_several_chunks_are_those_a_take_gives() {
        let mut texts = StringChunked::from_iter([Some("第一条较长的评论文字内容"), None]);
        texts
            .append(&StringChunked::from_iter([
                Some("短"),
                Some("第四条同样是一条很长的文字"),
                Some("五"),
            ]))
            .unwrap();
        texts.rename("text".into());
        let df = DataFrame::new_infer_height(vec![
            texts.into_series().into_column(),
            Column::new("n".into(), [1i64, 2, 3, 4, 5]),
        ])
        .unwrap();
        assert_eq!(df.column("text").unwrap().n_chunks(), 2);
        let cases: [&[IdxSize]; 6] = [&[], &[0, 1, 2, 3, 4], &[1, 3], &[0, 4], &[3, 1], &[2, 2]];
        for rows in cases {
            let taken = df.take(&IdxCa::from_slice("rows".into(), rows)).unwrap();
            assert!(
                rows_of(&df, rows).unwrap().equals_missing(&taken),
                "{rows:?}"
            );
        }
        // A few rows of many (taken, not masked): the same.
        let many = df
            .vstack(&df)
            .unwrap()
            .vstack(&df)
            .unwrap()
            .vstack(&df)
            .unwrap();
        let many = many.vstack(&many).unwrap();
        let few: &[IdxSize] = &[3, 38];
        let taken = many.take(&IdxCa::from_slice("rows".into(), few)).unwrap();
        assert!(rows_of(&many, few).unwrap().equals_missing(&taken));
        // A row past the end is an error, as in a take, not a panic.
        assert!(rows_of(&df, &[1, 5]).is_err());
    }
}
