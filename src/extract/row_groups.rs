//! A partition's rows read by Parquet row groups, each row group decoded once. Where a table's row
//! groups follow one another in `person_id` order (their statistics say so, as an extract sorted
//! by person is written), a partition's rows are the row groups its range overlaps: those inside
//! the range are read by a row slice, and a row group across one of its bounds is decoded by the
//! first partition that needs it and kept, as decoded columns, until the last has taken its rows
//! (one run of them by binary search where the group's ids ascend, else by the range filter).
//! Filtering each partition by its range instead makes every row group across a bound decoded by
//! both partitions: at 250,000 patients a partition and the synthetic extract's 131,072 rows a
//! row group, 1.2x the decoding of the whole extract, and a writer's larger row groups (a million
//! rows, pyarrow's default) are decoded once per partition they hold. The price is memory: a row
//! group across bounds stays decoded until its last partition has read it (a table written as
//! one row group, for the whole run). No partition waits for another: one that asks for a row
//! group while another decodes it decodes it too (at 10 M patients, 4 to 11 more decodings than
//! the 1,849 row groups the run reads), so partitions may be read on any threads, a thread
//! pool's jobs included.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use polars_arrow::bitmap::MutableBitmap;

use super::locate::TableSource;
use super::partition::{Bound, Partition};
use super::text_keys::{keyed_strings, with_texts, ColumnChunks, TextKey};
use super::Table;

/// One row group of a file: its rows and the range of its `person_id` statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpan {
    pub rows: u64,
    pub min: Bound,
    pub max: Bound,
    /// Whether some `person_id` may be null (the statistics do not say none is).
    pub nulls: bool,
}

/// A table's row groups, across its files in scan order, each starting at or after the ids of
/// the one before (`min[g + 1] >= max[g]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The first row of each row group in the scan, and the rows of all of them at the end.
    starts: Vec<u64>,
    min: Vec<Bound>,
    max: Vec<Bound>,
    nulls: Vec<bool>,
}

impl Layout {
    /// The layout of `source`, where every file records each row group's `person_id` range, the
    /// files scan as one (no hive folders telling them apart) and the ranges are in order; None
    /// otherwise (reading falls back to the range filter).
    pub fn of(source: &TableSource) -> Option<Layout> {
        use arrow::datatypes::DataType as A;
        let first = source.files.first()?;
        let plain = matches!(
            source.stored.get("person_id")?,
            A::Int64 | A::Int32 | A::Utf8 | A::LargeUtf8 | A::Utf8View
        );
        if !plain || source.files.iter().any(|f| f.hive != first.hive) {
            return None;
        }
        let spans = source.files.iter().map(|f| f.groups.as_deref());
        Layout::from_spans(spans.collect::<Option<Vec<_>>>()?.into_iter().flatten())
    }

    /// The layout of row groups in scan order; None where they are not in `person_id` order.
    pub fn from_spans<'a>(spans: impl IntoIterator<Item = &'a GroupSpan>) -> Option<Layout> {
        let mut layout = Layout {
            starts: vec![0],
            min: Vec::new(),
            max: Vec::new(),
            nulls: Vec::new(),
        };
        let mut at = 0u64;
        for span in spans {
            if span.min > span.max || layout.max.last().is_some_and(|last| span.min < *last) {
                return None;
            }
            at = at.checked_add(span.rows)?;
            layout.starts.push(at);
            layout.min.push(span.min.clone());
            layout.max.push(span.max.clone());
            layout.nulls.push(span.nulls);
        }
        Some(layout)
    }

    /// The row groups that `partition`'s range overlaps (in order, consecutive).
    fn overlapped(&self, partition: &Partition) -> Range<usize> {
        let first = match &partition.from {
            Some(from) => self.max.partition_point(|max| max < from),
            None => 0,
        };
        let end = match &partition.until {
            Some(until) => self.min.partition_point(|min| min < until),
            None => self.min.len(),
        };
        first..end.max(first)
    }

    /// Whether row group `group` holds ids outside `partition`'s range (another partition's).
    fn crosses(&self, group: usize, partition: &Partition) -> bool {
        partition
            .from
            .as_ref()
            .is_some_and(|f| self.min[group] < *f)
            || partition
                .until
                .as_ref()
                .is_some_and(|u| self.max[group] >= *u)
    }

    fn rows(&self, groups: Range<usize>) -> (i64, IdxSize) {
        let from = self.starts[groups.start];
        let rows = self.starts[groups.end] - from;
        (from as i64, rows as IdxSize)
    }
}

