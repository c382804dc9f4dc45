//! The packers' AVX-512 bodies, which `bitmaps.rs` calls where the CPU has AVX-512: a compare or
//! test of eight to sixty-four lanes gives its bits in a mask register, one bit per lane, in the
//! order the bitmap holds them.

use std::mem::MaybeUninit;

use polars_arrow::bitmap::Bitmap;

use super::{dates_by_groups, kept_by_runs, packed_by_groups, DaysBack};

/// [`kept_by_bits`](super::kept_by_bits) with AVX-512F: the words of each whole 64 bits of
/// `keep`, eight at a time by a load that zeroes the words whose bits are not set (`vmovdqu64`
/// with a zeroing mask); the rest as [`kept_by_runs`] keeps them.
#[target_feature(enable = "avx512f")]
pub(super) fn kept_by_bits(words: &[u64], keep: &Bitmap, kept: &mut Vec<u64>) {
    use std::arch::x86_64::{_mm512_maskz_loadu_epi64, _mm512_storeu_si512};
    let keep_64 = |these: &[u64], out: &mut [MaybeUninit<u64>], bits: u64| {
        for at in (0..64).step_by(8) {
            // SAFETY: eight u64s from `at` lie within the 64 of `these` and of `out`; a zeroing
            // masked load reads only the words whose bits are set.
            unsafe {
                let eight =
                    _mm512_maskz_loadu_epi64((bits >> at) as u8, these.as_ptr().add(at).cast());
                _mm512_storeu_si512(out.as_mut_ptr().add(at).cast(), eight);
            }
        }
    };
    // SAFETY: `keep_64` writes all 64 words of each run, eight at a time.
    unsafe { kept_by_runs(words, keep, kept, keep_64) }
}

/// [`words_with_bit`](super::words_with_bit) with AVX-512F: each whole group of eight words by
/// one `vptestmq`, whose mask register is the group's byte (bit i for word i); the last,
/// shorter group as the scalar loop packs it.
#[target_feature(enable = "avx512f")]
pub(super) fn words_with_bit(words: &[u64], mask: u64) -> Bitmap {
    use std::arch::x86_64::{_mm512_loadu_si512, _mm512_set1_epi64, _mm512_test_epi64_mask};
    let masks = _mm512_set1_epi64(mask as i64);
    let group_bits = |group: &[u64]| {
        // SAFETY: `group` is eight u64s, the 64 bytes an unaligned load reads.
        let group = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
        u64::from(_mm512_test_epi64_mask(group, masks))
    };
    packed_by_groups::<_, 8, false>(words, group_bits, |word| word & mask != 0)
}

/// [`u32s_equal`](super::u32s_equal) with AVX-512F: each whole group of sixteen values by one
/// compare, whose mask is the group's two bytes; the last, shorter group as the scalar loop
/// packs it.
#[target_feature(enable = "avx512f")]
pub(super) fn u32s_equal(values: &[u32], value: u32) -> Bitmap {
    use std::arch::x86_64::{_mm512_cmpeq_epu32_mask, _mm512_loadu_si512, _mm512_set1_epi32};
    let wanted = _mm512_set1_epi32(value as i32);
    let group_bits = |group: &[u32]| {
        // SAFETY: `group` is sixteen u32s, the 64 bytes an unaligned load reads.
        let group = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
        u64::from(_mm512_cmpeq_epu32_mask(group, wanted))
    };
    packed_by_groups::<_, 16, false>(values, group_bits, |v| v == value)
}

/// [`i8s_equal`](super::i8s_equal) with AVX-512BW: each whole group of sixty-four values by one
/// compare, whose mask is the group's eight bytes, a line asked for ahead of each (the codes
/// are a pass over a per-patient column written a while before: without the asks, the flags
/// pass this replaced took a fifth more samples at 10 M); the last, shorter group as the
/// scalar loop packs it.
#[target_feature(enable = "avx512f,avx512bw")]
pub(super) fn i8s_equal(values: &[i8], value: i8) -> Bitmap {
    use std::arch::x86_64::{_mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_set1_epi8};
    let wanted = _mm512_set1_epi8(value);
    let group_bits = |group: &[i8]| {
        // SAFETY: `group` is sixty-four i8s, the 64 bytes an unaligned load reads.
        let group = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
        _mm512_cmpeq_epi8_mask(group, wanted)
    };
    packed_by_groups::<_, 64, true>(values, group_bits, |v| v == value)
}

/// [`i32s_odd`](super::i32s_odd) with AVX-512F, as [`i8s_equal`] goes: sixteen values a group
/// (`vptestmd`).
#[target_feature(enable = "avx512f")]
pub(super) fn i32s_odd(values: &[i32]) -> Bitmap {
    use std::arch::x86_64::{_mm512_loadu_si512, _mm512_set1_epi32, _mm512_test_epi32_mask};
    let ones = _mm512_set1_epi32(1);
    let group_bits = |group: &[i32]| {
        // SAFETY: `group` is sixteen i32s, the 64 bytes an unaligned load reads.
        let group = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
        u64::from(_mm512_test_epi32_mask(group, ones))
    };
    packed_by_groups::<_, 16, true>(values, group_bits, |v| v & 1 != 0)
}

/// [`dates_within`](super::dates_within) with AVX-512F: each whole group of sixteen pairs by one
/// or two compares against the bases less the days ([`dates_by_groups`] asks ahead and packs
/// the last group).
#[target_feature(enable = "avx512f")]
pub(super) fn dates_within(dates: &[i32], bases: &[i32], window: DaysBack) -> Bitmap {
    use std::arch::x86_64::{
        _mm512_cmpge_epi32_mask, _mm512_cmple_epi32_mask, _mm512_loadu_si512, _mm512_set1_epi32,
        _mm512_sub_epi32,
    };
    let from = window.from.map(|days| _mm512_set1_epi32(days));
    let until = window.until.map(|days| _mm512_set1_epi32(days));
    let group_bits = |date: &[i32], base: &[i32]| {
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
        bits
    };
    dates_by_groups(dates, bases, window, group_bits)
}
