//! Parquet pages of a column of words held as small codes (the restricted files' outcomes and
//! statuses): a dictionary page of the words, then a data page whose dictionary keys are the codes
//! themselves, bit-packed here eight keys at a time (the non-null ones gathered first).
//! polars-parquet's encoder takes each key through a generic iterator twice (its maximum, then its
//! runs), about 28 ns a value: at 10 M patients, 14 s of CPU for `restricted/patients`' 51
//! columns.
//!
//! The layout is Parquet's for a flat column, data page V1 (the version polars writes): the
//! definition levels (for an optional column) as a 4-byte length and one RLE/bit-packed hybrid
//! run, then the keys' bit width as a byte and one bit-packed run of the non-null keys.
//! A bit-packed run of width 1 is a validity bitmap's own bit order (least significant first),
//! so the definition levels are the bitmap's bytes.

use crate::extract::bitmaps::with_cpu_feature;
use crate::prefetch::prefetch_stream;
use polars_arrow::bitmap::Bitmap;
use polars_parquet::parquet::page::{DataPage, DataPageHeader, DataPageHeaderV1, DictPage};
use polars_parquet::parquet::schema::Repetition;
use polars_parquet::parquet::statistics::ParquetStatistics;
use polars_parquet::parquet::CowBuffer;
use polars_parquet::write::{Descriptor, Encoding, Page};

/// The pages of one column chunk of `codes` as the words `words[code]`, null where `validity`
/// says so: the dictionary page, then one data page. `type_` is the column's Parquet type (a
/// byte array, optional where the column has nulls). Fails, naming the column, where a non-null
/// code has no word, or where a required column has nulls.
pub fn word_pages(
    codes: &[u8],
    validity: Option<&Bitmap>,
    words: &[&str],
    type_: &polars_parquet::write::ParquetType,
) -> Result<[Page; 2], String> {
    let polars_parquet::write::ParquetType::PrimitiveType(primitive) = type_ else {
        return Err(format!("column {} is not a flat column", type_.name()));
    };
    let name = primitive.field_info.name.as_str();
    let validity = validity.filter(|v| v.unset_bits() > 0);
    let optional = primitive.field_info.repetition == Repetition::Optional;
    if validity.is_some() && !optional {
        return Err(format!("column {name} is required but has nulls"));
    }
    let rows = codes.len();
    let nulls = validity.map_or(0, Bitmap::unset_bits);

    let mut buffer = Vec::with_capacity(rows / 2 + rows / 8 + 16);
    if optional {
        definition_levels(&mut buffer, validity, rows);
    }
    let bit_width = bit_width(words.len());
    buffer.push(bit_width);
    let largest = bit_packed_keys(&mut buffer, codes, validity, rows - nulls, bit_width);
    if let Some(largest) = largest.filter(|k| usize::from(*k) >= words.len()) {
        return Err(format!(
            "column {name}: code {largest} has no word (only {} words)",
            words.len()
        ));
    }

    let mut dictionary = Vec::with_capacity(words.iter().map(|w| w.len() + 4).sum());
    for word in words {
        dictionary.extend_from_slice(&(word.len() as u32).to_le_bytes());
        dictionary.extend_from_slice(word.as_bytes());
    }
    // The statistics of every word, bounds of the page's values if not the tightest (what
    // polars writes for a dictionary column); the null count is the page's.
    let statistics = ParquetStatistics {
        null_count: Some(nulls as i64),
        distinct_count: None,
        max_value: words.iter().max().map(|w| w.as_bytes().to_vec()),
        min_value: words.iter().min().map(|w| w.as_bytes().to_vec()),
        max: None,
        min: None,
        is_max_value_exact: None,
        is_min_value_exact: None,
    };
    let header = DataPageHeader::V1(DataPageHeaderV1 {
        num_values: rows as i32,
        encoding: Encoding::RleDictionary.into(),
        definition_level_encoding: Encoding::Rle.into(),
        repetition_level_encoding: Encoding::Rle.into(),
        statistics: Some(statistics),
    });
    let descriptor = Descriptor {
        primitive_type: primitive.clone(),
        max_def_level: 0,
        max_rep_level: 0,
    };
    Ok([
        Page::Dict(DictPage::new(
            CowBuffer::Owned(dictionary),
            words.len(),
            false,
        )),
        Page::Data(DataPage::new(
            header,
            CowBuffer::Owned(buffer),
            descriptor,
            rows,
        )),
    ])
}

