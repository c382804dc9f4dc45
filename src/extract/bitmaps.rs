//! Bitmaps packed from per-row values, eight rows to a byte, and read back a word at a time:
//! the Boolean columns and validities the engine builds from its own loops (polars sets such
//! bits one at a time through an iterator). A word column's bit is tested eight words at once,
//! and values compared eight to sixty-four at a time, with AVX-512 where the CPU has it
//! (`bitmaps/avx512.rs`), else with AVX2 (`bitmaps/avx2.rs`), else by a scalar loop here.

use polars::prelude::*;
use polars_arrow::array::View;
use polars_arrow::bitmap::Bitmap;

use crate::prefetch::{blocks, items_ahead, prefetch, prefetch_block};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(test)]
mod tests;

/// Returns `$built_for`, a call of a function built for the x86-64 CPU feature `$feature`
/// (AVX-512F, AVX2, BMI2), from the function it is in where the CPU has the feature
/// (`is_x86_feature_detected!` caches the answer); with `$portable`, that expression where not
/// (the same result computed without the feature). Each packer below tries its AVX-512 body,
/// then its AVX2 body, then its scalar loop; `report::word_pages` dispatches to BMI2.
macro_rules! with_cpu_feature {
    ($feature:tt, $built_for:expr) => {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!($feature) {
            // SAFETY: the CPU has the feature the function is built for, checked just above.
            return unsafe { $built_for };
        }
    };
    ($feature:tt, $built_for:expr, $portable:expr) => {{
        $crate::extract::bitmaps::with_cpu_feature!($feature, $built_for);
        $portable
    }};
}
pub(crate) use with_cpu_feature;

/// A Boolean column of `flags`, packed eight to a byte in one pass ([`packed`]).
pub(crate) fn boolean_column(name: PlSmallStr, flags: &[bool]) -> BooleanChunked {
    BooleanChunked::from_bitmap(name, packed(flags))
}

