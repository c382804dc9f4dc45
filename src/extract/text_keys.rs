//! Text columns read as small keys: each row's key a function of its text, computed once per
//! entry of the Parquet dictionary that a row group's column chunk is stored with, each row's key
//! then that of its dictionary index. polars decodes such a chunk into a 16-byte string view per
//! row, which the engine mapped back to a key (`distinct::map_distinct`): 4.5 % of a
//! run's instructions at 250,000 patients, the measurements' codes and units most of them.
//!
//! A chunk whose pages are not all dictionary-encoded (a writer falls back to plain pages where
//! a dictionary grows too large, or writes none) is decoded as strings and mapped as before; a
//! column read through a filter (any reader but the row groups') likewise
//! ([`TextKey::of_strings`]). The keys are the same either way: that is what the tests check.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use polars::io::prelude::_internal::to_deserializer;
use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, Utf8ViewArray};
use polars_arrow::datatypes::{
    ArrowDataType, Field as ArrowField, IntegerType, Metadata, DTYPE_CATEGORICAL_LEGACY,
};
use polars_parquet::parquet::metadata::FileMetadata;

use super::distinct::map_distinct;
use super::locate::TableSource;

/// A row's key from its text (None where the row is null).
type KeyOf = dyn Fn(Option<&str>) -> u32 + Send + Sync;

/// A text column read as the key column `name`: `key_of` of each row's text.
#[derive(Clone)]
pub struct TextKey {
    /// The text column of the table.
    pub column: PlSmallStr,
    /// The UInt32 column of keys read in its place.
    pub name: PlSmallStr,
    key_of: Arc<KeyOf>,
}

impl std::fmt::Debug for TextKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TextKey({} as {})", self.column, self.name)
    }
}

impl TextKey {
    /// `column` read as the key column `name`: each row's key `key_of` of its text.
    pub fn new(
        column: &str,
        name: &str,
        key_of: impl Fn(Option<&str>) -> u32 + Send + Sync + 'static,
    ) -> TextKey {
        TextKey {
            column: column.into(),
            name: name.into(),
            key_of: Arc::new(key_of),
        }
    }

    /// The key column of a column of strings, as any reader gives it: `key_of` once per
    /// distinct string of each chunk.
    pub fn of_strings(&self, texts: &Column) -> PolarsResult<Column> {
        let keys = map_distinct(texts.str()?, |text| (self.key_of)(text));
        Ok(UInt32Chunked::from_vec(self.name.clone(), keys).into_column())
    }

    /// Pushes the keys of a decoded chunk's rows to `keys`: a dictionary array's by its
    /// entries' keys, a string array's once per distinct string.
    fn of_array(&self, array: &dyn Array, keys: &mut Vec<u32>) -> PolarsResult<()> {
        let of_null = (self.key_of)(None);
        if let Some(array) = array.as_any().downcast_ref::<DictionaryArray<u32>>() {
            let entries = (array.values().as_any().downcast_ref::<Utf8ViewArray>())
                .ok_or_else(|| polars_err!(ComputeError: "a dictionary of no text"))?;
            let by_entry: Vec<u32> = entries.iter().map(|text| (self.key_of)(text)).collect();
            let indices = array.keys();
            let start = keys.len();
            // A gather from the entries' keys. The decoder checks every index against the
            // dictionary; past it, a key would be a null's. A dictionary of at most 256
            // entries (a contract column's codes or units) is read through a table of 256,
            // by the index's low byte: no bounds check to take.
            let indices_values = indices.values().iter();
            if by_entry.len() <= 256 {
                let mut table = [of_null; 256];
                table[..by_entry.len()].copy_from_slice(&by_entry);
                let low_byte = |index: u32| (index & 0xFF) as usize;
                keys.extend(indices_values.map(|&index| table[low_byte(index)]));
            } else {
                let key = |index: u32| by_entry.get(index as usize).copied();
                keys.extend(indices_values.map(|&index| key(index).unwrap_or(of_null)));
            }
            if let Some(validity) = indices.validity().filter(|v| v.unset_bits() > 0) {
                for row in (!validity).true_idx_iter() {
                    keys[start + row] = of_null;
                }
            }
            return Ok(());
        }
        let texts = (array.as_any().downcast_ref::<Utf8ViewArray>())
            .ok_or_else(|| polars_err!(ComputeError: "a text column decoded as no text"))?;
        let texts = StringChunked::with_chunk(PlSmallStr::EMPTY, texts.clone());
        keys.extend(map_distinct(&texts, |text| (self.key_of)(text)));
        Ok(())
    }
}

/// What a reader of strings selects for `columns` and the key columns of `keyed`: `columns`,
/// then each keyed text column not among them.
pub fn with_texts(columns: &[PlSmallStr], keyed: &[TextKey]) -> Vec<PlSmallStr> {
    let mut select = columns.to_vec();
    for key in keyed {
        if !select.contains(&key.column) {
            select.push(key.column.clone());
        }
    }
    select
}

/// `rows` read as strings ([`with_texts`] of `columns` and `keyed`) with `keyed`'s key columns
/// added after `columns`, and the text columns not among `columns` dropped.
pub fn keyed_strings(
    rows: DataFrame,
    columns: &[PlSmallStr],
    keyed: &[TextKey],
) -> PolarsResult<DataFrame> {
    let keys = (keyed.iter())
        .map(|key| key.of_strings(rows.column(&key.column)?))
        .collect::<PolarsResult<Vec<_>>>()?;
    let texts = keyed.iter().map(|key| &key.column);
    let mut rows = rows.drop_many(texts.filter(|text| !columns.contains(text)).cloned());
    for keys in keys {
        rows.with_column(keys)?;
    }
    Ok(rows)
}

