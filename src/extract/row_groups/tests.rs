use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::*;
use crate::extract::partition::split;
use crate::extract::text_keys::{ColumnChunks, TextKey};

/// Writes ids as `person_id` (with each row's number as `row`) into `dir/name` in row groups of
/// `group_rows` rows; returns the path.
fn written(dir: &Path, name: &str, ids: ArrayRef, group_rows: usize) -> PathBuf {
    let rows: Vec<i64> = (0..ids.len() as i64).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("person_id", ids),
        ("row", Arc::new(Int64Array::from(rows))),
    ];
    written_columns(dir, name, columns, group_rows)
}

/// Writes `columns` into `dir/name` in row groups of `group_rows` rows; returns the path.
fn written_columns(
    dir: &Path,
    name: &str,
    columns: Vec<(&str, ArrayRef)>,
    group_rows: usize,
) -> PathBuf {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let path = dir.join(name);
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let file = File::create(&path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    path
}

/// The file's layout, from its footer as the extract reads it.
fn layout_of(path: &Path) -> Option<Layout> {
    let file = File::open(path).unwrap();
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).unwrap();
    let spans = super::super::locate::person_id_spans(metadata.metadata())?;
    Layout::from_spans(&spans)
}

fn scan(path: &Path) -> LazyFrame {
    let path = PlRefPath::try_from_path(path).unwrap();
    LazyFrame::scan_parquet(path, ScanArgsParquet::default()).unwrap()
}

/// How the partitions are read.
#[derive(Clone, Copy)]
enum Order {
    /// The last partition first.
    Reversed,
    /// Each on a thread of its own, all at once.
    Threads,
    /// As jobs of a rayon pool of two threads, whose workers take other partitions' jobs while
    /// they wait inside polars.
    Rayon,
}

const ORDERS: [Order; 3] = [Order::Reversed, Order::Threads, Order::Rayon];

/// The `row` column of each partition, as the reader gives it (read in `order`) and as the
/// range filter gives it.
fn read_both(
    path: &Path,
    partitions: &[Partition],
    order: Order,
) -> (Vec<Vec<i64>>, Vec<Vec<i64>>, RowGroupReader) {
    let layout = layout_of(path).expect("in person_id order");
    let reader = RowGroupReader::new([(Table::Person, scan(path), layout)], partitions);
    let columns: Vec<PlSmallStr> = vec!["person_id".into(), "row".into()];
    let rows = |frame: DataFrame| -> Vec<i64> {
        let rows = frame.column("row").unwrap().i64().unwrap().clone();
        rows.into_no_null_iter().collect()
    };
    let by_groups = |p: &Partition| {
        let frame = reader.read(Table::Person, p, &columns, &[]);
        rows(frame.unwrap().unwrap())
    };
    let read = read_in(order, partitions, by_groups);
    let filtered = partitions
        .iter()
        .map(|p| rows(p.filter(scan(path)).collect().unwrap()))
        .collect();
    (read, filtered, reader)
}

/// `read` of each partition, the partitions read in `order`.
fn read_in<T: Send>(
    order: Order,
    partitions: &[Partition],
    read: impl Fn(&Partition) -> T + Sync + Send,
) -> Vec<T> {
    match order {
        Order::Reversed => partitions.iter().rev().map(read).rev().collect(),
        Order::Threads => std::thread::scope(|scope| {
            let threads: Vec<_> = (partitions.iter())
                .map(|p| scope.spawn(|| read(p)))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        }),
        Order::Rayon => {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build();
            pool.unwrap()
                .install(|| partitions.par_iter().map(read).collect())
        }
    }
}

/// Row groups decoded by `reader`, none kept: each once where partitions were read one after
/// another, and up to `shared` more where they were read at once (a partition asking for a row
/// group across a bound while another decodes it decodes it too).
fn assert_decoded(reader: &RowGroupReader, order: Order, groups: usize, shared: usize) {
    let (decoded, kept) = reader.decoded_and_kept();
    assert_eq!(kept, 0);
    match order {
        Order::Reversed => assert_eq!(decoded, groups),
        Order::Threads | Order::Rayon => assert!((groups..=groups + shared).contains(&decoded)),
    }
}

fn int_ids(ids: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(ids.to_vec()))
}

