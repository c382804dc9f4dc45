//! A function of a string column computed once per distinct value instead of once per row.
//!
//! Registry columns of codes and units hold a few dozen to a few hundred distinct strings over
//! millions of rows, stored as Parquet dictionary pages; polars decodes such a page into a string
//! view per row that mostly repeats the dictionary entry's view. Within one array a view (16
//! bytes: length, prefix, and the string inline or its buffer and offset) determines its string,
//! so a small cache keyed by the view answers most rows without hashing or comparing string
//! bytes. Behind it, a map from each distinct string to its result: two views that share a
//! cache slot, or one string behind several views, still cost `f` once.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use polars::prelude::*;

use super::bitmaps::boolean_column;
use crate::prefetch::{prefetch_block, prefetch_stream};
use crate::udf::MapColumn;
use polars_arrow::array::{Array, MutableBinaryViewArray, Utf8ViewArray, View};
use polars_arrow::datatypes::ArrowDataType;

/// Slots of the direct-mapped cache (a power of two): many times the distinct views of a
/// contract column, as colliding views evict each other (181 ICD-10 codes in a synthetic
/// extract missed on one row in ten with 256 slots; with 1,024 a run still missed 260,000 times
/// at 250,000 patients, each a hash of the string, 0.9 % of its instructions). An array's
/// cache is 128 KiB, filled once (4,096 stores); the row loop reads only its views' slots.
const SLOTS: usize = 4096;
/// No view is this value (its length would be 4 GiB), so it marks an empty slot.
const EMPTY: u128 = u128::MAX;

/// The cache slot of a view: its 16 bytes folded, the top bits of a multiplicative hash.
fn slot(key: u128) -> usize {
    const BITS: u32 = SLOTS.trailing_zeros();
    let folded = (key as u64) ^ ((key >> 64) as u64);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS)) as usize
}

/// `f` of each row's string (None where null), in row order, computing `f` once per distinct
/// string of each chunk.
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
    // Each row's result is pushed once, not filled in first and written again: the fill was a
    // memset of every row (1.2 % of a run's instructions).
    let mut distinct = Distinct::new(array, f);
    let views = array.views().as_slice();
    match array.validity().filter(|v| v.unset_bits() > 0) {
        None => map_valid(&mut distinct, 0, views, out),
        Some(validity) => {
            // Sixty-four rows at a time: a block of valid rows (most of a column with a few
            // nulls) runs as a column without nulls does, a block of nulls is one fill, and
            // only a mixed one tests its rows' bits.
            let mut blocks = validity.chunks::<u64>();
            let mut start = 0;
            for bits in blocks.by_ref() {
                prefetch_block(views, start..start + 64);
                map_block(
                    &mut distinct,
                    bits,
                    start,
                    &views[start..start + 64],
                    of_null,
                    out,
                );
                start += 64;
            }
            let last = blocks.remainder();
            map_block(&mut distinct, last, start, &views[start..], of_null, out);
        }
    }
}

/// Pushes the results of `views`, rows `start..` of the array, every one of them valid.
#[inline(always)]
fn map_valid<T: Copy + Default, F: FnMut(Option<&str>) -> T>(
    distinct: &mut Distinct<'_, T, F>,
    start: usize,
    views: &[View],
    out: &mut Vec<T>,
) {
    let rows = views.iter().enumerate();
    out.extend(rows.map(|(i, view)| {
        prefetch_stream(views, i);
        distinct.value(start + i, view.as_u128())
    }));
}

/// Pushes the results of up to 64 rows from `start` (`views`), valid where their bit of `bits`
/// is set (bit 0 is row `start`), `of_null` for the others.
#[inline(always)]
fn map_block<T: Copy + Default, F: FnMut(Option<&str>) -> T>(
    distinct: &mut Distinct<'_, T, F>,
    bits: u64,
    start: usize,
    views: &[View],
    of_null: T,
    out: &mut Vec<T>,
) {
    if views.len() == 64 && bits == u64::MAX {
        return map_valid(distinct, start, views, out);
    }
    if bits == 0 {
        return out.extend(std::iter::repeat_n(of_null, views.len()));
    }
    let rows = views.iter().enumerate();
    out.extend(rows.map(|(i, view)| match bits >> i & 1 {
        0 => of_null,
        _ => distinct.value(start + i, view.as_u128()),
    }));
}

