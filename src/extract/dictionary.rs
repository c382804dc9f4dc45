//! A text column's values read from its Parquet dictionaries, without decoding a row: where
//! every data page of every row group is dictionary-encoded, each row's value is an entry of its
//! row group's dictionary page, so when every entry is allowed no row is out of domain. Registry
//! writers (arrow-rs, pyarrow, polars, DuckDB, Spark) dictionary-encode a column of a few
//! distinct codes; validation then need not read the column at all ([`super::validate`]).
//!
//! The proof is one-sided: a dictionary may hold an entry that no row uses, and a chunk may fall
//! back to plain pages or record no encoding statistics. Then nothing is proven and the rows are
//! counted as before. Nothing here is an error: a page that cannot be read proves nothing, and
//! the scan that reads it reports it. The footer's encoding statistics are trusted as its null
//! counts are ([`super::locate`]).

use std::collections::BTreeSet;
use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use parquet::basic::Encoding;
use parquet::column::page::Page;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// The distinct values of `column` over the files at `paths`, read from their dictionary pages:
/// None unless every row group of every file stores the column with a dictionary and
/// dictionary-encoded data pages only (the Parquet encoding statistics say so), and every
/// dictionary page is read and decoded as UTF-8 text.
pub(crate) fn dictionary_values<'p>(
    paths: impl IntoIterator<Item = &'p Path>,
    column: &str,
) -> Option<BTreeSet<String>> {
    let mut values = BTreeSet::new();
    for path in paths {
        // The parquet crate may panic on a damaged file: that proves nothing either.
        let read = catch_unwind(AssertUnwindSafe(|| file_values(path, column, &mut values)));
        read.ok()??;
    }
    Some(values)
}

/// Adds the dictionary entries of `column` in the file at `path` to `values`; None where a row
/// group's chunk is not dictionary-encoded throughout or its page cannot be read.
fn file_values(path: &Path, column: &str, values: &mut BTreeSet<String>) -> Option<()> {
    let reader = SerializedFileReader::new(File::open(path).ok()?).ok()?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let c = (schema.columns().iter())
        .position(|c| c.path().parts().len() == 1 && c.name() == column)?;
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).ok()?;
        if !dictionary_only(group.metadata().column(c)) {
            return None;
        }
        let page = group
            .get_column_page_reader(c)
            .ok()?
            .get_next_page()
            .ok()??;
        let Page::DictionaryPage {
            buf,
            num_values,
            encoding: Encoding::PLAIN | Encoding::PLAIN_DICTIONARY,
            ..
        } = page
        else {
            return None;
        };
        plain_texts(&buf, num_values as usize, values)?;
    }
    Some(())
}

/// Whether the chunk has a dictionary page and its data pages are all dictionary-encoded, as
/// its encoding statistics record (a chunk without them proves nothing).
pub(super) fn dictionary_only(chunk: &ColumnChunkMetaData) -> bool {
    chunk.dictionary_page_offset().is_some()
        && chunk.page_encoding_stats_mask().is_some_and(|mask| {
            mask.is_only(Encoding::RLE_DICTIONARY) || mask.is_only(Encoding::PLAIN_DICTIONARY)
        })
}

/// Decodes `count` PLAIN byte arrays (a little-endian u32 length, then the bytes) from `bytes`
/// into `values`; None where they overrun it, leave bytes over, or are not UTF-8.
fn plain_texts(bytes: &[u8], count: usize, values: &mut BTreeSet<String>) -> Option<()> {
    let mut rest = bytes;
    for _ in 0..count {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let (text, tail) = (tail.len() >= len).then(|| tail.split_at(len))?;
        let text = std::str::from_utf8(text).ok()?;
        if !values.contains(text) {
            values.insert(text.to_string());
        }
        rest = tail;
    }
    rest.is_empty().then_some(())
}

#[cfg(test)]
mod tests;