fn sorted_ids(ids: &[Option<i64>]) -> Series {
    let mut known: Vec<i64> = ids.iter().flatten().copied().collect();
    known.sort_unstable();
    known.dedup();
    Series::new("person_id".into(), known)
}

/// Row groups of three: [1 1 2] [2 3 null] [4 5 5] [5 null 6] [7 8 9] [9]; id 2 and id 5 lie
/// across row groups, a null id in none of the partitions (the second row group lies across a
/// bound, the fourth inside one partition's range). Ids 1..9 two at a time: [..3) [3..5) [5..7)
/// [7..9) [9..). The file's path, and the partitions.
fn six_row_groups_five_partitions(dir: &Path) -> (PathBuf, Vec<Partition>) {
    let ids = [1, 1, 2, 2, 3, -1, 4, 5, 5, 5, -1, 6, 7, 8, 9, 9].map(|id| (id >= 0).then_some(id));
    let path = written(dir, "person.parquet", int_ids(&ids), 3);
    let partitions = split(&sorted_ids(&ids), 2).unwrap();
    assert_eq!(partitions.len(), 5);
    (path, partitions)
}

#[test]
fn every_partitions_rows_each_row_group_decoded_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, partitions) = six_row_groups_five_partitions(dir.path());
    for order in ORDERS {
        let (read, filtered, reader) = read_both(&path, &partitions, order);
        assert_eq!(read, filtered);
        // By hand: rows 0-3 (ids 1 1 2 2), 4 and 6 (ids 3 4), 7-9 and 11 (5 5 5 6), 12-13
        // (7 8), 14-15 (9 9).
        assert_eq!(
            read,
            vec![
                vec![0, 1, 2, 3],
                vec![4, 6],
                vec![7, 8, 9, 11],
                vec![12, 13],
                vec![14, 15]
            ]
        );
        // Six row groups, each decoded once read in order (a row group across a bound may be
        // decoded again by a partition that asks for it while another decodes it), none kept
        // after the last partition read it; three of them across a bound (ids 2-3, 4-5, 7-9).
        assert_decoded(&reader, order, 6, 3);
    }
}

/// Read in runs of at most one row (`RowGroupReader::read_each`: a row group larger than that
/// alone), each partition's rows come as one frame per row group its range overlaps, in order, without `person_id` where it is not asked
/// for; a range overlapping no row group gives one empty frame; a table without a layout is not
/// read.
#[test]
fn rows_read_a_row_group_at_a_time_come_group_by_group() {
    let dir = tempfile::tempdir().unwrap();
    let (path, partitions) = six_row_groups_five_partitions(dir.path());
    let layout = layout_of(&path).unwrap();
    let reader = RowGroupReader::new([(Table::Person, scan(&path), layout)], &partitions);
    let columns: Vec<PlSmallStr> = vec!["row".into()];
    let pieces = |partition: &Partition| {
        let mut pieces: Vec<Vec<i64>> = Vec::new();
        let read = reader.read_each(Table::Person, partition, &columns, &[], 1, |frame| {
            assert_eq!(frame.get_column_names(), ["row"]);
            let rows = frame.column("row")?.i64()?.clone();
            pieces.push(rows.into_no_null_iter().collect());
            PolarsResult::Ok(())
        });
        read.unwrap().unwrap();
        pieces
    };
    let read: Vec<Vec<Vec<i64>>> = partitions.iter().map(pieces).collect();
    // By hand: [..3) rows 0-2 of the first group and 3 of the second; [3..5) 4 of the second
    // and 6 of the third; [5..7) 7-8 of the third and 9 and 11 of the fourth (its null id
    // dropped); [7..9) 12-13 of the fifth; [9..) 14 of the fifth and 15 of the sixth.
    let want: Vec<Vec<Vec<i64>>> = vec![
        vec![vec![0, 1, 2], vec![3]],
        vec![vec![4], vec![6]],
        vec![vec![7, 8], vec![9, 11]],
        vec![vec![12, 13]],
        vec![vec![14], vec![15]],
    ];
    assert_eq!(read, want);
    assert_decoded(&reader, Order::Reversed, 6, 0);
    let beyond = Partition {
        from: Some(Bound::Int(100)),
        until: None,
        patients: 0,
    };
    assert_eq!(pieces(&beyond), vec![Vec::<i64>::new()]);
    let other = reader.read_each(Table::Measurement, &partitions[0], &columns, &[], 1, |_| {
        PolarsResult::Ok(())
    });
    assert!(other.is_none());
}

