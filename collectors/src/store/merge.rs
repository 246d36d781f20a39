//! Merging incoming rows into a table by its natural key (pure: frames in, frame out).

use polars::prelude::*;

use super::{FILE_COL, Merged, Outcome, SEQ_COL};
use crate::schema::{MergeRule, TableSpec};

const OLD_SUFFIX: &str = "__old";
pub(super) const ROW_COL: &str = "__row";
const IN_STATE: &str = "__in_state";
const OCCURRENCE: &str = "__occurrence";

/// Expression merging an incoming column with the stored one, by the column's merge rule.
fn merged_value(column: &str, rule: MergeRule) -> Expr {
    let new = col(column);
    let old = col(format!("{column}{OLD_SUFFIX}"));
    match rule {
        MergeRule::Latest => coalesce(&[new, old]),
        MergeRule::Min => when(
            new.clone()
                .is_not_null()
                .and(old.clone().is_null().or(new.clone().lt(old.clone()))),
        )
        .then(new)
        .otherwise(old),
        MergeRule::Max => when(
            new.clone()
                .is_not_null()
                .and(old.clone().is_null().or(new.clone().gt(old.clone()))),
        )
        .then(new)
        .otherwise(old),
    }
    .alias(column)
}

/// Pure merge of incoming rows into a table; see [`Store::merge`]. The merged table comes back
/// unsorted; [`Store::write_sorted_table`] writes it in natural-key order.
pub fn merge_frames(
    spec: &'static TableSpec,
    existing: DataFrame,
    incoming: DataFrame,
) -> PolarsResult<(DataFrame, Vec<Merged>)> {
    let keys: Vec<Expr> = spec.key.iter().map(|k| col(*k)).collect();
    let canonical: Vec<Expr> = spec.columns.iter().map(|c| col(c.name)).collect();

    // The same key may occur several times in one import (the same post in two files): apply
    // the sightings in order, one round per occurrence. Rows arrive in sequence order from the
    // importer; sort only when they do not.
    let seq = incoming.column(SEQ_COL)?.i64()?;
    let in_order = seq.iter().zip(seq.iter().skip(1)).all(|(a, b)| a <= b);
    let mut incoming = incoming.lazy();
    if !in_order {
        incoming = incoming.sort([SEQ_COL], SortMultipleOptions::default());
    }
    let incoming = incoming.collect()?;
    // Counting each key's occurrences is a window over the keys, the dearest step of a national
    // import; a hash of each row's key tells at a fraction of the cost that no key repeats.
    let (incoming, rounds) = if keys_certainly_unique(&incoming, spec.key)? {
        let rounds = u32::from(incoming.height() > 0);
        (incoming, rounds)
    } else {
        let counted = incoming
            .lazy()
            .with_column(
                col(SEQ_COL)
                    .cum_count(false)
                    .over(keys.clone())?
                    .alias(OCCURRENCE),
            )
            .collect()?;
        let rounds = counted.column(OCCURRENCE)?.u32()?.max().unwrap_or(0);
        (counted, rounds)
    };
    // Fast path, the usual first import: nothing stored yet and every key seen once.
    if existing.height() == 0 && rounds <= 1 {
        let files = incoming.column(FILE_COL)?.u32()?;
        let seqs = incoming.column(SEQ_COL)?.i64()?;
        let outcomes = files
            .iter()
            .zip(seqs.iter())
            .map(|(file, seq)| Merged {
                seq: seq.unwrap_or(0),
                file: file.unwrap_or(0),
                outcome: Outcome::New,
            })
            .collect();
        let state = incoming.lazy().select(canonical).collect()?;
        return Ok((state, outcomes));
    }

    let state = existing.lazy().select(canonical.clone()).collect()?;
    let mut outcomes: Vec<Merged> = Vec::with_capacity(incoming.height());
    let first = if rounds <= 1 {
        incoming.clone()
    } else {
        incoming
            .clone()
            .lazy()
            .filter(col(OCCURRENCE).eq(lit(1u32)))
            .collect()?
    };
    let mut state = merge_round(spec, state, first, &mut outcomes)?;
    if rounds > 1 {
        // Later rounds concern only the keys that come again (an account described by many
        // files): they are merged into those keys' rows alone, not the whole table each time.
        let again = incoming
            .lazy()
            .filter(col(OCCURRENCE).gt(lit(1u32)))
            .collect()?;
        let again_keys = again
            .clone()
            .lazy()
            .select(keys.clone())
            .unique(None, UniqueKeepStrategy::First);
        let split = |how: JoinType| {
            state.clone().lazy().join(
                again_keys.clone(),
                keys.clone(),
                keys.clone(),
                JoinArgs::new(how),
            )
        };
        let untouched = split(JoinType::Anti).collect()?;
        let mut touched = split(JoinType::Semi).collect()?;
        for round in 2..=rounds {
            let batch = again
                .clone()
                .lazy()
                .filter(col(OCCURRENCE).eq(lit(round)))
                .collect()?;
            touched = merge_round(spec, touched, batch, &mut outcomes)?;
        }
        state = concat([untouched.lazy(), touched.lazy()], UnionArgs::default())?.collect()?;
    }

    outcomes.sort_by_key(|m| m.seq);
    Ok((state, outcomes))
}