/// `flags` as a bitmap, packed eight to a byte in one pass: polars' `from_slice` and
/// `MutableBitmap::push` set them one bit at a time (5 % of `eligo check`'s CPU at 10 M
/// patients, the units of 115 M measurements among them).
pub(crate) fn packed(flags: &[bool]) -> Bitmap {
    let pack = |group: &[bool]| {
        group
            .iter()
            .enumerate()
            .fold(0u8, |byte, (i, flag)| byte | u8::from(*flag) << i)
    };
    // Eight flags (bytes of 0 or 1) read as one little-endian word: the multiplication moves
    // flag i (bit 8i) to bit 56 + i, with no carries between them, so the top byte is the
    // eight bits in order.
    let pack_eight = |group: &[bool]| {
        let word = u64::from_le_bytes(std::array::from_fn(|i| u8::from(group[i])));
        (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
    };
    packed_by_eight(flags, pack_eight, pack)
}

/// A bitmap of `values`, eight to a byte: `eight` packs each whole group of eight values,
/// `fewer` the last group where it is shorter.
pub(crate) fn packed_by_eight<T>(
    values: &[T],
    eight: impl Fn(&[T]) -> u8,
    fewer: impl Fn(&[T]) -> u8,
) -> Bitmap {
    let groups = values.chunks_exact(8);
    let last = groups.remainder();
    let mut bytes: Vec<u8> = Vec::with_capacity(values.len().div_ceil(8));
    bytes.extend(groups.map(eight));
    if !last.is_empty() {
        bytes.push(fewer(last));
    }
    Bitmap::from_u8_vec(bytes, values.len())
}

/// `each(row, bit)` for each of `rows` with its bit of `bits` (as many bits as rows),
/// sixty-four rows to a word of the bitmap: each row's bit by a shift, a loop the compiler can
/// unroll, where an iterator of bits or of the false bits alone cost a branch a row.
pub(crate) fn with_bits<T>(rows: &mut [T], bits: &Bitmap, mut each: impl FnMut(&mut T, bool)) {
    debug_assert_eq!(rows.len(), bits.len(), "a bit per row");
    let words = bits.chunks::<u64>();
    let last = words.remainder();
    for (rows, word) in rows.chunks_mut(64).zip(words.chain(std::iter::once(last))) {
        for (i, row) in rows.iter_mut().enumerate() {
            each(row, word >> i & 1 != 0);
        }
    }
}

/// Each of `words` where its bit of `keep` is set, 0 where not, appended to `kept` (as many
/// bits as words): the treatments' drug words kept where an atom selects the row
/// (`engine::codes::selected_words`), in the pass that copies them. Scalar, a row's bit is a
/// shift and a mask, and the one pass took as many samples as the copy and a pass over it
/// (about 540 at 10 M, `perf`); AVX-512's masked load keeps or zeroes eight words in one
/// (about 380, the stores to new memory), AVX2's and with a mask of lanes four.
pub(crate) fn kept_by_bits(words: &[u64], keep: &Bitmap, kept: &mut Vec<u64>) {
    debug_assert_eq!(words.len(), keep.len(), "a bit per word");
    with_cpu_feature!("avx512f", avx512::kept_by_bits(words, keep, kept));
    with_cpu_feature!("avx2", avx2::kept_by_bits(words, keep, kept));
    kept_by_bits_scalar(words, keep, kept)
}

fn kept_by_bits_scalar(words: &[u64], keep: &Bitmap, kept: &mut Vec<u64>) {
    let bits = keep.chunks::<u64>();
    let last = bits.remainder();
    for (words, bits) in words.chunks(64).zip(bits.chain(std::iter::once(last))) {
        let mask = |i: usize| 0u64.wrapping_sub(bits >> i & 1);
        kept.extend((words.iter().enumerate()).map(|(i, word)| word & mask(i)));
    }
}

/// [`kept_by_bits`] a run of 64 words at a time: `keep_64` writes each whole run's words, given
/// the run's 64 bits of `keep` (bit i for word i), into its 64 items of `kept`'s spare capacity;
/// the words after the last whole run as [`kept_by_bits_scalar`] keeps them.
///
/// # Safety
/// `keep_64` writes every one of the 64 items it is given.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn kept_by_runs(
    words: &[u64],
    keep: &Bitmap,
    kept: &mut Vec<u64>,
    keep_64: impl Fn(&[u64], &mut [std::mem::MaybeUninit<u64>], u64),
) {
    let whole = words.len() - words.len() % 64;
    kept.reserve(words.len());
    let out = &mut kept.spare_capacity_mut()[..whole];
    let runs = words.chunks_exact(64).zip(out.chunks_exact_mut(64));
    for ((these, out), bits) in runs.zip(keep.chunks::<u64>()) {
        keep_64(these, out, bits);
    }
    // SAFETY: the first `whole` spare items were written above, 64 per run (the caller's
    // promise).
    unsafe { kept.set_len(kept.len() + whole) };
    let rest = keep.clone().sliced(whole, words.len() - whole);
    kept_by_bits_scalar(&words[whole..], &rest, kept);
}

/// Per word of `words`, whether it has a bit of `mask` set, packed eight words to a byte: the
/// code sets' and drugs' bits of a word column (`engine::codes::bit_of`), one pass per bit a
/// definition reads (about 80 passes over a partition's per-patient words). Scalar, a word's
/// test, set and shift are about four instructions (1.8 % of a 10 M run's samples); AVX-512's
/// `vptestmq` tests eight words in one, AVX2's compare four.
pub(crate) fn words_with_bit(words: &[u64], mask: u64) -> Bitmap {
    with_cpu_feature!("avx512f", avx512::words_with_bit(words, mask));
    with_cpu_feature!("avx2", avx2::words_with_bit(words, mask));
    words_with_bit_scalar(words, mask)
}

fn words_with_bit_scalar(words: &[u64], mask: u64) -> Bitmap {
    packed_where(words, |word| word & mask != 0)
}

/// `test` of each of `values`, packed eight values to a byte.
pub(crate) fn packed_where<T: Copy>(values: &[T], test: impl Fn(T) -> bool) -> Bitmap {
    let byte = |group: &[T]| {
        (group.iter().enumerate()).fold(0u8, |byte, (i, &value)| byte | u8::from(test(value)) << i)
    };
    packed_by_eight(values, byte, byte)
}