/// One array's results by view: the cache in front, the map from each distinct string behind.
/// Reset per array: a view that points into a buffer means another string in another array.
struct Distinct<'a, T, F> {
    array: &'a Utf8ViewArray,
    f: &'a mut F,
    cache: Box<[(u128, T); SLOTS]>,
    results: HashMap<&'a str, T, FixedState>,
}

impl<'a, T: Copy + Default, F: FnMut(Option<&str>) -> T> Distinct<'a, T, F> {
    fn new(array: &'a Utf8ViewArray, f: &'a mut F) -> Self {
        Distinct {
            array,
            f,
            // Filled in place on the heap: `Box::new` of the array built its 128 KiB on the
            // stack (a thread's stack may be smaller) and copied them.
            cache: (vec![(EMPTY, T::default()); SLOTS]
                .into_boxed_slice()
                .try_into())
            .unwrap_or_else(|_| unreachable!("SLOTS entries")),
            results: HashMap::default(),
        }
    }

    /// The result of row `i` (a valid row, whose view is `key`): a cache hit is a load and a
    /// compare, inlined in the row loop; the rest is out of line.
    #[inline(always)]
    fn value(&mut self, i: usize, key: u128) -> T {
        let (cached, value) = self.cache[slot(key)];
        if cached == key {
            value
        } else {
            self.miss(i, key)
        }
    }

    #[cold]
    #[inline(never)]
    fn miss(&mut self, i: usize, key: u128) -> T {
        let text = self.array.value(i);
        let f = &mut self.f;
        let value = *self.results.entry(text).or_insert_with(|| f(Some(text)));
        self.cache[slot(key)] = (key, value);
        value
    }
}