/// A row group across partitions' bounds, decoded by the first of its partitions to need it.
struct Shared {
    /// Partitions that have still to take their rows.
    users: usize,
    /// Whether a partition is decoding the row group to keep it (left set by a decoding that
    /// panicked: the others then decode it for themselves).
    decoding: bool,
    /// The decoded columns, and which they are (the columns, then the keys).
    frame: Option<(Vec<PlSmallStr>, DataFrame)>,
}

/// The columns a partition reads of a table, and the text columns it reads as keys.
struct Wanted<'k> {
    columns: Vec<PlSmallStr>,
    keyed: &'k [TextKey],
}

impl Wanted<'_> {
    /// The columns of the frame read: the columns, then the keys.
    fn names(&self) -> Vec<PlSmallStr> {
        let keys = self.keyed.iter().map(|key| key.name.clone());
        self.columns.iter().cloned().chain(keys).collect()
    }
}

/// One table's scan, layout and row groups across bounds.
struct TableGroups {
    table: Table,
    scan: LazyFrame,
    layout: Layout,
    /// Where the row groups are stored, to read text columns as keys; None where they are read
    /// as strings and mapped.
    chunks: Option<ColumnChunks>,
    shared: Mutex<HashMap<usize, Arc<Mutex<Shared>>>>,
    /// Row groups decoded so far.
    decoded: AtomicUsize,
}

/// The partitions' rows of every table with a [`Layout`], each row group decoded once (twice
/// where two partitions ask for a row group across their bound at the same moment: no partition
/// waits for another, so partitions can be read on any threads, a thread pool's jobs included).
pub struct RowGroupReader {
    tables: Vec<TableGroups>,
}

impl RowGroupReader {
    /// A reader of `partitions` (all of them: a row group across bounds is kept until each of
    /// its partitions has read it) for the tables of `scans` that have a layout.
    pub fn new(
        scans: impl IntoIterator<Item = (Table, LazyFrame, Layout)>,
        partitions: &[Partition],
    ) -> RowGroupReader {
        let tables = scans
            .into_iter()
            .map(|(table, scan, layout)| {
                let mut users: HashMap<usize, usize> = HashMap::new();
                for partition in partitions {
                    for group in layout.overlapped(partition) {
                        if layout.crosses(group, partition) {
                            *users.entry(group).or_default() += 1;
                        }
                    }
                }
                // A row group across a bound is filtered to each partition's range, even where
                // no other partition's range holds one of its ids.
                let shared = users
                    .into_iter()
                    .map(|(group, users)| {
                        let shared = Shared {
                            users,
                            decoding: false,
                            frame: None,
                        };
                        (group, Arc::new(Mutex::new(shared)))
                    })
                    .collect();
                TableGroups {
                    table,
                    scan,
                    layout,
                    chunks: None,
                    shared: Mutex::new(shared),
                    decoded: AtomicUsize::new(0),
                }
            })
            .collect();
        RowGroupReader { tables }
    }

    /// Reads `table`'s text columns as keys from the row groups' files ([`ColumnChunks`]).
    pub fn with_chunks(mut self, table: Table, chunks: ColumnChunks) -> RowGroupReader {
        if let Some(groups) = self.tables.iter_mut().find(|t| t.table == table) {
            groups.chunks = Some(chunks);
        }
        self
    }