/// One Parquet file of a table, its footer read when a key is first read from it.
struct ChunkFile {
    path: PathBuf,
    footer: OnceLock<Result<FileMetadata, String>>,
}

/// Where each row group of a table (in scan order, as [`super::row_groups::Layout`] numbers
/// them) is stored, to read a text column's chunk of it as keys.
pub struct ColumnChunks {
    files: Vec<ChunkFile>,
    /// Each row group's file (an index into `files`) and its index in that file.
    groups: Vec<(usize, usize)>,
    /// The columns stored as text (Parquet byte arrays): only these are read as keys.
    texts: Vec<&'static str>,
}

impl ColumnChunks {
    /// The row groups of `source`, where every file records its row groups (as a table with a
    /// layout has them).
    pub fn of(source: &TableSource) -> Option<ColumnChunks> {
        use arrow::datatypes::DataType as A;
        let files = source.files.iter().map(|file| {
            let groups = file.groups.as_ref()?.len();
            Some((file.path.clone(), groups))
        });
        let texts = (source.stored.iter())
            .filter(|(_, stored)| matches!(stored, A::Utf8 | A::LargeUtf8 | A::Utf8View))
            .map(|(column, _)| *column);
        Some(ColumnChunks::new(
            files.collect::<Option<_>>()?,
            texts.collect(),
        ))
    }

    /// The row groups of `files` (each a path and its number of row groups, in scan order),
    /// whose columns `texts` are stored as text.
    pub fn new(files: Vec<(PathBuf, usize)>, texts: Vec<&'static str>) -> ColumnChunks {
        let groups = (files.iter().enumerate())
            .flat_map(|(file, (_, groups))| (0..*groups).map(move |group| (file, group)))
            .collect();
        let files = (files.into_iter())
            .map(|(path, _)| ChunkFile {
                path,
                footer: OnceLock::new(),
            })
            .collect();
        ColumnChunks {
            files,
            groups,
            texts,
        }
    }

    /// Whether `column` can be read as keys: it is stored in the files, as text.
    pub fn reads(&self, column: &str) -> bool {
        self.texts.contains(&column)
    }

    /// Pushes the keys of `key`'s column in row group `group` to `keys`, one per row of the
    /// `rows` the row group has.
    pub fn keys(
        &self,
        group: usize,
        rows: usize,
        key: &TextKey,
        keys: &mut Vec<u32>,
    ) -> PolarsResult<()> {
        let (file, index) = *(self.groups.get(group))
            .ok_or_else(|| polars_err!(ComputeError: "no row group {group}"))?;
        let file = &self.files[file];
        let in_file = |e: &dyn std::fmt::Display| polars_err!(ComputeError: "{}: column {}: {e}", file.path.display(), key.column);
        let mut handle = File::open(&file.path).map_err(|e| in_file(&e))?;
        let footer = file.footer.get_or_init(|| {
            polars_parquet::read::read_metadata(&mut handle).map_err(|e| e.to_string())
        });
        let footer = footer.as_ref().map_err(|e| in_file(e))?;
        let row_group = (footer.row_groups.get(index))
            .ok_or_else(|| in_file(&format!("no row group {index}")))?;
        polars_ensure!(
            row_group.num_rows() == rows,
            ComputeError: "{}: row group {index} has {} rows, its statistics said {rows}",
            file.path.display(), row_group.num_rows()
        );
        let chunks = (row_group.columns_under_root_iter(&key.column))
            .ok_or_else(|| in_file(&"not in the file"))?
            .map(|chunk| {
                let range = chunk.byte_range();
                let mut bytes = vec![0; (range.end - range.start) as usize];
                handle.seek(SeekFrom::Start(range.start))?;
                handle.read_exact(&mut bytes)?;
                Ok((chunk, polars_buffer::Buffer::from(bytes)))
            })
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| in_file(&e))?;
        // As dictionary indices where every page is dictionary-encoded; polars' categorical
        // decoder refuses a chunk with any other page, which is then decoded as strings.
        let arrays = match to_deserializer(chunks.clone(), indices_field(&key.column), None) {
            Ok((arrays, _)) => arrays,
            Err(_) => {
                let field = ArrowField::new(key.column.clone(), ArrowDataType::Utf8View, true);
                let decoded = to_deserializer(chunks, field, None).map_err(|e| {
                    polars_err!(
                        ComputeError: "{}: column `{}` could not be decoded ({e}): its Parquet \
                        pages are damaged (`eligo check` does not decode this column); write \
                        the file again", file.path.display(), key.column
                    )
                })?;
                decoded.0
            }
        };
        let start = keys.len();
        for array in &arrays {
            key.of_array(array.as_ref(), keys)?;
        }
        polars_ensure!(
            keys.len() - start == rows,
            ComputeError: "{}: column {}: {} values in a row group of {rows} rows",
            file.path.display(), key.column, keys.len() - start
        );
        Ok(())
    }
}

/// A text column decoded as polars' categorical decoder gives it: each row's index into its
/// chunk's dictionary (`u32`), and the dictionary.
pub fn indices_field(column: &str) -> ArrowField {
    let indices = ArrowDataType::Dictionary(
        IntegerType::UInt32,
        Box::new(ArrowDataType::Utf8View),
        false,
    );
    let mut categorical = Metadata::new();
    categorical.insert(DTYPE_CATEGORICAL_LEGACY.into(), "".into());
    ArrowField::new(column.into(), indices, true).with_metadata(categorical)
}

#[cfg(test)]
mod tests;
