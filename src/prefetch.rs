//! Cache hints for the passes over a partition's columns: a line asked for ahead of the loop
//! that reads it. The columns are decoded long before a pass reads them, so its loads go to
//! memory; on the machines measured (`BENCHMARKS.md`), the hardware's prefetchers miss the
//! next slot of most per-patient columns, and do not keep ahead even of tight loops in order.

/// Asks the processor to bring the cache line of `items[at]` into its caches, where `at` is in
/// bounds; nothing elsewhere, or off x86-64. A kernel's slots are a column per atom: reading
/// records in patient order it moves along each atom's column a patient at a time, and the
/// hardware's prefetchers miss the next line of most of them (a third of the measurement
/// kernel's samples at 10 M patients were the load of a slot, `perf`).
#[inline(always)]
pub(crate) fn prefetch<T>(items: &[T], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(item) = items.get(at) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint: it reads nothing into the program and never faults,
        // and the address is of an item in the slice.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((item as *const T).cast()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, at);
}

/// How far ahead of a pass over a column [`prefetch_stream`] asks for its lines.
const STREAM_AHEAD_BYTES: usize = 4096;

/// Called with each item `at` of a pass over `items` in order: at the first item of a cache
/// line, asks for the line [`STREAM_AHEAD_BYTES`] ahead ([`prefetch`]). A partition's columns
/// are decoded long before a pass reads them, and on some machines the hardware's prefetchers
/// do not keep ahead of a pass even in order: at 10 M patients, half of the patient-row lookup's
/// samples were the load of a person id, and this took a third of its samples off.
#[inline(always)]
pub(crate) fn prefetch_stream<T>(items: &[T], at: usize) {
    let size = std::mem::size_of::<T>().max(1);
    if at.is_multiple_of((64 / size).max(1)) {
        prefetch(items, at + items_ahead::<T>());
    }
}

/// Items of a pass read between two asks of [`prefetch_block`]: a loop over so many items
/// stays one the compiler can vectorize. Passes take their blocks from [`blocks`]; the patient
/// rows' lookup takes them by `chunks(BLOCK)`, which it runs faster.
pub(crate) const BLOCK: usize = 1024;

/// The ranges of a pass over `len` items by blocks of [`BLOCK`], each to be asked for with
/// [`prefetch_block`] in every column the block's loop reads, then read.
pub(crate) fn blocks(len: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..len)
        .step_by(BLOCK)
        .map(move |start| start..(start + BLOCK).min(len))
}

/// How many items of `T` lie [`STREAM_AHEAD_BYTES`] ahead: how far a pass asks ahead.
#[inline(always)]
pub(crate) fn items_ahead<T>() -> usize {
    STREAM_AHEAD_BYTES / std::mem::size_of::<T>().max(1)
}

/// [`prefetch_stream`] for a block of items read by a loop of its own (one the compiler
/// vectorizes, which a call per item would stop): asks for the lines [`STREAM_AHEAD_BYTES`]
/// ahead of `items[block]`.
#[inline(always)]
pub(crate) fn prefetch_block<T>(items: &[T], block: std::ops::Range<usize>) {
    let size = std::mem::size_of::<T>().max(1);
    let ahead = items_ahead::<T>();
    for at in block.step_by((64 / size).max(1)) {
        prefetch(items, at + ahead);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks cover a pass's items once, in order, the last one shorter: 2,500 items are
    /// 0..1024, 1024..2048 and 2048..2500; none for no items.
    #[test]
    fn blocks_cover_the_items_in_order() {
        assert_eq!(
            blocks(2500).collect::<Vec<_>>(),
            [0..1024, 1024..2048, 2048..2500]
        );
        assert!(blocks(1024).eq(std::iter::once(0..1024)));
        assert_eq!(blocks(0).count(), 0);
        assert_eq!(items_ahead::<u64>(), 512);
        assert_eq!(items_ahead::<u8>(), 4096);
    }

    /// A hint asked for at every item of a pass, and of blocks ending at or past the end, of
    /// empty and zero-sized items too: nothing beyond a slice is touched (`items.get`), and
    /// nothing panics.
    #[test]
    fn asks_at_and_past_the_end_are_harmless() {
        let items: Vec<u64> = (0..3000).collect();
        for at in 0..items.len() + 10 {
            prefetch_stream(&items, at);
            prefetch(&items, at);
        }
        prefetch_block(&items, 2048..3000);
        prefetch_block(&items, 2990..4000);
        prefetch_block::<u64>(&[], 0..BLOCK);
        prefetch_stream::<u64>(&[], 0);
        let units = [(); 100];
        prefetch_stream(&units, 0);
        prefetch_block(&units, 0..100);
        assert_eq!(
            items.iter().sum::<u64>(),
            2999 * 3000 / 2,
            "the items are as they were"
        );
    }
}