/// Whether no key occurs twice among the rows, told from a 64-bit hash of each row's key:
/// distinct hashes are distinct keys. `false` when two hashes agree (a repeated key or, all but
/// never, two keys with one hash) or a key column is of a type not hashed here: the caller then
/// counts the occurrences exactly.
fn keys_certainly_unique(df: &DataFrame, keys: &[&str]) -> PolarsResult<bool> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    // Each column's value hashed with the row's hash so far: the key's hash, column by column.
    let chain = |so_far: &mut u64, value: &dyn Fn(&mut DefaultHasher)| {
        let mut h = DefaultHasher::new();
        so_far.hash(&mut h);
        value(&mut h);
        *so_far = h.finish();
    };
    let mut hashes = vec![0u64; df.height()];
    for key in keys {
        let column = df.column(key)?;
        if column.dtype() == &DataType::String {
            for (so_far, v) in hashes.iter_mut().zip(column.str()?.iter()) {
                chain(so_far, &|h| v.hash(h));
            }
        } else if column.dtype().to_physical().is_integer() {
            let ints = column.to_physical_repr().cast(&DataType::Int64)?;
            for (so_far, v) in hashes.iter_mut().zip(ints.i64()?.iter()) {
                chain(so_far, &|h| v.hash(h));
            }
        } else {
            return Ok(false);
        }
    }
    hashes.sort_unstable();
    Ok(hashes.windows(2).all(|w| w[0] != w[1]))
}