    /// `columns` of `table`'s rows in `partition`'s range, in the scan's order, then each of
    /// `keyed`'s key column; None where the table has no layout (read it through the range
    /// filter).
    pub fn read(
        &self,
        table: Table,
        partition: &Partition,
        columns: &[PlSmallStr],
        keyed: &[TextKey],
    ) -> Option<PolarsResult<DataFrame>> {
        let groups = self.tables.iter().find(|t| t.table == table)?;
        Some(groups.read(partition, columns, keyed))
    }

    /// [`RowGroupReader::read`]'s rows, not gathered: each run of whole row groups of at most
    /// `most_rows` rows in all (or a single larger one), and each row group across the
    /// partition's bounds, to `f` as it is decoded (at least one frame, empty where the range
    /// holds no row group); None where the table has no layout (`f` is not called).
    pub fn read_each<E: From<PolarsError>>(
        &self,
        table: Table,
        partition: &Partition,
        columns: &[PlSmallStr],
        keyed: &[TextKey],
        most_rows: u64,
        f: impl FnMut(DataFrame) -> Result<(), E>,
    ) -> Option<Result<(), E>> {
        let groups = self.tables.iter().find(|t| t.table == table)?;
        Some(groups.read_each(partition, columns, keyed, most_rows, f))
    }

    /// Row groups decoded so far, and row groups across bounds kept for a partition yet to
    /// read them, over every table.
    pub fn decoded_and_kept(&self) -> (usize, usize) {
        let decoded = self
            .tables
            .iter()
            .map(|t| t.decoded.load(Ordering::Relaxed));
        let kept = self.tables.iter().map(|t| {
            let shared = t.shared.lock().unwrap_or_else(|e| e.into_inner());
            let kept = shared.values().filter(|s| {
                let s = s.lock().unwrap_or_else(|e| e.into_inner());
                s.frame.is_some()
            });
            kept.count()
        });
        (decoded.sum(), kept.sum())
    }
}

impl TableGroups {
    fn read(
        &self,
        partition: &Partition,
        wanted: &[PlSmallStr],
        keyed: &[TextKey],
    ) -> PolarsResult<DataFrame> {
        let mut frame: Option<DataFrame> = None;
        self.read_each(partition, wanted, keyed, u64::MAX, |piece| {
            match &mut frame {
                None => frame = Some(piece),
                Some(frame) => {
                    frame.vstack_mut_owned(piece)?;
                }
            }
            PolarsResult::Ok(())
        })?;
        frame.ok_or_else(|| polars_err!(ComputeError: "no rows read of row groups"))
    }

    /// `partition`'s rows to `f` as they are decoded: each run of row groups that no other
    /// partition reads, of at most `most_rows` rows in all (a larger row group alone), in one
    /// streaming read, and each row group across a bound (an empty frame of the columns where
    /// the range overlaps no row group: `f` sees at least one).
    ///
    /// In short runs, a consumer reads each run's columns soon after they were decoded, not
    /// after the partition's whole table. But each read has a cost of its own: one read per
    /// row group of every table measured 0-3 % slower at 10 M patients than one per run
    /// (forty-ninth session), so a read gathering the whole table takes whole runs.
    fn read_each<E: From<PolarsError>>(
        &self,
        partition: &Partition,
        wanted: &[PlSmallStr],
        keyed: &[TextKey],
        most_rows: u64,
        mut f: impl FnMut(DataFrame) -> Result<(), E>,
    ) -> Result<(), E> {
        // The row groups across bounds are filtered to the range by their ids.
        let mut columns = wanted.to_vec();
        let id = PlSmallStr::from_static("person_id");
        if !columns.contains(&id) {
            columns.push(id.clone());
        }
        let columns = Wanted { columns, keyed };
        let mut give = |piece: DataFrame| match wanted.contains(&id) {
            true => f(piece),
            false => f(piece.drop(&id)?),
        };
        let overlapped = self.layout.overlapped(partition);
        if overlapped.is_empty() {
            return give(self.decode(0..0, &columns, None)?);
        }
        let mut group = overlapped.start;
        while group < overlapped.end {
            if let Some(shared) = self.shared_group(group) {
                give(self.take_shared(&shared, group, partition, &columns)?)?;
                group += 1;
                continue;
            }
            // A run of row groups no other partition reads: one slice, one streaming read.
            let mut end = group + 1;
            while end < overlapped.end
                && self.shared_group(end).is_none()
                && self.layout.starts[end + 1] - self.layout.starts[group] <= most_rows
            {
                end += 1;
            }
            // Every id of these row groups is in the range: only null ids are to be dropped
            // (a filter of the range would be evaluated on every row).
            let nulls = self.layout.nulls[group..end].contains(&true);
            give(self.decode(group..end, &columns, nulls.then_some(partition))?)?;
            group = end;
        }
        Ok(())
    }

