//! The packers against the same bits one value at a time, each by every body this CPU runs
//! ([`bodies!`]).

use super::*;

/// The bodies of a packer this CPU runs, by name, as `unsafe fn`s of type `$ty`: the dispatch,
/// the scalar loop, and the AVX2 and AVX-512 (`$avx512`, its feature) bodies named `$name`
/// where the CPU has their features. A body whose feature the CPU lacks is not run here: the
/// machines this has run on had AVX-512 (Xeon) or AVX2 alone (AMD EPYC), so CI tests the
/// dispatch's choice on each and the scalar loop on both.
macro_rules! bodies {
    ($ty:ty, $dispatch:expr, $scalar:expr, $name:ident, $avx512:tt) => {{
        let mut bodies: Vec<(&str, $ty)> = vec![("dispatch", $dispatch), ("scalar", $scalar)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                bodies.push(("avx2", avx2::$name));
            }
            if std::arch::is_x86_feature_detected!($avx512) {
                bodies.push(("avx512", avx512::$name));
            }
        }
        bodies
    }};
}

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
/// bitmap starting inside a byte: by each body ([`bodies!`]), against the bits one at a time.
#[test]
fn words_kept_where_their_bits_are_set() {
    type Body = unsafe fn(&[u64], &Bitmap, &mut Vec<u64>);
    let bodies = bodies!(
        Body,
        kept_by_bits,
        kept_by_bits_scalar,
        kept_by_bits,
        "avx512f"
    );
    let whole = Bitmap::from_iter((0..203).map(|i: usize| (i * i + i / 7) % 5 < 2));
    for len in 0..=200 {
        let keep = whole.clone().sliced(3, len);
        let words: Vec<u64> = (0..len as u64).map(|i| i * 0x9E37_79B9 + 1).collect();
        let mut expected = vec![7, 8];
        let one_at_a_time = words.iter().zip(keep.iter());
        expected.extend(one_at_a_time.map(|(&word, bit)| if bit { word } else { 0 }));
        for (body, keep_words) in &bodies {
            let mut kept = vec![7, 8];
            // SAFETY: `bodies!` lists only the bodies whose CPU features this CPU has.
            unsafe { keep_words(&words, &keep, &mut kept) };
            assert_eq!(kept, expected, "{len} words, {body}");
        }
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
    type Body = unsafe fn(&[u64], u64) -> Bitmap;
    let bodies = bodies!(
        Body,
        words_with_bit,
        words_with_bit_scalar,
        words_with_bit,
        "avx512f"
    );
    let words: Vec<u64> = (0..40u64)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(i as u32))
        .collect();
    for len in 0..=words.len() {
        let words = &words[..len];
        for bit in [0, 1, 7, 31, 32, 62, 63] {
            let expected: Vec<bool> = words.iter().map(|w| w >> bit & 1 == 1).collect();
            for (body, with_bit) in &bodies {
                // SAFETY: `bodies!` lists only the bodies whose CPU features this CPU has.
                let got: Vec<bool> = unsafe { with_bit(words, 1 << bit) }.iter().collect();
                assert_eq!(got, expected, "bit {bit} of {len} words, {body}");
            }
        }
    }
    // 0b1010 is any of bits 1 and 3: 2 (0b10), 8, 10 and 15 have one, 0, 1, 4 and 5 none.
    let words = [0u64, 2, 8, 1, 10, 4, 15, 5, 2, 8, 0, 1, 3, 7, 9, 6];
    let expected = [
        false, true, true, false, true, false, true, false, true, true, false, false, true, true,
        true, true,
    ];
    for (body, with_bit) in &bodies {
        // SAFETY: `bodies!` lists only the bodies whose CPU features this CPU has.
        let got: Vec<bool> = unsafe { with_bit(&words, 0b1010) }.iter().collect();
        assert_eq!(got, expected, "{body}");
    }
}

/// Values compared with one of them: every length from 0 to 40 (whole groups of sixteen,
/// of eight, and shorter last groups), against the comparison one value at a time.
#[test]
fn each_value_equal_to_the_key_packs_to_its_row() {
    type Body = unsafe fn(&[u32], u32) -> Bitmap;
    let bodies = bodies!(Body, u32s_equal, u32s_equal_scalar, u32s_equal, "avx512f");
    let values: Vec<u32> = (0..40u32).map(|i| (i * 7 + i / 5) % 6).collect();
    for len in 0..=values.len() {
        let values = &values[..len];
        for key in [0, 3, 5, 6, u32::MAX] {
            let expected: Vec<bool> = values.iter().map(|&v| v == key).collect();
            for (body, equal) in &bodies {
                // SAFETY: `bodies!` lists only the bodies whose CPU features this CPU has.
                let got: Vec<bool> = unsafe { equal(values, key) }.iter().collect();
                assert_eq!(got, expected, "{key} among {len} values, {body}");
            }
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
    type Equal = unsafe fn(&[i8], i8) -> Bitmap;
    let scalar: Equal = |codes, code| packed_where(codes, |c| c == code);
    let equal_bodies = bodies!(Equal, i8s_equal, scalar, i8s_equal, "avx512bw");
    type Odd = unsafe fn(&[i32]) -> Bitmap;
    let scalar: Odd = |keys| packed_where(keys, |k| k & 1 != 0);
    let odd_bodies = bodies!(Odd, i32s_odd, scalar, i32s_odd, "avx512f");
    for len in 0..=codes.len() {
        for code in [-128i8, -1, 0, 1, 2, 127] {
            let expected: Vec<bool> = codes[..len].iter().map(|&c| c == code).collect();
            for (body, equal) in &equal_bodies {
                // SAFETY: `bodies!` lists only the bodies whose CPU features this CPU has.
                let got: Vec<bool> = unsafe { equal(&codes[..len], code) }.iter().collect();
                assert_eq!(got, expected, "{code} among {len} codes, {body}");
            }
        }
        let expected: Vec<bool> = keys[..len].iter().map(|&k| k % 2 != 0).collect();
        for (body, odd) in &odd_bodies {
            // SAFETY: `bodies!` lists only the bodies whose CPU features this CPU has.
            let got: Vec<bool> = unsafe { odd(&keys[..len]) }.iter().collect();
            assert_eq!(got, expected, "odd among {len} keys, {body}");
        }
    }
}

/// Dates within windows of their bases, tested against the window one pair at a time, for
/// every length from 0 to 70 (whole groups of sixteen and shorter last groups) and every
/// kind of window: both bounds, only the latest, only the earliest, none. The pairs take in
/// the bounds' edges (a day either side) and both ends of Int32, where `base - days` wraps.
#[test]
fn dates_within_windows_pack_to_their_rows() {
    type Body = unsafe fn(&[i32], &[i32], DaysBack) -> Bitmap;
    let bodies = bodies!(
        Body,
        dates_within,
        dates_within_scalar,
        dates_within,
        "avx512f"
    );
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
            for (body, within) in &bodies {
                // SAFETY: `bodies!` lists only the bodies whose CPU features this CPU has.
                let got: Vec<bool> = unsafe { within(dates, bases, window) }.iter().collect();
                assert_eq!(got, expected, "{window:?} over {len} pairs, {body}");
            }
        }
    }
}
