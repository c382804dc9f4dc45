//! Bitmaps packed from per-row values, eight rows to a byte, and read back a word at a time:
//! the Boolean columns and validities the engine builds from its own loops (polars sets such
//! bits one at a time through an iterator). A word column's bit is tested eight words at once
//! with AVX-512 where the CPU has it.

use polars::prelude::*;
use polars_arrow::array::View;
use polars_arrow::bitmap::Bitmap;

use crate::prefetch::{blocks, items_ahead, prefetch, prefetch_block};

/// `$built_for`, a call of a function built for the x86-64 CPU feature `$feature` (an AVX-512
/// extension, BMI2), where the CPU has it (`is_x86_feature_detected!` caches the answer); else
/// `$portable`, the same result computed without it. The tail of the function it is in: every
/// packer below with an AVX-512 body dispatches through it, as `report::word_pages` does for
/// BMI2.
macro_rules! with_cpu_feature {
    ($feature:tt, $built_for:expr, $portable:expr) => {{
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!($feature) {
            // SAFETY: the CPU has the feature the function is built for, checked just above.
            return unsafe { $built_for };
        }
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
/// (about 380, the stores to new memory).
pub(crate) fn kept_by_bits(words: &[u64], keep: &Bitmap, kept: &mut Vec<u64>) {
    debug_assert_eq!(words.len(), keep.len(), "a bit per word");
    with_cpu_feature!(
        "avx512f",
        kept_by_bits_avx512(words, keep, kept),
        kept_by_bits_scalar(words, keep, kept)
    )
}

fn kept_by_bits_scalar(words: &[u64], keep: &Bitmap, kept: &mut Vec<u64>) {
    let bits = keep.chunks::<u64>();
    let last = bits.remainder();
    for (words, bits) in words.chunks(64).zip(bits.chain(std::iter::once(last))) {
        let mask = |i: usize| 0u64.wrapping_sub(bits >> i & 1);
        kept.extend((words.iter().enumerate()).map(|(i, word)| word & mask(i)));
    }
}

/// [`kept_by_bits`] with AVX-512F: the words of each whole 64 bits of `keep`, eight at a time by
/// a load that zeroes the words whose bits are not set (`vmovdqu64` with a zeroing mask), the
/// rest as [`kept_by_bits_scalar`] keeps them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn kept_by_bits_avx512(words: &[u64], keep: &Bitmap, kept: &mut Vec<u64>) {
    use std::arch::x86_64::{_mm512_maskz_loadu_epi64, _mm512_storeu_si512};
    let bits = keep.chunks::<u64>();
    let whole = words.len() - words.len() % 64;
    kept.reserve(words.len());
    let out = &mut kept.spare_capacity_mut()[..whole];
    let groups = words.chunks_exact(64).zip(out.chunks_exact_mut(64));
    for ((these, out), bits) in groups.zip(bits) {
        for eighth in 0..8 {
            // SAFETY: eight u64s from `8 * eighth` lie within the 64 of `these` and of `out`;
            // a zeroing masked load reads only the words whose bits are set.
            unsafe {
                let at = 8 * eighth;
                let group = (bits >> at) as u8;
                let group = _mm512_maskz_loadu_epi64(group, these.as_ptr().add(at).cast());
                _mm512_storeu_si512(out.as_mut_ptr().add(at).cast(), group);
            }
        }
    }
    // SAFETY: the first `whole` spare items were written above, 64 per whole word of bits.
    unsafe { kept.set_len(kept.len() + whole) };
    let rest = keep.clone().sliced(whole, words.len() - whole);
    kept_by_bits_scalar(&words[whole..], &rest, kept);
}

/// Per word of `words`, whether it has a bit of `mask` set, packed eight words to a byte: the
/// code sets' and drugs' bits of a word column (`engine::codes::bit_of`), one pass per bit a
/// definition reads (about 80 passes over a partition's per-patient words). Scalar, a word's
/// test, set and shift are about four instructions (1.8 % of a 10 M run's samples); AVX-512's
/// `vptestmq` tests eight words in one.
pub(crate) fn words_with_bit(words: &[u64], mask: u64) -> Bitmap {
    with_cpu_feature!(
        "avx512f",
        words_with_bit_avx512(words, mask),
        words_with_bit_scalar(words, mask)
    )
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
/// group's bits (bit i for its value i, as an AVX-512 compare's mask register holds them),
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

/// [`words_with_bit`] with AVX-512F: each whole group of eight words by one `vptestmq`, whose
/// mask register is the group's byte (bit i for word i); the last, shorter group as the scalar
/// loop packs it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn words_with_bit_avx512(words: &[u64], mask: u64) -> Bitmap {
    use std::arch::x86_64::{_mm512_loadu_si512, _mm512_set1_epi64, _mm512_test_epi64_mask};
    let masks = _mm512_set1_epi64(mask as i64);
    let group_bits = |group: &[u64]| {
        // SAFETY: `group` is eight u64s, the 64 bytes an unaligned load reads.
        let group = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
        u64::from(_mm512_test_epi64_mask(group, masks))
    };
    packed_by_groups::<_, 8, false>(words, group_bits, |word| word & mask != 0)
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
/// time with AVX-512 (`vpcmpeqd`) where the CPU has it. polars' comparison of a column with a
/// literal sets its result's bits one at a time.
pub(crate) fn u32s_equal(values: &[u32], value: u32) -> Bitmap {
    with_cpu_feature!(
        "avx512f",
        u32s_equal_avx512(values, value),
        u32s_equal_scalar(values, value)
    )
}

fn u32s_equal_scalar(values: &[u32], value: u32) -> Bitmap {
    packed_where(values, |v| v == value)
}

/// [`u32s_equal`] with AVX-512F: each whole group of sixteen values by one compare, whose mask
/// is the group's two bytes; the last, shorter group as the scalar loop packs it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn u32s_equal_avx512(values: &[u32], value: u32) -> Bitmap {
    use std::arch::x86_64::{_mm512_cmpeq_epu32_mask, _mm512_loadu_si512, _mm512_set1_epi32};
    let wanted = _mm512_set1_epi32(value as i32);
    let group_bits = |group: &[u32]| {
        // SAFETY: `group` is sixteen u32s, the 64 bytes an unaligned load reads.
        let group = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
        u64::from(_mm512_cmpeq_epu32_mask(group, wanted))
    };
    packed_by_groups::<_, 16, false>(values, group_bits, |v| v == value)
}

/// Per value of `values`, whether it is `value`, packed eight values to a byte: sixty-four at a
/// time with AVX-512BW (`vpcmpeqb`) where the CPU has it. An `any` atom's per-patient codes
/// (`engine::compile::answers`): as a slice of flags packed after, two passes and about a
/// third of a percent of a 10 M run's samples for the two tests of each code.
pub(crate) fn i8s_equal(values: &[i8], value: i8) -> Bitmap {
    with_cpu_feature!(
        "avx512bw",
        i8s_equal_avx512(values, value),
        packed_where(values, |v| v == value)
    )
}

/// [`i8s_equal`] with AVX-512BW: each whole group of sixty-four values by one compare, whose
/// mask is the group's eight bytes, a line asked for ahead of each (the codes are a pass over a
/// per-patient column written a while before: without the asks, the flags pass this replaced
/// took a fifth more samples at 10 M); the last, shorter group as the scalar loop packs it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn i8s_equal_avx512(values: &[i8], value: i8) -> Bitmap {
    use std::arch::x86_64::{_mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_set1_epi8};
    let wanted = _mm512_set1_epi8(value);
    let group_bits = |group: &[i8]| {
        // SAFETY: `group` is sixty-four i8s, the 64 bytes an unaligned load reads.
        let group = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
        _mm512_cmpeq_epi8_mask(group, wanted)
    };
    packed_by_groups::<_, 64, true>(values, group_bits, |v| v == value)
}

/// Per value of `values`, whether it is odd (its lowest bit set), packed eight values to a byte:
/// sixteen at a time with AVX-512F (`vptestmd`) where the CPU has it. A `latest` atom's
/// per-patient keys, whose last bit is the tied records' truth.
pub(crate) fn i32s_odd(values: &[i32]) -> Bitmap {
    with_cpu_feature!(
        "avx512f",
        i32s_odd_avx512(values),
        packed_where(values, |v| v & 1 != 0)
    )
}

/// [`i32s_odd`] with AVX-512F, as [`i8s_equal_avx512`] goes: sixteen values a group (`vptestmd`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn i32s_odd_avx512(values: &[i32]) -> Bitmap {
    use std::arch::x86_64::{_mm512_loadu_si512, _mm512_set1_epi32, _mm512_test_epi32_mask};
    let ones = _mm512_set1_epi32(1);
    let group_bits = |group: &[i32]| {
        // SAFETY: `group` is sixteen i32s, the 64 bytes an unaligned load reads.
        let group = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
        u64::from(_mm512_test_epi32_mask(group, ones))
    };
    packed_by_groups::<_, 16, true>(values, group_bits, |v| v & 1 != 0)
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
/// (`vpcmpd`) where the CPU has it, else a loop the compiler vectorizes into flags packed after.
/// The record windows of the atoms that polars evaluates (the treatments', most of them).
pub(crate) fn dates_within(dates: &[i32], bases: &[i32], window: DaysBack) -> Bitmap {
    debug_assert_eq!(dates.len(), bases.len(), "a base per date");
    with_cpu_feature!(
        "avx512f",
        dates_within_avx512(dates, bases, window),
        dates_within_scalar(dates, bases, window)
    )
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

/// [`dates_within`] with AVX-512F: each whole group of sixteen pairs by one or two compares
/// against the bases less the days, the lines of both columns a group asks for ahead
/// (`crate::prefetch`); the last, shorter group as the scalar loop packs it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn dates_within_avx512(dates: &[i32], bases: &[i32], window: DaysBack) -> Bitmap {
    use std::arch::x86_64::{
        _mm512_cmpge_epi32_mask, _mm512_cmple_epi32_mask, _mm512_loadu_si512, _mm512_set1_epi32,
        _mm512_sub_epi32,
    };
    let len = dates.len().min(bases.len());
    let whole = len / 16 * 16;
    let from = window.from.map(|days| _mm512_set1_epi32(days));
    let until = window.until.map(|days| _mm512_set1_epi32(days));
    let mut bytes = vec![0u8; len.div_ceil(8)];
    let groups = dates[..whole]
        .chunks_exact(16)
        .zip(bases[..whole].chunks_exact(16));
    for (g, ((date, base), out)) in groups.zip(bytes.chunks_exact_mut(2)).enumerate() {
        prefetch(dates, g * 16 + items_ahead::<i32>());
        prefetch(bases, g * 16 + items_ahead::<i32>());
        // SAFETY: `date` and `base` are sixteen i32s each, the 64 bytes an unaligned load reads.
        let (date, base) = unsafe {
            (
                _mm512_loadu_si512(date.as_ptr().cast()),
                _mm512_loadu_si512(base.as_ptr().cast()),
            )
        };
        let mut bits = u16::MAX;
        if let Some(days) = from {
            bits &= _mm512_cmpge_epi32_mask(date, _mm512_sub_epi32(base, days));
        }
        if let Some(days) = until {
            bits &= _mm512_cmple_epi32_mask(date, _mm512_sub_epi32(base, days));
        }
        out.copy_from_slice(&bits.to_le_bytes());
    }
    let last = dates_within_scalar(&dates[whole..len], &bases[whole..len], window);
    bytes[whole / 8..].copy_from_slice(last.as_slice().0);
    Bitmap::from_u8_vec(bytes, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row gets its own bit, over several words and a last short one, from a bitmap that
    /// starts inside a byte (a slice at offset 3): the rows' bits as the bitmap's iterator reads
    /// them, rows 0 to 149 of a pattern with no period of 64.
    #[test]
    fn each_row_gets_its_own_bit() {
        let whole = Bitmap::from_iter((0..153).map(|i: usize| (i * i + i / 7) % 5 < 2));
        let bits = whole.sliced(3, 150);
        let mut rows: Vec<Option<bool>> = vec![None; 150];
        with_bits(&mut rows, &bits, |row, bit| *row = Some(bit));
        let expected: Vec<Option<bool>> = bits.iter().map(Some).collect();
        assert_eq!(rows, expected);
    }

    /// Words kept where their bits are set and zeroed where not, appended after what `kept`
    /// held, for every length to 200 (no whole word of bits, several, and a remainder) of a
    /// bitmap starting inside a byte: by the dispatch (AVX-512 where the CPU has it) and by the
    /// scalar loop, each against the bits one at a time.
    #[test]
    fn words_kept_where_their_bits_are_set() {
        let whole = Bitmap::from_iter((0..203).map(|i: usize| (i * i + i / 7) % 5 < 2));
        for len in 0..=200 {
            let keep = whole.clone().sliced(3, len);
            let words: Vec<u64> = (0..len as u64).map(|i| i * 0x9E37_79B9 + 1).collect();
            let mut expected = vec![7, 8];
            let one_at_a_time = words.iter().zip(keep.iter());
            expected.extend(one_at_a_time.map(|(&word, bit)| if bit { word } else { 0 }));
            let mut kept = vec![7, 8];
            kept_by_bits(&words, &keep, &mut kept);
            assert_eq!(kept, expected, "{len} words");
            let mut scalar = vec![7, 8];
            kept_by_bits_scalar(&words, &keep, &mut scalar);
            assert_eq!(scalar, expected, "{len} words, scalar");
        }
    }

    /// Flags packed eight to a byte read back as the same booleans, for lengths around whole
    /// bytes (0, 1, 7, 8, 9, 17) and a pattern with no period of 8.
    #[test]
    fn boolean_columns_hold_their_flags() {
        for len in [0usize, 1, 7, 8, 9, 17] {
            let flags: Vec<bool> = (0..len).map(|i| i % 3 == 0 || i == 7).collect();
            let column = boolean_column("f".into(), &flags);
            let read: Vec<Option<bool>> = column.iter().collect();
            let expected: Vec<Option<bool>> = flags.iter().map(|f| Some(*f)).collect();
            assert_eq!(read, expected, "{len} flags");
            assert_eq!(column.null_count(), 0);
        }
    }

    /// Every group of eight flags packs to the byte whose bit i is flag i: all 256 patterns,
    /// one after another, then a remainder of three.
    #[test]
    fn every_byte_of_flags_packs_to_its_bits() {
        let mut flags: Vec<bool> = (0..=255u8)
            .flat_map(|byte| (0..8).map(move |i| byte >> i & 1 == 1))
            .collect();
        flags.extend([true, false, true]);
        let bitmap = packed(&flags);
        let (bytes, offset, len) = bitmap.as_slice();
        assert_eq!((offset, len), (0, 256 * 8 + 3));
        let expected: Vec<u8> = (0..=255u8).chain([0b101]).collect();
        assert_eq!(bytes, expected.as_slice());
    }

    /// Words whose bit is tested: every length from 0 to 40 (whole groups of eight and each
    /// shorter last group) and every bit, the highest and lowest among them, against the bit
    /// read one word at a time; a mask of several bits tests for any of them.
    #[test]
    fn each_words_bit_packs_to_its_row() {
        let words: Vec<u64> = (0..40u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(i as u32))
            .collect();
        for len in 0..=words.len() {
            let words = &words[..len];
            for bit in [0, 1, 7, 31, 32, 62, 63] {
                let got: Vec<bool> = words_with_bit(words, 1 << bit).iter().collect();
                let expected: Vec<bool> = words.iter().map(|w| w >> bit & 1 == 1).collect();
                assert_eq!(got, expected, "bit {bit} of {len} words");
                let scalar: Vec<bool> = words_with_bit_scalar(words, 1 << bit).iter().collect();
                assert_eq!(scalar, expected, "bit {bit} of {len} words, scalar");
            }
        }
        // 0b1010 is any of bits 1 and 3: 2 (0b10), 8, 10 and 15 have one, 0, 1, 4 and 5 none.
        let words = [0u64, 2, 8, 1, 10, 4, 15, 5, 2];
        let got: Vec<bool> = words_with_bit(&words, 0b1010).iter().collect();
        let expected = [false, true, true, false, true, false, true, false, true];
        assert_eq!(got, expected);
    }

    /// Values compared with one of them: every length from 0 to 40 (whole groups of sixteen,
    /// of eight, and shorter last groups), against the comparison one value at a time.
    #[test]
    fn each_value_equal_to_the_key_packs_to_its_row() {
        let values: Vec<u32> = (0..40u32).map(|i| (i * 7 + i / 5) % 6).collect();
        for len in 0..=values.len() {
            let values = &values[..len];
            for key in [0, 3, 5, 6, u32::MAX] {
                let expected: Vec<bool> = values.iter().map(|&v| v == key).collect();
                let got: Vec<bool> = u32s_equal(values, key).iter().collect();
                assert_eq!(got, expected, "{key} among {len} values");
                let scalar: Vec<bool> = u32s_equal_scalar(values, key).iter().collect();
                assert_eq!(scalar, expected, "{key} among {len} values, scalar");
            }
        }
    }

    /// Codes and keys tested against the test one value at a time, for every length from 0 to
    /// 150: whole groups of sixty-four (the codes) and sixteen (the keys), and shorter last
    /// groups. The codes take every value an i8 can, the keys both signs and both ends.
    #[test]
    fn codes_equal_and_odd_keys_pack_to_their_rows() {
        let codes: Vec<i8> = (0..150i32)
            .map(|i| ((i * 37 + i / 9) % 256 - 128) as i8)
            .collect();
        let keys: Vec<i32> = (0..150i32)
            .map(|i| match i % 11 {
                0 => i32::MIN,
                1 => i32::MAX,
                2 => -1,
                _ => i.wrapping_mul(2_654_435) - 1_000_000,
            })
            .collect();
        for len in 0..=codes.len() {
            for code in [-128i8, -1, 0, 1, 2, 127] {
                let expected: Vec<bool> = codes[..len].iter().map(|&c| c == code).collect();
                let got: Vec<bool> = i8s_equal(&codes[..len], code).iter().collect();
                assert_eq!(got, expected, "{code} among {len} codes");
            }
            let expected: Vec<bool> = keys[..len].iter().map(|&k| k % 2 != 0).collect();
            let got: Vec<bool> = i32s_odd(&keys[..len]).iter().collect();
            assert_eq!(got, expected, "odd among {len} keys");
        }
    }

    /// Dates within windows of their bases, tested against the window one pair at a time, for
    /// every length from 0 to 70 (whole groups of sixteen and shorter last groups) and every
    /// kind of window: both bounds, only the latest, only the earliest, none. The pairs take in
    /// the bounds' edges (a day either side) and both ends of Int32, where `base - days` wraps.
    #[test]
    fn dates_within_windows_pack_to_their_rows() {
        let bases: Vec<i32> = (0..70i32)
            .map(|i| match i % 13 {
                0 => i32::MIN,
                1 => i32::MAX,
                _ => 20_000 + i * 3,
            })
            .collect();
        let dates: Vec<i32> = (bases.iter().enumerate())
            .map(|(i, &base)| base.wrapping_sub([-1, 0, 1, 29, 30, 31, 365][i % 7]))
            .collect();
        let windows = [
            (Some(30), Some(0)),
            (None, Some(30)),
            (Some(14), None),
            (None, None),
            (Some(-5), Some(-1)),
        ];
        for (from, until) in windows {
            let window = DaysBack { from, until };
            for len in 0..=dates.len() {
                let (dates, bases) = (&dates[..len], &bases[..len]);
                let expected: Vec<bool> = (dates.iter().zip(bases))
                    .map(|(&date, &base)| {
                        from.is_none_or(|days| date >= base.wrapping_sub(days))
                            && until.is_none_or(|days| date <= base.wrapping_sub(days))
                    })
                    .collect();
                let got: Vec<bool> = dates_within(dates, bases, window).iter().collect();
                assert_eq!(got, expected, "{window:?} over {len} pairs");
                let scalar: Vec<bool> = dates_within_scalar(dates, bases, window).iter().collect();
                assert_eq!(scalar, expected, "{window:?} over {len} pairs, scalar");
            }
        }
    }
}