    /// The rows of `groups` (one slice: polars reads only those row groups), `columns` of them,
    /// filtered to `partition` where given. The keys are read from the files' chunks where the
    /// rows are whole row groups, and from the text columns decoded as strings otherwise.
    fn decode(
        &self,
        groups: Range<usize>,
        columns: &Wanted,
        partition: Option<&Partition>,
    ) -> PolarsResult<DataFrame> {
        self.decoded.fetch_add(groups.len(), Ordering::Relaxed);
        let (offset, rows) = self.layout.rows(groups.clone());
        let mut scan = self.scan.clone().slice(offset, rows);
        if let Some(partition) = partition {
            scan = partition.filter(scan);
        }
        let chunks = (self.chunks.as_ref()).filter(|chunks| {
            partition.is_none() && columns.keyed.iter().all(|k| chunks.reads(&k.column))
        });
        let select = match chunks {
            Some(_) => columns.columns.clone(),
            None => with_texts(&columns.columns, columns.keyed),
        };
        let select = select.into_iter().map(col).collect::<Vec<_>>();
        let mut frame =
            (scan.select(select).collect_with_engine(Engine::Streaming)?).unwrap_single();
        let Some(chunks) = chunks else {
            return keyed_strings(frame, &columns.columns, columns.keyed);
        };
        use rayon::prelude::*;
        polars_ensure!(
            rows as usize == frame.height(),
            ComputeError: "{} rows read of row groups of {rows}", frame.height()
        );
        // The keys of each column, in row groups' order; the columns side by side.
        let read = |key: &TextKey| {
            let mut keys = Vec::with_capacity(frame.height());
            for group in groups.clone() {
                let (_, rows) = self.layout.rows(group..group + 1);
                chunks.keys(group, rows as usize, key, &mut keys)?;
            }
            Ok(UInt32Chunked::from_vec(key.name.clone(), keys).into_column())
        };
        let keys: Vec<Column> = match crate::engine::in_order::on_this_thread() {
            true => columns
                .keyed
                .iter()
                .map(read)
                .collect::<PolarsResult<_>>()?,
            false => columns
                .keyed
                .par_iter()
                .map(read)
                .collect::<PolarsResult<_>>()?,
        };
        for keys in keys {
            frame.with_column(keys)?;
        }
        Ok(frame)
    }

    fn shared_group(&self, group: usize) -> Option<Arc<Mutex<Shared>>> {
        let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.get(&group).cloned()
    }

    /// `partition`'s rows of a row group across its bounds: taken from the columns another
    /// partition decoded and kept, or else decoded here and kept for the others, unless another
    /// partition is decoding it at this moment: then this one decodes it for itself rather than
    /// wait (a wait could close a cycle: a pool's worker waiting inside polars' decoding can take
    /// another partition's job, which would wait for it in turn). The last partition to take its
    /// rows lets the columns go.
    fn take_shared(
        &self,
        shared: &Mutex<Shared>,
        group: usize,
        partition: &Partition,
        columns: &Wanted,
    ) -> PolarsResult<DataFrame> {
        let lock = || shared.lock().unwrap_or_else(|e| e.into_inner());
        let mut state = lock();
        let kept = match &state.frame {
            Some((kept, frame)) if *kept == columns.names() => Some(frame.clone()),
            _ => None,
        };
        let decoded = match kept {
            Some(frame) => frame,
            None => {
                let keep = !state.decoding;
                state.decoding = true;
                drop(state);
                let frame = self.decode(group..group + 1, columns, None);
                state = lock();
                if keep {
                    state.decoding = false;
                }
                let frame = frame?;
                if keep {
                    state.frame = Some((columns.names(), frame.clone()));
                }
                frame
            }
        };
        state.users = state.users.saturating_sub(1);
        let last = state.users == 0;
        if last {
            state.frame = None;
        }
        // Not held while the rows are taken out: that work runs on polars' thread pool, whose
        // workers may be waiting for this lock themselves.
        drop(state);
        if last {
            let mut all = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            all.remove(&group);
        }
        rows_in(decoded, partition)
    }
}