/// One round of a merge: incoming rows with distinct keys into the state; adds each row's
/// outcome and returns the new state.
fn merge_round(
    spec: &'static TableSpec,
    state: DataFrame,
    batch: DataFrame,
    outcomes: &mut Vec<Merged>,
) -> PolarsResult<DataFrame> {
    let keys: Vec<Expr> = spec.key.iter().map(|k| col(*k)).collect();
    let value_columns: Vec<&str> = spec
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|c| !spec.is_key(c))
        .collect();
    let canonical: Vec<Expr> = spec.columns.iter().map(|c| col(c.name)).collect();
    let hasher = || Some(PlSeedableRandomStateQuality::fixed());
    let batch = batch.lazy().select(
        canonical
            .iter()
            .cloned()
            .chain([col(FILE_COL), col(SEQ_COL)])
            .collect::<Vec<_>>(),
    );
    let stored = state.clone().lazy().with_column(lit(true).alias(IN_STATE));
    let joined = batch
        .join(
            stored,
            keys.clone(),
            keys.clone(),
            JoinArgs::new(JoinType::Left).with_suffix(Some(PlSmallStr::from_static(OLD_SUFFIX))),
        )
        .collect()?;

    let merged_exprs: Vec<Expr> = spec
        .columns
        .iter()
        .map(|c| {
            if spec.is_key(c.name) {
                col(c.name)
            } else {
                merged_value(c.name, spec.merge_rule(c.name))
            }
        })
        .collect();
    let merged = joined.clone().lazy().select(merged_exprs).collect()?;

    let mut merged_values = merged.select(value_columns.iter().copied())?;
    let mut old_values = joined
        .clone()
        .lazy()
        .select(
            value_columns
                .iter()
                .map(|c| col(format!("{c}{OLD_SUFFIX}")).alias(*c))
                .collect::<Vec<_>>(),
        )
        .collect()?;
    let merged_hash = merged_values.hash_rows(hasher())?;
    let old_hash = old_values.hash_rows(hasher())?;
    let in_state = joined.column(IN_STATE)?.bool()?;
    let files = joined.column(FILE_COL)?.u32()?;
    let seqs = joined.column(SEQ_COL)?.i64()?;
    for i in 0..joined.height() {
        let outcome = if in_state.get(i).is_none() {
            Outcome::New
        } else if merged_hash.get(i) == old_hash.get(i) {
            Outcome::Duplicate
        } else {
            Outcome::Updated
        };
        outcomes.push(Merged {
            seq: seqs.get(i).unwrap_or(0),
            file: files.get(i).unwrap_or(0),
            outcome,
        });
    }

    let untouched = state.lazy().join(
        merged.clone().lazy().select(keys.clone()),
        keys.clone(),
        keys,
        JoinArgs::new(JoinType::Anti),
    );
    concat([untouched, merged.lazy()], UnionArgs::default())?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(accounts: &[Option<&str>], posts: &[Option<&str>]) -> DataFrame {
        df!(
            "account_id" => accounts,
            "post_id" => posts,
        )
        .unwrap()
    }

    #[test]
    fn keys_are_unique_only_when_no_key_repeats() {
        let keys = ["account_id", "post_id"];
        let unique = frame(
            &[
                Some("weibo:1"),
                Some("weibo:1"),
                Some("weibo:2"),
                None,
                Some(""),
            ],
            &[Some("p1"), Some("p2"), Some("p1"), Some("p1"), Some("p1")],
        );
        assert!(keys_certainly_unique(&unique, &keys).unwrap());
        // Values that run together the same way are different keys; so are null and "".
        let run_together = frame(
            &[Some("ab"), Some("a"), None],
            &[Some("c"), Some("bc"), Some("")],
        );
        assert!(keys_certainly_unique(&run_together, &keys).unwrap());
        let repeated = frame(
            &[Some("weibo:1"), Some("weibo:2"), Some("weibo:1")],
            &[Some("p1"), Some("p1"), Some("p1")],
        );
        assert!(!keys_certainly_unique(&repeated, &keys).unwrap());
        let both_null = frame(&[None, None], &[Some("p"), Some("p")]);
        assert!(!keys_certainly_unique(&both_null, &keys).unwrap());
        assert!(keys_certainly_unique(&frame(&[], &[]), &keys).unwrap());
    }

    #[test]
    fn instants_are_hashed_and_other_types_left_to_the_exact_count() {
        let at = df!("url" => ["u", "u"], "checked_at" => [1i64, 2])
            .unwrap()
            .lazy()
            .with_column(col("checked_at").cast(DataType::Datetime(TimeUnit::Milliseconds, None)))
            .collect()
            .unwrap();
        assert!(keys_certainly_unique(&at, &["url", "checked_at"]).unwrap());
        let again = df!("url" => ["u", "u"], "checked_at" => [1i64, 1]).unwrap();
        assert!(!keys_certainly_unique(&again, &["url", "checked_at"]).unwrap());
        let floats = df!("x" => [1.0f64, 2.0]).unwrap();
        assert!(!keys_certainly_unique(&floats, &["x"]).unwrap());
    }
}
