//! A function of a string column computed once per distinct value instead of once per row.
//!
//! Registry columns of codes and units hold a few dozen distinct strings over millions of rows,
//! stored as Parquet dictionary pages; polars decodes such a page into a string view per row
//! that repeats the dictionary entry's view. Within one array a view (16 bytes: length, prefix,
//! and the string inline or its buffer and offset) determines its string, so a small cache keyed
//! by the view answers most rows without hashing or comparing string bytes.

use polars::prelude::*;
use polars_arrow::array::{Array, Utf8ViewArray};

/// Slots of the direct-mapped cache: more than the distinct codes of a contract column.
const SLOTS: usize = 256;
/// No view is this value (its length would be 4 GiB), so it marks an empty slot.
const EMPTY: u128 = u128::MAX;

/// `f` of each row's string (None where null), in row order, computing `f` once per distinct
/// view of each chunk (more often only where two distinct views share a cache slot).
pub(crate) fn map_distinct<T: Copy + Default>(
    texts: &StringChunked,
    mut f: impl FnMut(Option<&str>) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(texts.len());
    let of_null = f(None);
    for array in texts.downcast_iter() {
        map_array(array, &mut f, of_null, &mut out);
    }
    out
}

fn map_array<T: Copy + Default>(
    array: &Utf8ViewArray,
    f: &mut impl FnMut(Option<&str>) -> T,
    of_null: T,
    out: &mut Vec<T>,
) {
    // Reset per array: a view that points into a buffer means another string in another array.
    let mut cache = [(EMPTY, T::default()); SLOTS];
    let views = array.views();
    let mut value_of = |i: usize| {
        let key = views[i].as_u128();
        // Fold the 16 bytes and keep the top bits of a multiplicative hash.
        let folded = (key as u64) ^ ((key >> 64) as u64);
        let slot = (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % SLOTS;
        let (cached, value) = cache[slot];
        if cached == key {
            return value;
        }
        let value = f(Some(array.value(i)));
        cache[slot] = (key, value);
        value
    };
    match array.validity().filter(|v| v.unset_bits() > 0) {
        None => out.extend((0..array.len()).map(&mut value_of)),
        Some(validity) => {
            out.extend(
                validity
                    .iter()
                    .enumerate()
                    .map(|(i, valid)| if valid { value_of(i) } else { of_null }),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Agrees with `f` applied row by row, on short (inline) and long strings, nulls, the
    /// empty string, several chunks, and more distinct values than the cache has slots.
    #[test]
    fn agrees_with_f_row_by_row() {
        let long = "mL/min/{1.73_m2}"; // longer than a view's 12 inline bytes
        let mut rows: Vec<Option<String>> = Vec::new();
        for i in 0..3000 {
            rows.push(match i % 7 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(long.to_string()),
                3 => Some(format!("{long}-{}", i % 3)),
                4 => Some("718-7".to_string()),
                5 => Some(format!("code-{i}")), // 428 distinct values
                _ => Some(" g/L ".to_string()),
            });
        }
        // Depends on every byte: strings of one length and prefix must not share a result.
        let f = |text: Option<&str>| {
            text.map_or(-1, |t| {
                t.bytes()
                    .fold(t.len() as i64, |h, b| h.wrapping_mul(31) + b as i64)
            })
        };
        let texts = chunks(&rows, 1000);
        let expected: Vec<i64> = rows.iter().map(|r| f(r.as_deref())).collect();
        assert_eq!(map_distinct(&texts, f), expected);
    }

    /// Repeating short values: `f` runs once per distinct value and chunk (and once for null).
    #[test]
    fn f_runs_once_per_distinct_value_of_a_chunk() {
        let values = ["718-7", "g/L", "", "2160-0", "umol/L"];
        let rows: Vec<Option<String>> = (0..3000)
            .map(|i| (i % 11 != 0).then(|| values[i % 5].to_string()))
            .collect();
        let texts = chunks(&rows, 1500);
        let mut calls = 0;
        let lengths = map_distinct(&texts, |t| {
            calls += 1;
            t.map(str::len)
        });
        let expected: Vec<Option<usize>> =
            rows.iter().map(|r| r.as_deref().map(str::len)).collect();
        assert_eq!(lengths, expected);
        assert_eq!(calls, 1 + 2 * values.len());
    }

    /// `rows` as a column of arrays of `size` rows.
    fn chunks(rows: &[Option<String>], size: usize) -> StringChunked {
        let mut parts = rows
            .chunks(size)
            .map(|part| StringChunked::from_iter(part.iter().map(|r| r.as_deref())));
        let mut texts = parts.next().unwrap();
        for part in parts {
            texts.append(&part).unwrap();
        }
        assert_eq!(texts.chunks().len(), rows.len().div_ceil(size));
        texts
    }

    #[test]
    fn an_empty_column() {
        let empty = StringChunked::from_iter(std::iter::empty::<Option<&str>>());
        assert!(map_distinct(&empty, |t| t.is_some()).is_empty());
    }
}