/// Bits per key for a dictionary of `words` words (at least one).
fn bit_width(words: usize) -> u8 {
    (usize::BITS - words.saturating_sub(1).leading_zeros()).max(1) as u8
}

/// Appends `value` as an unsigned LEB128 varint (the hybrid encoding's run headers).
fn push_varint(buffer: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buffer.push(value as u8 | 0x80);
        value >>= 7;
    }
    buffer.push(value as u8);
}

/// Definition levels of an optional flat column (data page V1): their byte length, then an RLE
/// run of ones where every row is valid, else one bit-packed run of width 1, which is the
/// validity bitmap's bytes (bits past the last row zero).
fn definition_levels(buffer: &mut Vec<u8>, validity: Option<&Bitmap>, rows: usize) {
    let length_at = buffer.len();
    buffer.extend_from_slice(&[0; 4]);
    let start = buffer.len();
    match validity {
        None => {
            push_varint(buffer, (rows as u64) << 1);
            buffer.push(1);
        }
        Some(validity) => {
            let groups = rows.div_ceil(8);
            push_varint(buffer, (groups as u64) << 1 | 1);
            let (bytes, offset, length) = validity.as_slice();
            if offset == 0 {
                buffer.extend_from_slice(&bytes[..groups]);
            } else {
                // A sliced bitmap: realigned bit by bit.
                let mut aligned = vec![0u8; groups];
                for (i, valid) in validity.iter().enumerate() {
                    aligned[i / 8] |= u8::from(valid) << (i % 8);
                }
                buffer.extend_from_slice(&aligned);
            }
            if length % 8 != 0 {
                *buffer.last_mut().expect("a group was written") &= (1u8 << (length % 8)) - 1;
            }
        }
    }
    let length = (buffer.len() - start) as u32;
    buffer[length_at..start].copy_from_slice(&length.to_le_bytes());
}

/// Appends the non-null codes (`values` of them) as one bit-packed run of `bit_width` (at most
/// 8) bits each, least significant first: each group of eight codes is `bit_width` bytes, the
/// last padded with zeros; nothing where there are none. Returns the largest code.
fn bit_packed_keys(
    buffer: &mut Vec<u8>,
    codes: &[u8],
    validity: Option<&Bitmap>,
    values: usize,
    bit_width: u8,
) -> Option<u8> {
    if values == 0 {
        return None;
    }
    let gathered: Vec<u8>;
    let keys = match validity {
        None => codes,
        Some(validity) => {
            gathered = validity.true_idx_iter().map(|row| codes[row]).collect();
            &gathered
        }
    };
    debug_assert_eq!(keys.len(), values);
    push_varint(buffer, (keys.len().div_ceil(8) as u64) << 1 | 1);
    let width = usize::from(bit_width);
    let last = keys.chunks_exact(8).remainder();
    let at = buffer.len();
    let end = at + keys.len().div_ceil(8) * width;
    // Grown once, with eight bytes past the end to write the last group's eight into: grown by
    // each group, it checked its capacity each time.
    buffer.resize(end + 8, 0);
    let whole = keys.len() - last.len();
    pack_groups(&mut buffer[at..], &keys[..whole], bit_width);
    if !last.is_empty() {
        let mut padded = [0u8; 8];
        padded[..last.len()].copy_from_slice(last);
        pack_groups(&mut buffer[at + whole / 8 * width..], &padded, bit_width);
    }
    buffer.truncate(end);
    keys.iter().copied().max()
}