/// One partition over four row groups of two rows (ids 1-8): read in runs of at most `most`
/// rows, the frames hold runs of whole row groups, by hand.
#[test]
fn runs_of_row_groups_read_at_once_hold_at_most_the_rows_asked() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<Option<i64>> = (1..=8).map(Some).collect();
    let path = written(dir.path(), "person.parquet", int_ids(&ids), 2);
    let partitions = split(&sorted_ids(&ids), 100).unwrap();
    assert_eq!(partitions.len(), 1);
    for (most, want) in [
        (1, vec![2, 2, 2, 2]),
        (3, vec![2, 2, 2, 2]),
        (4, vec![4, 4]),
        (6, vec![6, 2]),
        (u64::MAX, vec![8]),
    ] {
        let layout = layout_of(&path).unwrap();
        let reader = RowGroupReader::new([(Table::Person, scan(&path), layout)], &partitions);
        let mut heights = Vec::new();
        let columns: Vec<PlSmallStr> = vec!["person_id".into()];
        let read = reader.read_each(Table::Person, &partitions[0], &columns, &[], most, |f| {
            heights.push(f.height());
            PolarsResult::Ok(())
        });
        read.unwrap().unwrap();
        assert_eq!(heights, want, "runs of at most {most} rows");
        assert_decoded(&reader, Order::Reversed, 4, 0);
    }
}

#[test]
fn one_row_group_holding_every_partition_is_decoded_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<Option<i64>> = (0..20).map(|i| Some(i / 2)).collect();
    let path = written(dir.path(), "person.parquet", int_ids(&ids), 1000);
    let partitions = split(&sorted_ids(&ids), 3).unwrap();
    assert_eq!(partitions.len(), 4);
    for order in ORDERS {
        let (read, filtered, reader) = read_both(&path, &partitions, order);
        assert_eq!(read, filtered);
        assert_eq!(read.concat(), (0..20).collect::<Vec<_>>());
        assert_decoded(&reader, order, 1, 3);
    }
}

#[test]
fn text_ids_in_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["A", "B", "B", "Z", "a", "b", "b", "ä"];
    let array: ArrayRef = Arc::new(StringArray::from(ids.to_vec()));
    let path = written(dir.path(), "person.parquet", array, 2);
    let distinct = Series::new("person_id".into(), ["A", "B", "Z", "a", "b", "ä"]);
    // [..Z) [Z..b) [b..): "ä" (0xC3 0xA4) sorts after every ASCII letter.
    let partitions = split(&distinct, 2).unwrap();
    assert_eq!(partitions[1].from, Some(Bound::Text("Z".into())));
    let (read, filtered, reader) = read_both(&path, &partitions, Order::Threads);
    assert_eq!(read, filtered);
    assert_eq!(read, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6, 7]]);
    // Two row groups across a bound: ids B-Z and a-b.
    assert_decoded(&reader, Order::Threads, 4, 2);
}

#[test]
fn row_groups_out_of_order_have_no_layout() {
    let dir = tempfile::tempdir().unwrap();
    let ids = [1, 2, 5, 6, 3, 4].map(Some);
    let path = written(dir.path(), "person.parquet", int_ids(&ids), 2);
    assert_eq!(layout_of(&path), None);
    // Overlapping ranges: [1 3] then [2 4].
    let ids = [1, 3, 2, 4].map(Some);
    let path = written(dir.path(), "overlapping.parquet", int_ids(&ids), 2);
    assert_eq!(layout_of(&path), None);
    // One id across the bound is in order.
    let ids = [1, 2, 2, 4].map(Some);
    let path = written(dir.path(), "touching.parquet", int_ids(&ids), 2);
    assert!(layout_of(&path).is_some());
}

#[test]
fn a_row_group_of_nulls_records_no_range() {
    let dir = tempfile::tempdir().unwrap();
    let ids = [Some(1), Some(2), None, None];
    let path = written(dir.path(), "person.parquet", int_ids(&ids), 2);
    assert_eq!(layout_of(&path), None);
}