/// `values` packed a group of `LANES` (a multiple of eight) at a time: `group_bits` gives a whole
/// group's bits (bit i for its value i, as an AVX-512 compare's mask register holds them and
/// AVX2's `movemask` reads them),
/// `test` each value of the last, shorter group. With `AHEAD`, each group's line
/// [`STREAM_AHEAD_BYTES`](crate::prefetch) ahead is asked for first.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn packed_by_groups<T: Copy, const LANES: usize, const AHEAD: bool>(
    values: &[T],
    group_bits: impl Fn(&[T]) -> u64,
    test: impl Fn(T) -> bool,
) -> Bitmap {
    let groups = values.chunks_exact(LANES);
    let last = groups.remainder();
    // Written in place: bytes pushed a group at a time (a length check and a copy of one to
    // eight bytes each) took `words_with_bit` from about 500 samples to 840 at 10 M.
    let mut bytes = vec![0u8; values.len().div_ceil(8)];
    let (whole, rest) = bytes.split_at_mut(values.len() / LANES * (LANES / 8));
    for (g, (group, out)) in groups.zip(whole.chunks_exact_mut(LANES / 8)).enumerate() {
        if AHEAD {
            prefetch(values, g * LANES + items_ahead::<T>());
        }
        out.copy_from_slice(&group_bits(group).to_le_bytes()[..LANES / 8]);
    }
    rest.copy_from_slice(packed_where(last, test).as_slice().0);
    Bitmap::from_u8_vec(bytes, values.len())
}

/// The view of `text` as a `u128`, where `text` is held in it (at most
/// [`View::MAX_INLINE_SIZE`] bytes: its length, then its bytes, zero-padded); None for a longer
/// text, which a view only points to.
pub(crate) fn inline_view(text: &str) -> Option<u128> {
    let inline = u32::try_from(text.len()).is_ok_and(|len| len <= View::MAX_INLINE_SIZE);
    inline.then(|| View::new_inline(text.as_bytes()).as_u128())
}

/// Per view of `views`, whether it is `wanted` (an [`inline_view`]: a string held in its view
/// is equal where its view is, as polars' own comparison tests it), packed eight views to a
/// byte, each block's views asked for ahead: a string column's comparison is the first pass over
/// it since it was decoded (the treatments' `kind is`).
pub(crate) fn views_equal(views: &[View], wanted: u128) -> Bitmap {
    let mut bytes: Vec<u8> = Vec::with_capacity(views.len().div_ceil(8));
    // Blocks of `BLOCK` views, a whole number of bytes, so each block's bytes follow the last.
    for block in blocks(views.len()) {
        prefetch_block(views, block.clone());
        let equal = packed_where(&views[block], |view| view.as_u128() == wanted);
        bytes.extend_from_slice(equal.as_slice().0);
    }
    Bitmap::from_u8_vec(bytes, views.len())
}

/// Per value of `values`, whether it is `value`, packed eight values to a byte: sixteen at a
/// time with AVX-512 (`vpcmpeqd`) or AVX2 where the CPU has it. polars' comparison of a column
/// with a literal sets its result's bits one at a time.
pub(crate) fn u32s_equal(values: &[u32], value: u32) -> Bitmap {
    with_cpu_feature!("avx512f", avx512::u32s_equal(values, value));
    with_cpu_feature!("avx2", avx2::u32s_equal(values, value));
    u32s_equal_scalar(values, value)
}

fn u32s_equal_scalar(values: &[u32], value: u32) -> Bitmap {
    packed_where(values, |v| v == value)
}

/// Per value of `values`, whether it is `value`, packed eight values to a byte: sixty-four at a
/// time with AVX-512BW (`vpcmpeqb`) or AVX2 where the CPU has it. An `any` atom's per-patient codes
/// (`engine::compile::answers`): as a slice of flags packed after, two passes and about a
/// third of a percent of a 10 M run's samples for the two tests of each code.
pub(crate) fn i8s_equal(values: &[i8], value: i8) -> Bitmap {
    with_cpu_feature!("avx512bw", avx512::i8s_equal(values, value));
    with_cpu_feature!("avx2", avx2::i8s_equal(values, value));
    packed_where(values, |v| v == value)
}