/// Per row of the string column `expr`, `test` of its value (false where null), computed once
/// per distinct value of a chunk ([`map_distinct`]): one test per distinct code instead of a
/// vectorized pass per pattern or listed value over every row.
pub(crate) fn text_flags(expr: Expr, test: impl Fn(&str) -> bool + Send + Sync + 'static) -> Expr {
    expr.map_column(
        move |texts: Column| {
            let texts = texts.str()?;
            let flags = map_distinct(texts, |text| text.is_some_and(&test));
            Ok(boolean_column(texts.name().clone(), &flags).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// The string column `expr` with `f` of each value (null where null), computed once per distinct
/// value of a chunk ([`map_distinct_text`]): for normal forms of codes (trimmed, upper case).
pub(crate) fn normal_form(expr: Expr, f: fn(&str) -> String) -> Expr {
    expr.map_column(
        move |texts: Column| Ok(map_distinct_text(texts.str()?, f)?.into_column()),
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// The value without its leading and trailing whitespace (as polars' `strip_chars` of null).
pub(crate) fn trimmed(text: &str) -> String {
    text.trim().to_string()
}

/// `f` of each row's string as a string column (null where null), with `f` computed and its
/// result stored once per distinct string of each chunk: repeated rows share the result's view, as
/// the rows of a decoded dictionary page do, so a [`map_distinct`] over the result is cheap too.
pub(crate) fn map_distinct_text(
    texts: &StringChunked,
    mut f: impl FnMut(&str) -> String,
) -> PolarsResult<StringChunked> {
    let mut out = StringChunked::full_null(texts.name().clone(), 0);
    for array in texts.downcast_iter() {
        out.append_owned(text_chunk(array, &mut f)?)?;
    }
    Ok(out)
}

/// One array's results: each distinct result computed and stored once, and each row's view
/// its result's, written in the row loop (the results' buffers shared; a null row gets an empty
/// view behind the array's own validity). Positions first and
/// views gathered from them after cost a second pass (about 1 % of a run's instructions).
fn text_chunk(
    array: &Utf8ViewArray,
    f: &mut impl FnMut(&str) -> String,
) -> PolarsResult<StringChunked> {
    let mut results = MutableBinaryViewArray::<str>::new();
    // A result's view is final once pushed: it names the buffer its bytes go to (the one in
    // progress is the next completed one) or holds them inline.
    let mut view_of = |text: Option<&str>| match text.map(&mut *f).as_deref() {
        Some(result) => {
            results.push_value(result);
            *results.views().last().expect("a view was just pushed")
        }
        None => View::default(),
    };
    let of_null = View::default();
    let mut views = Vec::with_capacity(array.len());
    map_array(array, &mut view_of, of_null, &mut views);
    let results: Utf8ViewArray = results.freeze();
    // A row is null where its text is.
    let validity = (array.validity()).filter(|v| v.unset_bits() > 0).cloned();
    // SAFETY: every view is one `results` made for its own strings, inlined or pointing into
    // the buffers the array shares; or the empty view of a null row.
    let rows = unsafe {
        Utf8ViewArray::new_unchecked_unknown_md(
            ArrowDataType::Utf8View,
            views.into(),
            results.data_buffers().clone(),
            validity,
            None,
        )
    };
    Ok(StringChunked::with_chunk(PlSmallStr::EMPTY, rows))
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
        for i in 0..30_000 {
            rows.push(match i % 7 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(long.to_string()),
                3 => Some(format!("{long}-{}", i % 3)),
                4 => Some("718-7".to_string()),
                5 => Some(format!("code-{i}")), // 4,286 distinct values, more than SLOTS
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
        let texts = chunks(&rows, 10_000);
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
        assert_eq!(calls_of_lengths(&texts, &rows), 1 + 2 * values.len());
    }

    /// More distinct values than the cache has slots, and a long string behind a view of its
    /// own on every row (each push copies it): `f` still runs once per distinct string of a
    /// chunk, and each row gets its own string's result.
    #[test]
    fn f_runs_once_per_distinct_string_whatever_the_views() {
        let long = "a string longer than a view's twelve bytes";
        let rows: Vec<Option<String>> = (0..20_000)
            .map(|i| {
                Some(if i % 2 == 0 {
                    long.to_string()
                } else {
                    format!("v{}", i % 9000)
                })
            })
            .collect();
        let texts = chunks(&rows, 10_000);
        let first = texts.downcast_iter().next().unwrap();
        let long_views: std::collections::HashSet<u128> = (0..first.len())
            .step_by(2)
            .map(|i| first.views()[i].as_u128())
            .collect();
        assert_eq!(long_views.len(), 5000);
        // Once for null (up front), then per chunk of 10,000 rows: the long string, and the
        // 4,500 odd numbers below 9,000 (odd rows 1..9999 and 10001..19999 modulo 9,000 each
        // cover them), more than the cache's slots.
        const _: () = assert!(4500 > SLOTS);
        assert_eq!(calls_of_lengths(&texts, &rows), 1 + 2 * (1 + 4500));
    }

    /// Nulls in blocks of 64 rows: a block all valid, one all null, mixed ones, a partial last
    /// block, and the column sliced from row 3 so that its validity starts inside a byte. Each
    /// row's result is `f` of its own value; a null row's is `f(None)`.
    #[test]
    fn nulls_block_by_block() {
        let rows: Vec<Option<String>> = (0..300)
            .map(|i| {
                let null = (128..192).contains(&i) || (i >= 192 && i % 5 == 0) || i == 70;
                (!null).then(|| format!("u{}", i % 9))
            })
            .collect();
        let texts = StringChunked::from_iter(rows.iter().map(|r| r.as_deref()));
        assert_eq!(texts.chunks().len(), 1);
        let f = |t: Option<&str>| t.map_or(-1, |t| t[1..].parse::<i32>().unwrap());
        let expected: Vec<i32> = rows.iter().map(|r| f(r.as_deref())).collect();
        assert_eq!(map_distinct(&texts, f), expected);
        assert_eq!(map_distinct(&texts.slice(3, 250), f), expected[3..253]);
        // Rows 0..64 are all valid, 128..192 all null, 195 null: spelled out at the edges.
        assert_eq!(expected[63..65], [0, 1]);
        assert_eq!(expected[127..129], [1, -1]);
        assert_eq!(expected[191..196], [-1, 3, 4, 5, -1]);
    }

    /// Maps `texts` (a column of `rows`) to string lengths, checks each row's, and returns how
    /// many times `f` ran.
    fn calls_of_lengths(texts: &StringChunked, rows: &[Option<String>]) -> usize {
        let mut calls = 0;
        let lengths = map_distinct(texts, |t| {
            calls += 1;
            t.map(str::len)
        });
        let expected: Vec<Option<usize>> =
            rows.iter().map(|r| r.as_deref().map(str::len)).collect();
        assert_eq!(lengths, expected);
        calls
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

    /// Results short and long (kept in a buffer), nulls kept, over chunks and over a slice of
    /// them: each row's value is `f` of its own string, and a map over the result agrees too.
    #[test]
    fn text_results_agree_with_f_row_by_row() {
        let rows: Vec<Option<String>> = (0..2000)
            .map(|i| match i % 6 {
                0 => None,
                1 => Some(" c34.1 ".to_string()),
                2 => Some(format!("long value number {}", i % 4)),
                3 => Some(String::new()),
                4 => Some(format!("k92.{}", i % 10)),
                _ => Some("stra\u{df}e".to_string()),
            })
            .collect();
        let f = |t: &str| t.trim().to_uppercase().replace('.', "");
        let texts = chunks(&rows, 700);
        let out = map_distinct_text(&texts, f).unwrap();
        assert_eq!(out.chunks().len(), 3);
        let got: Vec<Option<String>> = out.iter().map(|v| v.map(str::to_string)).collect();
        let expected: Vec<Option<String>> = rows.iter().map(|r| r.as_deref().map(f)).collect();
        assert_eq!(got, expected);
        assert_eq!(expected[1].as_deref(), Some("C341"));
        assert_eq!(expected[5].as_deref(), Some("STRASSE"));
        // Sliced inside a byte of the validity and across the chunks' edges: the same rows.
        let sliced = map_distinct_text(&texts.slice(3, 1500), f).unwrap();
        let got: Vec<Option<String>> = sliced.iter().map(|v| v.map(str::to_string)).collect();
        assert_eq!(got, expected[3..1503]);
        let lengths = map_distinct(&out, |t| t.map(str::len));
        let expected: Vec<Option<usize>> = expected
            .iter()
            .map(|r| r.as_deref().map(str::len))
            .collect();
        assert_eq!(lengths, expected);
    }

    #[test]
    fn an_empty_column() {
        let empty = StringChunked::from_iter(std::iter::empty::<Option<&str>>());
        assert!(map_distinct(&empty, |t| t.is_some()).is_empty());
        assert!(map_distinct_text(&empty, trimmed).unwrap().is_empty());
        let nulls = StringChunked::full_null("nulls".into(), 3);
        let out = map_distinct_text(&nulls, trimmed).unwrap();
        assert_eq!(out.null_count(), 3);
        // Without nulls: no validity, each row its value.
        let full = StringChunked::from_iter([Some(" a "), Some("b"), Some(" a ")]);
        let out = map_distinct_text(&full, trimmed).unwrap();
        assert_eq!(out.null_count(), 0);
        let got: Vec<Option<&str>> = out.iter().collect();
        assert_eq!(got, [Some("a"), Some("b"), Some("a")]);
    }
}
