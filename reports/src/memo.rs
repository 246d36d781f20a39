//! A page thread's memory of values it made before (a rewritten sentence, a drawn chart): a map
//! that starts again when full. A national audit's page threads each meet a hundred thousand
//! pages; what repeats (the same week's evidence, an account with no replies) repeats soon, so
//! starting again costs little and bounds the memory.

use std::borrow::Borrow;
use std::hash::Hash;

use polars::prelude::PlHashMap;

pub struct BoundedMemo<K, V> {
    values: PlHashMap<K, V>,
    capacity: usize,
}

impl<K: Hash + Eq, V: Clone> BoundedMemo<K, V> {
    /// A memo of at most `capacity` values.
    pub fn new(capacity: usize) -> Self {
        BoundedMemo {
            values: PlHashMap::default(),
            capacity: capacity.max(1),
        }
    }

    /// The value made before for `key`.
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.values.get(key).cloned()
    }

    /// Remembers `value` for `key`; a full memo forgets everything first.
    pub fn insert(&mut self, key: K, value: V) {
        if self.values.len() >= self.capacity {
            self.values.clear();
        }
        self.values.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memo_starts_again() {
        let mut memo: BoundedMemo<String, u32> = BoundedMemo::new(2);
        memo.insert("a".into(), 1);
        memo.insert("b".into(), 2);
        assert_eq!((memo.get("a"), memo.get("b")), (Some(1), Some(2)));
        memo.insert("c".into(), 3);
        assert_eq!(
            (memo.get("a"), memo.get("b"), memo.get("c")),
            (None, None, Some(3))
        );
    }
}
