//! The packers' AVX2 bodies, which `bitmaps.rs` calls where the CPU has AVX2 but not AVX-512 (on
//! x86-64 CPUs since 2013; the AMD EPYC VM of `BENCHMARKS.md`'s forty-sixth session has no
//! AVX-512). AVX2's compares set a lane to all ones or to zero; `movemask` reads the top bit
//! of each lane back (of bytes, of 32-bit and of 64-bit lanes), bit i for lane i, the order the
//! bitmap holds them. The scalar loops these replace set one bit per value.

use std::arch::x86_64::{
    __m256i, _mm256_and_si256, _mm256_castsi256_pd, _mm256_castsi256_ps, _mm256_cmpeq_epi32,
    _mm256_cmpeq_epi64, _mm256_cmpeq_epi8, _mm256_cmpgt_epi32, _mm256_loadu_si256,
    _mm256_movemask_epi8, _mm256_movemask_pd, _mm256_movemask_ps, _mm256_set1_epi32,
    _mm256_set1_epi64x, _mm256_set1_epi8, _mm256_setr_epi64x, _mm256_setzero_si256,
    _mm256_slli_epi32, _mm256_storeu_si256, _mm256_sub_epi32,
};

use std::mem::MaybeUninit;

use polars_arrow::bitmap::Bitmap;

use super::{dates_by_groups, kept_by_runs, packed_by_groups, DaysBack};

/// The 32 bytes of `items` from `at` as one vector.
///
/// # Safety
/// `items` holds at least 32 bytes from item `at`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load<T>(items: &[T], at: usize) -> __m256i {
    debug_assert!((at * size_of::<T>() + 32) <= std::mem::size_of_val(items));
    // SAFETY: the caller's promise: 32 bytes from `at` lie within `items`.
    unsafe { _mm256_loadu_si256(items.as_ptr().add(at).cast()) }
}

/// The top bit of each 32-bit lane of `lanes`, bit i for lane i (8 bits).
#[inline]
#[target_feature(enable = "avx2")]
fn lane_bits_32(lanes: __m256i) -> u64 {
    u64::from(_mm256_movemask_ps(_mm256_castsi256_ps(lanes)) as u8)
}

/// [`kept_by_bits`](super::kept_by_bits) with AVX2: four words at a time, anded with their bits
/// of `keep` spread to lanes of all ones (the four bits compared with 1, 2, 4 and 8); the rest
/// as [`kept_by_runs`] keeps them.
#[target_feature(enable = "avx2")]
pub(super) fn kept_by_bits(words: &[u64], keep: &Bitmap, kept: &mut Vec<u64>) {
    let lanes = _mm256_setr_epi64x(1, 2, 4, 8);
    let keep_64 = |these: &[u64], out: &mut [MaybeUninit<u64>], bits: u64| {
        for at in (0..64).step_by(4) {
            let four = _mm256_set1_epi64x((bits >> at) as i64);
            let mask = _mm256_cmpeq_epi64(_mm256_and_si256(four, lanes), lanes);
            // SAFETY: four u64s (32 bytes) from `at` lie within the 64 of `these` and of `out`.
            unsafe {
                let kept = _mm256_and_si256(load(these, at), mask);
                _mm256_storeu_si256(out.as_mut_ptr().add(at).cast(), kept);
            }
        }
    };
    // SAFETY: `keep_64` writes all 64 words of each run, four at a time.
    unsafe { kept_by_runs(words, keep, kept, keep_64) }
}

/// [`words_with_bit`](super::words_with_bit) with AVX2: each whole group of eight words by two
/// compares of the words anded with `mask` against zero (`vpcmpeqq`), whose lanes' top bits are
/// the words without the bit; the last, shorter group as the scalar loop packs it.
#[target_feature(enable = "avx2")]
pub(super) fn words_with_bit(words: &[u64], mask: u64) -> Bitmap {
    let masks = _mm256_set1_epi64x(mask as i64);
    let zero = _mm256_setzero_si256();
    let without = |four: __m256i| {
        let none = _mm256_cmpeq_epi64(_mm256_and_si256(four, masks), zero);
        u64::from(_mm256_movemask_pd(_mm256_castsi256_pd(none)) as u8)
    };
    let group_bits = |group: &[u64]| {
        // SAFETY: `group` is eight u64s, 64 bytes: two loads of 32.
        let (low, high) = unsafe { (load(group, 0), load(group, 4)) };
        !(without(low) | without(high) << 4) & 0xff
    };
    packed_by_groups::<_, 8, false>(words, group_bits, |word| word & mask != 0)
}