/// Ids 0-7 in one row group, read by two partitions ([..4) and [4..)).
fn one_row_group_two_partitions(dir: &Path) -> (RowGroupReader, Vec<Partition>) {
    let ids: Vec<Option<i64>> = (0..8).map(Some).collect();
    let path = written(dir, "person.parquet", int_ids(&ids), 8);
    let partitions = split(&sorted_ids(&ids), 4).unwrap();
    let layout = layout_of(&path).unwrap();
    let reader = RowGroupReader::new([(Table::Person, scan(&path), layout)], &partitions);
    (reader, partitions)
}

/// The `row` column alone of `partition`'s rows, read by `reader`.
fn row_column(reader: &RowGroupReader, partition: &Partition) -> Vec<i64> {
    let columns: Vec<PlSmallStr> = vec!["row".into()];
    let rows = reader
        .read(Table::Person, partition, &columns, &[])
        .unwrap()
        .unwrap();
    let rows = rows.column("row").unwrap().i64().unwrap().clone();
    rows.into_no_null_iter().collect()
}

/// A partition asking for a row group that another partition is decoding (or was, when its
/// decoding panicked on damaged pages) decodes it for itself rather than wait, and does not keep
/// it; the next partition decodes and keeps it.
#[test]
fn a_row_group_being_decoded_is_decoded_again_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, partitions) = one_row_group_two_partitions(dir.path());
    let shared = reader.tables[0].shared_group(0).unwrap();
    shared.lock().unwrap().decoding = true;
    assert_eq!(row_column(&reader, &partitions[1]), vec![4, 5, 6, 7]);
    assert_eq!(reader.decoded_and_kept(), (1, 0));
    let state = shared.lock().unwrap();
    assert_eq!((state.users, state.decoding), (1, true));
    drop(state);
    shared.lock().unwrap().decoding = false;
    assert_eq!(row_column(&reader, &partitions[0]), vec![0, 1, 2, 3]);
    assert_eq!(reader.decoded_and_kept(), (2, 0));
    // The last partition let the row group go.
    assert!(reader.tables[0].shared_group(0).is_none());
}

/// A shared row group's rows for a partition, by slice where its ids ascend with no null,
/// worked out by hand: ids 1 2 2 3 5 and the range [2, 5) are rows 1..4; unbounded ends; a
/// bound between ids; none where the ids descend somewhere, hold a null, or are of the other
/// kind than the bounds; text ids in byte order ("ä" after "b").
#[test]
fn ascending_rows_are_a_slice() {
    let range = |from: Option<Bound>, until: Option<Bound>| Partition {
        from,
        until,
        patients: 0,
    };
    let int = |ids: &[Option<i64>]| df!("person_id" => ids).unwrap();
    let ids = int(&[1, 2, 2, 3, 5].map(Some));
    let (two, five) = (Some(Bound::Int(2)), Some(Bound::Int(5)));
    assert_eq!(
        ascending_rows(&ids, &range(two.clone(), five.clone())),
        Some(1..4)
    );
    assert_eq!(ascending_rows(&ids, &range(None, two.clone())), Some(0..1));
    assert_eq!(ascending_rows(&ids, &range(five.clone(), None)), Some(4..5));
    assert_eq!(
        ascending_rows(&ids, &range(Some(Bound::Int(4)), None)),
        Some(4..5)
    );
    assert_eq!(
        ascending_rows(&ids, &range(Some(Bound::Int(6)), None)),
        Some(5..5)
    );
    let text = Some(Bound::Text("2".into()));
    assert_eq!(ascending_rows(&ids, &range(text, None)), None);
    let descending = int(&[1, 3, 2].map(Some));
    assert_eq!(ascending_rows(&descending, &range(two.clone(), None)), None);
    let null = int(&[Some(1), None, Some(3)]);
    assert_eq!(ascending_rows(&null, &range(two, None)), None);
    let texts = df!("person_id" => ["A", "B", "b", "ä"]).unwrap();
    let b = Some(Bound::Text("b".into()));
    assert_eq!(ascending_rows(&texts, &range(b, None)), Some(2..4));
    let unordered = df!("person_id" => ["A", "ä", "b"]).unwrap();
    assert_eq!(ascending_rows(&unordered, &range(None, None)), None);
}