/// Per value of `values`, whether it is odd (its lowest bit set), packed eight values to a byte:
/// sixteen at a time with AVX-512F (`vptestmd`) or AVX2 where the CPU has it. A `latest` atom's
/// per-patient keys, whose last bit is the tied records' truth.
pub(crate) fn i32s_odd(values: &[i32]) -> Bitmap {
    with_cpu_feature!("avx512f", avx512::i32s_odd(values));
    with_cpu_feature!("avx2", avx2::i32s_odd(values));
    packed_where(values, |v| v & 1 != 0)
}

/// Days back from a base date: a window's bounds, each a number of days before the base (Int32
/// arithmetic, wrapping as polars subtracts), None where the window has no such bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DaysBack {
    /// The earliest date is `base - from`.
    pub from: Option<i32>,
    /// The latest date is `base - until`.
    pub until: Option<i32>,
}

impl DaysBack {
    /// Whether `date` lies in the window of `base`.
    #[inline(always)]
    fn holds(self, date: i32, base: i32) -> bool {
        self.from.is_none_or(|days| date >= base.wrapping_sub(days))
            && self
                .until
                .is_none_or(|days| date <= base.wrapping_sub(days))
    }
}

/// Per pair of `dates` and `bases` (as many), whether the date lies in the window of its base
/// ([`DaysBack`]), packed eight pairs to a byte: sixteen pairs at a time with AVX-512F
/// (`vpcmpd`) or AVX2 where the CPU has it, else a loop the compiler vectorizes into flags
/// packed after.
/// The record windows of the atoms that polars evaluates (the treatments', most of them).
pub(crate) fn dates_within(dates: &[i32], bases: &[i32], window: DaysBack) -> Bitmap {
    debug_assert_eq!(dates.len(), bases.len(), "a base per date");
    with_cpu_feature!("avx512f", avx512::dates_within(dates, bases, window));
    with_cpu_feature!("avx2", avx2::dates_within(dates, bases, window));
    dates_within_scalar(dates, bases, window)
}

/// [`dates_within`] sixteen pairs at a time: `group_bits` gives a whole group's two bytes (bit i
/// for pair i) from its sixteen dates and bases, the lines of both columns a group asks for
/// ahead ([`crate::prefetch`]); the last, shorter group as [`dates_within_scalar`] packs it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn dates_by_groups(
    dates: &[i32],
    bases: &[i32],
    window: DaysBack,
    group_bits: impl Fn(&[i32], &[i32]) -> u16,
) -> Bitmap {
    let len = dates.len().min(bases.len());
    let whole = len / 16 * 16;
    let mut bytes = vec![0u8; len.div_ceil(8)];
    let groups = dates[..whole]
        .chunks_exact(16)
        .zip(bases[..whole].chunks_exact(16));
    for (g, ((date, base), out)) in groups.zip(bytes.chunks_exact_mut(2)).enumerate() {
        prefetch(dates, g * 16 + items_ahead::<i32>());
        prefetch(bases, g * 16 + items_ahead::<i32>());
        out.copy_from_slice(&group_bits(date, base).to_le_bytes());
    }
    let last = dates_within_scalar(&dates[whole..len], &bases[whole..len], window);
    bytes[whole / 8..].copy_from_slice(last.as_slice().0);
    Bitmap::from_u8_vec(bytes, len)
}

fn dates_within_scalar(dates: &[i32], bases: &[i32], window: DaysBack) -> Bitmap {
    let mut flags: Vec<bool> = Vec::with_capacity(dates.len());
    // A block at a time, the lines ahead asked for first (`crate::prefetch`).
    for rows in blocks(dates.len()) {
        prefetch_block(dates, rows.clone());
        prefetch_block(bases, rows.clone());
        let pairs = dates[rows.clone()].iter().zip(&bases[rows]);
        flags.extend(pairs.map(|(&date, &base)| window.holds(date, base)));
    }
    packed(&flags)
}