/// [`u32s_equal`](super::u32s_equal) with AVX2: each whole group of sixteen values by two
/// compares (`vpcmpeqd`), eight bits each; the last, shorter group as the scalar loop packs it.
#[target_feature(enable = "avx2")]
pub(super) fn u32s_equal(values: &[u32], value: u32) -> Bitmap {
    let wanted = _mm256_set1_epi32(value as i32);
    let group_bits = |group: &[u32]| {
        // SAFETY: `group` is sixteen u32s, 64 bytes: two loads of 32.
        let (low, high) = unsafe { (load(group, 0), load(group, 8)) };
        let equal = |eight| lane_bits_32(_mm256_cmpeq_epi32(eight, wanted));
        equal(low) | equal(high) << 8
    };
    packed_by_groups::<_, 16, false>(values, group_bits, |v| v == value)
}

/// [`i8s_equal`](super::i8s_equal) with AVX2: each whole group of sixty-four values by two
/// compares (`vpcmpeqb`), thirty-two bits each, a line asked for ahead of each group as the
/// AVX-512 body does; the last, shorter group as the scalar loop packs it.
#[target_feature(enable = "avx2")]
pub(super) fn i8s_equal(values: &[i8], value: i8) -> Bitmap {
    let wanted = _mm256_set1_epi8(value);
    let group_bits = |group: &[i8]| {
        // SAFETY: `group` is sixty-four i8s, 64 bytes: two loads of 32.
        let (low, high) = unsafe { (load(group, 0), load(group, 32)) };
        let equal =
            |bytes| u64::from(_mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, wanted)) as u32);
        equal(low) | equal(high) << 32
    };
    packed_by_groups::<_, 64, true>(values, group_bits, |v| v == value)
}

/// [`i32s_odd`](super::i32s_odd) with AVX2: each whole group of sixteen values by two shifts of
/// the lowest bit to the top of its lane, read by `movemask`; the last, shorter group as the
/// scalar loop packs it.
#[target_feature(enable = "avx2")]
pub(super) fn i32s_odd(values: &[i32]) -> Bitmap {
    let group_bits = |group: &[i32]| {
        // SAFETY: `group` is sixteen i32s, 64 bytes: two loads of 32.
        let (low, high) = unsafe { (load(group, 0), load(group, 8)) };
        let odd = |eight| lane_bits_32(_mm256_slli_epi32::<31>(eight));
        odd(low) | odd(high) << 8
    };
    packed_by_groups::<_, 16, true>(values, group_bits, |v| v & 1 != 0)
}

/// [`dates_within`](super::dates_within) with AVX2: each whole group of sixteen pairs by one or
/// two signed compares per eight against the bases less the days (AVX2 compares only "greater
/// than": `date >= lower` is `!(lower > date)`, `date <= upper` is `!(date > upper)`);
/// [`dates_by_groups`] asks ahead and packs the last group.
#[target_feature(enable = "avx2")]
pub(super) fn dates_within(dates: &[i32], bases: &[i32], window: DaysBack) -> Bitmap {
    let from = window.from.map(|days| _mm256_set1_epi32(days));
    let until = window.until.map(|days| _mm256_set1_epi32(days));
    let within = |date: __m256i, base: __m256i| {
        let mut outside = 0;
        if let Some(days) = from {
            outside |= lane_bits_32(_mm256_cmpgt_epi32(_mm256_sub_epi32(base, days), date));
        }
        if let Some(days) = until {
            outside |= lane_bits_32(_mm256_cmpgt_epi32(date, _mm256_sub_epi32(base, days)));
        }
        !outside & 0xff
    };
    let group_bits = |dates: &[i32], bases: &[i32]| {
        // SAFETY: `dates` and `bases` are sixteen i32s each: two loads of 32 bytes of each.
        let bits = unsafe {
            within(load(dates, 0), load(bases, 0)) | within(load(dates, 8), load(bases, 8)) << 8
        };
        bits as u16
    };
    dates_by_groups(dates, bases, window, group_bits)
}