/// Row groups in order whose ids do not ascend inside them: each partition's rows of a shared
/// row group by the range filter, as the filter over the whole file gives them.
#[test]
fn row_groups_unordered_inside_are_filtered() {
    let dir = tempfile::tempdir().unwrap();
    // Row groups of three: [2 1 3] [4 3 4] [6 4 5], in order by their ranges (1-3, 3-4, 4-6);
    // ids 3 and 4 lie across row groups.
    let ids = [2, 1, 3, 4, 3, 4, 6, 4, 5].map(Some);
    let path = written(dir.path(), "person.parquet", int_ids(&ids), 3);
    let partitions = split(&sorted_ids(&ids), 2).unwrap();
    for order in ORDERS {
        let (read, filtered, _) = read_both(&path, &partitions, order);
        assert_eq!(read, filtered);
        // By hand, ids two at a time ([..3) [3..5) [5..)): rows 0-1 (ids 2 1), 2-5 and 7
        // (3 4 3 4 4), 6 and 8 (6 5).
        assert_eq!(read, vec![vec![0, 1], vec![2, 3, 4, 5, 7], vec![6, 8]]);
    }
}

/// A text column read as keys ([`TextKey`]) through the reader: each partition's keys are those
/// of its rows' texts, worked out row by row from the range filter's read of the same rows.
/// The ids are the first test's, null ids and all: the runs of row groups holding a null id
/// are read through the range filter (their keys from the texts decoded as strings), the
/// others' from the Parquet dictionaries of the row groups' chunks, those across bounds kept
/// with their keys for the next partition. Every order of reading.
#[test]
fn text_columns_read_as_keys_are_their_rows_keys() {
    use arrow::array::StringArray;
    let dir = tempfile::tempdir().unwrap();
    let ids = [1, 1, 2, 2, 3, -1, 4, 5, 5, 5, -1, 6, 7, 8, 9, 9].map(|id| (id >= 0).then_some(id));
    let codes: Vec<Option<String>> = (0..ids.len())
        .map(|row| (row % 5 != 4).then(|| format!("c{}", "x".repeat(row % 4))))
        .collect();
    let rows: Vec<i64> = (0..ids.len() as i64).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("person_id", int_ids(&ids)),
        ("row", Arc::new(Int64Array::from(rows))),
        ("code", Arc::new(StringArray::from(codes))),
    ];
    let path = written_columns(dir.path(), "diagnosis.parquet", columns, 3);

    // A code's key: its length, 100 for a null.
    let key_by_hand = |code: Option<&str>| code.map_or(100, |code| code.len() as u32);
    let key = TextKey::new("code", "__code_key", key_by_hand);
    let partitions = split(&sorted_ids(&ids), 2).unwrap();
    for order in ORDERS {
        let chunks = ColumnChunks::new(vec![(path.clone(), 6)], vec!["code"]);
        let layout = layout_of(&path).unwrap();
        let reader = RowGroupReader::new([(Table::Diagnosis, scan(&path), layout)], &partitions)
            .with_chunks(Table::Diagnosis, chunks);
        let columns: Vec<PlSmallStr> = vec!["row".into()];
        let read = |p: &Partition| {
            let frame = reader.read(Table::Diagnosis, p, &columns, std::slice::from_ref(&key));
            let frame = frame.unwrap().unwrap();
            assert_eq!(frame.get_column_names(), ["row", "__code_key"]);
            let rows = frame.column("row").unwrap().i64().unwrap().clone();
            let keys = frame.column("__code_key").unwrap().u32().unwrap().clone();
            (rows.into_no_null_iter())
                .zip(keys.into_no_null_iter())
                .collect::<Vec<(i64, u32)>>()
        };
        let read = read_in(order, &partitions, read);
        for (partition, read) in partitions.iter().zip(&read) {
            let filtered = partition.filter(scan(&path)).collect().unwrap();
            let rows = filtered.column("row").unwrap().i64().unwrap().clone();
            let codes = filtered.column("code").unwrap().str().unwrap().clone();
            let want: Vec<(i64, u32)> = (rows.into_no_null_iter())
                .zip(codes.iter().map(key_by_hand))
                .collect();
            assert_eq!(*read, want);
        }
        assert_eq!(read.concat().len(), 14, "every row but the null ids'");
    }
}