/// `keys` (whole groups of eight) packed `width` bits each, group `g` at byte `g * width` of
/// `out`, which holds eight bytes past the last group's: each group's eight bytes written at
/// its place and the next group written over the unused ones (a copy of a fixed size is one
/// store, one of `width` bytes a call to memcpy per group, 0.5 % of a run's instructions).
/// With BMI2, a group is one `pext` ([`pack_groups_bmi2`]); without, [`pack_eight`]'s shifts.
fn pack_groups(out: &mut [u8], keys: &[u8], width: u8) {
    with_cpu_feature!(
        "bmi2",
        pack_groups_bmi2(out, keys, width),
        pack_groups_with(out, keys, width, |group| {
            pack_eight(group, u32::from(width))
        })
    )
}

/// [`pack_groups`] with BMI2: each byte's low `width` bits extracted in order (`pext`), so key
/// `i` lands at bit `i * width`, as [`pack_eight`] places it in three steps of shifts and masks
/// (about 150 samples of a 10 M run's restricted files, `perf`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
fn pack_groups_bmi2(out: &mut [u8], keys: &[u8], width: u8) {
    use std::arch::x86_64::_pext_u64;
    let low_bits = 0x0101_0101_0101_0101u64 * ((1u64 << width) - 1);
    pack_groups_with(out, keys, width, |group| _pext_u64(group, low_bits));
}

/// The loop of [`pack_groups`], each group packed by `pack`.
#[inline(always)]
fn pack_groups_with(out: &mut [u8], keys: &[u8], width: u8, pack: impl Fn(u64) -> u64) {
    let width = usize::from(width);
    // The codes were written when their partition was evaluated, long out of cache: each
    // group asks for the codes 4 KiB ahead (`crate::prefetch`), a line every eighth group.
    for (g, group) in keys.chunks_exact(8).enumerate() {
        prefetch_stream(keys, g * 8);
        let packed = pack(u64::from_le_bytes(group.try_into().expect("eight keys")));
        out[g * width..g * width + 8].copy_from_slice(&packed.to_le_bytes());
    }
}