/// `partition`'s rows of a decoded row group: one run of rows where the group's `person_id`s
/// ascend with no null (as an extract sorted by person has them; the statistics give only the
/// group's range), else the range filter, which compared every id with both bounds (1.7 % of
/// the instructions at 250,000 patients in four partitions). The run is copied out, not
/// sliced: a slice would hold the whole row group, other partitions' rows too, for as long as
/// this partition's table lives (+0.1-0.17 GB at the peak of a 10 M run).
fn rows_in(frame: DataFrame, partition: &Partition) -> PolarsResult<DataFrame> {
    match ascending_rows(&frame, partition) {
        Some(rows) => {
            let mut run = MutableBitmap::with_capacity(frame.height());
            run.extend_constant(rows.start, false);
            run.extend_constant(rows.len(), true);
            run.extend_constant(frame.height() - rows.end, false);
            frame.filter(&BooleanChunked::from_bitmap(PlSmallStr::EMPTY, run.into()))
        }
        None => partition.filter(frame.lazy()).collect(),
    }
}

/// The first of `rows` rows for which `before` is false, `before` being true of a prefix of
/// them (a binary search: `slice::partition_point` over rows that are no slice, the views of a
/// string array).
fn first_not(rows: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, rows);
    while low < high {
        let middle = low + (high - low) / 2;
        if before(middle) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

/// The rows of `frame` in `partition`'s range, where its `person_id`s ascend with no null;
/// None otherwise (or where the ids are not of the bounds' kind).
fn ascending_rows(frame: &DataFrame, partition: &Partition) -> Option<Range<usize>> {
    let ids = frame.column("person_id").ok()?.as_materialized_series();
    if ids.null_count() > 0 {
        return None;
    }
    match ids.dtype() {
        DataType::Int64 => {
            let ids = ids.i64().ok()?.rechunk();
            let ids = ids.cont_slice().ok()?;
            if !ids.is_sorted() {
                return None;
            }
            let bound = |bound: &Option<Bound>| match bound {
                None => Some(None),
                Some(Bound::Int(id)) => Some(Some(*id)),
                Some(Bound::Text(_)) => None,
            };
            let (from, until) = (bound(&partition.from)?, bound(&partition.until)?);
            let at = |bound: Option<i64>, default| {
                bound.map_or(default, |bound| ids.partition_point(|&id| id < bound))
            };
            Some(at(from, 0)..at(until, ids.len()))
        }
        DataType::String => {
            let ids = ids.str().ok()?.rechunk();
            let ids = ids.downcast_as_array();
            let id = |row: usize| ids.value(row).as_bytes();
            if (1..ids.len()).any(|row| id(row - 1) > id(row)) {
                return None;
            }
            fn text(bound: &Option<Bound>) -> Option<Option<&[u8]>> {
                match bound {
                    None => Some(None),
                    Some(Bound::Text(id)) => Some(Some(id.as_bytes())),
                    Some(Bound::Int(_)) => None,
                }
            }
            let (from, until) = (text(&partition.from)?, text(&partition.until)?);
            let at = |bound: Option<&[u8]>, default| {
                bound.map_or(default, |bound| first_not(ids.len(), |row| id(row) < bound))
            };
            Some(at(from, 0)..at(until, ids.len()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
