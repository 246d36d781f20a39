//! Columns read row by row. The passes below the rules visit every post once and read a dozen
//! columns of each: `ChunkedArray::get` searches the chunk and checks bounds and validity on
//! every call, which was a twentieth of a small audit's CPU. These views take a column of one
//! chunk (the passes rechunk) and read a row as a slice index and a validity bit.

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;

/// The one chunk of a column (`None` for a column of no rows and no chunk).
fn only_chunk<T: PolarsDataType>(ca: &ChunkedArray<T>) -> Option<&T::Array> {
    assert!(
        ca.chunks().len() <= 1,
        "row views take a column of one chunk (rechunk it first)"
    );
    ca.downcast_iter().next()
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
    pub fn new(ca: &'a Int64Chunked) -> Self {
        let array: Option<&'a PrimitiveArray<i64>> = only_chunk(ca);
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
    pub fn new(ca: &'a BooleanChunked) -> Self {
        BoolRows {
            array: only_chunk(ca),
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
    pub fn new(ca: &'a StringChunked) -> Self {
        StrRows {
            array: only_chunk(ca),
        }
    }

    #[inline]
    pub fn get(&self, row: usize) -> Option<&'a str> {
        let array = self.array.expect("a row of a column with rows");
        valid(array.validity(), row).then(|| array.value(row))
    }
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
            I64Rows::new(&ints),
            BoolRows::new(&bools),
            StrRows::new(&texts),
        );
        for row in 0..3 {
            assert_eq!(i.get(row), ints.get(row));
            assert_eq!(b.get(row), bools.get(row));
            assert_eq!(s.get(row), texts.get(row));
        }
        // A slice keeps its offset into the chunk's values and validity.
        let sliced = ints.slice(1, 2).rechunk().into_owned();
        let rows = I64Rows::new(&sliced);
        assert_eq!((rows.get(0), rows.get(1)), (None, Some(-7)));
        let empty = Int64Chunked::from_iter(std::iter::empty::<Option<i64>>());
        assert!(I64Rows::new(&empty).values.is_empty());
    }
}