/// Eight keys, the bytes of `group` (the first key in the lowest), packed `width` bits each
/// (at most 8), the first key lowest: neighbouring keys merged in three steps, pairs, then
/// fours, then all eight. A shift and an or per key cost about four instructions a key
/// (callgrind). Keys must fit in `width` bits.
fn pack_eight(group: u64, width: u32) -> u64 {
    const PAIRS: u64 = 0x00FF_00FF_00FF_00FF;
    const FOURS: u64 = 0x0000_FFFF_0000_FFFF;
    let pairs = (group & PAIRS) | (group >> 8 & PAIRS) << width;
    let fours = (pairs & FOURS) | (pairs >> 16 & FOURS) << (2 * width);
    (fours & 0xFFFF_FFFF) | (fours >> 32) << (4 * width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_widths_fit_the_largest_key() {
        assert_eq!(bit_width(1), 1);
        assert_eq!(bit_width(2), 1);
        assert_eq!(bit_width(3), 2);
        assert_eq!(bit_width(4), 2);
        assert_eq!(bit_width(5), 3);
        assert_eq!(bit_width(256), 8);
    }

    #[test]
    fn varints_are_leb128() {
        let mut buffer = Vec::new();
        push_varint(&mut buffer, 1);
        push_varint(&mut buffer, 127);
        push_varint(&mut buffer, 128);
        push_varint(&mut buffer, 300);
        assert_eq!(buffer, [1, 127, 0x80, 1, 0xac, 2]);
    }

    /// Ten codes of width 2: two groups of eight (run header 2 << 1 | 1 = 5), the codes
    /// 1 2 3 0 | 3 3 0 0 | 2 1 packed four to a byte, least significant first, then zero padding
    /// to 2 groups x 2 bytes.
    #[test]
    fn keys_worked_out_by_hand() {
        let mut buffer = Vec::new();
        let codes = [1, 2, 3, 0, 3, 3, 0, 0, 2, 1];
        let largest = bit_packed_keys(&mut buffer, &codes, None, codes.len(), 2);
        assert_eq!(largest, Some(3));
        let byte = |a: u8, b: u8, c: u8, d: u8| a | b << 2 | c << 4 | d << 6;
        assert_eq!(
            buffer,
            [5, byte(1, 2, 3, 0), byte(3, 3, 0, 0), byte(2, 1, 0, 0), 0]
        );
    }

    /// Every width from 1 to 8, keys of every value that fits, against packing a key at a time
    /// (key i at bit i x width).
    #[test]
    fn eight_keys_pack_as_one_shift_a_key() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for width in 1..=8u32 {
            for _ in 0..2_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let keys = state.to_le_bytes().map(|k| k & ((1u16 << width) - 1) as u8);
                let one_at_a_time = (keys.iter().enumerate()).fold(0u64, |packed, (i, &k)| {
                    packed | u64::from(k) << (i as u32 * width)
                });
                assert_eq!(
                    pack_eight(u64::from_le_bytes(keys), width),
                    one_at_a_time,
                    "{keys:?} at width {width}"
                );
            }
        }
    }

    /// Groups of eight keys packed by the dispatch (`pext` where the CPU has BMI2) and by the
    /// shifts alone, for every width from 1 to 8 and zero to five groups, against packing a key
    /// at a time (key i of the run at bit i x width), the bytes past the groups untouched.
    #[test]
    fn groups_pack_alike_with_and_without_bmi2() {
        for width in 1..=8u8 {
            for groups in 0..=5usize {
                let keys: Vec<u8> = (0..groups * 8)
                    .map(|i| ((i * 37 + i / 3) % (1 << width)) as u8)
                    .collect();
                let mut expected = vec![0u8; groups * usize::from(width) + 8];
                for (i, &key) in keys.iter().enumerate() {
                    for bit in 0..usize::from(width) {
                        let at = i * usize::from(width) + bit;
                        expected[at / 8] |= (key >> bit & 1) << (at % 8);
                    }
                }
                let mut dispatched = vec![0u8; expected.len()];
                pack_groups(&mut dispatched, &keys, width);
                assert_eq!(dispatched, expected, "width {width}, {groups} groups");
                let mut shifted = vec![0u8; expected.len()];
                let by_shifts = |group| pack_eight(group, u32::from(width));
                pack_groups_with(&mut shifted, &keys, width, by_shifts);
                assert_eq!(shifted, expected, "width {width}, {groups} groups, shifts");
            }
        }
    }

    /// Nulls are left out of the keys: of 1 _ 2 _ 3, the keys are 1 2 3 (one group).
    #[test]
    fn null_rows_have_no_key() {
        let mut buffer = Vec::new();
        let validity = Bitmap::from([true, false, true, false, true]);
        let largest = bit_packed_keys(&mut buffer, &[1, 0, 2, 3, 3], Some(&validity), 3, 2);
        assert_eq!(largest, Some(3));
        assert_eq!(buffer, [3, 1 | 2 << 2 | 3 << 4, 0]);
        // No non-null key: no run at all.
        let mut empty = Vec::new();
        assert_eq!(bit_packed_keys(&mut empty, &[0, 0], None, 0, 2), None);
        assert!(empty.is_empty());
    }

    /// Definition levels of 10 rows, rows 1 and 9 null: length 4, run header (2 << 1 | 1) = 5,
    /// then 0b1111_1101 and 0b0000_0001 (row 8 valid, row 9 null).
    #[test]
    fn definition_levels_worked_out_by_hand() {
        let valid: Vec<bool> = (0..10).map(|i| i != 1 && i != 9).collect();
        let mut buffer = Vec::new();
        definition_levels(&mut buffer, Some(&Bitmap::from(valid.as_slice())), 10);
        assert_eq!(buffer, [3, 0, 0, 0, 5, 0b1111_1101, 0b0000_0001]);
        // The same rows from a sliced bitmap (offset 3) are realigned.
        let mut padded = vec![true, false, true];
        padded.extend(&valid);
        let sliced = Bitmap::from(padded.as_slice()).sliced(3, 10);
        let mut realigned = Vec::new();
        definition_levels(&mut realigned, Some(&sliced), 10);
        assert_eq!(realigned, buffer);
        // Every row valid: one RLE run of 10 ones (header 10 << 1 = 20, value 1).
        let mut all = Vec::new();
        definition_levels(&mut all, None, 10);
        assert_eq!(all, [2, 0, 0, 0, 20, 1]);
    }
}
